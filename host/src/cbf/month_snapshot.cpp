#include "cbf/month_snapshot.hpp"

#include "cbf/json_writer.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unistd.h>

namespace billdrop::cbf {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kHoursPerMonth = 31 * 24;
// At most this many runs are open at once; more are first merged into bigger runs, which keeps
// file descriptors and read buffers bounded whatever the input size.
constexpr std::size_t kMergeFanIn = 64;
constexpr std::size_t kReadBufferBytes = 256 * 1024;
constexpr std::size_t kWriteBufferBytes = 1024 * 1024;
constexpr std::size_t kMinBlockBytes = 64 * 1024;
constexpr std::size_t kMaxBlockBytes = 4 * 1024 * 1024;
constexpr std::string_view kRunDirectory = ".runs";
constexpr std::string_view kUsageStartPrefix = "{\"time/usage_start\":\"";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"

std::atomic<std::uint64_t> next_builder_id{0};

Error file_error(std::string_view action, const fs::path& file, int error_number) {
  return source_error("cannot " + std::string(action) + " " + file.string() + ": " +
                      std::strerror(error_number));
}

std::string hour_key(const Month& month, std::uint32_t hour) {
  const UtcTime time{month.first_instant().seconds + static_cast<std::int64_t>(hour) * 3600};
  return format_iso(time).substr(0, kHourKeyLength);
}

struct DigestDeleter {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

Digest new_sha256() {
  Digest digest(EVP_MD_CTX_new());
  if (!digest || EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr) != 1)
    throw ErrorException(internal_error("OpenSSL could not start a SHA-256 digest"));
  return digest;
}

std::string finish_hex(EVP_MD_CTX* digest) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(digest, bytes.data(), &length) != 1)
    throw ErrorException(internal_error("OpenSSL could not finish a SHA-256 digest"));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 0xF];
  }
  return hex;
}

// A file written through large buffers; the digest (when given) sees exactly the bytes written.
// With `background`, a second thread hashes and writes each full buffer while the caller fills
// the next one: a month snapshot is hundreds of megabytes, and SHA-256 plus the write syscalls
// cost about as much as producing the bytes.
class OutputFile {
public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    stop_writer();
    if (file_ != nullptr)
      std::fclose(file_);
  }

  Status open(const fs::path& path, EVP_MD_CTX* digest = nullptr, bool background = false) {
    path_ = path;
    digest_ = digest;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr)
      return file_error("create", path, errno);
    buffer_.reserve(kWriteBufferBytes);
    if (background)
      writer_ = std::thread([this] { write_queued(); });
    return {};
  }

  void write(std::string_view bytes) {
    if (buffer_.size() + bytes.size() > kWriteBufferBytes)
      flush();
    if (bytes.size() > kWriteBufferBytes) {
      wait_idle();
      write_through(bytes);
    } else {
      buffer_.append(bytes);
    }
  }

  Status close() {
    if (file_ == nullptr)
      return {};
    flush();
    stop_writer();
    const int result = std::fclose(file_);
    file_ = nullptr;
    if (error_ != 0)
      return file_error("write", path_, error_);
    if (result != 0)
      return file_error("write", path_, errno);
    return {};
  }

private:
  void flush() {
    if (!writer_.joinable()) {
      write_through(buffer_);
      buffer_.clear();
      return;
    }
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return !pending_; }); // one buffer in flight: double buffering
    std::swap(buffer_, in_flight_);
    pending_ = true;
    lock.unlock();
    ready_.notify_one();
    buffer_.clear();
    if (buffer_.capacity() < kWriteBufferBytes)
      buffer_.reserve(kWriteBufferBytes);
  }
  void wait_idle() {
    if (!writer_.joinable())
      return;
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return !pending_; });
  }
  void stop_writer() {
    if (!writer_.joinable())
      return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    writer_.join();
  }
  void write_queued() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [&] { return pending_ || stopping_; });
      if (!pending_)
        return;
      lock.unlock();
      write_through(in_flight_); // only this thread touches in_flight_ while pending_
      lock.lock();
      pending_ = false;
      idle_.notify_all();
    }
  }
  void write_through(std::string_view bytes) {
    if (bytes.empty())
      return;
    if (digest_ != nullptr)
      EVP_DigestUpdate(digest_, bytes.data(), bytes.size());
    if (error_ == 0 && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
      error_ = errno != 0 ? errno : EIO;
  }

  fs::path path_;
  std::FILE* file_ = nullptr;
  EVP_MD_CTX* digest_ = nullptr;
  std::string buffer_;
  int error_ = 0; // written by whichever thread writes; read after the writer has stopped

  std::thread writer_;
  std::mutex mutex_;
  std::condition_variable ready_; // a buffer is pending, or stopping
  std::condition_variable idle_;  // the pending buffer was written
  std::string in_flight_;
  bool pending_ = false;
  bool stopping_ = false;
};

// One row on its way through a merge: its hour of the month and its JSON.
struct Record {
  std::uint32_t hour = 0;
  std::string_view json;
};

class RecordSource {
public:
  virtual ~RecordSource() = default;
  // The next record (its JSON valid until the next call), or false at the end.
  virtual Result<bool> next(Record& record) = 0;
};

// Run files hold records as [u32 length][u32 hour][length bytes of JSON], in this process's byte
// order: they never outlive the builder that wrote them.
void write_run_record(OutputFile& out, std::uint32_t hour, std::string_view json) {
  std::array<char, 8> header{};
  const auto length = static_cast<std::uint32_t>(json.size());
  std::memcpy(header.data(), &length, 4);
  std::memcpy(header.data() + 4, &hour, 4);
  out.write(std::string_view(header.data(), header.size()));
  out.write(json);
}

class RunReader final : public RecordSource {
public:
  ~RunReader() override {
    if (file_ != nullptr)
      std::fclose(file_);
  }

  Status open(const fs::path& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr)
      return file_error("open", path, errno);
    buffer_.resize(kReadBufferBytes);
    return {};
  }

  Result<bool> next(Record& record) override {
    Result<bool> header = fill(8);
    if (!header)
      return header.error();
    if (!*header) {
      if (end_ == begin_)
        return false;
      return truncated();
    }
    std::uint32_t length = 0;
    std::memcpy(&length, buffer_.data() + begin_, 4);
    std::memcpy(&record.hour, buffer_.data() + begin_ + 4, 4);
    Result<bool> body = fill(8 + static_cast<std::size_t>(length));
    if (!body)
      return body.error();
    if (!*body)
      return truncated();
    record.json = std::string_view(buffer_.data() + begin_ + 8, length);
    begin_ += 8 + static_cast<std::size_t>(length);
    return true;
  }

private:
  Error truncated() const {
    return internal_error("the spill run " + path_.string() + " ends in the middle of a row");
  }

  // Makes at least `wanted` unread bytes available; false when the file ends first.
  Result<bool> fill(std::size_t wanted) {
    while (end_ - begin_ < wanted) {
      if (eof_)
        return false;
      if (begin_ != 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buffer_.size() < wanted)
        buffer_.resize(wanted);
      const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
      if (got == 0) {
        if (std::ferror(file_))
          return file_error("read", path_, errno);
        eof_ = true;
      }
      end_ += got;
    }
    return true;
  }

  fs::path path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
};

// Merges sources by hour. Ties go to the lower source index, so with sources in arrival order
// (oldest run first, the in-memory rows last) rows of one hour keep their arrival order.
Status merge(std::vector<std::unique_ptr<RecordSource>>& sources,
             const std::function<void(const Record&)>& sink) {
  using Head = std::pair<std::uint32_t, std::size_t>; // hour, source index
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<Record> current(sources.size());
  auto advance = [&](std::size_t index) -> Status {
    Result<bool> more = sources[index]->next(current[index]);
    if (!more)
      return more.error();
    if (*more)
      heads.emplace(current[index].hour, index);
    return {};
  };
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (Status status = advance(i); !status)
      return status;
  while (!heads.empty()) {
    const std::size_t index = heads.top().second;
    heads.pop();
    sink(current[index]);
    if (Status status = advance(index); !status)
      return status;
  }
  return {};
}

// A row held in memory: its JSON (in one of the month's blocks) and its hour of the month.
struct BufferedRow {
  const char* data;
  std::uint32_t length;
  std::uint32_t hour; // 0..743
};

class MemorySource final : public RecordSource {
public:
  explicit MemorySource(std::vector<BufferedRow> rows) : rows_(std::move(rows)) {}

  Result<bool> next(Record& record) override {
    if (position_ == rows_.size())
      return false;
    const BufferedRow& row = rows_[position_++];
    record.hour = row.hour;
    record.json = std::string_view(row.data, row.length);
    return true;
  }

private:
  std::vector<BufferedRow> rows_;
  std::size_t position_ = 0;
};

Result<std::vector<std::unique_ptr<RecordSource>>> open_runs(std::span<const fs::path> files) {
  std::vector<std::unique_ptr<RecordSource>> sources;
  for (const fs::path& file : files) {
    auto reader = std::make_unique<RunReader>();
    if (Status status = reader->open(file); !status)
      return status.error();
    sources.push_back(std::move(reader));
  }
  return sources;
}

} // namespace

// One month's rows: those still in memory (JSON in fixed-size blocks plus an index), the runs
// already spilled, and totals. Totals are kept as rows arrive because sums do not depend on order.
// Blocks never move, so buffering copies each row once; after a spill they go back to the
// builder's pool and are reused, so memory is not faulted in again for every run.
struct SnapshotBuilder::MonthBuffer {
  using Entry = BufferedRow;

  explicit MonthBuffer(Month m) : month(m), hours(kHoursPerMonth) {}

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
    std::size_t used = 0;
  };

  // Room for `length` bytes, from the last block, a pooled block or a new one.
  char* allocate(std::size_t length, std::vector<std::unique_ptr<char[]>>& pool,
                 std::size_t block_size) {
    if (length > block_size) { // an outsized row gets a block of its own
      blocks.push_back({std::make_unique_for_overwrite<char[]>(length), length, length});
      return blocks.back().data.get();
    }
    if (blocks.empty() || blocks.back().size - blocks.back().used < length) {
      Block block{nullptr, block_size, 0};
      if (!pool.empty()) {
        block.data = std::move(pool.back());
        pool.pop_back();
      } else {
        block.data = std::make_unique_for_overwrite<char[]>(block_size);
      }
      blocks.push_back(std::move(block));
    }
    Block& block = blocks.back();
    char* at = block.data.get() + block.used;
    block.used += length;
    return at;
  }

  void add(const NormalizedRow& row, std::uint32_t hour, std::vector<std::unique_ptr<char[]>>& pool,
           std::size_t block_size) {
    char* data = allocate(row.json.size(), pool, block_size);
    std::memcpy(data, row.json.data(), row.json.size());
    entries.push_back({data, static_cast<std::uint32_t>(row.json.size()), hour});
    ++rows;
    json_bytes += row.json.size();
    try {
      cost += row.cost;
      HourTotals& totals = hours[hour];
      ++totals.rows;
      totals.cost += row.cost;
      type_total(row.lineitem_type.empty() ? kLineItemTypes[0] : row.lineitem_type) += row.cost;
    } catch (const DecimalOverflow&) {
      throw ErrorException(data_error("the cost/cost total of " + month.to_string() +
                                      " needs more than " + std::to_string(Decimal::max_digits) +
                                      " digits; billdrop does not round money"));
    }
  }

  Decimal& type_total(std::string_view type) {
    for (auto& [name, total] : cost_by_type)
      if (name == type)
        return total;
    return cost_by_type.emplace_back(std::string(type), Decimal()).second;
  }

  // The in-memory entries in hour order, arrival order within an hour (a counting sort: there
  // are at most 744 hours, and it is stable by construction).
  std::vector<Entry> sorted_entries() const {
    std::array<std::size_t, kHoursPerMonth + 1> starts{};
    for (const Entry& entry : entries)
      ++starts[entry.hour + 1];
    for (std::size_t h = 1; h < starts.size(); ++h)
      starts[h] += starts[h - 1];
    std::vector<Entry> sorted(entries.size());
    for (const Entry& entry : entries)
      sorted[starts[entry.hour]++] = entry;
    return sorted;
  }

  void release_blocks(std::vector<std::unique_ptr<char[]>>& pool, std::size_t block_size) {
    for (Block& block : blocks)
      if (block.size == block_size)
        pool.push_back(std::move(block.data));
    blocks.clear();
    entries.clear();
  }

  Status write_run(const fs::path& path) {
    OutputFile out;
    if (Status status = out.open(path, nullptr, true); !status)
      return status;
    runs.push_back(path);
    for (const Entry& entry : sorted_entries())
      write_run_record(out, entry.hour, std::string_view(entry.data, entry.length));
    return out.close();
  }

  Month month;
  std::vector<Block> blocks;
  std::vector<Entry> entries;
  std::vector<fs::path> runs;
  std::uint64_t rows = 0;
  std::uint64_t json_bytes = 0;
  Decimal cost;
  std::vector<std::pair<std::string, Decimal>> cost_by_type;
  std::vector<HourTotals> hours; // by hour of the month
};

SnapshotBuilder::SnapshotBuilder(Options options)
    : options_(std::move(options)), id_(next_builder_id++),
      block_size_(
          std::clamp<std::size_t>(options_.memory_budget / 16, kMinBlockBytes, kMaxBlockBytes)) {}

SnapshotBuilder::~SnapshotBuilder() {
  remove_runs();
}

fs::path SnapshotBuilder::next_run_path(const Month& month) {
  return options_.directory / kRunDirectory /
         (month.to_string() + "-" + std::to_string(::getpid()) + "-" + std::to_string(id_) + "-" +
          std::to_string(next_run_++) + ".run");
}

void SnapshotBuilder::add(const NormalizedRow& row) {
  if (row.json.size() > UINT32_MAX)
    throw ErrorException(data_error("a row of " + std::to_string(row.json.size()) +
                                    " bytes is too large for a month snapshot"));
  // The month and hour come from the row's time, so a snapshot can never hold a row of another
  // month.
  const Month month = Month::of(row.time);
  const auto hour =
      static_cast<std::uint32_t>((row.time.hour_start() - month.first_instant().seconds) / 3600);
  std::unique_ptr<MonthBuffer>& buffer = months_[month];
  if (!buffer)
    buffer = std::make_unique<MonthBuffer>(month);
  buffer->add(row, hour, free_blocks_, block_size_);
  ++rows_;
  buffered_ += row.json.size() + sizeof(MonthBuffer::Entry);
  peak_buffered_ = std::max(peak_buffered_, buffered_);
  if (buffered_ > options_.memory_budget)
    spill();
}

void SnapshotBuilder::discard(const Month& month) {
  const auto it = months_.find(month);
  if (it == months_.end())
    return;
  MonthBuffer& buffer = *it->second;
  std::size_t bytes = 0;
  for (const MonthBuffer::Entry& entry : buffer.entries)
    bytes += entry.length + sizeof(MonthBuffer::Entry);
  buffered_ -= std::min(buffered_, bytes);
  rows_ -= buffer.rows;
  std::error_code ec;
  for (const fs::path& run : buffer.runs)
    fs::remove(run, ec);
  buffer.release_blocks(free_blocks_, block_size_);
  months_.erase(it);
}

void SnapshotBuilder::spill() {
  std::error_code ec;
  fs::create_directories(options_.directory / kRunDirectory, ec);
  if (ec)
    throw ErrorException(source_error("cannot create the spill directory " +
                                      (options_.directory / kRunDirectory).string() + ": " +
                                      ec.message()));
  for (auto& [month, buffer] : months_) {
    if (buffer->entries.empty())
      continue;
    if (Status status = buffer->write_run(next_run_path(month)); !status)
      throw ErrorException(status.error());
    buffer->release_blocks(free_blocks_, block_size_);
    ++spilled_runs_;
  }
  buffered_ = 0;
}

void SnapshotBuilder::remove_runs() noexcept {
  std::error_code ec;
  for (auto& [month, buffer] : months_) {
    for (const fs::path& run : buffer->runs)
      fs::remove(run, ec);
    buffer->runs.clear();
  }
  fs::remove(options_.directory / kRunDirectory, ec); // only when empty: another builder's runs
}

// Merges runs in consecutive groups (which keeps them in arrival order) until the rest fit one
// merge together with the in-memory rows.
Status SnapshotBuilder::reduce_runs(MonthBuffer& buffer) {
  std::error_code ec;
  while (buffer.runs.size() + 1 > kMergeFanIn) {
    std::vector<fs::path> merged_runs;
    for (std::size_t first = 0; first < buffer.runs.size(); first += kMergeFanIn) {
      const std::size_t count = std::min(kMergeFanIn, buffer.runs.size() - first);
      const std::span<const fs::path> group(buffer.runs.data() + first, count);
      if (count == 1) {
        merged_runs.push_back(group.front());
        continue;
      }
      auto sources = open_runs(group);
      if (!sources)
        return sources.error();
      const fs::path merged = next_run_path(buffer.month);
      OutputFile out;
      Status status = out.open(merged, nullptr, true);
      if (status)
        status = merge(*sources, [&](const Record& record) {
          write_run_record(out, record.hour, record.json);
        });
      if (Status closed = out.close(); status && !closed)
        status = closed;
      if (!status) {
        fs::remove(merged, ec);
        // Leave every remaining file listed, so remove_runs() cleans up.
        buffer.runs.insert(buffer.runs.end(), merged_runs.begin(), merged_runs.end());
        return status;
      }
      sources->clear();
      for (const fs::path& run : group)
        fs::remove(run, ec);
      merged_runs.push_back(merged);
    }
    // Every file is still accounted for: merged groups were removed only after their merge.
    buffer.runs = std::move(merged_runs);
  }
  return {};
}

Result<std::vector<MonthSummary>> SnapshotBuilder::finish() {
  std::vector<MonthSummary> summaries;
  try {
    std::error_code ec;
    fs::create_directories(options_.directory, ec);
    if (ec)
      return source_error("cannot create the snapshot directory " + options_.directory.string() +
                          ": " + ec.message());
    for (auto& [month, buffer] : months_) {
      MonthBuffer& b = *buffer;
      if (Status status = reduce_runs(b); !status)
        return status.error();

      MonthSummary summary;
      summary.month = month;
      summary.file = options_.directory / (month.to_string() + ".ndjson");
      const fs::path partial = fs::path(summary.file).concat(".partial");
      auto sources = open_runs(b.runs);
      if (!sources)
        return sources.error();
      if (!b.entries.empty())
        sources->push_back(std::make_unique<MemorySource>(b.sorted_entries()));
      Digest digest = new_sha256();
      OutputFile out;
      if (Status status = out.open(partial, digest.get(), true); !status)
        return status.error();
      std::uint64_t written = 0;
      Status status = merge(*sources, [&](const Record& record) {
        out.write(record.json);
        out.write("\n");
        ++written;
      });
      if (Status closed = out.close(); status && !closed)
        status = closed;
      if (!status) {
        fs::remove(partial, ec);
        return status.error();
      }
      if (written != b.rows) {
        fs::remove(partial, ec);
        return internal_error("the snapshot of " + month.to_string() + " has " +
                              std::to_string(written) + " rows but " + std::to_string(b.rows) +
                              " were added");
      }
      // Write-then-rename: a crash leaves the previous snapshot or the new one, never half.
      fs::rename(partial, summary.file, ec);
      if (ec)
        return source_error("cannot move " + partial.string() + " to " + summary.file.string() +
                            ": " + ec.message());

      summary.rows = b.rows;
      summary.json_bytes = b.json_bytes;
      summary.cost = b.cost;
      for (const auto& [type, total] : b.cost_by_type)
        summary.cost_by_type.emplace(type, total);
      for (std::uint32_t hour = 0; hour < kHoursPerMonth; ++hour)
        if (b.hours[hour].rows != 0)
          summary.hours.emplace(hour_key(month, hour), b.hours[hour]);
      summary.sha256 = finish_hex(digest.get());

      const fs::path summary_file = options_.directory / (month.to_string() + ".summary.json");
      const fs::path summary_partial = fs::path(summary_file).concat(".partial");
      OutputFile summary_out;
      if (Status opened = summary_out.open(summary_partial); !opened)
        return opened.error();
      summary_out.write(summary.to_json());
      summary_out.write("\n");
      if (Status closed = summary_out.close(); !closed)
        return closed.error();
      fs::rename(summary_partial, summary_file, ec);
      if (ec)
        return source_error("cannot move " + summary_partial.string() + " to " +
                            summary_file.string() + ": " + ec.message());
      summaries.push_back(std::move(summary));
    }
  } catch (const ErrorException& e) {
    remove_runs();
    return e.error();
  }
  remove_runs();
  months_.clear();
  buffered_ = 0;
  return summaries;
}

// ---- MonthSummary ----

namespace {

void append_decimal_string(std::string& out, const Decimal& value) {
  out.push_back('"');
  value.append_to(out);
  out.push_back('"');
}

// Paths are bytes on Linux; the JSON keeps them only when they are UTF-8.
void append_path(std::string& out, const fs::path& path) {
  const std::string text = path.string();
  if (is_valid_utf8(text)) {
    append_json_string(out, text);
  } else {
    std::string cleaned;
    for (char c : text)
      cleaned += static_cast<unsigned char>(c) < 0x80 ? c : '?';
    append_json_string(out, cleaned);
  }
}

Error summary_error(std::string_view what) {
  return data_error("the month summary is not valid: " + std::string(what));
}

Result<Decimal> decimal_value(simdjson::ondemand::value value, std::string_view name) {
  std::string_view text;
  if (value.get_string().get(text))
    return summary_error("\"" + std::string(name) + "\" must be a decimal string");
  Result<Decimal> number = Decimal::parse(text);
  if (!number)
    return summary_error("\"" + std::string(name) + "\": " + number.error().message());
  return number;
}

} // namespace

std::string MonthSummary::to_json() const {
  std::string json = "{\"month\":\"" + month.to_string() + "\",\"rows\":" + std::to_string(rows) +
                     ",\"json_bytes\":" + std::to_string(json_bytes) + ",\"cost\":";
  append_decimal_string(json, cost);
  json += ",\"cost_by_type\":{";
  bool first = true;
  for (const auto& [type, total] : cost_by_type) {
    if (!first)
      json += ',';
    first = false;
    append_json_string(json, type);
    json += ':';
    append_decimal_string(json, total);
  }
  json += "},\"hours\":{";
  first = true;
  for (const auto& [hour, totals] : hours) {
    if (!first)
      json += ',';
    first = false;
    append_json_string(json, hour);
    json += ":{\"rows\":" + std::to_string(totals.rows) + ",\"cost\":";
    append_decimal_string(json, totals.cost);
    json += '}';
  }
  json += "},\"sha256\":\"" + sha256 + "\",\"file\":";
  append_path(json, file);
  json += ",\"invalid_rows\":" + std::to_string(invalid_rows) +
          ",\"complete\":" + (complete ? "true" : "false") + '}';
  return json;
}

Result<MonthSummary> MonthSummary::from_json(std::string_view json) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) || document.get_object().get(object))
    return summary_error("expected a JSON object");
  MonthSummary summary;
  bool has_month = false;
  bool has_rows = false;
  bool has_cost = false;
  for (auto field : object) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value))
      return summary_error("malformed JSON");
    if (key == "month") {
      std::string_view text;
      if (value.get_string().get(text))
        return summary_error("\"month\" must be a string \"YYYY-MM\"");
      Result<Month> month = Month::parse(text);
      if (!month)
        return summary_error(month.error().message());
      summary.month = *month;
      has_month = true;
    } else if (key == "rows" || key == "json_bytes" || key == "invalid_rows") {
      std::uint64_t number = 0;
      if (value.get_uint64().get(number))
        return summary_error("\"" + std::string(key) + "\" must be a non-negative integer");
      (key == "rows"         ? summary.rows
       : key == "json_bytes" ? summary.json_bytes
                             : summary.invalid_rows) = number;
      has_rows = has_rows || key == "rows";
    } else if (key == "complete") {
      if (value.get_bool().get(summary.complete))
        return summary_error("\"complete\" must be true or false");
    } else if (key == "cost") {
      Result<Decimal> cost = decimal_value(value, "cost");
      if (!cost)
        return cost.error();
      summary.cost = *cost;
      has_cost = true;
    } else if (key == "cost_by_type") {
      simdjson::ondemand::object types;
      if (value.get_object().get(types))
        return summary_error("\"cost_by_type\" must be an object");
      for (auto entry : types) {
        std::string_view type;
        simdjson::ondemand::value total;
        if (entry.unescaped_key().get(type) || entry.value().get(total))
          return summary_error("malformed \"cost_by_type\"");
        std::string name(type);
        Result<Decimal> number = decimal_value(total, "cost_by_type." + name);
        if (!number)
          return number.error();
        summary.cost_by_type[std::move(name)] = *number;
      }
    } else if (key == "hours") {
      simdjson::ondemand::object hours;
      if (value.get_object().get(hours))
        return summary_error("\"hours\" must be an object");
      for (auto entry : hours) {
        std::string_view hour_text;
        simdjson::ondemand::object totals_object;
        if (entry.unescaped_key().get(hour_text) || entry.value().get_object().get(totals_object))
          return summary_error("each entry of \"hours\" must be {\"rows\":N,\"cost\":\"…\"}");
        std::string hour(hour_text);
        HourTotals totals;
        for (auto total_field : totals_object) {
          std::string_view total_key;
          simdjson::ondemand::value total_value;
          if (total_field.unescaped_key().get(total_key) || total_field.value().get(total_value))
            return summary_error("malformed \"hours\" entry " + hour);
          if (total_key == "rows") {
            if (total_value.get_uint64().get(totals.rows))
              return summary_error("\"hours\"." + hour + ".rows must be a non-negative integer");
          } else if (total_key == "cost") {
            Result<Decimal> number = decimal_value(total_value, "hours." + hour + ".cost");
            if (!number)
              return number.error();
            totals.cost = *number;
          }
        }
        summary.hours[std::move(hour)] = totals;
      }
    } else if (key == "sha256") {
      std::string_view text;
      if (value.get_string().get(text))
        return summary_error("\"sha256\" must be a hex string");
      summary.sha256 = std::string(text);
    } else if (key == "file") {
      std::string_view text;
      if (value.get_string().get(text))
        return summary_error("\"file\" must be a string");
      summary.file = fs::path(std::string(text));
    }
    // Other keys are ignored, so newer summaries stay readable.
  }
  if (!has_month || !has_rows || !has_cost)
    return summary_error("\"month\", \"rows\" and \"cost\" are required");
  return summary;
}

// ---- SnapshotReader ----

Result<SnapshotReader> SnapshotReader::open(const fs::path& file) {
  auto in = std::make_unique<std::ifstream>(file, std::ios::binary);
  if (!in->is_open())
    return file_error("open the snapshot", file, errno);
  return SnapshotReader(std::move(in));
}

bool SnapshotReader::next(std::string_view& json) {
  while (std::getline(*in_, line_)) {
    if (line_.empty())
      continue;
    json = line_;
    return true;
  }
  line_.clear();
  return false;
}

std::string_view SnapshotReader::hour() const noexcept {
  const std::string_view line = line_;
  if (line.starts_with(kUsageStartPrefix) &&
      line.size() >= kUsageStartPrefix.size() + kHourKeyLength)
    return line.substr(kUsageStartPrefix.size(), kHourKeyLength);
  // Not a snapshot line as billdrop writes it: look for the key anywhere.
  constexpr std::string_view key = "\"time/usage_start\":\"";
  const std::size_t at = line.find(key);
  if (at == std::string_view::npos || line.size() < at + key.size() + kHourKeyLength)
    return {};
  return line.substr(at + key.size(), kHourKeyLength);
}

} // namespace billdrop::cbf
