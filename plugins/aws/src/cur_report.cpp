#include "cur_report.hpp"

#include "cur_columns.hpp"
#include "cur_manifest.hpp"
#include "cur_row_mapper.hpp"
#include "zip_source.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/parquet_csv.hpp>
#include <billdrop/source_files.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <system_error>

namespace billdrop::aws {
namespace {

namespace fs = std::filesystem;

// Progress is reported this often (in lines).
constexpr std::uint64_t progress_interval = 64 * 1024;
// How deep under `path` report folders are looked for (prefix/report/period is depth 2).
constexpr int search_depth = 3;

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view digits) {
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// "20180801-20180901" -> 2018-08.
std::optional<Month> legacy_period_month(std::string_view name) {
  if (name.size() != 17 || name[8] != '-' || !all_digits(name.substr(0, 8)) ||
      !all_digits(name.substr(9)))
    return std::nullopt;
  const int month = to_int(name.substr(4, 2));
  if (month < 1 || month > 12)
    return std::nullopt;
  return Month(to_int(name.substr(0, 4)), month);
}

// "BILLING_PERIOD=2024-08" -> 2024-08.
std::optional<Month> cur2_period_month(std::string_view name) {
  constexpr std::string_view prefix = "BILLING_PERIOD=";
  if (name.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  Result<Month> month = Month::parse(name.substr(prefix.size()));
  if (!month)
    return std::nullopt;
  return *month;
}

// "year=2024" -> 2024 (the Athena layout's year folder).
std::optional<int> athena_year(std::string_view name) {
  constexpr std::string_view prefix = "year=";
  if (name.substr(0, prefix.size()) != prefix || name.size() != prefix.size() + 4 ||
      !all_digits(name.substr(prefix.size())))
    return std::nullopt;
  return to_int(name.substr(prefix.size()));
}

// "month=7" -> 7. AWS does not pad the number; "month=07" is read too.
std::optional<int> athena_month_number(std::string_view name) {
  constexpr std::string_view prefix = "month=";
  const std::string_view digits = name.substr(std::min(name.size(), prefix.size()));
  if (name.substr(0, prefix.size()) != prefix || digits.size() > 2 || !all_digits(digits))
    return std::nullopt;
  const int month = to_int(digits);
  if (month < 1 || month > 12)
    return std::nullopt;
  return month;
}

// Whether a child folder of a report folder marks the layout.
using PeriodTest = bool (*)(std::string_view);
constexpr PeriodTest is_legacy_period = [](std::string_view name) {
  return legacy_period_month(name).has_value();
};
constexpr PeriodTest is_cur2_period = [](std::string_view name) {
  return cur2_period_month(name).has_value();
};
constexpr PeriodTest is_athena_year = [](std::string_view name) {
  return athena_year(name).has_value();
};

std::vector<fs::path> sorted_children(const fs::path& dir, bool directories) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (directories ? it->is_directory(type_ec) : it->is_regular_file(type_ec))
      out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_period_children(const fs::path& dir, PeriodTest is_period) {
  for (const fs::path& child : sorted_children(dir, true))
    if (is_period(child.filename().string()))
      return true;
  return false;
}

// Folders under `root` (itself included) whose children are billing period folders. CUR 2.0's
// metadata/ folder repeats the period folders without data: it is skipped.
void find_report_folders(const fs::path& dir, PeriodTest is_period, int depth,
                         std::vector<fs::path>& out) {
  if (has_period_children(dir, is_period)) {
    out.push_back(dir);
    return;
  }
  if (depth == 0)
    return;
  for (const fs::path& child : sorted_children(dir, true))
    if (child.filename() != "metadata")
      find_report_folders(child, is_period, depth - 1, out);
}

std::string list_paths(const std::vector<fs::path>& paths) {
  std::string out;
  for (const fs::path& path : paths)
    out += (out.empty() ? "" : ", ") + path.string();
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines)
    out += (out.empty() ? "" : "\n") + line;
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_data_file(std::string_view name) {
  return ends_with(name, ".csv") || ends_with(name, ".csv.gz") || ends_with(name, ".csv.zip") ||
         ends_with(name, ".parquet");
}

MonthFiles legacy_month(const fs::path& report_dir, const fs::path& folder, Month month) {
  MonthFiles result{month, folder, {}, {}};
  const std::string report = report_dir.filename().string();
  fs::path manifest_path = folder / (report + "-Manifest.json");
  if (!fs::exists(manifest_path)) {
    std::vector<fs::path> manifests;
    for (const fs::path& file : sorted_children(folder, false))
      if (ends_with(file.filename().string(), "-Manifest.json"))
        manifests.push_back(file);
    if (manifests.size() != 1) {
      result.problems.push_back(
          "no manifest: " + folder.string() + " has no " + report + "-Manifest.json" +
          (manifests.empty() ? ""
                             : " (and several other manifests: " + list_paths(manifests) + ")") +
          ", so the current assembly of " + month.to_string() + " is unknown");
      return result;
    }
    manifest_path = manifests.front();
  }
  Result<CurManifest> manifest = CurManifest::load(manifest_path);
  if (!manifest) {
    result.problems.push_back(manifest.error().message());
    return result;
  }
  if (manifest->report_keys.empty()) {
    // Reading nothing would send an empty month, which replaces whatever CloudZero holds for it.
    result.problems.push_back("manifest " + manifest_path.string() +
                              " lists no data files (its \"reportKeys\" is empty), so " +
                              month.to_string() + " cannot be read");
    return result;
  }
  for (const std::string& key : manifest->report_keys) {
    fs::path file = resolve_report_key(key, folder, manifest->assembly_id);
    if (!fs::exists(file))
      result.problems.push_back("manifest " + manifest_path.string() + " names \"" + key +
                                "\", which is absent (looked for " + file.string() + ")");
    else
      result.files.push_back(std::move(file));
  }
  return result;
}

MonthFiles cur2_month(const fs::path& folder, Month month) {
  MonthFiles result{month, folder, {}, {}};
  for (const fs::path& file : sorted_children(folder, false)) {
    const std::string name = file.filename().string();
    if (is_data_file(name))
      result.files.push_back(file);
  }
  if (result.files.empty() && result.problems.empty())
    result.problems.push_back(folder.string() +
                              " holds no .csv, .csv.gz, .csv.zip or .parquet file");
  return result;
}

// The Athena layout: <report>/year=YYYY/month=M/*.parquet, the months named by the folders. Two
// folders naming one month (month=1 and month=01) fail that month: which one AWS rewrites is
// unknown. A month folder without a .parquet file fails too: reading nothing would send an empty
// month, which replaces what CloudZero holds for it.
std::vector<MonthFiles> athena_months(const fs::path& root) {
  std::map<Month, std::vector<fs::path>> folders;
  for (const fs::path& year_folder : sorted_children(root, true)) {
    const std::optional<int> year = athena_year(year_folder.filename().string());
    if (!year)
      continue;
    for (const fs::path& month_folder : sorted_children(year_folder, true))
      if (std::optional<int> number = athena_month_number(month_folder.filename().string()))
        folders[Month(*year, *number)].push_back(month_folder);
  }
  std::vector<MonthFiles> months;
  for (const auto& [month, paths] : folders) {
    MonthFiles result{month, paths.front(), {}, {}};
    if (paths.size() > 1) {
      result.problems.push_back("several folders name " + month.to_string() + ": " +
                                list_paths(paths) + "; remove the one AWS no longer writes");
      months.push_back(std::move(result));
      continue;
    }
    for (const fs::path& file : sorted_children(result.folder, false))
      if (ends_with(file.filename().string(), ".parquet"))
        result.files.push_back(file);
    if (result.files.empty())
      result.problems.push_back(result.folder.string() + " holds no .parquet file, so " +
                                month.to_string() + " cannot be read");
    months.push_back(std::move(result));
  }
  return months;
}

constexpr std::string_view athena_status_name = "cost_and_usage_data_status";

// The Athena layout's status table: in the report folder, or beside it when AWS doubled the
// report name (<prefix>/<report>/<report>/year=...). Empty when there is none.
fs::path athena_status_file(const fs::path& root) {
  const fs::path relative =
      fs::path(athena_status_name) / (std::string(athena_status_name) + ".parquet");
  const fs::path report = root.filename().empty() ? root.parent_path() : root; // "x/report/"
  std::error_code ec;
  if (fs::is_regular_file(report / relative, ec))
    return report / relative;
  const fs::path outer = report.parent_path();
  if (outer.filename() == report.filename() && fs::is_regular_file(outer / relative, ec))
    return outer / relative;
  return {};
}

// Why the report cannot be read now: the status table does not say READY (AWS is rewriting the
// report), or it cannot be read. Empty when it says READY or is absent.
std::string athena_status_problem(const fs::path& root) {
  const fs::path file = athena_status_file(root);
  if (file.empty())
    return {};
  Result<std::unique_ptr<ParquetCsvReader>> reader = ParquetCsvReader::open(file);
  if (!reader)
    return "the report's status cannot be read: " + reader.error().message();
  CsvRecord record;
  Result<bool> more = (*reader)->next(record);
  if (!more)
    return "the report's status cannot be read: " + more.error().message();
  std::size_t column = no_column;
  for (std::size_t i = 0; *more && i < record.size(); ++i)
    if (iequals_ascii(trim_ascii(record[i]), "status"))
      column = i;
  if (column == no_column)
    return file.string() + " has no column \"status\", so whether AWS is rewriting the report is "
                           "unknown";
  std::size_t rows = 0;
  while (true) {
    more = (*reader)->next(record);
    if (!more)
      return "the report's status cannot be read: " + more.error().message();
    if (!*more)
      break;
    ++rows;
    const std::string_view status = column < record.size() ? trim_ascii(record[column]) : "";
    if (!iequals_ascii(status, "READY"))
      return file.string() + " says " + quote_for_message(status) +
             ", not \"READY\": AWS is rewriting the report, so nothing is read until it is "
             "done (the next sync tries again)";
  }
  if (rows == 0)
    return file.string() + " holds no status row, so whether AWS is rewriting the report is "
                           "unknown";
  return {};
}

Result<std::unique_ptr<ByteSource>> open_data_file(const fs::path& file) {
  const std::string name = file.filename().string();
  if (ends_with(name, ".zip")) {
    Result<std::unique_ptr<ByteSource>> entry = open_zip_entry(file);
    if (!entry)
      return std::move(entry).error();
    return read_ahead(std::move(*entry));
  }
  // A .gz name promises gzip: anything else is reported as an unreadable gzip file.
  Result<std::unique_ptr<ByteSource>> source =
      open_file(file, ends_with(name, ".gz") ? Compression::gzip : Compression::automatic);
  if (!source)
    return std::move(source).error();
  // Inflating costs about as much as parsing: it runs on a second core.
  if (ends_with(name, ".gz"))
    return read_ahead(std::move(*source));
  return source;
}

// A data file opened and its header resolved.
struct OpenedFile {
  std::unique_ptr<CsvReader> reader;
  std::unique_ptr<ParquetCsvReader> parquet; // instead of reader, for a .parquet file
  CurColumns columns;
  bool empty = false; // no header at all
};

Result<OpenedFile> open_report_file(const fs::path& file) {
  if (ends_with(file.filename().string(), ".parquet")) {
    OpenedFile opened;
    Result<std::unique_ptr<ParquetCsvReader>> records = ParquetCsvReader::open(file);
    if (!records)
      return std::move(records).error();
    opened.parquet = std::move(*records);
    CsvRecord header;
    if (Result<bool> more = opened.parquet->next(header); !more)
      return std::move(more).error();
    std::vector<std::string> names(header.begin(), header.end());
    Result<CurColumns> columns = CurColumns::resolve(names, file.string());
    if (!columns)
      return std::move(columns).error();
    opened.columns = std::move(*columns);
    return opened;
  }
  Result<std::unique_ptr<ByteSource>> source = open_data_file(file);
  if (!source)
    return std::move(source).error();
  OpenedFile opened;
  opened.reader = std::make_unique<CsvReader>(std::move(*source));
  CsvRecord header;
  Result<bool> more = opened.reader->next(header);
  if (!more) {
    // The reader's own errors name the file already; others get its path.
    const Error& error = more.error();
    if (error.message().find(file.string()) != std::string::npos)
      return error;
    return error.with_context(file.string());
  }
  if (!*more) {
    opened.empty = true;
    return opened;
  }
  std::vector<std::string> names(header.begin(), header.end());
  // The full path: every month's first file of a report has the same name.
  Result<CurColumns> columns = CurColumns::resolve(names, file.string());
  if (!columns)
    return std::move(columns).error();
  opened.columns = std::move(*columns);
  // A CUR has over a hundred columns; a row is made from a few dozen at most.
  opened.reader->select(opened.columns.used());
  return opened;
}

// A reader error that does not say where it happened gets the file's path and the line.
Error located(const Error& error, const fs::path& file, std::uint64_t line) {
  const std::string name = file.filename().string();
  const std::string& message = error.message();
  const std::string marker = name + ":";
  for (std::size_t at = message.find(marker); at != std::string::npos;
       at = message.find(marker, at + 1)) {
    const std::size_t next = at + marker.size();
    if (next < message.size() && message[next] >= '0' && message[next] <= '9')
      return error; // the reader already said "name:line"
  }
  std::string where = file.string() + ": after line " + std::to_string(line);
  const std::string path_prefix = file.string() + ": ";
  if (message.rfind(path_prefix, 0) == 0) // "<path>: truncated gzip stream": say the path once
    return Error(error.kind(), where + ": " + message.substr(path_prefix.size()),
                 error.retryable());
  return error.with_context(where);
}

struct FileProgress {
  std::uint64_t done_before = 0;
  std::uint64_t total = 0;
};

Status read_report_file(const fs::path& file, CurRowMapper& mapper, RowSink& sink,
                        FileProgress& progress) {
  Result<OpenedFile> opened = open_report_file(file);
  if (!opened)
    return std::move(opened).error();
  if (opened->empty)
    return {};
  const std::string name = file.filename().string();
  mapper.bind(opened->columns, name);
  std::string origin;
  std::uint64_t lines = 0;
  CsvRecord record;
  if (opened->parquet) {
    // A Parquet row's origin is the line its CSV twin would have ("file:2" for the first row).
    ParquetCsvReader& records = *opened->parquet;
    while (true) {
      Result<bool> more = records.next(record);
      if (!more)
        return std::move(more).error();
      if (!*more)
        break;
      if (++lines % progress_interval == 0)
        sink.progress(progress.done_before + records.position(), progress.total);
      make_origin(origin, name, records.line());
      if (Status status = mapper.map(record, origin); !status)
        return status;
    }
    progress.done_before += records.total();
    sink.progress(progress.done_before, progress.total);
    return {};
  }
  CsvReader& reader = *opened->reader;
  while (true) {
    Result<bool> more = reader.next(record);
    if (!more)
      return located(more.error(), file, reader.line());
    if (!*more)
      break;
    if (++lines % progress_interval == 0)
      sink.progress(progress.done_before + reader.position(), progress.total);
    make_origin(origin, name, reader.line());
    if (Status status = mapper.map(record, origin); !status)
      return status;
  }
  progress.done_before += reader.total() != 0 ? reader.total() : reader.position();
  sink.progress(progress.done_before, progress.total);
  return {};
}

} // namespace

Result<ReportFormat> parse_report_format(std::string_view text) {
  if (text == "auto")
    return ReportFormat::automatic;
  if (text == "legacy")
    return ReportFormat::legacy;
  if (text == "athena")
    return ReportFormat::athena;
  if (text == "cur2")
    return ReportFormat::cur2;
  return config_error("format \"" + std::string(text) +
                      "\" is not one of auto, legacy, athena, cur2");
}

Result<ReportLayout> locate_report(const ReportOptions& options) {
  const fs::path& path = options.path;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    return source_error("path " + path.string() + " does not exist");
  ReportLayout layout;
  if (fs::is_regular_file(status)) {
    layout.kind = LayoutKind::file;
    layout.root = path;
    return layout;
  }
  if (!fs::is_directory(status))
    return source_error("path " + path.string() + " is neither a file nor a folder");

  const auto pick = [&](std::vector<fs::path> found, bool legacy) -> Result<fs::path> {
    if (!options.report_name.empty()) {
      // The report folder (legacy) or the export folder above data/ (CUR 2.0) carries the name.
      std::erase_if(found, [&](const fs::path& dir) {
        const fs::path named = legacy || dir.filename() != "data" ? dir : dir.parent_path();
        return named.filename() != options.report_name;
      });
      if (found.empty())
        return config_error("no report named \"" + options.report_name + "\" under " +
                            path.string());
    }
    if (found.size() > 1)
      return config_error("several reports under " + path.string() + ": " + list_paths(found) +
                          "; set report_name to choose one");
    return found.front();
  };

  std::vector<fs::path> legacy;
  std::vector<fs::path> athena;
  std::vector<fs::path> cur2;
  if (options.format == ReportFormat::automatic || options.format == ReportFormat::legacy)
    find_report_folders(path, is_legacy_period, search_depth, legacy);
  if (options.format != ReportFormat::cur2) {
    find_report_folders(path, is_athena_year, search_depth, athena);
    // A folder holding both layouts is read as the manifest layout unless `athena` is asked for.
    std::erase_if(athena, [&](const fs::path& dir) {
      return std::find(legacy.begin(), legacy.end(), dir) != legacy.end();
    });
  }
  if (options.format == ReportFormat::automatic || options.format == ReportFormat::cur2)
    find_report_folders(path, is_cur2_period, search_depth, cur2);
  if (!legacy.empty() || !athena.empty()) {
    std::vector<fs::path> found = legacy;
    found.insert(found.end(), athena.begin(), athena.end());
    std::sort(found.begin(), found.end());
    Result<fs::path> root = pick(std::move(found), true);
    if (!root)
      return std::move(root).error();
    layout.root = *root;
    if (std::find(athena.begin(), athena.end(), layout.root) != athena.end()) {
      layout.kind = LayoutKind::athena;
      layout.months = athena_months(layout.root);
      if (std::string problem = athena_status_problem(layout.root); !problem.empty())
        layout.problems.push_back(std::move(problem));
    } else {
      layout.kind = LayoutKind::legacy;
      for (const fs::path& folder : sorted_children(layout.root, true))
        if (std::optional<Month> month = legacy_period_month(folder.filename().string()))
          layout.months.push_back(legacy_month(layout.root, folder, *month));
    }
  } else if (!cur2.empty()) {
    Result<fs::path> root = pick(std::move(cur2), false);
    if (!root)
      return std::move(root).error();
    layout.kind = LayoutKind::cur2;
    layout.root = *root;
    for (const fs::path& folder : sorted_children(layout.root, true))
      if (std::optional<Month> month = cur2_period_month(folder.filename().string()))
        layout.months.push_back(cur2_month(folder, *month));
  } else {
    constexpr std::string_view legacy_folders =
        "<report>/<YYYYMMDD-YYYYMMDD>/ folders (legacy CUR)";
    constexpr std::string_view athena_folders =
        "<report>/year=YYYY/month=M/ folders (legacy CUR, Athena layout)";
    constexpr std::string_view cur2_folders = "data/BILLING_PERIOD=YYYY-MM/ folders (CUR 2.0)";
    std::string looked_for;
    switch (options.format) {
    case ReportFormat::legacy:
      looked_for = std::string(legacy_folders) + " or " + std::string(athena_folders);
      break;
    case ReportFormat::athena:
      looked_for = athena_folders;
      break;
    case ReportFormat::cur2:
      looked_for = cur2_folders;
      break;
    case ReportFormat::automatic:
      looked_for = std::string(legacy_folders) + ", " + std::string(athena_folders) + " or " +
                   std::string(cur2_folders);
      break;
    }
    return source_error("no CUR report under " + path.string() + ": looked for " + looked_for +
                        " up to " + std::to_string(search_depth) + " folders deep");
  }
  std::sort(layout.months.begin(), layout.months.end(),
            [](const MonthFiles& a, const MonthFiles& b) { return a.month < b.month; });
  return layout;
}

Status CurReport::check() const {
  Result<ReportLayout> layout = locate_report(options_);
  if (!layout)
    return std::move(layout).error();
  std::vector<std::string> problems;
  const auto check_file = [&](const fs::path& file, const std::string& month) {
    Result<OpenedFile> opened = open_report_file(file);
    if (!opened)
      problems.push_back(month + opened.error().message());
  };
  if (layout->kind == LayoutKind::file)
    check_file(layout->root, "");
  if (layout->kind != LayoutKind::file && layout->months.empty())
    problems.push_back("no billing period under " + layout->root.string());
  if (!layout->problems.empty()) // the files are not looked at while AWS rewrites them
    problems.insert(problems.end(), layout->problems.begin(), layout->problems.end());
  for (const MonthFiles& month : layout->months) {
    if (!layout->problems.empty())
      break;
    const std::string prefix = month.month.to_string() + ": ";
    for (const std::string& problem : month.problems)
      problems.push_back(prefix + problem);
    for (const fs::path& file : month.files)
      check_file(file, prefix);
  }
  if (!problems.empty())
    return source_error(join_lines(problems));
  return {};
}

Result<std::vector<Month>> CurReport::months() const {
  Result<ReportLayout> layout = locate_report(options_);
  if (!layout)
    return std::move(layout).error();
  if (layout->kind != LayoutKind::file) {
    std::vector<Month> months;
    for (const MonthFiles& month : layout->months)
      months.push_back(month.month);
    return months;
  }
  // A loose file says which months it holds only through its lines.
  Result<OpenedFile> opened = open_report_file(layout->root);
  if (!opened)
    return std::move(opened).error();
  std::set<Month> months;
  if (!opened->empty) {
    // With month_by = billing_period a line's month is its bill/BillingPeriodStartDate, when the
    // file has that column and the line fills it.
    const std::size_t column = opened->columns.usage_start;
    const std::size_t period = options_.month_by == MonthBy::billing_period
                                   ? opened->columns.billing_period_start
                                   : no_column;
    CsvRecord record;
    while (true) {
      if (opened->parquet) {
        Result<bool> more = opened->parquet->next(record);
        if (!more)
          return std::move(more).error();
        if (!*more)
          break;
      } else {
        Result<bool> more = opened->reader->next(record);
        if (!more)
          return located(more.error(), layout->root, opened->reader->line());
        if (!*more)
          break;
      }
      if (period < record.size() && !trim_ascii(record[period]).empty()) {
        if (Result<UtcTime> start = parse_timestamp(trim_ascii(record[period]))) {
          months.insert(Month::of(*start));
          continue;
        }
      }
      if (column < record.size())
        if (Result<UtcTime> start = parse_timestamp(trim_ascii(record[column])))
          months.insert(Month::of(*start));
    }
  }
  return std::vector<Month>(months.begin(), months.end());
}

Status CurReport::read(Month month, RowSink& sink) const {
  Result<ReportLayout> layout = locate_report(options_);
  if (!layout)
    return std::move(layout).error();
  if (!layout->problems.empty())
    return source_error(month.to_string() + ": " + join_lines(layout->problems));
  std::vector<fs::path> files;
  ReadScope scope{month, true, options_.month_by};
  if (layout->kind == LayoutKind::file) {
    files.push_back(layout->root);
    scope.period_files = false;
  } else {
    const auto it = std::find_if(layout->months.begin(), layout->months.end(),
                                 [&](const MonthFiles& m) { return m.month == month; });
    if (it == layout->months.end())
      return source_error("no billing period " + month.to_string() + " under " +
                          layout->root.string());
    if (!it->problems.empty())
      return source_error(join_lines(it->problems));
    files = it->files;
  }
  CurRowMapper mapper(sink, scope);
  FileProgress progress{0, total_bytes(files)};
  for (const fs::path& file : files)
    if (Status status = read_report_file(file, mapper, sink, progress); !status)
      return status;
  // AWS may have started rewriting the report while its files were read: the month is failed
  // rather than sent from a mix of old and new files.
  if (layout->kind == LayoutKind::athena)
    if (std::string problem = athena_status_problem(layout->root); !problem.empty())
      return source_error(month.to_string() + ": while " + month.to_string() + " was read, " +
                          problem);
  return {};
}

bool CurReport::one_file() const {
  // A file path is a loose file whatever else locate_report() makes of it; no folder is.
  std::error_code ec;
  return std::filesystem::is_regular_file(options_.path, ec);
}

Status CurReport::read_all(RowSink& sink) const {
  Result<ReportLayout> layout = locate_report(options_);
  if (!layout)
    return std::move(layout).error();
  if (layout->kind != LayoutKind::file)
    return config_error(options_.path.string() +
                        " is a report tree, read month by month: read_all() is for one file");
  // The first month assumed is replaced by each line's own (ReadScope::every_month).
  ReadScope scope{Month(1970, 1), false, options_.month_by, true};
  CurRowMapper mapper(sink, scope);
  FileProgress progress{0, file_bytes(layout->root)};
  return read_report_file(layout->root, mapper, sink, progress);
}

} // namespace billdrop::aws
