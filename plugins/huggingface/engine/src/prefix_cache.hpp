// Prefix cache: which KV-cache row (slot) to give a new request, and how much of its prompt that
// row already holds.
//
// Each slot remembers the token ids whose keys/values sit at positions [0, L) of its row: the
// last request's prompt plus the ids it fed through the model (not its last sampled id, which
// never ran). A retired request leaves its row as it is, so the memory budget of the cache is
// the KV cache itself (slots x max_context positions): nothing is copied, nothing is allocated.
//
// acquire() looks for the row (busy or free) whose record shares the longest prefix with the
// new prompt, and reuses p = min(common prefix, prompt - 1) positions of it: at least one
// prompt token runs, to get the logits of the next token. The request's own row is
//   - that row itself, when it is free and the prompt covers its whole record (the next turn of
//     the conversation it holds: nothing is lost, nothing is copied);
//   - otherwise the least-recently-used free row (LRU eviction; never-used rows first), and the
//     p positions are copied into it from the source row (a memory copy, far cheaper than the
//     prefill it replaces). So a shared system prompt, a regenerated answer or a conversation
//     that forked serves the new request without evicting the conversation it came from.
// The new row's record is cut to p at once, because the prefill overwrites positions >= p.
// A busy row's record is its prompt (hold()), which its request never rewrites.
//
// Keys/values at position t depend on the tokens [0, t] only (causal attention), so positions
// [0, p) computed for another request with the same first p tokens are the ones this request
// would compute. Positions >= the current length are stale but never read unmasked: every
// forward writes its own positions before attending, and the causal mask hides what lies
// beyond a row's own position.
//
// Torch-free and thread-safe (one mutex): the batch loop acquires and releases, while
// Engine::forward() may forget slot 0 from another thread.
#pragma once

#include <llmhost/engine/engine.hpp> // PrefixCacheStats

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace llmhost::engine {

class PrefixCache {
public:
    // enabled = false: the lowest free slot is taken and nothing is reused (as before the cache).
    PrefixCache(std::size_t slots, bool enabled);

    struct Pick {
        std::size_t slot = 0;   // the request's row, now busy
        std::int64_t reuse = 0; // positions [0, reuse) of `source`'s row are this prompt's
        std::size_t source = 0; // == slot: in place; else copy [0, reuse) from it first
    };
    // A free slot for `prompt` (non-empty), now busy; nullopt when every slot is busy. Until the
    // caller has copied the reused positions (source != slot), no other acquire() may run.
    std::optional<Pick> acquire(std::span<const std::int32_t> prompt);
    // A busy slot's row now holds `tokens` at [0, size) (its prompt, after the prefill): other
    // requests may copy a prefix of it while it generates.
    void hold(std::size_t slot, std::span<const std::int32_t> tokens);
    // The slot is free again and its row holds `fed` at positions [0, fed.size()).
    void release(std::size_t slot, std::span<const std::int32_t> fed);
    // The slot's row was overwritten by someone else (Engine::forward): remember nothing.
    void forget(std::size_t slot);
    // Keep only positions [0, len) of the slot's record (its row is about to change beyond).
    void truncate(std::size_t slot, std::int64_t len);
    // Positions the slot's row holds for its record.
    std::int64_t length(std::size_t slot) const;

    bool enabled() const { return enabled_; }
    std::size_t slots() const { return entries_.size(); }
    PrefixCacheStats stats() const;

private:
    struct Entry {
        std::vector<std::int32_t> tokens; // at positions [0, tokens.size()) of the row
        std::uint64_t last_used = 0;      // 0: never used (evicted first)
        bool busy = false;
    };

    mutable std::mutex mu_;
    std::vector<Entry> entries_;
    bool enabled_;
    std::uint64_t clock_ = 0;
    PrefixCacheStats stats_;
};

// Length of the longest common prefix of a and b.
std::int64_t common_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b);

} // namespace llmhost::engine
