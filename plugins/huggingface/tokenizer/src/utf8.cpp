#include "utf8.hpp"

namespace llmhost::tok::utf8 {

std::size_t valid_sequence_length(std::string_view s, std::size_t i) {
    const auto n = s.size();
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](std::size_t k) { return k < n && (at(k) & 0xC0) == 0x80; };
    unsigned char b = at(i);
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
        if (i + 1 >= n) return 0;
        unsigned char b1 = at(i + 1);
        // Exclude overlong forms (E0 80..9F) and surrogates (ED A0..BF).
        unsigned char lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        if (b1 < lo || b1 > hi) return 0;
        return cont(i + 2) ? 3 : 0;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (i + 1 >= n) return 0;
        unsigned char b1 = at(i + 1);
        unsigned char lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        if (b1 < lo || b1 > hi) return 0;
        return cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    return 0;
}

void append(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool is_valid(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        std::size_t len = valid_sequence_length(s, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

// Length of the maximal prefix of a valid sequence at s[i] (at least 1): what one U+FFFD replaces.
static std::size_t invalid_run_length(std::string_view s, std::size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t need = (b >= 0xC2 && b <= 0xDF) ? 2 : (b >= 0xE0 && b <= 0xEF) ? 3 : (b >= 0xF0 && b <= 0xF4) ? 4 : 1;
    std::size_t k = 1;
    while (k < need && i + k < s.size()) {
        auto c = static_cast<unsigned char>(s[i + k]);
        unsigned char lo = 0x80, hi = 0xBF;
        if (k == 1) {
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        }
        if (c < lo || c > hi) break;
        ++k;
    }
    return k;
}

std::string lossy(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t len = valid_sequence_length(s, i);
        if (len) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            i += invalid_run_length(s, i);
        }
    }
    return out;
}

std::size_t complete_prefix_length(std::string_view s) {
    std::size_t n = s.size();
    // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        auto b = static_cast<unsigned char>(s[n - back]);
        if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
        if (b >= 0xC0 && char_length(b) > back) return n - back;
        return n;
    }
    return n;
}

} // namespace llmhost::tok::utf8
