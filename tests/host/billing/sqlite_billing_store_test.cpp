// The SQLite BillingStore: writes whole or not at all, providerRef uniqueness, schema version,
// cursor paging, search ranking and report groups, against values worked out by hand.
#include "billing/billing_store.hpp"
#include "billing/utc_time.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace billdrop::billing {
namespace {

class SqliteBillingStoreTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    auto opened = open_billing_store(dir_);
    ASSERT_TRUE(opened) << opened.error().message();
    store_ = std::move(*opened);
  }

  Item item(const std::string& name, std::int64_t amount, const std::string& day,
            const std::string& provider = "gcp") {
    Item i;
    i.id = new_id();
    i.name = name;
    i.amount = amount;
    i.currency = "USD";
    i.provider = provider;
    i.date_ms = *parse_day(day);
    i.created_ms = i.updated_ms = now_ms();
    return i;
  }

  std::unique_ptr<BillingStore> store_;
};

TEST_F(SqliteBillingStoreTest, AFailedEditWritesNothing) {
  Item a = item("GCP Compute", 1050, "2026-03-05");
  a.tags = {"compute"};
  ASSERT_TRUE(store_->insert_item(a));
  const std::uint64_t before = store_->generation();
  Outcome<Item> edited = store_->update_item(a.id, [](Item& i) -> std::optional<ApiError> {
    i.amount = 9999;
    i.tags = {"changed"};
    return validation_error("amount", "refused");
  });
  ASSERT_FALSE(edited);
  EXPECT_EQ(edited.error().field, "amount");
  EXPECT_EQ(store_->item(a.id)->amount, 1050);
  EXPECT_EQ(store_->item(a.id)->tags, std::vector<std::string>{"compute"});
  EXPECT_EQ(store_->search("changed", 10).size(), 0u);
  EXPECT_EQ(store_->generation(), before);
  // A category that does not exist: the update is refused whole.
  edited = store_->update_item(a.id, [](Item& i) -> std::optional<ApiError> {
    i.amount = 1;
    i.category = "nope";
    return std::nullopt;
  });
  ASSERT_FALSE(edited);
  EXPECT_EQ(edited.error().code, "VALIDATION_ERROR");
  EXPECT_EQ(store_->item(a.id)->amount, 1050);
}

TEST_F(SqliteBillingStoreTest, ProviderRefIsUniquePerProvider) {
  Item a = item("a", 1, "2026-03-01");
  a.provider_ref = "inv-1";
  ASSERT_TRUE(store_->insert_item(a));
  Item b = item("b", 2, "2026-03-01");
  b.provider_ref = "inv-1";
  Outcome<Item> again = store_->insert_item(b);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "CONFLICT");
  EXPECT_EQ(again.error().status, 409);
  b.provider = "aws"; // another provider may use the same reference
  EXPECT_TRUE(store_->insert_item(b));
  EXPECT_EQ(store_->item_by_provider_ref(std::string("gcp"), "inv-1")->id, a.id);
  EXPECT_EQ(store_->item_by_provider_ref(std::string("aws"), "inv-1")->id, b.id);
}

TEST_F(SqliteBillingStoreTest, PagesNewestFirstWithoutGapsOrRepeats) {
  std::vector<std::string> ids;
  for (int day = 1; day <= 9; ++day) {
    Item i = item("item " + std::to_string(day), day, "2026-03-0" + std::to_string(day));
    ids.push_back(i.id);
    ASSERT_TRUE(store_->insert_item(i));
  }
  // Two on the same day: ordered by id, descending.
  Item same = item("same day", 100, "2026-03-05");
  ASSERT_TRUE(store_->insert_item(same));
  std::vector<std::string> seen;
  std::optional<ItemCursor> cursor;
  int pages = 0;
  do {
    ItemPage page = store_->list_items(ItemFilter{}, 3, cursor);
    for (const Item& i : page.items)
      seen.push_back(i.name);
    cursor = page.next;
    ++pages;
  } while (cursor);
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "item 9");
  EXPECT_EQ(seen.back(), "item 1");
  std::vector<std::string> unique = seen;
  std::sort(unique.begin(), unique.end());
  EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end());
}

TEST_F(SqliteBillingStoreTest, SearchRanksTheBetterMatchFirst) {
  Item weak = item("Support contract", 1, "2026-03-01");
  weak.description = "covers compute questions";
  Item strong = item("Compute Engine compute", 2, "2026-03-02");
  strong.tags = {"compute"};
  Item other = item("OpenAI API", 3, "2026-03-03", "openai");
  for (const Item& i : {weak, strong, other})
    ASSERT_TRUE(store_->insert_item(i));
  const std::vector<Item> found = store_->search("compute", 10);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].id, strong.id);
  EXPECT_EQ(found[1].id, weak.id);
  EXPECT_EQ(store_->search("comp", 10).size(), 2u);           // prefixes
  EXPECT_EQ(store_->search("openai", 10).size(), 1u);         // providers
  EXPECT_EQ(store_->search("\"AND OR NEAR(", 10).size(), 0u); // operators are words
}

TEST_F(SqliteBillingStoreTest, TotalsGroupByKeyAndCurrency) {
  Item a = item("a", 100, "2026-03-02"); // Monday
  Item b = item("b", 250, "2026-03-08"); // Sunday, same week
  Item c = item("c", 7, "2026-03-09", "aws");
  Item d = item("d", 1000, "2026-03-09");
  d.currency = "JPY";
  for (const Item& i : {a, b, c, d})
    ASSERT_TRUE(store_->insert_item(i));
  std::vector<GroupTotal> weeks = store_->totals(ItemFilter{}, GroupBy::week);
  ASSERT_EQ(weeks.size(), 3u);
  EXPECT_EQ(weeks[0].key, "2026-03-02");
  EXPECT_EQ(weeks[0].amount, 350);
  EXPECT_EQ(weeks[0].count, 2);
  EXPECT_EQ(weeks[1].key, "2026-03-09");
  EXPECT_EQ(weeks[1].currency, "JPY");
  EXPECT_EQ(weeks[2].key, "2026-03-09");
  EXPECT_EQ(weeks[2].amount, 7);
  std::vector<GroupTotal> providers = store_->totals(ItemFilter{}, GroupBy::provider);
  ASSERT_EQ(providers.size(), 3u); // JPY gcp, USD gcp, USD aws
  EXPECT_EQ(providers[0].currency, "JPY");
  EXPECT_EQ(providers[1].key, "gcp");
  EXPECT_EQ(providers[1].amount, 350);
  EXPECT_EQ(providers[2].key, "aws");
}

TEST_F(SqliteBillingStoreTest, RefusesAStoreFromANewerBilldrop) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "billing.db").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto opened = open_billing_store(dir_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message().find("upgrade billdrop"), std::string::npos);
}

} // namespace
} // namespace billdrop::billing
