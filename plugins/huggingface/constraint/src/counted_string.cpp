#include "counted_string.hpp"

#include "llmhost/constraint/constraint.hpp"
#include "regex.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace llmhost::constraint {

namespace {

// B's landmarks: P (before the opening quote), L (inside, at a character boundary), A (after the
// closing quote; accepting, no transitions). Every other state is inside a character (a UTF-8
// sequence or an escape), so a transition out of L other than to A starts a character.
struct Landmarks {
    const Dfa &d;
    int32_t p, l, a;
};

const Landmarks &landmarks() {
    static const Landmarks lm = [] {
        const Dfa &d = any_string_dfa();
        const int32_t l = d.step(d.start, '"');
        return Landmarks{d, d.start, l, d.step(l, '"')};
    }();
    return lm;
}

// One step of the product; false when the byte is refused.
bool step(const Landmarks &B, const CountedState &s, uint8_t x, CountedState &out) {
    const int32_t b2 = B.d.step(s.b, x);
    if (b2 < 0) return false;
    if (s.b != B.l) {
        out = {s.m, s.r, b2};
        return true;
    }
    if (b2 == B.a) {
        if (s.m != 0) return false;
        out = {0, 0, b2};
        return true;
    }
    if (s.r == 0) return false;
    out = {std::max(s.m - 1, 0), s.r == kUnbounded ? kUnbounded : s.r - 1, b2};
    return true;
}

using Key = std::tuple<int32_t, int32_t, int32_t>;
Key key_of(const CountedState &s) { return {s.m, s.r, s.b}; }

// Per B state: for every token, the characters it starts from there, and whether it closes the
// string (then the nodes after the quote are exit candidates, as in lexeme_cache.cpp).
struct Profile {
    int32_t max_n = 0;
    std::vector<int32_t> body;        // tokens that stay inside, sorted by characters started
    std::vector<uint32_t> body_begin; // body[body_begin[n] .. body_begin[n + 1]): n characters
    std::vector<std::pair<int32_t, int32_t>> closers; // (n, token): ends with the closing quote
    struct Exit {
        int32_t n;
        uint8_t byte;
        uint32_t node;
    };
    std::vector<Exit> exits;
};

struct ProfileWalk {
    const Landmarks &B;
    const VocabularyImpl &v;
    Profile &p;
    std::vector<std::pair<int32_t, int32_t>> body; // (n, token)

    void walk(uint32_t node, int32_t b, int32_t n) {
        for (uint32_t c = node + 1; c < v.node_end[node]; c = v.node_end[c]) {
            const int32_t b2 = B.d.step(b, v.node_byte[c]);
            if (b2 < 0) continue;
            if (b2 == B.a) {
                for (uint32_t k = v.tok_begin[c]; k < v.tok_begin[c + 1]; ++k)
                    p.closers.push_back({n, v.toks[k]});
                for (uint32_t cc = c + 1; cc < v.node_end[c]; cc = v.node_end[cc])
                    p.exits.push_back({n, v.node_byte[cc], cc});
                p.max_n = std::max(p.max_n, n);
                continue;
            }
            const int32_t n2 = n + (b == B.l ? 1 : 0);
            for (uint32_t k = v.tok_begin[c]; k < v.tok_begin[c + 1]; ++k)
                body.push_back({n2, v.toks[k]});
            p.max_n = std::max(p.max_n, n2);
            if (v.node_end[c] > c + 1) walk(c, b2, n2);
        }
    }
};

std::shared_ptr<const Profile> build_profile(const VocabularyImpl &v, int32_t b) {
    auto p = std::make_shared<Profile>();
    ProfileWalk w{landmarks(), v, *p, {}};
    w.walk(0, b, 0);
    p->body_begin.assign(static_cast<std::size_t>(p->max_n) + 2, 0);
    for (auto &[n, id] : w.body) ++p->body_begin[static_cast<std::size_t>(n) + 1];
    for (std::size_t i = 1; i < p->body_begin.size(); ++i) p->body_begin[i] += p->body_begin[i - 1];
    p->body.resize(w.body.size());
    std::vector<uint32_t> at(p->body_begin.begin(), p->body_begin.end() - 1);
    for (auto &[n, id] : w.body) p->body[at[static_cast<std::size_t>(n)]++] = id;
    return p;
}

} // namespace

// Moore's partition refinement: subset construction leaves equivalent states apart (the state
// after the opening quote and the one after a character are both "inside, at a boundary"), and
// the landmarks need each kind to be one state.
static Dfa minimized(const Dfa &d) {
    const std::size_t n = d.size();
    std::vector<int32_t> cls(n);
    for (std::size_t s = 0; s < n; ++s) cls[s] = d.accepting[s];
    for (std::size_t classes = 0;;) {
        std::map<std::vector<int32_t>, int32_t> sig;
        std::vector<int32_t> next_cls(n);
        for (std::size_t s = 0; s < n; ++s) {
            std::vector<int32_t> k{cls[s]};
            for (int x = 0; x < 256; ++x) {
                const int32_t t = d.step(static_cast<int32_t>(s), static_cast<uint8_t>(x));
                k.push_back(t < 0 ? -1 : cls[t]);
            }
            next_cls[s] = sig.emplace(std::move(k), static_cast<int32_t>(sig.size())).first->second;
        }
        cls = std::move(next_cls);
        if (sig.size() == classes) break;
        classes = sig.size();
    }
    int32_t count = 0;
    for (int32_t c : cls) count = std::max(count, c + 1);
    Dfa m;
    m.start = cls[d.start];
    m.next.assign(static_cast<std::size_t>(count) * 256, -1);
    m.accepting.assign(static_cast<std::size_t>(count), 0);
    for (std::size_t s = 0; s < n; ++s) {
        m.accepting[cls[s]] = d.accepting[s];
        for (int x = 0; x < 256; ++x) {
            const int32_t t = d.step(static_cast<int32_t>(s), static_cast<uint8_t>(x));
            m.next[static_cast<std::size_t>(cls[s]) * 256 + x] = t < 0 ? -1 : cls[t];
        }
    }
    dfa_trim(m);
    return m;
}

const Dfa &any_string_dfa() {
    static const Dfa d = minimized(
        compile_re(re_rep(re_any_char(), 0, -1), ReMode::JsonString, "type", "", 20000, true));
    return d;
}

Dfa counted_string_dfa(int32_t lo, int32_t hi, std::size_t max_states, const std::string &keyword,
                       const std::string &pointer) {
    const Landmarks &B = landmarks();
    std::map<Key, int32_t> ids;
    std::vector<CountedState> states{{lo, hi < 0 ? kUnbounded : hi, B.p}};
    ids[key_of(states[0])] = 0;
    Dfa d;
    for (std::size_t i = 0; i < states.size(); ++i) {
        if (states.size() > max_states)
            throw CompileError(keyword, pointer,
                               "automaton too large (over " + std::to_string(max_states) +
                                   " states)");
        d.next.resize((i + 1) * 256, -1);
        d.accepting.push_back(states[i].b == B.a);
        for (int x = 0; x < 256; ++x) {
            CountedState t;
            if (!step(B, states[i], static_cast<uint8_t>(x), t)) continue;
            auto [it, fresh] = ids.emplace(key_of(t), static_cast<int32_t>(states.size()));
            if (fresh) states.push_back(t);
            d.next[i * 256 + static_cast<std::size_t>(x)] = it->second;
        }
    }
    dfa_trim(d);
    return d;
}

std::vector<CountedState> counted_states(const Dfa &d, std::size_t max_pairs) {
    const Landmarks &B = landmarks();
    if (d.size() == 0 || d.min_accept[d.start] < 2) return {};
    const int32_t inside = d.step(d.start, '"');
    if (inside < 0) return {};
    // The bounds the product would need: m from the shortest string, r from a run of 'a's.
    int32_t r = 0;
    std::vector<uint8_t> seen(d.size(), 0);
    for (int32_t q = inside; q >= 0; q = d.step(q, 'a')) {
        if (seen[q]) {
            r = kUnbounded;
            break;
        }
        seen[q] = 1;
        if (d.step(q, 'a') >= 0) ++r;
    }
    const CountedState s0{static_cast<int32_t>(d.min_accept[d.start]) - 2, r, B.p};
    if (s0.r != kUnbounded && s0.m > s0.r) return {};
    // Bisimulation: every pair agrees on acceptance and on which bytes are refused.
    std::vector<CountedState> out(d.size());
    std::set<std::tuple<int32_t, int32_t, int32_t, int32_t>> pairs;
    std::vector<std::pair<CountedState, int32_t>> todo{{s0, d.start}};
    pairs.insert({s0.m, s0.r, s0.b, d.start});
    while (!todo.empty()) {
        const auto [s, q] = todo.back();
        todo.pop_back();
        if (pairs.size() > max_pairs) return {};
        if ((s.b == B.a) != (d.accepting[q] != 0)) return {};
        if (out[q].b < 0) out[q] = s;
        for (int x = 0; x < 256; ++x) {
            CountedState t;
            const bool live = step(B, s, static_cast<uint8_t>(x), t);
            const int32_t q2 = d.step(q, static_cast<uint8_t>(x));
            if (live != (q2 >= 0)) return {};
            if (live && pairs.insert({t.m, t.r, t.b, q2}).second) todo.push_back({t, q2});
        }
    }
    return out;
}

std::shared_ptr<const LexemeMask> counted_mask(const VocabularyImpl &v, const CountedState &s) {
    std::shared_ptr<const Profile> prof;
    {
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto it = v.string_profiles.find(s.b);
        if (it != v.string_profiles.end())
            prof = std::static_pointer_cast<const Profile>(it->second);
    }
    if (!prof) {
        auto built = build_profile(v, s.b);
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto [it, fresh] = v.string_profiles.emplace(s.b, built);
        if (fresh)
            v.lexeme_bytes += built->body.size() * 4 + built->closers.size() * 8 +
                              built->exits.size() * 12 + built->body_begin.size() * 4;
        prof = std::static_pointer_cast<const Profile>(it->second);
    }
    // Beyond the longest token, more required or allowed characters change nothing.
    const int32_t cap = prof->max_n + 1;
    const int32_t m = std::min(s.m, cap), r = std::min(s.r, cap);
    const std::string key =
        "counted:" + std::to_string(s.b) + ":" + std::to_string(m) + ":" + std::to_string(r);
    {
        std::lock_guard<std::mutex> lock(v.lexeme_mu);
        auto it = v.lexemes.find(key);
        if (it != v.lexemes.end()) return it->second;
        if (v.lexeme_bytes >= v.max_lexeme_bytes) return nullptr;
    }
    auto e = std::make_shared<LexemeMask>();
    const uint32_t nbody = prof->body_begin[static_cast<std::size_t>(std::min(r, prof->max_n)) + 1];
    std::vector<int32_t> closing;
    for (auto &[n, id] : prof->closers)
        if (n >= m && n <= r) closing.push_back(id);
    const std::size_t count = nbody + closing.size();
    const std::size_t words = mask_words(v.bytes.size());
    if (count * 32 < words) {
        e->ids.assign(prof->body.begin(), prof->body.begin() + nbody);
        e->ids.insert(e->ids.end(), closing.begin(), closing.end());
    } else {
        e->dense.assign(words, 0u);
        auto set = [&](int32_t id) {
            e->dense[static_cast<std::size_t>(id) >> 5] |= 1u << (id & 31);
        };
        for (uint32_t k = 0; k < nbody; ++k) set(prof->body[k]);
        for (int32_t id : closing) set(id);
    }
    std::vector<uint32_t> counts(257, 0);
    for (auto &x : prof->exits)
        if (x.n >= m && x.n <= r) ++counts[x.byte + 1u];
    for (int i = 0; i < 256; ++i) counts[i + 1] += counts[i];
    e->exit_begin = counts;
    e->exits.resize(counts[256]);
    for (auto &x : prof->exits)
        if (x.n >= m && x.n <= r) e->exits[counts[x.byte]++] = x.node;
    return v.store_lexeme(key, std::move(e));
}

} // namespace llmhost::constraint
