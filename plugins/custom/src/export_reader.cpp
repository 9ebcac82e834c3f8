#include "export_reader.hpp"

#include <billdrop/source_files.hpp>

#include <charconv>
#include <set>
#include <system_error>

namespace billdrop::custom {
namespace {

// Progress is reported this often (in records): often enough for a progress bar, rarely enough
// to cost nothing.
constexpr std::uint64_t progress_interval = 64 * 1024;

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty())
      out += '\n';
    out += line;
  }
  return out;
}

// "," or "\t" (a real tab, or the two characters backslash-t as a config file may hold them).
Result<char> parse_delimiter(std::string_view text) {
  if (text == "\\t")
    return '\t';
  if (text.size() == 1 && text[0] != '"' && text[0] != '\n' && text[0] != '\r')
    return text[0];
  return config_error("delimiter \"" + std::string(text) +
                      "\" must be exactly one character other than a quote or a line end "
                      "(for example \",\", \";\", \"|\" or \"\\t\")");
}

bool is_tsv(const std::filesystem::path& file) {
  std::string name = file.filename().string();
  for (char& c : name)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0)
    name.resize(name.size() - 3);
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".tsv") == 0;
}

// A record no month can hold, as the host's report writes a reject: "usage.csv:3:
// time/usage_start: [timestamp] ...".
std::string describe_reject(std::string_view origin, std::string_view column, std::string_view rule,
                            std::string_view reason) {
  std::string text(origin);
  text += ": ";
  if (!column.empty())
    text.append(column).append(": ");
  text.append("[").append(rule.empty() ? "rejected" : rule).append("] ").append(reason);
  return text;
}

// Records that fit no month, met while listing the months: read() rejects them, but only when a
// month is read. With no month at all nothing would ever be read, so the listing fails and says
// how many there were and why the first ones were rejected.
class UnplacedRecords {
public:
  void add(std::string_view origin, std::string_view column, std::string_view rule,
           std::string_view reason) {
    if (first_.size() < shown)
      first_.push_back(describe_reject(origin, column, rule, reason));
    ++count_;
  }
  std::uint64_t count() const noexcept { return count_; }
  Error error(const std::filesystem::path& path) const {
    std::string text = "no record of " + path.string() +
                       " can be placed in a month, so no month can be read (" +
                       std::to_string(count_) + (count_ == 1 ? " record" : " records") +
                       ", all rejected); the first: ";
    for (std::size_t i = 0; i < first_.size(); ++i)
      text.append(i == 0 ? "" : "; ").append(first_[i]);
    return data_error(std::move(text));
  }

private:
  static constexpr std::size_t shown = 3;
  std::vector<std::string> first_;
  std::uint64_t count_ = 0;
};

} // namespace

Result<ExportReader> ExportReader::from_config(const Config& config) {
  std::vector<std::string> problems;
  ExportOptions options;
  options.path = config.get_string("path");
  options.file_pattern = config.get_string_or("file_pattern", "*");
  if (Result<InputFormat> format = parse_input_format(config.get_string_or("format", "auto")))
    options.format = *format;
  else
    problems.push_back(format.error().message());
  if (Result<char> delimiter = parse_delimiter(config.get_string_or("delimiter", ",")))
    options.delimiter = *delimiter;
  else
    problems.push_back(delimiter.error().message());

  MappingOptions mapping;
  if (config.has("columns"))
    mapping.columns = config.get_map("columns");
  if (config.has("cost_column"))
    mapping.cost_column = config.get_string("cost_column");
  mapping.timestamp_format = config.get_string_or("timestamp_format", "auto");
  if (config.has("tag_prefix") && !config.get_string("tag_prefix").empty())
    mapping.tag_prefix = config.get_string("tag_prefix");
  if (config.has("tag_columns"))
    mapping.tag_columns = config.get_list("tag_columns");
  if (config.has("lineitem_type_map"))
    mapping.lineitem_type_map = config.get_map("lineitem_type_map");
  mapping.lineitem_type_default = config.get_string_or("lineitem_type_default", "Usage");
  options.incremental = config.has("incremental") && config.get_bool("incremental");
  if (config.has("identity_columns")) {
    options.identity_columns = config.get_list("identity_columns");
    if (!options.incremental && !options.identity_columns.empty())
      problems.push_back("identity_columns is only used with incremental = true");
  }
  if (config.has("null_values"))
    mapping.null_values = config.get_list("null_values");

  Result<ColumnMapping> column_mapping = ColumnMapping::create(std::move(mapping));
  if (!column_mapping)
    problems.push_back(column_mapping.error().message());
  if (!problems.empty())
    return config_error(join_lines(problems));
  return ExportReader(std::move(options), std::move(*column_mapping));
}

Result<std::vector<std::filesystem::path>> ExportReader::files() const {
  if (options_.incremental)
    return files_after("");
  return list_export_files(options_.path, options_.file_pattern);
}

Result<std::vector<std::filesystem::path>>
ExportReader::files_after(std::string_view cursor) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(options_.path, ec)) {
    if (!fs::exists(options_.path, ec))
      return source_error("path " + options_.path.string() + " does not exist");
    return config_error("with incremental = true, path must be a folder to which each new file "
                        "brings new or changed records; " +
                        options_.path.string() + " is a file");
  }
  // An empty folder only means that nothing arrived yet.
  Result<std::vector<fs::path>> all =
      list_export_files(options_.path, options_.file_pattern, /*allow_none=*/true);
  if (!all)
    return std::move(all).error();
  std::vector<fs::path> after;
  for (fs::path& file : *all)
    if (file.filename().string() > cursor)
      after.push_back(std::move(file));
  return after;
}

Result<ExportReader::OpenedFile> ExportReader::open(const std::filesystem::path& file) const {
  Result<InputFormat> format = resolve_format(file, options_.format);
  if (!format)
    return std::move(format).error();
  RecordOptions record_options;
  record_options.format = *format;
  record_options.delimiter = options_.delimiter == ',' && is_tsv(file) ? '\t' : options_.delimiter;
  Result<std::unique_ptr<RecordSource>> source = RecordSource::open(file, record_options);
  if (!source)
    return std::move(source).error();
  OpenedFile opened{std::move(*source), std::nullopt};
  if (opened.source->has_columns()) {
    const std::string where =
        (*format == InputFormat::csv ? "the header of " : "the first record of ") +
        file.filename().string();
    Result<FileMapping> mapping = mapping_.bind(opened.source->columns(), where);
    if (!mapping)
      return std::move(mapping).error();
    opened.mapping.emplace(std::move(*mapping));
  }
  return opened;
}

Status ExportReader::check() const {
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  for (const std::filesystem::path& file : *paths) {
    Result<OpenedFile> opened = open(file);
    if (!opened)
      return std::move(opened).error();
  }
  return {};
}

Result<std::vector<Month>> ExportReader::months() const {
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  std::set<Month> months;
  UnplacedRecords unplaced;
  SourceRecord record;
  std::string origin;
  for (const std::filesystem::path& file : *paths) {
    Result<OpenedFile> opened = open(file);
    if (!opened)
      return std::move(opened).error();
    while (true) {
      Result<bool> more = opened->source->next(record);
      if (!more)
        return std::move(more).error();
      if (!*more)
        break;
      if (!record.malformed.empty()) {
        make_origin(origin, opened->source->name(), record.line);
        unplaced.add(origin, "", record.malformed_rule, record.malformed);
        continue;
      }
      if (!opened->mapping)
        continue; // a JSON file without a valid record has no record here either
      if (Result<UtcTime> start = opened->mapping->usage_start(record)) {
        months.insert(Month::of(*start));
      } else {
        const MappingProblem& problem = opened->mapping->last_problem();
        make_origin(origin, opened->source->name(), record.line);
        unplaced.add(origin, problem.column, problem.rule, problem.detail);
      }
    }
  }
  if (months.empty() && unplaced.count() != 0)
    return unplaced.error(options_.path);
  return std::vector<Month>(months.begin(), months.end());
}

Status ExportReader::read(Month month, RowSink& sink) const {
  if (options_.incremental)
    return config_error(
        "with incremental = true a month cannot be read whole: a later file may restate a "
        "record of an earlier one, and reading both would count it twice; billdrop merges the "
        "files into its month snapshots instead (an incremental sync)");
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  return read_files(*paths, month, sink, {});
}

Status ExportReader::read_all(RowSink& sink) const {
  if (options_.incremental)
    return config_error("with incremental = true the export is read as increments (read_since), "
                        "not whole");
  Result<std::vector<std::filesystem::path>> paths = files();
  if (!paths)
    return std::move(paths).error();
  return read_files(*paths, std::nullopt, sink, {});
}

Status ExportReader::read_since(std::string_view cursor, RowSink& sink,
                                std::string& next_cursor) const {
  Result<std::vector<std::filesystem::path>> paths = files_after(cursor);
  if (!paths)
    return std::move(paths).error();
  // Each file is a part of the increment: when two files restate a record, the later one wins.
  return read_files(*paths, std::nullopt, sink, [&](const std::filesystem::path& file) {
    next_cursor = file.filename().string();
    return sink.checkpoint(next_cursor);
  });
}

Status ExportReader::read_files(
    const std::vector<std::filesystem::path>& paths, std::optional<Month> month, RowSink& sink,
    const std::function<Status(const std::filesystem::path&)>& after_file) const {
  const std::uint64_t total = total_bytes(paths);

  std::uint64_t done_before = 0; // bytes of the files already read
  std::uint64_t records = 0;
  SourceRecord record;
  MappedRow row;
  std::string origin;
  for (const std::filesystem::path& file : paths) {
    Result<OpenedFile> opened = open(file);
    if (!opened)
      return std::move(opened).error();
    RecordSource& source = *opened->source;
    std::size_t known_columns = source.columns().size();
    while (true) {
      Result<bool> more = source.next(record);
      if (!more)
        return std::move(more).error();
      if (!*more)
        break;
      if (++records % progress_interval == 0)
        sink.progress(done_before + source.position(), total);
      make_origin(origin, source.name(), record.line);
      if (!record.malformed.empty()) {
        sink.reject(origin, "", record.malformed_rule, record.malformed);
        continue;
      }
      if (!opened->mapping) {
        // Unreachable in practice: a JSON file without columns has no valid record either.
        Result<FileMapping> mapping = mapping_.bind(source.columns(), source.name());
        if (!mapping)
          return std::move(mapping).error();
        opened->mapping.emplace(std::move(*mapping));
        known_columns = source.columns().size();
      }
      FileMapping& mapping = *opened->mapping;
      if (source.columns().size() != known_columns) {
        mapping.add_columns(source.columns());
        known_columns = source.columns().size();
      }
      Result<UtcTime> start = mapping.usage_start(record);
      if (!start) {
        const MappingProblem& problem = mapping.last_problem();
        sink.reject(origin, problem.column, problem.rule, problem.detail);
        continue;
      }
      if (month && !month->contains(*start))
        continue;
      if (Status mapped = mapping.map(record, *start, row); !mapped) {
        const MappingProblem& problem = mapping.last_problem();
        sink.reject(origin, problem.column, problem.rule, problem.detail);
        continue;
      }
      sink.begin_row(origin);
      for (std::size_t i = 0; i < row.size(); ++i)
        sink.field(row.key(i), row.value(i));
      if (Status status = sink.end_row(); !status)
        return status;
    }
    done_before += source.total() != 0 ? source.total() : source.position();
    sink.progress(done_before, total);
    if (after_file)
      if (Status status = after_file(file); !status)
        return status;
  }
  return {};
}

} // namespace billdrop::custom
