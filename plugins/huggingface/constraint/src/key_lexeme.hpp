// Member-name lexemes of open objects: "any JSON string except the declared property names" (the
// additionalProperties key). Their DFA tracks which declared names the key may still spell, so
// every state is schema-specific and its lexeme mask used to be a fresh vocabulary walk (~200 us
// each, the largest share of the remaining TBM tail). Such a state behaves like the any-string
// automaton B in some state b, except that the closing quote is refused right after a declared
// name: its mask is B's (shared by all schemas, cached in the vocabulary) minus the tokens that
// would close the key on a declared name, found by walking the trie along the names only.
#pragma once

#include "dfa.hpp"
#include "vocabulary.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace llmhost::constraint {

constexpr std::size_t kMaxKeyViewStates = 50000;

struct KeyView {
    std::vector<int32_t> b;        // per state of the key DFA: the state of B it moves with
    std::vector<uint8_t> name_end; // a declared name was spelled: the closing quote is refused
    std::vector<uint8_t> free;     // no declared name can be completed from here: exactly B
    bool ok() const { return !b.empty(); }
};

// d as B minus a set of names, proved by a simulation of both from their starts; !ok() when d
// is not of that form or has over kMaxKeyViewStates states.
KeyView key_view(const Dfa &d);

// The mask of d in state q: base (B's mask in state view.b[q]) less the tokens and exit nodes
// that close the key on a declared name. Returns base itself when q is free.
std::shared_ptr<const LexemeMask> key_mask(const Dfa &d, const KeyView &view, int32_t q,
                                           const std::shared_ptr<const LexemeMask> &base,
                                           const VocabularyImpl &v);

} // namespace llmhost::constraint
