#include "dfa.hpp"

#include "llmhost/constraint/constraint.hpp"

#include <algorithm>
#include <deque>
#include <map>

namespace llmhost::constraint {

int32_t Nfa::add() {
    if (states.size() >= max_states)
        throw CompileError("regex", "",
                           "automaton too large (over " + std::to_string(max_states) + " states)");
    states.emplace_back();
    return static_cast<int32_t>(states.size() - 1);
}

namespace {

// `seen` holds a stamp per NFA state, so a closure costs its own size, not the NFA's.
void eps_closure(const Nfa &nfa, std::vector<int32_t> &set, std::vector<uint32_t> &seen,
                 uint32_t &stamp) {
    ++stamp;
    std::vector<int32_t> work = set;
    for (int32_t s : set) seen[s] = stamp;
    while (!work.empty()) {
        int32_t s = work.back();
        work.pop_back();
        for (int32_t t : nfa.states[s].eps)
            if (seen[t] != stamp) {
                seen[t] = stamp;
                set.push_back(t);
                work.push_back(t);
            }
    }
    std::sort(set.begin(), set.end());
}

} // namespace

void dfa_trim(Dfa &d) {
    const std::size_t n = d.accepting.size();
    // Reverse reachability from accepting states.
    std::vector<std::vector<int32_t>> rev(n);
    for (std::size_t s = 0; s < n; ++s)
        for (int b = 0; b < 256; ++b) {
            int32_t t = d.next[s * 256 + b];
            if (t >= 0) rev[t].push_back(static_cast<int32_t>(s));
        }
    std::vector<uint32_t> dist(n, UINT32_MAX);
    std::deque<int32_t> q;
    for (std::size_t s = 0; s < n; ++s)
        if (d.accepting[s]) {
            dist[s] = 0;
            q.push_back(static_cast<int32_t>(s));
        }
    while (!q.empty()) {
        int32_t s = q.front();
        q.pop_front();
        for (int32_t p : rev[s])
            if (dist[p] == UINT32_MAX) {
                dist[p] = dist[s] + 1;
                q.push_back(p);
            }
    }
    // Forward reachability from start among co-reachable states, renumbered.
    std::vector<int32_t> map(n, -1);
    std::vector<int32_t> order;
    if (n > 0 && dist[d.start] != UINT32_MAX) {
        map[d.start] = 0;
        order.push_back(d.start);
        for (std::size_t i = 0; i < order.size(); ++i)
            for (int b = 0; b < 256; ++b) {
                int32_t t = d.next[static_cast<std::size_t>(order[i]) * 256 + b];
                if (t >= 0 && dist[t] != UINT32_MAX && map[t] < 0) {
                    map[t] = static_cast<int32_t>(order.size());
                    order.push_back(t);
                }
            }
    }
    Dfa out;
    out.label = d.label;
    out.start = 0;
    const std::size_t m = order.size();
    out.next.assign(m * 256, -1);
    out.accepting.resize(m);
    out.min_accept.resize(m);
    out.min_byte.assign(m, 0);
    out.live.assign(m, ByteSet{});
    for (std::size_t i = 0; i < m; ++i) {
        int32_t s = order[i];
        out.accepting[i] = d.accepting[s];
        out.min_accept[i] = dist[s];
        uint32_t best = UINT32_MAX;
        for (int b = 0; b < 256; ++b) {
            int32_t t = d.next[static_cast<std::size_t>(s) * 256 + b];
            if (t < 0 || map[t] < 0) continue;
            out.next[i * 256 + b] = map[t];
            byteset_add(out.live[i], static_cast<uint8_t>(b));
            if (!d.accepting[s] && dist[t] + 1 == dist[s] && best == UINT32_MAX) {
                best = dist[t];
                out.min_byte[i] = static_cast<uint8_t>(b);
            }
        }
    }
    d = std::move(out);
}

Dfa determinize(const Nfa &nfa, int32_t start, int32_t accept, std::size_t max_states,
                const std::string &keyword, const std::string &pointer) {
    Dfa d;
    std::map<std::vector<int32_t>, int32_t> ids;
    std::vector<std::vector<int32_t>> sets;
    std::vector<uint32_t> seen(nfa.states.size(), 0);
    uint32_t stamp = 0;
    std::vector<int32_t> s0{start};
    eps_closure(nfa, s0, seen, stamp);
    ids[s0] = 0;
    sets.push_back(s0);
    for (std::size_t i = 0; i < sets.size(); ++i) {
        d.next.resize((i + 1) * 256, -1);
        const std::vector<int32_t> cur = sets[i];
        d.accepting.push_back(std::binary_search(cur.begin(), cur.end(), accept) ? 1 : 0);
        // Group targets by byte: collect edges once, then sweep bytes.
        std::array<std::vector<int32_t>, 256> by_byte;
        for (int32_t s : cur)
            for (const auto &e : nfa.states[s].edges)
                for (int b = e.lo; b <= e.hi; ++b) by_byte[b].push_back(e.to);
        for (int b = 0; b < 256; ++b) {
            auto &t = by_byte[b];
            if (t.empty()) continue;
            std::sort(t.begin(), t.end());
            t.erase(std::unique(t.begin(), t.end()), t.end());
            eps_closure(nfa, t, seen, stamp);
            auto it = ids.find(t);
            int32_t id;
            if (it == ids.end()) {
                if (sets.size() >= max_states)
                    throw CompileError(keyword, pointer,
                                       "automaton too large (over " + std::to_string(max_states) +
                                           " states)");
                id = static_cast<int32_t>(sets.size());
                ids.emplace(t, id);
                sets.push_back(t);
            } else {
                id = it->second;
            }
            d.next[i * 256 + b] = id;
        }
    }
    dfa_trim(d);
    return d;
}

Dfa dfa_difference(const Dfa &a, const Dfa &b, std::size_t max_states, const std::string &keyword,
                   const std::string &pointer) {
    Dfa d;
    if (a.empty_language()) return d;
    std::map<std::pair<int32_t, int32_t>, int32_t> ids;
    std::vector<std::pair<int32_t, int32_t>> pairs;
    auto id_of = [&](std::pair<int32_t, int32_t> p) {
        auto it = ids.find(p);
        if (it != ids.end()) return it->second;
        if (pairs.size() >= max_states)
            throw CompileError(keyword, pointer,
                               "automaton too large (over " + std::to_string(max_states) +
                                   " states)");
        int32_t id = static_cast<int32_t>(pairs.size());
        ids.emplace(p, id);
        pairs.push_back(p);
        return id;
    };
    id_of({a.start, b.empty_language() ? -1 : b.start});
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto [sa, sb] = pairs[i];
        d.next.resize((i + 1) * 256, -1);
        d.accepting.push_back(a.accepting[sa] && !(sb >= 0 && b.accepting[sb]));
        for (int c = 0; c < 256; ++c) {
            int32_t ta = a.step(sa, static_cast<uint8_t>(c));
            if (ta < 0) continue;
            int32_t tb = sb >= 0 ? b.step(sb, static_cast<uint8_t>(c)) : -1;
            int32_t id = id_of({ta, tb});
            d.next[i * 256 + c] = id;
        }
    }
    d.label = a.label;
    dfa_trim(d);
    return d;
}

Dfa dfa_intersect(const Dfa &a, const Dfa &b, std::size_t max_states, const std::string &keyword,
                  const std::string &pointer) {
    Dfa d;
    if (a.empty_language() || b.empty_language()) return d;
    std::map<std::pair<int32_t, int32_t>, int32_t> ids;
    std::vector<std::pair<int32_t, int32_t>> pairs{{a.start, b.start}};
    ids[{a.start, b.start}] = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto [sa, sb] = pairs[i];
        d.next.resize((i + 1) * 256, -1);
        d.accepting.push_back(a.accepting[sa] && b.accepting[sb]);
        for (int c = 0; c < 256; ++c) {
            int32_t ta = a.step(sa, static_cast<uint8_t>(c)),
                    tb = b.step(sb, static_cast<uint8_t>(c));
            if (ta < 0 || tb < 0) continue;
            auto [it, fresh] =
                ids.emplace(std::make_pair(ta, tb), static_cast<int32_t>(pairs.size()));
            if (fresh) {
                if (pairs.size() >= max_states)
                    throw CompileError(keyword, pointer,
                                       "automaton too large (over " + std::to_string(max_states) +
                                           " states)");
                pairs.push_back({ta, tb});
            }
            d.next[i * 256 + c] = it->second;
        }
    }
    d.label = a.label;
    dfa_trim(d);
    return d;
}

Dfa dfa_literal(const std::string &s) {
    Dfa d;
    const std::size_t n = s.size() + 1;
    d.next.assign(n * 256, -1);
    d.accepting.assign(n, 0);
    d.accepting[n - 1] = 1;
    for (std::size_t i = 0; i < s.size(); ++i)
        d.next[i * 256 + static_cast<uint8_t>(s[i])] = static_cast<int32_t>(i + 1);
    dfa_trim(d);
    return d;
}

Dfa dfa_literals(const std::vector<std::string> &words) {
    Dfa d;
    d.next.assign(256, -1);
    d.accepting.assign(1, 0);
    for (const std::string &w : words) {
        int32_t s = 0;
        for (char c : w) {
            int32_t &t = d.next[static_cast<std::size_t>(s) * 256 + static_cast<uint8_t>(c)];
            if (t < 0) {
                t = static_cast<int32_t>(d.accepting.size());
                d.accepting.push_back(0);
                d.next.resize(d.next.size() + 256, -1);
            }
            s = d.next[static_cast<std::size_t>(s) * 256 +
                       static_cast<uint8_t>(c)]; // resize may move
        }
        d.accepting[s] = 1;
    }
    dfa_trim(d);
    return d;
}

} // namespace llmhost::constraint
