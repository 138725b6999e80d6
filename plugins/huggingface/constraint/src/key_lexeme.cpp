#include "key_lexeme.hpp"

#include "counted_string.hpp"

#include <algorithm>

namespace llmhost::constraint {

KeyView key_view(const Dfa &d) {
    const Dfa &B = any_string_dfa();
    const int32_t inside = B.step(B.start, '"');
    // Bounded work: the simulation is O(states x 256); key automata this large are left to the
    // generic walk.
    if (d.size() == 0 || d.size() > kMaxKeyViewStates) return {};
    KeyView kv;
    kv.b.assign(d.size(), -1);
    kv.name_end.assign(d.size(), 0);
    std::vector<int32_t> todo{d.start};
    kv.b[d.start] = B.start;
    std::vector<std::vector<int32_t>> rev(d.size()); // distinct predecessors only
    std::vector<int32_t> succ;
    while (!todo.empty()) {
        const int32_t q = todo.back();
        todo.pop_back();
        const int32_t b = kv.b[q];
        succ.clear();
        if ((d.accepting[q] != 0) != (B.accepting[b] != 0)) return {};
        for (int x = 0; x < 256; ++x) {
            const int32_t b2 = B.step(b, static_cast<uint8_t>(x));
            const int32_t q2 = d.step(q, static_cast<uint8_t>(x));
            if (b2 < 0) {
                if (q2 >= 0) return {};
                continue;
            }
            if (q2 < 0) {
                // The only refusal B does not make: closing the key right after a name.
                if (b != inside || x != '"') return {};
                kv.name_end[q] = 1;
                continue;
            }
            succ.push_back(q2);
            if (kv.b[q2] < 0) {
                kv.b[q2] = b2;
                todo.push_back(q2);
            } else if (kv.b[q2] != b2) {
                return {};
            }
        }
        std::sort(succ.begin(), succ.end());
        succ.erase(std::unique(succ.begin(), succ.end()), succ.end());
        for (int32_t q2 : succ) rev[q2].push_back(q);
    }
    // Not free: a name end is reachable.
    kv.free.assign(d.size(), 1);
    for (std::size_t q = 0; q < d.size(); ++q)
        if (kv.name_end[q] && kv.free[q]) {
            kv.free[q] = 0;
            todo.push_back(static_cast<int32_t>(q));
        }
    while (!todo.empty()) {
        const int32_t q = todo.back();
        todo.pop_back();
        for (int32_t p : rev[q])
            if (kv.free[p]) {
                kv.free[p] = 0;
                todo.push_back(p);
            }
    }
    return kv;
}

namespace {

// Trie nodes whose byte is the closing quote refused after a name (their tokens, and the exits
// below them, are in B's mask but not in d's). Walks only where a name is still possible.
void closing_nodes(const Dfa &d, const KeyView &kv, const VocabularyImpl &v, uint32_t node,
                   int32_t q, std::vector<uint32_t> &out) {
    for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
        const uint8_t x = v.node_byte[c];
        const int32_t q2 = d.step(q, x);
        if (q2 < 0) {
            if (kv.name_end[q] && x == '"') out.push_back(c);
            continue;
        }
        if (!kv.free[q2] && v.node_end[c] > c + 1) closing_nodes(d, kv, v, c, q2, out);
    }
}

} // namespace

std::shared_ptr<const LexemeMask> key_mask(const Dfa &d, const KeyView &view, int32_t q,
                                           const std::shared_ptr<const LexemeMask> &base,
                                           const VocabularyImpl &v) {
    if (view.free[q]) return base;
    std::vector<uint32_t> closing;
    closing_nodes(d, view, v, 0, q, closing);
    if (closing.empty()) return base;
    auto e = std::make_shared<LexemeMask>(*base);
    std::vector<uint32_t> drop; // exit nodes below a refused closing quote
    for (uint32_t c : closing) {
        for (uint32_t k = v.tok_begin[c]; k < v.tok_begin[c + 1]; ++k) {
            const int32_t id = v.toks[k];
            if (!e->dense.empty())
                e->dense[static_cast<std::size_t>(id) >> 5] &= ~(1u << (id & 31));
            else
                e->ids.erase(std::remove(e->ids.begin(), e->ids.end(), id), e->ids.end());
        }
        for (uint32_t cc = c + 1; cc < v.node_end[c]; cc = v.node_end[cc]) drop.push_back(cc);
    }
    if (!drop.empty()) {
        std::sort(drop.begin(), drop.end());
        std::vector<uint32_t> exits, begin(257, 0);
        for (int b = 0; b < 256; ++b) {
            for (uint32_t k = base->exit_begin[b]; k < base->exit_begin[b + 1]; ++k)
                if (!std::binary_search(drop.begin(), drop.end(), base->exits[k]))
                    exits.push_back(base->exits[k]);
            begin[b + 1] = static_cast<uint32_t>(exits.size());
        }
        e->exits = std::move(exits);
        e->exit_begin = std::move(begin);
    }
    return e;
}

} // namespace llmhost::constraint
