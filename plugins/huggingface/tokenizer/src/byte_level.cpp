#include "byte_level.hpp"

#include "utf8.hpp"

namespace llmhost::tok::byte_level {
namespace {

struct Tables {
    std::array<uint32_t, 256> to_char{};
    std::array<int16_t, 324> to_byte{}; // the alphabet lies below U+0144
    Tables() {
        to_byte.fill(-1);
        // Printable Latin-1 bytes stand for themselves; the others are shifted to U+0100 + n.
        uint32_t n = 0;
        for (uint32_t b = 0; b < 256; ++b) {
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            to_char[b] = printable ? b : 256 + n++;
            to_byte[to_char[b]] = static_cast<int16_t>(b);
        }
    }
};
const Tables &tables() {
    static const Tables t;
    return t;
}

} // namespace

uint32_t char_of_byte(uint8_t b) { return tables().to_char[b]; }

std::optional<uint8_t> byte_of_char(uint32_t cp) {
    if (cp >= tables().to_byte.size() || tables().to_byte[cp] < 0) return std::nullopt;
    return static_cast<uint8_t>(tables().to_byte[cp]);
}

std::optional<std::string> decode_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (std::size_t i = 0; i < token.size();) {
        auto b = byte_of_char(utf8::next(token, i));
        if (!b) return std::nullopt;
        out.push_back(static_cast<char>(*b));
    }
    return out;
}

std::string encode_bytes(std::string_view bytes) {
    std::string out;
    for (unsigned char b : bytes) utf8::append(out, char_of_byte(b));
    return out;
}

} // namespace llmhost::tok::byte_level
