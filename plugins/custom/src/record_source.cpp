#include "record_source.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/text.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace billdrop::custom {
namespace {

namespace ondemand = simdjson::ondemand;

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

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — simdjson's on-demand API
// does not check a number it is not asked to convert, and we keep numbers as text.
bool is_json_number(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-')
    ++i;
  if (i < text.size() && text[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits())
      return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
      ++i;
    if (!digits())
      return false;
  }
  return i == text.size();
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

class JsonRecordSource final : public RecordSource {
public:
  // Looking further than this for a first valid object means the file is not JSON records.
  static constexpr std::size_t max_look_ahead = 1000;
  // Objects nested deeper than this (the record itself is level 1) make the record malformed:
  // flatten() recurses once per level, and a hostile file must not exhaust the stack. Billing
  // exports nest a few levels; 64 leaves room and makes 64-part column names.
  static constexpr std::size_t max_depth = 64;

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
      // parse() copies the text into its padded buffer, so it may go once parsed.
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
    record.values.clear();
    padded_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), text.data(), text.size());
    leaves_.clear();
    leaf_position_ = 0;
    bad_number_ = {};
    new_keys_.clear();
    ondemand::document document;
    ondemand::object object;
    simdjson::error_code error =
        parser_.iterate(padded_.data(), text.size(), padded_.size()).get(document);
    if (!error)
      error = document.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      record.malformed = "the record is not a JSON object";
      return false;
    }
    key_.clear();
    if (!error)
      error = flatten(object, 0, 1);
    if (error == simdjson::DEPTH_ERROR) {
      record.malformed = "the record nests objects more than " + std::to_string(max_depth) +
                         " levels deep (at key \"" + deepest_key() +
                         "\"); the custom plugin reads at most " + std::to_string(max_depth);
      return false;
    }
    if (error) {
      if (record.malformed.empty())
        record.malformed = std::string("invalid JSON: ") + simdjson::error_message(error);
      return false;
    }
    if (!bad_number_.empty()) {
      record.malformed = "invalid JSON: " + std::string(bad_number_) + " is not a number";
      return false;
    }
    for (std::string& key : new_keys_) {
      index_.emplace(key, columns_.size());
      columns_.push_back(std::move(key));
    }
    record.values.assign(columns_.size(), std::string_view());
    for (const auto& [column, value] : leaves_)
      record.values[column] = value;
    has_columns_ = true;
    return true;
  }

  // `depth` is the object's nesting level, 1 for the record itself.
  simdjson::error_code flatten(ondemand::object& object, std::size_t prefix_size,
                               std::size_t depth) {
    for (auto field_result : object) {
      ondemand::field field;
      if (auto error = std::move(field_result).get(field))
        return error;
      std::string_view key;
      if (auto error = field.unescaped_key().get(key))
        return error;
      key_.resize(prefix_size);
      if (prefix_size != 0)
        key_ += '.';
      key_ += key;
      ondemand::value value = field.value();
      ondemand::json_type type;
      if (auto error = value.type().get(type))
        return error;
      std::string_view text;
      switch (type) {
      case ondemand::json_type::object: {
        if (depth == max_depth)
          return simdjson::DEPTH_ERROR;
        ondemand::object child;
        if (auto error = value.get_object().get(child))
          return error;
        if (auto error = flatten(child, key_.size(), depth + 1))
          return error;
        continue;
      }
      case ondemand::json_type::array: {
        ondemand::array array;
        if (auto error = value.get_array().get(array))
          return error;
        if (auto error = array.raw_json().get(text))
          return error;
        break;
      }
      case ondemand::json_type::string:
        if (auto error = value.get_string().get(text))
          return error;
        break;
      case ondemand::json_type::number:
        text = trim_right(value.raw_json_token());
        if (!is_json_number(text) && bad_number_.empty())
          bad_number_ = text;
        break;
      case ondemand::json_type::boolean: {
        bool flag = false;
        if (auto error = value.get_bool().get(flag))
          return error;
        text = flag ? "true" : "false";
        break;
      }
      case ondemand::json_type::null: {
        bool null = false;
        if (auto error = value.is_null().get(null))
          return error;
        if (!null)
          return simdjson::N_ATOM_ERROR;
        break;
      }
      }
      leaves_.emplace_back(column_of_leaf(), text);
    }
    return simdjson::SUCCESS;
  }

  // `key_` for a message: the key at which the record went too deep, its middle left out when
  // long.
  std::string deepest_key() const {
    constexpr std::size_t kShown = 40;
    if (key_.size() <= 2 * kShown)
      return key_;
    return key_.substr(0, kShown) + " ... " + key_.substr(key_.size() - kShown);
  }

  // The column index of `key_`. Exports repeat the same keys in the same order, so the leaf at
  // the same position in the previous record is checked first; the hash map is the fallback. A
  // key not seen before gets the index it will have, and becomes a column only once the record
  // proves valid (see parse()).
  std::size_t column_of_leaf() {
    const std::size_t position = leaf_position_++;
    if (position < recent_.size() && columns_[recent_[position]] == key_)
      return recent_[position];
    const auto found = index_.find(key_);
    if (found == index_.end()) {
      const auto fresh = std::find(new_keys_.begin(), new_keys_.end(), key_);
      const std::size_t column =
          columns_.size() + static_cast<std::size_t>(fresh - new_keys_.begin());
      if (fresh == new_keys_.end())
        new_keys_.push_back(key_);
      return column;
    }
    if (position < recent_.size())
      recent_[position] = found->second;
    else if (position == recent_.size())
      recent_.push_back(found->second);
    return found->second;
  }

  JsonRecordReader reader_;
  ondemand::parser parser_;
  std::string padded_;
  std::deque<Pending> pending_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::size_t> recent_;   // column of each leaf position in the previous record
  std::vector<std::string> new_keys_; // keys of the record being parsed not yet columns
  std::vector<std::pair<std::size_t, std::string_view>> leaves_;
  std::size_t leaf_position_ = 0;
  std::string key_;
  std::string_view bad_number_;
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
