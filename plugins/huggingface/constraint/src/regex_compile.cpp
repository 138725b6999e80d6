// Regex AST -> byte-level DFA (regex.hpp): code point sets split into UTF-8 byte ranges, the
// JSON-string escapes of ReMode::JsonString, then determinization. The syntax side is regex.cpp.
#include "regex.hpp"

#include "llmhost/constraint/constraint.hpp"

#include <algorithm>
#include <functional>

namespace llmhost::constraint {

namespace {

// UTF-8 byte-range sequences for the code points lo..hi (same encoded length, no surrogates).
void utf8_split(uint32_t lo, uint32_t hi,
                const std::function<void(const std::vector<std::pair<uint8_t, uint8_t>> &)> &emit) {
    static const uint32_t bounds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
    for (int n = 0; n < 4; ++n) {
        uint32_t start = n == 0 ? 0 : bounds[n - 1] + 1;
        if (lo < start && hi >= start) {
            utf8_split(lo, start - 1, emit);
            utf8_split(start, hi, emit);
            return;
        }
    }
    if (lo <= 0xDFFF && hi >= 0xD800) {
        if (lo < 0xD800) utf8_split(lo, 0xD7FF, emit);
        if (hi > 0xDFFF) utf8_split(0xE000, hi, emit);
        return;
    }
    if (hi <= 0x7F) {
        emit({{static_cast<uint8_t>(lo), static_cast<uint8_t>(hi)}});
        return;
    }
    int n = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4;
    for (int k = 1; k < n; ++k) {
        uint32_t m = (1u << (6 * k)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if ((lo & m) != 0) {
                utf8_split(lo, lo | m, emit);
                utf8_split((lo | m) + 1, hi, emit);
                return;
            }
            if ((hi & m) != m) {
                utf8_split(lo, (hi & ~m) - 1, emit);
                utf8_split(hi & ~m, hi, emit);
                return;
            }
        }
    }
    auto enc = [n](uint32_t c) {
        std::vector<uint8_t> b(n);
        for (int k = n - 1; k > 0; --k) {
            b[k] = static_cast<uint8_t>(0x80 | (c & 63));
            c >>= 6;
        }
        b[0] = static_cast<uint8_t>((n == 2 ? 0xC0 : n == 3 ? 0xE0 : 0xF0) | c);
        return b;
    };
    auto a = enc(lo), z = enc(hi);
    std::vector<std::pair<uint8_t, uint8_t>> seq;
    for (int k = 0; k < n; ++k) seq.push_back({a[k], z[k]});
    emit(seq);
}

struct Emitter {
    Nfa &nfa;
    ReMode mode;

    void byte_seq(int32_t from, int32_t to, const std::vector<std::pair<uint8_t, uint8_t>> &seq) {
        int32_t cur = from;
        for (std::size_t k = 0; k < seq.size(); ++k) {
            int32_t nxt = k + 1 == seq.size() ? to : nfa.add();
            nfa.edge(cur, seq[k].first, seq[k].second, nxt);
            cur = nxt;
        }
    }
    void raw_set(int32_t from, int32_t to, const CpSet &s) {
        for (auto [lo, hi] : s)
            utf8_split(lo, hi, [&](const auto &seq) { byte_seq(from, to, seq); });
    }
    static bool has(const CpSet &s, uint32_t c) {
        for (auto [lo, hi] : s)
            if (c >= lo && c <= hi) return true;
        return false;
    }
    void set(int32_t from, int32_t to, const CpSet &s) {
        if (mode == ReMode::Raw) {
            raw_set(from, to, s);
            return;
        }
        // Raw where JSON allows it: not '"', not '\\', not a control character.
        CpSet raw;
        for (auto [lo, hi] : s) {
            uint32_t a = std::max<uint32_t>(lo, 0x20);
            if (a > hi) continue;
            CpSet piece{{a, hi}};
            CpSet cut;
            for (auto [x, y] : piece) {
                uint32_t cur = x;
                for (uint32_t bad : {0x22u, 0x5Cu}) {
                    if (bad < cur || bad > y) continue;
                    if (bad > cur) cut.push_back({cur, bad - 1});
                    cur = bad + 1;
                }
                if (cur <= y) cut.push_back({cur, y});
            }
            raw.insert(raw.end(), cut.begin(), cut.end());
        }
        raw_set(from, to, raw);
        static const std::pair<uint32_t, char> shorts[] = {{'"', '"'}, {'\\', '\\'}, {'/', '/'},
                                                           {8, 'b'},   {12, 'f'},    {10, 'n'},
                                                           {13, 'r'},  {9, 't'}};
        int32_t bs = -1;
        auto backslash = [&] {
            if (bs < 0) {
                bs = nfa.add();
                nfa.edge(from, '\\', '\\', bs);
            }
            return bs;
        };
        for (auto [cp, letter] : shorts)
            if (has(s, cp))
                nfa.edge(backslash(), static_cast<uint8_t>(letter), static_cast<uint8_t>(letter),
                         to);
        // \u00XX for ASCII members, grouped by the high nibble.
        int32_t u00 = -1;
        for (uint32_t h = 0; h < 8; ++h) {
            std::vector<uint32_t> lows;
            for (uint32_t l = 0; l < 16; ++l)
                if (has(s, h * 16 + l)) lows.push_back(l);
            if (lows.empty()) continue;
            if (u00 < 0) {
                int32_t a = nfa.add(), b = nfa.add();
                u00 = nfa.add();
                nfa.edge(backslash(), 'u', 'u', a);
                nfa.edge(a, '0', '0', b);
                nfa.edge(b, '0', '0', u00);
            }
            int32_t hs = nfa.add();
            nfa.edge(u00, static_cast<uint8_t>('0' + h), static_cast<uint8_t>('0' + h), hs);
            for (uint32_t l : lows) {
                if (l < 10)
                    nfa.edge(hs, static_cast<uint8_t>('0' + l), static_cast<uint8_t>('0' + l), to);
                else {
                    nfa.edge(hs, static_cast<uint8_t>('a' + l - 10),
                             static_cast<uint8_t>('a' + l - 10), to);
                    nfa.edge(hs, static_cast<uint8_t>('A' + l - 10),
                             static_cast<uint8_t>('A' + l - 10), to);
                }
            }
        }
    }
    void build(const Re &r, int32_t from, int32_t to) {
        switch (r.kind) {
        case Re::Set: set(from, to, r.set); return;
        case Re::Cat: {
            if (r.kids.empty()) {
                nfa.eps(from, to);
                return;
            }
            int32_t cur = from;
            for (std::size_t k = 0; k < r.kids.size(); ++k) {
                int32_t nxt = k + 1 == r.kids.size() ? to : nfa.add();
                build(r.kids[k], cur, nxt);
                cur = nxt;
            }
            return;
        }
        case Re::Alt:
            for (const Re &k : r.kids) {
                // Fresh entry states keep one alternative's loops from leaking into another.
                int32_t a = nfa.add(), b = nfa.add();
                nfa.eps(from, a);
                nfa.eps(b, to);
                build(k, a, b);
            }
            return;
        case Re::Rep: {
            int32_t cur = from;
            for (int k = 0; k < r.min; ++k) {
                int32_t nxt = nfa.add();
                build(r.kids[0], cur, nxt);
                cur = nxt;
            }
            if (r.max < 0) {
                int32_t loop = nfa.add(), body_end = nfa.add();
                nfa.eps(cur, loop);
                build(r.kids[0], loop, body_end);
                nfa.eps(body_end, loop);
                nfa.eps(loop, to);
            } else {
                for (int k = r.min; k < r.max; ++k) {
                    int32_t nxt = nfa.add();
                    nfa.eps(cur, to);
                    build(r.kids[0], cur, nxt);
                    cur = nxt;
                }
                nfa.eps(cur, to);
            }
            return;
        }
        }
    }
};

} // namespace

Dfa compile_re(const Re &re, ReMode mode, const std::string &keyword, const std::string &pointer,
               std::size_t max_states, bool quoted) {
    Nfa nfa;
    try {
        int32_t s = nfa.add(), t = nfa.add();
        if (quoted) {
            int32_t a = nfa.add(), z = nfa.add();
            nfa.edge(s, '"', '"', a);
            nfa.edge(z, '"', '"', t);
            Emitter{nfa, mode}.build(re, a, z);
        } else {
            Emitter{nfa, mode}.build(re, s, t);
        }
        return determinize(nfa, s, t, max_states, keyword, pointer);
    } catch (const CompileError &e) {
        if (e.keyword() == keyword) throw;
        throw CompileError(keyword, pointer, e.what());
    }
}

} // namespace llmhost::constraint
