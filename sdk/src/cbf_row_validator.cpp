#include <billdrop/cbf/row_validator.hpp>

#include <billdrop/detail/short_copy.hpp>
#include <billdrop/json_text.hpp>

#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace billdrop::cbf {
namespace {

// Values longer than this are cut in messages, so one bad cell cannot flood a report.
constexpr std::size_t kQuoteLimit = 80;
constexpr std::int32_t kAbsent = -1;

bool is_blank(std::string_view value) noexcept {
  return trim_ascii(value).empty();
}

// The shape of a time the API takes: YYYY-MM-DDTHH:MM:SS, optional fractions, then Z or +00:00
// (ISO 8601 in UTC, as the reference's 2024-08-16T00:00:00Z). The shape only: whether the date
// exists is the validator's `timestamp` rule.
bool has_api_time_form(std::string_view text) noexcept {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() < shape.size())
    return false;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 'd' ? !is_digit(text[i]) : text[i] != shape[i])
      return false;
  std::string_view zone = text.substr(shape.size());
  if (!zone.empty() && zone.front() == '.') {
    std::size_t end = 1;
    while (end < zone.size() && is_digit(zone[end]))
      ++end;
    if (end == 1)
      return false;
    zone.remove_prefix(end);
  }
  return zone == "Z" || zone == "+00:00";
}

bool has_control_byte(std::string_view value) noexcept {
  return std::any_of(value.begin(), value.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::size_t utf8_sequence_length(unsigned char lead) noexcept {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// The value as printable text for a message: quotes and backslashes escaped, control characters
// and bytes that are not UTF-8 written as \n, \t or \xNN (so the report stays valid UTF-8 and one
// line per problem), cut after kQuoteLimit bytes.
std::string printable(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t i = 0;
  while (i < value.size() && i < kQuoteLimit) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      const std::size_t length = utf8_sequence_length(c);
      const std::string_view sequence = value.substr(i, length);
      if (sequence.size() == length && is_valid_utf8(sequence)) {
        out.append(sequence);
        i += length;
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        ++i;
      }
    }
  }
  if (i < value.size())
    out += "…";
  return out;
}

std::string quoted(std::string_view value) {
  std::string out = "\"";
  out += printable(value);
  out += '"';
  if (value.size() > kQuoteLimit)
    out += " (" + std::to_string(value.size()) + " bytes)";
  return out;
}

std::string lineitem_type_list() {
  std::string list;
  for (std::string_view type : kLineItemTypes) {
    if (!list.empty())
      list += ", ";
    list += type;
  }
  return list;
}

std::string unknown_column_message(std::string_view key) {
  std::string message = "unknown column " + quoted(key) +
                        "; expected a CBF column (such as \"cost/cost\") or a tag "
                        "\"resource/tag:<key>\"";
  for (const ColumnInfo& column : kColumns) {
    if (iequals_ascii(trim_ascii(key), column.name)) {
      message += " (did you mean \"" + std::string(column.name) + "\"?)";
      break;
    }
  }
  return message;
}

// Collects the row's issues and remembers whether any was an error.
class IssueSink {
public:
  explicit IssueSink(std::vector<RowIssue>& issues) : issues_(issues) {}

  void error(std::string_view column, std::string_view rule, std::string message) {
    ++errors_;
    issues_.push_back(
        {Severity::error, std::string(column), std::string(rule), std::move(message)});
  }
  void warning(std::string_view column, std::string_view rule, std::string message) {
    issues_.push_back(
        {Severity::warning, std::string(column), std::string(rule), std::move(message)});
  }
  bool has_errors() const noexcept { return errors_ != 0; }

private:
  std::vector<RowIssue>& issues_;
  int errors_ = 0;
};

// ",\"<name>\":" for every column, so that a column's key is one append.
const std::array<std::string, kColumnCount> kColumnKeys = [] {
  std::array<std::string, kColumnCount> keys;
  for (std::size_t i = 0; i < kColumnCount; ++i)
    keys[i] = ",\"" + std::string(kColumns[i].name) + "\":";
  return keys;
}();

// Writes the canonical JSON object straight into the row's string: the string is opened to its
// whole capacity, written through a pointer with one room check per piece, and cut to length at
// close(). (Appending piece by piece to a std::string checks capacity and length at every
// character.) Column names and tag keys need no escaping: both are ASCII without quotes or
// backslashes.
class JsonObject {
public:
  explicit JsonObject(std::string& json) : json_(json) {
    json_.clear();
    reopen();
    put('{');
  }
  void column_key(Column column) {
    const std::string_view text = kColumnKeys[static_cast<std::size_t>(column)];
    put(first_ ? text.substr(1) : text);
    first_ = false;
  }
  void key(std::string_view name) {
    room(name.size() + 4);
    if (!first_)
      *at_++ = ',';
    first_ = false;
    *at_++ = '"';
    copy(name);
    *at_++ = '"';
    *at_++ = ':';
  }
  // A string value that is_plain_json_text accepts, or an already canonical number or time.
  void plain_string(std::string_view value) {
    room(value.size() + 2);
    *at_++ = '"';
    copy(value);
    *at_++ = '"';
  }
  // A value not checked before: copied as plain_string() copies it, and true when it is plain
  // (is_plain_json_text); otherwise the caller must not keep the row's JSON.
  bool plain_string_checked(std::string_view value) {
    room(value.size() + 2);
    *at_++ = '"';
#ifdef __SSE2__
    const bool plain = detail::copy_plain_json_text(at_, value.data(), value.size());
#else
    const bool plain = is_plain_json_text(value);
    detail::copy_short(at_, value.data(), value.size());
#endif
    at_ += value.size();
    *at_++ = '"';
    return plain;
  }
  // Any other value: `write` appends it to the string as it stands.
  template <class Write>
  void through_string(Write&& write) {
    json_.resize(used());
    write(json_);
    reopen();
  }
  void close() {
    put('}');
    json_.resize(used());
  }

private:
  std::size_t used() const noexcept {
    return static_cast<std::size_t>(at_ - json_.data());
  }
  // Makes the whole capacity writable; what lies beyond used() is cut at close().
  void reopen() {
    const std::size_t length = json_.size();
    json_.resize(std::max(json_.capacity(), std::size_t{256}));
    at_ = json_.data() + length;
    end_ = json_.data() + json_.size();
  }
  void room(std::size_t bytes) {
    if (static_cast<std::size_t>(end_ - at_) >= bytes) [[likely]]
      return;
    const std::size_t length = used();
    json_.resize(std::max(2 * json_.size(), length + bytes));
    at_ = json_.data() + length;
    end_ = json_.data() + json_.size();
  }
  void copy(std::string_view text) noexcept {
    detail::copy_short(at_, text.data(), text.size()); // never passes memcpy an empty view
    at_ += text.size();
  }
  void put(std::string_view text) {
    room(text.size());
    copy(text);
  }
  void put(char c) {
    room(1);
    *at_++ = c;
  }

  std::string& json_;
  char* at_ = nullptr;
  char* end_ = nullptr;
  bool first_ = true;
};

// One field per column: the index into `fields` of the column's field, or kAbsent.
using ColumnSlots = std::array<std::int32_t, kColumnCount>;

std::int32_t& slot_of(ColumnSlots& slots, Column column) {
  return slots[static_cast<std::size_t>(column)];
}

// Bit i stands for the column kColumns[i].
constexpr std::uint32_t bit_of(Column column) noexcept {
  return std::uint32_t{1} << static_cast<unsigned>(column);
}
static_assert(kColumnCount <= 32, "a column set is one 32-bit mask");

constexpr std::uint32_t kRequiredColumns = [] {
  std::uint32_t mask = 0;
  for (const ColumnInfo& column : kColumns)
    if (column.required)
      mask |= bit_of(column.column);
  return mask;
}();

// Per-thread buffers a row's normalisation reuses, so the valid path allocates nothing once
// warmed up.
struct Scratch {
  std::vector<std::uint32_t> tags; // indexes into the row's fields of its tag columns
  std::vector<std::uint8_t> plain; // per field: is_plain_json_text(value) (bytes: no bit twiddling)
};

class RowNormalizer {
public:
  // A speculative normalizer takes every value as plain (is_plain_json_text) without looking,
  // and checks the values it writes as it copies them: when one is not plain, or the row has an
  // error, unsure() says so and the row must be normalized again, not speculatively, for its
  // exact JSON and issues. Nearly every row is plain, and then both give the same result: a value
  // with no error is written, unless it is blank (ASCII spaces: no bad UTF-8), or its column's
  // value is parsed (a decimal, a time, a line item type: the parse takes ASCII only).
  RowNormalizer(std::span<const FieldView> fields, NormalizedRow& out, IssueSink& sink,
                Scratch& scratch, bool speculative)
      : fields_(fields), out_(out), sink_(sink), tags_(scratch.tags), plain_(scratch.plain),
        speculative_(speculative) {
    slots_.fill(kAbsent);
    bad_value_.fill(false);
    tags_.clear();
    if (plain_.size() < fields.size()) // every entry a column or tag refers to is set by classify
      plain_.resize(fields.size());
  }

  bool run() {
    classify_fields();
    resolve_deprecated(Column::action_account, Column::resource_account);
    resolve_deprecated(Column::action_region, Column::resource_region);
    sort_tags();

    JsonObject object(out_.json);
    out_.lineitem_type = kLineItemTypes[0];
    // The columns the row has, and the required ones it lacks, in column order.
    for (std::uint32_t columns = present_ | kRequiredColumns; columns != 0; columns &= columns - 1)
      write_column(object, kColumns[static_cast<std::size_t>(__builtin_ctz(columns))]);
    write_tags(object);
    object.close();
    return !sink_.has_errors();
  }
  // See the constructor.
  bool unsure() const noexcept { return unsure_ || sink_.has_errors(); }

private:
  std::string_view value_of(Column column) const {
    const std::int32_t index = slots_[static_cast<std::size_t>(column)];
    return index == kAbsent ? std::string_view() : fields_[static_cast<std::size_t>(index)].value;
  }
  // The column's value needs no escaping (see is_plain_json_text).
  bool plain(Column column) const {
    const std::int32_t index = slots_[static_cast<std::size_t>(column)];
    return index != kAbsent && plain_[static_cast<std::size_t>(index)];
  }
  void append_value(JsonObject& object, std::string_view value, bool plain) {
    if (speculative_) {
      unsure_ = !object.plain_string_checked(value) || unsure_;
      return;
    }
    if (plain)
      object.plain_string(value);
    else
      object.through_string([&](std::string& json) { append_json_string(json, value); });
  }

  // Sorts every field into its column slot or the tag list; reports bad keys, bad UTF-8,
  // unknown and repeated columns.
  void classify_fields() {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const FieldView& field = fields_[i];
      const std::optional<Column> column = find_column(field.key);
      const bool is_tag = !column && field.key.starts_with(kTagPrefix);
      const bool good_tag_key = is_tag && is_valid_tag_key(field.key.substr(kTagPrefix.size()));
      // Column names and well-formed tag keys are ASCII; only other keys can be bad UTF-8.
      if (!column && !good_tag_key) {
        if (const std::size_t bad = first_invalid_utf8(field.key); bad != field.key.size()) {
          sink_.error(printable(field.key), "utf8",
                      "the column name is not valid UTF-8 (invalid byte sequence at byte " +
                          std::to_string(bad) + "): " + quoted(field.key));
          continue;
        }
      }
      // Almost every value is plain: one pass says it is valid and needs no escaping (when
      // speculating, the pass that copies it).
      const bool plain = speculative_ || is_plain_json_text(field.value);
      plain_[i] = plain;
      const std::size_t bad_value = plain ? field.value.size() : first_invalid_utf8(field.value);
      const bool value_ok = bad_value == field.value.size();
      if (!value_ok)
        sink_.error(field.key, "utf8",
                    "the value is not valid UTF-8 (invalid byte sequence at byte " +
                        std::to_string(bad_value) + "): " + quoted(field.value));

      if (column) {
        std::int32_t& slot = slot_of(slots_, *column);
        if (slot != kAbsent) {
          sink_.error(field.key, "duplicate_column",
                      "the column appears more than once in the row (values " +
                          quoted(value_of(*column)) + " and " + quoted(field.value) +
                          "); each column may appear once");
          continue;
        }
        slot = static_cast<std::int32_t>(i);
        present_ |= bit_of(*column);
        bad_value_[static_cast<std::size_t>(*column)] = !value_ok;
      } else if (good_tag_key) {
        if (value_ok)
          tags_.push_back(static_cast<std::uint32_t>(i));
      } else if (is_tag) {
        const std::string_view tag_key = field.key.substr(kTagPrefix.size());
        sink_.error(field.key, "tag_key",
                    tag_key.empty()
                        ? std::string("the tag key after \"resource/tag:\" is empty; expected "
                                      "letters, digits and _ . : / = + - @")
                        : "the tag key " + quoted(tag_key) +
                              " may contain only letters, digits and _ . : / = + - @");
      } else {
        sink_.error(field.key, "unknown_column", unknown_column_message(field.key));
      }
    }
  }

  // A deprecated column's value moves to its replacement unless the replacement already says
  // something else.
  void resolve_deprecated(Column deprecated, Column replacement) {
    const std::int32_t old_index = slot_of(slots_, deprecated);
    if (old_index == kAbsent)
      return;
    const std::string_view old_value = value_of(deprecated);
    const std::string_view old_name = info(deprecated).name;
    const std::string_view new_name = info(replacement).name;
    std::int32_t& new_index = slot_of(slots_, replacement);
    const std::string_view new_value = value_of(replacement);
    if (!is_blank(new_value) && !is_blank(old_value) && new_value != old_value) {
      sink_.error(old_name, "deprecated_column",
                  std::string(old_name) + " " + quoted(old_value) + " conflicts with " +
                      std::string(new_name) + " " + quoted(new_value) + "; drop the deprecated " +
                      std::string(old_name));
      return;
    }
    if (is_blank(old_value))
      return; // nothing to carry over
    sink_.warning(old_name, "deprecated_column",
                  std::string(old_name) + " is deprecated; its value " + quoted(old_value) +
                      " is written as " + std::string(new_name));
    if (is_blank(new_value)) {
      new_index = old_index;
      present_ |= bit_of(replacement);
      bad_value_[static_cast<std::size_t>(replacement)] =
          bad_value_[static_cast<std::size_t>(deprecated)];
    }
  }

  // Tags go out sorted by key; a key given twice is a repeated column.
  void sort_tags() {
    auto key_of = [this](std::uint32_t index) { return fields_[index].key; };
    const auto before = [&](std::uint32_t a, std::uint32_t b) {
      const int order = key_of(a).compare(key_of(b));
      return order < 0 || (order == 0 && a < b);
    };
    // A row has a handful of tags: an insertion sort (one comparison per tag when they come in
    // order) costs less than setting up std::sort.
    if (tags_.size() <= 16) {
      for (std::size_t i = 1; i < tags_.size(); ++i) {
        const std::uint32_t tag = tags_[i];
        std::size_t at = i;
        for (; at > 0 && before(tag, tags_[at - 1]); --at)
          tags_[at] = tags_[at - 1];
        tags_[at] = tag;
      }
    } else {
      std::sort(tags_.begin(), tags_.end(), before);
    }
    for (std::size_t i = 1; i < tags_.size(); ++i) {
      if (key_of(tags_[i]) == key_of(tags_[i - 1]))
        sink_.error(key_of(tags_[i]), "duplicate_column",
                    "the tag appears more than once in the row (values " +
                        quoted(fields_[tags_[i - 1]].value) + " and " +
                        quoted(fields_[tags_[i]].value) + "); a resource has one value per key");
    }
  }

  void write_column(JsonObject& object, const ColumnInfo& column) {
    if (column.column == Column::action_account || column.column == Column::action_region)
      return; // written under their resource/* names
    const std::string_view value = value_of(column.column);
    if (bad_value_[static_cast<std::size_t>(column.column)])
      return; // already reported as bad UTF-8
    if (is_blank(value)) {
      if (column.required)
        report_required(column);
      return;
    }
    switch (column.kind) {
    case ValueKind::timestamp:
      write_timestamp(object, column, trim_ascii(value));
      return;
    case ValueKind::decimal:
      write_decimal(object, column, trim_ascii(value));
      return;
    case ValueKind::lineitem_type:
      write_lineitem_type(object, column, value);
      return;
    case ValueKind::region:
      if (iequals_ascii(trim_ascii(value), "global")) {
        sink_.error(column.name, "region_global",
                    "the region is " + quoted(value) +
                        ", which CloudZero does not accept; use \"no-region\" for charges "
                        "without a region");
        return;
      }
      break;
    case ValueKind::text:
      break;
    }
    object.column_key(column.column);
    append_value(object, value, plain(column.column));
  }

  void report_required(const ColumnInfo& column) {
    const bool present = slots_[static_cast<std::size_t>(column.column)] != kAbsent;
    const std::string example = column.kind == ValueKind::timestamp
                                    ? "a UTC time such as \"2024-08-16T05:00:00Z\""
                                    : "a decimal such as \"12.50\"";
    sink_.error(column.name, "required",
                std::string(column.name) + (present ? " is blank" : " is missing") +
                    "; every row needs " + example);
  }

  void write_timestamp(JsonObject& object, const ColumnInfo& column, std::string_view value) {
    // Most plugins send times as billdrop writes them: read without the general scanner, the
    // month taken from the text's digits, and the text copied as it is.
    if (const std::optional<UtcTime> canonical = parse_canonical_timestamp(value)) {
      const auto digits = [&](std::size_t at, std::size_t count) {
        int number = 0;
        for (std::size_t i = at; i < at + count; ++i)
          number = number * 10 + (value[i] - '0');
        return number;
      };
      write_time(object, column, *canonical, Month(digits(0, 4), digits(5, 2)), value);
      return;
    }
    Result<UtcTime> time = parse_timestamp(value);
    if (!time) {
      sink_.error(column.name, "timestamp",
                  has_control_byte(value)
                      ? "expected a date/time such as \"2024-08-16T05:00:00Z\", got " +
                            quoted(value)
                      : time.error().message());
      return;
    }
    write_time(object, column, *time, Month::of(*time), {});
  }

  // `canonical` is the time's text when the value was already written as billdrop writes it.
  void write_time(JsonObject& object, const ColumnInfo& column, UtcTime time, Month month,
                  std::string_view canonical) {
    std::string iso; // only for a time given in another form
    if (canonical.empty()) {
      append_iso(iso, time);
      canonical = iso;
    }
    if (column.column == Column::usage_start) {
      out_.time = time;
      out_.month = month;
      out_.usage_start.assign(canonical);
    }
    object.column_key(column.column);
    object.plain_string(canonical);
  }

  void write_decimal(JsonObject& object, const ColumnInfo& column, std::string_view value) {
    if (column.column != Column::cost && Decimal::is_canonical(value)) {
      object.column_key(column.column);
      object.plain_string(value);
      return;
    }
    Result<Decimal> number = Decimal::parse(value);
    if (!number) {
      sink_.error(column.name, "decimal",
                  has_control_byte(value)
                      ? "expected a decimal number such as \"-12.50\", got " + quoted(value)
                      : number.error().message());
      return;
    }
    if (column.column == Column::cost)
      out_.cost = *number;
    object.column_key(column.column);
    // The cost is parsed for the month's total; a canonical one is written as it came.
    if (column.column == Column::cost && Decimal::is_canonical(value)) {
      object.plain_string(value);
      return;
    }
    object.through_string([&](std::string& json) {
      json.push_back('"');
      number->append_to(json);
      json.push_back('"');
    });
  }

  void write_lineitem_type(JsonObject& object, const ColumnInfo& column, std::string_view value) {
    const auto type = std::find(kLineItemTypes.begin(), kLineItemTypes.end(), value);
    if (type == kLineItemTypes.end()) {
      std::string message =
          "expected one of " + lineitem_type_list() + " (exact spelling), got " + quoted(value);
      for (std::string_view type : kLineItemTypes)
        if (iequals_ascii(trim_ascii(value), type))
          message += " (did you mean \"" + std::string(type) + "\"?)";
      sink_.error(column.name, "lineitem_type", std::move(message));
      return;
    }
    out_.lineitem_type = *type;
    object.column_key(column.column);
    object.plain_string(*type);
  }

  void write_tags(JsonObject& object) {
    std::string_view first_tag; // the first tag with a value
    std::string_view previous_key;
    for (std::size_t i = 0; i < tags_.size(); ++i) {
      const FieldView& field = fields_[tags_[i]];
      if (i > 0 && field.key == previous_key)
        continue; // a repeated tag, already reported
      previous_key = field.key;
      if (is_blank(field.value))
        continue;
      if (first_tag.empty())
        first_tag = field.key;
      object.key(field.key);
      append_value(object, field.value, plain_[tags_[i]]);
    }
    if (!first_tag.empty() && is_blank(value_of(Column::resource_id)) &&
        !bad_value_[static_cast<std::size_t>(Column::resource_id)]) {
      sink_.error(info(Column::resource_id).name, "resource_id_with_tags",
                  "resource/id is " +
                      std::string(slots_[static_cast<std::size_t>(Column::resource_id)] == kAbsent
                                      ? "missing"
                                      : "blank") +
                      " but the row has tags (such as \"" + std::string(first_tag) +
                      "\"); tags belong to a resource, so set resource/id");
    }
  }

  std::span<const FieldView> fields_;
  NormalizedRow& out_;
  IssueSink& sink_;
  std::vector<std::uint32_t>& tags_;
  std::vector<std::uint8_t>& plain_;
  const bool speculative_;
  bool unsure_ = false; // speculating, a written value was not plain
  ColumnSlots slots_;
  std::uint32_t present_ = 0; // the columns with a field (see bit_of)
  std::array<bool, kColumnCount> bad_value_;
};

} // namespace

std::optional<RowIssue> exponent_decimal_issue(std::string_view column, std::string_view value) {
  if (!is_exponent_decimal(column, value))
    return std::nullopt;
  return RowIssue{Severity::error, std::string(column), "plain_decimal",
                  quote_for_message(value) + " is in exponent notation; the API takes plain "
                                             "decimals only, such as 1000 or -0.000005"};
}

std::optional<RowIssue> iso_timestamp_issue(std::string_view column, std::string_view value) {
  const std::optional<Column> known = find_column(column);
  if (!known || info(*known).kind != ValueKind::timestamp || is_blank(value) ||
      has_api_time_form(value))
    return std::nullopt;
  const Result<UtcTime> time = parse_timestamp(trim_ascii(value));
  if (!time)
    return std::nullopt; // not a time at all: the validator says why
  return RowIssue{Severity::error, std::string(column), "iso_timestamp",
                  quote_for_message(value) +
                      " is not an ISO 8601 UTC time as the API takes it (such as "
                      "2024-08-16T05:00:00Z): billdrop reads it as " +
                      format_iso(*time) + ", the API may not; write " + format_iso(*time)};
}

bool RowValidator::normalize(std::span<const FieldView> fields, NormalizedRow& out,
                             std::vector<RowIssue>& issues) const {
  thread_local Scratch scratch;
  const std::size_t issues_before = issues.size();
  {
    IssueSink sink(issues);
    RowNormalizer speculative(fields, out, sink, scratch, true);
    const bool valid = speculative.run();
    if (!speculative.unsure())
      return valid;
  }
  issues.resize(issues_before); // the speculative pass's issues are made again below
  return normalize_exactly(fields, out, issues);
}

bool RowValidator::normalize_exactly(std::span<const FieldView> fields, NormalizedRow& out,
                                     std::vector<RowIssue>& issues) const {
  thread_local Scratch scratch;
  IssueSink sink(issues);
  RowNormalizer normalizer(fields, out, sink, scratch, false);
  return normalizer.run();
}

} // namespace billdrop::cbf
