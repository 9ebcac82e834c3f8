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

} // namespace
} // namespace billdrop::azure
