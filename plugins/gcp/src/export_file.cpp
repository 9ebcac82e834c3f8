#include "export_file.hpp"

#include "key_table.hpp"
#include "plain_record_scanner.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/text.hpp>

#include <simdjson.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace billdrop::gcp {
namespace {

namespace ondemand = simdjson::ondemand;

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The file name in lower case without a trailing ".gz".
std::string base_name(const std::filesystem::path& path) {
  std::string name = lower_ascii(path.filename().string());
  if (ends_with(name, ".gz"))
    name.resize(name.size() - 3);
  return name;
}

class CsvExportFile final : public ExportFile {
public:
  CsvExportFile(const std::filesystem::path& path, std::unique_ptr<ByteSource> bytes, Decode decode)
      : ExportFile(path), reader_(std::move(bytes)), decode_(decode) {}

  Status read_header() {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return broke_off(more.error()).listing_error();
    if (!*more)
      return data_error(name() + " is empty; a CSV extract starts with a header line naming its "
                                 "columns (\"usage_start_time\", \"cost\", ...)");
    record_read(reader_.line());
    header_size_ = row_.size();
    bool has_cost = false;
    bool has_start = false;
    for (std::size_t i = 0; i < row_.size(); ++i) {
      const std::string_view column = trim_ascii(row_[i]);
      if (const std::optional<Field> field = field_by_name(column)) {
        has_cost |= *field == Field::cost;
        has_start |= *field == Field::usage_start_time;
        if (decode_ == Decode::full || is_routing_field(*field))
          scalars_.push_back({i, *field});
      } else if (const std::optional<ListField> list = list_field_by_name(column)) {
        if (decode_ == Decode::full)
          lists_.push_back({i, *list});
      }
    }
    if (!has_cost || !has_start)
      return data_error(name() + ":1: the header has no \"" +
                        std::string(has_cost ? "usage_start_time" : "cost") +
                        "\" column; is this a Google Cloud billing export extract?");
    return {};
  }

  Result<bool> next(BillingRecord& record, std::string& malformed) override {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return std::move(more).error();
    if (!*more)
      return false;
    record_read(reader_.line());
    record.clear();
    malformed.clear();
    for (const ScalarColumn& column : scalars_)
      if (column.index < row_.size())
        record[column.field] = row_[column.index]; // the row lives until the next one
    for (const ListColumn& column : lists_) {
      if (column.index >= row_.size())
        continue;
      if (Status status = parse_list_cell(row_[column.index], column.list, record);
          !status && malformed.empty())
        malformed = status.error().message();
    }
    if (row_.size() != header_size_)
      malformed = "the row has " + std::to_string(row_.size()) + " field" +
                  (row_.size() == 1 ? "" : "s") + " but the header has " +
                  std::to_string(header_size_);
    return true;
  }

  std::uint64_t line() const noexcept override { return reader_.line(); }
  std::uint64_t position() const override { return reader_.position(); }
  std::uint64_t total() const override { return reader_.total(); }

private:
  struct ScalarColumn {
    std::size_t index;
    Field field;
  };
  struct ListColumn {
    std::size_t index;
    ListField list;
  };

  CsvReader reader_;
  CsvRecord row_;
  Decode decode_;
  std::size_t header_size_ = 0;
  std::vector<ScalarColumn> scalars_;
  std::vector<ListColumn> lists_;
};

// What may stand between a record and its line's end.
bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim_right(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.back()))
    text.remove_suffix(1);
  return text;
}

// A field's key: as written when it holds no escape (the common case, no copy), else unescaped.
simdjson::error_code field_key(ondemand::field& field, std::string_view& key) {
  const char* raw = field.key().raw();
  const char* end = static_cast<const char*>(rawmemchr(raw, '"')); // stage 1 found it
  if (std::memchr(raw, '\\', static_cast<std::size_t>(end - raw)) == nullptr) {
    key = std::string_view(raw, static_cast<std::size_t>(end - raw));
    return simdjson::SUCCESS;
  }
  return field.unescaped_key().get(key);
}

// Decodes one NDJSON record (a parsed On Demand object) into a BillingRecord. Every field's key
// and type are read in document order, so a record is accepted or found malformed the same way
// whether it was parsed alone or as one of many documents of a batch.
class NdjsonRecordDecoder {
public:
  explicit NdjsonRecordDecoder(Decode decode) : keys_(key_table(decode)), decode_(decode) {}

  // Fills `record` (cleared first) and `malformed` from the document.
  template <class Document>
  void decode(simdjson::simdjson_result<Document> document_result, BillingRecord& record,
              std::string& malformed) {
    record.clear();
    malformed.clear();
    ondemand::object object;
    simdjson::error_code error = document_result.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      malformed = "the record is not a JSON object";
      return;
    }
    if (!error)
      error = walk(object, record);
    if (error)
      malformed = std::string("invalid JSON: ") + simdjson::error_message(error);
  }

private:
  // A scalar as text: strings unescaped, numbers as written (exactness), null as empty. Text as
  // written stays in the reader's buffer; an unescaped string is kept by the record.
  static simdjson::error_code scalar_text(ondemand::value& value, ondemand::json_type type,
                                          BillingRecord& record, std::string_view& out) {
    out = {};
    std::string_view text;
    switch (type) {
    case ondemand::json_type::string:
      // As written when it holds no escape: the token runs from its quote to the next structural
      // character.
      text = trim_right(value.raw_json_token());
      if (text.size() >= 2 && text.back() == '"' && text.find('\\') == std::string_view::npos) {
        text = text.substr(1, text.size() - 2);
        break;
      }
      if (auto error = value.get_string().get(text))
        return error;
      text = record.keep(text);
      break;
    case ondemand::json_type::number:
      text = trim_right(value.raw_json_token());
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
    case ondemand::json_type::object:
    case ondemand::json_type::array:
      return simdjson::INCORRECT_TYPE;
    }
    out = text;
    return simdjson::SUCCESS;
  }

  // The top level (`record` < 0) or a nested record of interest. Only records of interest are
  // entered, and only at the top level; every other object is read past.
  simdjson::error_code walk(ondemand::object& object, BillingRecord& record, int nested = -1) {
    for (auto field_result : object) {
      ondemand::field field;
      if (auto error = std::move(field_result).get(field))
        return error;
      std::string_view key;
      if (auto error = field_key(field, key))
        return error;
      const KeyTable::Slot slot =
          nested < 0 ? keys_.top(key) : keys_.child(static_cast<std::uint8_t>(nested), key);
      ondemand::value value = field.value();
      ondemand::json_type type;
      if (auto error = value.type().get(type))
        return error;
      if (type == ondemand::json_type::object) {
        if (nested >= 0 || slot.kind != KeyTable::Kind::record)
          continue;
        ondemand::object child;
        if (auto error = value.get_object().get(child))
          return error;
        if (auto error = walk(child, record, slot.index))
          return error;
      } else if (type == ondemand::json_type::array) {
        if (slot.kind != KeyTable::Kind::list)
          continue;
        ondemand::array array;
        if (auto error = value.get_array().get(array))
          return error;
        if (auto error = read_list(array, static_cast<ListField>(slot.index), record))
          return error;
      } else if (slot.kind == KeyTable::Kind::scalar) {
        if (auto error = scalar_text(value, type, record, record[static_cast<Field>(slot.index)]))
          return error;
      }
    }
    return simdjson::SUCCESS;
  }

  simdjson::error_code read_list(ondemand::array& array, ListField list, BillingRecord& record) {
    for (auto element_result : array) {
      ondemand::object element;
      if (auto error = element_result.get_object().get(element))
        return error;
      record.add_element(list);
      for (auto field_result : element) {
        ondemand::field field;
        if (auto error = std::move(field_result).get(field))
          return error;
        std::string_view key;
        if (auto error = field_key(field, key))
          return error;
        key_.assign(key);
        ondemand::value value = field.value();
        ondemand::json_type type;
        if (auto error = value.type().get(type))
          return error;
        if (type == ondemand::json_type::object || type == ondemand::json_type::array)
          continue; // nested values of an element are not used
        std::string_view text;
        if (auto error = scalar_text(value, type, record, text))
          return error;
        record.set_element_field(list, key_, text);
      }
    }
    return simdjson::SUCCESS;
  }

  const KeyTable& keys_;
  Decode decode_;
  std::string key_;
};

// NDJSON read record by record: the SDK's splitter finds each record, which is copied into a
// padded buffer and parsed alone. Every error is exact (the splitter's own, naming the line, or
// the record's), which is why the batch reader below hands a file over to this one at the first
// record it cannot take as it is.
class RecordByRecordNdjson {
public:
  explicit RecordByRecordNdjson(std::unique_ptr<ByteSource> bytes, Decode decode)
      : reader_(std::move(bytes), JsonLayout::ndjson), decoder_(decode) {}

  Result<bool> next(BillingRecord& record, std::string& malformed) {
    std::string_view text;
    Result<bool> more = reader_.next(text);
    if (!more || !*more)
      return more;
    padded_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), text.data(), text.size());
    decoder_.decode(parser_.iterate(padded_.data(), text.size(), padded_.size()), record,
                    malformed);
    return true;
  }

  std::uint64_t line() const noexcept { return reader_.line(); }
  std::uint64_t position() const { return reader_.position(); }
  std::uint64_t total() const { return reader_.total(); }

private:
  JsonRecordReader reader_;
  NdjsonRecordDecoder decoder_;
  ondemand::parser parser_;
  std::string padded_;
};

// The parts of a stream given by `ranges`, back to back; everything else is read and dropped.
// Bytes beyond the last range are not read at all.
class RangeSource final : public ByteSource {
public:
  RangeSource(std::unique_ptr<ByteSource> inner, std::vector<ByteRange> ranges)
      : inner_(std::move(inner)), ranges_(std::move(ranges)) {}

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    while (next_ < ranges_.size()) {
      const ByteRange& range = ranges_[next_];
      if (at_ >= range.end) {
        ++next_;
        continue;
      }
      const bool skipping = at_ < range.begin;
      const std::uint64_t wanted = skipping ? range.begin - at_ : range.end - at_;
      char* into = skipping ? scratch_.data() : buffer;
      const std::size_t room = skipping ? scratch_.size() : capacity;
      Result<std::size_t> got =
          inner_->read(into, static_cast<std::size_t>(std::min<std::uint64_t>(wanted, room)));
      if (!got)
        return got;
      if (*got == 0)
        return std::size_t{0};
      at_ += *got;
      if (!skipping)
        return got;
    }
    return std::size_t{0};
  }
  const std::string& name() const override { return inner_->name(); }
  std::uint64_t position() const override { return inner_->position(); }
  std::uint64_t total() const override { return inner_->total(); }

private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<ByteRange> ranges_;
  std::size_t next_ = 0;
  std::uint64_t at_ = 0; // offset in the inner stream
  std::vector<char> scratch_ = std::vector<char>(std::size_t{1} << 20);
};

// The same for a file that is not gzip: the parts between the ranges are not read at all
// (pread at each range), so that reading one month of a year's extract costs that month.
class FileRangeSource final : public ByteSource {
public:
  FileRangeSource(int fd, std::string name, std::uint64_t total, std::vector<ByteRange> ranges)
      : fd_(fd), name_(std::move(name)), total_(total), ranges_(std::move(ranges)) {}
  ~FileRangeSource() override { ::close(fd_); }
  FileRangeSource(const FileRangeSource&) = delete;
  FileRangeSource& operator=(const FileRangeSource&) = delete;

  static Result<std::unique_ptr<ByteSource>> open(const std::filesystem::path& path,
                                                  std::vector<ByteRange> ranges) {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
      return source_error(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      ::close(fd);
      return source_error(path.string() + ": cannot open: not a regular file");
    }
    return std::unique_ptr<ByteSource>(std::make_unique<FileRangeSource>(
        fd, path.string(), static_cast<std::uint64_t>(info.st_size), std::move(ranges)));
  }

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    while (next_ < ranges_.size()) {
      const ByteRange& range = ranges_[next_];
      at_ = std::max(at_, range.begin);
      const std::uint64_t end = std::min(range.end, total_);
      if (at_ >= end) {
        ++next_;
        continue;
      }
      const std::size_t wanted =
          static_cast<std::size_t>(std::min<std::uint64_t>(end - at_, capacity));
      const ssize_t got = ::pread(fd_, buffer, wanted, static_cast<off_t>(at_));
      if (got < 0) {
        if (errno == EINTR)
          continue;
        return source_error(name_ + ": read failed: " + std::strerror(errno));
      }
      if (got == 0) // the file is shorter than when it was scanned
        return std::size_t{0};
      at_ += static_cast<std::uint64_t>(got);
      return static_cast<std::size_t>(got);
    }
    return std::size_t{0};
  }
  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return at_; }
  std::uint64_t total() const override { return total_; }

private:
  int fd_;
  std::string name_;
  std::uint64_t total_;
  std::vector<ByteRange> ranges_;
  std::size_t next_ = 0;
  std::uint64_t at_ = 0;
};

// NDJSON read a batch of whole lines at a time: simdjson's iterate_many finds the records of the
// batch in one stage-1 pass over it, with no copy per record and no separate splitter. Line
// numbers are counted from the records' byte offsets. The first record that is not a plain
// object on a line of its own (invalid JSON, a value that is not an object, two values on one
// line, a record longer than the buffer) hands the rest of the file to RecordByRecordNdjson,
// reopened and advanced to that record's line, so that every error reads exactly as that reader
// gives it.
class NdjsonExportFile final : public ExportFile {
public:
  NdjsonExportFile(const std::filesystem::path& path, std::unique_ptr<ByteSource> bytes,
                   Decode decode, const std::vector<ByteRange>& ranges)
      : ExportFile(path), path_(path), bytes_(std::move(bytes)), decode_(decode), decoder_(decode),
        plain_(key_table(decode)) {
    parser_.threaded = false; // one batch at a time; the read-ahead thread already inflates
    // Where each range starts in the stream of ranges, and on which line of the file.
    std::uint64_t at = 0;
    for (const ByteRange& range : ranges) {
      marks_.push_back({at, range.line});
      at += range.end - range.begin;
    }
    bom_checked_ = !ranges.empty(); // a range starts at a record
  }

  Result<bool> next(BillingRecord& record, std::string& malformed) override {
    for (;;) {
      if (fallback_)
        return next_record_by_record(record, malformed);
      if (in_plain_) {
        if (Result<bool> plain = next_plain(record, malformed); !plain || *plain)
          return plain;
        continue;
      }
      if (in_batch_) {
        if (it_ != stream_.end()) {
          const std::size_t offset = it_.current_index();
          count_lines_to(offset);
          if (it_.error() || !starts_line(offset))
            return hand_over(record, malformed);
          decoder_.decode(*it_, record, malformed);
          if (!malformed.empty())
            return hand_over(record, malformed);
          // The next record must start a line of its own: checked before this one is returned,
          // as RecordByRecordNdjson fails on this one when it does not.
          ++it_;
          if (it_ != stream_.end() && (it_.error() || !starts_line(it_.current_index())))
            return hand_over(record, malformed);
          record_offset_ = stream_offset_ + offset;
          record_read(line_);
          return true;
        }
        in_batch_ = false;
        if (stream_.truncated_bytes() != 0) {
          count_lines_to(batch_size_ - stream_.truncated_bytes());
          return hand_over(record, malformed);
        }
        count_lines_to(batch_size_);
        consume_batch();
      }
      Result<bool> started = start_batch();
      if (!started)
        return std::move(started).error();
      if (fallback_)
        return next_record_by_record(record, malformed);
      if (!*started) {
        if (!pending_error_)
          return false;
        return *std::exchange(pending_error_, std::nullopt);
      }
    }
  }

  std::uint64_t line() const noexcept override { return fallback_ ? fallback_->line() : line_; }
  std::uint64_t position() const override {
    return fallback_ ? fallback_->position() : bytes_->position();
  }
  std::uint64_t total() const override { return fallback_ ? fallback_->total() : bytes_->total(); }
  std::optional<std::uint64_t> record_offset() const override {
    if (fallback_ || !marks_.empty())
      return std::nullopt;
    return record_offset_;
  }

private:
  static constexpr std::size_t block = std::size_t{1} << 20;
  // Whole lines parsed per iterate_many. Batches of 128 KiB and 256 KiB (which, with their
  // structural indexes, fit a core's L2 cache) measured no faster than 1 MiB.
  static constexpr std::size_t batch_bytes = std::size_t{1} << 20;
  // Beyond this a line is left to RecordByRecordNdjson, which names it as too large.
  static constexpr std::size_t max_batch = std::size_t{64} << 20;

  struct LineMark {
    std::uint64_t offset; // in the stream read
    std::uint64_t line;   // of the file, at that offset
  };

  const char* batch() const noexcept { return buffer_.data() + begin_; }

  // Whether only blanks separate the batch's byte at `offset` from the previous line end (or the
  // start of the batch, which starts a line).
  bool starts_line(std::size_t offset) const noexcept {
    const char* data = batch();
    while (offset > 0) {
      const char c = data[--offset];
      if (c == '\n')
        return true;
      if (!is_blank(c))
        return false;
    }
    return true;
  }

  // Moves line_ to the line of the batch's byte at `offset` (at or after counted_).
  void count_lines_to(std::size_t offset) noexcept {
    while (next_mark_ < marks_.size() && marks_[next_mark_].offset <= stream_offset_ + offset) {
      line_ = marks_[next_mark_].line;
      counted_ = static_cast<std::size_t>(marks_[next_mark_].offset - stream_offset_);
      ++next_mark_;
    }
    // Records are a line each: memchr finds the one line end in a few vector steps.
    const char* end = batch() + offset;
    for (const char* p = batch() + counted_;
         (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))));
         ++p)
      ++line_;
    counted_ = offset;
  }

  // Starts iterating over the next batch of whole lines (or the rest of the file), reading more
  // when fewer than a batch's worth are left. False at the end of the file (or where it failed:
  // pending_error_), or when the file was handed over.
  Result<bool> start_batch() {
    if (!eof_ && size_ - begin_ < batch_bytes) {
      compact();
      while (!eof_ && size_ < block)
        read_block();
    }
    if (!bom_checked_) {
      bom_checked_ = true;
      if (size_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
        begin_ = 3;
        stream_offset_ = 3;
      }
    }
    std::size_t lines = 0;
    for (;;) {
      const char* data = batch();
      const std::size_t available = size_ - begin_;
      if (available == 0)
        return false;
      // Up to the last line end within batch_bytes, else the first after.
      const std::size_t head = std::min(available, batch_bytes);
      const char* end = static_cast<const char*>(memrchr(data, '\n', head));
      if (end == nullptr && available > head)
        end = static_cast<const char*>(std::memchr(data + head, '\n', available - head));
      if (end != nullptr) {
        lines = static_cast<std::size_t>(end - data) + 1;
        break;
      }
      if (eof_) {
        lines = available;
        break;
      }
      if (available > max_batch)
        return hand_over_at_batch();
      compact();
      read_block(); // a line longer than the buffer
    }
    batch_size_ = lines;
    counted_ = 0;
    plain_at_ = 0;
    in_plain_ = true;
    return true;
  }

  // The next record of the batch read by the plain scanner (true), or false when the batch is
  // done or simdjson takes it over from its next record on (next() goes on either way).
  Result<bool> next_plain(BillingRecord& record, std::string& malformed) {
    const char* data = batch();
    std::size_t at = plain_at_;
    while (at < batch_size_ && is_json_space(data[at]))
      ++at;
    if (at == batch_size_) {
      in_plain_ = false;
      count_lines_to(batch_size_);
      consume_batch();
      return false;
    }
    // The buffer holds SIMDJSON_PADDING (more than the scanner's 16) bytes beyond size_.
    if (const std::size_t length = plain_.scan(data + at, batch_size_ - at, record)) {
      // Like the batch path, the next record must start a line of its own.
      std::size_t after = at + length;
      while (after < batch_size_ && is_blank(data[after]))
        ++after;
      if (after == batch_size_ || data[after] == '\n') {
        malformed.clear();
        count_lines_to(at);
        record_offset_ = stream_offset_ + at;
        record_read(line_);
        plain_at_ = after;
        return true;
      }
    }
    // Not plain: simdjson reads the rest of the batch from this record, which starts a line
    // (only blanks stand between it and the previous record's line end).
    in_plain_ = false;
    count_lines_to(at);
    begin_ += at;
    stream_offset_ += at;
    batch_size_ -= at;
    counted_ = 0;
    if (Result<bool> started = start_simdjson(); !started)
      return started; // the file failed as it was handed over
    return false;
  }

  // Starts simdjson's iteration over the batch; false when it cannot and the file was handed
  // over.
  Result<bool> start_simdjson() {
    // The buffer always holds SIMDJSON_PADDING bytes beyond size_.
    simdjson::error_code error = parser_
                                     .iterate_many(reinterpret_cast<const std::uint8_t*>(batch()),
                                                   batch_size_, std::max(batch_size_, batch_bytes))
                                     .get(stream_);
    if (!error) {
      it_ = stream_.begin();
      in_batch_ = true;
      return true;
    }
    return hand_over_at_batch();
  }

  // Moves the unread bytes to the front of the buffer.
  void compact() noexcept {
    if (begin_ == 0)
      return;
    std::memmove(buffer_.data(), batch(), size_ - begin_);
    size_ -= begin_;
    begin_ = 0;
  }

  // Appends a block of the file to the buffer (compacted). Where the file fails, the records
  // before are still returned, the partial line after them is not (as RecordByRecordNdjson does).
  void read_block() {
    if (buffer_.size() < size_ + block + simdjson::SIMDJSON_PADDING)
      buffer_.resize(size_ + block + simdjson::SIMDJSON_PADDING);
    Result<std::size_t> got = bytes_->read(buffer_.data() + size_, block);
    if (!got) {
      pending_error_ = std::move(got).error();
      eof_ = true;
      const char* end = static_cast<const char*>(memrchr(buffer_.data(), '\n', size_));
      size_ = end == nullptr ? 0 : static_cast<std::size_t>(end - buffer_.data()) + 1;
      return;
    }
    eof_ = *got == 0;
    size_ += *got;
  }

  // Moves past the batch just iterated.
  void consume_batch() noexcept {
    begin_ += batch_size_;
    stream_offset_ += batch_size_;
    batch_size_ = 0;
  }

  Result<bool> hand_over_at_batch() {
    count_lines_to(0);
    if (Status status = fall_back(); !status)
      return status.error();
    return false;
  }

  Result<bool> hand_over(BillingRecord& record, std::string& malformed) {
    if (Status status = fall_back(); !status)
      return status.error();
    return next_record_by_record(record, malformed);
  }

  // Reopens the whole file record by record and skips the records before line_, which were
  // returned already (or, in a read of some ranges, lie outside them: records of other months,
  // which the caller skips anyway).
  Status fall_back() {
    in_plain_ = false;
    in_batch_ = false;
    pending_error_.reset();
    Result<std::unique_ptr<ByteSource>> reopened = open_file(path_);
    if (!reopened)
      return std::move(reopened).error();
    fallback_ = std::make_unique<RecordByRecordNdjson>(read_ahead(std::move(*reopened)), decode_);
    resume_line_ = line_;
    bytes_.reset();
    buffer_ = {};
    return {};
  }

  Result<bool> next_record_by_record(BillingRecord& record, std::string& malformed) {
    for (;;) {
      Result<bool> more = fallback_->next(record, malformed);
      if (!more || !*more)
        return more;
      if (fallback_->line() < resume_line_)
        continue;
      resume_line_ = 0;
      record_read(fallback_->line());
      return true;
    }
  }

  std::filesystem::path path_;
  std::unique_ptr<ByteSource> bytes_;
  Decode decode_;
  NdjsonRecordDecoder decoder_;
  PlainRecordScanner plain_;
  ondemand::parser parser_;
  ondemand::document_stream stream_;
  ondemand::document_stream::iterator it_;
  std::vector<char> buffer_;
  std::size_t size_ = 0;            // bytes in buffer_
  std::size_t begin_ = 0;           // where the batch starts in buffer_
  std::size_t batch_size_ = 0;      // the whole lines being iterated, from begin_
  std::size_t counted_ = 0;         // line_ counts the line ends before this offset of the batch
  std::uint64_t stream_offset_ = 0; // of the batch's first byte in the stream read
  std::uint64_t line_ = 1;          // the line at offset counted_
  std::uint64_t record_offset_ = 0;
  std::vector<LineMark> marks_; // a read of ranges: where each starts
  std::size_t next_mark_ = 0;
  bool eof_ = false;
  bool bom_checked_ = false;
  bool in_plain_ = false;    // the plain scanner reads the batch from plain_at_
  std::size_t plain_at_ = 0; // in the batch
  bool in_batch_ = false;    // simdjson reads the batch
  std::optional<Error> pending_error_;
  std::unique_ptr<RecordByRecordNdjson> fallback_;
  std::uint64_t resume_line_ = 0; // the fallback returns records from this line on
};

} // namespace

void decode_ndjson_record(std::string_view text, Decode decode, std::string& buffer,
                          BillingRecord& record, std::string& malformed) {
  buffer.assign(text);
  buffer.resize(text.size() + simdjson::SIMDJSON_PADDING);
  ondemand::parser parser;
  NdjsonRecordDecoder(decode).decode(parser.iterate(buffer.data(), text.size(), buffer.size()),
                                     record, malformed);
}

Result<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "auto")
    return ExportFormat::automatic;
  if (text == "ndjson" || text == "json")
    return ExportFormat::ndjson;
  if (text == "csv")
    return ExportFormat::csv;
  return config_error("format \"" + std::string(text) + "\" is not one of auto, ndjson, csv");
}

bool is_export_file_name(std::string_view name) {
  const std::string base = base_name(std::filesystem::path(name));
  return ends_with(base, ".csv") || ends_with(base, ".json") || ends_with(base, ".ndjson") ||
         ends_with(base, ".jsonl");
}

Result<std::unique_ptr<ExportFile>> ExportFile::open(const std::filesystem::path& path,
                                                     ExportFormat format, Decode decode,
                                                     std::vector<ByteRange> ranges) {
  Result<std::unique_ptr<ByteSource>> bytes = open_file(path);
  if (!bytes)
    return std::move(bytes).error();
  if (format == ExportFormat::automatic) {
    const std::string base = base_name(path);
    if (ends_with(base, ".csv"))
      format = ExportFormat::csv;
    else if (ends_with(base, ".json") || ends_with(base, ".ndjson") || ends_with(base, ".jsonl"))
      format = ExportFormat::ndjson;
  }
  if (format == ExportFormat::automatic) {
    // Sniff the first byte of a file with an unknown extension: NDJSON records open with '{'.
    Result<std::unique_ptr<ByteSource>> probe = open_file(path);
    if (!probe)
      return std::move(probe).error();
    char first = 0;
    Result<std::size_t> got = (*probe)->read(&first, 1);
    if (!got)
      return std::move(got).error();
    format = *got == 1 && first == '{' ? ExportFormat::ndjson : ExportFormat::csv;
  }
  if (format == ExportFormat::ndjson) {
    std::unique_ptr<ByteSource> source = std::move(*bytes);
    if (!ranges.empty()) {
      // A plain file is read only at its ranges; a gzip one is inflated through and the rest
      // dropped.
      Result<std::unique_ptr<ByteSource>> raw = open_file(path, Compression::none);
      if (!raw)
        return std::move(raw).error();
      char magic[2] = {0, 0};
      Result<std::size_t> got = (*raw)->read(magic, 2);
      if (!got)
        return std::move(got).error();
      if (*got == 2 && magic[0] == '\x1f' && magic[1] == '\x8b') {
        source = std::make_unique<RangeSource>(std::move(source), ranges);
      } else {
        Result<std::unique_ptr<ByteSource>> plain = FileRangeSource::open(path, ranges);
        if (!plain)
          return std::move(plain).error();
        source = std::move(*plain);
      }
    }
    // Inflating (and skipping) on a second core while parsing: gzip costs about as much as
    // parsing.
    return std::unique_ptr<ExportFile>(
        std::make_unique<NdjsonExportFile>(path, read_ahead(std::move(source)), decode, ranges));
  }
  // Inflating and parsing on two cores: gzip costs about as much as parsing.
  std::unique_ptr<ByteSource> source = read_ahead(std::move(*bytes));
  auto csv = std::make_unique<CsvExportFile>(path, std::move(source), decode);
  if (Status status = csv->read_header(); !status)
    return status.error();
  return std::unique_ptr<ExportFile>(std::move(csv));
}

} // namespace billdrop::gcp
