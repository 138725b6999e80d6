// Per-sequence state: the parser arena and one snapshot per consumed token (for rollback).
#pragma once

#include "parser.hpp"
#include "vocabulary.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace llmhost::constraint {

struct Snapshot {
    PState state;
    std::size_t arena_size = 0;
    bool terminated = false;
};

struct MatcherState {
    explicit MatcherState(const GrammarImpl &g) : parser(g) {}
    Parser parser;
    std::vector<Snapshot> history; // history[0] = start; back() = current
};

struct ConstraintImpl;
// Sets the bits of every token whose bytes the parser accepts from `s` (EOS not included) in a
// zeroed mask. Arena nodes it creates are dropped before it returns. Returns the bits set.
std::size_t compute_mask(Parser &parser, const PState &s, const ConstraintImpl &impl,
                         std::span<uint32_t> mask);

} // namespace llmhost::constraint
