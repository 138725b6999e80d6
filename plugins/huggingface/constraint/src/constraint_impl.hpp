// A grammar bound to a vocabulary, plus the lexeme mask cache all matchers of it share: for a
// lexeme DFA in state q, which tokens stay inside the lexeme (context-free, computed once) and
// at which trie nodes the lexeme may end (the only places the parser must be asked).
#pragma once

#include "llmhost/constraint/constraint.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace llmhost::constraint {

struct LexemeMask {
    // Tokens whose bytes the DFA takes from q without leaving the lexeme: dense (bitset words)
    // when many, else the ids.
    std::vector<uint32_t> dense;
    std::vector<int32_t> ids;
    // Exit candidates: trie nodes whose parent is reached in an accepting DFA state, grouped by
    // the node's byte (exits[exit_begin[b] .. exit_begin[b+1])).
    std::vector<uint32_t> exits;
    std::vector<uint32_t> exit_begin; // 257 entries
};

struct ConstraintImpl {
    std::shared_ptr<const Grammar> grammar;
    std::shared_ptr<const TokenVocabulary> vocabulary;

    // Returns the cached entry for (dfa, q), building it on first use; nullptr when the cache
    // is full (the caller then walks without it).
    const LexemeMask *lexeme_mask(int32_t dfa, int32_t q) const;

    std::size_t max_cache_bytes = std::size_t{256} << 20;

private:
    mutable std::mutex mu_;
    mutable std::map<std::pair<int32_t, int32_t>, std::unique_ptr<LexemeMask>> cache_;
    mutable std::size_t cache_bytes_ = 0;
};

} // namespace llmhost::constraint
