// Token bytes from the vocabulary strings. The encoding is detected from how the tokenizer itself
// writes " a\n": byte-level BPE shows "Ġ"/"Ċ", metaspace shows "▁" (and "<0x0A>" byte fallback).
#include "llmhost/constraint/tokenizer_vocabulary.hpp"

#include <array>

namespace llmhost::constraint {

namespace {

// GPT-2's byte <-> printable code point map, inverted: code point -> byte.
std::array<int, 324> byte_level_inverse() {
    std::array<int, 324> inv;
    inv.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        int cp = printable ? b : 256 + n++;
        inv[cp] = b;
    }
    return inv;
}

bool decode_utf8(const std::string &s, std::size_t &i, uint32_t &cp) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    cp = n == 1 ? c : c & (0x3F >> (n - 1));
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 63u);
    i += n;
    return true;
}

} // namespace

std::shared_ptr<const TokenVocabulary>
vocabulary_from_tokenizer(const tok::Tokenizer &tokenizer, std::vector<int32_t> eos_ids,
                          std::size_t vocab_size, const std::unordered_set<int32_t> &text_ids) {
    if (vocab_size == 0) vocab_size = tokenizer.vocab_size();
    std::string probe;
    for (const auto &p : tokenizer.encode_to_pieces(" a\n", false)) probe += p;
    const bool byte_level =
        probe.find("\xC4\xA0") != std::string::npos || probe.find("\xC4\x8A") != std::string::npos;
    const bool metaspace = !byte_level && probe.find("\xE2\x96\x81") != std::string::npos;
    static const auto inv = byte_level_inverse();
    std::vector<std::string> bytes(vocab_size);
    for (std::size_t id = 0; id < vocab_size && id < tokenizer.vocab_size(); ++id) {
        const int32_t i32 = static_cast<int32_t>(id);
        if (tokenizer.is_special(i32)) {
            if (text_ids.count(i32)) bytes[id] = tokenizer.id_to_token(i32); // stored as text
            continue;
        }
        std::string piece = tokenizer.id_to_token(i32);
        if (piece.empty()) continue;
        std::string out;
        if (byte_level) {
            std::size_t i = 0;
            bool ok = true;
            std::string mapped;
            while (i < piece.size()) {
                uint32_t cp;
                if (!decode_utf8(piece, i, cp) || cp >= inv.size() || inv[cp] < 0) {
                    ok = false;
                    break;
                }
                mapped.push_back(static_cast<char>(inv[cp]));
            }
            // Added (non-special) tokens are stored as plain text, not byte-mapped.
            out = ok ? mapped : piece;
        } else if (metaspace) {
            if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>') {
                out.push_back(static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
            } else {
                for (std::size_t i = 0; i < piece.size();) {
                    if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
                        out.push_back(' ');
                        i += 3;
                    } else
                        out.push_back(piece[i++]);
                }
            }
        } else {
            out = piece;
        }
        bytes[id] = std::move(out);
    }
    return std::make_shared<const TokenVocabulary>(std::move(bytes), std::move(eos_ids));
}

} // namespace llmhost::constraint
