#include "jobs/golden.hpp"

#include "snapshot/month_snapshot.hpp"
#include "snapshot/snapshot_reader.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace billdrop::jobs {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSummarySuffix = ".golden.json";

fs::path rows_file(const fs::path& dir, Month month) {
  return dir / (month.to_string() + ".ndjson");
}
fs::path summary_file(const fs::path& dir, Month month) {
  return dir / (month.to_string() + std::string(kSummarySuffix));
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw JobError(FailureKind::config, "cannot read the golden file " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush())
    throw JobError(FailureKind::config, "cannot write the golden file " + file.string());
}

// The month's rows in snapshot order, one JSON object a line.
std::vector<std::string> snapshot_rows(const snapshot::MonthSummary& summary) {
  snapshot::SnapshotReader reader = take(snapshot::SnapshotReader::open(summary.file));
  std::vector<std::string> rows;
  rows.reserve(reader.rows());
  std::string_view json;
  while (take(reader.next(json)))
    rows.emplace_back(json);
  return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(std::move(line));
  return lines;
}

// What a golden summary holds: the run's, without where the run kept its rows.
snapshot::MonthSummary golden_summary(snapshot::MonthSummary summary) {
  summary.file = summary.month.to_string() + ".ndjson";
  return summary;
}

std::set<Month> golden_months(const fs::path& dir) {
  std::set<Month> months;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return months;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(kSummarySuffix))
      continue;
    if (Result<Month> month = Month::parse(name.substr(0, name.size() - kSummarySuffix.size())))
      months.insert(*month);
  }
  return months;
}

// Rows of `a` not in `b`, as multisets: a row twice in `a` and once in `b` is once in the answer.
std::vector<std::string> minus(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

void compare(GoldenMonth& month, const snapshot::MonthSummary& run, const fs::path& dir,
             std::size_t max_rows) {
  const snapshot::MonthSummary golden =
      take(snapshot::MonthSummary::from_json(read_text(summary_file(dir, month.month))));
  const auto differ = [&](std::string what, const std::string& in_run,
                          const std::string& in_golden) {
    if (in_run != in_golden)
      month.differences.push_back(what + " " + in_run + " in the run, " + in_golden +
                                  " in the golden file");
  };
  differ("rows", std::to_string(run.rows), std::to_string(golden.rows));
  differ("cost", run.cost.to_string(), golden.cost.to_string());
  std::set<std::string> types;
  for (const auto& [type, total] : run.cost_by_type)
    types.insert(type);
  for (const auto& [type, total] : golden.cost_by_type)
    types.insert(type);
  for (const std::string& type : types) {
    const auto r = run.cost_by_type.find(type);
    const auto g = golden.cost_by_type.find(type);
    differ(type + " cost", r == run.cost_by_type.end() ? "none" : r->second.to_string(),
           g == golden.cost_by_type.end() ? "none" : g->second.to_string());
  }
  const std::vector<std::string> run_rows = snapshot_rows(run);
  const std::vector<std::string> golden_rows = lines_of(read_text(rows_file(dir, month.month)));
  std::vector<std::string> extra = minus(run_rows, golden_rows);
  std::vector<std::string> missing = minus(golden_rows, run_rows);
  month.rows_only_in_run = extra.size();
  month.rows_only_in_golden = missing.size();
  if (extra.size() > max_rows)
    extra.resize(max_rows);
  if (missing.size() > max_rows)
    missing.resize(max_rows);
  month.only_in_run = std::move(extra);
  month.only_in_golden = std::move(missing);
  if (run.digest != golden.digest)
    month.differences.push_back(month.rows_only_in_run == 0 && month.rows_only_in_golden == 0
                                    ? "the same rows in another order (digest " + run.digest +
                                          " in the run, " + golden.digest + " in the golden file)"
                                    : "digest " + run.digest + " in the run, " + golden.digest +
                                          " in the golden file");
  const bool same =
      month.differences.empty() && month.rows_only_in_run == 0 && month.rows_only_in_golden == 0;
  month.state = same ? GoldenMonth::State::same : GoldenMonth::State::differs;
}

} // namespace

bool GoldenResult::same() const {
  return std::all_of(months.begin(), months.end(), [](const GoldenMonth& m) {
    return m.state == GoldenMonth::State::same || m.state == GoldenMonth::State::written;
  });
}

GoldenResult golden_files(const ConvertOutcome& outcome, const fs::path& directory, bool update,
                          std::size_t max_rows) {
  GoldenResult result;
  result.directory = directory;
  result.updated = update;
  std::map<Month, const ingest::ConvertedMonth*> run;
  for (const ingest::ConvertedMonth& month : outcome.result.months)
    if (month.requested)
      run[month.summary.month] = &month;
  const std::set<Month> golden = golden_months(directory);
  std::set<Month> all(golden);
  for (const auto& [month, converted] : run)
    all.insert(month);
  if (update)
    fs::create_directories(directory);

  for (const Month month : all) {
    GoldenMonth entry;
    entry.month = month;
    const auto it = run.find(month);
    if (it == run.end()) {
      entry.state = GoldenMonth::State::missing_run;
      entry.differences.push_back("the run has no such month");
      if (update) {
        fs::remove(rows_file(directory, month));
        fs::remove(summary_file(directory, month));
        entry.state = GoldenMonth::State::written;
        entry.differences.back() += ": its golden files were removed";
      }
    } else if (it->second->failure) {
      entry.state = GoldenMonth::State::differs;
      entry.differences.push_back("the read failed: " + it->second->failure->message());
    } else if (update) {
      const snapshot::MonthSummary& summary = it->second->summary;
      std::string rows;
      for (const std::string& row : snapshot_rows(summary))
        rows.append(row).append(1, '\n');
      write_text(rows_file(directory, month), rows);
      write_text(summary_file(directory, month), golden_summary(summary).to_json() + "\n");
      entry.state = GoldenMonth::State::written;
    } else if (golden.count(month) == 0) {
      entry.state = GoldenMonth::State::missing_golden;
      entry.differences.push_back("no golden file " + summary_file(directory, month).string() +
                                  " (write it with --update-golden)");
    } else {
      compare(entry, it->second->summary, directory, max_rows);
    }
    result.months.push_back(std::move(entry));
  }
  return result;
}

} // namespace billdrop::jobs
