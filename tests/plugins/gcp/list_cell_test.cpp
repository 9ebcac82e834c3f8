#include "billing_record.hpp"

#include <gtest/gtest.h>

namespace billdrop::gcp {
namespace {

TEST(GcpListCell, ReadsPythonStyleCredits) {
  BillingRecord record;
  ASSERT_TRUE(parse_list_cell("[{'name': 'FreeTrial:Credit-1', 'amount': -5e-06, 'full_name': "
                              "None, 'id': 'FreeTrial:Credit-1', 'type': 'PROMOTION'}]",
                              ListField::credits, record)
                  .ok());
  ASSERT_EQ(record.credits.size(), 1u);
  const Credit& credit = *record.credits.begin();
  EXPECT_EQ(credit.name, "FreeTrial:Credit-1");
  EXPECT_EQ(credit.amount, "-5e-06");
  EXPECT_EQ(credit.full_name, "");
  EXPECT_EQ(credit.type, "PROMOTION");
}

TEST(GcpListCell, ReadsJsonLabelsWithEscapes) {
  BillingRecord record;
  ASSERT_TRUE(
      parse_list_cell(R"([{"key": "env", "value": "pr\"od"}, {"key":"t","value":"\u00e9"}])",
                      ListField::labels, record)
          .ok());
  ASSERT_EQ(record.labels.size(), 2u);
  EXPECT_EQ(record.labels.begin()->value, "pr\"od");
  EXPECT_EQ((record.labels.begin() + 1)->value, "\xc3\xa9");
}

TEST(GcpListCell, EmptyListAndEmptyCell) {
  BillingRecord record;
  EXPECT_TRUE(parse_list_cell("[]", ListField::labels, record).ok());
  EXPECT_TRUE(parse_list_cell("", ListField::labels, record).ok());
  EXPECT_TRUE(record.labels.empty());
}

TEST(GcpListCell, MalformedCellSaysWhere) {
  BillingRecord record;
  Status status = parse_list_cell("[{'key': 'env' 'value': 'x'}]", ListField::labels, record);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("expected ',' or '}' at character 16"), std::string::npos)
      << status.error().message();
}

} // namespace
} // namespace billdrop::gcp
