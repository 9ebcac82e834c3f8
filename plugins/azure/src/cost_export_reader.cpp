#include "cost_export_reader.hpp"

#include "amortized_index.hpp"
#include "cost_file.hpp"
#include "row_writer.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/source_files.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>

namespace billdrop::azure {
namespace fs = std::filesystem;
namespace {

// Progress is reported this often (in rows): often enough for a progress bar, rarely enough to
// cost nothing.
constexpr std::uint64_t progress_interval = 64 * 1024;

const Decimal zero_cost;

// Byte progress over every pass a read makes over its files.
class ReadProgress {
public:
  ReadProgress(RowSink& sink, std::uint64_t total) : sink_(sink), total_(total) {}
  void row(const CostFile& file) {
    if (++rows_ % progress_interval == 0)
      sink_.progress(done_ + file.position(), total_);
  }
  void file_done(const CostFile& file) {
    done_ += file.total() != 0 ? file.total() : file.position();
    sink_.progress(done_, total_);
  }
  // Bytes a pass did not need to read.
  void skipped(std::uint64_t bytes) {
    done_ += bytes;
    sink_.progress(done_, total_);
  }

private:
  RowSink& sink_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::uint64_t rows_ = 0;
};

// The row's place in the join (README, "Join key").
JoinKey join_key(JoinKeyBuilder& key, const CostFile& file, UtcTime start,
                 const Decimal* quantity) {
  key.clear();
  key.add(file.cell(Column::subscription));
  key.add(start.seconds);
  key.add(file.cell(Column::resource_id));
  key.add(file.cell(Column::meter_id));
  key.add(file.cell(Column::charge_type));
  key.add(file.cell(Column::pricing_model));
  const std::string_view benefit = file.cell(Column::benefit_id);
  key.add(benefit.empty() ? file.cell(Column::reservation_id) : benefit);
  key.add(quantity != nullptr ? *quantity : Decimal());
  return key.key();
}

// Pass 1 of the join, one amortized row at a time: the rows of `month` (every month when none)
// go into the index under their join key, in file order; a row without a readable date or values
// is remembered as the last unreadable one, which pass 3 rejects.
struct AmortizedPass {
  AmortizedIndex index;
  std::uint64_t rows = 0; // ordinals handed out: every row of the files, in order
  std::optional<std::uint64_t> last_unreadable;
  Decimal cost;
  Decimal quantity;
  bool has_quantity = false;
  JoinKeyBuilder keys;

  void add(CostFile& file, const Result<UtcTime>& start, std::optional<Month> month) {
    const std::uint64_t row = rows++;
    if (!start) {
      last_unreadable = row;
      return;
    }
    if (month && !month->contains(*start))
      return;
    if (!file.parse_values(cost, quantity, has_quantity).ok()) {
      last_unreadable = row;
      return;
    }
    index.add(join_key(keys, file, *start, has_quantity ? &quantity : nullptr), row, cost);
  }
};

} // namespace

Result<CostExportReader> CostExportReader::from_config(const Config& config) {
  ReaderOptions options;
  if (config.has("actual"))
    options.actual = config.get_string("actual");
  if (config.has("amortized"))
    options.amortized = config.get_string("amortized");
  options.cost_column = config.get_string_or("cost_column", "");
  if (config.has("join_one_pass_mb")) {
    const std::int64_t mb = config.get_int("join_one_pass_mb");
    if (mb < 0)
      return config_error("plugin 'azure': join_one_pass_mb must be 0 or more (megabytes), got " +
                          std::to_string(mb));
    options.join_one_pass_mb = static_cast<std::uint64_t>(mb);
  }
  if (options.actual.empty() && options.amortized.empty())
    return config_error("plugin 'azure': set actual (the actual-cost export), amortized (the "
                        "amortized-cost export), or both");
  return CostExportReader(std::move(options));
}

Result<std::vector<fs::path>> CostExportReader::files_for(ExportKind kind,
                                                          std::optional<Month> month) const {
  const fs::path& path = kind == ExportKind::actual ? options_.actual : options_.amortized;
  if (path.empty())
    return std::vector<fs::path>{};
  Result<std::vector<ExportDataFile>> files = export_files(path, kind);
  if (!files)
    return std::move(files).error();
  std::vector<fs::path> selected;
  for (ExportDataFile& file : *files) {
    if (month) {
      const auto it = scanned_.find(file.path);
      if (it != scanned_.end() && !it->second.read_for(*month))
        continue;
    }
    selected.push_back(std::move(file.path));
  }
  return selected;
}

bool CostExportReader::ScannedFile::read_for(Month month) const {
  if (months.contains(month))
    return true;
  if (undated == 0)
    return false;
  return period ? period->contains(month) : months.empty();
}

bool CostExportReader::ScannedFile::could_hold(Month month) const {
  return !period || period->contains(month) || months.contains(month);
}

Status CostExportReader::check() const {
  for (const ExportKind kind : {ExportKind::actual, ExportKind::amortized}) {
    Result<std::vector<fs::path>> files = files_for(kind, std::nullopt);
    if (!files)
      return std::move(files).error();
    for (const fs::path& file : *files)
      if (Result<std::unique_ptr<CostFile>> opened = CostFile::open(file, options_.cost_column);
          !opened)
        return std::move(opened).error();
  }
  return {};
}

Status CostExportReader::scan() {
  if (scanned_all_)
    return {};
  std::vector<ExportDataFile> jobs;
  for (const ExportKind kind : {ExportKind::actual, ExportKind::amortized}) {
    const fs::path& root = kind == ExportKind::actual ? options_.actual : options_.amortized;
    if (root.empty())
      continue;
    Result<std::vector<ExportDataFile>> files = export_files(root, kind);
    if (!files)
      return std::move(files).error();
    std::move(files->begin(), files->end(), std::back_inserter(jobs));
  }
  // The files are scanned by up to four threads, each taking the next file not yet taken.
  std::vector<std::optional<Result<ScannedFile>>> results(jobs.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure; // the first exception a worker thread caught
  std::atomic<bool> failed{false};
  const auto work = [&] {
    try {
      for (std::size_t i = next++; i < jobs.size() && !failed; i = next++)
        results[i] = scan_file(jobs[i]);
    } catch (...) {
      if (!failed.exchange(true))
        failure = std::current_exception();
    }
  };
  const std::size_t threads =
      std::min<std::size_t>({jobs.size(), 4, std::max(2u, std::thread::hardware_concurrency())});
  std::vector<std::thread> workers;
  try {
    for (std::size_t i = 1; i < threads; ++i)
      workers.emplace_back(work);
  } catch (const std::system_error&) {
    // No thread to be had: the ones started and this one scan every file all the same.
  }
  work();
  for (std::thread& worker : workers)
    worker.join();
  if (failure)
    std::rethrow_exception(failure);

  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!*results[i]) // the first file that cannot be opened, in the order listed
      return std::move(*results[i]).error();
  }
  for (std::size_t i = 0; i < jobs.size(); ++i)
    scanned_.insert_or_assign(jobs[i].path, std::move(**results[i]));
  scanned_all_ = true;
  return {};
}

Result<CostExportReader::ScannedFile> CostExportReader::scan_file(const ExportDataFile& data) {
  ScannedFile seen;
  // A file that cannot be opened, or whose header cannot be read, could hold anything.
  Result<std::unique_ptr<CostFile>> opened = CostFile::open(data.path, options_.cost_column);
  if (!opened)
    return std::move(opened).error();
  CostFile& file = **opened;
  while (true) {
    Result<bool> more = file.next_date_only();
    if (!more) {
      seen.broken = file.broke_off(more.error());
      break;
    }
    if (!*more)
      break;
    if (Result<UtcTime> start = file.usage_start())
      seen.months.insert(Month::of(*start));
    else if (seen.undated++ == 0)
      seen.first_undated = file.origin() + ": " + start.error().message();
  }
  // A period folder whose file holds rows of other months says nothing reliable.
  seen.period = data.period;
  if (seen.period && std::any_of(seen.months.begin(), seen.months.end(),
                                 [&](Month month) { return !seen.period->contains(month); }))
    seen.period.reset();
  return seen;
}

Result<std::vector<Month>> CostExportReader::months() {
  if (Status status = scan(); !status)
    return status.error();
  std::set<Month> all;
  std::uint64_t undated = 0;
  const std::string* first_undated = nullptr;
  for (const auto& [path, file] : scanned_) {
    // A broken file without a period or a dated row has no month to carry its error, and every
    // month's read would fail: nothing is converted.
    if (file.broken && file.months.empty() && !file.period)
      return file.broken->listing_error();
    all.insert(file.months.begin(), file.months.end());
    // The months whose reads fail (a break) or reject (undated rows) are listed even when no
    // dated row shows them, so that the failure is reported.
    if (file.period && (file.broken || file.undated != 0))
      for (Month month = file.period->first; month <= file.period->last; month = month.next())
        all.insert(month);
    if (file.undated != 0 && first_undated == nullptr)
      first_undated = &file.first_undated;
    undated += file.undated;
  }
  if (all.empty() && undated != 0)
    return data_error("no row of the export has a readable usage date, so no month can be read (" +
                      std::to_string(undated) + " row" + (undated == 1 ? "" : "s") +
                      "); the first: " + *first_undated);
  return std::vector<Month>(all.begin(), all.end());
}

Status CostExportReader::read(Month month, RowSink& sink) {
  if (Status status = scan(); !status)
    return status;
  for (const auto& [path, file] : scanned_)
    if (file.broken && file.could_hold(month))
      return file.broken->month_error(month);
  Result<std::vector<fs::path>> actual = files_for(ExportKind::actual, month);
  if (!actual)
    return std::move(actual).error();
  Result<std::vector<fs::path>> amortized = files_for(ExportKind::amortized, month);
  if (!amortized)
    return std::move(amortized).error();
  if (options_.amortized.empty())
    return read_one(*actual, month, sink);
  if (options_.actual.empty())
    return read_one(*amortized, month, sink);
  return read_joined(*actual, *amortized, month, sink);
}

namespace {

// A single data file, not a folder or a manifest.
bool single_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && path.extension() != ".json";
}

} // namespace

bool CostExportReader::one_pass() const {
  if (options_.actual.empty() || options_.amortized.empty()) {
    const fs::path& only = options_.amortized.empty() ? options_.actual : options_.amortized;
    return single_file(only);
  }
  // Joined: read in one pass, the join's index then holding every month's amortized rows at once
  // (about 90 bytes a row), when the amortized file is small enough: join_one_pass_mb bounds its
  // size as CSV (a compressed file or Parquet counts eight times its size).
  if (!single_file(options_.actual) || !single_file(options_.amortized))
    return false;
  std::error_code ec;
  const std::uintmax_t bytes = fs::file_size(options_.amortized, ec);
  if (ec)
    return false;
  const std::string extension = lower_ascii(options_.amortized.extension().string());
  const std::uintmax_t as_csv = extension == ".csv" ? bytes : 8 * bytes;
  constexpr std::uintmax_t mib = 1024 * 1024;
  // In whole MiB, rounded up, so that no size in the configuration can overflow.
  return options_.join_one_pass_mb != 0 && (as_csv + mib - 1) / mib <= options_.join_one_pass_mb;
}

Status CostExportReader::read_all(RowSink& sink) {
  if (options_.actual.empty() || options_.amortized.empty()) {
    const fs::path& only = options_.amortized.empty() ? options_.actual : options_.amortized;
    return read_one({only}, std::nullopt, sink);
  }
  return read_joined({options_.actual}, {options_.amortized}, std::nullopt, sink);
}

Status CostExportReader::read_one(const std::vector<fs::path>& files, std::optional<Month> month,
                                  RowSink& sink) {
  ReadProgress progress(sink, total_bytes(files));
  RowWriter writer;
  Decimal cost;
  Decimal quantity;
  bool has_quantity = false;
  for (const fs::path& path : files) {
    Result<std::unique_ptr<CostFile>> opened = CostFile::open(path, options_.cost_column);
    if (!opened)
      return std::move(opened).error();
    CostFile& file = **opened;
    while (true) {
      Result<bool> more = file.next();
      if (!more) // the file breaks off (in a month's read: it changed since the scan)
        return month ? file.broke_off(more.error()).month_error(*month)
                     : file.broke_off(more.error()).any_month_error();
      if (!*more)
        break;
      progress.row(file);
      Result<UtcTime> start = file.usage_start();
      if (!start) {
        sink.reject(file.origin(), start.error().message());
        continue;
      }
      if (month && !month->contains(*start))
        continue;
      if (Status values = file.parse_values(cost, quantity, has_quantity); !values) {
        sink.reject(file.origin(), values.error().message());
        continue;
      }
      if (Status status = writer.write(file, *start, RowCosts{&cost, nullptr},
                                       has_quantity ? &quantity : nullptr, sink);
          !status)
        return status;
    }
    progress.file_done(file);
  }
  return {};
}

Status CostExportReader::read_joined(const std::vector<fs::path>& actual,
                                     const std::vector<fs::path>& amortized,
                                     std::optional<Month> month, RowSink& sink) {
  // A file that breaks off (in a month's read: it changed since the scan) fails the month, or
  // every month in one pass.
  const auto broke_off = [&](CostFile& file, const Error& error) -> Status {
    return month ? file.broke_off(error).month_error(*month)
                 : file.broke_off(error).any_month_error();
  };
  const std::uint64_t amortized_bytes = total_bytes(amortized);
  ReadProgress progress(sink, total_bytes(actual) + 2 * amortized_bytes);
  Decimal cost;
  Decimal quantity;
  bool has_quantity = false;
  JoinKeyBuilder keys;

  // Pass 1: the month's amortized rows (every month's in one pass), as (key, row ordinal,
  // amortized cost). Rows that cannot be read are left to pass 3, which rejects them: the last of
  // them is remembered, so that pass 3 can stop after it and the last row no actual row took.
  AmortizedPass pass;
  for (const fs::path& path : amortized) {
    Result<std::unique_ptr<CostFile>> opened = CostFile::open(path, options_.cost_column);
    if (!opened)
      return std::move(opened).error();
    CostFile& file = **opened;
    while (true) {
      Result<bool> more = file.next();
      if (!more)
        return broke_off(file, more.error());
      if (!*more)
        break;
      progress.row(file);
      pass.add(file, file.usage_start(), month);
    }
    progress.file_done(file);
  }
  pass.index.seal(pass.rows);
  AmortizedIndex& index = pass.index;
  const std::optional<std::uint64_t> last_unreadable = pass.last_unreadable;

  // Pass 2: every actual row, with the amortized cost of its match (0 without one: a purchase
  // has no amortized counterpart, or one of 0).
  RowWriter writer;
  for (const fs::path& path : actual) {
    Result<std::unique_ptr<CostFile>> opened = CostFile::open(path, options_.cost_column);
    if (!opened)
      return std::move(opened).error();
    CostFile& file = **opened;
    while (true) {
      Result<bool> more = file.next();
      if (!more)
        return broke_off(file, more.error());
      if (!*more)
        break;
      progress.row(file);
      Result<UtcTime> start = file.usage_start();
      if (!start) {
        sink.reject(file.origin(), start.error().message());
        continue;
      }
      if (month && !month->contains(*start))
        continue;
      if (Status values = file.parse_values(cost, quantity, has_quantity); !values) {
        sink.reject(file.origin(), values.error().message());
        continue;
      }
      const Decimal* matched =
          index.take(join_key(keys, file, *start, has_quantity ? &quantity : nullptr));
      if (Status status =
              writer.write(file, *start, RowCosts{&cost, matched ? matched : &zero_cost},
                           has_quantity ? &quantity : nullptr, sink);
          !status)
        return status;
    }
    progress.file_done(file);
  }

  // Pass 3: amortized rows no actual row took (covered usage shown only amortized, unused
  // commitments) become rows of billed cost 0. Unreadable rows are rejected here, once. The pass
  // ends after the last such row; when every row was taken and none was unreadable, there is
  // nothing to read.
  std::optional<std::uint64_t> last_needed = last_unreadable;
  if (const std::optional<std::uint64_t> untaken = index.last_untaken())
    last_needed = std::max(last_needed.value_or(0), *untaken);
  if (!last_needed) {
    progress.skipped(amortized_bytes);
    return {};
  }
  std::uint64_t ordinal = 0;
  for (const fs::path& path : amortized) {
    if (ordinal > *last_needed)
      break;
    Result<std::unique_ptr<CostFile>> opened = CostFile::open(path, options_.cost_column);
    if (!opened)
      return std::move(opened).error();
    CostFile& file = **opened;
    while (true) {
      Result<bool> more = file.next();
      if (!more)
        return broke_off(file, more.error());
      if (!*more)
        break;
      progress.row(file);
      const std::uint64_t row = ordinal++;
      if (row > *last_needed)
        break;
      Result<UtcTime> start = file.usage_start();
      if (!start) {
        sink.reject(file.origin(), start.error().message());
        continue;
      }
      if (month && !month->contains(*start))
        continue;
      if (Status values = file.parse_values(cost, quantity, has_quantity); !values) {
        sink.reject(file.origin(), values.error().message());
        continue;
      }
      if (index.taken(row))
        continue;
      if (Status status = writer.write(file, *start, RowCosts{&zero_cost, &cost},
                                       has_quantity ? &quantity : nullptr, sink);
          !status)
        return status;
    }
    progress.file_done(file);
  }
  return {};
}

} // namespace billdrop::azure
