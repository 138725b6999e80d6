// NFC = canonical decomposition, canonical ordering, canonical composition (UAX #15). Hangul
// syllables are handled algorithmically; everything else comes from the generated tables.
#include "unicode_nfc.hpp"

#include "unicode_nfc_tables.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace llmhost::tok {
namespace {

using namespace nfc_data;

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

uint8_t combining_class(uint32_t cp) {
    if (cp < 0x300) return 0;
    auto it = std::upper_bound(ccc_ranges, ccc_ranges + ccc_ranges_count, cp,
                               [](uint32_t c, const CccRange &r) { return c < r.first; });
    if (it == ccc_ranges) return 0;
    --it;
    return cp <= it->last ? static_cast<uint8_t>(it->ccc) : 0;
}

bool is_unsafe(uint32_t cp) {
    if (cp < 0x300) return false;
    auto it = std::upper_bound(unsafe_ranges, unsafe_ranges + unsafe_ranges_count, cp,
                               [](uint32_t c, const CodeRange &r) { return c < r.first; });
    if (it == unsafe_ranges) return false;
    --it;
    return cp <= it->last;
}

void decompose(uint32_t cp, std::vector<uint32_t> &out) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
        uint32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount) out.push_back(kTBase + s % kTCount);
        return;
    }
    auto it = std::lower_bound(decompositions, decompositions + decompositions_count, cp,
                               [](const Decomposition &d, uint32_t c) { return d.cp < c; });
    if (it == decompositions + decompositions_count || it->cp != cp) {
        out.push_back(cp);
        return;
    }
    decompose(it->first, out);
    if (it->second) decompose(it->second, out);
}

// Primary composite of (a, b), or 0.
uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
        b < kTBase + kTCount)
        return a + (b - kTBase);
    auto it = std::lower_bound(compositions, compositions + compositions_count, std::pair{a, b},
                               [](const Composition &c, std::pair<uint32_t, uint32_t> k) {
                                   return c.first != k.first ? c.first < k.first : c.second < k.second;
                               });
    if (it != compositions + compositions_count && it->first == a && it->second == b)
        return it->composite;
    return 0;
}

// Normalizes one chunk (a starter followed by characters that may interact with it).
void normalize_chunk(std::string_view chunk, std::string &out) {
    std::vector<uint32_t> cps;
    for (std::size_t i = 0; i < chunk.size();) decompose(utf8::next(chunk, i), cps);
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (std::size_t i = 0; i < cps.size();) {
        if (combining_class(cps[i]) == 0) { ++i; continue; }
        std::size_t j = i;
        while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
        std::stable_sort(cps.begin() + i, cps.begin() + j,
                         [](uint32_t x, uint32_t y) { return combining_class(x) < combining_class(y); });
        i = j;
    }
    // Canonical composition.
    std::vector<uint32_t> res;
    res.reserve(cps.size());
    std::ptrdiff_t starter = -1;
    int last_ccc = -1;
    for (uint32_t cp : cps) {
        int ccc = combining_class(cp);
        if (starter >= 0) {
            bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= ccc);
            if (!blocked) {
                if (uint32_t c = compose_pair(res[starter], cp)) {
                    res[starter] = c;
                    continue;
                }
            }
        }
        if (ccc == 0) {
            starter = static_cast<std::ptrdiff_t>(res.size());
            last_ccc = -1;
        } else {
            last_ccc = ccc;
        }
        res.push_back(cp);
    }
    for (uint32_t cp : res) utf8::append(out, cp);
}

} // namespace

bool nfc_quick_check(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0xCC) { // below U+0300 in every position
            i += utf8::char_length(static_cast<unsigned char>(text[i]));
            continue;
        }
        if (is_unsafe(utf8::next(text, i))) return false;
    }
    return true;
}

std::string nfc(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0, i = 0, last_safe = 0;
    while (i < text.size()) {
        std::size_t start = i;
        uint32_t cp = utf8::next(text, i);
        if (!is_unsafe(cp)) { last_safe = start; continue; }
        // Chunk: from the last inert character (it may compose with what follows) through the
        // run of characters that are not inert.
        std::size_t chunk_begin = std::max(last_safe, copied);
        std::size_t end = i;
        while (end < text.size()) {
            std::size_t k = end;
            if (!is_unsafe(utf8::next(text, k))) break;
            end = k;
        }
        out.append(text.substr(copied, chunk_begin - copied));
        normalize_chunk(text.substr(chunk_begin, end - chunk_begin), out);
        copied = end;
        i = end;
        last_safe = end;
    }
    out.append(text.substr(copied));
    return out;
}

const char *nfc_unicode_version() { return nfc_data::unicode_version; }

} // namespace llmhost::tok
