// TokenVocabulary internals: the token bytes and a byte trie in pre-order (children of node n
// are n+1, end[n+1], ... up to end[n]), so a mask walk skips a refused subtree in O(1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmhost::constraint {

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
};

} // namespace llmhost::constraint
