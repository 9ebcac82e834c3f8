#include "snapshot/layout.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace billdrop::snapshot {

namespace fs = std::filesystem;

fs::path snapshots_dir(const fs::path& state_dir, std::string_view connection_id) {
  return state_dir / "snapshots" / std::string(connection_id);
}

fs::path sync_store_file(const fs::path& state_dir) {
  return state_dir / "sync.db";
}

fs::path emulator_store_file(const fs::path& state_dir) {
  return state_dir / "emulator.db";
}

fs::path connection_lock_file(const fs::path& state_dir, std::string_view connection_id) {
  return state_dir / "locks" / (std::string(connection_id) + ".lock");
}

Result<std::vector<MonthSummary>> read_summaries(const fs::path& dir,
                                                 const std::vector<Month>& only) {
  std::vector<MonthSummary> summaries;
  std::error_code ec;
  constexpr std::string_view suffix = ".summary.json";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= suffix.size() || !name.ends_with(suffix))
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    Result<MonthSummary> summary = MonthSummary::from_json(text.str());
    if (!summary)
      return data_error(entry.path().string() + ": " + summary.error().message());
    if (!summary->file.empty() && summary->file.is_relative())
      summary->file = dir / summary->file.filename();
    if (!only.empty() && std::find(only.begin(), only.end(), summary->month) == only.end())
      continue;
    summaries.push_back(std::move(*summary));
  }
  if (ec)
    return source_error("cannot read " + dir.string() + ": " + ec.message());
  std::sort(summaries.begin(), summaries.end(),
            [](const MonthSummary& a, const MonthSummary& b) { return a.month < b.month; });
  return summaries;
}

} // namespace billdrop::snapshot
