// The emulator's drop body reader: body shapes, month and operation, rows through RowValidator.
#include "cbf/drop_body_reader.hpp"

#include <gtest/gtest.h>

namespace billdrop::emulator {
namespace {

TEST(EmulatorBody, ReadsMonthOperationAndCanonicalRows) {
  Result<DropBody> body = read_drop_body(
      R"({"data":[{"cost/cost":"1.50","time/usage_start":"2024-08-16 05:30:00+00:00"},)"
      R"({"time/usage_start":"2024-08-16T06:00:00Z","cost/cost":"-2","resource/region":null}],)"
      R"("operation":"replace_hourly","month":"2024-08"})",
      10);
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_TRUE(body->valid());
  EXPECT_EQ(body->month, Month(2024, 8));
  EXPECT_EQ(body->operation, cbf::DropOperation::replace_hourly);
  ASSERT_EQ(body->rows.size(), 2u);
  EXPECT_EQ(body->rows[0].hour, "2024-08-16T05");
  EXPECT_EQ(body->rows[0].cost, "1.50");
  EXPECT_EQ(body->rows[0].json,
            R"({"time/usage_start":"2024-08-16T05:30:00Z","cost/cost":"1.50"})");
  EXPECT_EQ(body->rows[1].hour, "2024-08-16T06");
  EXPECT_EQ(body->rows[1].cost, "-2");
}

TEST(EmulatorBody, CollectsRowProblemsUpToTheLimitAndCountsThemAll) {
  std::string text = R"({"month":"2024-08","data":[)";
  for (int i = 0; i < 5; ++i)
    text += std::string(i > 0 ? "," : "") + R"({"time/usage_start":"2024-08-01","cost/cost":"x"})";
  text += "]}";
  Result<DropBody> body = read_drop_body(text, 3);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->error_count, 5u);
  ASSERT_EQ(body->errors.size(), 3u);
  EXPECT_EQ(body->errors[2].rfind("data[2]: cost/cost: ", 0), 0u) << body->errors[2];
  EXPECT_TRUE(body->rows.empty());
}

TEST(EmulatorBody, NonObjectRowsAndNonStringValuesAreRowProblems) {
  Result<DropBody> body = read_drop_body(
      R"({"month":"2024-08","data":[3,{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"1","usage/amount":[1]}]})",
      10);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ(body->errors.size(), 2u);
  EXPECT_EQ(body->errors[0], "data[0]: a row must be a JSON object");
  EXPECT_EQ(body->errors[1],
            "data[1]: usage/amount: CBF values are JSON strings, got an array (rule json_type)");
}

TEST(EmulatorBody, ExponentNotationInADecimalColumnIsAnError) {
  Result<DropBody> body = read_drop_body(
      R"({"month":"2024-08","data":[{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"1000"},)"
      R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"1e3"},)"
      R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"2","usage/amount":"5E-06"},)"
      R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"3","lineitem/description":"1e3"}]})",
      10);
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_FALSE(body->valid());
  ASSERT_EQ(body->errors.size(), 2u);
  EXPECT_EQ(body->errors[0], "data[1]: cost/cost: \"1e3\" is in exponent notation; the API takes "
                             "plain decimals only, such as 1000 or -0.000005 (rule plain_decimal)");
  EXPECT_EQ(body->errors[1].rfind("data[2]: usage/amount: \"5E-06\" is in exponent notation", 0),
            0u)
      << body->errors[1];
  // Text columns may hold anything; the exponent rows are not kept.
  ASSERT_EQ(body->rows.size(), 2u);
  EXPECT_EQ(body->rows[0].cost, "1000");
  EXPECT_EQ(body->rows[1].cost, "3");
}

TEST(EmulatorBody, BodiesThatAreNotDropsAreErrors) {
  EXPECT_FALSE(read_drop_body("", 10).ok());
  EXPECT_FALSE(read_drop_body("[]", 10).ok());
  EXPECT_FALSE(read_drop_body(R"({"month":"2024-08"})", 10).ok());
  EXPECT_FALSE(read_drop_body(R"({"data":{}})", 10).ok());
  EXPECT_FALSE(read_drop_body(R"({"data":[]} {})", 10).ok());
  EXPECT_FALSE(read_drop_body(R"({"data":[{"a":"b"})", 10).ok());
  EXPECT_FALSE(read_drop_body("{\"data\":[],\"x\":\"\xff\"}", 10).ok()); // not UTF-8
  EXPECT_TRUE(read_drop_body(R"({"month":"2024-08","data":[],"extra":{"a":[1]}})", 10).ok());
}

TEST(EmulatorBody, MonthAndOperationProblems) {
  Result<DropBody> body = read_drop_body(R"({"month":7,"operation":"merge","data":[]})", 10);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ(body->errors.size(), 2u);
  EXPECT_EQ(body->errors[0], "operation: expected one of replace_drop, replace_hourly, sum");
  EXPECT_EQ(body->errors[1].rfind("month: ", 0), 0u);
  body = read_drop_body(R"({"month":"2024-08-15T00:00:00Z","data":[]})", 10);
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(body->valid()) << "a month names its first instant only";
}

} // namespace
} // namespace billdrop::emulator
