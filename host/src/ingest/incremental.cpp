#include "ingest/incremental.hpp"

#include "cbf/row_identity.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "ingest/pipelined_receiver.hpp"
#include "ingest/stoppable_receiver.hpp"
#include "ingest/validating_receiver.hpp"
#include "snapshot/snapshot_index.hpp"
#include "snapshot/snapshot_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include <unistd.h>

namespace billdrop::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStagingDirectory = ".incremental";
std::atomic<std::uint64_t> next_staging_id{0};

// Where one call builds its files: <snapshot_dir>/.incremental/<pid>-<n>, on the snapshots' own
// file system so that a rename moves a finished file into place. Removed when the call ends,
// whatever its outcome; those of a process that no longer runs are removed by the next call.
class Staging {
public:
  explicit Staging(const fs::path& snapshot_dir)
      : root_(snapshot_dir / kStagingDirectory),
        path_(root_ / (std::to_string(::getpid()) + "-" + std::to_string(next_staging_id++))) {}
  ~Staging() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::remove(root_, ec); // only when empty: another call's files stay
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  Status create() {
    remove_stale();
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::create_directories(path_ / "increment", ec);
    if (!ec)
      fs::create_directories(path_ / "merged", ec);
    if (ec)
      return source_error("cannot create the work folder " + path_.string() + ": " + ec.message());
    return {};
  }
  fs::path increment() const { return path_ / "increment"; }
  fs::path merged() const { return path_ / "merged"; }

private:
  void remove_stale() noexcept {
    std::error_code ec;
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      const long pid = std::strtol(it->path().filename().c_str(), nullptr, 10);
      if (pid <= 0 || pid == ::getpid())
        continue;
      if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::error_code ignored;
        fs::remove_all(it->path(), ignored);
      }
    }
  }

  fs::path root_;
  fs::path path_;
};

// Which part of the increment each row came in. Sits behind the validating receiver's queue, so
// that at each cursor it sees every row sent before it: the rows of month M that arrived in part
// p are those counted valid for M after the cursor ending part p-1, up to the one ending part p.
class PartTracker final : public source::RowReceiver {
public:
  struct End {
    std::uint64_t rows; // valid rows of the month once the part ended
    std::uint32_t part;
  };

  explicit PartTracker(ValidatingReceiver& inner) : inner_(inner) {}

  bool on_rows(std::span<const bd_row> rows) override { return inner_.on_rows(rows); }
  void on_reject(std::string_view origin, std::string_view reason) override {
    inner_.on_reject(origin, reason);
  }
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override {
    inner_.on_reject_field(origin, column, rule, reason);
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    inner_.on_progress(done, total);
  }
  void on_log(bd_log_level level, std::string_view message) override {
    inner_.on_log(level, message);
  }
  void on_note(std::string_view key, std::uint64_t count) override { inner_.on_note(key, count); }
  void on_cursor(std::string_view /*cursor*/) override {
    for (const auto& [month, counts] : inner_.months()) {
      std::vector<End>& ends = ends_[month];
      if (counts.valid > (ends.empty() ? 0 : ends.back().rows))
        ends.push_back({counts.valid, parts_});
    }
    ++parts_;
  }

  std::uint32_t parts() const noexcept { return parts_; }
  // The part ends of `month`, in order (empty: no cursor came after its rows).
  const std::vector<End>& ends(const Month& month) const {
    static const std::vector<End> none;
    const auto it = ends_.find(month);
    return it == ends_.end() ? none : it->second;
  }

private:
  ValidatingReceiver& inner_;
  std::map<Month, std::vector<End>> ends_;
  std::uint32_t parts_ = 0;
};

// The part of each row of one month, asked in arrival order. Rows after the last cursor (a
// source that gives none: PluginInstance refuses that, another session might not) form a part of
// their own, after every other.
class PartOf {
public:
  PartOf(const std::vector<PartTracker::End>& ends, std::uint32_t parts)
      : ends_(ends), parts_(parts) {}
  std::uint32_t next() {
    while (at_ < ends_.size() && row_ >= ends_[at_].rows)
      ++at_;
    ++row_;
    return at_ < ends_.size() ? ends_[at_].part : parts_;
  }

private:
  const std::vector<PartTracker::End>& ends_;
  std::uint32_t parts_;
  std::size_t at_ = 0;
  std::uint64_t row_ = 0;
};

struct Hash128Hasher {
  std::size_t operator()(const snapshot::Hash128& hash) const noexcept {
    return static_cast<std::size_t>(hash.low ^ (hash.high * 0x9e3779b97f4a7c15ULL));
  }
};

// Reads a rows file line by line, in file order: for the increment's rows, the order they
// arrived in (the builder appends each row as it comes).
class LineReader {
public:
  explicit LineReader(const fs::path& file) : file_(file), in_(file, std::ios::binary) {}
  Status open_status() const {
    if (!in_)
      return source_error("cannot open " + file_.string());
    return {};
  }
  bool next(std::string& line) { return static_cast<bool>(std::getline(in_, line)); }
  Status finish_status() const {
    if (in_.bad())
      return source_error("cannot read " + file_.string());
    return {};
  }

private:
  fs::path file_;
  std::ifstream in_;
};

// A snapshot row back to fields, its identity, and (to be added to a builder) its normalised
// form: the same RowValidator every row went through when it first arrived.
class RowTools {
public:
  explicit RowTools(const cbf::RowIdentity& identity) : identity_(identity) {}

  // Parses `json`; then identity() and normalize() refer to it.
  Status parse(std::string_view json, const std::string& where) {
    if (Status status = reader_.read(json, fields_); !status)
      return status.error().with_context(where);
    return {};
  }
  snapshot::Hash128 identity() {
    identity_.key(fields_, key_);
    return snapshot::hash128(key_);
  }
  Result<const cbf::NormalizedRow*> normalize(const std::string& where) {
    issues_.clear();
    if (validator_.normalize(fields_, row_, issues_))
      return &row_;
    std::string text = where + " is not a valid CBF row:";
    for (const cbf::RowIssue& issue : issues_)
      if (issue.severity == cbf::Severity::error)
        text.append(" ")
            .append(issue.column.empty() ? "" : issue.column + ": ")
            .append(issue.message);
    return data_error(std::move(text));
  }

private:
  const cbf::RowIdentity& identity_;
  cbf::RowFieldReader reader_;
  cbf::RowValidator validator_;
  std::vector<cbf::FieldView> fields_;
  std::vector<cbf::RowIssue> issues_;
  cbf::NormalizedRow row_;
  std::string key_;
};

fs::path rows_file(const fs::path& directory, const Month& month) {
  return directory / (month.to_string() + ".ndjson");
}
fs::path summary_file(const fs::path& directory, const Month& month) {
  return directory / (month.to_string() + ".summary.json");
}

// Merges one month: the stored rows (if any) whose identity the increment lacks, then the
// increment's rows of the latest part of their identity, into `merged`.
Status merge_month(const Month& month, const fs::path& increment_rows, PartOf parts,
                   const std::optional<snapshot::MonthSummary>& stored,
                   const fs::path& snapshot_dir, RowTools& tools, snapshot::SnapshotBuilder& merged,
                   MergedMonth& out) {
  const std::string name = month.to_string();
  // Pass 1: the latest part of each identity in the increment.
  std::unordered_map<snapshot::Hash128, std::uint32_t, Hash128Hasher> latest;
  std::vector<std::uint32_t> part_of_row;
  {
    LineReader lines(increment_rows);
    if (Status status = lines.open_status(); !status)
      return status;
    std::string line;
    while (lines.next(line)) {
      const std::uint32_t part = parts.next();
      part_of_row.push_back(part);
      if (Status status = tools.parse(line, "row " + std::to_string(part_of_row.size()) +
                                                " of the increment of " + name);
          !status)
        return status;
      const auto [it, inserted] = latest.try_emplace(tools.identity(), part);
      if (!inserted)
        it->second = std::max(it->second, part);
    }
    if (Status status = lines.finish_status(); !status)
      return status;
  }
  out.increment_rows = part_of_row.size();

  // Pass 2: the stored rows, in snapshot order, but those the increment restates.
  if (stored) {
    const fs::path file = rows_file(snapshot_dir, month);
    Result<snapshot::SnapshotReader> reader = snapshot::SnapshotReader::open(file);
    if (!reader)
      return reader.error().with_context("reading the snapshot of " + name + " to merge into it");
    if (reader->indexed() && !stored->digest.empty() && reader->digest() != stored->digest)
      return data_error("the snapshot of " + name + " in " + snapshot_dir.string() +
                        " does not match its summary (digest " + reader->digest() + ", summary " +
                        stored->digest +
                        "): it changed since it was written; convert the month "
                        "again before merging into it");
    std::string_view json;
    for (;;) {
      Result<bool> more = reader->next(json);
      if (!more)
        return more.error();
      if (!*more)
        break;
      ++out.stored_rows;
      if (Status status = tools.parse(json, reader->where()); !status)
        return status;
      if (latest.contains(tools.identity())) {
        ++out.replaced_rows;
        continue;
      }
      Result<const cbf::NormalizedRow*> row = tools.normalize(reader->where());
      if (!row)
        return row.error();
      merged.add(**row);
    }
  }

  // Pass 3: the increment's rows, in arrival order, of the latest part of their identity.
  LineReader lines(increment_rows);
  if (Status status = lines.open_status(); !status)
    return status;
  std::string line;
  for (std::size_t i = 0; lines.next(line); ++i) {
    const std::string where = "row " + std::to_string(i + 1) + " of the increment of " + name;
    if (Status status = tools.parse(line, where); !status)
      return status;
    if (latest.at(tools.identity()) != part_of_row[i]) {
      ++out.superseded_rows;
      continue;
    }
    Result<const cbf::NormalizedRow*> row = tools.normalize(where);
    if (!row)
      return row.error();
    merged.add(**row);
  }
  return lines.finish_status();
}

// Moves a merged month's rows file, index and summary over the stored ones: rows first, then the
// index, then the summary, as SnapshotBuilder does, so a reader meeting a half-moved month sees a
// rows file that does not match its index (an error), never wrong rows.
Status commit_month(const Month& month, const fs::path& from, const fs::path& to) {
  const std::pair<fs::path, fs::path> moves[] = {
      {rows_file(from, month), rows_file(to, month)},
      {snapshot::index_path_for(rows_file(from, month)),
       snapshot::index_path_for(rows_file(to, month))},
      {summary_file(from, month), summary_file(to, month)}};
  for (const auto& [source, target] : moves) {
    std::error_code ec;
    fs::rename(source, target, ec);
    if (ec)
      return source_error("cannot move " + source.string() + " to " + target.string() + ": " +
                          ec.message());
  }
  return {};
}

// The stored summary of `month`, or nothing when the month has no snapshot yet.
Result<std::optional<snapshot::MonthSummary>> read_stored_summary(const fs::path& snapshot_dir,
                                                                  const Month& month) {
  const fs::path file = summary_file(snapshot_dir, month);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (ec)
      return source_error("cannot read " + file.string() + ": " + ec.message());
    return std::optional<snapshot::MonthSummary>();
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  Result<snapshot::MonthSummary> summary = snapshot::MonthSummary::from_json(text.str());
  if (!summary)
    return data_error(file.string() + ": " + summary.error().message());
  return std::optional<snapshot::MonthSummary>(std::move(*summary));
}

std::string describe_cursor(std::string_view cursor) {
  return cursor.empty() ? std::string("from the start")
                        : "since cursor '" + std::string(cursor) + "'";
}

} // namespace

Result<IncrementalResult> convert_incremental(source::SourceSession& source,
                                              std::string_view cursor, const fs::path& snapshot_dir,
                                              const IncrementalOptions& options,
                                              cbf::ValidationReport& report) {
  const auto start = std::chrono::steady_clock::now();
  const std::string what =
      "the increment of plugin '" + source.name() + "' " + describe_cursor(cursor);
  if (!source.incremental())
    return config_error("plugin '" + source.name() +
                        "' does not read increments (with this configuration): convert whole "
                        "months instead");
  Result<cbf::RowIdentity> identity = cbf::RowIdentity::from_columns(source.identity_columns());
  if (!identity)
    return identity.error().with_context("plugin '" + source.name() +
                                         "' names a row identity billdrop cannot use");

  std::error_code ec;
  fs::create_directories(snapshot_dir, ec);
  if (ec)
    return source_error("cannot create the snapshot folder " + snapshot_dir.string() + ": " +
                        ec.message());
  Staging staging(snapshot_dir);
  if (Status status = staging.create(); !status)
    return status.error();

  // Read and validate the increment into snapshots of its own, as run_convert would.
  IncrementalResult result;
  std::vector<snapshot::MonthSummary> increment;
  std::optional<PartTracker> tracker;
  {
    snapshot::SnapshotBuilder builder(
        snapshot::SnapshotBuilder::Options{staging.increment(), options.memory_budget});
    core::Progress progress("reading " + describe_cursor(cursor));
    progress.set_enabled(options.progress);
    ValidatingReceiver receiver(report, &builder, &progress);
    tracker.emplace(receiver);
    std::optional<PipelinedReceiver> pipeline;
    if (options.pipeline && !source.reads_ahead())
      pipeline.emplace(*tracker);
    StoppableReceiver stoppable(pipeline ? static_cast<source::RowReceiver&>(*pipeline)
                                         : static_cast<source::RowReceiver&>(*tracker),
                                options.cancel);
    log::info("incremental.read", {{"plugin", source.name()}, {"cursor", cursor}});
    std::string next_cursor(cursor);
    Status status;
    try {
      status = source.read_since(cursor, stoppable, next_cursor);
    } catch (const ErrorException& e) {
      status = e.error();
    }
    bool host_failed = false;
    if (pipeline)
      if (Status drained = pipeline->drain(); !drained) {
        status = std::move(drained);
        host_failed = true;
      }
    progress.finish();
    if (!status)
      return status.error().with_context(host_failed ? "billdrop could not take in " + what
                                                     : "reading " + what);

    std::uint64_t invalid = receiver.unrouted() + receiver.unplaced();
    for (const auto& [month, counts] : receiver.months())
      invalid += counts.invalid;
    if (invalid > 0)
      return data_error(
          what + " holds " + std::to_string(invalid) +
          (invalid == 1 ? " invalid row or rejected record" : " invalid rows or rejected records") +
          " (see the row problems): nothing was merged, and the cursor stays where "
          "it was so that the corrected records are read again; merging the rest "
          "would move the cursor past them and leave their months without them");
    Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
    if (!summaries)
      return summaries.error().with_context("writing " + what);
    increment = std::move(*summaries);
    result.cursor = std::move(next_cursor);
    result.rows_read = receiver.rows();
    result.notes = receiver.notes();
    result.parts = tracker->parts();
  }
  log::info("incremental.read_done",
            {{"rows", result.rows_read}, {"months", increment.size()}, {"parts", result.parts}});

  // Merge each month the increment touched with its stored snapshot, beside it. Only the
  // touched months' summaries are read: another month's has nothing to do with this merge.
  std::map<Month, snapshot::MonthSummary> stored;
  for (const snapshot::MonthSummary& summary : increment) {
    Result<std::optional<snapshot::MonthSummary>> before =
        read_stored_summary(snapshot_dir, summary.month);
    if (!before)
      return before.error();
    if (*before)
      stored.emplace(summary.month, std::move(**before));
  }

  std::map<Month, MergedMonth> merged_months;
  {
    snapshot::SnapshotBuilder merged(
        snapshot::SnapshotBuilder::Options{staging.merged(), options.memory_budget});
    RowTools tools(*identity);
    try {
      for (const snapshot::MonthSummary& summary : increment) {
        if (options.cancel != nullptr && options.cancel->cancelled())
          return Error(ErrorKind::cancelled, "merging " + what + " was stopped");
        MergedMonth& out = merged_months[summary.month];
        const auto it = stored.find(summary.month);
        std::optional<snapshot::MonthSummary> before;
        if (it != stored.end())
          before = it->second;
        out.created = !before;
        if (Status status =
                merge_month(summary.month, rows_file(staging.increment(), summary.month),
                            PartOf(tracker->ends(summary.month), tracker->parts()), before,
                            snapshot_dir, tools, merged, out);
            !status)
          return status.error().with_context("merging " + what + " into " +
                                             summary.month.to_string());
      }
    } catch (const ErrorException& e) {
      return e.error().with_context("merging " + what);
    }
    Result<std::vector<snapshot::MonthSummary>> summaries = merged.finish();
    if (!summaries)
      return summaries.error().with_context("writing the merged snapshots of " + what);
    for (snapshot::MonthSummary& summary : *summaries) {
      MergedMonth& out = merged_months.at(summary.month);
      const auto it = stored.find(summary.month);
      // The month as convert would describe it: what convert knew of it stays (rows it found
      // invalid, records it could not place), and a month made by increments alone is whole.
      summary.file = rows_file(snapshot_dir, summary.month);
      if (it != stored.end()) {
        summary.invalid_rows = it->second.invalid_rows;
        summary.unplaced_records = it->second.unplaced_records;
        summary.read_whole = it->second.read_whole;
        out.changed = summary.digest != it->second.digest;
      } else {
        summary.read_whole = true;
      }
      if (Status written = summary.write(staging.merged()); !written)
        return written.error();
      out.summary = std::move(summary);
    }
  }

  // Every month is built: move them into place.
  if (options.cancel != nullptr && options.cancel->cancelled())
    return Error(ErrorKind::cancelled, "merging " + what + " was stopped");
  for (auto& [month, out] : merged_months) {
    if (Status status = commit_month(month, staging.merged(), snapshot_dir); !status)
      return status.error().with_context("storing the merged snapshot of " + month.to_string());
    log::info("incremental.month_merged", {{"month", month.to_string()},
                                           {"rows", out.summary.rows},
                                           {"replaced", out.replaced_rows},
                                           {"changed", out.changed}});
    result.months.push_back(std::move(out));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

} // namespace billdrop::ingest
