#pragma once
// Reads one billing export extract, NDJSON (nested, as BigQuery extracts it) or CSV (flattened,
// dotted headers), optionally gzip, record by record into a BillingRecord.

#include "billing_record.hpp"
#include <billdrop/file_break.hpp>

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::gcp {

enum class ExportFormat { automatic, ndjson, csv };

Result<ExportFormat> parse_export_format(std::string_view text);

// Whether a file name looks like an export extract (.csv, .json, .ndjson, .jsonl, each
// optionally .gz).
bool is_export_file_name(std::string_view name);

// How much of each record to decode: `routing` fills only usage_start_time and invoice.month,
// which is all that listing a file's months needs.
enum class Decode { routing, full };

// A part of a file's (inflated) bytes that holds whole records: [begin, end), whose first byte is
// on line `line`.
struct ByteRange {
  std::uint64_t begin;
  std::uint64_t end;
  std::uint64_t line;
};

class ExportFile {
public:
  virtual ~ExportFile() = default;

  // Opens `path` and, for CSV, reads its header. `format` automatic decides by extension
  // (ignoring .gz), then by the first byte ('{' is NDJSON). With `ranges` (sorted, apart; as
  // record_offset() gave them for the same file), an NDJSON file is read only there; other
  // formats ignore them.
  static Result<std::unique_ptr<ExportFile>> open(const std::filesystem::path& path,
                                                  ExportFormat format, Decode decode,
                                                  std::vector<ByteRange> ranges = {});

  // Reads the next record. Returns false at the end. A record that is present but unreadable
  // (a CSV row with fewer or more fields than the header, invalid JSON, a malformed list cell)
  // comes back with `malformed` set to the reason, its fields filled as far as they could be
  // read. An error is the file itself failing (a truncated gzip stream): broke_off() turns it
  // into where and why.
  virtual Result<bool> next(BillingRecord& record, std::string& malformed) = 0;

  // Where the file broke off when next() failed with `error`: the line after the last record
  // read (line() may already name the record that failed).
  FileBreak broke_off(const Error& error) const {
    return FileBreak(name_, last_line_ + 1, error, path_);
  }

  // The line on which the record last returned starts.
  virtual std::uint64_t line() const noexcept = 0;
  virtual std::uint64_t position() const = 0;
  virtual std::uint64_t total() const = 0;
  // Where the record last returned starts in the file's (inflated) bytes, when the reader knows
  // (NDJSON read whole, as long as every record was plain).
  virtual std::optional<std::uint64_t> record_offset() const { return std::nullopt; }
  const std::string& name() const noexcept { return name_; }

protected:
  // Subclasses call this for every record they return.
  void record_read(std::uint64_t line) noexcept { last_line_ = line; }

  explicit ExportFile(const std::filesystem::path& path)
      : name_(path.filename().string()), path_(path.string()) {}

private:
  std::string name_;
  std::string path_;            // how the byte source names the file in its errors
  std::uint64_t last_line_ = 0; // where the last record read starts
};

// Decodes one NDJSON record with simdjson On Demand, exactly as the reader decodes every record
// the plain scanner leaves (and as it decoded every record before the scanner): the reference
// the scanner's tests hold it to. `buffer` receives the text, padded, and holds what the record's
// values point into.
void decode_ndjson_record(std::string_view text, Decode decode, std::string& buffer,
                          BillingRecord& record, std::string& malformed);

} // namespace billdrop::gcp
