#include "int_range.hpp"

#include <vector>

namespace llmhost::constraint {

namespace {

// Same-length digit strings a <= b: alternatives covering exactly [a, b].
std::string same_len(const std::string &a, const std::string &b) {
    if (a.size() == 1) return a == b ? a : "[" + a + "-" + b + "]";
    if (a[0] == b[0]) return std::string(1, a[0]) + "(" + same_len(a.substr(1), b.substr(1)) + ")";
    const std::size_t rest = a.size() - 1;
    std::vector<std::string> alts;
    std::string nines(rest, '9'), zeros(rest, '0');
    alts.push_back(std::string(1, a[0]) + "(" + same_len(a.substr(1), nines) + ")");
    if (b[0] - a[0] > 1) {
        std::string mid = b[0] - a[0] == 2
                              ? std::string(1, static_cast<char>(a[0] + 1))
                              : "[" + std::string(1, static_cast<char>(a[0] + 1)) + "-" +
                                    std::string(1, static_cast<char>(b[0] - 1)) + "]";
        alts.push_back(mid + "[0-9]{" + std::to_string(rest) + "}");
    }
    alts.push_back(std::string(1, b[0]) + "(" + same_len(zeros, b.substr(1)) + ")");
    std::string s;
    for (std::size_t i = 0; i < alts.size(); ++i) s += (i ? "|" : "") + alts[i];
    return s;
}

// Non-negative [a, b] (b = nullopt: unbounded), as alternatives.
std::string non_negative(uint64_t a, std::optional<uint64_t> b) {
    std::vector<std::string> alts;
    std::string as = std::to_string(a);
    const std::size_t max_len = b ? std::to_string(*b).size() : as.size();
    for (std::size_t len = as.size(); len <= max_len; ++len) {
        uint64_t lo_len = len == 1 ? 0 : 1;
        for (std::size_t k = 1; k < len; ++k) lo_len *= 10;
        uint64_t hi_len = 9;
        for (std::size_t k = 1; k < len; ++k) hi_len = hi_len * 10 + 9;
        uint64_t lo = std::max<uint64_t>(a, lo_len);
        uint64_t hi = b ? std::min<uint64_t>(*b, hi_len) : hi_len;
        if (len == 20) hi = b ? *b : UINT64_MAX;
        if (lo > hi) continue;
        alts.push_back("(" + same_len(std::to_string(lo), std::to_string(hi)) + ")");
    }
    if (!b) alts.push_back("[1-9][0-9]{" + std::to_string(as.size()) + ",}");
    std::string s;
    for (std::size_t i = 0; i < alts.size(); ++i) s += (i ? "|" : "") + alts[i];
    return s;
}

uint64_t magnitude(int64_t v) {
    return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

} // namespace

std::string int_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi) {
    std::vector<std::string> alts;
    // Negative part: -(magnitudes in [max(1, -hi), -lo]).
    if (!lo || *lo < 0) {
        uint64_t from = (hi && *hi < 0) ? magnitude(*hi) : 1;
        std::optional<uint64_t> to;
        if (lo) to = magnitude(*lo);
        alts.push_back("-(" + non_negative(from, to) + ")");
    }
    // Non-negative part.
    if (!hi || *hi >= 0) {
        uint64_t from = (lo && *lo > 0) ? static_cast<uint64_t>(*lo) : 0;
        std::optional<uint64_t> to;
        if (hi) to = static_cast<uint64_t>(*hi);
        alts.push_back(non_negative(from, to));
    }
    std::string s;
    for (std::size_t i = 0; i < alts.size(); ++i) s += (i ? "|" : "") + alts[i];
    return s;
}

std::string number_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi) {
    const std::string any_frac = "(\\.[0-9]+)?", zero_frac = "(\\.0+)?", exp = "([eE][+-]?[0-9]+)?";
    std::vector<std::string> alts;
    // Written without '-': value I.F, I >= 0. I.F >= lo <=> I >= lo; I.F <= hi <=> I < hi or
    // (I == hi and F == 0).
    if (!hi || *hi >= 0) {
        const uint64_t a = (lo && *lo > 0) ? static_cast<uint64_t>(*lo) : 0;
        if (!hi) {
            const bool free = !lo || *lo <= 0; // every non-negative value qualifies
            alts.push_back("(" + non_negative(a, std::nullopt) + ")" + any_frac +
                           (free ? exp : ""));
        } else {
            const uint64_t h = static_cast<uint64_t>(*hi);
            if (h >= a + 1) alts.push_back("(" + non_negative(a, h - 1) + ")" + any_frac);
            if (h >= a) alts.push_back(std::to_string(h) + zero_frac);
        }
    }
    // Written with '-': value -(M.F). -(M.F) <= hi (< 0) <=> M >= -hi; -(M.F) >= lo <=> M < -lo or
    // (M == -lo and F == 0).
    if (!lo || *lo <= 0) {
        const uint64_t m = (hi && *hi < 0) ? magnitude(*hi) : 0;
        if (!lo) {
            const bool free = !hi || *hi >= 0;
            alts.push_back("-(" + non_negative(m, std::nullopt) + ")" + any_frac +
                           (free ? exp : ""));
        } else {
            const uint64_t l = magnitude(*lo);
            if (l >= m + 1) alts.push_back("-(" + non_negative(m, l - 1) + ")" + any_frac);
            if (l >= m) alts.push_back("-" + std::to_string(l) + zero_frac);
        }
    }
    std::string s;
    for (std::size_t i = 0; i < alts.size(); ++i) s += (i ? "|" : "") + alts[i];
    return s;
}

} // namespace llmhost::constraint
