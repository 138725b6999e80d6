// Regex syntax -> AST (regex.hpp): the code point set helpers, the AST builders and the
// ECMAScript-like pattern parser. Compiling the AST to a byte-level DFA is regex_compile.cpp.
#include "regex.hpp"

#include "llmhost/constraint/constraint.hpp"

#include <algorithm>

namespace llmhost::constraint {

CpSet cpset_normalize(CpSet s) {
    std::sort(s.begin(), s.end());
    CpSet out;
    for (auto r : s) {
        if (!out.empty() && r.first <= out.back().second + 1)
            out.back().second = std::max(out.back().second, r.second);
        else
            out.push_back(r);
    }
    return out;
}

CpSet cpset_negate(const CpSet &s) {
    CpSet out;
    uint32_t next = 0;
    for (auto [lo, hi] : s) {
        if (lo > next) out.push_back({next, lo - 1});
        next = hi + 1;
    }
    if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
    return out;
}

Re re_set(CpSet s) {
    Re r;
    r.kind = Re::Set;
    r.set = cpset_normalize(std::move(s));
    return r;
}
Re re_cat(std::vector<Re> kids) {
    if (kids.size() == 1) return std::move(kids[0]);
    Re r;
    r.kind = Re::Cat;
    r.kids = std::move(kids);
    return r;
}
Re re_alt(std::vector<Re> kids) {
    if (kids.size() == 1) return std::move(kids[0]);
    Re r;
    r.kind = Re::Alt;
    r.kids = std::move(kids);
    return r;
}
Re re_rep(Re kid, int min, int max) {
    Re r;
    r.kind = Re::Rep;
    r.min = min;
    r.max = max;
    r.kids.push_back(std::move(kid));
    return r;
}
Re re_any_char() { return re_set({{0, 0x10FFFF}}); }

Re re_literal(std::string_view s) {
    // Bytes as code points would mangle UTF-8: decode first (invalid bytes stay single bytes by
    // mapping them to their own value, which cannot occur in schema text from a JSON parser).
    std::vector<Re> kids;
    for (std::size_t i = 0; i < s.size();) {
        uint8_t c = static_cast<uint8_t>(s[i]);
        uint32_t cp = c;
        std::size_t n = 1;
        if (c >= 0xF0 && i + 3 < s.size() + 0) {
            cp = ((c & 7u) << 18) | ((s[i + 1] & 63u) << 12) | ((s[i + 2] & 63u) << 6) |
                 (s[i + 3] & 63u);
            n = 4;
        } else if (c >= 0xE0 && i + 2 < s.size()) {
            cp = ((c & 15u) << 12) | ((s[i + 1] & 63u) << 6) | (s[i + 2] & 63u);
            n = 3;
        } else if (c >= 0xC0 && i + 1 < s.size()) {
            cp = ((c & 31u) << 6) | (s[i + 1] & 63u);
            n = 2;
        }
        kids.push_back(re_set({{cp, cp}}));
        i += n;
    }
    Re r;
    r.kind = Re::Cat;
    r.kids = std::move(kids);
    return r;
}

namespace {

struct Parser {
    std::string_view p;
    std::size_t i = 0;
    const std::string &keyword;
    const std::string &pointer;

    [[noreturn]] void fail(const std::string &why) {
        throw CompileError(keyword, pointer,
                           "regex /" + std::string(p) + "/ at " + std::to_string(i) + ": " + why);
    }
    bool eof() const { return i >= p.size(); }
    uint32_t next_cp() {
        uint8_t c = static_cast<uint8_t>(p[i]);
        if (c < 0x80) return p[i++];
        int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + n > p.size()) fail("invalid UTF-8");
        uint32_t cp = c & (0x3F >> (n - 1));
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(p[i + k]) & 63u);
        i += n;
        return cp;
    }
    uint32_t hex(int n) {
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
            if (eof()) fail("truncated escape");
            char c = p[i++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                v |= c - 'A' + 10;
            else
                fail("bad hex digit");
        }
        return v;
    }
    static CpSet digit() { return {{'0', '9'}}; }
    static CpSet word() {
        return cpset_normalize({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
    }
    static CpSet space() {
        return cpset_normalize({{'\t', '\r'},
                                {' ', ' '},
                                {0xA0, 0xA0},
                                {0x1680, 0x1680},
                                {0x2000, 0x200A},
                                {0x2028, 0x2029},
                                {0x202F, 0x202F},
                                {0x205F, 0x205F},
                                {0x3000, 0x3000},
                                {0xFEFF, 0xFEFF}});
    }
    // After a backslash. Returns a set (class escapes and single characters alike).
    CpSet escape(bool in_class) {
        if (eof()) fail("trailing backslash");
        char c = p[i++];
        switch (c) {
        case 'd': return digit();
        case 'D': return cpset_negate(digit());
        case 'w': return word();
        case 'W': return cpset_negate(word());
        case 's': return space();
        case 'S': return cpset_negate(space());
        case 'n': return {{'\n', '\n'}};
        case 't': return {{'\t', '\t'}};
        case 'r': return {{'\r', '\r'}};
        case 'f': return {{'\f', '\f'}};
        case 'v': return {{'\v', '\v'}};
        case '0': return {{0, 0}};
        case 'x': {
            uint32_t v = hex(2);
            return {{v, v}};
        }
        case 'u': {
            uint32_t v;
            if (!eof() && p[i] == '{') {
                ++i;
                v = 0;
                while (!eof() && p[i] != '}') v = v * 16 + hex(1);
                if (eof()) fail("unterminated \\u{");
                ++i;
            } else {
                v = hex(4);
            }
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail("unsupported code point escape");
            return {{v, v}};
        }
        case 'b':
            if (in_class) return {{8, 8}};
            fail("word boundary \\b is not supported");
        case 'B': fail("\\B is not supported");
        case 'p':
        case 'P': fail("Unicode property escapes are not supported");
        default:
            if (c >= '1' && c <= '9') fail("backreferences are not supported");
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                fail(std::string("unknown escape \\") + c);
            return {{static_cast<uint8_t>(c), static_cast<uint8_t>(c)}};
        }
    }
    CpSet klass() { // after '['
        bool neg = false;
        if (!eof() && p[i] == '^') {
            neg = true;
            ++i;
        }
        CpSet s;
        bool first = true;
        while (true) {
            if (eof()) fail("unterminated character class");
            if (p[i] == ']' && !first) {
                ++i;
                break;
            }
            first = false;
            CpSet item;
            bool single = true;
            uint32_t lo = 0;
            if (p[i] == '\\') {
                ++i;
                item = escape(true);
                single = item.size() == 1 && item[0].first == item[0].second;
                lo = item[0].first;
            } else {
                lo = next_cp();
                item = {{lo, lo}};
            }
            if (single && i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
                ++i;
                uint32_t hi;
                if (p[i] == '\\') {
                    ++i;
                    CpSet h = escape(true);
                    if (h.size() != 1 || h[0].first != h[0].second) fail("bad class range");
                    hi = h[0].first;
                } else {
                    hi = next_cp();
                }
                if (hi < lo) fail("class range out of order");
                item = {{lo, hi}};
            }
            s.insert(s.end(), item.begin(), item.end());
        }
        s = cpset_normalize(s);
        return neg ? cpset_negate(s) : s;
    }
    int number() {
        if (eof() || p[i] < '0' || p[i] > '9') fail("expected a number");
        long v = 0;
        while (!eof() && p[i] >= '0' && p[i] <= '9') {
            v = v * 10 + (p[i++] - '0');
            if (v > 100000) fail("repetition count too large");
        }
        return static_cast<int>(v);
    }
    Re atom() {
        char c = p[i];
        if (c == '(') {
            ++i;
            if (!eof() && p[i] == '?') {
                if (i + 1 < p.size() && p[i + 1] == ':')
                    i += 2;
                else if (i + 1 < p.size() && p[i + 1] == '<' && i + 2 < p.size() &&
                         p[i + 2] != '=' && p[i + 2] != '!') {
                    while (!eof() && p[i] != '>') ++i; // named group: the name does not matter
                    if (eof()) fail("unterminated group name");
                    ++i;
                } else
                    fail("lookaround is not supported");
            }
            Re r = alt();
            if (eof() || p[i] != ')') fail("missing )");
            ++i;
            return r;
        }
        if (c == '[') {
            ++i;
            return re_set(klass());
        }
        if (c == '.') {
            ++i;
            return re_set(cpset_negate({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
        }
        if (c == '\\') {
            ++i;
            return re_set(escape(false));
        }
        if (c == '^' || c == '$') fail("anchors are only supported at the start and end");
        if (c == '*' || c == '+' || c == '?' || c == '{') fail("nothing to repeat");
        uint32_t cp = next_cp();
        return re_set({{cp, cp}});
    }
    Re repeat() {
        Re a = atom();
        while (!eof()) {
            char c = p[i];
            int lo, hi;
            if (c == '*')
                lo = 0, hi = -1, ++i;
            else if (c == '+')
                lo = 1, hi = -1, ++i;
            else if (c == '?')
                lo = 0, hi = 1, ++i;
            else if (c == '{' && i + 1 < p.size() && p[i + 1] >= '0' && p[i + 1] <= '9') {
                ++i;
                lo = number();
                hi = lo;
                if (!eof() && p[i] == ',') {
                    ++i;
                    hi = (!eof() && p[i] == '}') ? -1 : number();
                }
                if (eof() || p[i] != '}') fail("bad {n,m}");
                ++i;
                if (hi >= 0 && hi < lo) fail("{n,m} with m < n");
            } else
                break;
            if (!eof() && p[i] == '?') ++i; // lazy: same language
            if (!eof() && p[i] == '+') fail("possessive quantifiers are not supported");
            a = re_rep(std::move(a), lo, hi);
        }
        return a;
    }
    Re seq() {
        std::vector<Re> kids;
        while (!eof() && p[i] != '|' && p[i] != ')') {
            // An end anchor closes a top-level alternative (parse_regex checks the depth).
            if (p[i] == '$' && (i + 1 == p.size() || p[i + 1] == '|')) break;
            kids.push_back(repeat());
        }
        Re r;
        r.kind = Re::Cat;
        r.kids = std::move(kids);
        return r;
    }
    Re alt() {
        std::vector<Re> alts{seq()};
        while (!eof() && p[i] == '|') {
            ++i;
            alts.push_back(seq());
        }
        return re_alt(std::move(alts));
    }
};

} // namespace

Re parse_regex(std::string_view pattern, bool search, const std::string &keyword,
               const std::string &pointer) {
    Parser ps{pattern, 0, keyword, pointer};
    // Anchors belong to top-level alternatives: "^a|b$" is (^a)|(b$), so as a search it is
    // a.* | .*b, not ^(a|b)$. Alternatives anchored alike share one wrapping (.*(a|b).*, not
    // .*a.*|.*b.*, which determinizes into far more states).
    std::vector<Re> groups[2][2];
    while (true) {
        bool start_anchor = false, end_anchor = false;
        if (!ps.eof() && pattern[ps.i] == '^') {
            start_anchor = true;
            ++ps.i;
        }
        Re body = ps.seq();
        if (!ps.eof() && pattern[ps.i] == '$' &&
            (ps.i + 1 == pattern.size() || pattern[ps.i + 1] == '|')) {
            end_anchor = true;
            ++ps.i;
        }
        groups[search && start_anchor][search && end_anchor].push_back(std::move(body));
        if (ps.eof() || pattern[ps.i] != '|') break;
        ++ps.i;
    }
    if (!ps.eof())
        ps.fail(pattern[ps.i] == ')' ? "unbalanced )"
                                     : "anchors are only supported at the start and end");
    std::vector<Re> alts;
    for (int sa = 0; sa < 2; ++sa)
        for (int ea = 0; ea < 2; ++ea) {
            if (groups[sa][ea].empty()) continue;
            Re body = re_alt(std::move(groups[sa][ea]));
            if (!search) {
                alts.push_back(std::move(body));
                continue;
            }
            std::vector<Re> parts;
            if (!sa) parts.push_back(re_rep(re_any_char(), 0, -1));
            parts.push_back(std::move(body));
            if (!ea) parts.push_back(re_rep(re_any_char(), 0, -1));
            alts.push_back(re_cat(std::move(parts)));
        }
    return re_alt(std::move(alts));
}

} // namespace llmhost::constraint
