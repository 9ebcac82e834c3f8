#pragma once
// Reads an NDJSON record of an export in its plain form straight from the bytes, without
// simdjson: one strict pass that checks the whole record against the JSON grammar and fills the
// fields of interest as NdjsonRecordDecoder would (export_file.cpp). A record is plain when it is
// an object, at most 64 levels deep, whose strings hold no escape and no control character and
// whose bytes are valid UTF-8: nearly every record a billing export holds. Anything else is left
// to simdjson, so the scanner decides nothing about malformed records: it only takes the plain
// ones, which simdjson reads to the same fields.
//
// Why: simdjson's stage 1 (every structural character of the batch) and its On Demand walk cost
// about 15,000 instructions for a 700-byte record; this pass costs about a quarter of that.

#include "billing_record.hpp"
#include "key_table.hpp"

#include <cstddef>

namespace billdrop::gcp {

// JSON's whitespace.
inline bool is_json_space(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

class PlainRecordScanner {
public:
  explicit PlainRecordScanner(const KeyTable& keys) noexcept : keys_(keys) {}

  // Reads the record starting at data[0] ('{') and ending within `size` bytes into `record`
  // (cleared first). Returns the offset just past its closing '}', or 0 when the record is not
  // plain (then `record` holds nothing of use). At least 16 bytes past `size` must be readable:
  // strings are searched 16 bytes at a time.
  std::size_t scan(const char* data, std::size_t size, BillingRecord& record);

private:
  bool object(BillingRecord& record, int nested);
  bool list(ListField list, BillingRecord& record, int depth);
  bool skip_value(int depth);
  bool string(std::string_view& text);
  bool member_key(std::string_view& key);
  bool number(std::string_view& text);
  bool digits() noexcept;
  bool literal(std::string_view word);
  bool scalar(char first, std::string_view& text);
  void skip_space() noexcept;
  bool expect(char c) noexcept;

  const KeyTable& keys_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool high_bytes_ = false; // a string holds a byte >= 0x80: the record's UTF-8 is checked
};

} // namespace billdrop::gcp
