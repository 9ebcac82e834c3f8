#include "snapshot/month_snapshot.hpp"

#include "core/json_text.hpp"

#include <billdrop/text.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>

namespace billdrop::snapshot {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kHoursPerMonth = 31 * 24;
constexpr std::size_t kMinWriteBlock = 4 * 1024;
constexpr std::size_t kMaxWriteBlock = 1024 * 1024;
constexpr std::size_t kMaxQueuedBlocks = 4;
constexpr std::size_t kIndexReadEntries = 64 * 1024;
constexpr std::string_view kWorkDirectory = ".runs";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"

std::atomic<std::uint64_t> next_builder_id{0};

std::string hour_key(const Month& month, std::uint32_t hour) {
  const UtcTime time{month.first_instant().seconds + static_cast<std::int64_t>(hour) * 3600};
  return format_iso(time).substr(0, kHourKeyLength);
}

// Work files are named <YYYY-MM>-<pid>-<builder>.<kind>. Those of a process that no longer runs
// (killed, or crashed) are removed, so a month's worth of rows is not left behind for good.
void remove_stale_work_files(const fs::path& work_directory) noexcept {
  std::error_code ec;
  for (fs::directory_iterator it(work_directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < 10 || name[7] != '-')
      continue;
    const std::size_t pid_end = name.find('-', 8);
    if (pid_end == std::string::npos)
      continue;
    const long pid = std::strtol(name.c_str() + 8, nullptr, 10);
    if (pid <= 0 || pid == ::getpid())
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

// Creates `file` empty (truncating what a crashed run may have left under the same name).
Status create_empty(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return file_error("create", file, errno);
  ::close(fd);
  return {};
}

Status append_to_file(const fs::path& file, std::string_view bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return file_error("open", file, errno);
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR)
        continue;
      const int error = errno;
      ::close(fd);
      return file_error("write", file, error);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::close(fd) != 0)
    return file_error("write", file, errno);
  return {};
}

} // namespace

// Appends blocks to files on one background thread, in the order given, so that writing rows
// (the kernel copying them into the page cache) overlaps validating the next ones. At most a few
// blocks wait; append() blocks beyond that, which bounds the memory in flight.
class SnapshotBuilder::Writer {
public:
  Writer() {
    thread_ = std::thread([this] { run(); });
  }
  ~Writer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `block` for the end of `file` and leaves `block` empty, with a recycled buffer's
  // capacity. Returns the first write error so far (the block is then not queued).
  Status append(const fs::path& file, std::string& block) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return error_ || queue_.size() < kMaxQueuedBlocks; });
    if (error_)
      return *error_;
    queue_.push_back({file, std::move(block)});
    if (!spare_.empty()) {
      block = std::move(spare_.back());
      spare_.pop_back();
    } else {
      block = std::string();
    }
    block.clear();
    lock.unlock();
    wake_.notify_one();
    return {};
  }

  // Waits until everything queued is written; returns the first write error so far.
  Status wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return queue_.empty() && !busy_; });
    if (error_)
      return *error_;
    return {};
  }

private:
  struct Job {
    fs::path file;
    std::string bytes;
  };

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      Job job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      const bool failed = error_.has_value();
      lock.unlock();
      Status status;
      if (!failed) // after one failure the run is lost anyway: skip, but keep draining
        status = append_to_file(job.file, job.bytes);
      job.bytes.clear();
      lock.lock();
      busy_ = false;
      if (!status && !error_)
        error_ = status.error();
      if (spare_.size() < kMaxQueuedBlocks + 1)
        spare_.push_back(std::move(job.bytes));
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_; // a job is queued, or stopping
  std::condition_variable done_; // a job finished
  std::deque<Job> queue_;
  std::vector<std::string> spare_;
  std::optional<Error> error_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_; // last: it starts once the members above exist
};

// One month being built: its rows file (growing in the work directory), the index entries not yet
// spilled, and totals. Totals are kept as rows arrive because sums do not depend on order.
struct SnapshotBuilder::MonthBuffer {
  explicit MonthBuffer(Month m) : month(m), hours(kHoursPerMonth) {}

  std::uint64_t rows() const noexcept { return spilled_entries + entries.size(); }
  std::uint64_t json_bytes() const noexcept { return rows_bytes - rows(); } // without the '\n's

  Decimal& type_total(std::string_view type) {
    for (auto& [name, total] : cost_by_type)
      if (name == type)
        return total;
    return cost_by_type.emplace_back(std::string(type), Decimal()).second;
  }

  // Calls `visit` for every index entry in arrival order: the spilled ones, then those in memory.
  Status for_each_entry(const std::function<void(const IndexEntry&)>& visit) const {
    if (spilled_entries > 0) {
      std::FILE* file = std::fopen(index_run.c_str(), "rb");
      if (file == nullptr)
        return file_error("open", index_run, errno);
      std::vector<IndexEntry> block(kIndexReadEntries);
      std::uint64_t seen = 0;
      for (;;) {
        const std::size_t got = std::fread(block.data(), sizeof(IndexEntry), block.size(), file);
        for (std::size_t i = 0; i < got; ++i)
          visit(block[i]);
        seen += got;
        if (got < block.size())
          break;
      }
      const bool failed = std::ferror(file) != 0;
      std::fclose(file);
      if (failed)
        return file_error("read", index_run, EIO);
      if (seen != spilled_entries)
        return internal_error("the spilled index " + index_run.string() + " holds " +
                              std::to_string(seen) + " entries, not " +
                              std::to_string(spilled_entries));
    }
    for (const IndexEntry& entry : entries)
      visit(entry);
    return {};
  }

  Month month;
  fs::path rows_file;              // in the work directory until finish() moves it into place
  fs::path index_run;              // spilled index entries, in arrival order
  std::string pending;             // rows not yet handed to the writer
  std::uint64_t rows_bytes = 0;    // the rows file's size once everything is written
  std::vector<IndexEntry> entries; // not yet spilled, in arrival order
  std::uint64_t spilled_entries = 0;
  Decimal cost;
  std::vector<std::pair<std::string, Decimal>> cost_by_type;
  std::vector<HourTotals> hours; // by hour of the month
};

SnapshotBuilder::SnapshotBuilder(Options options)
    : options_(std::move(options)), id_(next_builder_id++),
      write_block_(
          std::clamp<std::size_t>(options_.memory_budget / 16, kMinWriteBlock, kMaxWriteBlock)),
      writer_(std::make_unique<Writer>()) {
  remove_stale_work_files(options_.directory / kWorkDirectory);
}

SnapshotBuilder::~SnapshotBuilder() {
  (void)writer_->wait(); // nothing may still be writing to a file about to be removed
  remove_work_files();
}

fs::path SnapshotBuilder::work_path(const Month& month, std::string_view extension) const {
  return options_.directory / kWorkDirectory /
         (month.to_string() + "-" + std::to_string(::getpid()) + "-" + std::to_string(id_) +
          std::string(extension));
}

SnapshotBuilder::MonthBuffer& SnapshotBuilder::buffer_for(const Month& month) {
  std::unique_ptr<MonthBuffer>& buffer = months_[month];
  if (buffer)
    return *buffer;
  auto created = std::make_unique<MonthBuffer>(month);
  std::error_code ec;
  fs::create_directories(options_.directory / kWorkDirectory, ec);
  if (ec) {
    months_.erase(month);
    throw ErrorException(source_error("cannot create the work directory " +
                                      (options_.directory / kWorkDirectory).string() + ": " +
                                      ec.message()));
  }
  created->rows_file = work_path(month, ".ndjson");
  created->index_run = work_path(month, ".entries");
  if (Status status = create_empty(created->rows_file); !status) {
    months_.erase(month);
    throw ErrorException(status.error());
  }
  created->pending.reserve(write_block_ + 4096);
  buffer = std::move(created);
  return *buffer;
}

void SnapshotBuilder::add(const cbf::NormalizedRow& row) {
  if (row.json.size() >= UINT32_MAX)
    throw ErrorException(data_error("a row of " + std::to_string(row.json.size()) +
                                    " bytes is too large for a month snapshot"));
  // The month and hour come from the row's time, so a snapshot can never hold a row of another
  // month.
  const Month month = Month::of(row.time);
  const auto hour =
      static_cast<std::uint32_t>((row.time.hour_start() - month.first_instant().seconds) / 3600);
  MonthBuffer& b = buffer_for(month);
  const auto length = static_cast<std::uint32_t>(row.json.size());
  try {
    b.cost += row.cost;
    HourTotals& totals = b.hours[hour];
    totals.cost += row.cost;
    b.type_total(row.lineitem_type.empty() ? cbf::kLineItemTypes[0] : row.lineitem_type) +=
        row.cost;
    ++totals.rows;
  } catch (const DecimalOverflow&) {
    throw ErrorException(data_error("the cost/cost total of " + month.to_string() +
                                    " needs more than " + std::to_string(Decimal::max_digits) +
                                    " digits; billdrop does not round money"));
  }
  b.entries.push_back({b.rows_bytes, length, hour, row_hash(row.json)});
  b.pending.append(row.json);
  b.pending.push_back('\n');
  b.rows_bytes += length + 1;
  ++rows_;
  buffered_ += length + 1 + sizeof(IndexEntry);
  peak_buffered_ = std::max(peak_buffered_, buffered_);
  if (b.pending.size() >= write_block_) {
    buffered_ -= b.pending.size();
    if (Status status = writer_->append(b.rows_file, b.pending); !status)
      throw ErrorException(status.error());
  }
  if (buffered_ > options_.memory_budget)
    spill();
}

void SnapshotBuilder::spill() {
  for (auto& [month, buffer] : months_) {
    MonthBuffer& b = *buffer;
    if (!b.pending.empty())
      if (Status status = writer_->append(b.rows_file, b.pending); !status)
        throw ErrorException(status.error());
    if (b.entries.empty())
      continue;
    if (b.spilled_entries == 0)
      if (Status status = create_empty(b.index_run); !status)
        throw ErrorException(status.error());
    std::string bytes(reinterpret_cast<const char*>(b.entries.data()),
                      b.entries.size() * sizeof(IndexEntry));
    if (Status status = writer_->append(b.index_run, bytes); !status)
      throw ErrorException(status.error());
    b.spilled_entries += b.entries.size();
    std::vector<IndexEntry>().swap(b.entries); // give the memory back
    ++spilled_runs_;
  }
  buffered_ = 0;
}

void SnapshotBuilder::discard(const Month& month) {
  const auto it = months_.find(month);
  if (it == months_.end())
    return;
  MonthBuffer& b = *it->second;
  (void)writer_->wait(); // its queued blocks are written before its files go
  buffered_ -= std::min(buffered_, b.pending.size() + b.entries.size() * sizeof(IndexEntry));
  rows_ -= b.rows();
  std::error_code ec;
  fs::remove(b.rows_file, ec);
  fs::remove(b.index_run, ec);
  months_.erase(it);
}

void SnapshotBuilder::remove_work_files() noexcept {
  std::error_code ec;
  for (auto& [month, buffer] : months_) {
    fs::remove(buffer->rows_file, ec);
    fs::remove(buffer->index_run, ec);
    fs::remove(work_path(month, ".index"), ec);
  }
  fs::remove(options_.directory / kWorkDirectory, ec); // only when empty: another builder's files
}

// Writes the month's index in snapshot order. Hours are taken in consecutive ranges whose entries
// fit the memory budget: one pass over the entries per range, each entry placed by a counting
// sort (stable: arrival order within an hour). Without a spill that is one pass in memory; a
// single hour too large for the budget is streamed, since its entries are already in order.
Status SnapshotBuilder::finish_month(MonthBuffer& b, MonthSummary& summary) {
  summary.month = b.month;
  summary.file = options_.directory / (b.month.to_string() + ".ndjson");
  const fs::path index_file = index_path_for(summary.file);
  const fs::path index_partial = work_path(b.month, ".index");

  IndexWriter index;
  if (Status status = index.open(index_partial); !status)
    return status;
  const std::uint64_t budget_entries =
      std::max<std::uint64_t>(1, options_.memory_budget / sizeof(IndexEntry));
  std::uint64_t written = 0;
  std::vector<IndexEntry> sorted;
  for (std::uint32_t first = 0; first < kHoursPerMonth;) {
    if (b.hours[first].rows == 0) {
      ++first;
      continue;
    }
    std::uint32_t end = first;
    std::uint64_t count = 0;
    while (end < kHoursPerMonth && (end == first || count + b.hours[end].rows <= budget_entries)) {
      count += b.hours[end].rows;
      ++end;
    }
    Status status;
    if (end - first == 1 && count > budget_entries) {
      status = b.for_each_entry([&](const IndexEntry& entry) {
        if (entry.hour == first)
          index.add(entry);
      });
    } else {
      std::array<std::uint64_t, kHoursPerMonth> next{};
      std::uint64_t position = 0;
      for (std::uint32_t h = first; h < end; ++h) {
        next[h] = position;
        position += b.hours[h].rows;
      }
      sorted.resize(count);
      status = b.for_each_entry([&](const IndexEntry& entry) {
        if (entry.hour >= first && entry.hour < end)
          sorted[next[entry.hour]++] = entry;
      });
      if (status)
        for (const IndexEntry& entry : sorted)
          index.add(entry);
    }
    if (!status)
      return status;
    written += count;
    first = end;
  }
  std::vector<IndexEntry>().swap(sorted);
  if (written != b.rows())
    return internal_error("the index of " + b.month.to_string() + " has " +
                          std::to_string(written) + " rows but " + std::to_string(b.rows()) +
                          " were added");
  Result<std::string> digest = index.finish(b.rows_bytes);
  if (!digest)
    return digest.error();

  // The rows file first, then its index, then the summary: a reader checks every row against
  // the index, so a crash between two renames is detected, never read as a wrong row.
  std::error_code ec;
  for (const auto& [from, to] :
       {std::pair{b.rows_file, summary.file}, std::pair{index_partial, index_file}}) {
    fs::rename(from, to, ec);
    if (ec)
      return source_error("cannot move " + from.string() + " to " + to.string() + ": " +
                          ec.message());
  }

  summary.rows = b.rows();
  summary.json_bytes = b.json_bytes();
  summary.cost = b.cost;
  for (const auto& [type, total] : b.cost_by_type)
    summary.cost_by_type.emplace(type, total);
  for (std::uint32_t hour = 0; hour < kHoursPerMonth; ++hour)
    if (b.hours[hour].rows != 0)
      summary.hours.emplace(hour_key(b.month, hour), b.hours[hour]);
  summary.digest = std::move(*digest);

  return summary.write(options_.directory);
}

Result<std::vector<MonthSummary>> SnapshotBuilder::finish() {
  std::vector<MonthSummary> summaries;
  try {
    std::error_code ec;
    fs::create_directories(options_.directory, ec);
    if (ec)
      return source_error("cannot create the snapshot directory " + options_.directory.string() +
                          ": " + ec.message());
    for (auto& [month, buffer] : months_)
      if (!buffer->pending.empty())
        if (Status status = writer_->append(buffer->rows_file, buffer->pending); !status)
          return status.error();
    if (Status status = writer_->wait(); !status)
      return status.error();
    for (auto& [month, buffer] : months_) {
      MonthSummary summary;
      if (Status status = finish_month(*buffer, summary); !status)
        return status.error();
      summaries.push_back(std::move(summary));
    }
  } catch (const ErrorException& e) {
    remove_work_files();
    return e.error();
  }
  remove_work_files();
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
  if (core::is_valid_utf8(text)) {
    core::append_json_string(out, text);
  } else {
    std::string cleaned;
    for (char c : text)
      cleaned += static_cast<unsigned char>(c) < 0x80 ? c : '?';
    core::append_json_string(out, cleaned);
  }
}

Error summary_error(std::string_view what) {
  return data_error("the month summary is not valid: " + std::string(what));
}

Result<Decimal> decimal_value(simdjson::ondemand::value value, std::string_view name) {
  std::string_view text;
  if (value.get_string().get(text))
    return summary_error(quote_for_message(name) + " must be a decimal string");
  Result<Decimal> number = Decimal::parse(text);
  if (!number)
    return summary_error(quote_for_message(name) + ": " + number.error().message());
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
    core::append_json_string(json, type);
    json += ':';
    append_decimal_string(json, total);
  }
  json += "},\"hours\":{";
  first = true;
  for (const auto& [hour, totals] : hours) {
    if (!first)
      json += ',';
    first = false;
    core::append_json_string(json, hour);
    json += ":{\"rows\":" + std::to_string(totals.rows) + ",\"cost\":";
    append_decimal_string(json, totals.cost);
    json += '}';
  }
  json += "},\"digest\":\"" + digest + "\",\"file\":";
  append_path(json, file);
  json += ",\"invalid_rows\":" + std::to_string(invalid_rows) +
          ",\"unplaced_records\":" + std::to_string(unplaced_records) +
          ",\"read_whole\":" + (read_whole ? "true" : "false") +
          ",\"complete\":" + (complete() ? "true" : "false") + '}';
  return json;
}

Status MonthSummary::write(const fs::path& directory) const {
  const fs::path target = directory / (month.to_string() + ".summary.json");
  const fs::path partial = fs::path(target).concat(".partial");
  if (Status status = create_empty(partial); !status)
    return status;
  if (Status status = append_to_file(partial, to_json() + '\n'); !status)
    return status;
  std::error_code ec;
  fs::rename(partial, target, ec);
  if (ec)
    return source_error("cannot move " + partial.string() + " to " + target.string() + ": " +
                        ec.message());
  return {};
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
  std::optional<bool> complete;
  std::optional<bool> read_whole;
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
    } else if (key == "rows" || key == "json_bytes" || key == "invalid_rows" ||
               key == "unplaced_records") {
      std::uint64_t number = 0;
      if (value.get_uint64().get(number))
        return summary_error(quote_for_message(key) + " must be a non-negative integer");
      (key == "rows"           ? summary.rows
       : key == "json_bytes"   ? summary.json_bytes
       : key == "invalid_rows" ? summary.invalid_rows
                               : summary.unplaced_records) = number;
      has_rows = has_rows || key == "rows";
    } else if (key == "complete" || key == "read_whole") {
      bool flag = false;
      if (value.get_bool().get(flag))
        return summary_error(quote_for_message(key) + " must be true or false");
      (key == "complete" ? complete : read_whole) = flag;
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
    } else if (key == "digest") {
      std::string_view text;
      if (value.get_string().get(text))
        return summary_error("\"digest\" must be a hex string");
      summary.digest = std::string(text);
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
  // Before "read_whole", "complete" meant read whole; absent both, nothing says it was.
  summary.read_whole = read_whole.value_or(complete.value_or(false));
  return summary;
}

} // namespace billdrop::snapshot
