// The in-memory indexes behind open_billing_store(): report totals (billing/report_index.cpp)
// against totals summed by hand from a fixture, and both reports and searches
// (billing/search_index.cpp) against the plain SQLite store's SQL and FTS5 on the same random
// items, for every grouping, random filters and random queries, through inserts, updates,
// upserts, deletes and a reopen.
#include "billing/billing_store.hpp"
#include "billing/report_index.hpp"
#include "billing/sqlite/sqlite_billing_store.hpp"
#include "billing/utc_time.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <random>

namespace billdrop::billing {
namespace {

std::string describe(const std::vector<GroupTotal>& groups) {
  std::string text;
  for (const GroupTotal& g : groups)
    text += g.key.value_or("<none>") + " " + g.currency + " " + std::to_string(g.amount) + " x" +
            std::to_string(g.count) + "\n";
  return text;
}

Item make_item(std::string id, std::int64_t amount, const char* day, const char* provider,
               std::vector<std::string> tags = {}, const char* currency = "USD") {
  Item i;
  i.id = std::move(id);
  i.name = "item " + i.id;
  i.amount = amount;
  i.currency = currency;
  if (provider != nullptr)
    i.provider = provider;
  i.tags = std::move(tags);
  i.date_ms = *parse_day(day);
  return i;
}

TEST(ReportIndexTest, TotalsSummedByHand) {
  ReportIndex index;
  index.put(make_item("a", 1050, "2026-03-05", "gcp", {"compute", "prod"}));
  index.put(make_item("b", 250, "2026-03-09", "aws", {"prod"}));
  index.put(make_item("c", 700, "2026-04-01", "gcp"));
  index.put(make_item("d", 300, "2026-04-02", nullptr, {"compute"}, "EUR"));
  index.put(make_item("e", 5, "2026-02-28", "aws", {"prod", "prod"}));

  // Everything: USD 1050 + 250 + 700 + 5 = 2005 over 4 items; EUR 300.
  std::vector<GroupTotal> all = index.totals(ItemFilter{}, GroupBy::none);
  ASSERT_EQ(all.size(), 2u) << describe(all);
  EXPECT_EQ(all[0].currency, "EUR");
  EXPECT_EQ(all[0].amount, 300);
  EXPECT_EQ(all[1].currency, "USD");
  EXPECT_EQ(all[1].amount, 2005);
  EXPECT_EQ(all[1].count, 4);

  // March only (from 03-01 to 03-31 inclusive): a + b = 1300.
  ItemFilter march;
  march.from_ms = *parse_day("2026-03-01");
  march.to_ms = *parse_day("2026-03-31") + ms_per_day;
  std::vector<GroupTotal> in_march = index.totals(march, GroupBy::provider);
  EXPECT_EQ(describe(in_march), "gcp USD 1050 x1\naws USD 250 x1\n");

  // By tag: each tag once per item ("prod" twice on e counts once); d has no USD tag.
  EXPECT_EQ(describe(index.totals(ItemFilter{}, GroupBy::tag)),
            "compute EUR 300 x1\nprod USD 1305 x3\ncompute USD 1050 x1\n<none> USD 700 x1\n");

  // By month and by week (weeks start on Monday: 2026-03-02 and 2026-03-09; 02-28 is in the
  // week of 02-23; 04-01 and 04-02 in the week of 03-30).
  EXPECT_EQ(describe(index.totals(ItemFilter{}, GroupBy::month)),
            "2026-02 USD 5 x1\n2026-03 USD 1300 x2\n2026-04 EUR 300 x1\n2026-04 USD 700 x1\n");
  EXPECT_EQ(describe(index.totals(ItemFilter{}, GroupBy::week)),
            "2026-02-23 USD 5 x1\n2026-03-02 USD 1050 x1\n2026-03-09 USD 250 x1\n"
            "2026-03-30 EUR 300 x1\n2026-03-30 USD 700 x1\n");

  // Any of the tags, and a provider nobody has.
  ItemFilter tagged;
  tagged.tags = {"compute", "nothing"};
  EXPECT_EQ(describe(index.totals(tagged, GroupBy::none)),
            "<none> EUR 300 x1\n<none> USD 1050 x1\n");
  ItemFilter nobody;
  nobody.provider = "azure";
  EXPECT_TRUE(index.totals(nobody, GroupBy::provider).empty());

  // Replacing and erasing.
  index.put(make_item("a", 1, "2026-03-05", "aws"));
  index.erase("b");
  index.erase("not-there");
  EXPECT_EQ(describe(index.totals(march, GroupBy::provider)), "aws USD 1 x1\n");
  EXPECT_EQ(index.size(), 4u);
}

// Random items written through both the indexed store and a plain SQLite store.
class ReportIndexAgainstSqlTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    std::filesystem::create_directories(dir_ / "indexed");
    auto indexed = open_billing_store(dir_ / "indexed");
    ASSERT_TRUE(indexed) << indexed.error().message();
    indexed_ = std::move(*indexed);
    auto plain = open_sqlite_billing_store(dir_ / "plain.db");
    ASSERT_TRUE(plain) << plain.error().message();
    plain_ = std::move(*plain);
  }

  template <class T>
  const T& pick(const std::vector<T>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng_)];
  }
  bool coin(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  std::optional<std::string> maybe(const std::vector<std::string>& from, int percent) {
    if (coin(percent))
      return pick(from);
    return std::nullopt;
  }
  std::int64_t random_day() {
    return *parse_day("2025-01-01") / ms_per_day + std::uniform_int_distribution<int>(0, 500)(rng_);
  }

  Item random_item() {
    Item i;
    i.id = new_id();
    i.name = "item";
    i.amount = std::uniform_int_distribution<std::int64_t>(0, 1'000'000)(rng_);
    i.currency = pick(currencies_);
    i.provider = maybe(providers_, 90);
    i.service = maybe(services_, 80);
    i.category = maybe(category_ids_, 60);
    i.stage_app = maybe(apps_, 30);
    i.author = maybe(authors_, 30);
    i.recurring = coin(20);
    if (i.recurring)
      i.period = "monthly";
    for (int n = std::uniform_int_distribution<int>(0, 3)(rng_); n > 0; --n)
      i.tags.push_back(pick(tags_));
    // Midnight mostly, any millisecond of the day sometimes.
    i.date_ms =
        random_day() * ms_per_day +
        (coin(30) ? std::uniform_int_distribution<std::int64_t>(0, ms_per_day - 1)(rng_) : 0);
    i.created_ms = i.updated_ms = 1'700'000'000'000;
    return i;
  }

  ItemFilter random_filter() {
    ItemFilter f;
    if (coin(20))
      f.categories = {pick(category_ids_), pick(category_ids_)};
    if (coin(25))
      f.provider = coin(90) ? pick(providers_) : "unknown";
    if (coin(20))
      f.service = pick(services_);
    if (coin(20))
      f.currency = pick(currencies_);
    if (coin(50)) {
      const std::int64_t a = random_day(), b = random_day();
      f.from_ms = std::min(a, b) * ms_per_day;
      f.to_ms = (std::max(a, b) + 1) * ms_per_day;
    } else if (coin(20)) {
      f.to_ms = random_day() * ms_per_day;
    }
    if (coin(20))
      f.recurring = coin(50);
    if (coin(20))
      f.tags = {pick(tags_), pick(tags_)};
    if (coin(10))
      f.stage_app = pick(apps_);
    if (coin(10))
      f.author = pick(authors_);
    if (coin(10))
      f.source = coin(50) ? "manual" : "sync";
    return f;
  }

  void expect_same_totals(int filters) {
    for (int n = 0; n < filters; ++n) {
      const ItemFilter f = n == 0 ? ItemFilter{} : random_filter();
      for (GroupBy by :
           {GroupBy::none, GroupBy::provider, GroupBy::category, GroupBy::service,
            GroupBy::recurring, GroupBy::tag, GroupBy::day, GroupBy::week, GroupBy::month}) {
        const std::string want = describe(plain_->totals(f, by));
        ASSERT_EQ(describe(indexed_->totals(f, by)), want)
            << "filter " << n << ", grouping " << static_cast<int>(by);
      }
    }
  }

  // Searches compared item for item, in order: the FTS5 query of the plain store is the truth.
  void expect_same_search(int queries) {
    for (int n = 0; n < queries; ++n) {
      std::string q = pick(words_);
      q = q.substr(0, std::uniform_int_distribution<std::size_t>(1, q.size())(rng_));
      if (coin(40))
        q += (coin(50) ? " " : ", ") + pick(words_).substr(0, 3);
      const std::size_t limit = std::uniform_int_distribution<std::size_t>(1, 60)(rng_);
      std::string want, got;
      for (const Item& i : plain_->search(q, limit))
        want += i.id + " " + i.name + "\n";
      for (const Item& i : indexed_->search(q, limit))
        got += i.id + " " + i.name + "\n";
      ASSERT_EQ(got, want) << "query '" << q << "', limit " << limit;
    }
  }

  void describe_randomly(Item& i) {
    i.name = pick(words_) + " " + pick(words_);
    if (coin(70)) {
      std::string text;
      for (int n = std::uniform_int_distribution<int>(0, 8)(rng_); n > 0; --n)
        text += pick(words_) + (coin(20) ? ", " : " ");
      i.description = text;
    }
    if (coin(3)) {
      // Past the index's weight table (256 tokens, 16 instances of a word): scored by formula.
      std::string text;
      const std::string often = pick(words_);
      for (int n = 0; n < 300; ++n)
        text += (n % 15 == 0 ? often : pick(words_)) + " ";
      i.description = text;
    }
  }

  void create_categories() {
    for (int n = 0; n < 6; ++n) {
      Category c;
      c.id = "cat" + std::to_string(n);
      c.name = "Category " + std::to_string(n);
      ASSERT_TRUE(indexed_->insert_category(c));
      ASSERT_TRUE(plain_->insert_category(c));
      category_ids_.push_back(c.id);
    }
  }

  std::mt19937_64 rng_{20261207};
  std::vector<std::string> currencies_{"USD", "EUR", "JPY"};
  std::vector<std::string> providers_{"aws", "gcp", "azure", "datadog", "snowflake"};
  std::vector<std::string> services_{"compute", "storage", "network", "support"};
  std::vector<std::string> apps_{"web", "batch"};
  std::vector<std::string> authors_{"ana", "bo", "chen"};
  std::vector<std::string> tags_{"prod", "dev", "team-a", "team-b", "gpu"};
  // Words sharing prefixes, in mixed case, with diacritics FTS5 removes and a ligature it keeps.
  std::vector<std::string> words_{"Compute", "computer", "compliance", "engine", "Engineering",
                                  "egress",  "café",     "CAFE",       "naïve",  "Œuvre",
                                  "storage", "store",    "s3",         "2026",   "x"};
  std::vector<std::string> category_ids_;
  std::unique_ptr<BillingStore> indexed_;
  std::unique_ptr<BillingStore> plain_;
};

TEST_F(ReportIndexAgainstSqlTest, EveryGroupingAndFilterAgreesWithSql) {
  create_categories();
  std::vector<Item> items;
  for (int n = 0; n < 1500; ++n) {
    items.push_back(random_item());
    describe_randomly(items.back());
    ASSERT_TRUE(indexed_->insert_item(items.back()));
    ASSERT_TRUE(plain_->insert_item(items.back()));
  }
  expect_same_totals(150);
  expect_same_search(300);

  // Updates, deletes and sync upserts, through both stores.
  for (int n = 0; n < 300; ++n) {
    Item& target = items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(rng_)];
    Item changed = random_item();
    describe_randomly(changed);
    auto edit = [&](Item& i) -> std::optional<ApiError> {
      i.amount = changed.amount;
      i.date_ms = changed.date_ms;
      i.provider = changed.provider;
      i.tags = changed.tags;
      i.currency = changed.currency;
      i.name = changed.name + " renamed";
      i.description = changed.description;
      return std::nullopt;
    };
    ASSERT_TRUE(indexed_->update_item(target.id, edit));
    ASSERT_TRUE(plain_->update_item(target.id, edit));
  }
  for (int n = 0; n < 200; ++n) {
    const std::string id = items.back().id;
    items.pop_back();
    ASSERT_TRUE(indexed_->delete_item(id));
    ASSERT_TRUE(plain_->delete_item(id));
  }
  for (int n = 0; n < 400; ++n) {
    Item sync = random_item();
    sync.source = "sync";
    sync.provider = pick(providers_);
    sync.category.reset();
    sync.provider_ref = "conn/2025-0" + std::to_string(n % 7 + 1) + "/" + pick(services_);
    EXPECT_EQ(indexed_->upsert_sync_item(sync), plain_->upsert_sync_item(sync));
  }
  expect_same_totals(150);
  expect_same_search(300);

  // Reopened: the index is rebuilt from the file.
  indexed_.reset();
  auto reopened = open_billing_store(dir_ / "indexed");
  ASSERT_TRUE(reopened) << reopened.error().message();
  indexed_ = std::move(*reopened);
  expect_same_totals(100);
  expect_same_search(100);
}

// The same searches again after each single write (an update, an insert or a sync upsert, no
// delete): the index keeps the best documents of recent searches, and any write must drop them.
TEST_F(ReportIndexAgainstSqlTest, SearchesRepeatedBetweenSingleWritesAgree) {
  create_categories();
  std::vector<Item> items;
  for (int n = 0; n < 300; ++n) {
    items.push_back(random_item());
    describe_randomly(items.back());
    ASSERT_TRUE(indexed_->insert_item(items.back()));
    ASSERT_TRUE(plain_->insert_item(items.back()));
  }
  const std::vector<std::pair<std::string, std::size_t>> queries{
      {"comp", 5}, {"comp", 40}, {"eng", 3}, {"stor", 10}, {"caf", 100}, {"comp eng", 7}};
  auto same = [&](int step) {
    for (const auto& [q, limit] : queries) {
      std::string want, got;
      for (const Item& i : plain_->search(q, limit))
        want += i.id + " " + i.name + "\n";
      for (const Item& i : indexed_->search(q, limit))
        got += i.id + " " + i.name + "\n";
      ASSERT_EQ(got, want) << "after write " << step << ": query '" << q << "', limit " << limit;
    }
  };
  same(0);
  for (int n = 1; n <= 150; ++n) {
    if (coin(50)) {
      const Item& target = pick(items);
      Item changed = random_item();
      describe_randomly(changed);
      auto edit = [&](Item& i) -> std::optional<ApiError> {
        i.name = changed.name;
        i.description = changed.description;
        i.date_ms = changed.date_ms;
        return std::nullopt;
      };
      ASSERT_TRUE(indexed_->update_item(target.id, edit));
      ASSERT_TRUE(plain_->update_item(target.id, edit));
    } else if (coin(70)) {
      items.push_back(random_item());
      describe_randomly(items.back());
      ASSERT_TRUE(indexed_->insert_item(items.back()));
      ASSERT_TRUE(plain_->insert_item(items.back()));
    } else {
      Item sync = random_item();
      describe_randomly(sync);
      sync.source = "sync";
      sync.provider = pick(providers_);
      sync.category.reset();
      sync.provider_ref = "conn/2025-0" + std::to_string(n % 3 + 1) + "/" + pick(services_);
      EXPECT_EQ(indexed_->upsert_sync_item(sync), plain_->upsert_sync_item(sync));
    }
    same(n);
  }
}

// Every update takes a new slot in the search index (its postings stay sorted by slot); once
// dead slots outnumber live ones by 4096 it renumbers them. Searches agree before and after.
TEST_F(ReportIndexAgainstSqlTest, SearchesAgreeAfterTheIndexRenumbersItsDocuments) {
  create_categories();
  std::vector<Item> items;
  for (int n = 0; n < 120; ++n) {
    items.push_back(random_item());
    describe_randomly(items.back());
    ASSERT_TRUE(indexed_->insert_item(items.back()));
    ASSERT_TRUE(plain_->insert_item(items.back()));
  }
  for (int round = 0; round < 45; ++round) {
    for (const Item& target : items) {
      Item changed = random_item();
      describe_randomly(changed);
      auto edit = [&](Item& i) -> std::optional<ApiError> {
        i.name = changed.name;
        i.description = changed.description;
        return std::nullopt;
      };
      ASSERT_TRUE(indexed_->update_item(target.id, edit));
      ASSERT_TRUE(plain_->update_item(target.id, edit));
    }
    expect_same_search(10);
  }
  expect_same_search(100);
}

TEST_F(ReportIndexAgainstSqlTest, DatesFarApartAndAFailedWrite) {
  // Days centuries apart take the sparse path of the trend sums.
  for (const char* day : {"1970-01-01", "1970-01-05", "2026-03-05", "9999-12-31"}) {
    Item i = make_item(new_id(), 100, day, "aws");
    ASSERT_TRUE(indexed_->insert_item(i));
    ASSERT_TRUE(plain_->insert_item(i));
  }
  expect_same_totals(1);
  // A refused write changes neither the store nor the index.
  Item refused = make_item(new_id(), 5, "2026-03-05", "aws");
  refused.category = "no-such-category";
  EXPECT_FALSE(indexed_->insert_item(refused));
  const std::uint64_t generation = indexed_->generation();
  EXPECT_EQ(describe(indexed_->totals(ItemFilter{}, GroupBy::none)), "<none> USD 400 x4\n");
  EXPECT_EQ(indexed_->generation(), generation);
}

} // namespace
} // namespace billdrop::billing
