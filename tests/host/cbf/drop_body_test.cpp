#include "cbf/drop_body.hpp"

#include <gtest/gtest.h>

namespace billdrop::cbf {
namespace {

TEST(DropBody, SerialisesMonthOperationAndRows) {
  DropBodyWriter writer(Month(2026, 8), DropOperation::replace_hourly);
  EXPECT_EQ(writer.finish(), R"({"month":"2026-08","operation":"replace_hourly","data":[]})");
  writer.add_row(R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1"})");
  writer.add_row(R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"2"})");
  EXPECT_EQ(writer.finish(), R"({"month":"2026-08","operation":"replace_hourly","data":[)"
                             R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1"},)"
                             R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"2"}]})");
  EXPECT_EQ(writer.rows(), 2u);
}

TEST(DropBody, SizesAreTheExactBytesOfTheBody) {
  for (DropOperation op :
       {DropOperation::replace_drop, DropOperation::replace_hourly, DropOperation::sum}) {
    DropBodyWriter writer(Month(2026, 12), op);
    EXPECT_EQ(writer.size(), writer.finish().size());
    EXPECT_EQ(DropBodyWriter::empty_size(Month(2026, 12), op), writer.finish().size());
    const std::string row = R"({"time/usage_start":"2026-12-31T23:00:00Z","cost/cost":"-0.5"})";
    const std::size_t predicted_first = writer.size_with(row);
    writer.add_row(row);
    EXPECT_EQ(predicted_first, writer.finish().size());
    const std::size_t predicted_second = writer.size_with(row);
    writer.add_row(row);
    EXPECT_EQ(predicted_second, writer.finish().size());
    EXPECT_EQ(writer.size(), writer.finish().size());
  }
}

// The floor of a useful max_body_bytes (host_config.cpp checks it): a replace_hourly body holding
// the smallest row a validator lets through, counted by hand: 58 bytes of envelope + 59 of row.
TEST(DropBody, TheSmallestBodyWithARowIsTheLongestEnvelopeAroundTheSmallestRow) {
  const std::string body = R"({"month":"2026-08","operation":"replace_hourly","data":[)"
                           R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"0"}]})";
  EXPECT_EQ(body.size(), 117u);
  EXPECT_EQ(DropBodyWriter::smallest_with_a_row(), 117u);
  for (DropOperation op : {DropOperation::replace_drop, DropOperation::sum})
    EXPECT_LT(DropBodyWriter::empty_size(Month(2026, 8), op),
              DropBodyWriter::empty_size(Month(2026, 8), DropOperation::replace_hourly));
}

TEST(DropBody, TakeMovesTheSameBodyOut) {
  DropBodyWriter writer(Month(2026, 1), DropOperation::sum);
  writer.reserve(200);
  writer.add_row(R"({"time/usage_start":"2026-01-01T00:00:00Z","cost/cost":"3"})");
  const std::string expected = writer.finish();
  const std::size_t size = writer.size();
  EXPECT_EQ(writer.take(), expected);
  EXPECT_EQ(expected.size(), size);
  writer.reset(Month(2026, 1), DropOperation::sum);
  EXPECT_EQ(writer.finish(), R"({"month":"2026-01","operation":"sum","data":[]})");
}

TEST(DropBody, ParsesOperations) {
  EXPECT_EQ(parse_drop_operation("sum"), DropOperation::sum);
  EXPECT_EQ(parse_drop_operation("replace_drop"), DropOperation::replace_drop);
  EXPECT_EQ(parse_drop_operation("replace_hourly"), DropOperation::replace_hourly);
  EXPECT_FALSE(parse_drop_operation("append").has_value());
  EXPECT_FALSE(parse_drop_operation("Sum").has_value());
}

} // namespace
} // namespace billdrop::cbf
