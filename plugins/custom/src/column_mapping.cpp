#include "column_mapping.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <array>

namespace billdrop::custom {

// The configuration after create() checked it.
struct MappingSpec {
  struct Target {
    std::string key;
    Template value;
  };
  std::vector<Target> targets; // configuration order
  bool has_lineitem_type = false;
  bool auto_timestamps = true;
  std::string timestamp_format;
  std::string tag_prefix; // empty: no prefix tags
  std::vector<std::string> tag_columns;
  std::vector<std::pair<std::string, std::string>> type_map; // lower-case source value -> type
  std::string type_default;
  std::vector<std::string> null_values;
  // Bit n: a null value has n bytes (bit 63: 63 or more), so that most cells are told apart from
  // every null value by their length alone.
  std::uint64_t null_lengths = 0;
};

namespace {

constexpr std::string_view tag_key_prefix = "resource/tag:";

// CBF columns (shared/reference/anycost-stream.md, "CBF row"); tags are checked separately.
constexpr std::array<std::string_view, 26> cbf_columns{"time/usage_start",
                                                       "time/usage_end",
                                                       "lineitem/type",
                                                       "lineitem/id",
                                                       "lineitem/description",
                                                       "cost/cost",
                                                       "cost/discounted_cost",
                                                       "cost/amortized_cost",
                                                       "cost/discounted_amortized_cost",
                                                       "cost/on_demand_cost",
                                                       "usage/amount",
                                                       "usage/units",
                                                       "resource/id",
                                                       "resource/account",
                                                       "resource/service",
                                                       "resource/region",
                                                       "resource/usage_family",
                                                       "action/operation",
                                                       "action/usage_type",
                                                       "action/account",
                                                       "action/region",
                                                       "bill/invoice_id",
                                                       "k8s/cluster",
                                                       "k8s/namespace",
                                                       "k8s/deployment",
                                                       "k8s/labels"};

constexpr std::array<std::string_view, 9> lineitem_types{
    "Usage",    "Tax",    "Support", "Purchase",  "CommittedUsePurchase",
    "Discount", "Credit", "Fee",     "Adjustment"};

bool is_tag_key_byte(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' || c == '@';
}

std::string in_quotes(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  out += text;
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty())
      out += separator;
    out += item;
  }
  return out;
}

std::string list_of(auto const& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

// The canonical spelling of a CBF line-item type named in any case, or nothing.
std::optional<std::string_view> canonical_type(std::string_view value) {
  for (std::string_view type : lineitem_types)
    if (iequals_ascii(type, value))
      return type;
  return std::nullopt;
}

bool is_cbf_column(std::string_view key) {
  return std::find(cbf_columns.begin(), cbf_columns.end(), key) != cbf_columns.end();
}

} // namespace

// --- Template --------------------------------------------------------------------------------

Result<Template> Template::parse(std::string_view text) {
  Template result;
  result.text_ = std::string(text);
  auto add_literal = [&](std::string_view literal) {
    if (result.segments_.empty() || result.segments_.back().is_column)
      result.segments_.push_back(Segment{std::string(literal), false});
    else
      result.segments_.back().text += literal;
  };
  auto problem = [&](std::string what) {
    return config_error("template " + in_quotes(text) + ": " + what);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        add_literal("{");
        i += 2;
        continue;
      }
      const std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos)
        return problem("the '{' at character " + std::to_string(i + 1) +
                       " is never closed (write {{ for a literal brace)");
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (name.empty())
        return problem("\"{}\" at character " + std::to_string(i + 1) +
                       " names no column (write {{}} for literal braces)");
      if (name.find('{') != std::string_view::npos)
        return problem("the '{' at character " + std::to_string(i + 1) +
                       " is followed by another '{' before its '}'");
      result.segments_.push_back(Segment{std::string(name), true});
      i = close + 1;
    } else if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        add_literal("}");
        i += 2;
        continue;
      }
      return problem("the '}' at character " + std::to_string(i + 1) +
                     " closes no '{' (write }} for a literal brace)");
    } else {
      const std::size_t next = text.find_first_of("{}", i);
      const std::size_t end = next == std::string_view::npos ? text.size() : next;
      add_literal(text.substr(i, end - i));
      i = end;
    }
  }
  return result;
}

Template Template::column(std::string name) {
  Template result;
  result.text_ = "{" + name + "}";
  result.segments_.push_back(Segment{std::move(name), true});
  return result;
}

std::string sanitize_tag_key(std::string_view key) {
  std::string out(key);
  for (char& c : out)
    if (!is_tag_key_byte(static_cast<unsigned char>(c)))
      c = '_';
  return out;
}

// --- MappedRow -------------------------------------------------------------------------------

bool MappedRow::has(std::string_view key) const noexcept {
  for (const Field& field : fields_)
    if (field.key == key)
      return true;
  return false;
}

std::string_view MappedRow::get(std::string_view key) const noexcept {
  for (std::size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].key == key)
      return value(i);
  return {};
}

// --- ColumnMapping ---------------------------------------------------------------------------

Result<ColumnMapping> ColumnMapping::create(MappingOptions options) {
  std::vector<std::string> problems;
  auto spec = std::make_shared<MappingSpec>();

  auto has_target = [&](std::string_view key) {
    return std::any_of(options.columns.begin(), options.columns.end(),
                       [&](const auto& entry) { return entry.first == key; });
  };
  for (const auto& [key, text] : options.columns) {
    const std::string where = "columns." + in_quotes(key) + " = " + in_quotes(text);
    if (std::any_of(spec->targets.begin(), spec->targets.end(),
                    [&](const MappingSpec::Target& t) { return t.key == key; })) {
      problems.push_back("columns maps " + in_quotes(key) + " twice");
      continue;
    }
    if (key.rfind(tag_key_prefix, 0) == 0) {
      const std::string_view tag = std::string_view(key).substr(tag_key_prefix.size());
      if (tag.empty() || sanitize_tag_key(tag) != tag)
        problems.push_back(where + ": the tag key " + in_quotes(tag) +
                           " must be non-empty and use only letters, digits and _ . : / = + - "
                           "@ (for example " +
                           in_quotes(std::string(tag_key_prefix) +
                                     (tag.empty() ? std::string("team") : sanitize_tag_key(tag))) +
                           ")");
    } else if (!is_cbf_column(key)) {
      problems.push_back(where + ": " + in_quotes(key) +
                         " is not a CBF column; the CBF columns are " + list_of(cbf_columns) +
                         " and resource/tag:<key>");
      continue;
    }
    Result<Template> parsed = Template::parse(text);
    if (!parsed) {
      problems.push_back("columns." + in_quotes(key) + ": " + parsed.error().message());
      continue;
    }
    spec->targets.push_back(MappingSpec::Target{key, std::move(*parsed)});
  }
  if (options.cost_column) {
    if (has_target("cost/cost"))
      problems.push_back("cost_column and columns.\"cost/cost\" both say where the cost is; "
                         "keep one of them");
    else if (options.cost_column->empty())
      problems.push_back("cost_column is empty; name the column that holds the cost");
    else
      spec->targets.push_back(
          MappingSpec::Target{"cost/cost", Template::column(*options.cost_column)});
  }
  if (!has_target("time/usage_start"))
    problems.push_back("columns has no \"time/usage_start\" template; every row needs the time "
                       "of its charge (for example \"time/usage_start\" = \"{Usage Date}\")");
  if (!has_target("cost/cost") && !options.cost_column)
    problems.push_back("columns has no \"cost/cost\" template; every row needs a cost (for "
                       "example \"cost/cost\" = \"{Amount}\", or set cost_column)");

  spec->auto_timestamps = options.timestamp_format == "auto";
  spec->timestamp_format = options.timestamp_format;
  if (!spec->auto_timestamps) {
    // parse_timestamp() checks the format before the text, so a bad format shows up as a
    // config error even for empty text.
    Result<UtcTime> probe = parse_timestamp("", options.timestamp_format);
    if (!probe && probe.error().kind() == ErrorKind::config)
      problems.push_back("timestamp_format: " + probe.error().message());
  }

  spec->has_lineitem_type = has_target("lineitem/type");
  for (const auto& [source, type] : options.lineitem_type_map) {
    const std::string where = "lineitem_type_map." + in_quotes(source) + " = " + in_quotes(type);
    const std::optional<std::string_view> canonical = canonical_type(type);
    if (!canonical) {
      problems.push_back(where + ": " + in_quotes(type) + " is not a CBF line-item type (one of " +
                         list_of(lineitem_types) + ")");
      continue;
    }
    const std::string key = lower_ascii(trim_ascii(source));
    auto same = std::find_if(spec->type_map.begin(), spec->type_map.end(),
                             [&](const auto& entry) { return entry.first == key; });
    if (same != spec->type_map.end()) {
      if (same->second != *canonical)
        problems.push_back(where + ": the map already sends " + in_quotes(source) +
                           " (case ignored) to " + in_quotes(same->second));
      continue;
    }
    spec->type_map.emplace_back(key, std::string(*canonical));
  }
  if (!options.lineitem_type_map.empty() && !spec->has_lineitem_type)
    problems.push_back("lineitem_type_map is set but columns has no \"lineitem/type\" template "
                       "whose values it could map (for example \"lineitem/type\" = "
                       "\"{Charge Type}\")");
  if (const auto canonical = canonical_type(options.lineitem_type_default))
    spec->type_default = std::string(*canonical);
  else
    problems.push_back("lineitem_type_default " + in_quotes(options.lineitem_type_default) +
                       " is not a CBF line-item type (one of " + list_of(lineitem_types) + ")");

  if (options.tag_prefix)
    spec->tag_prefix = *options.tag_prefix;
  if (std::find(options.tag_columns.begin(), options.tag_columns.end(), "") !=
      options.tag_columns.end())
    problems.push_back("tag_columns holds an empty column name");
  spec->tag_columns = std::move(options.tag_columns);
  spec->null_values = std::move(options.null_values);
  for (const std::string& null : spec->null_values)
    spec->null_lengths |= std::uint64_t{1} << std::min<std::size_t>(null.size(), 63);

  if (!problems.empty())
    return config_error(join(problems, "\n"));
  return ColumnMapping(std::move(spec));
}

Result<FileMapping> ColumnMapping::bind(const std::vector<std::string>& columns,
                                        std::string_view where) const {
  std::vector<std::string> problems;
  auto available = [&] {
    std::vector<std::string> names;
    names.reserve(columns.size());
    for (const std::string& name : columns)
      names.push_back(in_quotes(name));
    return names.empty() ? std::string("none") : join(names, ", ");
  };
  auto find = [&](const std::string& name, const std::string& referrer) -> std::size_t {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name)
        return i;
    std::string hint;
    for (const std::string& column : columns)
      if (iequals_ascii(column, name) || trim_ascii(column) == name) {
        hint = " (did you mean " + in_quotes(column) + "?)";
        break;
      }
    problems.push_back(referrer + " refers to the column " + in_quotes(name) +
                       ", which is not in " + std::string(where) + hint +
                       "; the columns there are: " + available());
    return FileMapping::literal;
  };

  FileMapping mapping(spec_);
  for (const MappingSpec::Target& target : spec_->targets) {
    FileMapping::Target compiled{target.key, FileMapping::Kind::text, {}};
    if (target.key == "time/usage_start") {
      compiled.kind = FileMapping::Kind::usage_start;
      mapping.usage_start_target_ = mapping.targets_.size();
    } else if (target.key == "time/usage_end") {
      compiled.kind = FileMapping::Kind::timestamp;
    } else if (target.key == "lineitem/type") {
      compiled.kind = FileMapping::Kind::lineitem_type;
    }
    const std::string referrer =
        "columns." + in_quotes(target.key) + " = " + in_quotes(target.value.text());
    for (const Template::Segment& segment : target.value.segments()) {
      if (!segment.is_column) {
        compiled.value.segments.push_back({segment.text, FileMapping::literal});
        continue;
      }
      compiled.value.segments.push_back({std::string(), find(segment.text, referrer)});
      compiled.value.has_columns = true;
    }
    if (compiled.value.segments.size() == 1 && compiled.value.has_columns)
      compiled.value.only_column = compiled.value.segments.front().column;
    mapping.targets_.push_back(std::move(compiled));
  }
  mapping.emit_default_type_ = !spec_->has_lineitem_type;
  for (const std::string& column : spec_->tag_columns) {
    const std::size_t index = find(column, "tag_columns " + in_quotes(column));
    if (index != FileMapping::literal)
      mapping.add_tag(index, std::string(tag_key_prefix) + sanitize_tag_key(column));
  }
  if (!problems.empty())
    return config_error(join(problems, "\n"));
  mapping.add_columns(columns);
  return mapping;
}

// --- FileMapping -----------------------------------------------------------------------------

void FileMapping::add_tag(std::size_t column, std::string key) {
  const bool repeated =
      std::any_of(tags_.begin(), tags_.end(), [&](const Tag& tag) { return tag.key == key; }) ||
      std::any_of(targets_.begin(), targets_.end(),
                  [&](const Target& target) { return target.key == key; });
  tags_.push_back(Tag{column, std::move(key), repeated});
}

void FileMapping::add_columns(const std::vector<std::string>& columns) {
  const std::string& prefix = spec_->tag_prefix;
  for (std::size_t i = known_columns_; i < columns.size(); ++i) {
    const std::string& name = columns[i];
    // A column named exactly the prefix would give an empty key: it is not a tag.
    if (!prefix.empty() && name.size() > prefix.size() &&
        name.compare(0, prefix.size(), prefix) == 0)
      add_tag(i, std::string(tag_key_prefix) +
                     sanitize_tag_key(std::string_view(name).substr(prefix.size())));
  }
  known_columns_ = std::max(known_columns_, columns.size());
}

std::string_view FileMapping::cell(const SourceRecord& record, std::size_t column) const noexcept {
  const std::string_view value = trim_ascii(record.value(column));
  if (value.empty() || (spec_->null_lengths >> std::min<std::size_t>(value.size(), 63) & 1) == 0)
    return value;
  for (const std::string& null : spec_->null_values)
    if (value == null)
      return {};
  return value;
}

std::string_view FileMapping::expand(const Compiled& value, const SourceRecord& record) {
  if (value.only_column != literal)
    return cell(record, value.only_column);
  scratch_.clear();
  bool any_value = false;
  for (const Compiled::Segment& segment : value.segments) {
    if (segment.column == literal) {
      scratch_ += segment.text;
      continue;
    }
    const std::string_view text = cell(record, segment.column);
    any_value = any_value || !text.empty();
    scratch_ += text;
  }
  // "{Project}/{VM}" on a row with neither gives nothing rather than "/".
  if (value.has_columns && !any_value)
    return {};
  return trim_ascii(scratch_);
}

Result<UtcTime> FileMapping::parse_time(std::string_view key, std::string_view text) {
  Result<UtcTime> time = spec_->auto_timestamps ? parse_timestamp(text)
                                                : parse_timestamp(text, spec_->timestamp_format);
  if (!time) {
    problem_ = {key, "timestamp", time.error().message()};
    return data_error(std::string(key) + ": " + problem_.detail);
  }
  return time;
}

std::string_view FileMapping::line_item_type(std::string_view value) const noexcept {
  if (value.empty())
    return spec_->type_default;
  for (const auto& [source, type] : spec_->type_map)
    if (iequals_ascii(source, value))
      return type;
  return value;
}

Result<UtcTime> FileMapping::read_time(Target& target, std::string_view text) {
  if (target.has_last_text && text == target.last_text)
    return target.last_time;
  Result<UtcTime> time = parse_time(target.key, text);
  if (time) {
    target.last_text.assign(text);
    target.last_time = *time;
    target.has_last_text = true;
  }
  return time;
}

std::string_view FileMapping::iso_text(Target& target, UtcTime time) {
  if (!target.has_last_iso || time != target.last_iso_time) {
    target.last_iso.clear();
    append_iso(target.last_iso, time);
    target.last_iso_time = time;
    target.has_last_iso = true;
  }
  return target.last_iso;
}

Result<UtcTime> FileMapping::usage_start(const SourceRecord& record) {
  Target& target = targets_[usage_start_target_];
  const std::string_view text = expand(target.value, record);
  if (text.empty()) {
    const std::string source = in_quotes(spec_->targets[usage_start_target_].value.text());
    problem_ = {target.key, "required", "the template " + source + " gives a blank value"};
    return data_error("time/usage_start is blank (template " + source + ")");
  }
  return read_time(target, text);
}

Status FileMapping::map(const SourceRecord& record, UtcTime usage_start, MappedRow& row) {
  row.clear();
  for (Target& target : targets_) {
    switch (target.kind) {
    case Kind::usage_start:
      row.add(target.key, iso_text(target, usage_start));
      break;
    case Kind::timestamp: {
      const std::string_view text = expand(target.value, record);
      if (text.empty())
        break;
      Result<UtcTime> time = read_time(target, text);
      if (!time)
        return std::move(time).error();
      row.add(target.key, iso_text(target, *time));
      break;
    }
    case Kind::lineitem_type:
      row.add(target.key, line_item_type(expand(target.value, record)));
      break;
    case Kind::text: {
      const std::string_view text = expand(target.value, record);
      if (!text.empty())
        row.add(target.key, text);
      break;
    }
    }
  }
  if (emit_default_type_)
    row.add("lineitem/type", spec_->type_default);
  for (const Tag& tag : tags_) {
    const std::string_view value = cell(record, tag.column);
    if (value.empty() || (tag.may_repeat && row.has(tag.key)))
      continue;
    row.add(tag.key, value);
  }
  return {};
}

} // namespace billdrop::custom
