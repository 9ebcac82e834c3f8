#include "map_cell.hpp"

#include <billdrop/text.hpp>

#include <algorithm>

namespace billdrop::aws {
namespace {

class MapParser {
public:
  MapParser(std::string_view text, std::string& storage) : text_(text), storage_(storage) {}

  Status parse(MapEntries& entries) {
    skip_space();
    if (at_end())
      return {};
    if (!consume('{'))
      return expected("'{'");
    skip_space();
    if (consume('}'))
      return trailing();
    if (!at_end() && text_[pos_] != '"')
      return hive(entries);
    while (true) {
      skip_space();
      std::string_view key;
      if (Status status = string(key); !status)
        return status;
      skip_space();
      if (!consume(':'))
        return expected("':'");
      skip_space();
      std::string_view value;
      bool null = false;
      if (Status status = scalar(value, null); !status)
        return status;
      if (!null)
        entries.emplace_back(key, value);
      skip_space();
      if (consume(','))
        continue;
      if (consume('}'))
        return trailing();
      return expected("',' or '}'");
    }
  }

private:
  // Hive/Athena map text, as a query engine prints a map<string,string>: `{k1=v1, k2=v2}`. Keys
  // and values are unquoted; a key ends at its first '='; a ',' separates entries only when a
  // '=' follows before the next ',' (so a value may hold ", "); the last '}' ends the map.
  // Keys and values are trimmed of ASCII spaces and point into the cell itself.
  Status hive(MapEntries& entries) {
    std::size_t end = text_.size();
    while (end > pos_ && is_ascii_space(text_[end - 1]))
      --end;
    if (end == pos_ || text_[end - 1] != '}')
      return hive_expected("a closing '}' at the end of the cell", end);
    const std::size_t body_end = end - 1;
    while (pos_ < body_end) {
      const std::size_t equals = text_.find('=', pos_);
      const std::size_t comma = text_.find(',', pos_);
      if (equals >= body_end || comma < equals)
        return hive_expected("'=' after a key", std::min(comma, body_end));
      const std::string_view key = trim_ascii(text_.substr(pos_, equals - pos_));
      if (key.empty())
        return hive_expected("a key before '='", equals);
      std::size_t value_end = equals + 1;
      while (true) {
        const std::size_t next = text_.find(',', value_end);
        if (next >= body_end) {
          value_end = body_end;
          break;
        }
        const std::size_t next_equals = text_.find('=', next + 1);
        const std::size_t after = text_.find(',', next + 1);
        if (next_equals < body_end && next_equals < after) {
          value_end = next;
          break;
        }
        value_end = next + 1; // a comma inside the value
      }
      entries.emplace_back(key, trim_ascii(text_.substr(equals + 1, value_end - equals - 1)));
      pos_ = value_end < body_end ? value_end + 1 : body_end;
    }
    return {};
  }
  Status hive_expected(std::string_view what, std::size_t at) const {
    return data_error("map cell " + quote_for_message(text_) +
                      " is neither a JSON object ({\"key\":\"value\", ...}) nor Hive map text "
                      "({key=value, ...}): read as map text, expected " +
                      std::string(what) + " at offset " + std::to_string(at));
  }

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  void skip_space() noexcept {
    while (!at_end() && is_ascii_space(text_[pos_]))
      ++pos_;
  }
  bool consume(char c) noexcept {
    if (at_end() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  Status expected(std::string_view what) const {
    return data_error("map cell " + quote_for_message(text_) + ": expected " + std::string(what) +
                      " at offset " + std::to_string(pos_));
  }
  Status trailing() {
    skip_space();
    return at_end() ? Status{} : expected("the end of the cell");
  }

  // A JSON string; the unescaped text goes to storage_, which never reallocates (it was reserved
  // to the cell's size, and unescaping never lengthens text).
  Status string(std::string_view& out) {
    if (!consume('"'))
      return expected("'\"'");
    const std::size_t start = storage_.size();
    while (true) {
      if (at_end())
        return expected("a closing '\"'");
      const char c = text_[pos_++];
      if (c == '"')
        break;
      if (c != '\\') {
        storage_ += c;
        continue;
      }
      if (at_end())
        return expected("an escape");
      const char e = text_[pos_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        storage_ += e;
        break;
      case 'b':
        storage_ += '\b';
        break;
      case 'f':
        storage_ += '\f';
        break;
      case 'n':
        storage_ += '\n';
        break;
      case 'r':
        storage_ += '\r';
        break;
      case 't':
        storage_ += '\t';
        break;
      case 'u':
        if (Status status = unicode_escape(); !status)
          return status;
        break;
      default:
        --pos_;
        return expected("a valid escape");
      }
    }
    out = std::string_view(storage_).substr(start);
    return {};
  }

  Status hex4(unsigned& code) {
    if (pos_ + 4 > text_.size())
      return expected("four hex digits");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= static_cast<unsigned>(c - 'A' + 10);
      else
        return expected("a hex digit");
    }
    return {};
  }

  // \uXXXX as UTF-8; a surrogate pair is one code point. Six escaped bytes never yield more than
  // four UTF-8 bytes, so storage_ still does not outgrow the cell.
  Status unicode_escape() {
    unsigned code = 0;
    if (Status status = hex4(code); !status)
      return status;
    if (code >= 0xD800 && code < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
      pos_ += 2;
      unsigned low = 0;
      if (Status status = hex4(low); !status)
        return status;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code < 0x80) {
      storage_ += static_cast<char>(code);
    } else if (code < 0x800) {
      storage_ += static_cast<char>(0xC0 | (code >> 6));
      storage_ += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      storage_ += static_cast<char>(0xE0 | (code >> 12));
      storage_ += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      storage_ += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      storage_ += static_cast<char>(0xF0 | (code >> 18));
      storage_ += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      storage_ += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      storage_ += static_cast<char>(0x80 | (code & 0x3F));
    }
    return {};
  }

  // A string, or a bare number / true / false / null kept as written.
  Status scalar(std::string_view& out, bool& null) {
    if (!at_end() && text_[pos_] == '"')
      return string(out);
    const std::size_t start = pos_;
    while (!at_end() && text_[pos_] != ',' && text_[pos_] != '}' && !is_ascii_space(text_[pos_]))
      ++pos_;
    out = text_.substr(start, pos_ - start);
    if (out.empty())
      return expected("a value");
    null = out == "null";
    return {};
  }

  std::string_view text_;
  std::string& storage_;
  std::size_t pos_ = 0;
};

} // namespace

Status parse_map_cell(std::string_view cell, MapEntries& entries, std::string& storage) {
  entries.clear();
  storage.clear();
  storage.reserve(cell.size());
  return MapParser(cell, storage).parse(entries);
}

} // namespace billdrop::aws
