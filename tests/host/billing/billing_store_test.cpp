// The BillingStore, SQLite and PostgreSQL (the tests' cluster) alike: writes whole or not at all,
// providerRef uniqueness, schema version, cursor paging, every filter, categories, search
// matching and ranking, report groups, sync items and jobs, against values worked out by hand.
// Then what only several hosts on one PostgreSQL database show: writes seen by every host,
// concurrent upserts of one providerRef giving one item, no lost update.
#include "billing/billing_store.hpp"
#include "billing/postgres/postgres_billing_store.hpp"
#include "billing/utc_time.hpp"

#include "support/postgres_cluster.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace billdrop::billing {
namespace {

enum class Backend { sqlite, postgres };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgres";
}

Item make_item(const std::string& name, std::int64_t amount, const std::string& day,
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

std::set<std::string> names_of(const std::vector<Item>& items) {
  std::set<std::string> out;
  for (const Item& i : items)
    out.insert(i.name);
  return out;
}

// The same tests on either store: open() opens the test's store (again: the same file or
// database).
class BillingStoreTest : public test::TempFolderTest,
                         public ::testing::WithParamInterface<Backend> {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    if (GetParam() == Backend::postgres)
      url_ = test::PostgresCluster::shared().create_database();
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<BillingStore> open() {
    auto opened = open_billing_store(dir_, url_);
    EXPECT_TRUE(opened) << opened.error().message();
    return opened ? std::move(*opened) : nullptr;
  }

  Item item(const std::string& name, std::int64_t amount, const std::string& day,
            const std::string& provider = "gcp") {
    return make_item(name, amount, day, provider);
  }

  Category category(const std::string& name, std::optional<std::string> parent = std::nullopt) {
    Category c;
    c.id = new_id();
    c.name = name;
    c.parent_id = std::move(parent);
    c.created_ms = c.updated_ms = now_ms();
    return c;
  }

  std::string url_; // "" for SQLite
  std::unique_ptr<BillingStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, BillingStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

TEST_P(BillingStoreTest, AFailedEditWritesNothing) {
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

TEST_P(BillingStoreTest, ProviderRefIsUniquePerProvider) {
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

TEST_P(BillingStoreTest, PagesNewestFirstWithoutGapsOrRepeats) {
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

TEST_P(BillingStoreTest, SearchRanksTheBetterMatchFirst) {
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

TEST_P(BillingStoreTest, TotalsGroupByKeyAndCurrency) {
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

// Four items, each filter's answer and each report's groups worked out by hand.
class FilterFixture {
public:
  explicit FilterFixture(BillingStore& store) {
    cloud = make_category("Cloud");
    storage = make_category("Storage", cloud.id);
    EXPECT_TRUE(store.insert_category(cloud));
    EXPECT_TRUE(store.insert_category(storage));
    Item a = make_item("Alpha", 100, "2026-03-01", "gcp");
    a.service = "compute";
    a.recurring = true;
    a.period = "monthly";
    a.tags = {"compute", "prod"};
    a.stage_app = "prod";
    a.author = "alice";
    a.category = cloud.id;
    Item b = make_item("Beta", 250, "2026-03-10", "aws");
    b.service = "storage";
    b.tags = {"storage"};
    b.stage_app = "dev";
    b.author = "bob";
    b.source = "sync";
    b.category = "storage"; // by name: stored as its id
    Item c = make_item("Gamma", 7, "2026-04-02", "gcp");
    c.service = "compute";
    c.currency = "EUR";
    c.author = "alice";
    Item d = make_item("Delta", 1000, "2026-03-31", "openai");
    d.recurring = true;
    d.tags = {"prod", "ai"};
    d.author = "carol";
    d.category = cloud.id;
    for (const Item& i : {a, b, c, d})
      EXPECT_TRUE(store.insert_item(i));
  }
  static Category make_category(const std::string& name,
                                std::optional<std::string> parent = std::nullopt) {
    Category c;
    c.id = new_id();
    c.name = name;
    c.parent_id = std::move(parent);
    c.created_ms = c.updated_ms = now_ms();
    return c;
  }
  Category cloud, storage;
};

std::set<std::string> listed(BillingStore& store, const ItemFilter& filter) {
  return names_of(store.list_items(filter, 1000, std::nullopt).items);
}

using Names = std::set<std::string>;

TEST_P(BillingStoreTest, EveryFilterKeepsWhatItSays) {
  const FilterFixture f(*store_);
  EXPECT_EQ(store_->item_by_provider_ref(std::string("x"), "none"), std::nullopt);
  ItemFilter by;
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Beta", "Gamma", "Delta"}));
  by = {};
  by.provider = "gcp";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Gamma"}));
  by.currency = "USD";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha"}));
  by = {};
  by.service = "compute";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Gamma"}));
  by = {};
  by.currency = "USD";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Beta", "Delta"}));
  by = {};
  by.from_ms = *parse_day("2026-03-10");
  EXPECT_EQ(listed(*store_, by), (Names{"Beta", "Gamma", "Delta"}));
  by.to_ms = *parse_day("2026-03-31"); // the day after `to`: the 31st is out
  EXPECT_EQ(listed(*store_, by), (Names{"Beta"}));
  by = {};
  by.recurring = true;
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Delta"}));
  by.recurring = false;
  EXPECT_EQ(listed(*store_, by), (Names{"Beta", "Gamma"}));
  by = {};
  by.tags = {"prod"};
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Delta"}));
  by.tags = {"storage", "ai"}; // any of them
  EXPECT_EQ(listed(*store_, by), (Names{"Beta", "Delta"}));
  by = {};
  by.stage_app = "prod";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha"}));
  by = {};
  by.author = "alice";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Gamma"}));
  by = {};
  by.source = "sync";
  EXPECT_EQ(listed(*store_, by), (Names{"Beta"}));
  by.source = "manual";
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Gamma", "Delta"}));
  by = {};
  by.categories = {f.cloud.id, f.storage.id};
  EXPECT_EQ(listed(*store_, by), (Names{"Alpha", "Beta", "Delta"}));
  by.categories = {f.storage.id};
  EXPECT_EQ(listed(*store_, by), (Names{"Beta"}));
  // A filtered report: prod-tagged items, 100 + 1000.
  by = {};
  by.tags = {"prod"};
  const std::vector<GroupTotal> prod = store_->totals(by, GroupBy::none);
  ASSERT_EQ(prod.size(), 1u);
  EXPECT_EQ(prod[0].key, std::nullopt);
  EXPECT_EQ(prod[0].amount, 1100);
  EXPECT_EQ(prod[0].count, 2);
  // Every field comes back as written.
  const Item beta = store_->list_items(ItemFilter{.source = "sync"}, 1, std::nullopt).items.at(0);
  EXPECT_EQ(beta.category, f.storage.id);
  EXPECT_EQ(beta.tags, std::vector<std::string>{"storage"});
  EXPECT_EQ(beta.stage_app, "dev");
  EXPECT_FALSE(beta.recurring);
  EXPECT_EQ(beta.period, std::nullopt);
  EXPECT_EQ(beta.date_ms, *parse_day("2026-03-10"));
}

struct Group {
  std::optional<std::string> key;
  std::string currency;
  std::int64_t amount;
  std::int64_t count;
  bool operator==(const Group&) const = default;
};

std::vector<Group> groups(BillingStore& store, GroupBy by) {
  std::vector<Group> out;
  for (const GroupTotal& g : store.totals(ItemFilter{}, by))
    out.push_back({g.key, g.currency, g.amount, g.count});
  return out;
}

void PrintTo(const Group& g, std::ostream* os) {
  *os << "{" << g.key.value_or("null") << ", " << g.currency << ", " << g.amount << ", " << g.count
      << "}";
}

TEST_P(BillingStoreTest, ReportsGroupEveryWayInTheSameOrder) {
  const FilterFixture f(*store_);
  using G = std::vector<Group>;
  const std::optional<std::string> none;
  // Currency first, then amount descending; an item without tags in the null group.
  EXPECT_EQ(groups(*store_, GroupBy::tag), (G{{none, "EUR", 7, 1},
                                              {"prod", "USD", 1100, 2},
                                              {"ai", "USD", 1000, 1},
                                              {"storage", "USD", 250, 1},
                                              {"compute", "USD", 100, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::month),
            (G{{"2026-03", "USD", 1350, 3}, {"2026-04", "EUR", 7, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::day), (G{{"2026-03-01", "USD", 100, 1},
                                              {"2026-03-10", "USD", 250, 1},
                                              {"2026-03-31", "USD", 1000, 1},
                                              {"2026-04-02", "EUR", 7, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::recurring),
            (G{{"false", "EUR", 7, 1}, {"true", "USD", 1100, 2}, {"false", "USD", 250, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::category),
            (G{{none, "EUR", 7, 1}, {f.cloud.id, "USD", 1100, 2}, {f.storage.id, "USD", 250, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::service), (G{{"compute", "EUR", 7, 1},
                                                  {none, "USD", 1000, 1},
                                                  {"storage", "USD", 250, 1},
                                                  {"compute", "USD", 100, 1}}));
  EXPECT_EQ(groups(*store_, GroupBy::none), (G{{none, "EUR", 7, 1}, {none, "USD", 1350, 3}}));
  const StoreStats stats = store_->stats();
  EXPECT_EQ(stats.items, 4);
  EXPECT_EQ(stats.categories, 2);
  EXPECT_EQ(stats.sync_jobs, 0);
  ASSERT_EQ(stats.totals_by_currency.size(), 2u);
  EXPECT_EQ(stats.totals_by_currency[1].amount, 1350);
  EXPECT_EQ(stats.storage_type, GetParam() == Backend::sqlite ? "sqlite" : "postgres");
  EXPECT_EQ(stats.schema_version, 1);
  EXPECT_GT(stats.bytes, 0);
  EXPECT_FALSE(stats.location.empty());
}

TEST_P(BillingStoreTest, AmountsAddUpExactlyPastTwoToTheFiftyThree) {
  // 2^53 + 1 twice: a double would lose the ones.
  const std::int64_t big = (std::int64_t{1} << 53) + 1;
  ASSERT_TRUE(store_->insert_item(item("a", big, "2026-03-01")));
  ASSERT_TRUE(store_->insert_item(item("b", big, "2026-03-02")));
  const std::vector<GroupTotal> total = store_->totals(ItemFilter{}, GroupBy::none);
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ(total[0].amount, 18014398509481986); // 2 × 9007199254740993
}

TEST_P(BillingStoreTest, CategoriesNestNameOnceAndStayWhileUsed) {
  Category cloud = category("Cloud");
  ASSERT_TRUE(store_->insert_category(cloud));
  Outcome<Category> twin = store_->insert_category(category("CLOUD"));
  ASSERT_FALSE(twin);
  EXPECT_EQ(twin.error().code, "CONFLICT");
  EXPECT_EQ(twin.error().field, "name");
  Category compute = category("Compute", cloud.id);
  ASSERT_TRUE(store_->insert_category(compute));
  EXPECT_EQ(store_->category("cLoUd")->id, cloud.id); // by name, any case
  EXPECT_EQ(store_->category(compute.id)->parent_id, cloud.id);
  EXPECT_EQ(store_->category("nothing"), std::nullopt);
  // No cycles, no unknown parents.
  Outcome<Category> cycle =
      store_->update_category(cloud.id, [&](Category& c) -> std::optional<ApiError> {
        c.parent_id = compute.id;
        return std::nullopt;
      });
  ASSERT_FALSE(cycle);
  EXPECT_EQ(cycle.error().field, "parentId");
  Outcome<Category> orphan = store_->insert_category(category("Orphan", "nope"));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().field, "parentId");
  Outcome<Category> renamed =
      store_->update_category("compute", [](Category& c) -> std::optional<ApiError> {
        c.name = "Compute Engine";
        c.color = "#112233";
        return std::nullopt;
      });
  ASSERT_TRUE(renamed) << renamed.error().message;
  EXPECT_EQ(store_->category("compute engine")->color, "#112233");
  // Listed by name regardless of case.
  ASSERT_TRUE(store_->insert_category(category("analytics")));
  std::vector<std::string> order;
  for (const Category& c : store_->categories())
    order.push_back(c.name);
  EXPECT_EQ(order, (std::vector<std::string>{"analytics", "Cloud", "Compute Engine"}));
  // In use: by an item, by a child.
  Item used = item("VM", 5, "2026-03-01");
  used.category = "Compute Engine";
  ASSERT_TRUE(store_->insert_item(used));
  EXPECT_EQ(store_->item(used.id)->category, compute.id);
  Outcome<Done> gone = store_->delete_category(compute.id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "CONFLICT");
  EXPECT_NE(gone.error().message.find("1 item"), std::string::npos);
  gone = store_->delete_category(cloud.id);
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("parent of 1 category"), std::string::npos);
  ASSERT_TRUE(store_->delete_item(used.id));
  EXPECT_FALSE(store_->delete_item(used.id));
  EXPECT_TRUE(store_->delete_category(compute.id));
  EXPECT_TRUE(store_->delete_category("cloud"));
  EXPECT_EQ(store_->delete_category("cloud").error().code, "NOT_FOUND");
  EXPECT_EQ(store_->categories().size(), 1u);
}

TEST_P(BillingStoreTest, SyncItemsAreUpsertedByProviderRef) {
  Category kept = category("Kept");
  ASSERT_TRUE(store_->insert_category(kept));
  Item sync = item("compute (acme, 2026-03)", 300, "2026-03-01", "custom");
  sync.provider_ref = "acme/2026-03/compute";
  sync.source = "sync";
  sync.amount_exact = "3.004";
  EXPECT_EQ(store_->upsert_sync_item(sync), Upserted::created);
  Item again = sync;
  again.id = new_id(); // a new candidate id each time: the stored one stays
  again.created_ms += 1000;
  EXPECT_EQ(store_->upsert_sync_item(again), Upserted::unchanged);
  // Someone filed it and tagged it; the next sync keeps that.
  ASSERT_TRUE(store_->update_item(sync.id, [&](Item& i) -> std::optional<ApiError> {
    i.category = kept.id;
    i.tags = {"filed"};
    return std::nullopt;
  }));
  Item restated = again;
  restated.amount = 450;
  restated.amount_exact = "4.5";
  restated.name = "gpu (acme, 2026-03)";
  restated.updated_ms += 5000;
  EXPECT_EQ(store_->upsert_sync_item(restated), Upserted::updated);
  const std::optional<Item> stored =
      store_->item_by_provider_ref(std::string("custom"), "acme/2026-03/compute");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->id, sync.id);
  EXPECT_EQ(stored->created_ms, sync.created_ms);
  EXPECT_EQ(stored->updated_ms, restated.updated_ms);
  EXPECT_EQ(stored->amount, 450);
  EXPECT_EQ(stored->amount_exact, "4.5");
  EXPECT_EQ(stored->category, kept.id);
  EXPECT_EQ(stored->tags, std::vector<std::string>{"filed"});
  EXPECT_EQ(store_->list_items(ItemFilter{}, 10, std::nullopt).items.size(), 1u);
  // The search follows the new name and keeps the tags.
  EXPECT_EQ(store_->search("gpu", 10).size(), 1u);
  EXPECT_EQ(store_->search("compute", 10).size(), 0u);
  EXPECT_EQ(store_->search("filed", 10).size(), 1u);
}

TEST_P(BillingStoreTest, SyncJobsAreReplacedAndListedNewestFirst) {
  auto job = [](const std::string& provider, std::int64_t started) {
    SyncJob j;
    j.id = new_id();
    j.provider = provider;
    j.from = "2026-03-01";
    j.to = "2026-03-31";
    j.started_ms = started;
    return j;
  };
  SyncJob first = job("aws", 1000), second = job("gcp", 2000), third = job("aws", 3000);
  third.connection = "acme";
  for (const SyncJob& j : {first, second, third})
    store_->save_sync_job(j);
  first.status = "failed";
  first.error = "the export's bucket is gone";
  first.items_created = 3;
  first.items_updated = 2;
  first.items_unchanged = 1;
  first.completed_ms = 1500;
  store_->save_sync_job(first);
  const std::optional<SyncJob> read = store_->sync_job(first.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, "failed");
  EXPECT_EQ(read->error, first.error);
  EXPECT_EQ(read->items_created + read->items_updated + read->items_unchanged, 6);
  EXPECT_EQ(read->completed_ms, 1500);
  EXPECT_EQ(store_->sync_job(third.id)->connection, "acme");
  EXPECT_EQ(store_->sync_job(second.id)->completed_ms, std::nullopt);
  EXPECT_EQ(store_->sync_job("nope"), std::nullopt);
  auto ids = [](const std::vector<SyncJob>& jobs) {
    std::vector<std::string> out;
    for (const SyncJob& j : jobs)
      out.push_back(j.id);
    return out;
  };
  EXPECT_EQ(ids(store_->sync_jobs(std::nullopt, 10)),
            (std::vector<std::string>{third.id, second.id, first.id}));
  EXPECT_EQ(ids(store_->sync_jobs(std::string("aws"), 10)),
            (std::vector<std::string>{third.id, first.id}));
  EXPECT_EQ(ids(store_->sync_jobs(std::nullopt, 1)), std::vector<std::string>{third.id});
  EXPECT_EQ(store_->stats().sync_jobs, 3);
}

TEST_P(BillingStoreTest, SearchMatchesWordPrefixesInEveryFieldFoldedAsFts5Does) {
  Item cafe = item("Café Crème", 1, "2026-03-01", "scaleway");
  cafe.description = "naïve Über plan";
  cafe.service = "compute-engine";
  cafe.tags = {"ml-ops", "prod"};
  Item dont = item("Don’t stop", 2, "2026-03-02"); // U+2019: punctuation, between two words
  Item plain = item("Plain item", 3, "2026-03-03");
  plain.description = "spare";
  for (const Item& i : {cafe, dont, plain})
    ASSERT_TRUE(store_->insert_item(i));
  auto found = [&](const std::string& q) { return names_of(store_->search(q, 10)); };
  const Names cafe_only{"Café Crème"};
  EXPECT_EQ(found("cafe"), cafe_only);              // diacritics removed
  EXPECT_EQ(found("CAFÉ"), cafe_only);              // case folded, beyond ASCII
  EXPECT_EQ(found("creme caf"), cafe_only);         // every word, each a prefix
  EXPECT_EQ(found("naive uber"), cafe_only);        // the description
  EXPECT_EQ(found("engine"), cafe_only);            // the service, cut at '-'
  EXPECT_EQ(found("ops"), cafe_only);               // a tag, cut at '-'
  EXPECT_EQ(found("scale"), cafe_only);             // the provider
  EXPECT_EQ(found("comp-eng"), cafe_only);          // '-' separates query words too
  EXPECT_EQ(found("cafe zzz"), Names{});            // every word must match
  EXPECT_EQ(found("afe"), Names{});                 // prefixes, not infixes
  EXPECT_EQ(found("don’t"), Names{"Don’t stop"});   // a phrase: don, then t…
  EXPECT_EQ(found("stop’don"), Names{});            // … in that order only
  EXPECT_EQ(found("t stop"), Names{"Don’t stop"});  // two words, anywhere
  EXPECT_EQ(found("— plain"), Names{"Plain item"}); // a word with no token is left out
  EXPECT_EQ(found("—"), Names{});                   // … and nothing left matches nothing
  EXPECT_EQ(found("gcp"), (Names{"Don’t stop", "Plain item"}));
  EXPECT_EQ(found("'; DROP TABLE items; --"), Names{});
  EXPECT_EQ(found("it's"), Names{"Plain item"});  // it, s: both prefixes of words of one item
  EXPECT_EQ(store_->search("gcp", 1).size(), 1u); // the limit
  EXPECT_EQ(store_->list_items(ItemFilter{}, 10, std::nullopt).items.size(), 3u);
}

TEST_P(BillingStoreTest, GenerationChangesWithEveryWriteOnly) {
  const std::uint64_t start = store_->generation();
  Item a = item("a", 1, "2026-03-01");
  a.provider_ref = "r";
  ASSERT_TRUE(store_->insert_item(a));
  const std::uint64_t after_insert = store_->generation();
  EXPECT_NE(after_insert, start);
  EXPECT_EQ(store_->generation(), after_insert); // reads change nothing
  Item b = item("b", 1, "2026-03-01");
  b.provider_ref = "r";
  ASSERT_FALSE(store_->insert_item(b)); // refused: nothing written
  EXPECT_EQ(store_->generation(), after_insert);
  ASSERT_TRUE(store_->delete_item(a.id));
  EXPECT_NE(store_->generation(), after_insert);
}

TEST_P(BillingStoreTest, RefusesAStoreFromANewerBilldrop) {
  store_.reset();
  if (GetParam() == Backend::sqlite) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "billing.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  } else {
    test::PostgresCluster::query(url_, "UPDATE billdrop_billing_schema SET version = 99");
  }
  auto opened = open_billing_store(dir_, url_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message().find("upgrade billdrop"), std::string::npos);
}

// The same items in both stores, the same queries: the same items found (the order may differ:
// bm25 against ts_rank).
TEST(BillingSearchParityTest, BothStoresFindTheSameItems) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("billdrop_search_parity_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sqlite = open_billing_store(dir);
  auto postgres = open_postgres_billing_store(test::PostgresCluster::shared().create_database());
  ASSERT_TRUE(sqlite && postgres);
  const char* names[] = {"GCP Compute Engine",
                         "Compute (acme, 2026-03)",
                         "AWS S3 storage",
                         "Ångström Über-Naïve",
                         "ÉCOLE café",
                         "e-mail/SMS gateway",
                         "日本語 テキスト",
                         "x86_64 v2.5 build",
                         "Don’t stop—now",
                         "a_b c.d e@f.g",
                         "",
                         "123abc ABC123"};
  const char* tags[] = {"compute", "prod-eu", "ml_ops", "ñandú", "v1.2"};
  int n = 0;
  for (const char* name : names) {
    ++n;
    Item i = make_item(name, n, "2026-03-01", n % 2 ? "gcp" : "aws-cloud");
    i.tags = {tags[n % 5], tags[(n + 2) % 5]};
    if (n % 3 == 0)
      i.description = std::string("about ") + names[(n + 5) % 12];
    if (n % 4 == 0)
      i.service = "big-query";
    ASSERT_TRUE((*sqlite)->insert_item(i));
    ASSERT_TRUE((*postgres)->insert_item(i));
  }
  const char* queries[] = {
      "compute",     "comp eng", "COMPUTE",   "angstrom", "uber naive", "ecole", "CAFÉ",
      "e mail",      "e-mail",   "sms",       "日本",     "テキ",       "x86",   "x86_64",
      "v2",          "2.5",      "don’t",     "stop—now", "now—stop",   "a_b",   "c.d",
      "e@f",         "123",      "abc",       "abc123",   "big query",  "prod",  "eu",
      "ml",          "nandu",    "ñand",      "v1",       "1.2",        "about", "gcp",
      "aws cloud",   "—",        "— compute", "\"",       "AND OR",     "NEAR(", "zzz",
      "compute zzz", "c",        "about gcp"};
  for (const char* q : queries) {
    std::set<std::string> a, b;
    for (const Item& i : (*sqlite)->search(q, 100))
      a.insert(i.id);
    for (const Item& i : (*postgres)->search(q, 100))
      b.insert(i.id);
    EXPECT_EQ(a, b) << "q = " << q;
  }
  std::filesystem::remove_all(dir);
}

// Several hosts, one PostgreSQL database: each host's own BillingStore.
class TwoHostsTest : public ::testing::Test {
protected:
  void SetUp() override { url_ = test::PostgresCluster::shared().create_database(); }
  std::unique_ptr<BillingStore> open() {
    auto opened = open_postgres_billing_store(url_);
    EXPECT_TRUE(opened) << opened.error().message();
    return opened ? std::move(*opened) : nullptr;
  }
  std::string url_;
};

TEST_F(TwoHostsTest, WritesFromOneHostAreSeenByTheOther) {
  auto a = open(), b = open();
  ASSERT_TRUE(a && b);
  const std::uint64_t seen_by_b = b->generation();
  Item item = make_item("Written on A", 100, "2026-03-01");
  ASSERT_TRUE(a->insert_item(item));
  EXPECT_NE(b->generation(), seen_by_b); // B's report cache sees A's write
  ASSERT_TRUE(b->item(item.id));
  EXPECT_EQ(b->item(item.id)->name, "Written on A");
  ASSERT_TRUE(b->update_item(item.id, [](Item& i) -> std::optional<ApiError> {
    i.name = "Renamed on B";
    i.amount = 250;
    return std::nullopt;
  }));
  EXPECT_EQ(a->item(item.id)->amount, 250);
  EXPECT_EQ(a->search("renamed", 10).size(), 1u);
  Category c;
  c.id = new_id();
  c.name = "Shared";
  ASSERT_TRUE(b->insert_category(c));
  EXPECT_EQ(a->category("shared")->id, c.id);
  Category twin = c;
  twin.id = new_id();
  EXPECT_EQ(a->insert_category(twin).error().code, "CONFLICT");
  SyncJob job;
  job.id = new_id();
  job.provider = "custom";
  job.from = job.to = "2026-03-01";
  a->save_sync_job(job);
  EXPECT_EQ(b->sync_jobs(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(b->stats().items, 1);
  // A host that closes leaves the generation where it was.
  const std::uint64_t before_close = b->generation();
  a.reset();
  EXPECT_EQ(b->generation(), before_close);
}

TEST_F(TwoHostsTest, ConcurrentUpsertsOfOneProviderRefGiveOneItem) {
  constexpr int kHosts = 4, kRefs = 40;
  std::vector<std::unique_ptr<BillingStore>> hosts;
  for (int h = 0; h < kHosts; ++h)
    hosts.push_back(open());
  std::atomic<int> ready{0}, created{0}, updated{0};
  std::vector<std::thread> threads;
  for (int h = 0; h < kHosts; ++h)
    threads.emplace_back([&, h] {
      ready.fetch_add(1);
      while (ready.load() < kHosts) {
      }
      for (int r = 0; r < kRefs; ++r) {
        Item i = make_item("month " + std::to_string(r), 100 + r, "2026-03-01", "custom");
        i.provider_ref = "acme/" + std::to_string(r);
        i.source = "sync";
        if (h == kHosts - 1)
          i.amount += 1; // one host restates: its upserts update what the others created
        const Upserted did = hosts[h]->upsert_sync_item(i);
        if (did == Upserted::created)
          created.fetch_add(1);
        else if (did == Upserted::updated)
          updated.fetch_add(1);
      }
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(created.load(), kRefs); // each providerRef created once, by one host
  const ItemPage all = hosts[0]->list_items(ItemFilter{}, 1000, std::nullopt);
  ASSERT_EQ(all.items.size(), static_cast<std::size_t>(kRefs));
  std::set<std::string> refs;
  for (const Item& i : all.items)
    refs.insert(*i.provider_ref);
  EXPECT_EQ(refs.size(), static_cast<std::size_t>(kRefs));
  EXPECT_LE(updated.load(), 2 * kRefs);
}

TEST_F(TwoHostsTest, ConcurrentEditsLoseNoUpdate) {
  constexpr int kHosts = 3, kEdits = 25;
  std::vector<std::unique_ptr<BillingStore>> hosts;
  for (int h = 0; h < kHosts; ++h)
    hosts.push_back(open());
  Item counter = make_item("counter", 0, "2026-03-01");
  ASSERT_TRUE(hosts[0]->insert_item(counter));
  std::vector<std::thread> threads;
  for (int h = 0; h < kHosts; ++h)
    threads.emplace_back([&, h] {
      for (int e = 0; e < kEdits; ++e)
        EXPECT_TRUE(hosts[h]->update_item(counter.id, [](Item& i) -> std::optional<ApiError> {
          i.amount += 1; // read, add, write back: a lost update would show in the sum
          return std::nullopt;
        }));
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(hosts[1]->item(counter.id)->amount, kHosts * kEdits);
}

TEST_F(TwoHostsTest, ConcurrentFirstStartsCreateTheTablesOnce) {
  constexpr int kHosts = 6;
  std::vector<std::unique_ptr<BillingStore>> hosts(kHosts);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int h = 0; h < kHosts; ++h)
    threads.emplace_back([&, h] {
      ready.fetch_add(1);
      while (ready.load() < kHosts) {
      }
      hosts[h] = open();
    });
  for (std::thread& t : threads)
    t.join();
  for (const auto& host : hosts)
    EXPECT_NE(host, nullptr);
  EXPECT_EQ(test::PostgresCluster::query(url_, "SELECT count(*) || ':' || max(version) FROM "
                                               "billdrop_billing_schema"),
            "1:1");
  EXPECT_EQ(migrate_postgres_billing_store(url_).value_or_throw(), 1);
}

} // namespace
} // namespace billdrop::billing
