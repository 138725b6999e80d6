// One sampling step under a constraint::Guide (GenerateOptions::guide): the mask goes into the
// sampler before every other processor; a sampled id the guide refuses for the budget (it would
// leave no room to finish the structure) is cleared and the step samples again; after a few
// refusals the guide closes. Shared by the serial path (engine.cpp) and the batch loop
// (batch_scheduler.cpp) so both decode a constrained request identically.
#pragma once

#include <llmhost/constraint/guide.hpp>
#include <llmhost/engine/sampling.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace llmhost::engine {

class GuidedStep {
public:
    explicit GuidedStep(constraint::Guide &guide) : guide_(guide) {}

    struct Pick {
        std::int32_t id = -1;
        // Ids that follow necessarily, already taken by the guide: the decoder appends them
        // without sampling (fast-forward) and feeds them to the model in one pass.
        std::vector<std::int32_t> forced;
    };
    // `logits`: the step's raw logits (modified). `remaining`: budget left including this id.
    // `fast_forward`: false when every token needs its own logits (logprobs were asked).
    Pick pick(Sampler &sampler, std::span<float> logits, std::span<const std::int32_t> history,
              std::int64_t remaining, bool fast_forward);

private:
    constraint::Guide &guide_;
    std::vector<std::uint32_t> mask_;
    std::vector<float> raw_; // the logits before the sampler edits them (for a redraw)
};

} // namespace llmhost::engine
