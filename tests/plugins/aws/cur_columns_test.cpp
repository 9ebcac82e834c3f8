// tests plugins/aws/src/cur_columns.cpp and line_item_types.cpp
#include "cur_columns.hpp"
#include "line_item_types.hpp"

#include <gtest/gtest.h>

namespace {

using billdrop::aws::CurColumns;
using billdrop::aws::no_column;

TEST(CurColumnsTest, LegacyAndSnakeCaseHeadersResolveToTheSameSlots) {
  auto legacy = CurColumns::resolve({"lineItem/UsageStartDate", "lineItem/LineItemType",
                                     "lineItem/UnblendedCost", "savingsPlan/SavingsPlanARN",
                                     "reservation/ReservationARN", "product/regionCode"},
                                    "a.csv");
  auto snake = CurColumns::resolve({"line_item_usage_start_date", "line_item_line_item_type",
                                    "line_item_unblended_cost", "savings_plan_savings_plan_a_r_n",
                                    "reservation_reservation_a_r_n", "product_region_code"},
                                   "b.csv");
  ASSERT_TRUE(legacy.ok()) << legacy.error().message();
  ASSERT_TRUE(snake.ok()) << snake.error().message();
  for (const CurColumns* c : {&*legacy, &*snake}) {
    EXPECT_EQ(c->usage_start, 0u);
    EXPECT_EQ(c->line_item_type, 1u);
    EXPECT_EQ(c->unblended_cost, 2u);
    EXPECT_EQ(c->ri_arn, 4u);
    EXPECT_EQ(c->region_code, 5u);
    EXPECT_EQ(c->net_unblended_cost, no_column);
  }
}

TEST(CurColumnsTest, TagColumnsGetTheirCbfKeys) {
  auto c = CurColumns::resolve({"lineItem/UsageStartDate", "lineItem/LineItemType",
                                "lineItem/UnblendedCost", "resourceTags/user:Cost Center",
                                "resourceTags/aws:createdBy", "costCategory/Team",
                                "resource_tags_user_app", "resource_tags", "cost_category"},
                               "a.csv");
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->tags.size(), 4u);
  EXPECT_EQ(c->tags[0].key, "Cost Center"); // user: dropped; the rewrite happens in TagColumns
  EXPECT_EQ(c->tags[1].key, "aws:createdBy");
  EXPECT_EQ(c->tags[2].key, "cost_category:Team");
  EXPECT_EQ(c->tags[3].key, "app");
  EXPECT_EQ(c->resource_tags_map, 7u);
  EXPECT_EQ(c->cost_category_map, 8u);
}

TEST(CurColumnsTest, MissingRequiredColumnsAreNamedWithTheHeader) {
  auto c = CurColumns::resolve({"lineItem/UsageStartDate", "lineItem/Cost"}, "x.csv.gz");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "unexpected header in x.csv.gz: no column lineItem/LineItemType "
            "(line_item_line_item_type) or lineItem/UnblendedCost (line_item_unblended_cost); "
            "the header has \"lineItem/UsageStartDate\", \"lineItem/Cost\"");
}

TEST(LineItemTypesTest, EveryDocumentedTypeMapsToACbfType) {
  const std::pair<const char*, const char*> expected[] = {
      {"Usage", "Usage"},
      {"DiscountedUsage", "Usage"},
      {"SavingsPlanCoveredUsage", "Usage"},
      {"SavingsPlanNegation", "Discount"},
      {"SavingsPlanUpfrontFee", "CommittedUsePurchase"},
      {"SavingsPlanRecurringFee", "CommittedUsePurchase"},
      {"RIFee", "CommittedUsePurchase"},
      {"Fee", "Fee"},
      {"Tax", "Tax"},
      {"Credit", "Credit"},
      {"Refund", "Credit"},
      {"BundledDiscount", "Discount"},
      {"EdpDiscount", "Discount"},
      {"PrivateRateDiscount", "Discount"},
      {"Discount", "Discount"},
      {"tax", "Tax"}, // case-insensitive fallback
  };
  for (const auto& [cur, cbf] : expected) {
    const auto* type = billdrop::aws::find_line_item_type(cur);
    ASSERT_NE(type, nullptr) << cur;
    EXPECT_EQ(type->cbf_type, cbf) << cur;
  }
  EXPECT_EQ(billdrop::aws::find_line_item_type("MysteryType"), nullptr);
}

} // namespace
