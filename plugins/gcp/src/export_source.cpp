#include "export_source.hpp"

#include <billdrop/source_files.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>

namespace billdrop::gcp {
namespace {

constexpr std::uint64_t progress_interval = 64 * 1024; // records
// Past this many runs in one file (months interleaved record by record) the index stops keeping
// them and reads of the file parse it whole: a run costs 32 bytes.
constexpr std::size_t max_runs = 256 * 1024;

// The file's size and modification time, to tell whether it changed since the scan.
void stat_file(const std::filesystem::path& path, std::uintmax_t& size,
               std::filesystem::file_time_type& modified) {
  std::error_code ec;
  size = std::filesystem::file_size(path, ec);
  if (ec)
    size = 0;
  modified = std::filesystem::last_write_time(path, ec);
  if (ec)
    modified = {};
}

// Records were read and none of them can be placed in a month (the listing's and one pass's
// error): how many, and why the first was rejected.
Error no_month_error(const std::filesystem::path& path, std::uint64_t unroutable,
                     const std::string& first) {
  return data_error("no record of " + path.string() +
                    " can be placed in a month, so no month can be read (" +
                    std::to_string(unroutable) + " record" + (unroutable == 1 ? "" : "s") +
                    "); the first: " + first);
}

} // namespace

Result<std::vector<std::filesystem::path>> ExportSource::files() const {
  std::error_code ec;
  const std::filesystem::path& path = options_.path;
  if (std::filesystem::is_regular_file(path, ec))
    return std::vector<std::filesystem::path>{path};
  if (!std::filesystem::is_directory(path, ec))
    return source_error("path " + path.string() + " is neither a file nor a folder" +
                        (ec ? ": " + ec.message() : std::string()));
  std::vector<std::filesystem::path> found;
  for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && is_export_file_name(it->path().filename().string()))
      found.push_back(it->path());
  }
  if (ec)
    return source_error("cannot list " + path.string() + ": " + ec.message());
  if (found.empty())
    return source_error("folder " + path.string() +
                        " holds no export extract (.csv, .json, .ndjson, .jsonl, optionally .gz)");
  std::sort(found.begin(), found.end());
  return found;
}

Status ExportSource::check() const {
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  for (const std::filesystem::path& path : *paths) {
    Result<std::unique_ptr<ExportFile>> file =
        ExportFile::open(path, options_.format, Decode::routing);
    if (!file)
      return std::move(file).error();
  }
  return {};
}

Status ExportSource::build_index() {
  if (index_)
    return {};
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  const RowMapper router(options_.month_by);
  std::vector<FileIndex> index;
  BillingRecord record;
  std::string malformed;
  std::string origin;
  for (const std::filesystem::path& path : *paths) {
    FileIndex& entry = index.emplace_back();
    entry.path = path;
    stat_file(path, entry.size, entry.modified);
    bool runs = true;
    // A file that cannot be opened (or whose header cannot be read) could hold anything.
    Result<std::unique_ptr<ExportFile>> file =
        ExportFile::open(path, options_.format, Decode::routing);
    if (!file)
      return std::move(file).error();
    for (;;) {
      Result<bool> more = (*file)->next(record, malformed);
      if (!more) {
        entry.broken = (*file)->broke_off(more.error());
        break;
      }
      if (!*more)
        break;
      Result<RoutedRecord> routed = router.route(record);
      const std::optional<Month> month =
          routed ? std::optional<Month>(routed->month) : std::nullopt;
      if (runs) {
        const std::optional<std::uint64_t> offset = (*file)->record_offset();
        if (!offset || entry.runs.size() == max_runs) {
          runs = false;
          entry.runs = {};
        } else if (entry.runs.empty() || entry.runs.back().month != month) {
          entry.runs.push_back({*offset, (*file)->line(), month});
        }
      }
      if (routed) {
        entry.months.insert(routed->month);
      } else if (entry.unroutable++ == 0) {
        make_origin(origin, (*file)->name(), (*file)->line());
        entry.first_unroutable =
            origin + ": " + (malformed.empty() ? routed.error().message() : malformed);
      }
    }
  }
  index_ = std::move(index);
  return {};
}

Result<std::vector<Month>> ExportSource::months() {
  if (Status status = build_index(); !status)
    return status.error();
  std::set<Month> months;
  std::uint64_t unroutable = 0;
  const std::string* first_unroutable = nullptr;
  for (const FileIndex& file : *index_) {
    // A broken file fails every month's read; one that broke before its first record has no
    // month of its own to carry that error, so the listing reports it.
    if (file.broken && file.months.empty())
      return file.broken->listing_error();
    months.insert(file.months.begin(), file.months.end());
    if (file.unroutable != 0 && first_unroutable == nullptr)
      first_unroutable = &file.first_unroutable;
    unroutable += file.unroutable;
  }
  if (months.empty() && unroutable != 0)
    return no_month_error(options_.path, unroutable, *first_unroutable);
  return std::vector<Month>(months.begin(), months.end());
}

bool ExportSource::FileIndex::read_for(Month month) const {
  return months.count(month) != 0 || (unroutable != 0 && months.empty());
}

std::vector<ByteRange> ExportSource::FileIndex::ranges_for(Month month) const {
  std::vector<ByteRange> ranges;
  if (runs.empty())
    return ranges;
  std::uintmax_t now_size = 0;
  std::filesystem::file_time_type now_modified;
  stat_file(path, now_size, now_modified);
  if (now_size != size || now_modified != modified)
    return ranges; // changed since the scan: read whole, as if there were no index
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].month && *runs[i].month != month)
      continue;
    const std::uint64_t end =
        i + 1 < runs.size() ? runs[i + 1].offset : std::numeric_limits<std::uint64_t>::max();
    if (!ranges.empty() && ranges.back().end == runs[i].offset)
      ranges.back().end = end;
    else
      ranges.push_back({runs[i].offset, end, runs[i].line});
  }
  return ranges;
}

Status ExportSource::read(Month month, RowSink& sink) {
  if (Status status = build_index(); !status)
    return status;
  // Nothing bounds what a broken file held after its break: any month may be missing rows.
  for (const FileIndex& file : *index_)
    if (file.broken)
      return file.broken->month_error(month);
  std::uint64_t total = 0;
  for (const FileIndex& file : *index_)
    if (file.read_for(month))
      total += file_bytes(file.path);
  std::uint64_t done = 0;
  for (const FileIndex& file : *index_)
    if (file.read_for(month))
      if (Status status = read_file(file.path, file.ranges_for(month), month, sink, done, total);
          !status)
        return status;
  return {};
}

bool ExportSource::single_file() const {
  std::error_code ec;
  return std::filesystem::is_regular_file(options_.path, ec);
}

Status ExportSource::read_all(RowSink& sink) {
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return paths.error();
  const std::uint64_t total = total_bytes(*paths);
  std::uint64_t done = 0;
  PassCounts counts;
  for (const std::filesystem::path& path : *paths)
    if (Status status = read_file(path, {}, std::nullopt, sink, done, total, &counts); !status)
      return status;
  // As months() says it: records were read and none could be placed in a month.
  if (counts.routed == 0 && counts.unroutable != 0)
    return no_month_error(options_.path, counts.unroutable, counts.first_unroutable);
  return {};
}

Status ExportSource::read_file(const std::filesystem::path& path,
                               const std::vector<ByteRange>& ranges, std::optional<Month> month,
                               RowSink& sink, std::uint64_t& done, std::uint64_t total,
                               PassCounts* counts) {
  Result<std::unique_ptr<ExportFile>> opened =
      ExportFile::open(path, options_.format, Decode::full, ranges);
  if (!opened)
    return std::move(opened).error();
  ExportFile& source = **opened;
  RowMapper mapper(options_.month_by);
  BillingRecord record;
  std::string malformed;
  std::string origin;
  std::uint64_t records = 0;
  for (;;) {
    Result<bool> more = source.next(record, malformed);
    if (!more) // the file breaks off (in a month's read: it changed since the scan)
      return month ? source.broke_off(more.error()).month_error(*month)
                   : source.broke_off(more.error()).any_month_error();
    if (!*more)
      break;
    if (++records % progress_interval == 0)
      sink.progress(done + source.position(), total);
    Result<RoutedRecord> routed = mapper.route(record);
    if (!routed) {
      make_origin(origin, source.name(), source.line());
      const std::string& reason = malformed.empty() ? routed.error().message() : malformed;
      if (counts != nullptr && counts->unroutable++ == 0)
        counts->first_unroutable = origin + ": " + reason;
      sink.reject(origin, reason);
      continue;
    }
    if (counts != nullptr)
      ++counts->routed;
    if (month && routed->month != *month)
      continue;
    make_origin(origin, source.name(), source.line());
    if (!malformed.empty()) {
      sink.reject(origin, malformed);
      continue;
    }
    if (Status status = mapper.write(record, *routed, origin, sink); !status) {
      if (status.error().kind() == ErrorKind::cancelled)
        return status;
      sink.reject(origin, status.error().message());
    }
  }
  done += source.total() != 0 ? source.total() : source.position();
  sink.progress(done, total);
  return {};
}

} // namespace billdrop::gcp
