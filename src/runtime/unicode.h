// Small UTF-8 helpers shared by the tokenizers. Strict decoding (RFC 3629): overlong forms,
// surrogates and code points past U+10FFFF are invalid, so callers can treat such bytes one
// at a time (byte fallback) instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mecllm::runtime {

// Length (1..4) of the valid UTF-8 character starting at s[pos], or 0 when the bytes there do
// not form one (a stray continuation byte, a truncated or overlong sequence, a surrogate).
size_t utf8_char_len(std::string_view s, size_t pos);

// True when every byte of s belongs to a valid UTF-8 character.
bool is_valid_utf8(std::string_view s);

// Appends the UTF-8 encoding of code point cp (must be <= 0x10FFFF and not a surrogate).
void append_utf8(std::string& out, char32_t cp);

// Decodes the valid character at s[pos] (utf8_char_len(s, pos) must be > 0).
char32_t decode_utf8_at(std::string_view s, size_t pos);

}  // namespace mecllm::runtime
