// Guide: budget-aware closing and fast-forward on top of a Matcher (see guide.hpp).
#include "llmhost/constraint/guide.hpp"

#include "constraint_impl.hpp"
#include "vocabulary.hpp"

namespace llmhost::constraint {

Guide::Guide(std::shared_ptr<const Constraint> constraint)
    : constraint_(std::move(constraint)), matcher_(constraint_) {}

bool Guide::spell(std::string_view bytes, std::vector<std::int32_t> &out) const {
    const VocabularyImpl &v = constraint_->vocabulary().impl();
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        // Walk the trie along bytes[pos..]; remember the deepest node that ends a real token.
        std::uint32_t node = 0;
        std::int32_t best = -1;
        std::size_t best_len = 0;
        for (std::size_t i = pos; i < bytes.size(); ++i) {
            const auto b = static_cast<std::uint8_t>(bytes[i]);
            std::uint32_t c = node + 1, found = 0;
            while (c < v.node_end[node]) {
                if (v.node_byte[c] == b) {
                    found = c;
                    break;
                }
                c = v.node_end[c];
            }
            if (!found) break;
            node = found;
            for (std::uint32_t k = v.tok_begin[node]; k < v.tok_begin[node + 1]; ++k)
                if (!v.is_eos[static_cast<std::size_t>(v.toks[k])]) {
                    best = v.toks[k];
                    best_len = i - pos + 1;
                    break;
                }
        }
        if (best < 0) return false;
        out.push_back(best);
        pos += best_len;
    }
    return true;
}

std::size_t Guide::min_tokens() const {
    if (matcher_.is_accepting() || matcher_.is_terminated()) return 0;
    std::vector<std::int32_t> toks;
    if (!spell(matcher_.shortest_completion(), toks)) return kNoBound;
    return toks.size();
}

bool Guide::fits(std::size_t remaining) const {
    // Cheap first: every token spells at least one byte, so bytes <= remaining is enough.
    if (matcher_.min_bytes_to_accept() <= remaining) return true;
    const std::size_t g = min_tokens();
    return g == kNoBound || g <= remaining; // no bound: nothing to guarantee (see guide.hpp)
}

void Guide::start_closing() {
    plan_.clear();
    plan_pos_ = 0;
    if (matcher_.is_accepting() || matcher_.is_terminated()) return;
    if (!spell(matcher_.shortest_completion(), plan_)) plan_.clear();
}

std::size_t Guide::fill_mask(std::span<uint32_t> mask, std::size_t remaining) {
    if (!is_closing() && !matcher_.is_accepting()) {
        // Closing starts when the shortest completion takes the whole budget left.
        if (matcher_.min_bytes_to_accept() >= remaining) {
            const std::size_t g = min_tokens();
            if (g != kNoBound && g >= remaining) start_closing();
        }
    }
    if (is_closing()) {
        std::fill(mask.begin(), mask.end(), 0u);
        const auto id = static_cast<std::size_t>(plan_[plan_pos_]);
        mask[id >> 5] |= 1u << (id & 31);
        return 1;
    }
    return matcher_.fill_mask(mask);
}

bool Guide::commit(std::int32_t id, std::size_t remaining) {
    if (is_closing()) {
        if (id != plan_[plan_pos_] || !matcher_.advance(id)) return false;
        ++plan_pos_;
        return true;
    }
    if (!matcher_.advance(id)) return false;
    if (constraint_->vocabulary().is_eos(id)) return true;
    if (remaining == 0 || !fits(remaining - 1)) {
        matcher_.rollback(1);
        return false;
    }
    return true;
}

std::int32_t Guide::close(std::size_t /*remaining*/) {
    if (!is_closing()) start_closing();
    if (is_closing()) return plan_[plan_pos_];
    // Nothing to close (accepting, or a completion the vocabulary cannot spell): any EOS.
    if (matcher_.is_accepting() && !constraint_->vocabulary().eos_ids().empty())
        return constraint_->vocabulary().eos_ids().front();
    return -1;
}

std::vector<std::int32_t> Guide::forced(std::size_t remaining) {
    std::vector<std::int32_t> out;
    if (is_closing()) {
        while (is_closing() && out.size() < remaining) {
            const std::int32_t id = plan_[plan_pos_];
            if (!matcher_.advance(id)) { // cannot happen: the plan spells a valid completion
                plan_.clear();
                plan_pos_ = 0;
                break;
            }
            ++plan_pos_;
            out.push_back(id);
        }
        return out;
    }
    const std::string bytes = matcher_.forced_bytes();
    if (bytes.empty()) return out;
    std::vector<std::int32_t> toks;
    spell(bytes, toks);                 // a prefix spelled is still forced when the rest cannot be
    if (!toks.empty()) toks.pop_back(); // a longer token may cover it and what follows
    for (std::int32_t id : toks) {
        if (out.size() >= remaining || !commit(id, remaining - out.size())) break;
        out.push_back(id);
    }
    return out;
}

void Guide::rollback(std::size_t n) {
    matcher_.rollback(n);
    plan_.clear();
    plan_pos_ = 0;
}

} // namespace llmhost::constraint
