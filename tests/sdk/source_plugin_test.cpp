// The header-only C++ layer (source_plugin.hpp) and the test harness, driving an in-test plugin
// through the same C descriptor the host uses. BILLDROP_PLUGIN defines the one global entry
// symbol, so the descriptors here are built from detail::Adapter directly.
#include <billdrop/source_plugin.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

// Emits `rows` rows of the month it is asked for; `fail` selects a way to fail.
class CountingPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"rows", ConfigType::integer, "2", false, "Rows to emit"},
      {"fail", ConfigType::string, "\"none\"", false,
       "none, runtime, plugin_error, long, bad_alloc or status"},
      {"label", ConfigType::string, nullptr, true, "Written to every row"},
  };

  explicit CountingPlugin(const Config& config)
      : rows_(config.get_int("rows")), fail_(config.get_string("fail")),
        label_(config.get_string("label")) {
    if (label_.empty())
      throw PluginError("label must not be empty", ErrorKind::config);
  }

  Status check() override {
    if (fail_ == "long")
      throw PluginError(std::string(100, 'a') + std::string(5000, 'b'), ErrorKind::source);
    return {};
  }

  Result<std::vector<Month>> months() override {
    if (fail_ == "status")
      return data_error("the export has no header");
    return std::vector<Month>{Month(2024, 9), Month(2024, 8)};
  }

  Status read(Month month, RowSink& sink) override {
    if (fail_ == "plugin_error")
      throw PluginError("rate limited by the vendor API", ErrorKind::source, true);
    if (fail_ == "bad_alloc")
      throw std::bad_alloc();
    for (std::int64_t i = 0; i < rows_; ++i) {
      sink.begin_row("counting:" + std::to_string(i + 1));
      sink.field("time/usage_start", month.to_string() + "-01T00:00:00Z");
      sink.field("resource/id", label_ + "-" + std::to_string(i + 1));
      sink.field("cost/cost", "0.50");
      if (Status status = sink.end_row(); !status)
        return status;
    }
    sink.reject("counting:0", "header row");
    sink.log(LogLevel::warn, "two columns are unused");
    if (fail_ == "runtime")
      throw std::runtime_error("boom");
    return {};
  }

private:
  std::int64_t rows_;
  std::string fail_;
  std::string label_;
};

class BadDefaultPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"limit", ConfigType::integer, "\"ten\"", false, "A string where an integer belongs"}};
  explicit BadDefaultPlugin(const Config&) {}
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{}; }
  Status read(Month, RowSink&) override { return {}; }
};

template <class Plugin>
const bd_plugin_descriptor* descriptor_of(const char* name) {
  using A = detail::Adapter<Plugin>;
  static const bd_plugin_descriptor descriptor = {BILLDROP_PLUGIN_MAGIC,
                                                  BILLDROP_ABI_MAJOR,
                                                  BILLDROP_ABI_MINOR,
                                                  sizeof(bd_plugin_descriptor),
                                                  name,
                                                  "1.0.0",
                                                  "in-test plugin",
                                                  A::schema_json(),
                                                  &A::create,
                                                  &A::destroy,
                                                  &A::check,
                                                  &A::months,
                                                  &A::read,
                                                  &A::incremental,
                                                  &A::read_since,
                                                  A::one_pass_entry,
                                                  A::read_all_entry,
                                                  &A::create_with_host};
  return &descriptor;
}

// One pass and the host context (ABI 1.4): read_all found at compile time, one_pass() optional;
// SourcePlugin::log() from the constructor, check() and months().
class OnePassPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"one_pass", ConfigType::boolean, "true", false, "What one_pass() says"}};
  explicit OnePassPlugin(const Config& config) : one_pass_(config.get_bool("one_pass")) {
    log(LogLevel::debug, "constructed");
  }
  Status check() override {
    log(LogLevel::info, "checked");
    return {};
  }
  Result<std::vector<Month>> months() override {
    log(LogLevel::warn, "listed");
    return std::vector<Month>{Month(2026, 7), Month(2026, 8)};
  }
  Status read(Month month, RowSink& sink) override {
    for (int day = 1; day <= 2; ++day)
      if (Status status = row(sink, month, day); !status)
        return status;
    return {};
  }
  bool one_pass() const { return one_pass_; }
  Status read_all(RowSink& sink) {
    for (int day = 1; day <= 2; ++day) // the months interleave
      for (const Month month : {Month(2026, 7), Month(2026, 8)})
        if (Status status = row(sink, month, day); !status)
          return status;
    return {};
  }

private:
  static Status row(RowSink& sink, Month month, int day) {
    sink.begin_row("f:" + month.to_string() + "-" + std::to_string(day));
    sink.field("time/usage_start", month.to_string() + "-0" + std::to_string(day) + "T00:00:00Z");
    sink.field("cost/cost", std::to_string(day) + ".25");
    return sink.end_row();
  }
  bool one_pass_;
};

TEST(Adapter, OnePassEntriesOnlyForAPluginWithReadAll) {
  const bd_plugin_descriptor* with = descriptor_of<OnePassPlugin>("one_pass");
  EXPECT_NE(with->one_pass, nullptr);
  EXPECT_NE(with->read_all, nullptr);
  const bd_plugin_descriptor* without = descriptor_of<BadDefaultPlugin>("plain");
  EXPECT_EQ(without->one_pass, nullptr);
  EXPECT_EQ(without->read_all, nullptr);
  EXPECT_NE(without->create_with_host, nullptr); // every plugin gets the host context
}

TEST(Harness, ReadAllGivesTheRowsOfEveryMonthsRead) {
  testing::PluginHarness harness(descriptor_of<OnePassPlugin>("one_pass"), {});
  ASSERT_TRUE(harness.create());
  auto one_pass = harness.one_pass();
  ASSERT_TRUE(one_pass);
  EXPECT_TRUE(*one_pass);
  auto compared = harness.compare_one_pass();
  ASSERT_TRUE(compared) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
  EXPECT_EQ(compared->rows_in_one_pass, 4u);
  EXPECT_EQ(compared->digest_in_one_pass, compared->digest_by_month);

  testing::PluginHarness month_by_month(descriptor_of<OnePassPlugin>("one_pass"),
                                        {{"one_pass", false}});
  ASSERT_TRUE(month_by_month.create());
  one_pass = month_by_month.one_pass();
  ASSERT_TRUE(one_pass);
  EXPECT_FALSE(*one_pass);
}

TEST(Harness, APluginLogsThroughItsHostFromItsConstructorCheckAndMonths) {
  testing::PluginHarness harness(descriptor_of<OnePassPlugin>("one_pass"), {});
  ASSERT_TRUE(harness.create());
  ASSERT_TRUE(harness.check());
  ASSERT_TRUE(harness.months());
  EXPECT_EQ(harness.host_logs(),
            (std::vector<std::string>{"0: constructed", "1: checked", "2: listed"}));
}

const bd_plugin_descriptor* counting() {
  return descriptor_of<CountingPlugin>("counting");
}

TEST(SourcePlugin, SchemaJsonDescribesTheConfigKeys) {
  Result<ConfigSchema> schema = ConfigSchema::from_json(counting()->config_schema_json);
  ASSERT_TRUE(schema.ok()) << schema.error().message();
  ASSERT_EQ(schema->keys().size(), 3u);
  EXPECT_EQ(schema->keys()[0].key, "rows");
  EXPECT_EQ(schema->keys()[0].default_value, ConfigValue(std::int64_t{2}));
  EXPECT_EQ(schema->keys()[2].key, "label");
  EXPECT_TRUE(schema->keys()[2].required);
}

TEST(SourcePlugin, MalformedDefaultIsReportedThroughTheSchema) {
  const char* json = descriptor_of<BadDefaultPlugin>("bad")->config_schema_json;
  Result<ConfigSchema> schema = ConfigSchema::from_json(json);
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.error().message(),
            "invalid config_keys: config key 'limit': default \"ten\" is a string, not an integer");
}

TEST(Harness, ReadsRowsRejectsAndLogs) {
  testing::PluginHarness harness(counting(), {{"label", std::string("vm")}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).origin, "counting:1");
  EXPECT_EQ(rows->at(0).get("time/usage_start"), "2024-08-01T00:00:00Z");
  EXPECT_EQ(rows->at(1).get("resource/id"), "vm-2");
  EXPECT_EQ(rows->at(1).get("cost/cost"), "0.50");
  EXPECT_FALSE(rows->at(1).has("lineitem/type"));
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "counting:0");
  EXPECT_EQ(harness.rejects()[0].reason, "header row");
  EXPECT_EQ(harness.logs(), std::vector<std::string>{"two columns are unused"});
  EXPECT_EQ(harness.batches(), 1u);
}

// Writes one good row, then the row its `flaw` names: a row the host refuses, or one it takes
// with a warning only.
class FlawedRowPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"flaw", ConfigType::string, "\"none\"", false,
       "none, lineitem_type, no_cost, tag_without_id, deprecated"},
  };
  explicit FlawedRowPlugin(const Config& config) : flaw_(config.get_string("flaw")) {}
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{Month(2026, 8)}; }
  Status read(Month, RowSink& sink) override {
    sink.begin_row("fees.csv:2");
    sink.field("time/usage_start", "2026-08-01T00:00:00Z");
    sink.field("cost/cost", "100.00");
    sink.field("lineitem/type", "Fee");
    if (Status status = sink.end_row(); !status)
      return status;
    sink.begin_row("fees.csv:3");
    sink.field("time/usage_start", "2026-08-02T00:00:00Z");
    if (flaw_ != "no_cost")
      sink.field("cost/cost", "12.5");
    sink.field("lineitem/type", flaw_ == "lineitem_type" ? "Feee" : "Fee");
    if (flaw_ == "tag_without_id")
      sink.field("resource/tag:team", "ml");
    if (flaw_ == "deprecated")
      sink.field("action/account", "123");
    return sink.end_row();
  }

private:
  std::string flaw_;
};

const bd_plugin_descriptor* flawed() {
  return descriptor_of<FlawedRowPlugin>("flawed");
}

TEST(Harness, ARowTheHostWouldRefuseFailsTheRead) {
  testing::PluginHarness harness(flawed(), {{"flaw", std::string("lineitem_type")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2026, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::data);
  const std::string& message = rows.error().message();
  EXPECT_NE(message.find("1 problem(s) in the plugin's rows that the host would refuse"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("row 1 (fees.csv:3): lineitem/type: expected one of Usage, Tax"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("got \"Feee\" [lineitem_type]"), std::string::npos) << message;
  ASSERT_EQ(harness.row_problems().size(), 1u);
  EXPECT_EQ(harness.row_problems()[0].row, 1u);
  EXPECT_EQ(harness.row_problems()[0].rule, "lineitem_type");
}

TEST(Harness, EachRuleOfTheHostIsChecked) {
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> cases = {
      {"no_cost", {"cost/cost", "required"}},
      {"tag_without_id", {"resource/id", "resource_id_with_tags"}},
  };
  for (const auto& [flaw, expected] : cases) {
    testing::PluginHarness harness(flawed(), {{"flaw", flaw}});
    ASSERT_TRUE(harness.create().ok());
    harness.accept_invalid_rows();
    Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2026, 8));
    ASSERT_TRUE(rows.ok()) << flaw << ": " << rows.error().message();
    EXPECT_EQ(rows->size(), 2u) << flaw;
    ASSERT_EQ(harness.row_problems().size(), 1u) << flaw;
    EXPECT_EQ(harness.row_problems()[0].row, 1u) << flaw;
    EXPECT_EQ(harness.row_problems()[0].origin, "fees.csv:3") << flaw;
    EXPECT_EQ(harness.row_problems()[0].column, expected.first) << flaw;
    EXPECT_EQ(harness.row_problems()[0].rule, expected.second) << flaw;
  }
}

TEST(Harness, ValidRowsAndWarningsPass) {
  for (const std::string flaw : {"none", "deprecated"}) {
    testing::PluginHarness harness(flawed(), {{"flaw", flaw}});
    ASSERT_TRUE(harness.create().ok());
    Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2026, 8));
    ASSERT_TRUE(rows.ok()) << flaw << ": " << rows.error().message();
    EXPECT_EQ(rows->size(), 2u);
    // The rows come back as the plugin wrote them, not as the host normalises them.
    EXPECT_EQ(rows->at(1).get("cost/cost"), "12.5");
    EXPECT_TRUE(harness.row_problems().empty()) << flaw;
  }
}

TEST(Harness, MonthsComeBackAsMonths) {
  testing::PluginHarness harness(counting(), {{"label", std::string("vm")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<Month>> months = harness.months();
  ASSERT_TRUE(months.ok());
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 8)}));
}

TEST(Harness, ValidatesConfigurationLikeTheHost) {
  testing::PluginHarness harness(counting(), {{"rows", std::string("3")}});
  const Status status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::config);
  EXPECT_EQ(status.error().message(),
            "plugin 'counting': config key 'rows' must be an integer, got a string\n"
            "plugin 'counting': missing required config key 'label'");
}

TEST(Adapter, PluginErrorFromTheConstructorKeepsItsKind) {
  testing::PluginHarness harness(counting(), {{"label", std::string()}});
  const Status status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::config);
  EXPECT_EQ(status.error().message(), "label must not be empty");
}

TEST(Adapter, ExceptionInReadBecomesInternalWithTheMessage) {
  testing::PluginHarness harness(counting(),
                                 {{"label", std::string("x")}, {"fail", std::string("runtime")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::internal);
  EXPECT_FALSE(rows.error().retryable());
  EXPECT_EQ(rows.error().message(), "unexpected exception: boom");
}

TEST(Adapter, BadAllocBecomesOutOfMemory) {
  testing::PluginHarness harness(counting(),
                                 {{"label", std::string("x")}, {"fail", std::string("bad_alloc")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::internal);
  EXPECT_EQ(rows.error().message(), "out of memory");
}

TEST(Adapter, PluginErrorKeepsKindAndRetryable) {
  testing::PluginHarness harness(
      counting(), {{"label", std::string("x")}, {"fail", std::string("plugin_error")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::source);
  EXPECT_TRUE(rows.error().retryable());
  EXPECT_EQ(rows.error().message(), "rate limited by the vendor API");
}

TEST(Adapter, ErrorResultFromMonthsBecomesItsCode) {
  testing::PluginHarness harness(counting(),
                                 {{"label", std::string("x")}, {"fail", std::string("status")}});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<Month>> months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::data);
  EXPECT_EQ(months.error().message(), "the export has no header");
}

// Creates an instance through the raw descriptor, as the host does.
void* create_raw(const std::string& config_json) {
  void* instance = nullptr;
  char buffer[256];
  bd_error error{0, buffer, sizeof buffer, 0};
  EXPECT_EQ(counting()->create(config_json.data(), config_json.size(), &instance, &error), BD_OK)
      << std::string(buffer, error.size);
  return instance;
}

TEST(Adapter, MessagesAreTruncatedToTheBufferCapacity) {
  void* instance = create_raw(R"({"rows":2,"fail":"long","label":"x"})");
  ASSERT_NE(instance, nullptr);
  char buffer[16];
  std::memset(buffer, '#', sizeof buffer);
  bd_error error{0, buffer, sizeof buffer, 0};
  EXPECT_EQ(counting()->check(instance, &error), BD_ERR_SOURCE);
  EXPECT_EQ(error.size, 15u);
  EXPECT_EQ(std::string(buffer, error.size), std::string(15, 'a'));
  EXPECT_EQ(buffer[15], '\0');

  // Across the 4 KiB buffer the host uses: 4095 bytes, the first 100 'a' then 'b'.
  std::vector<char> host_buffer(4096, '#');
  bd_error host_error{0, host_buffer.data(), host_buffer.size(), 0};
  EXPECT_EQ(counting()->check(instance, &host_error), BD_ERR_SOURCE);
  EXPECT_EQ(host_error.size, 4095u);
  EXPECT_EQ(std::string(host_buffer.data(), host_error.size),
            std::string(100, 'a') + std::string(3995, 'b'));
  EXPECT_EQ(host_buffer[4095], '\0');

  // A buffer of one byte holds only the terminator.
  char one = '#';
  bd_error tiny{0, &one, 1, 99};
  EXPECT_EQ(counting()->check(instance, &tiny), BD_ERR_SOURCE);
  EXPECT_EQ(tiny.size, 0u);
  EXPECT_EQ(one, '\0');
  counting()->destroy(instance);
}

TEST(Adapter, InvalidConfigJsonFailsCreate) {
  void* instance = nullptr;
  char buffer[256];
  bd_error error{0, buffer, sizeof buffer, 0};
  const std::string json = R"({"rows":"2","fail":"none","label":"x"})";
  EXPECT_EQ(counting()->create(json.data(), json.size(), &instance, &error), BD_ERR_CONFIG);
  EXPECT_EQ(instance, nullptr);
  EXPECT_EQ(std::string(buffer, error.size), "config key 'rows' is a string, not an integer");
}

// A sink that records the size of every batch and can ask the plugin to stop.
struct BatchRecorder {
  std::vector<std::size_t> sizes;
  std::vector<std::string> first_origins;
  std::size_t stop_at = 0; // 1-based batch that returns "stop"; 0 = never

  bd_sink sink() {
    return bd_sink{this,
                   [](void* context, const bd_row* rows, size_t count) -> int32_t {
                     auto* self = static_cast<BatchRecorder*>(context);
                     self->sizes.push_back(count);
                     self->first_origins.emplace_back(rows[0].origin.data, rows[0].origin.size);
                     return self->sizes.size() == self->stop_at ? 1 : 0;
                   },
                   nullptr, nullptr, nullptr};
  }
};

TEST(RowSink, RowsArriveInBatchesOf1024) {
  void* instance = create_raw(R"({"rows":2500,"fail":"none","label":"x"})");
  BatchRecorder recorder;
  const bd_sink sink = recorder.sink();
  char buffer[256];
  bd_error error{0, buffer, sizeof buffer, 0};
  EXPECT_EQ(counting()->read(instance, bd_str{"2024-08", 7}, &sink, &error), BD_OK)
      << std::string(buffer, error.size);
  EXPECT_EQ(recorder.sizes, (std::vector<std::size_t>{1024, 1024, 452}));
  EXPECT_EQ(recorder.first_origins,
            (std::vector<std::string>{"counting:1", "counting:1025", "counting:2049"}));
  counting()->destroy(instance);
}

TEST(RowSink, HostStopBecomesCancelled) {
  void* instance = create_raw(R"({"rows":2500,"fail":"none","label":"x"})");
  BatchRecorder recorder;
  recorder.stop_at = 2;
  const bd_sink sink = recorder.sink();
  char buffer[256];
  bd_error error{0, buffer, sizeof buffer, 0};
  EXPECT_EQ(counting()->read(instance, bd_str{"2024-08", 7}, &sink, &error), BD_ERR_CANCELLED);
  EXPECT_EQ(std::string(buffer, error.size), "the host stopped the read");
  EXPECT_EQ(recorder.sizes, (std::vector<std::size_t>{1024, 1024}));
  counting()->destroy(instance);
}

TEST(RowSink, InvalidMonthTextIsAnError) {
  void* instance = create_raw(R"({"rows":1,"fail":"none","label":"x"})");
  BatchRecorder recorder;
  const bd_sink sink = recorder.sink();
  char buffer[256];
  bd_error error{0, buffer, sizeof buffer, 0};
  EXPECT_NE(counting()->read(instance, bd_str{"2024-13", 7}, &sink, &error), BD_OK);
  EXPECT_GT(error.size, 0u);
  EXPECT_TRUE(recorder.sizes.empty());
  counting()->destroy(instance);
}

TEST(RowSink, CountsAndSmallBatches) {
  std::vector<std::size_t> sizes;
  bd_sink sink{&sizes,
               [](void* context, const bd_row*, size_t count) -> int32_t {
                 static_cast<std::vector<std::size_t>*>(context)->push_back(count);
                 return 0;
               },
               nullptr, nullptr, nullptr};
  RowSink rows(&sink, 2);
  for (int i = 0; i < 5; ++i) {
    rows.begin_row("r");
    rows.field("k", "v");
    ASSERT_TRUE(rows.end_row().ok());
  }
  rows.reject("r", "no cost"); // a null reject callback is tolerated
  ASSERT_TRUE(rows.flush().ok());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(rows.rows_written(), 5u);
  EXPECT_EQ(rows.rows_rejected(), 1u);
}

// Fields of every size (empty, 1 to 39 bytes, far more than the arena holds at first) make the
// arena grow in the middle of batches. Every row must arrive as written, and every batch's
// strings back to back in row order (origin, key, value, key, value, ...), the layout the host
// copies in one piece.
TEST(RowSink, FieldsArriveIntactAndBackToBackWhileTheArenaGrows) {
  struct Received {
    std::vector<std::vector<std::string>> rows; // origin, key, value, key, value, ...
    std::size_t gaps = 0;                       // strings not starting where the one before ended
  } received;
  bd_sink sink{&received,
               [](void* context, const bd_row* rows, size_t count) -> int32_t {
                 auto* self = static_cast<Received*>(context);
                 const char* next = nullptr;
                 const auto see = [&](bd_str text, std::vector<std::string>& out) {
                   if (next != nullptr && text.size > 0 && text.data != next)
                     ++self->gaps;
                   if (text.size > 0)
                     next = text.data + text.size;
                   out.emplace_back(text.data, text.size);
                 };
                 for (std::size_t r = 0; r < count; ++r) {
                   std::vector<std::string>& row = self->rows.emplace_back();
                   see(rows[r].origin, row);
                   for (std::size_t f = 0; f < rows[r].field_count; ++f) {
                     see(rows[r].fields[f].key, row);
                     see(rows[r].fields[f].value, row);
                   }
                 }
                 return 0;
               },
               nullptr, nullptr, nullptr};
  std::vector<std::vector<std::string>> expected;
  RowSink rows(&sink, 7);
  for (std::size_t r = 0; r < 40; ++r) {
    std::vector<std::string>& row = expected.emplace_back();
    row.push_back("file.csv:" + std::to_string(r + 1));
    rows.begin_row(row.back());
    for (std::size_t f = 0; f < r % 5 + 1; ++f) {
      const std::string key = "cost/field" + std::string(f, 'k');
      const std::size_t size = (r * 7 + f * 3) % 40 + (r % 9 == 4 ? 50'000 * (r + 1) : 0);
      std::string value(size, 'a');
      for (std::size_t i = 0; i < size; ++i)
        value[i] = static_cast<char>('a' + (r + f + i) % 26);
      row.push_back(key);
      row.push_back(value);
      rows.field(key, value);
    }
    ASSERT_TRUE(rows.end_row().ok());
  }
  ASSERT_TRUE(rows.flush().ok());
  EXPECT_TRUE(received.rows == expected);
  EXPECT_EQ(received.gaps, 0u);
}

// ---- retained batches (ABI 1.5) ----

// A host sink with write_retained: it reads each batch only when it must let go of it (when
// BILLDROP_RETAINED_BATCHES more have come, or at release), as a host validating on another
// thread may, so a RowSink that reused a batch's buffers too early hands it rows that changed
// under it.
struct LateReader {
  std::vector<std::vector<std::string>> rows; // origin, key, value, ... as read late
  std::deque<std::pair<const bd_row*, std::size_t>> held;
  int writes = 0;
  int retained_writes = 0;
  int releases = 0;

  void read_oldest() {
    const auto [batch, count] = held.front();
    held.pop_front();
    for (std::size_t r = 0; r < count; ++r) {
      std::vector<std::string>& row = rows.emplace_back();
      row.emplace_back(batch[r].origin.data, batch[r].origin.size);
      for (std::size_t f = 0; f < batch[r].field_count; ++f) {
        row.emplace_back(batch[r].fields[f].key.data, batch[r].fields[f].key.size);
        row.emplace_back(batch[r].fields[f].value.data, batch[r].fields[f].value.size);
      }
    }
  }
  bd_sink sink() {
    bd_sink sink{};
    sink.context = this;
    sink.write = [](void* context, const bd_row*, size_t) -> int32_t {
      ++static_cast<LateReader*>(context)->writes;
      return 0;
    };
    sink.write_retained = [](void* context, const bd_row* rows, size_t count) -> int32_t {
      auto* self = static_cast<LateReader*>(context);
      ++self->retained_writes;
      self->held.emplace_back(rows, count);
      // Returning lets the plugin reuse the batch BILLDROP_RETAINED_BATCHES before this one:
      // read it only now.
      if (self->held.size() > BILLDROP_RETAINED_BATCHES)
        self->read_oldest();
      return 0;
    };
    sink.release = [](void* context) {
      auto* self = static_cast<LateReader*>(context);
      ++self->releases;
      while (!self->held.empty())
        self->read_oldest();
    };
    return sink;
  }
};

TEST(RowSink, RetainedBatchesStayIntactUntilTheNextOneOrRelease) {
  LateReader reader;
  const bd_sink sink = reader.sink();
  std::vector<std::vector<std::string>> expected;
  {
    RowSink rows(&sink, 3);
    for (std::size_t r = 0; r < 20; ++r) {
      std::vector<std::string>& row = expected.emplace_back();
      row.push_back("file.csv:" + std::to_string(r + 1));
      rows.begin_row(row.back());
      for (std::size_t f = 0; f < r % 4 + 1; ++f) {
        // Sizes that make each buffer grow now and then, in the middle of a batch.
        const std::size_t size = (r * 5 + f) % 30 + (r % 7 == 3 ? 20'000 * (r + 1) : 0);
        std::string value(size, static_cast<char>('a' + (r + f) % 26));
        row.push_back("cost/f" + std::to_string(f));
        row.push_back(value);
        rows.field(row[row.size() - 2], value);
      }
      ASSERT_TRUE(rows.end_row().ok());
    }
    ASSERT_TRUE(rows.flush().ok());
    EXPECT_EQ(reader.releases, 0) << "the last batch is released when the sink goes";
  }
  EXPECT_EQ(reader.releases, 1);
  EXPECT_EQ(reader.writes, 0) << "a host with write_retained gets every batch through it";
  EXPECT_EQ(reader.retained_writes, 7); // 20 rows, 3 a batch
  EXPECT_TRUE(reader.rows == expected);
}

TEST(RowSink, ReleasesWhenTheReadFailsAndNotWithoutRetainedBatches) {
  LateReader reader;
  const bd_sink sink = reader.sink();
  {
    RowSink rows(&sink, 2);
    rows.begin_row("only");
    rows.field("cost/cost", "1");
    ASSERT_TRUE(rows.end_row().ok()); // not sent yet: nothing retained
  }
  EXPECT_EQ(reader.releases, 0);
  EXPECT_EQ(reader.retained_writes, 0);
  try {
    RowSink rows(&sink, 1);
    rows.begin_row("a");
    rows.field("cost/cost", "2");
    ASSERT_TRUE(rows.end_row().ok());
    throw std::runtime_error("the plugin fails halfway");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(reader.retained_writes, 1);
  EXPECT_EQ(reader.releases, 1) << "unwinding releases the batch the host may hold";
  ASSERT_EQ(reader.rows.size(), 1u);
  EXPECT_EQ(reader.rows[0], (std::vector<std::string>{"a", "cost/cost", "2"}));
}

// ---- incremental sources (ABI 1.3) ----

// The cursor is a number n: read_since(n) writes parts n+1..parts, `rows` rows each, with a
// checkpoint after each part. `next` = "keep" leaves next_cursor alone; read() calls checkpoint.
class PartsPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"parts", ConfigType::integer, "2", false, "Parts the source holds"},
      {"rows", ConfigType::integer, "3", false, "Rows per part"},
      {"next", ConfigType::string, "\"set\"", false, "set or keep"},
  };
  explicit PartsPlugin(const Config& config)
      : parts_(config.get_int("parts")), rows_(config.get_int("rows")),
        next_(config.get_string("next")) {}
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{}; }
  Status read(Month, RowSink& sink) override { return sink.checkpoint("nowhere"); }
  bool incremental() const override { return true; }
  std::vector<std::string> identity_columns() const override { return {"lineitem/id"}; }
  Status read_since(std::string_view cursor, RowSink& sink, std::string& next_cursor) override {
    const std::int64_t from = cursor.empty() ? 0 : std::stoll(std::string(cursor));
    for (std::int64_t part = from + 1; part <= parts_; ++part) {
      for (std::int64_t i = 1; i <= rows_; ++i) {
        // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "p" + std::to_string().
        std::string origin = "p";
        origin.append(std::to_string(part)).append(":").append(std::to_string(i));
        sink.begin_row(origin);
        sink.field("lineitem/id", std::to_string(i));
        if (Status status = sink.end_row(); !status)
          return status;
      }
      if (next_ == "keep")
        continue;
      next_cursor = std::to_string(part);
      if (Status status = sink.checkpoint(next_cursor); !status)
        return status;
    }
    return {};
  }

private:
  std::int64_t parts_;
  std::int64_t rows_;
  std::string next_;
};

TEST(Incremental, APluginIsNotIncrementalUnlessItSaysSo) {
  testing::PluginHarness harness(counting(), {{"label", std::string("vm")}});
  ASSERT_TRUE(harness.create().ok());
  Result<testing::PluginHarness::Incremental> answer = harness.incremental();
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_FALSE(answer->incremental);
  EXPECT_TRUE(answer->identity_columns.empty());
  Result<std::vector<testing::CapturedRow>> rows = harness.read_since("");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::internal);
  EXPECT_EQ(rows.error().message(), "this plugin does not read increments");
}

TEST(Incremental, EachCheckpointComesAfterTheRowsBeforeIt) {
  testing::PluginHarness harness(descriptor_of<PartsPlugin>("parts"), {});
  ASSERT_TRUE(harness.create().ok());
  harness.accept_invalid_rows(); // rows of an id alone: the cursors are what is tested
  Result<testing::PluginHarness::Incremental> answer = harness.incremental();
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_TRUE(answer->incremental);
  EXPECT_EQ(answer->identity_columns, std::vector<std::string>{"lineitem/id"});

  Result<std::vector<testing::CapturedRow>> rows = harness.read_since("");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 6u);
  EXPECT_EQ(rows->at(3).origin, "p2:1");
  // Each part's rows are flushed before its cursor (the batch is not full); the SDK sends the
  // final cursor again after read_since returns.
  EXPECT_EQ(harness.cursors(), (std::vector<std::string>{"1", "2", "2"}));
  EXPECT_EQ(harness.cursor_rows(), (std::vector<std::size_t>{3, 6, 6}));
  EXPECT_EQ(harness.batches(), 2u);

  rows = harness.read_since("2");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(rows->empty());
  EXPECT_EQ(harness.cursors(), std::vector<std::string>{"2"});
}

TEST(Incremental, NextCursorStartsAsTheCursorGiven) {
  testing::PluginHarness harness(descriptor_of<PartsPlugin>("parts_keep"),
                                 {{"next", std::string("keep")}});
  ASSERT_TRUE(harness.create().ok());
  harness.accept_invalid_rows();
  Result<std::vector<testing::CapturedRow>> rows = harness.read_since("0");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(rows->size(), 6u);
  EXPECT_EQ(harness.cursors(), std::vector<std::string>{"0"});
  EXPECT_EQ(harness.cursor_rows(), std::vector<std::size_t>{6});
}

TEST(Incremental, ACheckpointOutsideReadSinceIsAnError) {
  testing::PluginHarness harness(descriptor_of<PartsPlugin>("parts_read"), {});
  ASSERT_TRUE(harness.create().ok());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::internal);
  EXPECT_EQ(rows.error().message(), "RowSink::checkpoint() was called outside read_since(): only "
                                    "an incremental read has a cursor");
}

} // namespace
} // namespace billdrop
