#pragma once
// The schema as the reader sees it (leaf columns with their levels and text rule) and the cursor
// that walks one leaf column's pages in a row group.

#include "parquet/format.hpp"

#include <billdrop/parquet.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::detail {

namespace pq = parquet;

// How a leaf's values become text (parquet.hpp lists the rules).
enum class TextRule {
  boolean,
  int32,
  uint32,
  int64,
  uint64,
  decimal,
  date,
  time,
  timestamp,
  int96,
  float32,
  float64,
  float16,
  bytes,
  uuid,
};

struct Leaf {
  std::string path; // dotted
  pq::Type type = pq::Type::int32;
  std::int32_t type_length = 0;
  int max_def = 0;
  int max_rep = 0;
  int repeated_def = 0; // the definition level at which the repeated ancestor is present
  TextRule rule = TextRule::bytes;
  int scale = 0;
  pq::TimeUnit unit = pq::TimeUnit::millis;
  bool utc = true;
  std::string type_text; // "INT64 TIMESTAMP(MICROS,UTC)"
};

// The footer, the leaves and the source: what every column cursor shares.
class ParquetFile {
public:
  std::unique_ptr<RandomAccessSource> source;
  pq::FileMetaData meta;
  std::vector<Leaf> leaves;
  std::uint64_t data_end = 0; // where the footer starts: column chunks lie before it
  const std::string& name() const { return source->name(); }
};

// One value or level entry of a repeated leaf: a view into the dictionary or the page (or, for
// a row that goes on over a page boundary, the cursor's copy).
struct RepeatedItem {
  std::string_view text;
  int def = 0;
};

class ParquetColumnCursor {
public:
  ParquetColumnCursor(ParquetFile& file, std::size_t leaf) : file_(file), leaf_index_(leaf) {}

  const Leaf& leaf() const { return file_.leaves[leaf_index_]; }
  std::size_t leaf_index() const { return leaf_index_; }
  // Reads the leaf's column chunk of row group `group` (throws FormatError).
  void start(std::size_t group);
  // Rows of a non-repeated leaf left in the current page (loading the next page when this one is
  // used up): at least one.
  std::size_t rows_in_page();
  // The next `n` (≤ rows_in_page()) rows' cells of a non-repeated leaf, at out[0], out[stride],
  // …; the views stay valid until the page changes.
  void next_values(ParquetCell* out, std::size_t stride, std::size_t n);
  // The next row's entries of a repeated leaf; the first entry's def tells a null or empty
  // container apart. The views stay valid until the next call.
  void next_repeated(std::vector<RepeatedItem>& items);
  // Where an error happened, for messages: "page 3".
  std::size_t page_number() const { return page_number_; }

private:
  bool load_page(); // false at the end of the chunk
  void ensure_levels();
  void read_dictionary(const pq::PageHeader& h, const std::uint8_t* data, std::size_t size);
  void read_data_page(const pq::PageHeader& h, const std::uint8_t* data, std::size_t size);
  void decode_dictionary_indexes(const std::uint8_t* p, std::size_t size, std::size_t count);
  std::string_view value(std::size_t v) const {
    if (!dict_mode_)
      return values_[v];
    const std::uint32_t i = indexes_[v];
    return {dict_base_ + dict_offsets_[i], dict_offsets_[i + 1] - dict_offsets_[i]};
  }
  template <bool Dictionary, bool Levels>
  void fill_cells(ParquetCell* out, std::size_t stride, std::size_t n);
  void carry(std::vector<RepeatedItem>& items); // copies a row's texts before a page change
  void decode_values(std::int32_t encoding, const std::uint8_t* p, std::size_t size,
                     std::size_t count, std::vector<std::string_view>& out, std::string& arena,
                     std::string& raw_keep);
  void append_text(const std::uint8_t* raw, std::size_t size, std::string& arena);

  ParquetFile& file_;
  std::size_t leaf_index_;
  std::int32_t codec_ = 0;
  std::string chunk_; // the column chunk's bytes as stored
  std::size_t pos_ = 0;
  std::size_t page_number_ = 0;
  std::uint64_t values_left_ = 0; // level entries the chunk's metadata promises
  // Dictionary, as text: entry i is dict_base_[dict_offsets_[i], dict_offsets_[i + 1]), in
  // dict_page_ itself (byte arrays, their lengths squeezed out) or formatted into dict_arena_.
  bool has_dictionary_ = false;
  std::string dict_page_;
  std::string dict_arena_;
  const char* dict_base_ = nullptr;
  std::vector<std::uint32_t> dict_offsets_;
  std::size_t dict_size_ = 0;
  bool dict_mode_ = false; // the current page's values are indexes_ into the dictionary
  // The current data page.
  std::string page_;
  std::string arena_;
  std::string scratch_;
  std::vector<std::uint32_t> indexes_;
  std::vector<std::int64_t> ints_;
  std::vector<std::uint32_t> defs_;
  std::vector<std::uint32_t> reps_;
  std::vector<std::string_view> values_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_;
  std::size_t levels_ = 0; // level entries in the page
  std::size_t level_pos_ = 0;
  std::size_t value_pos_ = 0;
  std::size_t values_in_page_ = 0;
  std::string carry_;
};

// The cursors of one projected column, and a map's or list's scratch.
struct ParquetColumnPlan {
  static constexpr std::size_t batch = 128; // rows decoded at a time
  ParquetShape shape = ParquetShape::value;
  ParquetColumnCursor* first = nullptr;  // the value, the list's element or the map's key
  ParquetColumnCursor* second = nullptr; // the map's value
  std::vector<RepeatedItem> keys, values;
};

} // namespace billdrop::detail
