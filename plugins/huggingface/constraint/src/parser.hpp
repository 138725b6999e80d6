// The byte-level parser: a set of persistent stacks (nodes in an arena, shared tails). A stack's
// top is always inside a terminal (alt, idx, DFA state); the frames below are continuations
// (alt, idx) to resume when the rule above completes. A rule reference in last position pushes
// no continuation (tail call), so right recursion — repetition — runs in constant stack.
#pragma once

#include "grammar.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace llmhost::constraint {

struct PNode {
    int32_t alt, idx, q, parent; // q: DFA state (top) or -1 (continuation)
};

struct PState {
    std::vector<int32_t> tops; // nodes whose frame is inside a terminal
    bool accept = false;       // a stack popped to empty: the output so far is complete
    bool overflow = false;     // too ambiguous: treated as refused
    bool alive() const { return accept || !tops.empty(); }
};

class Parser {
public:
    explicit Parser(const GrammarImpl &g) : g_(g) {}
    const GrammarImpl &grammar() const { return g_; }
    std::vector<PNode> arena;
    std::size_t max_stacks =
        1 << 17; // over it a step is refused (bounded work on hostile grammars)

    PState initial();
    // The state after byte b (tops deduplicated).
    void step(const PState &s, uint8_t b, PState &out);
    // Continues at (alt, idx) under `parent`: expands rule references, pops completed frames.
    void push_pos(int32_t alt, int32_t idx, int32_t parent, PState &out);
    void finish(PState &out); // dedupe tops
    ByteSet first_bytes(const PState &s) const;
    uint32_t min_bytes(const PState &s) const;
    std::string shortest(const PState &s) const;

private:
    const GrammarImpl &g_;
    // Continuation nodes are hash-consed (direct-mapped, verified on hit, so entries left over
    // from truncated arena parts are harmless): equal stacks then share node ids, and the top
    // deduplication in finish() sees ambiguous parses converge.
    std::vector<int32_t> cons_ = std::vector<int32_t>(1 << 16, -1);
    int32_t continuation(int32_t alt, int32_t idx, int32_t parent);
    void add_top(int32_t alt, int32_t idx, int32_t q, int32_t parent, PState &out);
    uint32_t stack_cost(int32_t top) const;
};

} // namespace llmhost::constraint
