#pragma once
// Exact, fast JSON text for CBF rows and drop bodies.

#include <string>
#include <string_view>

namespace billdrop {

// Appends `text` as a JSON string literal (with quotes). `text` must be valid UTF-8: it is copied
// as is except for '"', '\\' and control characters below 0x20 (\b \f \n \r \t or \u00XX) and
// U+2028/U+2029, written as \u2028/\u2029 so the output is also valid JavaScript.
void append_json_string(std::string& out, std::string_view text);

// True when `text` is ASCII with nothing append_json_string would escape (no '"', '\\' or byte
// below 0x20): valid UTF-8 that a JSON string literal holds exactly as it is. One pass, sixteen
// bytes at a time: the validator checks every value once with it and copies plain ones.
bool is_plain_json_text(std::string_view text) noexcept;

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// Byte offset of the first invalid UTF-8 sequence, or text.size() when valid.
std::size_t first_invalid_utf8(std::string_view text) noexcept;

} // namespace billdrop
