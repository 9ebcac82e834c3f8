#include "cbf/row_identity.hpp"

#include <billdrop/text.hpp>

#include <simdjson.h>

#include <algorithm>

namespace billdrop::cbf {

namespace {

std::vector<std::string> default_columns() {
  std::vector<std::string> columns;
  for (const Column column : kDefaultIdentity)
    columns.emplace_back(info(column).name);
  return columns;
}

} // namespace

RowIdentity::RowIdentity() : columns_(default_columns()) {}

Result<RowIdentity> RowIdentity::from_columns(std::span<const std::string> columns) {
  if (columns.empty())
    return RowIdentity();
  std::vector<bool> known(kColumnCount, false);
  std::vector<std::string> tags;
  for (const std::string& name : columns) {
    if (const std::optional<Column> column = find_column(name)) {
      Column canonical = *column;
      if (canonical == Column::action_account)
        canonical = Column::resource_account;
      else if (canonical == Column::action_region)
        canonical = Column::resource_region;
      known[static_cast<std::size_t>(canonical)] = true;
      continue;
    }
    const std::string_view text(name);
    if (text.starts_with(kTagPrefix) && is_valid_tag_key(text.substr(kTagPrefix.size()))) {
      tags.push_back(name);
      continue;
    }
    return config_error("the identity column " + quote_for_message(name) +
                        " is not a CBF column nor a tag \"resource/tag:<key>\" (tag keys: "
                        "ASCII letters, digits and _ . : / = + - @)");
  }
  std::vector<std::string> ordered;
  for (std::size_t i = 0; i < kColumnCount; ++i)
    if (known[i])
      ordered.emplace_back(kColumns[i].name);
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  ordered.insert(ordered.end(), tags.begin(), tags.end());
  return RowIdentity(std::move(ordered));
}

std::string RowIdentity::describe() const {
  std::string text;
  for (const std::string& column : columns_)
    text.append(text.empty() ? "" : ", ").append(column);
  return text;
}

void RowIdentity::key(std::span<const FieldView> fields, std::string& out) const {
  out.clear();
  for (const std::string& column : columns_) {
    std::string_view value;
    for (const FieldView& field : fields) {
      if (field.key == column) {
        value = field.value;
        break;
      }
    }
    if (value.empty() && column == info(Column::lineitem_type).name)
      value = kLineItemTypes[0]; // absent means Usage, as in the totals by type
    out.append(std::to_string(value.size())).append(1, ':').append(value);
  }
}

struct RowFieldReader::State {
  // The DOM parser: it checks the whole text (nothing may follow the object), and the strings it
  // unescapes live in its document until the next parse.
  simdjson::dom::parser parser;
  std::string buffer; // the row, padded for simdjson
};

RowFieldReader::RowFieldReader() : state_(std::make_unique<State>()) {}
RowFieldReader::~RowFieldReader() = default;

Status RowFieldReader::read(std::string_view json, std::vector<FieldView>& fields) {
  fields.clear();
  State& s = *state_;
  s.buffer.assign(json);
  s.buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  const auto bad = [&](std::string_view what) {
    return data_error("a snapshot row is not a CBF JSON object of strings (" + std::string(what) +
                      "): " + quote_for_message(json.substr(0, 120)));
  };
  simdjson::dom::element document;
  if (s.parser.parse(s.buffer.data(), json.size(), false).get(document))
    return bad("not valid JSON");
  simdjson::dom::object object;
  if (document.get_object().get(object))
    return bad("not an object");
  for (const simdjson::dom::key_value_pair member : object) {
    std::string_view value;
    if (member.value.get_string().get(value))
      return bad("a value that is not a string");
    fields.push_back({member.key, value});
  }
  return {};
}

} // namespace billdrop::cbf
