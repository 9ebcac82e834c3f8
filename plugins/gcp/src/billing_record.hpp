#pragma once
// One row of a Google Cloud billing export, whatever it was read from (NDJSON extract, flattened
// CSV extract, BigQuery REST response). Every source addresses fields by their dotted BigQuery
// path ("service.description"), resolved once per file header or response schema, so the three
// readers share one name table and one record type.

#include <billdrop/result.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::gcp {

// The scalar fields the mapping uses. Anything else in an export is read past.
enum class Field : std::uint8_t {
  billing_account_id,
  service_id,
  service_description,
  sku_id,
  sku_description,
  usage_start_time,
  usage_end_time,
  project_id,
  project_number,
  project_name,
  location_location,
  location_country,
  location_region,
  location_zone,
  cost,
  currency,
  usage_amount,
  usage_unit,
  invoice_month,
  cost_type,
  resource_name,
  resource_global_name,
  adjustment_description,
};
inline constexpr std::size_t field_count =
    static_cast<std::size_t>(Field::adjustment_description) + 1;

// The repeated records the mapping uses.
enum class ListField : std::uint8_t { labels, system_labels, project_labels, credits };

// The dotted BigQuery path of a field ("service.description").
std::string_view field_name(Field field) noexcept;
std::optional<Field> field_by_name(std::string_view dotted) noexcept;
std::optional<ListField> list_field_by_name(std::string_view dotted) noexcept;
std::string_view list_field_name(ListField field) noexcept;

// A record's texts are views: into the reader's buffer, which holds the record until the next
// one is read, or into the record's own storage (BillingRecord::keep) for text a reader made,
// such as an unescaped string.
struct Label {
  std::string_view key;
  std::string_view value;
};

struct Credit {
  std::string_view name;
  std::string_view amount;
  std::string_view full_name;
  std::string_view id;
  std::string_view type;
};

// Storage for the texts a reader makes while reading one record, kept until clear(). Texts never
// move once kept (a full chunk is followed by a new one, never grown), and the chunks stay
// allocated between records.
class TextArena {
public:
  std::string_view keep(std::string_view text) {
    if (text.empty())
      return {};
    for (;;) {
      if (current_ == chunks_.size()) {
        chunks_.emplace_back();
        chunks_.back().reserve(std::max(chunk_bytes, text.size()));
      }
      std::string& chunk = chunks_[current_];
      if (chunk.capacity() - chunk.size() >= text.size()) {
        const std::size_t at = chunk.size();
        chunk.append(text); // within the capacity: no chunk moves
        return std::string_view(chunk.data() + at, text.size());
      }
      ++current_;
    }
  }
  void clear() noexcept {
    for (std::size_t i = 0; i < chunks_.size() && i <= current_; ++i)
      chunks_[i].clear();
    current_ = 0;
  }

private:
  static constexpr std::size_t chunk_bytes = 4096;
  std::vector<std::string> chunks_;
  std::size_t current_ = 0;
};

// A list whose elements stay allocated between records, so that filling it for every row
// allocates nothing once warm.
template <class T>
class ReusedList {
public:
  void clear() noexcept { size_ = 0; }
  T& add() {
    if (size_ == items_.size())
      items_.emplace_back();
    T& item = items_[size_++];
    clear_item(item);
    return item;
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const T* begin() const noexcept { return items_.data(); }
  const T* end() const noexcept { return items_.data() + size_; }
  T& back() noexcept { return items_[size_ - 1]; }

private:
  static void clear_item(Label& label) noexcept { label = {}; }
  static void clear_item(Credit& credit) noexcept { credit = {}; }
  std::vector<T> items_;
  std::size_t size_ = 0;
};

// Valid until the reader reads the next record, or the record is cleared. Not copyable: a copy's
// views would still point into this record's storage.
struct BillingRecord {
  BillingRecord() = default;
  BillingRecord(const BillingRecord&) = delete;
  BillingRecord& operator=(const BillingRecord&) = delete;
  BillingRecord(BillingRecord&&) = default;
  BillingRecord& operator=(BillingRecord&&) = default;

  std::array<std::string_view, field_count> values; // empty: absent or null
  ReusedList<Label> labels;
  ReusedList<Label> system_labels;
  ReusedList<Label> project_labels;
  ReusedList<Credit> credits;

  void clear() noexcept {
    values.fill({});
    labels.clear();
    system_labels.clear();
    project_labels.clear();
    credits.clear();
    texts_.clear();
  }
  std::string_view& operator[](Field field) noexcept {
    return values[static_cast<std::size_t>(field)];
  }
  std::string_view operator[](Field field) const noexcept {
    return values[static_cast<std::size_t>(field)];
  }
  // A copy of `text` that lives as long as the record's values: for text the reader made (an
  // unescaped string) or holds only briefly.
  std::string_view keep(std::string_view text) { return texts_.keep(text); }

  // Starts a new element of a repeated field.
  void add_element(ListField list);
  // Sets a sub-field ("key", "value"; "name", "amount", "full_name", "id", "type") of the element
  // added last to `value`, which must live as long as the record's values (see keep());
  // sub-fields the mapping does not use are ignored.
  void set_element_field(ListField list, std::string_view key, std::string_view value);

private:
  TextArena texts_;
};

// Reads a repeated field written into one CSV cell, either as JSON
// (`[{"key": "env", "value": "prod"}]`) or as a Python literal
// (`[{'name': 'x', 'amount': -5e-06, 'full_name': None}]`), into `record`. Numbers stay text.
// The error says what was expected at which character.
Status parse_list_cell(std::string_view text, ListField list, BillingRecord& record);

} // namespace billdrop::gcp
