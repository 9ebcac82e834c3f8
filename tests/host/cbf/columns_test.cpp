#include "cbf/columns.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace billdrop::cbf {
namespace {

TEST(Columns, FindsEveryColumnByItsExactName) {
  for (const ColumnInfo& column : kColumns) {
    const std::optional<Column> found = find_column(column.name);
    ASSERT_TRUE(found.has_value()) << column.name;
    EXPECT_EQ(*found, column.column) << column.name;
  }
}

TEST(Columns, NamesThatShareALengthAreToldApart) {
  // 16 bytes each; 19 bytes each; 11 bytes each.
  EXPECT_EQ(find_column("time/usage_start"), Column::usage_start);
  EXPECT_EQ(find_column("resource/account"), Column::resource_account);
  EXPECT_EQ(find_column("resource/service"), Column::resource_service);
  EXPECT_EQ(find_column("action/operation"), Column::action_operation);
  EXPECT_EQ(find_column("cost/amortized_cost"), Column::amortized_cost);
  EXPECT_EQ(find_column("cost/on_demand_cost"), Column::on_demand_cost);
  EXPECT_EQ(find_column("lineitem/id"), Column::lineitem_id);
  EXPECT_EQ(find_column("usage/units"), Column::usage_units);
  EXPECT_EQ(find_column("resource/id"), Column::resource_id);
  EXPECT_EQ(find_column("k8s/cluster"), Column::k8s_cluster);
}

TEST(Columns, RejectsNearMissesTagsAndEmptyKeys) {
  EXPECT_FALSE(find_column("").has_value());
  EXPECT_FALSE(find_column("Cost/Cost").has_value());  // names are case-sensitive
  EXPECT_FALSE(find_column("cost/cost ").has_value()); // no trimming
  EXPECT_FALSE(find_column("cost/cosT").has_value());  // same length, last byte differs
  EXPECT_FALSE(find_column("xost/cost").has_value());  // same length, first byte differs
  EXPECT_FALSE(find_column("resource/tag:team").has_value());
  EXPECT_FALSE(find_column("usage/quantity").has_value());
  EXPECT_FALSE(find_column(std::string(200, 'a')).has_value());
}

// A key lands in one slot by its length and two of its bytes; the whole key must still match.
TEST(Columns, EveryOneByteChangeOfANameIsAnotherNameOrNone) {
  const auto expected = [](std::string_view key) -> std::optional<Column> {
    for (const ColumnInfo& column : kColumns) // a plain search, independent of the slots
      if (column.name == key)
        return column.column;
    return std::nullopt;
  };
  for (const ColumnInfo& column : kColumns) {
    const std::string name(column.name);
    for (std::size_t at = 0; at < name.size(); ++at) {
      for (const char replacement : {'x', 'A', '/', '_', ':', '\0', '\xff'}) {
        if (replacement == name[at])
          continue;
        std::string key = name;
        key[at] = replacement;
        EXPECT_EQ(find_column(key), expected(key)) << key;
      }
    }
    EXPECT_EQ(find_column(name + "s"), expected(name + "s")) << name;
    EXPECT_EQ(find_column(name.substr(1)), expected(name.substr(1))) << name;
    EXPECT_EQ(find_column(name.substr(0, name.size() - 1)),
              expected(name.substr(0, name.size() - 1)))
        << name;
  }
}

TEST(Columns, LineItemTypesMatchExactly) {
  for (std::string_view type : {"Usage", "Tax", "Support", "Purchase", "CommittedUsePurchase",
                                "Discount", "Credit", "Fee", "Adjustment"})
    EXPECT_TRUE(is_lineitem_type(type)) << type;
  EXPECT_FALSE(is_lineitem_type("usage"));
  EXPECT_FALSE(is_lineitem_type("Usage "));
  EXPECT_FALSE(is_lineitem_type("Refund"));
  EXPECT_FALSE(is_lineitem_type(""));
}

TEST(Columns, TagKeysAllowLettersDigitsAndTheDocumentedPunctuation) {
  EXPECT_TRUE(is_valid_tag_key("team"));
  EXPECT_TRUE(is_valid_tag_key("aws:createdBy"));
  EXPECT_TRUE(is_valid_tag_key("A-Z_a.z:0/9=+-@"));
  EXPECT_FALSE(is_valid_tag_key(""));
  EXPECT_FALSE(is_valid_tag_key("cost center")); // space
  EXPECT_FALSE(is_valid_tag_key("team#1"));
  EXPECT_FALSE(is_valid_tag_key("owner,env"));
  EXPECT_FALSE(is_valid_tag_key("\"quoted\""));
  EXPECT_FALSE(is_valid_tag_key("équipe")); // ASCII letters only
}

} // namespace
} // namespace billdrop::cbf
