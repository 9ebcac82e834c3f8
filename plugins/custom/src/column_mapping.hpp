#pragma once
// How a vendor's columns become CBF columns, as the configuration says: a template per CBF column
// ("{Project}/{VM}"), a map of the vendor's charge types to CBF line-item types, and tags taken
// from columns by prefix or by name.
//
// A ColumnMapping is checked once, when the plugin is created; bind() then compiles it against
// one file's columns into a FileMapping whose templates hold column indexes, so that mapping a
// record looks nothing up by name.

#include "record_source.hpp"

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::custom {

// Literal text in which {Column} stands for that column's value; {{ and }} are literal braces.
class Template {
public:
  struct Segment {
    std::string text; // the literal text, or the column's name
    bool is_column = false;
  };

  // A config error for an unclosed "{", a stray "}" or an empty "{}".
  static Result<Template> parse(std::string_view text);
  // The template "{<column>}", whatever characters the column's name holds.
  static Template column(std::string name);

  const std::string& text() const noexcept { return text_; }
  const std::vector<Segment>& segments() const noexcept { return segments_; }

private:
  std::string text_;
  std::vector<Segment> segments_;
};

// CBF tag keys allow only ASCII letters, digits and _ . : / = + - @. Every other byte (a space,
// a non-ASCII byte of UTF-8) becomes '_': "cost center" -> "cost_center", "équipe" -> "__quipe".
std::string sanitize_tag_key(std::string_view key);

// The mapping keys of the plugin's configuration (README.md describes each).
struct MappingOptions {
  StringMap columns;                      // CBF column -> template
  std::optional<std::string> cost_column; // shorthand for "cost/cost" = "{<cost_column>}"
  std::string timestamp_format = "auto";  // or a parse_timestamp() format
  std::optional<std::string> tag_prefix;  // columns named <prefix><key> become tags <key>
  std::vector<std::string> tag_columns;   // columns that are tags under their own names
  StringMap lineitem_type_map;            // source value -> CBF line-item type
  std::string lineitem_type_default = "Usage";
  std::vector<std::string> null_values = {"NULL", "null"};
};

// One mapped row: CBF keys and values, valid until the next FileMapping::map() into it.
class MappedRow {
public:
  std::size_t size() const noexcept { return fields_.size(); }
  std::string_view key(std::size_t i) const noexcept { return fields_[i].key; }
  std::string_view value(std::size_t i) const noexcept {
    return std::string_view(text_).substr(fields_[i].offset, fields_[i].size);
  }
  bool has(std::string_view key) const noexcept;
  // The value of `key`, or "" when the row has no such field.
  std::string_view get(std::string_view key) const noexcept;

private:
  friend class FileMapping;
  struct Field {
    std::string_view key;
    std::size_t offset;
    std::size_t size;
  };
  void clear() noexcept {
    text_.clear();
    fields_.clear();
  }
  void add(std::string_view key, std::string_view value) {
    fields_.push_back(Field{key, text_.size(), value.size()});
    text_.append(value);
  }

  std::string text_;
  std::vector<Field> fields_;
};

struct MappingSpec; // the checked configuration, shared by every FileMapping made from it

// Why the last usage_start() or map() failed, for a reject that names the column and the rule
// (the Error's message is "<column>: <detail>" or a sentence naming the column).
struct MappingProblem {
  std::string_view column; // the CBF column, e.g. "time/usage_start"
  std::string_view rule;   // "required" (blank) or "timestamp" (not a timestamp)
  std::string detail;      // the message without the column in front
};

class FileMapping {
public:
  // The record's time/usage_start. An Error (data) carries the reason a record cannot be routed
  // to a month: the template gives nothing, or its value is not a timestamp.
  Result<UtcTime> usage_start(const SourceRecord& record);

  // Maps a record whose usage_start is known. Blank results are left out. An Error (data) carries
  // the reason the record cannot become a row (time/usage_end is not a timestamp).
  Status map(const SourceRecord& record, UtcTime usage_start, MappedRow& row);

  // Takes in columns that a JSON file introduced after bind(): those matching tag_prefix become
  // tags. Columns are only ever appended, so a column's index never changes.
  void add_columns(const std::vector<std::string>& columns);

  const MappingProblem& last_problem() const noexcept { return problem_; }

private:
  friend class ColumnMapping;
  static constexpr std::size_t literal = static_cast<std::size_t>(-1);

  enum class Kind { usage_start, timestamp, lineitem_type, text };
  struct Compiled {
    struct Segment {
      std::string text;   // the literal, when column == literal
      std::size_t column; // the column index, or `literal`
    };
    std::vector<Segment> segments;
    std::size_t only_column = literal; // the template is exactly "{column}"
    bool has_columns = false;
  };
  struct Target {
    std::string_view key; // into the shared spec
    Kind kind;
    Compiled value;
    // A time column's last text and what it read as, and the last time written and its ISO
    // text: hourly exports repeat a time row after row (the bundled example in 84% of its rows),
    // and a repeat then costs a comparison instead of a parse and a format.
    std::string last_text;
    UtcTime last_time{};
    bool has_last_text = false;
    std::string last_iso;
    UtcTime last_iso_time{};
    bool has_last_iso = false;
  };
  struct Tag {
    std::size_t column;
    std::string key; // "resource/tag:<sanitised key>"
    bool may_repeat; // an earlier tag has the same key: the first non-blank value wins
  };

  explicit FileMapping(std::shared_ptr<const MappingSpec> spec) : spec_(std::move(spec)) {}

  std::string_view cell(const SourceRecord& record, std::size_t column) const noexcept;
  std::string_view expand(const Compiled& value, const SourceRecord& record);
  Result<UtcTime> parse_time(std::string_view key, std::string_view text);
  // parse_time(), or the target's last result when `text` is its last text.
  Result<UtcTime> read_time(Target& target, std::string_view text);
  // The ISO text of `time` (the target's last when it is the same time).
  std::string_view iso_text(Target& target, UtcTime time);
  std::string_view line_item_type(std::string_view value) const noexcept;
  void add_tag(std::size_t column, std::string key);

  std::shared_ptr<const MappingSpec> spec_;
  std::vector<Target> targets_; // in configuration order
  std::size_t usage_start_target_ = 0;
  bool emit_default_type_ = false; // no lineitem/type template: every row gets the default
  std::vector<Tag> tags_;
  std::size_t known_columns_ = 0;
  std::string scratch_;
  MappingProblem problem_;
};

class ColumnMapping {
public:
  // Checks the configuration: CBF column names, template syntax, line-item types, the timestamp
  // format. Every problem is a config error; all are reported at once, one per line.
  static Result<ColumnMapping> create(MappingOptions options);

  // Compiles the mapping against one file's columns. A template column or tag column the file
  // lacks is a config error naming the template, the column and `where` ("the header of
  // usage.csv"), and listing the columns there are.
  Result<FileMapping> bind(const std::vector<std::string>& columns, std::string_view where) const;

private:
  explicit ColumnMapping(std::shared_ptr<const MappingSpec> spec) : spec_(std::move(spec)) {}
  std::shared_ptr<const MappingSpec> spec_;
};

} // namespace billdrop::custom
