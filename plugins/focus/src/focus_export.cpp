#include "focus_export.hpp"

#include "focus_row_mapper.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/parquet_csv.hpp>
#include <billdrop/source_files.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <system_error>

namespace billdrop::focus {
namespace {

// Progress is reported this often (in records): often enough for a progress bar, rarely enough
// to cost nothing.
constexpr std::uint64_t progress_interval = 64 * 1024;

bool ends_with_ci(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() &&
         iequals_ascii(text.substr(text.size() - suffix.size()), suffix);
}

// How origins and messages name a file: its path below the configured folder, or its own name.
std::string display_name(const std::filesystem::path& file, const std::filesystem::path& root) {
  return std::filesystem::is_directory(root) ? file.lexically_relative(root).generic_string()
                                             : file.filename().string();
}

bool is_focus_file_name(std::string_view name) noexcept {
  return ends_with_ci(name, ".csv") || ends_with_ci(name, ".csv.gz") ||
         ends_with_ci(name, ".parquet");
}

// A FOCUS file's records: CSV, or Parquet read as its CSV twin (the same header, the same line
// numbers, Tags as the JSON object the CSV form holds).
class FocusRecords {
public:
  explicit FocusRecords(std::unique_ptr<CsvReader> csv) : csv_(std::move(csv)) {}
  explicit FocusRecords(std::unique_ptr<ParquetCsvReader> parquet) : parquet_(std::move(parquet)) {}
  Result<bool> next(CsvRecord& record) {
    return csv_ ? csv_->next(record) : parquet_->next(record);
  }
  // The record's first `fields` fields and, in `total`, how many it has (CsvReader::next_head).
  Result<bool> next_head(CsvRecord& record, std::size_t fields, std::size_t& total) {
    if (csv_)
      return csv_->next_head(record, fields, total);
    Result<bool> more = parquet_->next(record);
    total = record.size();
    return more;
  }
  std::uint64_t line() const { return csv_ ? csv_->line() : parquet_->line(); }
  std::uint64_t position() const { return csv_ ? csv_->position() : parquet_->position(); }
  std::uint64_t total() const { return csv_ ? csv_->total() : parquet_->total(); }

private:
  std::unique_ptr<CsvReader> csv_;
  std::unique_ptr<ParquetCsvReader> parquet_;
};

// A FOCUS file opened and its header bound.
struct OpenFile {
  std::unique_ptr<FocusRecords> reader;
  FocusHeader header;
};

// Where the reader broke off (a truncated gzip, an unterminated quote): the line after the last
// record read, `last_line` (the reader's line() may already name the record that failed).
FileBreak broke_off(const std::string& name, const std::filesystem::path& path,
                    std::uint64_t last_line, const Error& error) {
  return FileBreak(name, last_line + 1, error, path.string());
}

Result<OpenFile> open_focus_file(const std::filesystem::path& path, const std::string& name) {
  OpenFile file;
  if (ends_with_ci(name, ".parquet")) {
    Result<std::unique_ptr<ParquetCsvReader>> parquet = ParquetCsvReader::open(path);
    if (!parquet)
      return std::move(parquet).error();
    file.reader = std::make_unique<FocusRecords>(std::move(*parquet));
  } else {
    Result<std::unique_ptr<ByteSource>> source = open_file(path);
    if (!source)
      return std::move(source).error();
    // Inflating costs about as much as parsing: give it the second core.
    std::unique_ptr<ByteSource> bytes =
        ends_with_ci(name, ".gz") ? read_ahead(std::move(*source)) : std::move(*source);
    file.reader = std::make_unique<FocusRecords>(std::make_unique<CsvReader>(std::move(bytes)));
  }
  CsvRecord header;
  Result<bool> more = file.reader->next(header);
  if (!more)
    return broke_off(name, path, 0, more.error()).listing_error();
  if (!*more)
    return data_error(name + ": the file is empty; a FOCUS file starts with a header line");
  Result<FocusHeader> bound = FocusHeader::bind(header, name);
  if (!bound)
    return std::move(bound).error();
  file.header = *bound;
  return file;
}

// Parses a column's timestamps, remembering the last one: exports repeat the same hour on
// consecutive rows, so most rows cost one string comparison.
class TimeColumn {
public:
  explicit TimeColumn(Column column) : column_(column) {}

  // False, with `reason` set, when the cell is empty or not a timestamp.
  bool parse(std::string_view text, std::string& reason) {
    if (valid_ && text == text_)
      return true;
    text_.assign(text);
    valid_ = false;
    const std::string_view name = column_specs[static_cast<std::size_t>(column_)].name;
    if (text.empty()) {
      reason.assign(name).append(" is empty");
      return false;
    }
    Result<UtcTime> time = parse_timestamp(text);
    if (!time) {
      reason.assign(name)
          .append(" ")
          .append(quote_for_message(text))
          .append(" is not a timestamp: ")
          .append(time.error().message());
      return false;
    }
    time_ = *time;
    month_ = Month::of(time_);
    iso_.clear();
    append_iso(iso_, time_);
    valid_ = true;
    return true;
  }
  Month month() const noexcept { return month_; }
  const std::string& iso() const noexcept { return iso_; }

private:
  Column column_;
  std::string text_;
  bool valid_ = false;
  UtcTime time_;
  Month month_;
  std::string iso_;
};

// Routes records to months: ChargePeriodStart always (it is time/usage_start), and
// BillingPeriodStart when months are by billing period.
class Router {
public:
  Router(MonthBy month_by) : month_by_(month_by) {}

  // False, with `reason` set, when the record cannot be placed in a month. `fields` is the
  // record's field count (it may hold only its first fields: see scan_fields()).
  bool route(const CsvRecord& record, std::size_t fields, const FocusHeader& header,
             std::string& reason) {
    if (fields != header.field_count()) {
      reason = "the row has " + std::to_string(fields) + " field" + (fields == 1 ? "" : "s") +
               ", the header has " + std::to_string(header.field_count());
      return false;
    }
    if (!charge_.parse(header.get(record, Column::charge_period_start), reason))
      return false;
    if (month_by_ == MonthBy::billing_period &&
        !billing_.parse(header.get(record, Column::billing_period_start), reason))
      return false;
    return true;
  }
  Month month() const noexcept {
    return month_by_ == MonthBy::billing_period ? billing_.month() : charge_.month();
  }
  const std::string& usage_start() const noexcept { return charge_.iso(); }
  // How many of a record's first fields route() reads.
  std::size_t scan_fields(const FocusHeader& header) const noexcept {
    std::size_t fields = header.index(Column::charge_period_start) + 1;
    if (month_by_ == MonthBy::billing_period)
      fields = std::max(fields, header.index(Column::billing_period_start) + 1);
    return fields;
  }

private:
  MonthBy month_by_;
  TimeColumn charge_{Column::charge_period_start};
  TimeColumn billing_{Column::billing_period_start};
};

// What a read carries from file to file.
struct ReadState {
  explicit ReadState(MonthBy month_by, std::uint64_t total_bytes)
      : router(month_by), total(total_bytes) {}
  RowMapper mapper;
  Router router;
  CsvRecord record;
  std::string origin;
  std::string reason;
  std::uint64_t total;           // bytes of every file of the read
  std::uint64_t done_before = 0; // bytes of the files already read
  std::uint64_t records = 0;
};

// One file's rows: of `month` only, or of every month (one pass: no month). A file that breaks
// off fails the month read (it changed since the scan) or, in one pass, every month.
Status read_file(const std::filesystem::path& path, const std::string& name,
                 std::optional<Month> month, ReadState& state, RowSink& sink) {
  Result<OpenFile> opened = open_focus_file(path, name);
  if (!opened)
    return std::move(opened).error();
  FocusRecords& reader = *opened->reader;
  std::uint64_t last_line = reader.line();
  while (true) {
    Result<bool> more = reader.next(state.record);
    if (!more) {
      FileBreak broken = broke_off(name, path, last_line, more.error());
      return month ? broken.month_error(*month) : broken.any_month_error();
    }
    if (!*more)
      break;
    last_line = reader.line();
    if (++state.records % progress_interval == 0)
      sink.progress(state.done_before + reader.position(), state.total);
    if (!state.router.route(state.record, state.record.size(), opened->header, state.reason)) {
      make_origin(state.origin, name, reader.line());
      sink.reject(state.origin, state.reason);
      continue;
    }
    if (month && state.router.month() != *month)
      continue;
    make_origin(state.origin, name, reader.line());
    if (Status status = state.mapper.write(state.record, opened->header, state.origin,
                                           state.router.usage_start(), sink);
        !status)
      return status;
  }
  state.done_before += reader.total() != 0 ? reader.total() : reader.position();
  sink.progress(state.done_before, state.total);
  return {};
}

} // namespace

Result<MonthBy> parse_month_by(std::string_view text) {
  if (text == "charge_period")
    return MonthBy::charge_period;
  if (text == "billing_period")
    return MonthBy::billing_period;
  return config_error("config key 'month_by' must be \"charge_period\" or \"billing_period\", "
                      "got " +
                      quote_for_message(text));
}

Result<std::vector<std::filesystem::path>> list_focus_files(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    return source_error("config key 'path': " + path.string() + " does not exist");
  if (!std::filesystem::is_directory(status))
    return std::vector<std::filesystem::path>{path};

  std::vector<std::filesystem::path> files;
  std::filesystem::recursive_directory_iterator it(path, ec), end;
  if (ec)
    return source_error("config key 'path': cannot list " + path.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec)
      return source_error("config key 'path': cannot list " + path.string() + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory(ec))
        it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && is_focus_file_name(name))
      files.push_back(it->path());
  }
  if (files.empty())
    return source_error("config key 'path': the folder " + path.string() +
                        " holds no .csv, .csv.gz or .parquet file");
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<Month> parse_billing_period_folder(std::string_view name) {
  constexpr std::string_view key = "billing_period=";
  if (name.size() != key.size() + 7 || !iequals_ascii(name.substr(0, key.size()), key))
    return std::nullopt;
  const std::string_view value = name.substr(key.size());
  Result<Month> month = Month::parse(value);
  if (!month || value[4] != '-')
    return std::nullopt;
  return *month;
}

Result<FocusExport> FocusExport::from_config(const Config& config) {
  ExportOptions options;
  options.path = config.get_string("path");
  Result<MonthBy> month_by = parse_month_by(config.get_string_or("month_by", "charge_period"));
  if (!month_by)
    return std::move(month_by).error();
  options.month_by = *month_by;
  return FocusExport(std::move(options));
}

Status FocusExport::check() const {
  Result<std::vector<std::filesystem::path>> files = list_focus_files(options_.path);
  if (!files)
    return std::move(files).error();
  std::string problems;
  ErrorKind kind = ErrorKind::data;
  for (const std::filesystem::path& path : *files) {
    Result<OpenFile> opened = open_focus_file(path, display_name(path, options_.path));
    if (opened)
      continue;
    if (!problems.empty())
      problems += '\n';
    problems += opened.error().message();
    kind = opened.error().kind();
  }
  if (!problems.empty())
    return Error(kind, problems);
  return {};
}

Status FocusExport::scan(IndexedFile& file) const {
  // A file that cannot be opened, or whose header cannot be read, could hold anything.
  Result<OpenFile> opened = open_focus_file(file.path, file.name);
  if (!opened)
    return std::move(opened).error();
  Router router(options_.month_by);
  CsvRecord record;
  std::string reason;
  // Only the columns that place a row in a month are split; the others are counted.
  const std::size_t head = router.scan_fields(opened->header);
  std::size_t fields = 0;
  std::uint64_t last_line = opened->reader->line(); // the header's
  while (true) {
    Result<bool> more = opened->reader->next_head(record, head, fields);
    if (!more) {
      file.broken = broke_off(file.name, file.path, last_line, more.error());
      return {};
    }
    if (!*more)
      return {};
    last_line = opened->reader->line();
    if (!router.route(record, fields, opened->header, reason)) {
      if (file.unroutable++ == 0) {
        make_origin(file.first_unroutable, file.name, opened->reader->line());
        file.first_unroutable += ": " + reason;
      }
      continue;
    }
    const Month month = router.month();
    // Files are usually one month, sorted: checking the last month first is the common case.
    if (file.months.empty() || file.months.back() != month) {
      const auto at = std::lower_bound(file.months.begin(), file.months.end(), month);
      if (at == file.months.end() || *at != month)
        file.months.insert(at, month);
    }
  }
}

bool FocusExport::IndexedFile::read_for(Month month) const {
  if (holds(month))
    return true;
  if (unroutable == 0)
    return false;
  return period ? *period == month : months.empty();
}

Status FocusExport::build_index() {
  Result<std::vector<std::filesystem::path>> paths = list_focus_files(options_.path);
  if (!paths)
    return std::move(paths).error();
  std::vector<IndexedFile> files;
  for (const std::filesystem::path& path : *paths) {
    IndexedFile file;
    file.path = path;
    file.name = display_name(path, options_.path);
    if (Status scanned = scan(file); !scanned)
      return scanned;
    // A partition folder bounds the rows' BillingPeriodStart, so only a read by billing period
    // can rely on it; and only while the rows agree with it.
    if (options_.month_by == MonthBy::billing_period) {
      for (std::filesystem::path dir = path.parent_path();
           !dir.empty() && dir != dir.parent_path() && !file.period; dir = dir.parent_path())
        file.period = parse_billing_period_folder(dir.filename().string());
      if (file.period && std::any_of(file.months.begin(), file.months.end(),
                                     [&](Month month) { return month != *file.period; }))
        file.period.reset();
    }
    files.push_back(std::move(file));
  }
  index_ = std::move(files);
  return {};
}

Result<std::vector<Month>> FocusExport::months() {
  if (!index_)
    if (Status built = build_index(); !built)
      return std::move(built).error();
  std::vector<Month> months;
  std::uint64_t unroutable = 0;
  const IndexedFile* first_unroutable = nullptr;
  for (const IndexedFile& file : *index_) {
    // No month of its own to carry the error, and every month's read would fail.
    if (file.broken && file.months.empty() && !file.period)
      return file.broken->listing_error();
    months.insert(months.end(), file.months.begin(), file.months.end());
    // Listed so that the read reports the failure or the rejects.
    if (file.period && (file.broken || file.unroutable != 0))
      months.push_back(*file.period);
    if (file.unroutable != 0 && first_unroutable == nullptr)
      first_unroutable = &file;
    unroutable += file.unroutable;
  }
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  if (months.empty() && unroutable != 0)
    return data_error("no row of the FOCUS export at " + options_.path.string() +
                      " can be placed in a month, so no month can be read (" +
                      std::to_string(unroutable) + " row" + (unroutable == 1 ? "" : "s") +
                      "); the first: " + first_unroutable->first_unroutable);
  return months;
}

bool FocusExport::one_pass() const {
  std::error_code ec;
  return std::filesystem::is_regular_file(options_.path, ec);
}

Status FocusExport::read_all(RowSink& sink) {
  const std::filesystem::path& path = options_.path;
  ReadState state(options_.month_by, file_bytes(path));
  if (Status status = read_file(path, display_name(path, options_.path), std::nullopt, state, sink);
      !status)
    return status;
  state.mapper.finish(sink);
  return {};
}

Status FocusExport::read(Month month, RowSink& sink) {
  if (!index_)
    if (Status built = build_index(); !built)
      return built;

  for (const IndexedFile& file : *index_)
    if (file.broken && file.could_hold(month))
      return file.broken->month_error(month);

  std::vector<const IndexedFile*> files;
  std::uint64_t total = 0;
  for (const IndexedFile& file : *index_) {
    if (!file.read_for(month))
      continue;
    files.push_back(&file);
    total += file_bytes(file.path);
  }

  ReadState state(options_.month_by, total);
  for (const IndexedFile* file : files)
    if (Status status = read_file(file->path, file->name, month, state, sink); !status)
      return status;
  state.mapper.finish(sink);
  return {};
}

} // namespace billdrop::focus
