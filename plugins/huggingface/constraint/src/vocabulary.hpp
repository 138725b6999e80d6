// TokenVocabulary internals: the token bytes and a byte trie in pre-order (children of node n
// are n+1, end[n+1], ... up to end[n]), so a mask walk skips a refused subtree in O(1).
#pragma once

#include "dfa.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmhost::constraint {

// Strict UTF-8 (RFC 3629) decoding, one byte at a time: state 0 is a character boundary;
// kUtf8Bad means the byte cannot come next.
constexpr uint8_t kUtf8Bad = 255;
constexpr int kUtf8States = 8;
inline uint8_t utf8_next(uint8_t u, uint8_t b) {
    constexpr uint8_t B = 0, C1 = 1, C2 = 2, C3 = 3, E0 = 4, ED = 5, F0 = 6, F4 = 7;
    const bool cont = b >= 0x80 && b <= 0xBF;
    switch (u) {
    case B:
        if (b < 0x80) return B;
        if (b >= 0xC2 && b <= 0xDF) return C1;
        if (b == 0xE0) return E0;
        if (b == 0xED) return ED;
        if (b >= 0xE1 && b <= 0xEF) return C2;
        if (b == 0xF0) return F0;
        if (b >= 0xF1 && b <= 0xF3) return C3;
        if (b == 0xF4) return F4;
        return kUtf8Bad;
    case C1: return cont ? B : kUtf8Bad;
    case C2: return cont ? C1 : kUtf8Bad;
    case C3: return cont ? C2 : kUtf8Bad;
    case E0: return b >= 0xA0 && b <= 0xBF ? C1 : kUtf8Bad;
    case ED: return b >= 0x80 && b <= 0x9F ? C1 : kUtf8Bad;
    case F0: return b >= 0x90 && b <= 0xBF ? C2 : kUtf8Bad;
    case F4: return b >= 0x80 && b <= 0x8F ? C2 : kUtf8Bad;
    default: return kUtf8Bad;
    }
}

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
    // Bytes that occur strictly below node n: below_sets[below[n]] (sets deduplicated; most
    // subtrees share one). A lexeme walk whose DFA state loops on all of them takes the whole
    // subtree without visiting it (lexeme_cache.cpp).
    std::vector<uint32_t> below;
    std::vector<ByteSet> below_sets;
    // utf8_at[n]: the UTF-8 decoder state after the bytes from the root to n (kUtf8Bad once
    // invalid); utf8_below[n]: every token below n continues that decoding validly (a last
    // character may be cut short).
    std::vector<uint8_t> utf8_at;
    std::vector<uint8_t> utf8_below;

    void build_trie();
    void build_below();

    // Lexeme masks keyed by the canonical form of the automaton from the state: grammars share
    // their common lexemes (JSON strings, numbers), so a new schema starts with warm masks.
    mutable std::mutex lexeme_mu;
    mutable std::unordered_map<std::string, std::shared_ptr<const LexemeMask>> lexemes;
    mutable std::size_t lexeme_bytes = 0;
    // Per state of the any-string automaton: the token profile counted strings take their masks
    // from (counted_string.cpp; the type is private to it). Under lexeme_mu.
    mutable std::unordered_map<int32_t, std::shared_ptr<const void>> string_profiles;
    std::size_t max_lexeme_bytes = std::size_t{512} << 20;

    // Stores a mask built outside the lock (a concurrent duplicate build is harmless: the first
    // one stored wins and is returned), counting its bytes against max_lexeme_bytes.
    std::shared_ptr<const LexemeMask> store_lexeme(const std::string &key,
                                                   std::shared_ptr<const LexemeMask> mask) const;
};

} // namespace llmhost::constraint
