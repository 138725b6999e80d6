// A grammar bound to a vocabulary, plus the lexeme mask cache all matchers of it share: for a
// lexeme DFA in state q, which tokens stay inside the lexeme (context-free, computed once) and
// at which trie nodes the lexeme may end (the only places the parser must be asked).
#pragma once

#include "counted_string.hpp"
#include "key_lexeme.hpp"
#include "llmhost/constraint/constraint.hpp"
#include "vocabulary.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace llmhost::constraint {

struct ConstraintImpl {
    std::shared_ptr<const Grammar> grammar;
    std::shared_ptr<const TokenVocabulary> vocabulary;

    // Returns the entry for (dfa, q): from this constraint's map, else from the vocabulary's
    // cache (shared by every grammar whose lexeme has the same automaton from q), else built.
    // nullptr when the vocabulary's cache is full (the caller then walks without it).
    const LexemeMask *lexeme_mask(int32_t dfa, int32_t q) const;

private:
    mutable std::mutex mu_;
    mutable std::map<std::pair<int32_t, int32_t>, std::shared_ptr<const LexemeMask>> cache_;
    // Per big DFA: its states as counted-string positions (counted_string.hpp), empty if not one.
    mutable std::map<int32_t, std::vector<CountedState>> counted_;
    // Per DFA: its states as the any-string automaton less some names (key_lexeme.hpp).
    mutable std::map<int32_t, KeyView> keys_;
};

} // namespace llmhost::constraint
