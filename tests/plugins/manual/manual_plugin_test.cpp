// The manual plugin over a billing.db written by the host's own BillingStore: one-off items in
// their month, recurring ones in every month of their period (day clamped to short months), the
// category as resource/tag:category, sync items left out, other currencies rejected by id.
#include "billing/billing_store.hpp"
#include "billing/utc_time.hpp"
#include "manual_items.hpp"

#include "support/temp_folder.hpp"

#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry();

namespace manual {
namespace {

using billdrop::Month;
using billdrop::testing::PluginHarness;

class ManualPluginTest : public billdrop::test::TempFolderTest {
protected:
  void SetUp() override {
    billdrop::test::TempFolderTest::SetUp();
    auto store = billdrop::billing::open_billing_store(dir_);
    ASSERT_TRUE(store) << store.error().message();
    billdrop::billing::Category support;
    support.id = "cat000000001";
    support.name = "Support";
    ASSERT_TRUE((*store)->insert_category(support));
    add(**store, "Support invoice", 12000, "USD", "2026-01-15T00:00:00.000Z", "", support.id,
        "inv-7");
    add(**store, "Seats", 999, "USD", "2025-11-30T06:00:00.000Z", "quarterly", "", "");
    add(**store, "Berlin office", 5000, "EUR", "2026-01-20T00:00:00.000Z", "", "", "");
    billdrop::billing::Item synced;
    synced.id = "sync00000001";
    synced.name = "from a sync";
    synced.amount = 777;
    synced.currency = "USD";
    synced.provider = "custom";
    synced.provider_ref = "acme/2026-01/compute";
    synced.source = "sync";
    synced.date_ms = *billdrop::billing::parse_day("2026-01-01");
    (*store)->upsert_sync_item(synced);
  }

  void add(billdrop::billing::BillingStore& store, const std::string& name, std::int64_t amount,
           const std::string& currency, const std::string& date, const std::string& period,
           const std::string& category, const std::string& ref) {
    billdrop::billing::Item item;
    item.id = billdrop::billing::new_id();
    item.name = name;
    item.amount = amount;
    item.currency = currency;
    item.date_ms = *billdrop::billing::parse_instant(date);
    item.recurring = !period.empty();
    if (!period.empty())
      item.period = period;
    if (!category.empty())
      item.category = category;
    if (!ref.empty())
      item.provider_ref = ref;
    item.service = "support";
    ASSERT_TRUE(store.insert_item(item));
  }

  billdrop::ConfigValues config() const { return {{"database", (dir_ / "billing.db").string()}}; }
};

TEST_F(ManualPluginTest, ItemsBecomeRowsInTheirMonths) {
  PluginHarness harness(billdrop_plugin_entry(), config());
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months) << months.error().message();
  // Seats, quarterly from 2025-11: 2025-11, 2026-02, 2026-05, …; the invoices in 2026-01.
  for (const Month m : {Month(2025, 11), Month(2026, 1), Month(2026, 2), Month(2026, 5)})
    EXPECT_NE(std::find(months->begin(), months->end(), m), months->end()) << m.to_string();
  EXPECT_EQ(std::find(months->begin(), months->end(), Month(2026, 3)), months->end());

  auto january = harness.read(Month(2026, 1));
  ASSERT_TRUE(january) << january.error().message();
  ASSERT_EQ(january->size(), 1u); // the sync item is not a manual cost; the EUR one is rejected
  const auto& row = january->front();
  EXPECT_EQ(row.get("time/usage_start"), "2026-01-15T00:00:00Z");
  EXPECT_EQ(row.get("cost/cost"), "120.00");
  EXPECT_EQ(row.get("lineitem/description"), "Support invoice");
  EXPECT_EQ(row.get("resource/tag:category"), "Support");
  EXPECT_EQ(row.get("bill/invoice_id"), "inv-7");
  EXPECT_EQ(row.get("resource/account"), "manual");
  EXPECT_TRUE(row.get("resource/id").starts_with("billing-item/"));
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_NE(harness.rejects().front().origin.find("(2026-01)"), std::string::npos);
  EXPECT_NE(harness.rejects().front().reason.find("EUR"), std::string::npos);

  // February is shorter: the 30th becomes the 28th.
  auto february = harness.read(Month(2026, 2));
  ASSERT_TRUE(february);
  ASSERT_EQ(february->size(), 1u);
  EXPECT_EQ(february->front().get("time/usage_start"), "2026-02-28T06:00:00Z");
  EXPECT_EQ(february->front().get("cost/cost"), "9.99");
  EXPECT_FALSE(february->front().has("resource/tag:category"));
  auto march = harness.read(Month(2026, 3));
  ASSERT_TRUE(march);
  EXPECT_TRUE(march->empty());
}

TEST_F(ManualPluginTest, AMissingStoreIsAConfigErrorThatSaysWhereToPoint) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"database", (dir_ / "nowhere" / "billing.db").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto check = harness.check();
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.error().message().find("billing.db in the state directory"), std::string::npos);
}

// One store, named once: billing.db, or a PostgreSQL store's connection string by file or
// environment variable.
TEST_F(ManualPluginTest, ExactlyOneStoreIsNamed) {
  PluginHarness none(billdrop_plugin_entry(), {});
  auto created = none.create();
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message().find("database: is required"), std::string::npos)
      << created.error().message();
  PluginHarness both(billdrop_plugin_entry(), {{"database", (dir_ / "billing.db").string()},
                                               {"postgres_url_env", "BILLDROP_TEST_NO_SUCH_URL"}});
  created = both.create();
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message().find("give exactly one"), std::string::npos);
  // An unset variable and an unreadable file are named in the error.
  PluginHarness unset(billdrop_plugin_entry(), {{"postgres_url_env", "BILLDROP_TEST_NO_SUCH_URL"}});
  ASSERT_TRUE(unset.create().ok());
  auto check = unset.check();
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.error().message().find("BILLDROP_TEST_NO_SUCH_URL is not set"),
            std::string::npos);
  PluginHarness missing(billdrop_plugin_entry(),
                        {{"postgres_url_file", (dir_ / "no-such.url").string()}});
  ASSERT_TRUE(missing.create().ok());
  check = missing.check();
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.error().message().find("no-such.url"), std::string::npos);
}

TEST(ManualItems, MinorUnitsText) {
  EXPECT_EQ(minor_units_text(1050, 2), "10.50");
  EXPECT_EQ(minor_units_text(5, 2), "0.05");
  EXPECT_EQ(minor_units_text(0, 2), "0.00");
  EXPECT_EQ(minor_units_text(1050, 0), "1050");
  EXPECT_EQ(minor_units_text(1234, 3), "1.234");
}

} // namespace
} // namespace manual
