// TokenVocabulary internals: the token bytes and a byte trie in pre-order (children of node n
// are n+1, end[n+1], ... up to end[n]), so a mask walk skips a refused subtree in O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmhost::constraint {

// The tokens a lexeme DFA takes from one state, for one vocabulary (see mask.cpp).
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

struct VocabularyImpl {
    std::vector<std::string> bytes;
    std::vector<int32_t> eos;
    std::vector<uint8_t> is_eos;
    // Trie: node 0 is the root (no byte).
    std::vector<uint8_t> node_byte;
    std::vector<uint32_t> node_end;
    std::vector<uint32_t> tok_begin; // tokens of node n: toks[tok_begin[n] .. tok_begin[n+1])
    std::vector<int32_t> toks;

    void build_trie();

    // Lexeme masks keyed by the canonical form of the automaton from the state: grammars share
    // their common lexemes (JSON strings, numbers), so a new schema starts with warm masks.
    mutable std::mutex lexeme_mu;
    mutable std::unordered_map<std::string, std::shared_ptr<const LexemeMask>> lexemes;
    mutable std::size_t lexeme_bytes = 0;
    std::size_t max_lexeme_bytes = std::size_t{512} << 20;
};

} // namespace llmhost::constraint
