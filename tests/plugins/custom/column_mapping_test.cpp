#include "column_mapping.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using billdrop::ErrorKind;
using billdrop::UtcTime;
using billdrop::custom::ColumnMapping;
using billdrop::custom::FileMapping;
using billdrop::custom::MappedRow;
using billdrop::custom::MappingOptions;
using billdrop::custom::sanitize_tag_key;
using billdrop::custom::SourceRecord;
using billdrop::custom::Template;

// A record over strings that outlive it.
SourceRecord record_of(const std::vector<std::string>& cells, std::uint64_t line = 2) {
  SourceRecord record;
  record.line = line;
  for (const std::string& cell : cells)
    record.values.emplace_back(cell);
  return record;
}

MappingOptions minimal_options() {
  MappingOptions options;
  options.columns = {{"time/usage_start", "{date}"}, {"cost/cost", "{cost}"}};
  return options;
}

std::vector<std::pair<std::string, std::string>> fields_of(const MappedRow& row) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (std::size_t i = 0; i < row.size(); ++i)
    fields.emplace_back(row.key(i), row.value(i));
  return fields;
}

FileMapping bind_or_fail(const MappingOptions& options, const std::vector<std::string>& columns) {
  auto mapping = ColumnMapping::create(options);
  if (!mapping.ok())
    throw std::runtime_error(mapping.error().message());
  auto bound = mapping->bind(columns, "the header of usage.csv");
  if (!bound.ok())
    throw std::runtime_error(bound.error().message());
  return std::move(*bound);
}

// Maps one record whose usage_start must parse.
MappedRow map_one(FileMapping& mapping, const SourceRecord& record) {
  MappedRow row;
  auto start = mapping.usage_start(record);
  if (!start.ok())
    throw std::runtime_error(start.error().message());
  auto status = mapping.map(record, *start, row);
  if (!status.ok())
    throw std::runtime_error(status.error().message());
  return row;
}

TEST(Template, ParsesLiteralsColumnsAndEscapedBraces) {
  auto combined = Template::parse("{project}/{vm}");
  ASSERT_TRUE(combined.ok());
  ASSERT_EQ(combined->segments().size(), 3u);
  EXPECT_EQ(combined->segments()[0].text, "project");
  EXPECT_TRUE(combined->segments()[0].is_column);
  EXPECT_EQ(combined->segments()[1].text, "/");
  EXPECT_FALSE(combined->segments()[1].is_column);
  EXPECT_EQ(combined->segments()[2].text, "vm");

  auto constant = Template::parse("Compute");
  ASSERT_TRUE(constant.ok());
  ASSERT_EQ(constant->segments().size(), 1u);
  EXPECT_FALSE(constant->segments()[0].is_column);

  // Escaped braces merge into the surrounding literal; spaces inside a reference are the name's.
  auto escaped = Template::parse("{{x}} {Usage Hour}}}");
  ASSERT_TRUE(escaped.ok());
  ASSERT_EQ(escaped->segments().size(), 3u);
  EXPECT_EQ(escaped->segments()[0].text, "{x} ");
  EXPECT_EQ(escaped->segments()[1].text, "Usage Hour");
  EXPECT_TRUE(escaped->segments()[1].is_column);
  EXPECT_EQ(escaped->segments()[2].text, "}");

  EXPECT_TRUE(Template::parse("")->segments().empty());
}

TEST(Template, RejectsUnbalancedBracesSayingWhere) {
  auto unclosed = Template::parse("ab{cost");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_EQ(unclosed.error().kind(), ErrorKind::config);
  EXPECT_EQ(unclosed.error().message(), "template \"ab{cost\": the '{' at character 3 is never "
                                        "closed (write {{ for a literal brace)");
  auto stray = Template::parse("a}b");
  ASSERT_FALSE(stray.ok());
  EXPECT_EQ(stray.error().message(), "template \"a}b\": the '}' at character 2 closes no '{' "
                                     "(write }} for a literal brace)");
  auto empty = Template::parse("x{}");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message().find("names no column"), std::string::npos);
  auto nested = Template::parse("{a{b}");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message().find("another '{'"), std::string::npos);
}

TEST(SanitizeTagKey, EachDisallowedByteBecomesUnderscore) {
  EXPECT_EQ(sanitize_tag_key("team"), "team");
  EXPECT_EQ(sanitize_tag_key("a+b=c@d.e:f/g-h_i9"), "a+b=c@d.e:f/g-h_i9");
  EXPECT_EQ(sanitize_tag_key("cost center"), "cost_center");
  EXPECT_EQ(sanitize_tag_key("x,y;z!"), "x_y_z_");
  EXPECT_EQ(sanitize_tag_key("\xC3\xA9quipe"), "__quipe"); // "équipe": two UTF-8 bytes
}

TEST(ColumnMappingCreate, NeedsUsageStartAndCost) {
  MappingOptions options;
  options.columns = {{"resource/service", "{product}"}};
  auto mapping = ColumnMapping::create(options);
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.error().kind(), ErrorKind::config);
  EXPECT_NE(mapping.error().message().find("no \"time/usage_start\" template"), std::string::npos);
  EXPECT_NE(mapping.error().message().find("no \"cost/cost\" template"), std::string::npos);
}

TEST(ColumnMappingCreate, ReportsEveryProblemOnItsOwnLine) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("cost/costs", "{x}");
  options.columns.emplace_back("resource/service", "{unclosed");
  options.columns.emplace_back("resource/tag:cost center", "{cc}");
  options.lineitem_type_map = {{"refund", "Refund"}};
  options.lineitem_type_default = "Normal";
  auto mapping = ColumnMapping::create(options);
  ASSERT_FALSE(mapping.ok());
  const std::string& message = mapping.error().message();
  EXPECT_NE(message.find("columns.\"cost/costs\" = \"{x}\": \"cost/costs\" is not a CBF column"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("columns.\"resource/service\": template \"{unclosed\""), std::string::npos)
      << message;
  EXPECT_NE(message.find("the tag key \"cost center\" must be non-empty and use only"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("lineitem_type_map.\"refund\" = \"Refund\": \"Refund\" is not a CBF "
                         "line-item type"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("lineitem_type_map is set but columns has no \"lineitem/type\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("lineitem_type_default \"Normal\" is not a CBF line-item type"),
            std::string::npos)
      << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 5) << message;
}

TEST(ColumnMappingCreate, CostColumnShorthandAndItsConflict) {
  MappingOptions options;
  options.columns = {{"time/usage_start", "{date}"}};
  options.cost_column = "Cost {USD}"; // braces in a column name are fine here
  FileMapping mapping = bind_or_fail(options, {"date", "Cost {USD}"});
  const std::vector<std::string> cells{"2026-08-01", "4.5"};
  EXPECT_EQ(map_one(mapping, record_of(cells)).get("cost/cost"), "4.5");

  options.columns.emplace_back("cost/cost", "{other}");
  auto both = ColumnMapping::create(options);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message().find("cost_column and columns.\"cost/cost\" both"),
            std::string::npos);
}

TEST(ColumnMappingCreate, BadTimestampFormatIsAConfigError) {
  MappingOptions options = minimal_options();
  options.timestamp_format = "%m/%d/%Q";
  auto mapping = ColumnMapping::create(options);
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.error().kind(), ErrorKind::config);
  EXPECT_EQ(mapping.error().message().rfind("timestamp_format: ", 0), 0u)
      << mapping.error().message();
}

TEST(ColumnMappingBind, MissingColumnNamesTemplateColumnAndTheColumnsThereAre) {
  MappingOptions options = minimal_options();
  options.columns[1].second = "{Amount}";
  options.tag_columns = {"Team"};
  auto mapping = ColumnMapping::create(options);
  ASSERT_TRUE(mapping.ok()) << mapping.error().message();
  auto bound = mapping->bind({"date", "amount", "team"}, "the header of usage.csv");
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.error().kind(), ErrorKind::config);
  EXPECT_EQ(bound.error().message(),
            "columns.\"cost/cost\" = \"{Amount}\" refers to the column \"Amount\", which is not "
            "in the header of usage.csv (did you mean \"amount\"?); the columns there are: "
            "\"date\", \"amount\", \"team\"\n"
            "tag_columns \"Team\" refers to the column \"Team\", which is not in the header of "
            "usage.csv (did you mean \"team\"?); the columns there are: \"date\", \"amount\", "
            "\"team\"");
}

TEST(FileMapping, ExpandsTemplatesTrimsAndLeavesBlanksOut) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/id", "{project}/{vm}");
  options.columns.emplace_back("resource/service", "GPU Compute");
  options.columns.emplace_back("lineitem/description", "  {desc}  ");
  options.columns.emplace_back("resource/region", "{region}");
  options.columns.emplace_back("k8s/labels", "{{\"team\":\"{team}\"}}");
  FileMapping mapping =
      bind_or_fail(options, {"date", "cost", "project", "vm", "desc", "region", "team"});

  const std::vector<std::string> cells{"2026-08-16 05:30:00", " 12.50 ", "ml",  "vm-1",
                                       " GPU, 1x ",           "",        "core"};
  const MappedRow row = map_one(mapping, record_of(cells));
  EXPECT_EQ(fields_of(row), (std::vector<std::pair<std::string, std::string>>{
                                {"time/usage_start", "2026-08-16T05:30:00Z"},
                                {"cost/cost", "12.50"},
                                {"resource/id", "ml/vm-1"},
                                {"resource/service", "GPU Compute"},
                                {"lineitem/description", "GPU, 1x"},
                                {"k8s/labels", "{\"team\":\"core\"}"},
                                {"lineitem/type", "Usage"},
                            }));
}

TEST(FileMapping, TemplateWhoseColumnsAreAllBlankGivesNothing) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/id", "{project}/{vm}");
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "project", "vm"});
  const std::vector<std::string> neither{"2026-08-01", "1", "", " "};
  EXPECT_FALSE(map_one(mapping, record_of(neither)).has("resource/id"));
  const std::vector<std::string> one{"2026-08-01", "1", "ml", ""};
  EXPECT_EQ(map_one(mapping, record_of(one)).get("resource/id"), "ml/");
}

TEST(FileMapping, NullValuesAreBlank) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/region", "{region}");
  options.columns.emplace_back("usage/units", "{unit}");
  options.null_values = {"NULL", "n/a"};
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "region", "unit"});
  const std::vector<std::string> cells{"2026-08-01", "1", " NULL ", "n/a"};
  const MappedRow row = map_one(mapping, record_of(cells));
  EXPECT_FALSE(row.has("resource/region"));
  EXPECT_FALSE(row.has("usage/units"));
  const std::vector<std::string> other{"2026-08-01", "1", "null", "h"}; // "null" not listed here
  EXPECT_EQ(map_one(mapping, record_of(other)).get("resource/region"), "null");
}

TEST(FileMapping, LineItemTypeMapIgnoresCaseDefaultsBlanksAndPassesTheRestThrough) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("lineitem/type", "{charge}");
  options.lineitem_type_map = {{"Sales Tax", "tax"}, {"promo", "CREDIT"}};
  options.lineitem_type_default = "fee";
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "charge"});
  auto type_of = [&](const std::string& charge) {
    const std::vector<std::string> cells{"2026-08-01", "1", charge};
    return std::string(map_one(mapping, record_of(cells)).get("lineitem/type"));
  };
  EXPECT_EQ(type_of("sales TAX"), "Tax"); // canonical spelling of the mapped type
  EXPECT_EQ(type_of(" PROMO "), "Credit");
  EXPECT_EQ(type_of(""), "Fee");
  EXPECT_EQ(type_of("Refund"), "Refund"); // unmapped: the host says whether it is valid
}

TEST(FileMapping, TagsByPrefixAndByNameWithRewrittenKeys) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/id", "{vm}");
  options.tag_prefix = "tag_";
  options.tag_columns = {"Cost Center", "vm"};
  FileMapping mapping = bind_or_fail(
      options, {"date", "cost", "vm", "tag_team", "tag_env name", "tag_", "Cost Center", "tag_x"});
  const std::vector<std::string> cells{"2026-08-01", "1",       "vm-1", "ml",
                                       "prod",       "ignored", "CC 1", ""};
  const MappedRow row = map_one(mapping, record_of(cells));
  EXPECT_EQ(fields_of(row), (std::vector<std::pair<std::string, std::string>>{
                                {"time/usage_start", "2026-08-01T00:00:00Z"},
                                {"cost/cost", "1"},
                                {"resource/id", "vm-1"},
                                {"lineitem/type", "Usage"},
                                {"resource/tag:Cost_Center", "CC 1"},
                                {"resource/tag:vm", "vm-1"},
                                {"resource/tag:team", "ml"},
                                {"resource/tag:env_name", "prod"},
                            }));
}

TEST(FileMapping, TagKeysThatCollideAfterRewritingTakeTheFirstNonBlankValue) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/tag:team", "{owner}");
  options.tag_prefix = "tag_";
  FileMapping mapping =
      bind_or_fail(options, {"date", "cost", "owner", "tag_a b", "tag_a_b", "tag_team"});
  const std::vector<std::string> first{"2026-08-01", "1", "", "", "second", "from prefix"};
  const MappedRow row = map_one(mapping, record_of(first));
  EXPECT_EQ(row.get("resource/tag:a_b"), "second");
  EXPECT_EQ(row.get("resource/tag:team"), "from prefix");
  const std::vector<std::string> both{"2026-08-01", "1", "explicit", "first", "second", "p"};
  const MappedRow row2 = map_one(mapping, record_of(both));
  EXPECT_EQ(row2.get("resource/tag:a_b"), "first");
  EXPECT_EQ(row2.get("resource/tag:team"), "explicit");
  std::size_t tags = 0;
  for (std::size_t i = 0; i < row2.size(); ++i)
    tags += row2.key(i).rfind("resource/tag:", 0) == 0;
  EXPECT_EQ(tags, 2u);
}

TEST(FileMapping, ColumnsAddedLaterBecomeTagsByPrefix) {
  MappingOptions options = minimal_options();
  options.tag_prefix = "labels.";
  auto mapping = ColumnMapping::create(options);
  ASSERT_TRUE(mapping.ok());
  std::vector<std::string> columns{"date", "cost", "labels.team"};
  auto bound = mapping->bind(columns, "the first record of usage.ndjson");
  ASSERT_TRUE(bound.ok());
  columns.push_back("labels.env");
  bound->add_columns(columns);
  const std::vector<std::string> cells{"2026-08-01", "1", "ml", "dev"};
  const MappedRow row = map_one(*bound, record_of(cells));
  EXPECT_EQ(row.get("resource/tag:team"), "ml");
  EXPECT_EQ(row.get("resource/tag:env"), "dev");
}

TEST(FileMapping, TimestampsUseTheConfiguredFormat) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("time/usage_end", "{end}");
  options.timestamp_format = "%m/%d/%Y %H:%M";
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "end"});
  const std::vector<std::string> cells{"08/31/2026 23:00", "1", "09/01/2026 00:00"};
  const SourceRecord record = record_of(cells);
  auto start = mapping.usage_start(record);
  ASSERT_TRUE(start.ok()) << start.error().message();
  EXPECT_EQ(billdrop::format_iso(*start), "2026-08-31T23:00:00Z");
  const MappedRow row = map_one(mapping, record);
  EXPECT_EQ(row.get("time/usage_end"), "2026-09-01T00:00:00Z");

  // A usage_end that is not a timestamp makes the record unmappable, with the column named.
  const std::vector<std::string> bad_end{"08/31/2026 23:00", "1", "soon"};
  const SourceRecord bad = record_of(bad_end);
  MappedRow row2;
  auto status = mapping.map(bad, *mapping.usage_start(bad), row2);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message().rfind("time/usage_end: ", 0), 0u) << status.error().message();
}

// A mapping keeps each time column's last text and ISO form: repeats, changes, a change back,
// a bad value between two good ones and a blank one each give what a fresh mapping gives.
TEST(FileMapping, RepeatedTimesGiveWhatAFreshMappingGives) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("time/usage_end", "{end}");
  options.timestamp_format = "%m/%d/%Y %H:%M";
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "end"});
  const std::vector<std::vector<std::string>> rows{{"08/31/2026 23:00", "1", "09/01/2026 00:00"},
                                                   {"08/31/2026 23:00", "1", "09/01/2026 00:00"},
                                                   {"08/31/2026 22:00", "1", "08/31/2026 23:00"},
                                                   {"08/31/2026 23:00", "1", "09/01/2026 00:00"},
                                                   {"08/31/2026 23:00", "1", "later"},
                                                   {"08/31/2026 23:00", "1", "09/01/2026 00:00"},
                                                   {"08/31/2026 23:00", "1", ""},
                                                   {"09/01/2026 00:00", "1", "09/01/2026 00:00"}};
  // By hand: the ISO text of each row's start and end (none for "later", blank for "").
  const std::vector<std::pair<std::string, std::string>> expected{
      {"2026-08-31T23:00:00Z", "2026-09-01T00:00:00Z"},
      {"2026-08-31T23:00:00Z", "2026-09-01T00:00:00Z"},
      {"2026-08-31T22:00:00Z", "2026-08-31T23:00:00Z"},
      {"2026-08-31T23:00:00Z", "2026-09-01T00:00:00Z"},
      {"2026-08-31T23:00:00Z", "error"},
      {"2026-08-31T23:00:00Z", "2026-09-01T00:00:00Z"},
      {"2026-08-31T23:00:00Z", ""},
      {"2026-09-01T00:00:00Z", "2026-09-01T00:00:00Z"}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SourceRecord record = record_of(rows[i]);
    auto start = mapping.usage_start(record);
    ASSERT_TRUE(start.ok()) << i;
    MappedRow row;
    const billdrop::Status status = mapping.map(record, *start, row);
    if (expected[i].second == "error") {
      EXPECT_FALSE(status.ok()) << i;
      continue;
    }
    ASSERT_TRUE(status.ok()) << i << ": " << status.error().message();
    EXPECT_EQ(row.get("time/usage_start"), expected[i].first) << i;
    EXPECT_EQ(row.has("time/usage_end"), !expected[i].second.empty()) << i;
    if (!expected[i].second.empty())
      EXPECT_EQ(row.get("time/usage_end"), expected[i].second) << i;
  }
}

// Cells equal to a null value are blank whatever their length; others of a null value's length
// are kept.
TEST(FileMapping, NullValuesOfEveryLengthAreBlank) {
  MappingOptions options = minimal_options();
  options.null_values = {"-", "NULL", "not applicable"};
  options.columns.emplace_back("resource/region", "{region}");
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "region"});
  for (const char* null : {"-", "NULL", " not applicable "}) {
    const std::vector<std::string> cells{"2026-08-01", "1", null};
    EXPECT_FALSE(map_one(mapping, record_of(cells)).has("resource/region")) << null;
  }
  for (const char* kept : {"+", "NUL1", "not applicablE", "us-east-1"}) {
    const std::vector<std::string> cells{"2026-08-01", "1", kept};
    EXPECT_EQ(map_one(mapping, record_of(cells)).get("resource/region"), kept) << kept;
  }
}

TEST(FileMapping, UsageStartThatIsBlankOrNotATimestampSaysWhy) {
  FileMapping mapping = bind_or_fail(minimal_options(), {"date", "cost"});
  const std::vector<std::string> blank{" ", "1"};
  auto none = mapping.usage_start(record_of(blank));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(), "time/usage_start is blank (template \"{date}\")");
  const std::vector<std::string> garbage{"yesterday", "1"};
  auto bad = mapping.usage_start(record_of(garbage));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message().rfind("time/usage_start: ", 0), 0u);
  EXPECT_NE(bad.error().message().find("yesterday"), std::string::npos);
}

TEST(FileMapping, MissingTrailingValuesOfARecordAreBlank) {
  MappingOptions options = minimal_options();
  options.columns.emplace_back("resource/region", "{region}");
  FileMapping mapping = bind_or_fail(options, {"date", "cost", "region"});
  const std::vector<std::string> cells{"2026-08-01", "3"}; // a JSON object without "region"
  const MappedRow row = map_one(mapping, record_of(cells));
  EXPECT_FALSE(row.has("resource/region"));
  EXPECT_EQ(row.get("cost/cost"), "3");
}

} // namespace
