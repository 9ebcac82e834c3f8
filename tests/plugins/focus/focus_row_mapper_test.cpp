// The ChargeCategory/ChargeClass table (plugins/focus/src/focus_row_mapper.cpp).
#include "focus_row_mapper.hpp"

#include <gtest/gtest.h>

namespace {

using billdrop::focus::line_item_type;

TEST(FocusLineItemType, FollowsTheReadmeTable) {
  struct Case {
    const char* category;
    const char* charge_class;
    bool commitment;
    bool negative;
    const char* type;
    bool known;
  };
  const Case cases[] = {
      {"Usage", "", false, false, "Usage", true},
      {"Usage", "", true, false, "Usage", true},   // covered usage, not negative
      {"Usage", "", false, true, "Usage", true},   // a negative charge without a commitment
      {"Usage", "", true, true, "Discount", true}, // commitment discount
      {"Purchase", "", false, false, "Purchase", true},
      {"Purchase", "", true, false, "CommittedUsePurchase", true},
      {"Tax", "", false, false, "Tax", true},
      {"Credit", "", false, true, "Credit", true},
      {"Adjustment", "", false, false, "Adjustment", true},
      {"Usage", "Correction", false, false, "Adjustment", true},
      {"Tax", "Correction", false, true, "Adjustment", true},
      {"usage", "", false, false, "Usage", true}, // values in another case are tolerated
      {"Refund", "", false, false, "Usage", false},
      {"", "", false, false, "Usage", false},
  };
  for (const Case& c : cases) {
    const auto type = line_item_type(c.category, c.charge_class, c.commitment, c.negative);
    EXPECT_EQ(type.type, c.type) << c.category << "/" << c.charge_class;
    EXPECT_EQ(type.known, c.known) << c.category;
  }
}

} // namespace
