// Slot choice and records of the prefix cache (see prefix_cache.hpp).
#include "prefix_cache.hpp"

#include <algorithm>
#include <stdexcept>

namespace llmhost::engine {

std::int64_t common_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
    const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    return static_cast<std::int64_t>(ia - a.begin());
}

PrefixCache::PrefixCache(std::size_t slots, bool enabled) : entries_(slots), enabled_(enabled) {}

std::optional<PrefixCache::Pick> PrefixCache::acquire(std::span<const std::int32_t> prompt) {
    if (prompt.empty()) throw std::invalid_argument("PrefixCache::acquire: empty prompt");
    std::lock_guard lk(mu_);
    // The least recently used free slot (never-used ones first, then the lowest index).
    std::optional<std::size_t> lru;
    for (std::size_t i = 0; i < entries_.size(); ++i)
        if (!entries_[i].busy && (!lru || entries_[i].last_used < entries_[*lru].last_used))
            lru = i;
    if (!lru) return std::nullopt;
    if (!enabled_) { // as before the cache: the lowest free slot, nothing reused
        const auto lowest = static_cast<std::size_t>(
            std::find_if(entries_.begin(), entries_.end(), [](const Entry &e) { return !e.busy; }) -
            entries_.begin());
        entries_[lowest].busy = true;
        entries_[lowest].tokens.clear();
        return Pick{lowest, 0, lowest};
    }
    // The longest match over every row; among equal ones, a free row the prompt covers wholly
    // (it can be continued in place).
    std::size_t source = *lru;
    std::int64_t match = 0;
    bool in_place = false;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const Entry &e = entries_[i];
        const std::int64_t m = common_prefix(e.tokens, prompt);
        const bool covers = !e.busy && m == static_cast<std::int64_t>(e.tokens.size());
        if (m > match || (m == match && m > 0 && covers && !in_place)) {
            source = i;
            match = m;
            in_place = covers;
        }
    }
    const std::int64_t reuse = std::min(match, static_cast<std::int64_t>(prompt.size()) - 1);
    Pick p{in_place ? source : *lru, reuse, source};
    if (reuse == 0) p.source = p.slot;
    Entry &e = entries_[p.slot];
    e.busy = true;
    e.tokens.assign(prompt.begin(), prompt.begin() + reuse); // the prefill overwrites the rest
    ++stats_.lookups;
    if (reuse > 0) ++stats_.hits;
    if (p.source != p.slot) ++stats_.copied;
    stats_.reused_tokens += reuse;
    return p;
}

void PrefixCache::hold(std::size_t slot, std::span<const std::int32_t> tokens) {
    std::lock_guard lk(mu_);
    if (enabled_) entries_.at(slot).tokens.assign(tokens.begin(), tokens.end());
}

void PrefixCache::release(std::size_t slot, std::span<const std::int32_t> fed) {
    std::lock_guard lk(mu_);
    Entry &e = entries_.at(slot);
    if (enabled_)
        e.tokens.assign(fed.begin(), fed.end());
    else
        e.tokens.clear();
    e.busy = false;
    e.last_used = ++clock_;
}

void PrefixCache::forget(std::size_t slot) {
    std::lock_guard lk(mu_);
    entries_.at(slot).tokens.clear();
}

void PrefixCache::truncate(std::size_t slot, std::int64_t len) {
    std::lock_guard lk(mu_);
    Entry &e = entries_.at(slot);
    if (len >= 0 && static_cast<std::size_t>(len) < e.tokens.size())
        e.tokens.resize(static_cast<std::size_t>(len));
}

std::int64_t PrefixCache::length(std::size_t slot) const {
    std::lock_guard lk(mu_);
    return static_cast<std::int64_t>(entries_.at(slot).tokens.size());
}

PrefixCacheStats PrefixCache::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

} // namespace llmhost::engine
