// llmhost::constraint::Guide — what a decoder needs from a constraint at each step, under a
// token budget. A Matcher says which tokens keep the output inside the grammar; a Guide also
// makes sure the output is COMPLETE when the budget (max_tokens) runs out:
//
//  * Budget-aware closing. Let G(state) be the number of tokens of one shortest completion
//    (the matcher's shortest_completion(), tokenized greedily, longest token first). The guide
//    keeps G <= remaining at every step: commit() refuses a sampled token after which the rest
//    of the output could no longer be finished in the tokens left (the decoder clears that id
//    and samples again), and once G reaches the remaining budget the guide allows only the
//    tokens of that shortest completion ("closing"). Output under a guide therefore parses
//    even when max_tokens ends it; the decoder still reports finish reason "length".
//  * Fast-forward. forced() returns the tokens that follow necessarily (bytes every
//    continuation starts with, tokenized greedily, the last token held back because a longer
//    token might cover it and what comes after), and the closing tokens. A decoder appends
//    them without sampling and feeds them to the model in one forward pass.
//
// G is an upper bound of the true fewest tokens (greedy tokenization is not always minimal),
// so closing starts a little early rather than too late. A vocabulary that cannot spell some
// byte of a completion (no byte-level tokens, no byte fallback) has no G: min_tokens() returns
// kNoBound and the guide masks without a budget guarantee.
//
// One Guide per sequence; not thread-safe itself (the Constraint it uses is).
#pragma once

#include "llmhost/constraint/constraint.hpp"

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace llmhost::constraint {

class Guide {
public:
    static constexpr std::size_t kNoBound = std::numeric_limits<std::size_t>::max();

    explicit Guide(std::shared_ptr<const Constraint> constraint);

    // Fewest tokens (greedy bound) that complete the output from the current state; 0 when
    // accepting; kNoBound when the vocabulary cannot spell the completion. A decoder refuses a
    // budget below min_tokens() at the start, before generating.
    std::size_t min_tokens() const;

    // The allowed ids for the next token, `remaining` tokens of budget left INCLUDING this one
    // (>= 1). Same bitset layout as Matcher::fill_mask. Returns the number of ids set (0: no
    // continuation exists; the decoder ends the sequence).
    std::size_t fill_mask(std::span<uint32_t> mask, std::size_t remaining);

    // Consumes a sampled id. False, state unchanged, when the id is not allowed or when after it
    // the output could not be completed in remaining - 1 tokens: clear the id from the mask and
    // sample again. After a few refusals call close() instead.
    bool commit(std::int32_t id, std::size_t remaining);

    // Gives up on free sampling for this step: starts closing now and returns the first closing
    // token (allowed; commit() it). -1 when no continuation exists.
    std::int32_t close(std::size_t remaining);

    // After a commit: the ids that follow necessarily, already consumed by the guide (the decoder
    // appends them as generated tokens). At most `remaining` ids (the budget left after the
    // committed one).
    std::vector<std::int32_t> forced(std::size_t remaining);

    bool is_accepting() const { return matcher_.is_accepting(); }
    bool is_closing() const { return plan_pos_ < plan_.size(); }
    const Matcher &matcher() const { return matcher_; }
    std::size_t vocab_size() const { return constraint_->vocabulary().size(); }
    // Undo the last n consumed ids (stop strings). Ends closing.
    void rollback(std::size_t n);

private:
    // Greedy longest-token spelling of `bytes`; false when some byte has no token.
    bool spell(std::string_view bytes, std::vector<std::int32_t> &out) const;
    bool fits(std::size_t remaining) const; // the current state can finish within remaining
    void start_closing();

    std::shared_ptr<const Constraint> constraint_;
    Matcher matcher_;
    std::vector<std::int32_t> plan_; // closing: the tokens of one shortest completion
    std::size_t plan_pos_ = 0;       // next plan token; == plan_.size(): not closing
};

} // namespace llmhost::constraint
