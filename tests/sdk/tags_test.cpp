#include <billdrop/tags.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace billdrop;

TEST(TagKey, ValidKeysAreKept) {
  EXPECT_TRUE(is_valid_tag_key("user:Cost.Center/a=b+c-d@e_f"));
  EXPECT_EQ(rewrite_tag_key("user:Cost.Center/a=b+c-d@e_f"), "user:Cost.Center/a=b+c-d@e_f");
  EXPECT_FALSE(is_valid_tag_key(""));
  EXPECT_FALSE(is_valid_tag_key("a b"));
}

TEST(TagKey, EachDisallowedCharacterBecomesOneUnderscore) {
  EXPECT_EQ(rewrite_tag_key("Cost Center"), "Cost_Center");
  EXPECT_EQ(rewrite_tag_key("team#1 (old)"), "team_1__old_");
  // "é" is two bytes, "€" three and "😀" four: each is one character, so one underscore.
  EXPECT_EQ(rewrite_tag_key("caf\xC3\xA9"), "caf_");
  EXPECT_EQ(rewrite_tag_key("\xE2\x82\xAC-cost"), "_-cost");
  EXPECT_EQ(rewrite_tag_key("x\xF0\x9F\x98\x80y"), "x_y");
  // Invalid UTF-8: every bad byte is its own character.
  EXPECT_EQ(rewrite_tag_key("a\xFF\xFE"), "a__");
  EXPECT_EQ(rewrite_tag_key("a\xC3"), "a_"); // truncated sequence at the end
  EXPECT_EQ(rewrite_tag_key(""), "_");
}

TEST(SyntheticResourceId, StableDistinctAndSplittable) {
  const std::string id =
      synthetic_resource_id("AmazonS3", {"123456789012", "us-east-1", "Storage"});
  EXPECT_EQ(id, synthetic_resource_id("AmazonS3", {"123456789012", "us-east-1", "Storage"}));
  EXPECT_EQ(id.rfind("AmazonS3/synthetic-", 0), 0u) << id;
  EXPECT_EQ(id.size(), std::string("AmazonS3/synthetic-").size() + 16);
  // Part boundaries matter.
  EXPECT_NE(synthetic_resource_id("t", {"ab", "c"}), synthetic_resource_id("t", {"a", "bc"}));
  EXPECT_NE(synthetic_resource_id("t", {"a"}), synthetic_resource_id("u", {"a"}).substr(0));
  // FNV-1a 64 of "" is its offset basis: a fixed, documented value.
  EXPECT_EQ(synthetic_resource_id("", std::vector<std::string_view>{}),
            "resource/synthetic-cbf29ce484222325");
  // FNV-1a 64 of "a" (published test vector af63dc4c8601ec8c).
  EXPECT_EQ(synthetic_resource_id("t", {"a"}), "t/synthetic-af63dc4c8601ec8c");
}

namespace {

// A plugin that writes tags given in its configuration, to see TagColumns through the real ABI.
class TagPlugin final : public SourcePlugin {
public:
  explicit TagPlugin(const Config&) {}
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{Month(2024, 8)}; }
  Status read(Month, RowSink& sink) override {
    TagColumns tags;
    const std::vector<std::vector<std::pair<std::string, std::string>>> rows = {
        {{"team", "a"}, {"Cost Center", "42"}, {"empty", ""}},
        {{"Cost_Center", "x"}, {"Cost Center", "y"}, {"Cost#Center", "z"}},
        {{"Cost Center", "7"}}};
    for (const auto& row : rows) {
      tags.clear();
      std::string scratch;
      for (const auto& [k, v] : row) {
        scratch = v; // the value's storage changes before write(): TagColumns keeps a copy
        tags.add(k, scratch);
        scratch.assign(10, '!');
      }
      sink.begin_row("t");
      sink.field("cost/cost", "1");
      tags.write(sink);
      if (Status s = sink.end_row(); !s)
        return s;
    }
    return {};
  }
};

} // namespace

BILLDROP_PLUGIN(TagPlugin, "tags", "1.0.0", "tag test")

TEST(TagColumns, WritesRewritesAndReportsThroughTheSink) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 3u);
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      (*rows)[0].fields,
      (Fields{{"cost/cost", "1"}, {"resource/tag:team", "a"}, {"resource/tag:Cost_Center", "42"}}));
  EXPECT_EQ((*rows)[1].fields, (Fields{{"cost/cost", "1"},
                                       {"resource/tag:Cost_Center", "x"},
                                       {"resource/tag:Cost_Center_2", "y"},
                                       {"resource/tag:Cost_Center_3", "z"}}));
  EXPECT_EQ((*rows)[2].fields, (Fields{{"cost/cost", "1"}, {"resource/tag:Cost_Center", "7"}}));
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost Center' -> 'Cost_Center'"), 3u);
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost#Center' -> 'Cost_Center'"), 1u);
  EXPECT_EQ(harness.note("tag key rewritten: two keys of one row became 'Cost_Center'; the later "
                         "one was renamed 'Cost_Center_2'"),
            1u);
  EXPECT_EQ(harness.notes().size(), 4u);
}
