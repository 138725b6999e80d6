// The mask walk. Generic case: step the whole stack set per trie edge. Fast case — one stack
// whose top is inside a lexeme (a string body, a number): step only that DFA (one table lookup
// per trie node), and consult the parser only where the lexeme may end AND the next byte can
// start what follows it (first_bytes of the exit state). Allowedness is existential over
// stacks, so the union of the two walks is exact.
#include "matcher_state.hpp"

namespace llmhost::constraint {

namespace {

struct Walker {
    Parser &parser;
    const VocabularyImpl &v;
    std::span<uint32_t> mask;
    std::size_t count = 0;

    void mark(uint32_t node) {
        for (uint32_t k = v.tok_begin[node]; k < v.tok_begin[node + 1]; ++k) {
            int32_t id = v.toks[k];
            uint32_t &w = mask[static_cast<std::size_t>(id) >> 5];
            uint32_t bit = 1u << (id & 31);
            if (!(w & bit)) {
                w |= bit;
                ++count;
            }
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
                    if (d.accepting[q2]) parser.push_pos(f.frame.alt, f.frame.idx + 1, f.frame.parent, both);
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

} // namespace

std::size_t compute_mask(Parser &parser, const PState &s, const VocabularyImpl &vocab, std::span<uint32_t> mask) {
    const std::size_t mark_arena = parser.arena.size();
    Walker w{parser, vocab, mask};
    if (!s.tops.empty()) w.walk(0, s);
    parser.arena.resize(mark_arena);
    return w.count;
}

} // namespace llmhost::constraint
