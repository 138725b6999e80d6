// The GPT-2 byte <-> character alphabet used by ByteLevel pre-tokenizers and decoders: every
// byte is shown as a printable character (space -> 'Ġ' U+0120, newline -> 'Ċ' U+010A, ...).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmhost::tok::byte_level {

// Code point that represents byte b.
uint32_t char_of_byte(uint8_t b);
// Byte represented by code point cp, if cp is in the alphabet.
std::optional<uint8_t> byte_of_char(uint32_t cp);
// "Ġhello" -> " hello"; nullopt if some character is not in the alphabet.
std::optional<std::string> decode_token(std::string_view token);
// " hello" -> "Ġhello".
std::string encode_bytes(std::string_view bytes);

} // namespace llmhost::tok::byte_level
