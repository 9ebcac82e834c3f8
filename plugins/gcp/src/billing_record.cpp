#include "billing_record.hpp"

#include <billdrop/text.hpp>

namespace billdrop::gcp {
namespace {

constexpr std::array<std::string_view, field_count> field_names = {
    "billing_account_id",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "usage_end_time",
    "project.id",
    "project.number",
    "project.name",
    "location.location",
    "location.country",
    "location.region",
    "location.zone",
    "cost",
    "currency",
    "usage.amount",
    "usage.unit",
    "invoice.month",
    "cost_type",
    "resource.name",
    "resource.global_name",
    "adjustment_info.description",
};

constexpr std::array<std::string_view, 4> list_field_names = {"labels", "system_labels",
                                                              "project.labels", "credits"};

// Parses the JSON / Python literal subset that CSV extracts write for repeated fields: a list of
// flat dicts whose values are strings, numbers, None/null, True/False (nested values are skipped).
class ListCellParser {
public:
  ListCellParser(std::string_view text, ListField list, BillingRecord& record)
      : text_(text), list_(list), record_(record) {}

  Status parse() {
    skip_space();
    if (at_end())
      return {}; // an empty cell: no elements
    if (!consume('['))
      return fail("'['");
    skip_space();
    if (consume(']'))
      return finish();
    for (;;) {
      if (Status status = parse_element(); !status)
        return status;
      skip_space();
      if (consume(']'))
        return finish();
      if (!consume(','))
        return fail("',' or ']'");
      skip_space();
    }
  }

private:
  Status parse_element() {
    if (!consume('{'))
      return fail("'{'");
    record_.add_element(list_);
    skip_space();
    if (consume('}'))
      return {};
    for (;;) {
      skip_space();
      if (Status status = parse_string(key_); !status)
        return status;
      skip_space();
      if (!consume(':'))
        return fail("':'");
      skip_space();
      if (Status status = parse_value(value_); !status)
        return status;
      record_.set_element_field(list_, key_, record_.keep(value_));
      skip_space();
      if (consume('}'))
        return {};
      if (!consume(','))
        return fail("',' or '}'");
    }
  }

  Status parse_value(std::string& out) {
    out.clear();
    if (at_end())
      return fail("a value");
    const char c = text_[pos_];
    if (c == '"' || c == '\'')
      return parse_string(out);
    if (c == '{' || c == '[')
      return skip_nested();
    const std::size_t start = pos_;
    while (!at_end() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
           !is_ascii_space(text_[pos_]))
      ++pos_;
    const std::string_view atom = text_.substr(start, pos_ - start);
    if (atom.empty())
      return fail("a value");
    if (atom == "None" || atom == "null")
      return {};
    if (atom == "True" || atom == "true") {
      out = "true";
      return {};
    }
    if (atom == "False" || atom == "false") {
      out = "false";
      return {};
    }
    out.assign(atom); // a number, kept as text; the mapper checks it where it matters
    return {};
  }

  Status parse_string(std::string& out) {
    out.clear();
    if (at_end() || (text_[pos_] != '"' && text_[pos_] != '\''))
      return fail("a quoted string");
    const char quote = text_[pos_++];
    for (;;) {
      if (at_end())
        return fail(std::string("a closing ") + quote);
      const char c = text_[pos_++];
      if (c == quote)
        return {};
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end())
        return fail("an escaped character");
      const char e = text_[pos_++];
      switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        if (Status status = append_unicode_escape(out); !status)
          return status;
        break;
      default: // \" \' \\ \/ stand for themselves
        out += e;
      }
    }
  }

  // \uXXXX as UTF-8 (surrogate pairs joined).
  Status append_unicode_escape(std::string& out) {
    auto hex4 = [&](std::uint32_t& value) {
      if (text_.size() - pos_ < 4)
        return false;
      value = 0;
      for (int i = 0; i < 4; ++i) {
        const char h = text_[pos_++];
        value <<= 4;
        if (h >= '0' && h <= '9')
          value |= static_cast<std::uint32_t>(h - '0');
        else if (h >= 'a' && h <= 'f')
          value |= static_cast<std::uint32_t>(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
          value |= static_cast<std::uint32_t>(h - 'A' + 10);
        else
          return false;
      }
      return true;
    };
    std::uint32_t code = 0;
    if (!hex4(code))
      return fail("four hex digits after \\u");
    if (code >= 0xD800 && code < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
      pos_ += 2;
      std::uint32_t low = 0;
      if (!hex4(low))
        return fail("four hex digits after \\u");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
    return {};
  }

  // A nested list or dict value: read past it, honouring quotes.
  Status skip_nested() {
    int depth = 0;
    std::string scratch;
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == '"' || c == '\'') {
        if (Status status = parse_string(scratch); !status)
          return status;
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[')
        ++depth;
      else if ((c == '}' || c == ']') && --depth == 0)
        return {};
    }
    return fail("the end of a nested value");
  }

  Status finish() {
    skip_space();
    if (!at_end())
      return fail("the end of the list");
    return {};
  }

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  bool consume(char c) noexcept {
    if (at_end() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  void skip_space() noexcept {
    while (!at_end() && is_ascii_space(text_[pos_]))
      ++pos_;
  }
  Error fail(std::string_view expected) const {
    return data_error(std::string(list_field_name(list_)) + " " + quote_for_message(text_) +
                      ": expected " + std::string(expected) + " at character " +
                      std::to_string(pos_ + 1) +
                      " (a JSON or Python-style list of records is expected)");
  }

  std::string_view text_;
  ListField list_;
  BillingRecord& record_;
  std::size_t pos_ = 0;
  std::string key_;
  std::string value_;
};

} // namespace

std::string_view field_name(Field field) noexcept {
  return field_names[static_cast<std::size_t>(field)];
}

std::optional<Field> field_by_name(std::string_view dotted) noexcept {
  for (std::size_t i = 0; i < field_names.size(); ++i)
    if (field_names[i] == dotted)
      return static_cast<Field>(i);
  return std::nullopt;
}

std::optional<ListField> list_field_by_name(std::string_view dotted) noexcept {
  for (std::size_t i = 0; i < list_field_names.size(); ++i)
    if (list_field_names[i] == dotted)
      return static_cast<ListField>(i);
  return std::nullopt;
}

std::string_view list_field_name(ListField field) noexcept {
  return list_field_names[static_cast<std::size_t>(field)];
}

void BillingRecord::add_element(ListField list) {
  switch (list) {
  case ListField::labels:
    labels.add();
    break;
  case ListField::system_labels:
    system_labels.add();
    break;
  case ListField::project_labels:
    project_labels.add();
    break;
  case ListField::credits:
    credits.add();
    break;
  }
}

void BillingRecord::set_element_field(ListField list, std::string_view key,
                                      std::string_view value) {
  if (list == ListField::credits) {
    Credit& credit = credits.back();
    if (key == "amount")
      credit.amount = value;
    else if (key == "type")
      credit.type = value;
    else if (key == "name")
      credit.name = value;
    else if (key == "full_name")
      credit.full_name = value;
    else if (key == "id")
      credit.id = value;
    return;
  }
  Label& label = list == ListField::labels          ? labels.back()
                 : list == ListField::system_labels ? system_labels.back()
                                                    : project_labels.back();
  if (key == "key")
    label.key = value;
  else if (key == "value")
    label.value = value;
}

Status parse_list_cell(std::string_view text, ListField list, BillingRecord& record) {
  return ListCellParser(text, list, record).parse();
}

} // namespace billdrop::gcp
