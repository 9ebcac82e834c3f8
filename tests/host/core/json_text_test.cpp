#include "core/json_text.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>

namespace billdrop::core {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// The escaping rules of the header, one byte at a time: the oracle for the fast writer.
std::string reference_json_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else if (c == 0xE2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Decodes code points and checks each against the Unicode ranges: the oracle for the validator.
std::size_t reference_first_invalid(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length;
    std::uint32_t code_point;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code_point = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code_point = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return i;
    }
    if (i + length > text.size())
      return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80)
        return i;
      code_point = (code_point << 6) | (s[i + k] & 0x3F);
    }
    const std::uint32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF))
      return i;
    i += length;
  }
  return text.size();
}

std::string parse_back(const std::string& json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document document;
  std::string_view text;
  EXPECT_FALSE(parser.iterate(padded).get(document)) << json;
  EXPECT_FALSE(document.get_string().get(text)) << json;
  return std::string(text);
}

TEST(JsonWriter, CopiesPlainTextAndAppends) {
  std::string out = "x:";
  append_json_string(out, "us-east-1");
  EXPECT_EQ(out, "x:\"us-east-1\"");
  EXPECT_EQ(json_string(""), "\"\"");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(json_string("C:\\temp\\x"), R"("C:\\temp\\x")");
  EXPECT_EQ(json_string("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(json_string(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\""); // DEL is legal in JSON strings
  EXPECT_EQ(json_string("/"), "\"/\"");       // no need to escape the solidus
}

TEST(JsonWriter, EscapesLineAndParagraphSeparators) {
  EXPECT_EQ(json_string("a\u2028b\u2029c"), R"("a\u2028b\u2029c")");
  // Other E2 80 xx characters are kept: … (U+2026) and ‰ (U+2030).
  EXPECT_EQ(json_string("a…b‰"), "\"a…b‰\"");
  // An E2 at the very end or before other bytes is copied (the caller guarantees UTF-8 anyway).
  EXPECT_EQ(json_string("€"), "\"€\"");
}

TEST(JsonWriter, KeepsMultiByteUtf8AsIs) {
  EXPECT_EQ(json_string("Zürich €5 日本 😀"), "\"Zürich €5 日本 😀\"");
}

TEST(JsonWriter, EscapesAtEveryPositionOfLongStrings) {
  // Special characters at each offset across several 8-byte words and the tail.
  const std::string specials[] = {"\"",   "\\",     "\n", std::string(1, '\0'),
                                  "\x1f", "\u2028", "é",  "€"};
  for (const std::string& special : specials) {
    for (std::size_t at = 0; at < 27; ++at) {
      std::string text(27, 'a');
      text.insert(at, special);
      EXPECT_EQ(json_string(text), reference_json_string(text)) << at;
      EXPECT_EQ(parse_back(json_string(text)), text) << at;
    }
  }
}

TEST(JsonWriter, MatchesTheReferenceOnRandomValidText) {
  std::mt19937 rng(7);
  const std::string pieces[] = {"a", "Z", " ",      "\"",     "\\", "\n", "\t", "\x01", "\x1f",
                                "é", "€", "\u2028", "\u2029", "…",  "😀",  "/",  "\x7f", "0"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int count = static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i)
      text += pieces[rng() % std::size(pieces)];
    const std::string json = json_string(text);
    ASSERT_EQ(json, reference_json_string(text)) << text;
    ASSERT_EQ(parse_back(json), text);
  }
}

TEST(Utf8, AcceptsEveryBoundaryCodePoint) {
  for (std::string_view text :
       {"", "plain ascii", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "Zürich €5 日本 😀"}) {
    EXPECT_TRUE(is_valid_utf8(text)) << text;
    EXPECT_EQ(first_invalid_utf8(text), text.size());
  }
}

TEST(Utf8, RejectsOverlongsSurrogatesOutOfRangeAndTruncatedSequences) {
  struct Case {
    std::string_view bytes;
    const char* why;
  };
  const Case cases[] = {
      {"\xC0\x80", "overlong NUL"},
      {"\xC1\xBF", "overlong two-byte"},
      {"\xE0\x80\x80", "overlong three-byte"},
      {"\xE0\x9F\xBF", "overlong three-byte below U+0800"},
      {"\xF0\x80\x80\x80", "overlong four-byte"},
      {"\xF0\x8F\xBF\xBF", "overlong four-byte below U+10000"},
      {"\xED\xA0\x80", "surrogate U+D800"},
      {"\xED\xBF\xBF", "surrogate U+DFFF"},
      {"\xF4\x90\x80\x80", "above U+10FFFF"},
      {"\xF5\x80\x80\x80", "F5 lead"},
      {"\xFF", "FF byte"},
      {"\x80", "lone continuation"},
      {"\xC3", "truncated two-byte"},
      {"\xE2\x82", "truncated three-byte"},
      {"\xF0\x9F\x98", "truncated four-byte"},
      {"\xC3\x41", "bad continuation"},
      {"\xE2\x28\xA1", "bad second byte"},
      {"\xF0\x9F\x98\x41", "bad fourth byte"},
  };
  for (const Case& c : cases) {
    // After 10 ASCII bytes (past the 8-byte fast path) and a valid two-byte character.
    const std::string text = "abcdefghij\xC3\xA9" + std::string(c.bytes) + "tail";
    EXPECT_FALSE(is_valid_utf8(text)) << c.why;
    EXPECT_EQ(first_invalid_utf8(text), 12u) << c.why;
    EXPECT_EQ(first_invalid_utf8(c.bytes), 0u) << c.why;
  }
}

TEST(Utf8, MatchesADecodingValidatorOnRandomBytes) {
  std::mt19937 rng(11);
  const unsigned char interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                       0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                       0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int count = static_cast<int>(rng() % 24);
    for (int i = 0; i < count; ++i)
      text += static_cast<char>(rng() % 3 == 0 ? rng() % 256
                                               : interesting[rng() % std::size(interesting)]);
    ASSERT_EQ(first_invalid_utf8(text), reference_first_invalid(text)) << round;
  }
}

} // namespace
} // namespace billdrop::core
