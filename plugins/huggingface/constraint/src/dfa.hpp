// Byte-level automata for grammar terminals (lexemes): an NFA built from regex ASTs and literals,
// determinized into a trimmed DFA (every state can still reach acceptance, so a live state is
// always completable — the mask relies on that).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmhost::constraint {

using ByteSet = std::array<uint64_t, 4>;
inline bool byteset_has(const ByteSet &s, uint8_t b) { return (s[b >> 6] >> (b & 63)) & 1u; }
inline void byteset_add(ByteSet &s, uint8_t b) { s[b >> 6] |= uint64_t{1} << (b & 63); }

struct Nfa {
    struct Edge {
        uint8_t lo, hi;
        int32_t to;
    };
    struct State {
        std::vector<Edge> edges;
        std::vector<int32_t> eps;
    };
    std::vector<State> states;
    std::size_t max_states = 200000;
    int32_t add(); // throws CompileError("regex", "", ...) over max_states
    void edge(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
        states[from].edges.push_back({lo, hi, to});
    }
    void eps(int32_t from, int32_t to) { states[from].eps.push_back(to); }
};

struct Dfa {
    int32_t start = 0;
    std::vector<int32_t> next;        // state * 256 + byte -> state, -1 = dead
    std::vector<uint8_t> accepting;   // per state
    std::vector<uint32_t> min_accept; // fewest bytes from the state to an accepting state
    std::vector<uint8_t> min_byte;    // first byte of one shortest path to acceptance
    std::vector<ByteSet> live;        // bytes with a transition, per state
    std::string label;                // for describe()

    std::size_t size() const { return accepting.size(); }
    int32_t step(int32_t s, uint8_t b) const { return next[static_cast<std::size_t>(s) * 256 + b]; }
    bool empty_language() const { return accepting.empty(); }
};

// Subset construction from `start` to `accept`, then trimming. Throws CompileError(keyword,
// pointer) over max_states. An empty language gives a Dfa with no states.
Dfa determinize(const Nfa &nfa, int32_t start, int32_t accept, std::size_t max_states,
                const std::string &keyword, const std::string &pointer);
// Strings of a that are not strings of b.
Dfa dfa_difference(const Dfa &a, const Dfa &b, std::size_t max_states, const std::string &keyword,
                   const std::string &pointer);
// Strings of both a and b.
Dfa dfa_intersect(const Dfa &a, const Dfa &b, std::size_t max_states, const std::string &keyword,
                  const std::string &pointer);
// A DFA for exactly the bytes of `s`.
Dfa dfa_literal(const std::string &s);
// A DFA for any one of `words` (a trie; big enums stay linear in their total size).
Dfa dfa_literals(const std::vector<std::string> &words);
// Recomputes min_accept/min_byte/live and removes states that cannot reach acceptance.
void dfa_trim(Dfa &d);

} // namespace llmhost::constraint
