// The shape of CSV rows: a row with fewer or more fields than the header cannot be read safely
// (its cells may sit under the wrong columns) and is rejected with file and line.
#include "test_support.hpp"

#include <billdrop/sdk.hpp>

#include <gtest/gtest.h>

namespace billdrop::gcp {
namespace {

using billdrop::testing::PluginHarness;
using testing::GcpFolderTest;
using testing::total;

class GcpExportFileTest : public GcpFolderTest {};

TEST_F(GcpExportFileTest, ARowWithMoreFieldsThanTheHeaderIsRejected) {
  write("a.csv", "project.id,usage_start_time,cost,service.description\n"
                 "shop-prod,2024-08-01 00:00:00+00:00,1.25,Compute Engine\n"
                 // An unquoted comma in the service name shifts nothing before it, but the row
                 // has five fields: which one is the service cannot be told.
                 "shop-prod,2024-08-01 01:00:00+00:00,100,Compute, Engine\n"
                 "shop-prod,2024-08-01 02:00:00+00:00,2.50,Compute Engine,,\n"
                 "shop-prod,2024-08-01 03:00:00+00:00,0.25,Compute Engine\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "a.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(total(*rows), Decimal::from_string("1.50")); // 1.25 + 0.25
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "a.csv:3");
  EXPECT_EQ(harness.rejects()[0].reason, "the row has 5 fields but the header has 4");
  EXPECT_EQ(harness.rejects()[1].origin, "a.csv:4");
  EXPECT_EQ(harness.rejects()[1].reason, "the row has 6 fields but the header has 4");
}

} // namespace
} // namespace billdrop::gcp
