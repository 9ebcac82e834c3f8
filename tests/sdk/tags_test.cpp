#include <billdrop/tags.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
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

// Row 1's valid key "Cost_Center" is first seen after "Cost Center" was named "Cost_Center" on
// row 0 and nobody declared it: the valid key takes its own name, "Cost Center" moves to its next
// free suffix for good (noted once), and "Cost#Center" takes the suffix after that.
TEST(TagColumns, WritesRewritesAndReportsThroughTheSink) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {});
  ASSERT_TRUE(harness.create().ok());
  harness.accept_invalid_rows(); // rows of tags alone: the tag columns are what is tested
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
  EXPECT_EQ((*rows)[2].fields, (Fields{{"cost/cost", "1"}, {"resource/tag:Cost_Center_2", "7"}}));
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost Center' -> 'Cost_Center'"), 1u);
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost Center' -> 'Cost_Center_2' from here on: the "
                         "valid key 'Cost_Center' appeared after it had been named"),
            1u);
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost Center' -> 'Cost_Center_2' ('Cost_Center' is "
                         "another key's)"),
            2u);
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost#Center' -> 'Cost_Center_3' ('Cost_Center' is "
                         "another key's)"),
            1u);
  EXPECT_EQ(harness.notes().size(), 4u);
}

namespace {

// Captures what TagColumns writes, row by row, without a host.
struct CapturingSink {
  bd_sink raw{this, &on_write, nullptr, nullptr, nullptr, &on_note};
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  std::map<std::string, std::uint64_t> notes;
  std::vector<std::string> origins;

  static int32_t on_write(void* context, const bd_row* batch, size_t count) {
    auto* self = static_cast<CapturingSink*>(context);
    for (size_t r = 0; r < count; ++r) {
      self->origins.emplace_back(batch[r].origin.data, batch[r].origin.size);
      auto& row = self->rows.emplace_back();
      for (size_t f = 0; f < batch[r].field_count; ++f)
        row.emplace_back(std::string(batch[r].fields[f].key.data, batch[r].fields[f].key.size),
                         std::string(batch[r].fields[f].value.data, batch[r].fields[f].value.size));
    }
    return BD_OK;
  }
  static void on_note(void* context, bd_str key, uint64_t count) {
    static_cast<CapturingSink*>(context)->notes[std::string(key.data, key.size)] += count;
  }
};

using Row = std::vector<std::pair<std::string, std::string>>;

// Writes each row of `rows` through `tags` and returns the tag fields as captured.
std::vector<Row> write_rows(TagColumns& tags, const std::vector<Row>& rows,
                            std::map<std::string, std::uint64_t>* notes = nullptr) {
  CapturingSink capture;
  {
    RowSink sink(&capture.raw);
    for (const Row& row : rows) {
      tags.clear();
      for (const auto& [key, value] : row)
        tags.add(key, value);
      sink.begin_row("t");
      tags.write(sink);
      EXPECT_TRUE(sink.end_row().ok());
    }
    EXPECT_TRUE(sink.flush().ok());
  }
  if (notes)
    *notes = capture.notes;
  return capture.rows;
}

} // namespace

// The audit's collide.csv: columns "Cost Center" and "Cost_Center". Per row, the same source key
// must give the same CBF key, and the valid key is never renamed, whichever cells are filled.
TEST(TagColumns, DeclaredKeysKeepOneNameOnEveryRow) {
  for (const bool reversed : {false, true}) {
    TagColumns tags;
    std::vector<std::string_view> header = {"Cost Center", "Cost_Center"};
    if (reversed)
      std::swap(header[0], header[1]);
    tags.declare(header);
    const auto written = write_rows(tags, {{{"Cost Center", "a"}, {"Cost_Center", "b"}},
                                           {{"Cost Center", ""}, {"Cost_Center", "b"}},
                                           {{"Cost Center", "a"}, {"Cost_Center", ""}}});
    ASSERT_EQ(written.size(), 3u);
    EXPECT_EQ(written[0],
              (Row{{"resource/tag:Cost_Center_2", "a"}, {"resource/tag:Cost_Center", "b"}}));
    EXPECT_EQ(written[1], (Row{{"resource/tag:Cost_Center", "b"}}));
    EXPECT_EQ(written[2], (Row{{"resource/tag:Cost_Center_2", "a"}}));
  }
}

TEST(TagColumns, DeclaredRewritesTakeSuffixesInSourceKeyOrder) {
  // "a b", "a#b" and "a_b" all want "a_b": the valid "a_b" keeps it, then the rewritten ones
  // take suffixes in byte order (' ' is 0x20, '#' 0x23), whatever the column order.
  for (const bool reversed : {false, true}) {
    TagColumns tags;
    std::vector<std::string> header = {"a#b", "a b", "a_b"};
    if (reversed)
      std::reverse(header.begin(), header.end());
    tags.declare(header);
    EXPECT_EQ(tags.column_for("a_b"), "resource/tag:a_b");
    EXPECT_EQ(tags.column_for("a b"), "resource/tag:a_b_2");
    EXPECT_EQ(tags.column_for("a#b"), "resource/tag:a_b_3");
  }
  // Declaring again names only new keys; the old ones keep theirs.
  TagColumns tags;
  tags.declare(std::vector<std::string>{"x y"});
  EXPECT_EQ(tags.column_for("x y"), "resource/tag:x_y");
  tags.declare(std::vector<std::string>{"x#y", "x y"});
  EXPECT_EQ(tags.column_for("x y"), "resource/tag:x_y");
  EXPECT_EQ(tags.column_for("x#y"), "resource/tag:x_y_2");
}

TEST(TagColumns, AKeyRepeatedInOneRowKeepsItsFirstValue) {
  TagColumns tags;
  std::map<std::string, std::uint64_t> notes;
  const auto written = write_rows(
      tags, {{{"team", "web"}, {"team", "web"}}, {{"team", "web"}, {"team", "db"}}}, &notes);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0], (Row{{"resource/tag:team", "web"}}));
  EXPECT_EQ(written[1], (Row{{"resource/tag:team", "web"}}));
  EXPECT_EQ(notes,
            (std::map<std::string, std::uint64_t>{
                {"tag 'team' given twice in one row with different values: the first kept", 1}}));
}

TEST(TagColumns, SortedListsTheRowsTagsBySourceKey) {
  TagColumns tags;
  tags.clear();
  tags.add("b", "2");
  tags.add("a", "1");
  tags.add("c", "");
  const auto sorted = tags.sorted();
  ASSERT_EQ(sorted.size(), 2u);
  EXPECT_EQ(sorted[0], (std::pair<std::string_view, std::string_view>{"a", "1"}));
  EXPECT_EQ(sorted[1], (std::pair<std::string_view, std::string_view>{"b", "2"}));
}

TEST(SyntheticResourceId, IncludesTheRowsTagsInKeyOrder) {
  TagColumns first;
  first.clear();
  first.add("Name", "alpha");
  first.add("aws:createdBy", "me");
  TagColumns reordered;
  reordered.clear();
  reordered.add("aws:createdBy", "me");
  reordered.add("Name", "alpha");
  TagColumns other_value;
  other_value.clear();
  other_value.add("Name", "beta");
  other_value.add("aws:createdBy", "me");

  const std::string id = synthetic_resource_id("AmazonS3", {"123", "AmazonS3"}, first);
  // FNV-1a 64 of "123" 1f "AmazonS3" 1e "Name" 1f "alpha" 1e "aws:createdBy" 1f "me", worked out
  // by a separate implementation (Python, ten lines).
  EXPECT_EQ(id, "AmazonS3/synthetic-d8f7919532a0fca3");
  EXPECT_EQ(synthetic_resource_id("AmazonS3", {"123", "AmazonS3"}, reordered), id);
  EXPECT_NE(synthetic_resource_id("AmazonS3", {"123", "AmazonS3"}, other_value), id);
  // Without tags it is the plain form (FNV-1a 64 of "123" 1f "AmazonS3").
  TagColumns none;
  EXPECT_EQ(synthetic_resource_id("AmazonS3", {"123", "AmazonS3"}, none),
            "AmazonS3/synthetic-3767915b59897fde");
  EXPECT_EQ(synthetic_resource_id("AmazonS3", {"123", "AmazonS3"}),
            "AmazonS3/synthetic-3767915b59897fde");
  // The buffer form writes the same id into reused storage.
  std::string out = "old contents that are longer than the id itself, to be replaced";
  synthetic_resource_id(out, "AmazonS3", {"123", "AmazonS3"}, first);
  EXPECT_EQ(out, id);
}

// A handle from key() adds as its key does: the same column, empty values skipped, a repeat
// within the row noted, and a rename forced later by a late valid key followed.
TEST(TagColumns, AddingByHandleMatchesAddingByKey) {
  TagColumns tags;
  const TagColumns::Key cost = tags.key("Cost_Center x");
  const TagColumns::Key team = tags.key("team");
  CapturingSink capture;
  {
    RowSink sink(&capture.raw);
    const auto row = [&](std::initializer_list<std::pair<TagColumns::Key, std::string_view>> adds,
                         std::string_view late_key = {}) {
      tags.clear();
      for (const auto& [key, value] : adds)
        tags.add(key, value);
      if (!late_key.empty())
        tags.add(late_key, "late");
      sink.begin_row("t");
      tags.write(sink);
      EXPECT_TRUE(sink.end_row().ok());
    };
    row({{cost, "1"}, {team, "web"}});
    row({{cost, ""}, {team, "web"}, {team, "db"}});
    // The valid key "Cost_Center_x" arrives after "Cost_Center x" took its name.
    row({{team, "ops"}}, "Cost_Center_x");
    row({{cost, "2"}});
    EXPECT_TRUE(sink.flush().ok());
  }
  EXPECT_EQ(
      capture.rows,
      (std::vector<Row>{{{"resource/tag:Cost_Center_x", "1"}, {"resource/tag:team", "web"}},
                        {{"resource/tag:team", "web"}},
                        {{"resource/tag:team", "ops"}, {"resource/tag:Cost_Center_x", "late"}},
                        {{"resource/tag:Cost_Center_x_2", "2"}}}));
  EXPECT_EQ(capture.notes.count(
                "tag 'team' given twice in one row with different values: the first kept"),
            1u);
  EXPECT_EQ(capture.notes.count("tag key rewritten: 'Cost_Center x' -> 'Cost_Center_x'"), 1u);
  EXPECT_EQ(capture.notes.count("tag key rewritten: 'Cost_Center x' -> 'Cost_Center_x_2' "
                                "('Cost_Center_x' is another key's)"),
            1u);
}

// Each distinct cell is parsed once; repeats copy its tags; a malformed cell adds nothing and is
// remembered as malformed; empty values are dropped; a full cache empties and parses again.
TEST(TagCellCache, ParsesEachDistinctCellOnceWithinItsLimit) {
  TagColumns tags;
  TagCellCache cells(2);
  std::vector<std::string> parsed; // the cells the parser saw, in order
  // A toy cell format: "k=v;k=v", "!" is malformed.
  const auto parse = [&](std::string_view cell, TagCellCache::Pairs& pairs) {
    parsed.emplace_back(cell);
    if (cell == "!")
      return false;
    while (!cell.empty()) {
      const std::size_t end = std::min(cell.find(';'), cell.size());
      const std::string_view pair = cell.substr(0, end);
      const std::size_t eq = pair.find('=');
      pairs.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
      cell.remove_prefix(std::min(end + 1, cell.size()));
    }
    return true;
  };
  CapturingSink capture;
  {
    RowSink sink(&capture.raw);
    const auto row = [&](std::string_view cell) {
      tags.clear();
      const bool ok = cells.add(cell, tags, parse);
      sink.begin_row(ok ? "ok" : "bad");
      tags.write(sink);
      EXPECT_TRUE(sink.end_row().ok());
    };
    row("env=prod;team=web");
    row("env=prod;team=web"); // from the cache
    row("!");
    row("!"); // remembered as malformed
    EXPECT_EQ(cells.size(), 2u);
    row("cost center=7;empty="); // the cache is full: emptied first
    EXPECT_EQ(cells.size(), 1u);
    row("env=prod;team=web"); // parsed again
    EXPECT_TRUE(sink.flush().ok());
  }
  EXPECT_EQ(parsed, (std::vector<std::string>{"env=prod;team=web", "!",
                                              "cost center=7;empty=", "env=prod;team=web"}));
  const Row web{{"resource/tag:env", "prod"}, {"resource/tag:team", "web"}};
  EXPECT_EQ(capture.rows,
            (std::vector<Row>{web, web, {}, {}, {{"resource/tag:cost_center", "7"}}, web}));
  EXPECT_EQ(capture.origins, (std::vector<std::string>{"ok", "ok", "bad", "bad", "ok", "ok"}));
}
