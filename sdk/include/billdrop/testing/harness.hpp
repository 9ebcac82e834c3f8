#pragma once
// A host stand-in for plugin unit tests: drives a plugin through its real C descriptor (the same
// calls the host makes), validates configuration against the plugin's schema exactly as the host
// does, checks every row with the host's own CBF rules (billdrop/cbf/row_validator.hpp), and
// captures rows, rejects and log lines in memory. No host library is needed.
//
// A read whose rows the host would refuse fails, naming each bad row's index, origin, column, rule
// and the host's message: a plugin writing lineitem/type "Feee" fails its own test, not a sync.
// A test about such rows calls accept_invalid_rows() and looks at row_problems().
//
//   billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"path", "x.csv"}});
//   ASSERT_TRUE(harness.create().ok());
//   auto rows = harness.read(billdrop::Month(2024, 8));
//   EXPECT_EQ(rows->at(0).get("cost/cost"), "12.00");

#include <billdrop/cbf/row_validator.hpp>
#include <billdrop/config.hpp>
#include <billdrop/plugin.h>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::testing {

struct CapturedRow {
  std::vector<std::pair<std::string, std::string>> fields; // in the order the plugin wrote them
  std::string origin;

  // The value of `key`, or "" when absent.
  std::string get(std::string_view key) const {
    for (const auto& [k, v] : fields)
      if (k == key)
        return v;
    return {};
  }
  bool has(std::string_view key) const {
    for (const auto& field : fields)
      if (field.first == key)
        return true;
    return false;
  }
};

// A row the host would refuse: which row of the read (its index in rows()), where the plugin said
// it came from, and the host's problem with it.
struct RowProblem {
  std::size_t row = 0;
  std::string origin;
  std::string column;
  std::string rule; // the host's rule id: required, timestamp, decimal, lineitem_type, ...
  std::string message;
};

struct CapturedReject {
  std::string origin;
  std::string reason;
  std::string column; // set by RowSink::reject(origin, column, rule, reason) (ABI 1.2)
  std::string rule;
};

class PluginHarness {
public:
  PluginHarness(const bd_plugin_descriptor* descriptor, ConfigValues config)
      : descriptor_(descriptor), config_(std::move(config)) {}
  ~PluginHarness() {
    if (instance_ != nullptr)
      descriptor_->destroy(instance_);
  }
  PluginHarness(const PluginHarness&) = delete;
  PluginHarness& operator=(const PluginHarness&) = delete;

  const bd_plugin_descriptor& descriptor() const { return *descriptor_; }

  // Validates the configuration against the plugin's schema and creates the instance.
  Status create() {
    Result<ConfigSchema> schema = ConfigSchema::from_json(descriptor_->config_schema_json);
    if (!schema)
      return schema.error();
    Result<ConfigValues> values = schema->validate(descriptor_->name, config_);
    if (!values)
      return values.error();
    const std::string json = config_to_json(*values);
    if (descriptor_->abi_minor >= 4 && descriptor_->create_with_host != nullptr) {
      // ABI 1.4: the instance logs through host_ for its whole life (host_logs()).
      host_ = bd_host{this, &on_host_log};
      return call([&](bd_error* e) {
        return descriptor_->create_with_host(json.data(), json.size(), &host_, &instance_, e);
      });
    }
    return call(
        [&](bd_error* e) { return descriptor_->create(json.data(), json.size(), &instance_, e); });
  }
  // The lines the plugin logged through its host context (SourcePlugin::log(), ABI 1.4), from its
  // constructor, check() and months() too, as "<level>: <message>" (level 0 debug .. 3 error).
  const std::vector<std::string>& host_logs() const noexcept { return host_logs_; }

  Status check() {
    return call([&](bd_error* e) { return descriptor_->check(instance_, e); });
  }

  Result<std::vector<Month>> months() {
    std::vector<std::string> texts;
    Status status = call([&](bd_error* e) {
      return descriptor_->months(
          instance_,
          [](void* context, bd_str month) {
            static_cast<std::vector<std::string>*>(context)->emplace_back(month.data, month.size);
          },
          &texts, e);
    });
    if (!status)
      return status.error();
    std::vector<Month> months;
    for (const std::string& text : texts) {
      Result<Month> month = Month::parse(text);
      if (!month)
        return month.error();
      months.push_back(*month);
    }
    return months;
  }

  // Reads a month; rows, rejects and logs are kept until the next read().
  Result<std::vector<CapturedRow>> read(Month month) {
    rows_.clear();
    rejects_.clear();
    logs_.clear();
    notes_.clear();
    batches_ = 0;
    batches_after_stop_ = 0;
    bd_sink sink{this, &on_write, &on_reject, &on_progress, &on_log, &on_note, &on_reject_field};
    const std::string text = month.to_string();
    Status status = call([&](bd_error* e) {
      return descriptor_->read(instance_, bd_str{text.data(), text.size()}, &sink, e);
    });
    if (!status)
      return status.error();
    if (Status valid = validate_rows(); !valid)
      return valid.error();
    return rows_;
  }

  // The plugin's answer to bd_plugin_descriptor::one_pass (ABI 1.4): whether the instance reads
  // every month at once with read_all() (false for a plugin without it).
  Result<bool> one_pass() {
    if (descriptor_->abi_minor < 4 || descriptor_->one_pass == nullptr)
      return false;
    int32_t flag = 0;
    Status status = call([&](bd_error* e) { return descriptor_->one_pass(instance_, &flag, e); });
    if (!status)
      return status.error();
    return flag != 0;
  }

  // Reads every month in one pass (ABI 1.4); rows, rejects and logs are kept until the next read.
  Result<std::vector<CapturedRow>> read_all() {
    rows_.clear();
    rejects_.clear();
    logs_.clear();
    notes_.clear();
    batches_ = 0;
    batches_after_stop_ = 0;
    if (descriptor_->abi_minor < 4 || descriptor_->read_all == nullptr)
      return Error(ErrorKind::internal, "the plugin has no read_all (ABI 1.4)");
    bd_sink sink{this, &on_write, &on_reject, &on_progress, &on_log, &on_note, &on_reject_field};
    Status status = call([&](bd_error* e) { return descriptor_->read_all(instance_, &sink, e); });
    if (!status)
      return status.error();
    if (Status valid = validate_rows(); !valid)
      return valid.error();
    return rows_;
  }

  // What read_all() and the reads of every month listed by months() gave, compared.
  struct OnePassComparison {
    std::size_t rows_by_month = 0; // rows of every read(month), added up
    std::size_t rows_in_one_pass = 0;
    std::uint64_t digest_by_month = 0; // of the rows (fields and origin), in no particular order
    std::uint64_t digest_in_one_pass = 0;
    // The first row one side has and the other has not ("" when the sides are equal).
    std::string first_difference;
    bool equal() const noexcept { return first_difference.empty(); }
  };
  // Reads every month with months() + read(month), then everything with read_all(), and compares
  // the rows as multisets: read_all must give exactly the union of the months' rows. A plugin
  // without read_all is an error.
  Result<OnePassComparison> compare_one_pass() {
    Result<std::vector<Month>> listed = months();
    if (!listed)
      return listed.error();
    std::vector<std::string> by_month;
    for (const Month& month : *listed) {
      Result<std::vector<CapturedRow>> rows = read(month);
      if (!rows)
        return rows.error().with_context("reading " + month.to_string());
      for (const CapturedRow& row : *rows)
        by_month.push_back(row_text(row));
    }
    Result<std::vector<CapturedRow>> all = read_all();
    if (!all)
      return all.error().with_context("reading every month in one pass");
    std::vector<std::string> in_one_pass;
    for (const CapturedRow& row : *all)
      in_one_pass.push_back(row_text(row));
    std::sort(by_month.begin(), by_month.end());
    std::sort(in_one_pass.begin(), in_one_pass.end());
    OnePassComparison result;
    result.rows_by_month = by_month.size();
    result.rows_in_one_pass = in_one_pass.size();
    result.digest_by_month = digest(by_month);
    result.digest_in_one_pass = digest(in_one_pass);
    const auto [a, b] =
        std::mismatch(by_month.begin(), by_month.end(), in_one_pass.begin(), in_one_pass.end());
    if (a != by_month.end() && (b == in_one_pass.end() || *a < *b))
      result.first_difference = "only in read(month): " + *a;
    else if (b != in_one_pass.end())
      result.first_difference = "only in read_all: " + *b;
    return result;
  }

  // Rows the host would refuse no longer fail read() and read_since(); row_problems() lists them.
  void accept_invalid_rows(bool accept = true) noexcept { accept_invalid_rows_ = accept; }
  // The problems of the last read's rows, by the host's rules (only errors; warnings such as a
  // deprecated column the host rewrites are not problems).
  const std::vector<RowProblem>& row_problems() const noexcept { return row_problems_; }

  // The plugin's answer to bd_plugin_descriptor::incremental (ABI 1.3): whether the instance
  // reads increments, and the identity columns it names (empty: the host's default).
  struct Incremental {
    bool incremental = false;
    std::vector<std::string> identity_columns;
  };
  Result<Incremental> incremental() {
    Incremental answer;
    if (descriptor_->abi_minor < 3 || descriptor_->incremental == nullptr)
      return answer;
    int32_t flag = 0;
    Status status = call([&](bd_error* e) {
      return descriptor_->incremental(
          instance_, &flag,
          [](void* context, bd_str column) {
            static_cast<std::vector<std::string>*>(context)->emplace_back(column.data, column.size);
          },
          &answer.identity_columns, e);
    });
    if (!status)
      return status.error();
    answer.incremental = flag != 0;
    return answer;
  }

  // Reads the increment since `cursor` (ABI 1.3); rows, rejects, logs and the cursors the plugin
  // gave (cursors(), the last one being the next cursor) are kept until the next read.
  Result<std::vector<CapturedRow>> read_since(std::string_view cursor) {
    rows_.clear();
    rejects_.clear();
    logs_.clear();
    notes_.clear();
    cursors_.clear();
    cursor_rows_.clear();
    batches_ = 0;
    batches_after_stop_ = 0;
    if (descriptor_->abi_minor < 3 || descriptor_->read_since == nullptr)
      return Error(ErrorKind::internal, "the plugin has no read_since (ABI 1.3)");
    bd_sink sink{this,    &on_write, &on_reject,       &on_progress,
                 &on_log, &on_note,  &on_reject_field, &on_cursor};
    Status status = call([&](bd_error* e) {
      return descriptor_->read_since(instance_, bd_str{cursor.data(), cursor.size()}, &sink, e);
    });
    if (!status)
      return status.error();
    if (Status valid = validate_rows(); !valid)
      return valid.error();
    return rows_;
  }
  // The cursors given by the last read_since(), in order; the last is the next cursor.
  const std::vector<std::string>& cursors() const noexcept { return cursors_; }
  // For each of cursors(), how many rows had been written when it was given.
  const std::vector<std::size_t>& cursor_rows() const noexcept { return cursor_rows_; }

  const std::vector<CapturedRow>& rows() const noexcept { return rows_; }
  const std::vector<CapturedReject>& rejects() const noexcept { return rejects_; }
  const std::vector<std::string>& logs() const noexcept { return logs_; }
  // The tallies the plugin reported with RowSink::note(), added up per key.
  const std::map<std::string, std::uint64_t, std::less<>>& notes() const noexcept { return notes_; }
  std::uint64_t note(std::string_view key) const {
    const auto it = notes_.find(key);
    return it == notes_.end() ? 0 : it->second;
  }
  std::size_t batches() const noexcept { return batches_; }

  // From the next read on, the host's answer to the plugin's `stop_after`-th batch is "stop" (as
  // when a user cancels a run): the read must end with ErrorKind::cancelled, and
  // batches_after_stop() says how many batches the plugin still wrote after it was told. 0: never.
  void stop_after_batches(std::size_t stop_after) noexcept { stop_after_ = stop_after; }
  std::size_t batches_after_stop() const noexcept { return batches_after_stop_; }

private:
  // A row as one line: its origin, then its fields sorted by key (the order they were written in
  // does not matter to the host).
  static std::string row_text(const CapturedRow& row) {
    std::vector<std::pair<std::string, std::string>> fields = row.fields;
    std::sort(fields.begin(), fields.end());
    std::string text = row.origin;
    for (const auto& [key, value] : fields)
      text.append(" ").append(key).append("=").append(value);
    return text;
  }
  // FNV-1a over the sorted rows.
  static std::uint64_t digest(const std::vector<std::string>& sorted_rows) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const std::string& row : sorted_rows) {
      for (const char c : row)
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      hash = (hash ^ 0x0a) * 1099511628211ull;
    }
    return hash;
  }

  // Every captured row through the host's validator; an error unless accept_invalid_rows().
  Status validate_rows() {
    row_problems_.clear();
    const cbf::RowValidator validator;
    cbf::NormalizedRow normalized;
    std::vector<cbf::FieldView> fields;
    std::vector<cbf::RowIssue> issues;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      fields.clear();
      for (const auto& [key, value] : rows_[i].fields)
        fields.push_back({key, value});
      issues.clear();
      validator.normalize(fields, normalized, issues);
      for (cbf::RowIssue& issue : issues)
        if (issue.severity == cbf::Severity::error)
          row_problems_.push_back({i, rows_[i].origin, std::move(issue.column),
                                   std::move(issue.rule), std::move(issue.message)});
    }
    if (row_problems_.empty() || accept_invalid_rows_)
      return {};
    constexpr std::size_t kShown = 5;
    std::string message = std::to_string(row_problems_.size()) +
                          " problem(s) in the plugin's rows that the host would refuse:";
    for (std::size_t i = 0; i < row_problems_.size() && i < kShown; ++i) {
      const RowProblem& p = row_problems_[i];
      message += "\n  row " + std::to_string(p.row) + " (" + p.origin +
                 "): " + (p.column.empty() ? std::string() : p.column + ": ") + p.message + " [" +
                 p.rule + "]";
    }
    if (row_problems_.size() > kShown)
      message += "\n  and " + std::to_string(row_problems_.size() - kShown) + " more";
    return Error(ErrorKind::data, std::move(message));
  }

  template <class Fn>
  Status call(Fn&& fn) {
    char buffer[4096];
    bd_error error{0, buffer, sizeof buffer, 0};
    const int32_t code = fn(&error);
    if (code == BD_OK)
      return {};
    ErrorKind kind = ErrorKind::internal;
    switch (code) {
    case BD_ERR_CONFIG:
      kind = ErrorKind::config;
      break;
    case BD_ERR_SOURCE:
      kind = ErrorKind::source;
      break;
    case BD_ERR_DATA:
      kind = ErrorKind::data;
      break;
    case BD_ERR_CANCELLED:
      kind = ErrorKind::cancelled;
      break;
    default:
      break;
    }
    return Error(kind, std::string(buffer, error.size), error.retryable != 0);
  }

  static int32_t on_write(void* context, const bd_row* rows, size_t count) {
    auto* self = static_cast<PluginHarness*>(context);
    ++self->batches_;
    const bool stopped = self->stop_after_ != 0 && self->batches_ > self->stop_after_;
    if (stopped)
      ++self->batches_after_stop_;
    for (size_t i = 0; i < count; ++i) {
      CapturedRow row;
      row.origin.assign(rows[i].origin.data, rows[i].origin.size);
      for (size_t f = 0; f < rows[i].field_count; ++f) {
        const bd_field& field = rows[i].fields[f];
        row.fields.emplace_back(std::string(field.key.data, field.key.size),
                                std::string(field.value.data, field.value.size));
      }
      self->rows_.push_back(std::move(row));
    }
    return self->stop_after_ != 0 && self->batches_ >= self->stop_after_ ? 1 : 0;
  }
  static void on_reject(void* context, bd_str origin, bd_str reason) {
    static_cast<PluginHarness*>(context)->rejects_.push_back(
        {std::string(origin.data, origin.size), std::string(reason.data, reason.size)});
  }
  static void on_reject_field(void* context, bd_str origin, bd_str column, bd_str rule,
                              bd_str reason) {
    static_cast<PluginHarness*>(context)->rejects_.push_back(
        {std::string(origin.data, origin.size), std::string(reason.data, reason.size),
         std::string(column.data, column.size), std::string(rule.data, rule.size)});
  }
  static void on_progress(void*, uint64_t, uint64_t) {}
  static void on_log(void* context, int32_t, bd_str message) {
    static_cast<PluginHarness*>(context)->logs_.emplace_back(message.data, message.size);
  }
  static void on_host_log(void* context, int32_t level, bd_str message) {
    static_cast<PluginHarness*>(context)->host_logs_.push_back(
        std::to_string(level) + ": " + std::string(message.data, message.size));
  }
  static void on_note(void* context, bd_str key, uint64_t count) {
    static_cast<PluginHarness*>(context)->notes_[std::string(key.data, key.size)] += count;
  }
  static void on_cursor(void* context, bd_str cursor) {
    auto* self = static_cast<PluginHarness*>(context);
    self->cursors_.emplace_back(cursor.data, cursor.size);
    self->cursor_rows_.push_back(self->rows_.size());
  }

  const bd_plugin_descriptor* descriptor_;
  ConfigValues config_;
  void* instance_ = nullptr;
  bd_host host_{};
  std::vector<std::string> host_logs_;
  std::vector<CapturedRow> rows_;
  std::vector<CapturedReject> rejects_;
  std::vector<std::string> logs_;
  std::map<std::string, std::uint64_t, std::less<>> notes_;
  std::vector<std::string> cursors_;
  std::vector<std::size_t> cursor_rows_;
  std::size_t batches_ = 0;
  std::vector<RowProblem> row_problems_;
  bool accept_invalid_rows_ = false;
  std::size_t stop_after_ = 0;
  std::size_t batches_after_stop_ = 0;
};

} // namespace billdrop::testing
