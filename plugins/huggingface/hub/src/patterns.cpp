// fnmatchcase semantics (Python translates the glob to a regex where '*' is '.*').
#include "patterns.hpp"

#include <optional>

namespace llmhost::hub::detail {

namespace {
// Matches one bracket expression at pattern[pi] ('[' ...) against character c. Returns the index
// past ']' and whether it matched, or nullopt when the bracket is unterminated (a literal '[').
std::optional<std::pair<std::size_t, bool>> match_bracket(std::string_view p, std::size_t pi, char c) {
    std::size_t i = pi + 1;
    bool negate = false;
    if (i < p.size() && p[i] == '!') {
        negate = true;
        ++i;
    }
    std::size_t first = i;
    // Python: a ']' right after '[' or '[!' is a literal member.
    if (i < p.size() && p[i] == ']') ++i;
    while (i < p.size() && p[i] != ']') ++i;
    if (i >= p.size()) return std::nullopt;
    bool matched = false;
    for (std::size_t k = first; k < i; ++k) {
        if (k + 2 < i && p[k + 1] == '-') {
            if (p[k] <= c && c <= p[k + 2]) matched = true;
            k += 2;
        } else if (p[k] == c) {
            matched = true;
        }
    }
    return std::make_pair(i + 1, matched != negate);
}
} // namespace

bool fnmatch_case(std::string_view p, std::string_view s) {
    // Iterative glob matching with backtracking to the last '*' (linear in practice).
    std::size_t pi = 0, si = 0;
    std::size_t star_p = std::string_view::npos, star_s = 0;
    while (si < s.size()) {
        if (pi < p.size()) {
            char pc = p[pi];
            if (pc == '*') {
                star_p = pi++;
                star_s = si;
                continue;
            }
            if (pc == '?') {
                ++pi;
                ++si;
                continue;
            }
            if (pc == '[') {
                if (auto r = match_bracket(p, pi, s[si])) {
                    if (r->second) {
                        pi = r->first;
                        ++si;
                        continue;
                    }
                } else if (s[si] == '[') { // unterminated: literal
                    ++pi;
                    ++si;
                    continue;
                }
            } else if (pc == s[si]) {
                ++pi;
                ++si;
                continue;
            }
        }
        if (star_p == std::string_view::npos) return false;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

std::string normalize_pattern(std::string pattern) {
    for (auto &c : pattern)
        if (c == '\\') c = '/';
    if (!pattern.empty() && pattern.back() == '/') pattern += '*';
    return pattern;
}

bool keep_path(const std::string &path, const std::vector<std::string> &allow,
               const std::vector<std::string> &ignore) {
    if (!allow.empty()) {
        bool any = false;
        for (const auto &a : allow)
            if (fnmatch_case(normalize_pattern(a), path)) {
                any = true;
                break;
            }
        if (!any) return false;
    }
    for (const auto &i : ignore)
        if (fnmatch_case(normalize_pattern(i), path)) return false;
    return true;
}

} // namespace llmhost::hub::detail
