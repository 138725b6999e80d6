// The mask walk. Generic case: step the whole stack set per trie edge. Fast case — one stack
// whose top is inside a lexeme (a string body, a number): step only that DFA (one table lookup
// per trie node), and consult the parser only where the lexeme may end AND the next byte can
// start what follows it (first_bytes of the exit state). Allowedness is existential over
// stacks, so the union of the two walks is exact.
#include "matcher_state.hpp"

#include "constraint_impl.hpp"

namespace llmhost::constraint {

namespace {

struct Walker {
    Parser &parser;
    const VocabularyImpl &v;
    std::span<uint32_t> mask;

    void mark(uint32_t node) {
        for (uint32_t k = v.tok_begin[node]; k < v.tok_begin[node + 1]; ++k) {
            const int32_t id = v.toks[k];
            mask[static_cast<std::size_t>(id) >> 5] |= 1u << (id & 31);
        }
    }

    void walk(uint32_t node, const PState &s) {
        if (s.tops.size() == 1) {
            fast(node, s.tops[0]);
            return;
        }
        generic(node, s);
    }

    void generic(uint32_t node, const PState &s) {
        PState next;
        for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
            const std::size_t mark_arena = parser.arena.size();
            parser.step(s, v.node_byte[c], next);
            if (next.alive()) {
                mark(c);
                if (!next.tops.empty() && v.node_end[c] > c + 1) walk(c, next);
            }
            parser.arena.resize(mark_arena);
        }
    }

    struct Fast {
        int32_t top;
        PNode frame;
        const Dfa *dfa;
        bool exit_ready = false;
        PState exit; // the state right after the lexeme ends (tops below this one)
        ByteSet exit_first{};
    };

    void fast(uint32_t node, int32_t top) {
        Fast f;
        f.top = top;
        f.frame = parser.arena[top];
        f.dfa = &parser.grammar().dfas[parser.grammar().alts[f.frame.alt].elems[f.frame.idx]];
        const std::size_t mark_arena = parser.arena.size();
        fast_rec(f, node, f.frame.q);
        parser.arena.resize(mark_arena);
    }

    void fast_rec(Fast &f, uint32_t node, int32_t q) {
        const Dfa &d = *f.dfa;
        const bool acc = d.accepting[q];
        if (acc && !f.exit_ready) {
            parser.push_pos(f.frame.alt, f.frame.idx + 1, f.frame.parent, f.exit);
            parser.finish(f.exit);
            f.exit_first = parser.first_bytes(f.exit);
            f.exit_ready = true;
        }
        const int32_t *row = &d.next[static_cast<std::size_t>(q) * 256];
        for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
            const uint8_t b = v.node_byte[c];
            const int32_t q2 = row[b];
            if (acc && byteset_has(f.exit_first, b)) {
                // Both the lexeme and what follows it may take b: the general walk.
                const std::size_t mark_arena = parser.arena.size();
                PState both;
                if (q2 >= 0) {
                    parser.arena.push_back({f.frame.alt, f.frame.idx, q2, f.frame.parent});
                    both.tops.push_back(static_cast<int32_t>(parser.arena.size() - 1));
                    if (d.accepting[q2])
                        parser.push_pos(f.frame.alt, f.frame.idx + 1, f.frame.parent, both);
                }
                PState after;
                parser.step(f.exit, b, after);
                both.tops.insert(both.tops.end(), after.tops.begin(), after.tops.end());
                both.accept = both.accept || after.accept;
                parser.finish(both);
                if (both.alive()) {
                    mark(c);
                    if (!both.tops.empty() && v.node_end[c] > c + 1) walk(c, both);
                }
                parser.arena.resize(mark_arena);
            } else if (q2 >= 0) {
                mark(c);
                if (v.node_end[c] > c + 1) fast_rec(f, c, q2);
            }
        }
    }
};

// The bits set, over the whole vocabulary on every mask: without -mpopcnt, __builtin_popcount
// is a libgcc call per word (~2% of a MaskBench run), so the POPCNT instruction is used where
// the CPU has it.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt"))) std::size_t count_bits_popcnt(std::span<const uint32_t> m) {
    std::size_t n = 0;
    for (uint32_t word : m) n += static_cast<std::size_t>(__builtin_popcount(word));
    return n;
}
#endif

std::size_t count_bits(std::span<const uint32_t> m) {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has_popcnt = __builtin_cpu_supports("popcnt");
    if (has_popcnt) return count_bits_popcnt(m);
#endif
    std::size_t n = 0;
    for (uint32_t word : m) n += static_cast<std::size_t>(__builtin_popcount(word));
    return n;
}

} // namespace

// From the root, each top is handled alone (allowedness is a union over stacks) through the
// shared lexeme cache: the tokens inside the lexeme are a cached bitset, and only the cached exit
// nodes whose byte can follow the lexeme here are walked with the parser.
static void cached_top(Walker &w, const ConstraintImpl &impl, int32_t top) {
    Parser &parser = w.parser;
    const PNode f = parser.arena[top];
    const int32_t dfa = parser.grammar().alts[f.alt].elems[f.idx];
    const LexemeMask *lm = impl.lexeme_mask(dfa, f.q);
    if (!lm) {
        w.fast(0, top);
        return;
    }
    if (!lm->dense.empty())
        for (std::size_t i = 0; i < lm->dense.size(); ++i) w.mask[i] |= lm->dense[i];
    for (int32_t id : lm->ids) w.mask[static_cast<std::size_t>(id) >> 5] |= 1u << (id & 31);
    if (lm->exits.empty()) return;
    const std::size_t mark_arena = parser.arena.size();
    PState exit;
    parser.push_pos(f.alt, f.idx + 1, f.parent, exit);
    parser.finish(exit);
    const ByteSet first = parser.first_bytes(exit);
    PState after;
    for (int b = 0; b < 256; ++b) {
        if (!byteset_has(first, static_cast<uint8_t>(b)) ||
            lm->exit_begin[b] == lm->exit_begin[b + 1])
            continue;
        const std::size_t mark_b = parser.arena.size();
        parser.step(exit, static_cast<uint8_t>(b), after);
        if (after.alive())
            for (uint32_t k = lm->exit_begin[b]; k < lm->exit_begin[b + 1]; ++k) {
                const uint32_t c = lm->exits[k];
                w.mark(c);
                if (!after.tops.empty() && w.v.node_end[c] > c + 1) w.walk(c, after);
            }
        parser.arena.resize(mark_b);
    }
    parser.arena.resize(mark_arena);
}

std::size_t compute_mask(Parser &parser, const PState &s, const ConstraintImpl &impl,
                         std::span<uint32_t> mask) {
    const std::size_t mark_arena = parser.arena.size();
    Walker w{parser, impl.vocabulary->impl(), mask};
    // Per top even when there are many (an object's keys in any order): each top's part is
    // mostly cached, while a generic walk would step every top at every trie node.
    for (int32_t top : s.tops) cached_top(w, impl, top);
    parser.arena.resize(mark_arena);
    return count_bits(mask);
}

} // namespace llmhost::constraint
