#include "plan/rollup.hpp"

#include "core/numbers.hpp"

#include <simdjson.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace billdrop::plan {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kUsageStartPrefix = "{\"time/usage_start\":\"";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"
constexpr std::size_t kWriteBufferBytes = 1024 * 1024;

bool is_amount(std::string_view key) noexcept {
  return key.starts_with("cost/") || key == "usage/amount";
}

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

// The rolled-up snapshot, written once in hour order: its rows file and its index (whose digest
// is the snapshot's).
class RollupOutput {
public:
  Status open(const fs::path& rows_path, const fs::path& index_path) {
    path_ = rows_path;
    file_.reset(std::fopen(rows_path.c_str(), "wb"));
    if (!file_)
      return error("create", errno);
    buffer_.reserve(kWriteBufferBytes);
    return index_.open(index_path);
  }

  // `hour` is the hour of the month (0 = the 1st, 00:00).
  Status write_line(std::string_view line, std::uint32_t hour) {
    if (buffer_.size() + line.size() + 1 > kWriteBufferBytes)
      if (Status status = flush(); !status)
        return status;
    try {
      index_.add({bytes_, static_cast<std::uint32_t>(line.size()), hour, snapshot::row_hash(line)});
    } catch (const ErrorException& e) {
      return e.error();
    }
    buffer_.append(line);
    buffer_.push_back('\n');
    bytes_ += line.size() + 1;
    return {};
  }

  // Flushes and closes both files; returns the snapshot digest.
  Result<std::string> close() {
    if (Status status = flush(); !status)
      return status.error();
    if (std::fclose(file_.release()) != 0)
      return error("write", errno);
    return index_.finish(bytes_);
  }

private:
  Status flush() {
    if (buffer_.empty())
      return {};
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get()) != buffer_.size())
      return error("write", errno);
    buffer_.clear();
    return {};
  }
  Error error(std::string_view action, int error_number) const {
    return snapshot::file_error(action, path_, error_number);
  }

  fs::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string buffer_;
  std::uint64_t bytes_ = 0;
  snapshot::IndexWriter index_;
};

// Hour of the month of an hour key "YYYY-MM-DDTHH".
std::uint32_t hour_of_month(std::string_view key) noexcept {
  const auto digit = [&](std::size_t at) { return static_cast<std::uint32_t>(key[at] - '0'); };
  return (digit(8) * 10 + digit(9) - 1) * 24 + digit(11) * 10 + digit(12);
}

// An amount value inside a group's first line: where its digits are and the running sum.
struct Amount {
  std::size_t offset = 0;
  std::size_t length = 0;
  Decimal sum;
};

// Rows of one hour that are identical except for their amounts.
struct Group {
  std::string line; // the first row, verbatim
  std::vector<Amount> amounts;
  std::string lineitem_type;
  std::uint64_t rows = 0;
  Decimal cost; // sum of cost/cost

  // The merged row: the first row with each amount replaced by its sum. A group of one keeps
  // its bytes exactly.
  std::string merged() const {
    if (rows == 1)
      return line;
    std::string out;
    out.reserve(line.size() + 16 * amounts.size());
    std::size_t at = 0;
    for (const Amount& amount : amounts) {
      out.append(line, at, amount.offset - at);
      amount.sum.append_to(out);
      at = amount.offset + amount.length;
    }
    out.append(line, at, std::string::npos);
    return out;
  }
};

// One parsed row: its grouping key (the line with the amount digits cut out) and its amounts.
struct ParsedRow {
  std::string key;
  std::vector<Amount> amounts;
  std::optional<std::size_t> cost; // which amount is cost/cost
  std::string_view lineitem_type;
};

// Fills `row` from a canonical row held in `padded` (which has simdjson's padding after it). An
// error is a phrase to follow "line N of <file>".
Status parse_row(simdjson::ondemand::parser& parser, const std::string& padded, std::size_t size,
                 ParsedRow& row) {
  row.key.clear();
  row.amounts.clear();
  row.cost.reset();
  row.lineitem_type = "Usage";
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded.data(), size, padded.capacity()).get(document) ||
      document.get_object().get(object))
    return data_error("is not a JSON object");
  std::size_t copied = 0; // line bytes already in row.key
  for (auto field : object) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value))
      return data_error("is not valid JSON");
    std::string_view token = value.raw_json_token();
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' ||
                              token.back() == '\n'))
      token.remove_suffix(1);
    const bool is_string = token.size() >= 2 && token.front() == '"' && token.back() == '"';
    if (key == "lineitem/type" && is_string)
      row.lineitem_type = token.substr(1, token.size() - 2);
    if (!is_amount(key))
      continue;
    std::string column = "\"";
    column += key;
    column += '"';
    if (!is_string)
      return data_error("has a " + column + " value that is not a string");
    const std::string_view digits = token.substr(1, token.size() - 2);
    Result<Decimal> number = Decimal::parse(digits);
    if (!number)
      return data_error("has a " + column +
                        " value that is not a decimal: " + number.error().message());
    const auto offset = static_cast<std::size_t>(digits.data() - padded.data());
    row.key.append(padded, copied, offset - copied);
    copied = offset + digits.size();
    if (key == "cost/cost")
      row.cost = row.amounts.size();
    row.amounts.push_back({offset, digits.size(), *number});
  }
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return data_error("has bytes after its JSON object");
  row.key.append(padded, copied, size - copied);
  return {};
}

// Folds rows hour by hour; the groups of the current hour are written when the hour ends.
class HourFolder {
public:
  HourFolder(RollupOutput& output, snapshot::MonthSummary& summary, RollupReport& report)
      : output_(output), summary_(summary), report_(report) {}

  // Adds `row`, parsed from `line`. Throws DecimalOverflow.
  void add(const ParsedRow& row, const std::string& line) {
    const Decimal& cost = row.amounts[*row.cost].sum;
    auto [it, inserted] = index_.try_emplace(row.key, groups_.size());
    if (inserted) {
      Group& group = groups_.emplace_back();
      group.line = line;
      group.amounts = row.amounts;
      group.lineitem_type.assign(row.lineitem_type);
      group.rows = 1;
      group.cost = cost;
      return;
    }
    Group& group = groups_[it->second];
    for (std::size_t i = 0; i < group.amounts.size(); ++i)
      group.amounts[i].sum += row.amounts[i].sum;
    group.cost += cost;
    ++group.rows;
  }

  Status end_hour(std::string_view hour) {
    snapshot::HourTotals& totals = summary_.hours[std::string(hour)];
    for (const Group& group : groups_) {
      const std::string line = group.merged();
      if (Status status = output_.write_line(line, hour_of_month(hour)); !status)
        return status;
      if (group.rows > 1)
        ++report_.groups_merged;
      ++report_.rows_after;
      ++summary_.rows;
      summary_.json_bytes += line.size();
      summary_.cost += group.cost;
      summary_.cost_by_type[group.lineitem_type] += group.cost;
      ++totals.rows;
      totals.cost += group.cost;
    }
    groups_.clear();
    index_.clear();
    return {};
  }

private:
  RollupOutput& output_;
  snapshot::MonthSummary& summary_;
  RollupReport& report_;
  std::vector<Group> groups_; // in order of first appearance, so the output is deterministic
  std::unordered_map<std::string, std::size_t> index_;
};

} // namespace

Result<RolledUpSnapshot> rollup_snapshot(const snapshot::MonthSummary& snapshot,
                                         const fs::path& output) {
  RolledUpSnapshot result;
  snapshot::MonthSummary& summary = result.summary;
  RollupReport& report = result.report;
  summary.month = snapshot.month;
  summary.file = output;

  Result<snapshot::SnapshotReader> reader = snapshot::SnapshotReader::open(snapshot.file);
  if (!reader)
    return reader.error();
  const fs::path partial = fs::path(output).concat(".partial");
  const fs::path index_file = snapshot::index_path_for(output);
  const fs::path index_partial = fs::path(index_file).concat(".partial");
  RollupOutput out;
  const auto fail = [&](Error error) {
    std::error_code ec;
    fs::remove(partial, ec);
    fs::remove(index_partial, ec);
    return error;
  };
  if (Status status = out.open(partial, index_partial); !status)
    return fail(status.error());

  simdjson::ondemand::parser parser;
  HourFolder folder(out, summary, report);
  ParsedRow row;
  std::string line; // the row with simdjson's padding after it
  std::string hour;
  const std::string month = snapshot.month.to_string();
  std::string_view json;
  try {
    for (;;) {
      Result<bool> more = reader->next(json);
      if (!more)
        return fail(more.error());
      if (!*more)
        break;
      line.reserve(json.size() + simdjson::SIMDJSON_PADDING);
      line.assign(json);
      if (!json.starts_with(kUsageStartPrefix) ||
          json.size() < kUsageStartPrefix.size() + kHourKeyLength)
        return fail(data_error(reader->where() +
                               " does not start with {\"time/usage_start\":\"YYYY-MM-DDTHH…: "
                               "not a billdrop month snapshot"));
      const std::string_view row_hour = json.substr(kUsageStartPrefix.size(), kHourKeyLength);
      if (!row_hour.starts_with(month))
        return fail(data_error(reader->where() + " is in hour " + std::string(row_hour) +
                               ", outside the snapshot's month " + month));
      if (row_hour != hour) {
        if (!hour.empty()) {
          if (row_hour < hour)
            return fail(data_error(reader->where() + " is in hour " + std::string(row_hour) +
                                   " after rows of hour " + hour +
                                   ": snapshot rows must be sorted by hour"));
          if (Status status = folder.end_hour(hour); !status)
            return fail(status.error());
        }
        hour.assign(row_hour);
      }
      if (Status status = parse_row(parser, line, json.size(), row); !status)
        return fail(data_error(reader->where() + " " + status.error().message()));
      if (!row.cost)
        return fail(data_error(reader->where() + " has no \"cost/cost\""));
      ++report.rows_before;
      folder.add(row, line);
    }
    if (!hour.empty())
      if (Status status = folder.end_hour(hour); !status)
        return fail(status.error());
  } catch (const DecimalOverflow&) {
    return fail(data_error("rolling up hour " + hour + " of " + snapshot.file.string() +
                           " gives a sum with more than " + std::to_string(Decimal::max_digits) +
                           " digits; billdrop does not round money"));
  }
  if (report.rows_before != snapshot.rows)
    return fail(data_error("read " + core::group_thousands(report.rows_before) + " rows from " +
                           snapshot.file.string() + " but its summary says " +
                           core::group_thousands(snapshot.rows) +
                           "; the snapshot changed or could "
                           "not be read to the end"));
  Result<std::string> digest = out.close();
  if (!digest)
    return fail(digest.error());
  summary.digest = std::move(*digest);
  std::error_code ec;
  for (const auto& [from, to] :
       {std::pair{partial, output}, std::pair{index_partial, index_file}}) {
    fs::rename(from, to, ec);
    if (ec)
      return fail(source_error("cannot move " + from.string() + " to " + to.string() + ": " +
                               ec.message()));
  }
  return result;
}

} // namespace billdrop::plan
