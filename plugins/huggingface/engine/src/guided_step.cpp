// GuidedStep (see guided_step.hpp).
#include "guided_step.hpp"

#include <llmhost/plugin.hpp>

#include <algorithm>

namespace llmhost::engine {

namespace {
constexpr int kRedraws = 8; // refusals before the guide closes instead
}

GuidedStep::Pick GuidedStep::pick(Sampler &sampler, std::span<float> logits,
                                  std::span<const std::int32_t> history, std::int64_t remaining,
                                  bool fast_forward) {
    const auto left = static_cast<std::size_t>(std::max<std::int64_t>(remaining, 1));
    mask_.resize(constraint::mask_words(std::max(logits.size(), guide_.vocab_size())));
    std::fill(mask_.begin(), mask_.end(), 0u);
    // The guide's vocabulary may be narrower than the logits (padded embeddings): the ids past
    // it stay refused.
    std::span<std::uint32_t> words(mask_);
    if (guide_.fill_mask(words, left) == 0)
        throw llmh::Error(LLMH_ERR_INTERNAL,
                          "the output constraint reached a state with no allowed token",
                          "this is a bug in the constraint engine; please report the schema or "
                          "grammar");
    raw_.assign(logits.begin(), logits.end());
    Pick p;
    for (int attempt = 0; attempt <= kRedraws; ++attempt) {
        if (attempt > 0) std::copy(raw_.begin(), raw_.end(), logits.begin());
        const std::int32_t id = sampler.draw_masked(logits, history, mask_);
        if (guide_.commit(id, left)) {
            p.id = id;
            break;
        }
        mask_[static_cast<std::size_t>(id) >> 5] &= ~(1u << (id & 31)); // never that id again
        if (std::none_of(mask_.begin(), mask_.end(), [](std::uint32_t w) { return w != 0; })) break;
    }
    if (p.id < 0) {
        p.id = guide_.close(left);
        if (p.id < 0 || !guide_.commit(p.id, left))
            throw llmh::Error(LLMH_ERR_INTERNAL,
                              "the output constraint could not be completed within max_tokens",
                              "raise max_tokens; this is a bug if it was above the minimum "
                              "the constraint reported");
    }
    sampler.note_generated(p.id);
    if (fast_forward) {
        p.forced = guide_.forced(left - 1);
        for (std::int32_t f : p.forced) sampler.note_generated(f);
    }
    return p;
}

} // namespace llmhost::engine
