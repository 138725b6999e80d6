#include "constraint_impl.hpp"
#include "grammar.hpp"
#include "key_lexeme.hpp"
#include "vocabulary.hpp"

#include <algorithm>

namespace llmhost::constraint {

namespace {

struct Builder {
    const Dfa &d;
    const VocabularyImpl &v;
    std::vector<uint32_t> dense;
    std::size_t count = 0;
    std::vector<std::pair<uint8_t, uint32_t>> exits;
    // Per DFA state: the bytes on which it loops to itself (computed on first use).
    std::vector<ByteSet> loops;
    std::vector<uint8_t> loops_ready;
    std::vector<int8_t> utf8_ok_memo; // per state: -1 unknown, 0 no, 1 yes

    // From q at a character boundary, every strictly valid UTF-8 byte sequence of non-ASCII
    // characters (the last one possibly cut short) keeps the DFA live and not accepting, and
    // each completed character brings it back to q.
    bool utf8_ok(int32_t q) {
        if (utf8_ok_memo[q] >= 0) return utf8_ok_memo[q] != 0;
        std::vector<std::pair<uint8_t, int32_t>> todo{{uint8_t{0}, q}};
        std::vector<std::pair<uint8_t, int32_t>> seen = todo;
        bool ok = true;
        while (ok && !todo.empty()) {
            const auto [u, r] = todo.back();
            todo.pop_back();
            for (int b = 0x80; b < 256 && ok; ++b) {
                const uint8_t u2 = utf8_next(u, static_cast<uint8_t>(b));
                if (u2 == kUtf8Bad) continue;
                const int32_t r2 = d.step(r, static_cast<uint8_t>(b));
                if (r2 < 0 || d.accepting[r2] || (u2 == 0 && r2 != q)) {
                    ok = false;
                } else if (u2 != 0 && std::find(seen.begin(), seen.end(), std::make_pair(u2, r2)) ==
                                          seen.end()) {
                    seen.push_back({u2, r2});
                    todo.push_back({u2, r2});
                }
            }
        }
        utf8_ok_memo[q] = ok ? 1 : 0;
        return ok;
    }

    const ByteSet &loop(int32_t q) {
        if (!loops_ready[q]) {
            ByteSet s{};
            for (int b = 0; b < 256; ++b)
                if (d.step(q, static_cast<uint8_t>(b)) == q)
                    byteset_add(s, static_cast<uint8_t>(b));
            loops[q] = s;
            loops_ready[q] = 1;
        }
        return loops[q];
    }

    void mark_range(uint32_t k0, uint32_t k1) {
        for (uint32_t k = k0; k < k1; ++k) {
            const int32_t id = v.toks[k];
            dense[static_cast<std::size_t>(id) >> 5] |= 1u << (id & 31);
        }
        count += k1 - k0;
    }

    // From a live state q that is not accepting and loops on every byte below c, every token
    // below c is taken (the DFA stays in q) and none is an exit candidate: exactly what the
    // node-by-node walk would find. The same holds when the non-ASCII bytes below c are whole
    // valid UTF-8 characters from a character boundary and q passes utf8_ok (string bodies).
    bool take_subtree(uint32_t c, int32_t q) {
        if (d.accepting[q]) return false;
        const ByteSet &l = loop(q);
        const ByteSet &sub = v.below_sets[v.below[c]];
        if ((sub[0] & ~l[0]) || (sub[1] & ~l[1])) return false;
        if ((sub[2] & ~l[2]) || (sub[3] & ~l[3]))
            if (v.utf8_at[c] != 0 || !v.utf8_below[c] || !utf8_ok(q)) return false;
        mark_range(v.tok_begin[c + 1], v.tok_begin[v.node_end[c]]);
        return true;
    }

    void walk(uint32_t node, int32_t q) {
        const bool acc = d.accepting[q];
        const int32_t *row = &d.next[static_cast<std::size_t>(q) * 256];
        // Exits at the root (the lexeme ends before the token's first byte) are left out: a
        // parser state holding a top in an accepting state also holds the tops that follow it
        // (Parser::add_top), and those cover every such token (was a whole-vocabulary walk for
        // each completed literal, such as a ':' or an empty run of whitespace).
        const bool exit_here = acc && node != 0;
        for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
            const uint8_t b = v.node_byte[c];
            if (exit_here) exits.push_back({b, c});
            const int32_t q2 = row[b];
            if (q2 < 0) continue;
            mark_range(v.tok_begin[c], v.tok_begin[c + 1]);
            if (v.node_end[c] > c + 1 && !take_subtree(c, q2)) walk(c, q2);
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
    Builder b{d,
              v,
              std::vector<uint32_t>(mask_words(v.bytes.size()), 0u),
              0,
              {},
              std::vector<ByteSet>(d.size()),
              std::vector<uint8_t>(d.size(), 0),
              std::vector<int8_t>(d.size(), -1)};
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

// From the vocabulary's cache, keyed by the canonical automaton from q (built on a miss);
// nullptr when the cache is full.
static std::shared_ptr<const LexemeMask> shared_mask(const Dfa &d, int32_t q,
                                                     const VocabularyImpl &v) {
    const std::string key = canonical_key(d, q);
    {
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto it = v.lexemes.find(key);
        if (it != v.lexemes.end()) return it->second;
        if (v.lexeme_bytes >= v.max_lexeme_bytes) return nullptr;
    }
    // Built outside the locks; a concurrent duplicate build is harmless (first one wins).
    auto e = build(d, q, v);
    return v.store_lexeme(key, std::move(e));
}

std::shared_ptr<const LexemeMask>
VocabularyImpl::store_lexeme(const std::string &key, std::shared_ptr<const LexemeMask> e) const {
    const std::size_t bytes =
        key.size() + e->dense.size() * 4 + e->ids.size() * 4 + e->exits.size() * 4 + 257 * 4;
    std::lock_guard<std::mutex> lock(lexeme_mu);
    auto [it, inserted] = lexemes.emplace(key, std::move(e));
    if (inserted) lexeme_bytes += bytes;
    return it->second;
}

const LexemeMask *ConstraintImpl::lexeme_mask(int32_t dfa, int32_t q) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = cache_.find({dfa, q});
        if (it != cache_.end()) return it->second.get();
    }
    const VocabularyImpl &v = vocabulary->impl();
    const Dfa &d = grammar->impl().dfas[dfa];
    std::shared_ptr<const LexemeMask> e;
    // Member names "any string but the declared ones": the any-string mask less a few tokens.
    const KeyView *kv = nullptr;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = keys_.find(dfa);
        if (it == keys_.end()) it = keys_.emplace(dfa, key_view(d)).first;
        if (it->second.ok() && it->second.b[static_cast<std::size_t>(q)] >= 0) kv = &it->second;
    }
    if (kv) {
        auto base = shared_mask(any_string_dfa(), kv->b[static_cast<std::size_t>(q)], v);
        if (!base) return nullptr;
        e = key_mask(d, *kv, q, base, v);
    } else if (d.size() > kMaxSharedDfaStates) { // big, schema-specific automata: not worth a key
        // Length-bounded strings: masks from the vocabulary's string profile, shared by schemas.
        const CountedState *cs = nullptr;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = counted_.find(dfa);
            if (it == counted_.end())
                it = counted_.emplace(dfa, counted_states(d, 4 * d.size() + 1024)).first;
            if (!it->second.empty()) cs = &it->second[static_cast<std::size_t>(q)];
        }
        if (cs && cs->b >= 0 && !d.accepting[q]) {
            e = counted_mask(v, *cs);
            if (!e) return nullptr;
        } else {
            e = build(d, q, v);
        }
    } else {
        e = shared_mask(d, q, v);
        if (!e) return nullptr;
    }
    std::lock_guard<std::mutex> lock(mu_);
    return cache_.emplace(std::make_pair(dfa, q), e).first->second.get();
}

} // namespace llmhost::constraint
