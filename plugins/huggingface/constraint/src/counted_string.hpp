// Counted JSON strings: a string lexeme constrained only by its length (minLength/maxLength).
// Its DFA is the any-string automaton B times a character counter, so every counter position is
// its own DFA state: the generic lexeme mask (lexeme_cache.cpp) walked the whole vocabulary trie
// once per position (~12 ms a token on Llama-3 for maxLength 80), and compiling it through the
// NFA took ~100 ms. Here the DFA is built as the product directly, and the masks of all its states
// come from one per-vocabulary profile of B (per token: the characters it starts from a B state),
// shared by every schema: a position is (B state, m = characters still required, r = characters
// still allowed), and the mask only depends on min(m, N+1), min(r, N+1) for the longest token N.
#pragma once

#include "dfa.hpp"
#include "vocabulary.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace llmhost::constraint {

constexpr int32_t kUnbounded = INT32_MAX;

struct CountedState {
    int32_t m = 0, r = 0; // characters still required / still allowed (kUnbounded: no maximum)
    int32_t b = -1;       // state of B
};

// B: any JSON string, quotes included (the lexeme of {"type":"string"}).
const Dfa &any_string_dfa();

// The DFA of JSON strings of lo..hi characters (hi < 0: no maximum), as the product of B and a
// counter. Throws CompileError(keyword, pointer) over max_states.
Dfa counted_string_dfa(int32_t lo, int32_t hi, std::size_t max_states, const std::string &keyword,
                       const std::string &pointer);

// d's states as positions of the counted product, when d is exactly such a product from its start
// (proved by a bisimulation, at most max_pairs state pairs); empty otherwise.
std::vector<CountedState> counted_states(const Dfa &d, std::size_t max_pairs);

// The lexeme mask of position s (not B's accepting state), from the vocabulary's profile of B;
// cached in the vocabulary. nullptr when its lexeme cache is full.
std::shared_ptr<const LexemeMask> counted_mask(const VocabularyImpl &v, const CountedState &s);

} // namespace llmhost::constraint
