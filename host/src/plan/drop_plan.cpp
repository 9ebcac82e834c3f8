#include "plan/drop_plan.hpp"

#include "core/json_text.hpp"
#include "core/numbers.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sys/stat.h>

namespace billdrop::plan {

namespace fs = std::filesystem;
using cbf::DropBodyWriter;
using cbf::DropOperation;

namespace {

constexpr std::string_view kUsageStartPrefix = "{\"time/usage_start\":\"";
constexpr std::string_view kCostKey = ",\"cost/cost\":\"";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"

// cost/cost of a canonical row. The search cannot match inside a string value: there every '"'
// is escaped, and the pattern needs an unescaped one right after a ','.
Result<Decimal> cost_of(std::string_view line) {
  const std::size_t key = line.find(kCostKey, kUsageStartPrefix.size());
  if (key == std::string_view::npos)
    return data_error("has no \"cost/cost\"");
  const std::size_t begin = key + kCostKey.size();
  const std::size_t end = line.find('"', begin);
  if (end == std::string_view::npos)
    return data_error("has an unterminated \"cost/cost\" value");
  return Decimal::parse(line.substr(begin, end - begin));
}

struct RowSize {
  std::uint32_t length = 0;
  Decimal cost;
};

// The rows of one hour, as far as the cutter needs them: sizes and costs, not bytes.
struct HourRows {
  std::string key;
  std::uint64_t first_row = 0; // position in snapshot order
  std::uint64_t content = 0;   // row bytes plus the ',' between them
  Decimal cost;
  std::vector<RowSize> rows;

  void reset(std::string_view hour, std::uint64_t row) {
    key.assign(hour);
    first_row = row;
    content = 0;
    cost = Decimal();
    rows.clear();
  }
};

// Cuts hours into chunks: whole hours while they fit, a new chunk when the next hour does not,
// and parts of one hour only when that hour alone is larger than a body.
class ChunkCutter {
public:
  // `where_is` names the row at a position of the snapshot, for messages.
  ChunkCutter(Month month, std::size_t max_body_bytes,
              std::function<std::string(std::uint64_t)> where_is)
      : month_(month), max_body_(max_body_bytes), where_is_(std::move(where_is)) {}

  Status add_hour(const HourRows& hour) {
    if (open_) {
      if (body_size(open_->operation, content_ + 1 + hour.content) <= max_body_) {
        extend(hour.key, hour.rows.size(), hour.content + 1, hour.cost);
        return {};
      }
      close();
    }
    const DropOperation first_operation =
        chunks_.empty() ? DropOperation::replace_drop : DropOperation::replace_hourly;
    if (body_size(first_operation, hour.content) <= max_body_) {
      start(first_operation, hour.key, hour.first_row, std::nullopt);
      extend(hour.key, hour.rows.size(), hour.content, hour.cost);
      return {};
    }
    return split(hour, first_operation);
  }

  std::vector<Chunk> finish() {
    if (open_)
      close();
    if (chunks_.empty()) { // an empty month: one replace_drop that empties it
      start(DropOperation::replace_drop, "", 0, std::nullopt);
      close();
    }
    return std::move(chunks_);
  }

private:
  std::size_t body_size(DropOperation operation, std::uint64_t content) const noexcept {
    return DropBodyWriter::empty_size(month_, operation) + content;
  }

  Status split(const HourRows& hour, DropOperation first_operation) {
    const auto start_index = static_cast<std::uint32_t>(chunks_.size());
    for (std::size_t i = 0; i < hour.rows.size(); ++i) {
      const RowSize& row = hour.rows[i];
      if (open_ && body_size(open_->operation, content_ + 1 + row.length) <= max_body_) {
        extend(hour.key, 1, 1 + row.length, row.cost);
      } else {
        if (open_)
          close();
        const DropOperation operation =
            chunks_.size() == start_index ? first_operation : DropOperation::sum;
        if (body_size(operation, row.length) > max_body_)
          return row_too_large(hour.first_row + i, row.length, operation);
        start(operation, hour.key, hour.first_row + i, start_index);
        extend(hour.key, 1, row.length, row.cost);
      }
    }
    close(); // later hours never join a part of a split hour
    return {};
  }

  Error row_too_large(std::uint64_t position, std::size_t length, DropOperation operation) const {
    const std::size_t envelope = DropBodyWriter::empty_size(month_, operation);
    return data_error(where_is_(position) + " is a row of " + core::group_thousands(length) +
                      " bytes, too large for one request body: the body limit is " +
                      core::group_thousands(max_body_) + " bytes and a " +
                      std::string(cbf::to_string(operation)) + " body's envelope takes " +
                      std::to_string(envelope) +
                      " of them. A row cannot be split across requests; shorten it (long "
                      "descriptions, tags or k8s labels)");
  }

  void start(DropOperation operation, std::string_view hour, std::uint64_t first_row,
             std::optional<std::uint32_t> split_hour_start) {
    open_.emplace();
    open_->index = static_cast<std::uint32_t>(chunks_.size());
    open_->operation = operation;
    open_->first_hour.assign(hour);
    open_->last_hour.assign(hour);
    open_->first_row = first_row;
    open_->split_hour_start = split_hour_start;
    content_ = 0;
  }

  void extend(std::string_view hour, std::uint64_t rows, std::uint64_t content,
              const Decimal& cost) {
    open_->last_hour.assign(hour);
    open_->row_count += rows;
    open_->cost += cost;
    content_ += content;
  }

  void close() {
    open_->body_bytes = body_size(open_->operation, content_);
    chunks_.push_back(std::move(*open_));
    open_.reset();
  }

  Month month_;
  std::size_t max_body_;
  std::function<std::string(std::uint64_t)> where_is_;
  std::vector<Chunk> chunks_;
  std::optional<Chunk> open_;
  std::uint64_t content_ = 0; // data bytes of the open chunk
};

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), bytes.data(), &length, EVP_sha256(), nullptr) != 1)
    throw ErrorException(internal_error("OpenSSL could not compute a SHA-256 digest"));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 0xF];
  }
  return hex;
}

// Everything that decides which bytes go in which request, and nothing else.
std::string plan_digest(const DropPlan& plan, const PlanLimits& limits) {
  std::string text = "billdrop drop plan v1\nmonth " + plan.month.to_string() + "\nsnapshot " +
                     plan.snapshot_digest + "\nlimits " + std::to_string(limits.max_body_bytes) +
                     " " + std::to_string(limits.max_rows_per_month) + " " +
                     std::to_string(limits.max_bytes_per_month) + "\n";
  for (const Chunk& chunk : plan.chunks)
    text += "chunk " + std::to_string(chunk.first_row) + " " + std::to_string(chunk.row_count) +
            " " + std::string(cbf::to_string(chunk.operation)) + "\n";
  return sha256_hex(text);
}

Error snapshot_mismatch(const snapshot::MonthSummary& snapshot, std::string_view what) {
  return data_error("the snapshot " + snapshot.file.string() + " does not match its summary (" +
                    std::string(what) + "); it changed after it was built: rebuild it");
}

// Plans the snapshot as it is, caps measured but not enforced.
Result<DropPlan> cut_month(const snapshot::MonthSummary& snapshot, const PlanLimits& limits) {
  DropPlan plan;
  plan.month = snapshot.month;
  plan.snapshot_file = snapshot.file;
  plan.snapshot_digest = snapshot.digest;
  std::error_code ec;
  const bool absent_and_empty = snapshot.rows == 0 && !fs::exists(snapshot.file, ec);
  std::optional<snapshot::SnapshotReader> opened;
  // Only for a message, once the cut has failed: the reader is not needed for anything else then.
  const auto where_is = [&](std::uint64_t position) -> std::string {
    std::string_view line;
    if (opened && opened->seek(position)) {
      Result<bool> found = opened->next(line);
      if (found && *found)
        return opened->where();
    }
    return "row " + core::group_thousands(position + 1) + " of " + snapshot.file.string();
  };
  ChunkCutter cutter(snapshot.month, limits.max_body_bytes, where_is);
  if (!absent_and_empty) {
    Result<snapshot::SnapshotReader> reader_or = snapshot::SnapshotReader::open(snapshot.file);
    if (!reader_or)
      return reader_or.error();
    opened.emplace(std::move(*reader_or));
    snapshot::SnapshotReader& reader = *opened;
    if (reader.indexed() && reader.digest() != snapshot.digest)
      return snapshot_mismatch(snapshot, "its index has digest " + reader.digest() +
                                             ", the summary " + snapshot.digest);
    const std::string month = snapshot.month.to_string();
    HourRows hour;
    std::string_view line;
    try {
      for (;;) {
        Result<bool> more = reader.next(line);
        if (!more)
          return more.error();
        if (!*more)
          break;
        const std::string_view key = reader.hour();
        if (key.empty())
          return data_error(reader.where() +
                            " does not start with {\"time/usage_start\":\"YYYY-MM-DDTHH…: "
                            "not a billdrop month snapshot");
        if (!key.starts_with(month))
          return data_error(reader.where() + " is in hour " + std::string(key) +
                            ", outside the snapshot's month " + month);
        if (line.size() > UINT32_MAX)
          return data_error(reader.where() + " is a row of " + core::group_thousands(line.size()) +
                            " bytes, too large for any body");
        if (key != hour.key) {
          if (!hour.rows.empty()) {
            if (key < hour.key)
              return data_error(
                  reader.where() + " is in hour " + std::string(key) + " after rows of hour " +
                  hour.key + ": snapshot rows must be sorted by hour" +
                  (reader.indexed()
                       ? ""
                       : " (there is no index " + snapshot::index_path_for(snapshot.file).string() +
                             " beside it: billdrop reads its own snapshots in "
                             "hour order through their index)"));
            if (Status status = cutter.add_hour(hour); !status)
              return status.error();
          }
          hour.reset(key, plan.rows);
        }
        Result<Decimal> cost = cost_of(line);
        if (!cost)
          return data_error(reader.where() + ": " + cost.error().message());
        hour.content += (hour.rows.empty() ? 0 : 1) + line.size();
        hour.rows.push_back({static_cast<std::uint32_t>(line.size()), *cost});
        hour.cost += *cost;
        plan.cost += *cost;
        ++plan.rows;
      }
      if (!hour.rows.empty())
        if (Status status = cutter.add_hour(hour); !status)
          return status.error();
    } catch (const DecimalOverflow&) {
      return data_error("the cost/cost total of " + month + " in " + snapshot.file.string() +
                        " needs more than " + std::to_string(Decimal::max_digits) +
                        " digits; billdrop does not round money");
    }
  }
  if (plan.rows != snapshot.rows)
    return snapshot_mismatch(snapshot, core::group_thousands(plan.rows) + " rows in the file, " +
                                           core::group_thousands(snapshot.rows) +
                                           " in the summary");
  if (plan.cost != snapshot.cost)
    return snapshot_mismatch(snapshot, "cost/cost totals " + plan.cost.to_string() +
                                           " in the file, " + snapshot.cost.to_string() +
                                           " in the summary");

  plan.chunks = cutter.finish();
  plan.caps.rows = plan.rows;
  plan.caps.rows_limit = limits.max_rows_per_month;
  plan.caps.bytes_limit = limits.max_bytes_per_month;
  for (const Chunk& chunk : plan.chunks)
    plan.caps.bytes += chunk.body_bytes;
  plan.digest = plan_digest(plan, limits);
  return plan;
}

// "1,250,000 rows is 250,000 (25.0%) over the 1,000,000-row month cap", for each cap exceeded.
std::string cap_overage(const CapUse& caps) {
  std::string text;
  if (caps.rows > caps.rows_limit)
    text += core::group_thousands(caps.rows) + " rows is " +
            core::group_thousands(caps.rows - caps.rows_limit) + " (" +
            core::percent_of(caps.rows - caps.rows_limit, caps.rows_limit) + "%) over the " +
            core::group_thousands(caps.rows_limit) + "-row month cap";
  if (caps.bytes > caps.bytes_limit) {
    if (!text.empty())
      text += " and ";
    text += core::group_thousands(caps.bytes) + " body bytes is " +
            core::group_thousands(caps.bytes - caps.bytes_limit) + " (" +
            core::percent_of(caps.bytes - caps.bytes_limit, caps.bytes_limit) + "%) over the " +
            core::group_thousands(caps.bytes_limit) + "-byte month cap";
  }
  return text;
}

Status check_limits(Month month, const PlanLimits& limits) {
  // The smallest body that can carry a row: the largest envelope plus "{}".
  const std::size_t smallest = DropBodyWriter::empty_size(month, DropOperation::replace_hourly) + 2;
  if (limits.max_body_bytes < smallest)
    return config_error("max_body_bytes is " + core::group_thousands(limits.max_body_bytes) +
                        ", too small for any request body: it must be at least " +
                        std::to_string(smallest) + " (the API's limit is 5,000,000)");
  return {};
}

} // namespace

Result<DropPlan> plan_month(const snapshot::MonthSummary& snapshot, const PlanLimits& limits,
                            CapPolicy policy) {
  if (Status status = check_limits(snapshot.month, limits); !status)
    return status.error();
  Result<DropPlan> plan = cut_month(snapshot, limits);
  if (!plan || !plan->caps.over())
    return plan;
  const std::string month = snapshot.month.to_string();
  if (policy == CapPolicy::fail)
    return data_error(month + ": " + cap_overage(plan->caps) +
                      "; nothing was sent. Allow rollup for this connection (rows that differ "
                      "only in their amounts within an hour become one row with exact sums) or "
                      "send fewer" +
                      (plan->caps.bytes > plan->caps.bytes_limit ? " or smaller rows" : " rows"));

  const fs::path output = snapshot.file.parent_path() / (month + ".rollup.ndjson");
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output);
  if (!rolled)
    return rolled.error();
  Result<DropPlan> replanned = cut_month(rolled->summary, limits);
  if (!replanned)
    return replanned.error();
  const RollupReport& report = rolled->report;
  if (replanned->caps.over()) {
    std::error_code ec;
    fs::remove(output, ec); // nothing will be sent from it
    fs::remove(snapshot::index_path_for(output), ec);
    return data_error(
        month + ": still over the month cap after rollup, which merged " +
        core::group_thousands(report.groups_merged) + " groups and took the month from " +
        core::group_thousands(report.rows_before) + " to " +
        core::group_thousands(report.rows_after) + " rows (" +
        core::group_thousands(plan->caps.bytes) + " to " +
        core::group_thousands(replanned->caps.bytes) +
        " body bytes): " + cap_overage(replanned->caps) +
        "; nothing was sent. Aggregate the rows at the source (fewer dimensions or coarser line "
        "items) or split the data across connections");
  }
  replanned->rollup = report;
  return replanned;
}

namespace {

// The identity of a file as far as a cached reader cares: a file renamed over it, rewritten or
// grown gives another one.
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t modified_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const fs::path& file) {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0)
    return {};
  return {true, status.st_dev, status.st_ino, status.st_size,
          static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 +
              status.st_mtim.tv_nsec};
}

// chunk_body() runs once per chunk, in order, and nearly always for the snapshot of the chunk
// before: the reader of the last snapshot is kept (one per thread, as senders of different
// connections run on different threads) while its rows file and index are the same files, so a
// snapshot is mapped, and one without an index scanned for its lines, once per send rather than
// once per chunk.
Result<snapshot::SnapshotReader*> cached_reader(const fs::path& file) {
  struct Cached {
    fs::path file;
    FileStamp rows;
    FileStamp index;
    std::optional<snapshot::SnapshotReader> reader;
  };
  thread_local Cached cached;
  const FileStamp rows = stamp_of(file);
  const FileStamp index = stamp_of(snapshot::index_path_for(file));
  if (cached.reader && cached.file == file && cached.rows == rows && cached.index == index)
    return &*cached.reader;
  cached.reader.reset();
  Result<snapshot::SnapshotReader> opened = snapshot::SnapshotReader::open(file);
  if (!opened)
    return opened.error();
  cached.file = file;
  cached.rows = rows;
  cached.index = index;
  cached.reader.emplace(std::move(*opened));
  return &*cached.reader;
}

} // namespace

Result<std::string> chunk_body(const DropPlan& plan, std::uint32_t index) {
  if (index >= plan.chunks.size())
    return internal_error("the plan of " + plan.month.to_string() + " has " +
                          std::to_string(plan.chunks.size()) + " chunks; there is no chunk " +
                          std::to_string(index));
  const Chunk& chunk = plan.chunks[index];
  DropBodyWriter writer(plan.month, chunk.operation);
  const std::size_t envelope = DropBodyWriter::empty_size(plan.month, chunk.operation);
  const auto changed = [&](std::string_view what) {
    return data_error("chunk " + std::to_string(index) + " of the plan of " +
                      plan.month.to_string() + " no longer matches " + plan.snapshot_file.string() +
                      " (" + std::string(what) +
                      "); the snapshot changed after planning: plan "
                      "the month again");
  };
  if (chunk.row_count == 0) {
    if (chunk.body_bytes != envelope)
      return changed("an empty chunk with a non-empty body");
    return writer.finish();
  }
  if (chunk.body_bytes <= envelope)
    return changed("body_bytes is too small for its rows");

  Result<snapshot::SnapshotReader*> cached = cached_reader(plan.snapshot_file);
  if (!cached)
    return cached.error();
  snapshot::SnapshotReader* reader = *cached;
  if (reader->indexed() && reader->digest() != plan.snapshot_digest)
    return changed("its digest is " + reader->digest() + ", the plan's " + plan.snapshot_digest);
  if (chunk.first_row + chunk.row_count > reader->rows())
    return changed("it has fewer rows than planned");
  if (Status status = reader->seek(chunk.first_row); !status)
    return status.error();
  writer.reserve(static_cast<std::size_t>(chunk.body_bytes));
  std::string_view line;
  for (std::uint64_t i = 0; i < chunk.row_count; ++i) {
    Result<bool> more = reader->next(line);
    if (!more)
      return more.error();
    if (!*more)
      return changed("it has fewer rows than planned");
    if (i == 0 && reader->hour() != chunk.first_hour)
      return changed("its first row is in another hour");
    writer.add_row(line);
  }
  if (reader->hour() != chunk.last_hour)
    return changed("its last row is in another hour");
  std::string body = writer.take();
  if (body.size() != chunk.body_bytes)
    return changed("a different body size");
  return body;
}

std::string DropPlan::to_json() const {
  std::string json = "{\"month\":\"" + month.to_string() + "\",\"snapshot_file\":";
  // Paths are bytes on Linux; JSON keeps them only when they are UTF-8.
  std::string path = snapshot_file.string();
  if (!core::is_valid_utf8(path))
    for (char& c : path)
      if (static_cast<unsigned char>(c) >= 0x80)
        c = '?';
  core::append_json_string(json, path);
  json += ",\"snapshot_digest\":\"" + snapshot_digest + "\",\"digest\":\"" + digest +
          "\",\"rows\":" + std::to_string(rows) + ",\"cost\":\"" + cost.to_string() +
          "\",\"caps\":{\"rows\":" + std::to_string(caps.rows) +
          ",\"rows_limit\":" + std::to_string(caps.rows_limit) +
          ",\"bytes\":" + std::to_string(caps.bytes) +
          ",\"bytes_limit\":" + std::to_string(caps.bytes_limit) + "},\"rollup\":";
  if (rollup)
    json += "{\"rows_before\":" + std::to_string(rollup->rows_before) +
            ",\"rows_after\":" + std::to_string(rollup->rows_after) +
            ",\"groups_merged\":" + std::to_string(rollup->groups_merged) + "}";
  else
    json += "null";
  json += ",\"chunks\":[";
  for (const Chunk& chunk : chunks) {
    if (&chunk != chunks.data())
      json += ',';
    json += "{\"index\":" + std::to_string(chunk.index) + ",\"operation\":\"" +
            std::string(cbf::to_string(chunk.operation)) + "\",\"first_hour\":";
    core::append_json_string(json, chunk.first_hour);
    json += ",\"last_hour\":";
    core::append_json_string(json, chunk.last_hour);
    json += ",\"first_row\":" + std::to_string(chunk.first_row) +
            ",\"row_count\":" + std::to_string(chunk.row_count) +
            ",\"body_bytes\":" + std::to_string(chunk.body_bytes) + ",\"cost\":\"" +
            chunk.cost.to_string() + "\",\"split_hour_start\":" +
            (chunk.split_hour_start ? std::to_string(*chunk.split_hour_start) : "null") + "}";
  }
  json += "]}";
  return json;
}

} // namespace billdrop::plan
