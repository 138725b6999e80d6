#include "constraint_impl.hpp"
#include "grammar.hpp"
#include "vocabulary.hpp"

namespace llmhost::constraint {

namespace {

struct Builder {
    const Dfa &d;
    const VocabularyImpl &v;
    std::vector<uint32_t> dense;
    std::size_t count = 0;
    std::vector<std::pair<uint8_t, uint32_t>> exits;

    void walk(uint32_t node, int32_t q) {
        const bool acc = d.accepting[q];
        const int32_t *row = &d.next[static_cast<std::size_t>(q) * 256];
        for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
            const uint8_t b = v.node_byte[c];
            if (acc) exits.push_back({b, c});
            const int32_t q2 = row[b];
            if (q2 < 0) continue;
            for (uint32_t k = v.tok_begin[c]; k < v.tok_begin[c + 1]; ++k) {
                const int32_t id = v.toks[k];
                dense[static_cast<std::size_t>(id) >> 5] |= 1u << (id & 31);
                ++count;
            }
            if (v.node_end[c] > c + 1) walk(c, q2);
        }
    }
};

constexpr std::size_t kMaxSharedDfaStates = 64;

// The automaton reachable from q, states renumbered in BFS order: equal keys, equal masks.
std::string canonical_key(const Dfa &d, int32_t q) {
    std::vector<int32_t> order{q};
    std::vector<int32_t> id(d.size(), -1);
    id[q] = 0;
    std::string key;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const int32_t s = order[i];
        key.push_back(static_cast<char>(d.accepting[s]));
        for (int b = 0; b < 256; ++b) {
            int32_t t = d.step(s, static_cast<uint8_t>(b));
            int32_t n = -1;
            if (t >= 0) {
                if (id[t] < 0) {
                    id[t] = static_cast<int32_t>(order.size());
                    order.push_back(t);
                }
                n = id[t];
            }
            key.append(reinterpret_cast<const char *>(&n), sizeof n);
        }
    }
    return key;
}

std::shared_ptr<const LexemeMask> build(const Dfa &d, int32_t q, const VocabularyImpl &v) {
    Builder b{d, v, std::vector<uint32_t>(mask_words(v.bytes.size()), 0u), 0, {}};
    b.walk(0, q);
    auto e = std::make_shared<LexemeMask>();
    if (b.count * 32 < b.dense.size()) {
        for (std::size_t w = 0; w < b.dense.size(); ++w)
            for (uint32_t bits = b.dense[w]; bits; bits &= bits - 1)
                e->ids.push_back(
                    static_cast<int32_t>(w * 32 + static_cast<std::size_t>(__builtin_ctz(bits))));
    } else {
        e->dense = std::move(b.dense);
    }
    std::vector<uint32_t> counts(257, 0);
    for (auto &[byte, node] : b.exits) ++counts[byte + 1];
    for (int i = 0; i < 256; ++i) counts[i + 1] += counts[i];
    e->exit_begin = counts;
    e->exits.resize(b.exits.size());
    for (auto &[byte, node] : b.exits) e->exits[counts[byte]++] = node;
    return e;
}

} // namespace

const LexemeMask *ConstraintImpl::lexeme_mask(int32_t dfa, int32_t q) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = cache_.find({dfa, q});
        if (it != cache_.end()) return it->second.get();
    }
    const VocabularyImpl &v = vocabulary->impl();
    const Dfa &d = grammar->impl().dfas[dfa];
    std::shared_ptr<const LexemeMask> e;
    if (d.size() > kMaxSharedDfaStates) { // big, schema-specific automata: not worth a key
        e = build(d, q, v);
        std::lock_guard<std::mutex> lock(mu_);
        return cache_.emplace(std::make_pair(dfa, q), e).first->second.get();
    }
    const std::string key = canonical_key(d, q);
    {
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto it = v.lexemes.find(key);
        if (it != v.lexemes.end())
            e = it->second;
        else if (v.lexeme_bytes >= v.max_lexeme_bytes)
            return nullptr;
    }
    if (!e) {
        // Built outside the locks; a concurrent duplicate build is harmless (first one wins).
        e = build(d, q, v);
        const std::size_t bytes =
            key.size() + e->dense.size() * 4 + e->ids.size() * 4 + e->exits.size() * 4 + 257 * 4;
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto [it, inserted] = v.lexemes.emplace(key, e);
        if (inserted) v.lexeme_bytes += bytes;
        e = it->second;
    }
    std::lock_guard<std::mutex> lock(mu_);
    return cache_.emplace(std::make_pair(dfa, q), e).first->second.get();
}

} // namespace llmhost::constraint
