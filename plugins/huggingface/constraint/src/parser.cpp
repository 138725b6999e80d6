#include "parser.hpp"

#include <algorithm>

namespace llmhost::constraint {

void Parser::add_top(int32_t alt, int32_t idx, int32_t q, int32_t parent, PState &out) {
    if (out.tops.size() >= max_stacks) {
        out.overflow = true;
        return;
    }
    arena.push_back({alt, idx, q, parent});
    out.tops.push_back(static_cast<int32_t>(arena.size() - 1));
    const GAlt &a = g_.alts[alt];
    if (g_.dfas[a.elems[idx]].accepting[q]) push_pos(alt, idx + 1, parent, out);
}

int32_t Parser::continuation(int32_t alt, int32_t idx, int32_t parent) {
    uint64_t h = (static_cast<uint64_t>(static_cast<uint32_t>(alt)) * 0x9E3779B97F4A7C15ull) ^
                 (static_cast<uint64_t>(static_cast<uint32_t>(idx)) * 0xC2B2AE3D27D4EB4Full) ^
                 (static_cast<uint64_t>(static_cast<uint32_t>(parent)) * 0x165667B19E3779F9ull);
    int32_t &slot = cons_[(h >> 32) & (cons_.size() - 1)];
    if (slot >= 0 && static_cast<std::size_t>(slot) < arena.size()) {
        const PNode &n = arena[slot];
        if (n.alt == alt && n.idx == idx && n.q == -1 && n.parent == parent) return slot;
    }
    arena.push_back({alt, idx, -1, parent});
    slot = static_cast<int32_t>(arena.size() - 1);
    return slot;
}

void Parser::push_pos(int32_t alt, int32_t idx, int32_t parent, PState &out) {
    while (true) {
        if (out.overflow) return;
        const GAlt &a = g_.alts[alt];
        if (idx == static_cast<int32_t>(a.elems.size())) {
            if (parent < 0) {
                out.accept = true;
                return;
            }
            const PNode p = arena[parent];
            alt = p.alt;
            idx = p.idx;
            parent = p.parent;
            continue;
        }
        Elem e = a.elems[idx];
        if (!elem_is_rule(e)) {
            add_top(alt, idx, g_.dfas[e].start, parent, out);
            return;
        }
        int32_t cont = parent;
        if (idx + 1 < static_cast<int32_t>(a.elems.size()))
            cont = continuation(alt, idx + 1, parent);
        const GRule &r = g_.rules[elem_rule(e)];
        for (int32_t sub : r.alts) push_pos(sub, 0, cont, out);
        return;
    }
}

void Parser::finish(PState &out) {
    if (out.tops.size() < 2) return;
    auto key = [&](int32_t n) {
        const PNode &p = arena[n];
        return std::tuple(p.alt, p.idx, p.q, p.parent);
    };
    std::sort(out.tops.begin(), out.tops.end(),
              [&](int32_t a, int32_t b) { return key(a) < key(b); });
    out.tops.erase(std::unique(out.tops.begin(), out.tops.end(),
                               [&](int32_t a, int32_t b) { return key(a) == key(b); }),
                   out.tops.end());
}

PState Parser::initial() {
    PState s;
    for (int32_t a : g_.rules[g_.root].alts) push_pos(a, 0, -1, s);
    finish(s);
    return s;
}

void Parser::step(const PState &s, uint8_t b, PState &out) {
    out.tops.clear();
    out.accept = false;
    out.overflow = false;
    for (int32_t n : s.tops) {
        const PNode p = arena[n];
        const Dfa &d = g_.dfas[g_.alts[p.alt].elems[p.idx]];
        int32_t q = d.step(p.q, b);
        if (q >= 0) add_top(p.alt, p.idx, q, p.parent, out);
    }
    if (out.overflow) {
        out.tops.clear();
        out.accept = false;
        return;
    }
    finish(out);
}

ByteSet Parser::first_bytes(const PState &s) const {
    ByteSet f{};
    for (int32_t n : s.tops) {
        const PNode &p = arena[n];
        const ByteSet &l = g_.dfas[g_.alts[p.alt].elems[p.idx]].live[p.q];
        for (int k = 0; k < 4; ++k) f[k] |= l[k];
    }
    return f;
}

uint32_t Parser::stack_cost(int32_t top) const {
    const PNode &p = arena[top];
    const GAlt &a = g_.alts[p.alt];
    uint64_t c = g_.dfas[a.elems[p.idx]].min_accept[p.q] + uint64_t{a.suffix_min[p.idx + 1]};
    for (int32_t n = p.parent; n >= 0; n = arena[n].parent)
        c += g_.alts[arena[n].alt].suffix_min[arena[n].idx];
    return static_cast<uint32_t>(std::min<uint64_t>(c, UINT32_MAX));
}

uint32_t Parser::min_bytes(const PState &s) const {
    if (s.accept) return 0;
    uint32_t best = UINT32_MAX;
    for (int32_t n : s.tops) best = std::min(best, stack_cost(n));
    return best;
}

std::string Parser::shortest(const PState &s) const {
    std::string out;
    if (s.accept || s.tops.empty()) return out;
    int32_t best = s.tops[0];
    for (int32_t n : s.tops)
        if (stack_cost(n) < stack_cost(best)) best = n;
    const PNode &p = arena[best];
    const GAlt &a = g_.alts[p.alt];
    g_.shortest_from_dfa(a.elems[p.idx], p.q, out);
    for (std::size_t i = p.idx + 1; i < a.elems.size(); ++i) g_.shortest(a.elems[i], out);
    for (int32_t n = p.parent; n >= 0; n = arena[n].parent) {
        const GAlt &c = g_.alts[arena[n].alt];
        for (std::size_t i = arena[n].idx; i < c.elems.size(); ++i) g_.shortest(c.elems[i], out);
    }
    return out;
}

} // namespace llmhost::constraint
