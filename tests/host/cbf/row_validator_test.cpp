#include "cbf/row_validator.hpp"

#include <billdrop/detail/short_copy.hpp>
#include <billdrop/json_text.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace billdrop::cbf {
namespace {

struct Outcome {
  bool valid = false;
  NormalizedRow row;
  std::vector<RowIssue> issues;

  std::size_t errors() const {
    std::size_t count = 0;
    for (const RowIssue& issue : issues)
      count += issue.severity == Severity::error;
    return count;
  }
  // The first issue with this rule, or nullptr.
  const RowIssue* find(std::string_view rule) const {
    for (const RowIssue& issue : issues)
      if (issue.rule == rule)
        return &issue;
    return nullptr;
  }
};

Outcome normalize(std::vector<FieldView> fields) {
  Outcome outcome;
  outcome.valid = RowValidator().normalize(fields, outcome.row, outcome.issues);
  return outcome;
}

// A valid row plus the given fields.
Outcome normalize_with(std::vector<FieldView> extra) {
  std::vector<FieldView> fields{{"time/usage_start", "2024-08-16T05:00:00Z"}, {"cost/cost", "1"}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  return normalize(std::move(fields));
}

// Expects exactly one error, with this column and rule; returns its message.
std::string single_error(const Outcome& outcome, std::string_view column, std::string_view rule) {
  EXPECT_FALSE(outcome.valid);
  EXPECT_EQ(outcome.errors(), 1u);
  const RowIssue* issue = outcome.find(rule);
  if (issue == nullptr) {
    ADD_FAILURE() << "no issue with rule " << rule;
    return "";
  }
  EXPECT_EQ(issue->severity, Severity::error);
  EXPECT_EQ(issue->column, column);
  return issue->message;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

TEST(RowValidator, NormalizesAMinimalRow) {
  const Outcome out =
      normalize({{"cost/cost", "12.50"}, {"time/usage_start", "2024-08-16T05:00:00Z"}});
  ASSERT_TRUE(out.valid);
  EXPECT_TRUE(out.issues.empty());
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z","cost/cost":"12.50"})");
  EXPECT_EQ(out.row.usage_start, "2024-08-16T05:00:00Z");
  EXPECT_EQ(out.row.time.seconds, 1723784400); // 19951 days * 86400 + 5 h, worked out by hand
  EXPECT_EQ(out.row.month, Month(2024, 8));
  EXPECT_EQ(out.row.cost, Decimal::from_string("12.5"));
  EXPECT_EQ(out.row.lineitem_type, "Usage");
}

TEST(RowValidator, WritesColumnsInCanonicalOrderAndTagsSortedByKey) {
  const Outcome out = normalize({
      {"resource/tag:zone", "b"},
      {"k8s/cluster", "prod"},
      {"resource/tag:app", "web"},
      {"resource/region", "us-east-1"},
      {"resource/id", "i-123"},
      {"cost/cost", "3"},
      {"lineitem/type", "Tax"},
      {"resource/tag:Team", "ml"}, // upper case sorts before lower case (byte order)
      {"time/usage_start", "2024-08-16T05:00:00Z"},
      {"usage/amount", "2"},
  });
  ASSERT_TRUE(out.valid) << out.issues.front().message;
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z","lineitem/type":"Tax",)"
                          R"("cost/cost":"3","usage/amount":"2","resource/id":"i-123",)"
                          R"("resource/region":"us-east-1","k8s/cluster":"prod",)"
                          R"("resource/tag:Team":"ml","resource/tag:app":"web",)"
                          R"("resource/tag:zone":"b"})");
  EXPECT_EQ(out.row.lineitem_type, "Tax");
}

// A few tags are sorted one way, many another: both give byte order, and a repeat is found.
TEST(RowValidator, SortsFewAndManyTagsAlike) {
  for (const int count : {2, 5, 16, 17, 40}) {
    std::vector<std::string> keys;
    for (int i = count - 1; i >= 0; --i) // reverse order: every tag moves
      keys.push_back("resource/tag:k" + std::to_string(100 + i));
    std::vector<FieldView> fields{
        {"time/usage_start", "2024-08-16T05:00:00Z"}, {"cost/cost", "1"}, {"resource/id", "r"}};
    for (const std::string& key : keys)
      fields.push_back({key, "v"});
    const Outcome out = normalize(fields);
    ASSERT_TRUE(out.valid) << count;
    std::string expected = R"({"time/usage_start":"2024-08-16T05:00:00Z","cost/cost":"1",)"
                           R"("resource/id":"r")";
    for (int i = 0; i < count; ++i)
      expected += ",\"resource/tag:k" + std::to_string(100 + i) + "\":\"v\"";
    EXPECT_EQ(out.row.json, expected + "}") << count;

    fields.push_back({keys[keys.size() / 2], "again"});
    single_error(normalize(fields), keys[keys.size() / 2], "duplicate_column");
  }
}

TEST(RowValidator, OmitsBlankValuesAndBlankTags) {
  const Outcome out = normalize_with({{"resource/service", ""},
                                      {"lineitem/description", "   "},
                                      {"resource/tag:team", ""},
                                      {"cost/discounted_cost", ""},
                                      {"lineitem/type", ""}});
  ASSERT_TRUE(out.valid);
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z","cost/cost":"1"})");
  EXPECT_EQ(out.row.lineitem_type, "Usage"); // blank type means the default
}

TEST(RowValidator, EscapesTextValuesAndKeepsUtf8) {
  const Outcome out = normalize_with({{"lineitem/description", "GPU \"A100\"\n\\ Zürich €"}});
  ASSERT_TRUE(out.valid);
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z",)"
                          R"("lineitem/description":"GPU \"A100\"\n\\ Zürich €","cost/cost":"1"})");
}

TEST(RowValidator, RequiresUsageStartAndCost) {
  std::string message =
      single_error(normalize({{"cost/cost", "1"}}), "time/usage_start", "required");
  EXPECT_TRUE(contains(message, "missing")) << message;
  message = single_error(normalize({{"time/usage_start", " "}, {"cost/cost", "1"}}),
                         "time/usage_start", "required");
  EXPECT_TRUE(contains(message, "blank")) << message;
  single_error(normalize({{"time/usage_start", "2024-08-16"}}), "cost/cost", "required");
  single_error(normalize({{"time/usage_start", "2024-08-16"}, {"cost/cost", ""}}), "cost/cost",
               "required");
  const Outcome neither = normalize({{"resource/id", "x"}});
  EXPECT_FALSE(neither.valid);
  EXPECT_EQ(neither.errors(), 2u);
}

TEST(RowValidator, NormalizesEveryAcceptedTimestampForm) {
  struct Case {
    std::string_view input;
    std::string_view expected;
  };
  const Case cases[] = {
      {"2024-08-16", "2024-08-16T00:00:00Z"},
      {"2024-08-16T05:00:00Z", "2024-08-16T05:00:00Z"},
      {"2024-08-16T05:00:00.000Z", "2024-08-16T05:00:00Z"},
      {"2024-08-16T05:07:09.123456Z", "2024-08-16T05:07:09Z"},
      {"2024-08-16t05:00:00z", "2024-08-16T05:00:00Z"},
      {"2024-08-16 05:00:00", "2024-08-16T05:00:00Z"},
      {"2024-08-16T05:00Z", "2024-08-16T05:00:00Z"},
      {"2024-08-16T05:00", "2024-08-16T05:00:00Z"},
      {"2020-11-09 23:00:00+00:00", "2020-11-09T23:00:00Z"},
      {"2024-08-16T05:00:00+02:00", "2024-08-16T03:00:00Z"},
      {"2024-08-16T05:00:00+0530", "2024-08-15T23:30:00Z"},
      {"2024-08-16T05:00:00+05", "2024-08-16T00:00:00Z"},
      {"2024-08-16T20:00:00-05:00", "2024-08-17T01:00:00Z"},
      {"2025-09-16 00:00:00.000000 UTC", "2025-09-16T00:00:00Z"},
      {"2025-09-16 00:00:00 GMT", "2025-09-16T00:00:00Z"},
      {"20180801T000000.000Z", "2018-08-01T00:00:00Z"},
      {"08/16/2024", "2024-08-16T00:00:00Z"},
      {"8/16/2024", "2024-08-16T00:00:00Z"},
      {"8/16/2024 5:00:00 AM", "2024-08-16T05:00:00Z"},
      {"8/16/2024 5:00:00 PM", "2024-08-16T17:00:00Z"},
      {"8/16/2024 12:00:00 AM", "2024-08-16T00:00:00Z"},
      {"2024/08/16", "2024-08-16T00:00:00Z"},
      {"  2024-08-16T05:00:00Z ", "2024-08-16T05:00:00Z"}, // surrounding spaces are trimmed
  };
  for (const Case& c : cases) {
    const Outcome out = normalize({{"time/usage_start", c.input}, {"cost/cost", "1"}});
    ASSERT_TRUE(out.valid) << c.input << ": " << out.issues.front().message;
    EXPECT_EQ(out.row.usage_start, c.expected) << c.input;
    EXPECT_EQ(out.row.json,
              "{\"time/usage_start\":\"" + std::string(c.expected) + "\",\"cost/cost\":\"1\"}")
        << c.input;
  }
}

// The validator reads all of the forms above; a CBF file that `validate` checks must already hold
// the API's (reference: ISO 8601 UTC, 2024-08-16T00:00:00Z). Each readable other form is an
// iso_timestamp problem saying how billdrop reads it; an unreadable one is left to `timestamp`.
TEST(RowValidator, OnlyIso8601UtcIsTheApiTimeForm) {
  for (std::string_view api : {"2024-08-16T05:00:00Z", "2024-08-16T05:07:09.123456Z",
                               "2024-08-16T05:00:00.0Z", "2020-11-09T23:00:00+00:00"}) {
    EXPECT_FALSE(iso_timestamp_issue("time/usage_start", api).has_value()) << api;
    EXPECT_FALSE(iso_timestamp_issue("time/usage_end", api).has_value()) << api;
  }
  struct Case {
    std::string_view input;
    std::string_view read_as; // worked out by hand
  };
  for (const Case& c :
       {Case{"03/05/2026", "2026-03-05T00:00:00Z"}, Case{"2024-08-16", "2024-08-16T00:00:00Z"},
        Case{"2024-08-16 05:00:00", "2024-08-16T05:00:00Z"},
        Case{"2024-08-16T05:00:00", "2024-08-16T05:00:00Z"},
        Case{"2024-08-16T05:00Z", "2024-08-16T05:00:00Z"},
        Case{"2024-08-16t05:00:00z", "2024-08-16T05:00:00Z"},
        Case{"2024-08-16T05:00:00+02:00", "2024-08-16T03:00:00Z"},
        Case{"2024-08-16T05:00:00.Z", ""}, // a point without digits: unreadable
        Case{"20180801T000000.000Z", "2018-08-01T00:00:00Z"},
        Case{"2025-09-16 00:00:00 UTC", "2025-09-16T00:00:00Z"},
        Case{" 2024-08-16T05:00:00Z", "2024-08-16T05:00:00Z"}}) {
    const std::optional<RowIssue> issue = iso_timestamp_issue("time/usage_start", c.input);
    if (c.read_as.empty()) {
      EXPECT_FALSE(issue.has_value()) << c.input;
      continue;
    }
    ASSERT_TRUE(issue.has_value()) << c.input;
    EXPECT_EQ(issue->column, "time/usage_start");
    EXPECT_EQ(issue->rule, "iso_timestamp");
    EXPECT_EQ(issue->severity, Severity::error);
    std::string quoted = "\"";
    quoted.append(c.input).push_back('"');
    EXPECT_TRUE(contains(issue->message, quoted)) << issue->message;
    EXPECT_TRUE(contains(issue->message, c.read_as)) << issue->message;
  }
  // Not a time at all, blank, or not a time column: nothing here.
  for (std::string_view other : {"2026-02-30T00:00:00Z", "2026-02-30", "yesterday", "", "  "})
    EXPECT_FALSE(iso_timestamp_issue("time/usage_start", other).has_value()) << other;
  EXPECT_FALSE(iso_timestamp_issue("lineitem/description", "03/05/2026").has_value());
  EXPECT_FALSE(iso_timestamp_issue("cost/cost", "1").has_value());
}

TEST(RowValidator, TheMonthComesFromTheUtcTime) {
  // 22:00 at UTC-05:00 on 31 August is 03:00 UTC on 1 September.
  const Outcome out =
      normalize({{"time/usage_start", "2024-08-31T22:00:00-05:00"}, {"cost/cost", "1"}});
  ASSERT_TRUE(out.valid);
  EXPECT_EQ(out.row.usage_start, "2024-09-01T03:00:00Z");
  EXPECT_EQ(out.row.month, Month(2024, 9));
}

TEST(RowValidator, RejectsUnreadableTimestamps) {
  for (std::string_view bad : {"2023-02-29", "2024-08-16T24:00:00Z", "yesterday",
                               "2024-08-16T05:00:00Z junk", "16.08.2024"}) {
    const std::string message =
        single_error(normalize({{"time/usage_start", bad}, {"cost/cost", "1"}}), "time/usage_start",
                     "timestamp");
    EXPECT_TRUE(contains(message, bad)) << message;
  }
}

// Times already written as billdrop writes them take a short path; the seconds, month and text
// must be those of the general parser, and the same values must be refused.
TEST(RowValidator, CanonicalTimesReadAsTheGeneralParserReadsThem) {
  struct Known {
    std::string_view text;
    std::int64_t seconds; // from Python's calendar.timegm
    Month month;
  };
  for (const Known& known : {Known{"2024-02-29T23:59:59Z", 1709251199, Month(2024, 2)},
                             Known{"2000-01-01T00:00:00Z", 946684800, Month(2000, 1)},
                             Known{"1900-01-01T00:00:00Z", -2208988800, Month(1900, 1)},
                             Known{"9999-12-31T23:59:59Z", 253402300799, Month(9999, 12)},
                             Known{"1969-12-31T23:59:59Z", -1, Month(1969, 12)}}) {
    const Outcome out = normalize({{"time/usage_start", known.text}, {"cost/cost", "1"}});
    ASSERT_TRUE(out.valid) << known.text;
    EXPECT_EQ(out.row.time.seconds, known.seconds) << known.text;
    EXPECT_EQ(out.row.month, known.month) << known.text;
    EXPECT_EQ(out.row.usage_start, known.text);
  }
  std::mt19937_64 rng(7);
  const auto two = [](unsigned value) {
    return std::string(1, static_cast<char>('0' + value / 10 % 10)) +
           static_cast<char>('0' + value % 10);
  };
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    const unsigned year = 1895 + static_cast<unsigned>(rng() % 140);
    const unsigned month = static_cast<unsigned>(rng() % 14);
    const unsigned day = static_cast<unsigned>(rng() % 33);
    const unsigned hour = static_cast<unsigned>(rng() % 26);
    const unsigned minute = static_cast<unsigned>(rng() % 62);
    const unsigned second = static_cast<unsigned>(rng() % 62);
    const std::string date = std::to_string(year) + "-" + two(month) + "-" + two(day);
    const std::string clock = two(hour) + ":" + two(minute) + ":" + two(second);
    const std::string canonical = date + "T" + clock + "Z";
    const std::string spaced = date + " " + clock; // another form: the general parser
    const Outcome fast = normalize({{"time/usage_start", canonical}, {"cost/cost", "1"}});
    const Outcome general = normalize({{"time/usage_start", spaced}, {"cost/cost", "1"}});
    ASSERT_EQ(fast.valid, general.valid) << canonical;
    if (!fast.valid) {
      ++refused;
      single_error(fast, "time/usage_start", "timestamp");
      continue;
    }
    EXPECT_EQ(fast.row.time, general.row.time) << canonical;
    EXPECT_EQ(fast.row.month, general.row.month) << canonical;
    EXPECT_EQ(fast.row.usage_start, canonical);
    EXPECT_EQ(fast.row.json, general.row.json) << canonical;
  }
  EXPECT_GT(refused, 1000); // both branches were exercised
  EXPECT_LT(refused, 4000);
}

TEST(RowValidator, NormalizesAndChecksUsageEnd) {
  const Outcome out = normalize_with({{"time/usage_end", "2024-08-16 06:00:00"}});
  ASSERT_TRUE(out.valid);
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z",)"
                          R"("time/usage_end":"2024-08-16T06:00:00Z","cost/cost":"1"})");
  single_error(normalize_with({{"time/usage_end", "soon"}}), "time/usage_end", "timestamp");
}

TEST(RowValidator, WritesDecimalsAsPlainDigits) {
  struct Case {
    std::string_view input;
    std::string_view expected;
  };
  const Case cases[] = {
      {"5e-06", "0.000005"}, {"1.2E+3", "1200"},    {"-0.5", "-0.5"},
      {"12.50", "12.50"},    {"-1.5e-2", "-0.015"}, {" 7 ", "7"},
  };
  for (const Case& c : cases) {
    const Outcome out = normalize({{"time/usage_start", "2024-08-16T05:00:00Z"},
                                   {"cost/cost", c.input},
                                   {"cost/amortized_cost", c.input},
                                   {"usage/amount", c.input}});
    ASSERT_TRUE(out.valid) << c.input << ": " << out.issues.front().message;
    const std::string value = std::string("\"").append(c.expected).append("\"");
    EXPECT_EQ(out.row.json,
              "{\"time/usage_start\":\"2024-08-16T05:00:00Z\",\"cost/cost\":" + value +
                  ",\"cost/amortized_cost\":" + value + ",\"usage/amount\":" + value + "}")
        << c.input;
    EXPECT_EQ(out.row.cost, Decimal::from_string(c.expected)) << c.input;
  }
}

TEST(RowValidator, RejectsValuesThatAreNotDecimals) {
  for (std::string_view bad : {"12,50", "abc", "NaN", "1e", "$5", "0x10"}) {
    const std::string message =
        single_error(normalize({{"time/usage_start", "2024-08-16"}, {"cost/cost", bad}}),
                     "cost/cost", "decimal");
    EXPECT_TRUE(contains(message, bad)) << message;
  }
  single_error(normalize_with({{"cost/on_demand_cost", "cheap"}}), "cost/on_demand_cost",
               "decimal");
  single_error(normalize_with({{"usage/amount", "1,000"}}), "usage/amount", "decimal");
}

TEST(RowValidator, AcceptsTheNineLineItemTypesExactly) {
  for (std::string_view type : kLineItemTypes) {
    const Outcome out = normalize_with({{"lineitem/type", type}});
    ASSERT_TRUE(out.valid) << type;
    EXPECT_EQ(out.row.lineitem_type, type);
    EXPECT_TRUE(contains(out.row.json, "\"lineitem/type\":\"" + std::string(type) + "\""));
  }
  std::string message =
      single_error(normalize_with({{"lineitem/type", "usage"}}), "lineitem/type", "lineitem_type");
  EXPECT_TRUE(contains(message, "Usage, Tax, Support, Purchase, CommittedUsePurchase, Discount, "
                                "Credit, Fee, Adjustment"))
      << message;
  EXPECT_TRUE(contains(message, "\"usage\"")) << message;
  EXPECT_TRUE(contains(message, "did you mean \"Usage\"")) << message;
  message =
      single_error(normalize_with({{"lineitem/type", "Refund"}}), "lineitem/type", "lineitem_type");
  EXPECT_TRUE(contains(message, "\"Refund\"")) << message;
}

TEST(RowValidator, ChecksTagKeyCharacters) {
  EXPECT_TRUE(
      normalize_with({{"resource/id", "x"}, {"resource/tag:aws:created-By@/=+.", "v"}}).valid);
  std::string message =
      single_error(normalize_with({{"resource/id", "x"}, {"resource/tag:cost center", "v"}}),
                   "resource/tag:cost center", "tag_key");
  EXPECT_TRUE(contains(message, "\"cost center\"")) << message;
  single_error(normalize_with({{"resource/id", "x"}, {"resource/tag:", "v"}}),
               "resource/tag:", "tag_key");
}

TEST(RowValidator, RequiresResourceIdWhenATagHasAValue) {
  std::string message = single_error(normalize_with({{"resource/tag:team", "ml"}}), "resource/id",
                                     "resource_id_with_tags");
  EXPECT_TRUE(contains(message, "resource/tag:team")) << message;
  single_error(normalize_with({{"resource/id", " "}, {"resource/tag:team", "ml"}}), "resource/id",
               "resource_id_with_tags");
  // A tag without a value is no tag.
  EXPECT_TRUE(normalize_with({{"resource/tag:team", ""}}).valid);
  EXPECT_TRUE(normalize_with({{"resource/id", "i-1"}, {"resource/tag:team", "ml"}}).valid);
}

TEST(RowValidator, RejectsTheGlobalRegion) {
  for (std::string_view global : {"global", "Global", " GLOBAL "}) {
    const std::string message = single_error(normalize_with({{"resource/region", global}}),
                                             "resource/region", "region_global");
    EXPECT_TRUE(contains(message, "no-region")) << message;
  }
  EXPECT_TRUE(normalize_with({{"resource/region", "no-region"}}).valid);
  EXPECT_TRUE(normalize_with({{"resource/region", "global-east"}}).valid);
}

TEST(RowValidator, RejectsInvalidUtf8WithTheByteOffset) {
  std::string message = single_error(normalize_with({{"lineitem/description", "caf\xC3"}}),
                                     "lineitem/description", "utf8");
  EXPECT_TRUE(contains(message, "byte 3")) << message;
  EXPECT_TRUE(contains(message, "\\xC3")) << message; // shown escaped, so the message is UTF-8
  message = single_error(normalize_with({{"resource/tag:team", "ml\xED\xA0\x80"}}),
                         "resource/tag:team", "utf8");
  EXPECT_TRUE(contains(message, "byte 2")) << message;

  const Outcome bad_key = normalize_with({{"resource/\xFFid", "x"}});
  EXPECT_FALSE(bad_key.valid);
  ASSERT_NE(bad_key.find("utf8"), nullptr);
  EXPECT_EQ(bad_key.find("utf8")->column, "resource/\\xFFid");
  EXPECT_TRUE(contains(bad_key.find("utf8")->message, "byte 9"));

  EXPECT_TRUE(normalize_with({{"lineitem/description", "日本 😀"}}).valid);
}

TEST(RowValidator, RejectsUnknownColumns) {
  std::string message = single_error(normalize_with({{"Cost/Discounted_Cost", "1"}}),
                                     "Cost/Discounted_Cost", "unknown_column");
  EXPECT_TRUE(contains(message, "did you mean \"cost/discounted_cost\"")) << message;
  single_error(normalize_with({{"usage/quantity", "1"}}), "usage/quantity", "unknown_column");
  single_error(normalize_with({{"", "1"}}), "", "unknown_column");
}

TEST(RowValidator, RejectsRepeatedColumnsAndTags) {
  std::string message = single_error(
      normalize({{"time/usage_start", "2024-08-16"}, {"cost/cost", "1"}, {"cost/cost", "2"}}),
      "cost/cost", "duplicate_column");
  EXPECT_TRUE(contains(message, "\"1\"") && contains(message, "\"2\"")) << message;
  single_error(normalize_with({{"resource/id", "x"},
                               {"resource/tag:team", "a"},
                               {"resource/tag:env", "prod"},
                               {"resource/tag:team", "b"}}),
               "resource/tag:team", "duplicate_column");
}

TEST(RowValidator, RewritesDeprecatedActionColumnsWithAWarning) {
  const Outcome out =
      normalize_with({{"action/account", "123456789012"}, {"action/region", "eu-west-1"}});
  ASSERT_TRUE(out.valid);
  EXPECT_EQ(out.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z","cost/cost":"1",)"
                          R"("resource/account":"123456789012","resource/region":"eu-west-1"})");
  ASSERT_EQ(out.issues.size(), 2u);
  for (const RowIssue& issue : out.issues) {
    EXPECT_EQ(issue.severity, Severity::warning);
    EXPECT_EQ(issue.rule, "deprecated_column");
  }
  EXPECT_EQ(out.issues[0].column, "action/account");
  EXPECT_EQ(out.issues[1].column, "action/region");

  // The same value in both: one column out, still a warning.
  const Outcome same = normalize_with({{"action/account", "42"}, {"resource/account", "42"}});
  ASSERT_TRUE(same.valid);
  EXPECT_EQ(same.row.json, R"({"time/usage_start":"2024-08-16T05:00:00Z","cost/cost":"1",)"
                           R"("resource/account":"42"})");
  EXPECT_EQ(same.issues.size(), 1u);

  const std::string message =
      single_error(normalize_with({{"action/account", "42"}, {"resource/account", "43"}}),
                   "action/account", "deprecated_column");
  EXPECT_TRUE(contains(message, "\"42\"") && contains(message, "\"43\"")) << message;

  // The rewritten region is still never "global".
  single_error(normalize_with({{"action/region", "global"}}), "resource/region", "region_global");
}

TEST(RowValidator, ReportsEveryProblemOfARow) {
  const Outcome out = normalize({{"time/usage_start", "never"},
                                 {"cost/cost", "1,5"},
                                 {"lineitem/type", "Refund"},
                                 {"resource/region", "global"},
                                 {"resource/tag:team", "ml"},
                                 {"color", "blue"}});
  EXPECT_FALSE(out.valid);
  EXPECT_EQ(out.errors(), 6u);
  for (std::string_view rule : {"timestamp", "decimal", "lineitem_type", "region_global",
                                "resource_id_with_tags", "unknown_column"})
    EXPECT_NE(out.find(rule), nullptr) << rule;
}

TEST(RowValidator, CutsLongValuesInMessages) {
  const std::string long_value(500, 'x');
  const std::string message = single_error(normalize_with({{"lineitem/type", long_value}}),
                                           "lineitem/type", "lineitem_type");
  EXPECT_LT(message.size(), 300u) << message;
  EXPECT_TRUE(contains(message, std::string(80, 'x') + "…")) << message;
  EXPECT_TRUE(contains(message, "(500 bytes)")) << message;
}

TEST(RowValidator, ReusesTheOutputRowAndAppendsIssues) {
  RowValidator validator;
  NormalizedRow row;
  std::vector<RowIssue> issues{{Severity::warning, "x", "earlier", "kept"}};
  const std::vector<FieldView> first{{"time/usage_start", "2024-08-16"},
                                     {"cost/cost", "1"},
                                     {"lineitem/type", "Credit"},
                                     {"lineitem/description", "a long description"}};
  ASSERT_TRUE(validator.normalize(first, row, issues));
  const std::vector<FieldView> second{{"time/usage_start", "2024-09-01"}, {"cost/cost", "-2"}};
  ASSERT_TRUE(validator.normalize(second, row, issues));
  EXPECT_EQ(row.json, R"({"time/usage_start":"2024-09-01T00:00:00Z","cost/cost":"-2"})");
  EXPECT_EQ(row.lineitem_type, "Usage");
  EXPECT_EQ(row.month, Month(2024, 9));
  EXPECT_EQ(row.cost, Decimal::from_int(-2));
  ASSERT_EQ(issues.size(), 1u); // earlier issues are left alone
  EXPECT_EQ(issues[0].rule, "earlier");

  // A warning alone keeps the row valid, even with an error already in the vector.
  issues.push_back({Severity::error, "x", "earlier", "an error of another row"});
  const std::vector<FieldView> third{
      {"time/usage_start", "2024-09-01"}, {"cost/cost", "1"}, {"action/account", "a"}};
  EXPECT_TRUE(validator.normalize(third, row, issues));
}

} // namespace
} // namespace billdrop::cbf

namespace billdrop::cbf {
namespace {

// Decimals already in plain form are copied as they are; everything else is parsed and written
// again. Either way the output must be what Decimal writes for the value.
TEST(RowValidatorDecimals, EveryDecimalColumnIsWrittenAsDecimalWritesIt) {
  std::vector<std::string> values{"0",
                                  "-0",
                                  "0.0",
                                  "-0.000",
                                  "7",
                                  "007",
                                  "12.50",
                                  "-12.50",
                                  ".5",
                                  "5.",
                                  "+3",
                                  "1e3",
                                  "5e-06",
                                  "-1.2E+3",
                                  "0.0622600000",
                                  "100",
                                  "-0.001",
                                  "00.10",
                                  "1234567890123456789012345678901234567",
                                  "12345678901234567890123456789012345678",
                                  "123456789012345678901234567890123456789",
                                  "-0.00000000000000000000",
                                  "12345678.87654321",
                                  "1234567a.5",
                                  "12345678.1234567b",
                                  "12345678-"};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string text = rng() % 3 == 0 ? "-" : "";
    if (rng() % 7 == 0)
      text += '0';
    // Runs of up to 24 digits, mostly zeros now and then (negative zeros), so that runs of
    // eight and more are read a word at a time.
    const bool zeros = rng() % 5 == 0;
    const auto digit = [&] { return static_cast<char>('0' + (zeros ? 0 : rng() % 10)); };
    const int integer_digits = static_cast<int>(rng() % 24);
    for (int d = 0; d < integer_digits; ++d)
      text += digit();
    if (integer_digits == 0 || rng() % 2 == 0) {
      text += '.';
      const int fraction_digits = static_cast<int>(rng() % 24);
      for (int d = 0; d < fraction_digits; ++d)
        text += digit();
    }
    if (rng() % 50 == 0 && !text.empty()) // a stray byte somewhere
      text[rng() % text.size()] = "x/:@"[rng() % 4];
    values.push_back(text);
  }
  for (const std::string& value : values) {
    Result<Decimal> expected = Decimal::parse(value);
    for (std::string_view column :
         {"cost/cost", "cost/amortized_cost", "usage/amount", "cost/on_demand_cost"}) {
      Outcome outcome =
          column == "cost/cost"
              ? normalize({{"time/usage_start", "2024-08-16T05:00:00Z"}, {"cost/cost", value}})
              : normalize_with({{column, value}});
      ASSERT_EQ(outcome.valid, expected.ok()) << column << " " << value;
      if (!expected.ok())
        continue;
      if (column == "cost/cost") {
        EXPECT_EQ(outcome.row.cost, *expected) << value;
      }
      std::string key = "\"";
      key.append(column).append("\":\"");
      const std::size_t at = outcome.row.json.find(key);
      ASSERT_NE(at, std::string::npos) << outcome.row.json;
      const std::size_t begin = at + key.size();
      EXPECT_EQ(outcome.row.json.substr(begin, outcome.row.json.find('"', begin) - begin),
                expected->to_string())
          << column << " " << value;
    }
  }
}

// The validator first takes every value as plain JSON text and checks only the values it writes,
// as it copies them; a row where that is wrong, or with an error, is normalized again the exact
// way. Random rows of columns, tags, unknown and repeated keys, deprecated columns, and values
// plain, blank, escaped, non-ASCII, not UTF-8, or with control characters, at every place:
// both ways must give the same validity, JSON, issues and row fields.
TEST(RowValidatorSpeculation, GivesWhatTheExactPassGivesOnAnyRow) {
  const std::vector<std::string> keys = {"time/usage_start",
                                         "cost/cost",
                                         "cost/amortized_cost",
                                         "lineitem/type",
                                         "lineitem/description",
                                         "resource/id",
                                         "resource/account",
                                         "action/account",
                                         "resource/region",
                                         "action/region",
                                         "resource/service",
                                         "usage/amount",
                                         "resource/tag:env",
                                         "resource/tag:team",
                                         "resource/tag:b\xc3\xa4d",
                                         "resource/tag:",
                                         "unknown/column",
                                         "Cost/Cost",
                                         "bad\xff/key"};
  const std::vector<std::string> values = {
      "2024-08-16T05:00:00Z",
      "2024-08-16 05:00:00",
      "2024-02-30T00:00:00Z",
      "1",
      "-0.50",
      "1e3",
      "12.500",
      "Usage",
      "Tax",
      "usage",
      "us-east-1",
      "global",
      "plain text",
      "",
      " ",
      "\t",
      " padded ",
      "caf\xc3\xa9",
      "quote \"q\"",
      "back\\slash",
      "tab\there",
      "line\nend",
      "\xff\xfe",
      "ok\xe2\x80\xa8sep",
      "x\x7f",
      "\xc3",
      "a 16-byte value!",
      "a value longer than sixteen bytes, with \"quotes\" late"};
  std::mt19937 rng(2026);
  for (int round = 0; round < 30000; ++round) {
    std::vector<FieldView> fields;
    const bool valid_base = rng() % 2 == 0;
    if (valid_base) {
      fields.push_back({"time/usage_start", "2024-08-16T05:00:00Z"});
      fields.push_back({"cost/cost", "1.25"});
    }
    const std::size_t extra = rng() % 7;
    for (std::size_t i = 0; i < extra; ++i)
      fields.push_back({keys[rng() % keys.size()], values[rng() % values.size()]});
    std::shuffle(fields.begin(), fields.end(), rng);

    NormalizedRow fast;
    std::vector<RowIssue> fast_issues = {{Severity::warning, "x", "earlier", "kept"}};
    const bool fast_valid = RowValidator().normalize(fields, fast, fast_issues);
    NormalizedRow exact;
    std::vector<RowIssue> exact_issues = {{Severity::warning, "x", "earlier", "kept"}};
    const bool exact_valid = RowValidator().normalize_exactly(fields, exact, exact_issues);

    std::string row;
    for (const FieldView& field : fields)
      row += std::string(field.key) + "=" + std::string(field.value) + "; ";
    ASSERT_EQ(fast_valid, exact_valid) << row;
    ASSERT_EQ(fast_issues.size(), exact_issues.size()) << row;
    for (std::size_t i = 0; i < fast_issues.size(); ++i) {
      EXPECT_EQ(fast_issues[i].severity, exact_issues[i].severity) << row;
      EXPECT_EQ(fast_issues[i].column, exact_issues[i].column) << row;
      EXPECT_EQ(fast_issues[i].rule, exact_issues[i].rule) << row;
      EXPECT_EQ(fast_issues[i].message, exact_issues[i].message) << row;
    }
    if (exact_valid) {
      ASSERT_EQ(fast.json, exact.json) << row;
      EXPECT_EQ(fast.usage_start, exact.usage_start) << row;
      EXPECT_EQ(fast.time.seconds, exact.time.seconds) << row;
      EXPECT_EQ(fast.month, exact.month) << row;
      EXPECT_EQ(fast.cost, exact.cost) << row;
      EXPECT_EQ(fast.lineitem_type, exact.lineitem_type) << row;
    }
  }
}

// The copy that checks as it goes says what is_plain_json_text says, for every length up to 40
// and a flagged byte at every place, and copies the bytes exactly.
TEST(RowValidatorSpeculation, CopyingCheckAgreesWithIsPlainJsonText) {
#ifdef __SSE2__
  const std::string flagged = std::string("\"\\\x01\x1f\x80\xff\xe2", 7);
  for (std::size_t n = 0; n <= 40; ++n) {
    for (std::size_t at = 0; at <= n; ++at) { // at == n: nothing flagged
      for (const char bad : flagged) {
        std::string text(n, 'a');
        for (std::size_t i = 0; i < n; ++i)
          text[i] = static_cast<char>(
              '!' + (i * 7) % 90 == '"' || '!' + (i * 7) % 90 == '\\' ? 'z' : '!' + (i * 7) % 90);
        if (at < n)
          text[at] = bad;
        std::string copy(n + 1, '#');
        const bool plain = billdrop::detail::copy_plain_json_text(copy.data(), text.data(), n);
        EXPECT_EQ(plain, is_plain_json_text(text)) << n << " " << at;
        EXPECT_EQ(copy.substr(0, n), text) << n << " " << at;
        EXPECT_EQ(copy[n], '#') << n; // nothing written past the text
        if (at == n)
          break;
      }
    }
  }
#endif
}

} // namespace
} // namespace billdrop::cbf
