#pragma once
// A vendor export's records, CSV rows or JSON objects alike, as values indexed by column. The
// column mapping resolves its templates to column indexes once per file, so reading a record
// costs no lookup by name.
//
// JSON objects are flattened by the SDK's JsonFlattener (billdrop/json_flatten.hpp): a nested
// object's keys are joined with dots ({"usage":{"amount":3}} gives the column "usage.amount"),
// arrays are kept as their JSON text, numbers as written (so a cost keeps every digit), booleans
// as true/false and null as blank. A record whose objects nest more than 64 levels deep is
// malformed (the message names the limit).

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::custom {

enum class InputFormat { automatic, csv, json, ndjson };

// "auto", "csv", "json" or "ndjson"; anything else is a config error.
Result<InputFormat> parse_input_format(std::string_view name);

// The format of one file: `configured` unless automatic, else by extension with any ".gz" ignored:
// .csv/.tsv are CSV, .ndjson/.jsonl NDJSON, .json JSON (an array or NDJSON, detected).
Result<InputFormat> resolve_format(const std::filesystem::path& file, InputFormat configured);

// `*` matches any run of bytes, `?` exactly one; everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view name) noexcept;

// `path` itself when it is a file; for a directory, its regular files whose names match
// `pattern`, in name order (an empty directory is an error naming the pattern, unless
// `allow_none`).
Result<std::vector<std::filesystem::path>> list_export_files(const std::filesystem::path& path,
                                                             std::string_view pattern,
                                                             bool allow_none = false);

struct SourceRecord {
  // values[i] is the value of column i; a record may hold fewer values than there are columns
  // (a JSON object without some key): the rest are blank.
  std::vector<std::string_view> values;
  std::uint64_t line = 0; // where the record starts in its file (1-based)
  // Why the record cannot be mapped at all (a short CSV row, invalid JSON); empty when it can.
  std::string malformed;
  // The rule id of `malformed` for the host's report: "record_shape" (field count) or
  // "json_syntax".
  std::string_view malformed_rule;

  std::string_view value(std::size_t column) const noexcept {
    return column < values.size() ? values[column] : std::string_view();
  }
};

struct RecordOptions {
  InputFormat format = InputFormat::csv; // resolved: never automatic
  char delimiter = ',';
};

class RecordSource {
public:
  virtual ~RecordSource() = default;

  // Opens `file` (gzip detected by its magic bytes) and reads the CSV header, or for JSON looks
  // ahead to the first valid record to learn its keys.
  static Result<std::unique_ptr<RecordSource>> open(const std::filesystem::path& file,
                                                    const RecordOptions& options);

  // The CSV header; for JSON, the keys seen so far in order of first appearance. After open()
  // that is the first valid record's keys; later records may append new ones.
  const std::vector<std::string>& columns() const noexcept { return columns_; }
  // False for a JSON file without a single valid record (there is nothing to map).
  bool has_columns() const noexcept { return has_columns_; }

  // The next record, false at the end. The values stay valid until the next call. A record that
  // cannot be mapped comes back with `malformed` set; a file that cannot be read further (bad
  // gzip, unterminated quote) is an Error of kind data naming the file and line.
  virtual Result<bool> next(SourceRecord& record) = 0;

  // The file's name for origins ("usage.csv" in "usage.csv:42").
  const std::string& name() const noexcept { return name_; }
  // Bytes of the file consumed so far (compressed bytes for gzip), and the file's size.
  virtual std::uint64_t position() const = 0;
  virtual std::uint64_t total() const = 0;

protected:
  explicit RecordSource(std::string name) : name_(std::move(name)) {}

  std::vector<std::string> columns_;
  bool has_columns_ = true;

private:
  std::string name_;
};

} // namespace billdrop::custom
