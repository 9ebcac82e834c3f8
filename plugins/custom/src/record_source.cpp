#include "record_source.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/json_flatten.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <deque>
#include <system_error>
#include <utility>

namespace billdrop::custom {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// A reader error that already says "<file>:<line>:" is left alone; one from below the reader
// (a truncated gzip stream) gets the last line that was read, so the user knows where it broke.
Error with_line(Error error, const std::string& reader_name, std::uint64_t last_line) {
  const std::string located = reader_name + ":";
  const std::string& message = error.message();
  if (message.size() > located.size() && message.compare(0, located.size(), located) == 0 &&
      message[located.size()] >= '0' && message[located.size()] <= '9')
    return error;
  return Error(error.kind(),
               message + (last_line == 0 ? std::string(" (before the first record)")
                                         : " (after the record that starts on line " +
                                               std::to_string(last_line) + ")"),
               error.retryable());
}

class CsvRecordSource final : public RecordSource {
public:
  CsvRecordSource(std::string name, std::unique_ptr<ByteSource> bytes, CsvOptions options)
      : RecordSource(std::move(name)), reader_(std::move(bytes), options) {}

  Status read_header() {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return with_line(more.error(), reader_.name(), 0);
    if (!*more)
      return data_error(name() + " is empty; a CSV export starts with a header line naming its "
                                 "columns");
    columns_.assign(row_.begin(), row_.end());
    return {};
  }

  Result<bool> next(SourceRecord& record) override {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return with_line(more.error(), reader_.name(), reader_.line());
    if (!*more)
      return false;
    record.line = reader_.line();
    record.values.assign(row_.begin(), row_.end());
    record.malformed.clear();
    record.malformed_rule = "record_shape";
    if (row_.size() < columns_.size()) {
      record.malformed = "the row has " + std::to_string(row_.size()) + " field" +
                         (row_.size() == 1 ? "" : "s") + " but the header has " +
                         std::to_string(columns_.size());
    } else if (row_.size() > columns_.size()) {
      // Trailing empty fields (a trailing delimiter) are harmless; a value past the header is
      // not: it usually means an unquoted delimiter shifted the columns, cost included.
      const bool extra_values = std::any_of(row_.begin() + static_cast<long>(columns_.size()),
                                            row_.end(), [](auto v) { return !is_blank(v); });
      if (extra_values)
        record.malformed = "the row has " + std::to_string(row_.size()) +
                           " fields but the header has " + std::to_string(columns_.size()) +
                           " (an unquoted delimiter inside a value?)";
    }
    return true;
  }

  std::uint64_t position() const override { return reader_.position(); }
  std::uint64_t total() const override { return reader_.total(); }

private:
  CsvReader reader_;
  CsvRecord row_;
};

class JsonRecordSource final : public RecordSource {
public:
  // Looking further than this for a first valid object means the file is not JSON records.
  static constexpr std::size_t max_look_ahead = 1000;

  JsonRecordSource(std::string name, std::unique_ptr<ByteSource> bytes, JsonLayout layout)
      : RecordSource(std::move(name)), reader_(std::move(bytes), layout) {}

  // Reads up to the first valid record, keeping what it read for next(), so that the columns
  // are known before any record is mapped.
  Status look_ahead() {
    SourceRecord scratch;
    while (pending_.size() < max_look_ahead) {
      std::string_view text;
      Result<bool> more = reader_.next(text);
      if (!more)
        return with_line(more.error(), reader_.name(), reader_.line());
      if (!*more) {
        has_columns_ = false;
        return {};
      }
      pending_.push_back(Pending{std::string(text), reader_.line()});
      if (parse(pending_.back().text, scratch))
        return {};
    }
    return data_error(name() + ": none of the first " + std::to_string(max_look_ahead) +
                      " records is a valid JSON object (last error: " + scratch.malformed +
                      "); is it a JSON export?");
  }

  Result<bool> next(SourceRecord& record) override {
    if (!pending_.empty()) {
      // The flattener copies the text into its padded buffer, so it may go once parsed.
      const Pending first = std::move(pending_.front());
      pending_.pop_front();
      record.line = first.line;
      parse(first.text, record);
      return true;
    }
    std::string_view text;
    Result<bool> more = reader_.next(text);
    if (!more)
      return with_line(more.error(), reader_.name(), reader_.line());
    if (!*more)
      return false;
    record.line = reader_.line();
    parse(text, record);
    return true;
  }

  std::uint64_t position() const override { return reader_.position(); }
  std::uint64_t total() const override { return reader_.total(); }

private:
  struct Pending {
    std::string text;
    std::uint64_t line;
  };

  // Flattens one record into `record.values`; false (with `malformed` set) when it is not a
  // valid JSON object.
  bool parse(std::string_view text, SourceRecord& record) {
    record.malformed.clear();
    record.malformed_rule = "json_syntax";
    if (Status flat = flattener_.flatten(text); !flat) {
      record.values.clear();
      record.malformed = flat.error().message();
      // The SDK's message names the limit; this says whose limit it is.
      if (flattener_.problem() == JsonFlattenProblem::too_deep)
        record.malformed +=
            "; the custom plugin reads at most " + std::to_string(JsonFlattener::max_depth);
      return false;
    }
    flattener_.values(record.values);
    // The flattener only ever appends columns, and only for a valid record.
    const std::vector<std::string>& seen = flattener_.columns();
    for (std::size_t i = columns_.size(); i < seen.size(); ++i)
      columns_.push_back(seen[i]);
    has_columns_ = true;
    return true;
  }

  JsonRecordReader reader_;
  JsonFlattener flattener_;
  std::deque<Pending> pending_;
};

} // namespace

Result<InputFormat> parse_input_format(std::string_view name) {
  if (name == "auto")
    return InputFormat::automatic;
  if (name == "csv")
    return InputFormat::csv;
  if (name == "json")
    return InputFormat::json;
  if (name == "ndjson")
    return InputFormat::ndjson;
  return config_error("format \"" + std::string(name) + "\" is not one of auto, csv, json, ndjson");
}

Result<InputFormat> resolve_format(const std::filesystem::path& file, InputFormat configured) {
  if (configured != InputFormat::automatic)
    return configured;
  std::string name = lower_ascii(file.filename().string());
  if (ends_with(name, ".gz"))
    name.resize(name.size() - 3);
  if (ends_with(name, ".csv") || ends_with(name, ".tsv"))
    return InputFormat::csv;
  if (ends_with(name, ".ndjson") || ends_with(name, ".jsonl"))
    return InputFormat::ndjson;
  if (ends_with(name, ".json"))
    return InputFormat::json;
  return config_error("cannot tell the format of " + file.string() +
                      " from its extension (.csv, .tsv, .json, .ndjson, .jsonl, optionally .gz): "
                      "set format to csv, json or ndjson, or narrow file_pattern");
}

bool glob_match(std::string_view pattern, std::string_view name) noexcept {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, n = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

Result<std::vector<std::filesystem::path>>
list_export_files(const std::filesystem::path& path, std::string_view pattern, bool allow_none) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      return source_error("cannot read path " + path.string() + ": " + ec.message());
    return source_error("path " + path.string() + " does not exist");
  }
  if (!fs::is_directory(status))
    return std::vector<fs::path>{path};

  std::vector<fs::path> files;
  fs::directory_iterator it(path, ec);
  if (ec)
    return source_error("cannot list directory " + path.string() + ": " + ec.message());
  // Hidden files (".DS_Store", editors' swap files) are skipped unless the pattern asks for them.
  const bool want_hidden = !pattern.empty() && pattern.front() == '.';
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      return source_error("cannot list directory " + path.string() + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (!want_hidden && !name.empty() && name.front() == '.')
      continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || !glob_match(pattern, name))
      continue;
    files.push_back(it->path());
  }
  if (files.empty() && !allow_none)
    return source_error("directory " + path.string() + " has no files matching file_pattern \"" +
                        std::string(pattern) + "\"");
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().string() < b.filename().string();
  });
  return files;
}

Result<std::unique_ptr<RecordSource>> RecordSource::open(const std::filesystem::path& file,
                                                         const RecordOptions& options) {
  Result<std::unique_ptr<ByteSource>> bytes = open_file(file);
  if (!bytes)
    return std::move(bytes).error();
  // Large files are read (and inflated) on a second thread while this one parses.
  if ((*bytes)->total() > (4u << 20))
    *bytes = read_ahead(std::move(*bytes));
  std::string name = file.filename().string();
  if (options.format == InputFormat::csv) {
    CsvOptions csv;
    csv.delimiter = options.delimiter;
    auto source = std::make_unique<CsvRecordSource>(std::move(name), std::move(*bytes), csv);
    if (Status header = source->read_header(); !header)
      return std::move(header).error();
    return std::unique_ptr<RecordSource>(std::move(source));
  }
  const JsonLayout layout =
      options.format == InputFormat::ndjson ? JsonLayout::ndjson : JsonLayout::automatic;
  auto source = std::make_unique<JsonRecordSource>(std::move(name), std::move(*bytes), layout);
  if (Status first = source->look_ahead(); !first)
    return std::move(first).error();
  return std::unique_ptr<RecordSource>(std::move(source));
}

} // namespace billdrop::custom
