// Strict parsing of the benches' numeric options: the whole value must be a number in range, so
// that "5x", "abc" or "" is refused (the caller says which option) instead of read as 5 or 0.
// Header-only, shared by bench_generate and bench_kernels.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

// True and `out` set when `s` is a whole decimal integer in [lo, hi]; else false, `out` unchanged.
inline bool parse_int(const char *s, int &out, long lo = INT_MIN, long hi = INT_MAX) {
    if (!s || !*s) return false;
    char *end = nullptr;
    errno = 0;
    const long v = std::strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    out = static_cast<int>(v);
    return true;
}

// A comma-separated list of such integers ("1,2"): true and `out` appended with all of them, or
// false and `out` unchanged.
inline bool parse_int_list(const std::string &s, std::vector<int> &out, long lo = INT_MIN,
                           long hi = INT_MAX) {
    std::vector<int> got;
    for (std::size_t at = 0; at <= s.size();) {
        const std::size_t comma = std::min(s.find(',', at), s.size());
        int v = 0;
        if (!parse_int(s.substr(at, comma - at).c_str(), v, lo, hi)) return false;
        got.push_back(v);
        at = comma + 1;
    }
    out.insert(out.end(), got.begin(), got.end());
    return true;
}

} // namespace bench
