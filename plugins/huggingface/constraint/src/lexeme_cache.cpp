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

} // namespace

const LexemeMask *ConstraintImpl::lexeme_mask(int32_t dfa, int32_t q) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = cache_.find({dfa, q});
        if (it != cache_.end()) return it->second.get();
        if (cache_bytes_ >= max_cache_bytes) return nullptr;
    }
    // Built outside the lock; a concurrent duplicate build is harmless (first one wins).
    const VocabularyImpl &v = vocabulary->impl();
    Builder b{grammar->impl().dfas[dfa], v, std::vector<uint32_t>(mask_words(v.bytes.size()), 0u)};
    b.walk(0, q);
    auto e = std::make_unique<LexemeMask>();
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
    const std::size_t bytes =
        e->dense.size() * 4 + e->ids.size() * 4 + e->exits.size() * 4 + 257 * 4 + 64;
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = cache_.emplace(std::make_pair(dfa, q), std::move(e));
    if (inserted) cache_bytes_ += bytes;
    return it->second.get();
}

} // namespace llmhost::constraint
