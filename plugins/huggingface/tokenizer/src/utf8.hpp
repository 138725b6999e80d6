// UTF-8 helpers shared by the tokenizer: decoding one code point, encoding, and the lossy
// repair that defines what encode() does with invalid input (same as Rust's from_utf8_lossy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmhost::tok::utf8 {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if the bytes there are not a
// valid, complete, shortest-form encoding of a scalar value.
std::size_t valid_sequence_length(std::string_view s, std::size_t i);

// Decodes the code point at s[i] (s must be valid UTF-8 there); advances i.
inline uint32_t next(std::string_view s, std::size_t &i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) { ++i; return b; }
    if (b < 0xE0) {
        uint32_t c = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
        i += 2;
        return c;
    }
    if (b < 0xF0) {
        uint32_t c = ((b & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                     (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
        i += 3;
        return c;
    }
    uint32_t c = ((b & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
                 ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
    i += 4;
    return c;
}

// Length in bytes of the character whose lead byte is b (1 for stray continuation bytes).
inline std::size_t char_length(unsigned char b) {
    return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

void append(std::string &out, uint32_t cp);

bool is_valid(std::string_view s);

// Valid UTF-8 copy of s: each maximal invalid subsequence becomes U+FFFD (the WHATWG / Rust
// from_utf8_lossy rule).
std::string lossy(std::string_view s);

// Length of the longest prefix of s that does not end inside an incomplete character.
std::size_t complete_prefix_length(std::string_view s);

} // namespace llmhost::tok::utf8
