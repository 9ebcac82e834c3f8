// Synthetic resource ids of rows with tags but no resource id. CBF allows one value per tag key
// per resource id, so the Tags text is part of the id.
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::PluginHarness;
using namespace azure::testing;

TEST(AzureRowWriter, SyntheticIdsSeparateRowsWhoseTagsDiffer) {
  const auto dir = temp_dir("synthetic_ids");
  const std::string same = "s1,08/01/2023,Storage,m-1,Blob Storage,";
  write_file(dir / "a.csv", "SubscriptionId,Date,MeterCategory,MeterId,ProductName,Cost,Tags\n" +
                                same + "1.00,\"\"\"env\"\": \"\"prod\"\"\"\n" + // line 2
                                same + "2.00,\"\"\"env\"\": \"\"dev\"\"\"\n" +  // line 3
                                same + "3.00,\"\"\"env\"\": \"\"prod\"\"\"\n" + // line 4
                                same + "4.00,\n");                              // line 5: no tags
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "a.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(rows->at(0).get("resource/tag:env"), "prod");
  EXPECT_EQ(rows->at(1).get("resource/tag:env"), "dev");
  EXPECT_TRUE(rows->at(0).get("resource/id").starts_with("Storage/synthetic-"))
      << rows->at(0).get("resource/id");
  EXPECT_NE(rows->at(0).get("resource/id"), rows->at(1).get("resource/id")); // prod vs dev
  EXPECT_EQ(rows->at(0).get("resource/id"), rows->at(2).get("resource/id")); // identical
  EXPECT_FALSE(rows->at(3).has("resource/id")); // no tags: no id is needed
}

// Rows cycling through 20 distinct Tags cells, one of them not JSON and one with an empty value,
// in three rounds: every row carries exactly its own cell's tags, whether the cell was parsed for
// it or its tags kept from an earlier row.
TEST(AzureRowWriter, RepeatedTagCellsGiveEachRowItsOwnTags) {
  const auto dir = temp_dir("repeated_tags");
  std::string csv = "SubscriptionId,Date,MeterCategory,ResourceId,Cost,Tags\n";
  const auto cell = [](int k) -> std::string {
    if (k == 7)
      return "\"not json\"";
    if (k == 11)
      return "\"\"\"team\"\": \"\"\"\", \"\"k11\"\": \"\"v\"\"\"";
    std::string text = "\"\"\"team\"\": \"\"t";
    text += std::to_string(k);
    text += "\"\", \"\"env\"\": \"\"prod\"\"\"";
    return text;
  };
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < 20; ++k) {
      csv += "s1,08/01/2023,Storage,r";
      csv += std::to_string(k);
      csv += ",1.00,";
      csv += cell(k);
      csv += '\n';
    }
  write_file(dir / "a.csv", csv);
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "a.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 60u);
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& row = rows->at(i);
    const int k = static_cast<int>(i % 20);
    if (k == 7) {
      EXPECT_FALSE(row.has("resource/tag:team")) << i;
      EXPECT_FALSE(row.has("resource/tag:env")) << i;
    } else if (k == 11) {
      EXPECT_FALSE(row.has("resource/tag:team")) << i;
      EXPECT_EQ(row.get("resource/tag:k11"), "v") << i;
    } else {
      std::string team = "t";
      team += std::to_string(k);
      EXPECT_EQ(row.get("resource/tag:team"), team) << i;
      EXPECT_EQ(row.get("resource/tag:env"), "prod") << i;
      EXPECT_FALSE(row.has("resource/tag:k11")) << i;
    }
  }
}

} // namespace
} // namespace billdrop::azure
