#include "export_source.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace billdrop::gcp {
namespace {

constexpr std::uint64_t progress_interval = 64 * 1024; // records

// "billing.csv:42", built in place to spare an allocation per record.
void make_origin(std::string& out, const std::string& name, std::uint64_t line) {
  out.assign(name);
  out += ':';
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, line).ptr;
  out.append(digits, end);
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
  for (const std::filesystem::path& path : *paths) {
    FileIndex& entry = index.emplace_back();
    entry.path = path;
    Result<std::unique_ptr<ExportFile>> file =
        ExportFile::open(path, options_.format, Decode::routing);
    if (!file) {
      entry.failure = std::move(file).error();
      continue;
    }
    for (;;) {
      Result<bool> more = (*file)->next(record, malformed);
      if (!more) {
        entry.failure = std::move(more).error();
        break;
      }
      if (!*more)
        break;
      if (Result<RoutedRecord> routed = router.route(record))
        entry.months.insert(routed->month);
      else
        entry.has_unroutable = true;
    }
  }
  index_ = std::move(index);
  return {};
}

Result<std::vector<Month>> ExportSource::months() {
  if (Status status = build_index(); !status)
    return status.error();
  std::set<Month> months;
  for (const FileIndex& file : *index_)
    months.insert(file.months.begin(), file.months.end());
  return std::vector<Month>(months.begin(), months.end());
}

Status ExportSource::read(Month month, RowSink& sink) {
  if (Status status = build_index(); !status)
    return status;
  std::uint64_t total = 0;
  for (const FileIndex& file : *index_) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(file.path, ec);
    if (!ec && file.months.count(month) != 0)
      total += size;
  }
  std::uint64_t done = 0;
  for (const FileIndex& file : *index_) {
    if (file.months.count(month) == 0) {
      if (file.failure)
        // What lies past the break is unknown; the months seen before it fail on their own.
        sink.log(LogLevel::warn, "skipping " + file.path.filename().string() + " for " +
                                     month.to_string() + ": " + file.failure->message());
      else if (file.has_unroutable) // reject its unroutable records here too
        if (Status status = read_file(file, month, sink, done, total); !status)
          return status;
      continue;
    }
    if (Status status = read_file(file, month, sink, done, total); !status)
      return status;
  }
  return {};
}

Status ExportSource::read_file(const FileIndex& file, Month month, RowSink& sink,
                               std::uint64_t& done, std::uint64_t total) {
  Result<std::unique_ptr<ExportFile>> opened =
      ExportFile::open(file.path, options_.format, Decode::full);
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
    if (!more)
      return std::move(more).error();
    if (!*more)
      break;
    if (++records % progress_interval == 0)
      sink.progress(done + source.position(), total);
    Result<RoutedRecord> routed = mapper.route(record);
    if (!routed) {
      make_origin(origin, source.name(), source.line());
      sink.reject(origin, malformed.empty() ? routed.error().message() : malformed);
      continue;
    }
    if (routed->month != month)
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
