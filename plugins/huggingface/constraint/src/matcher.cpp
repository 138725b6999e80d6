#include "llmhost/constraint/constraint.hpp"

#include "constraint_impl.hpp"
#include "matcher_state.hpp"

#include <algorithm>
#include <cstring>

namespace llmhost::constraint {

Matcher::Matcher(std::shared_ptr<const Constraint> constraint)
    : constraint_(std::move(constraint)) {
    if (!constraint_) throw std::invalid_argument("Matcher: null constraint");
    state_ = std::make_unique<MatcherState>(constraint_->grammar().impl());
    reset();
}
Matcher::Matcher(Matcher &&) noexcept = default;
Matcher &Matcher::operator=(Matcher &&) noexcept = default;
Matcher::~Matcher() = default;

void Matcher::reset() {
    state_->parser.arena.clear();
    state_->history.clear();
    Snapshot s;
    s.state = state_->parser.initial();
    s.arena_size = state_->parser.arena.size();
    state_->history.push_back(std::move(s));
}

std::size_t Matcher::count() const { return state_->history.size() - 1; }

std::size_t Matcher::fill_mask(std::span<uint32_t> mask) {
    const VocabularyImpl &v = constraint_->vocabulary().impl();
    if (mask.size() < mask_words(v.bytes.size()))
        throw std::invalid_argument("Matcher::fill_mask: mask too small");
    std::fill(mask.begin(), mask.end(), 0u);
    const Snapshot &cur = state_->history.back();
    if (cur.terminated) return 0;
    std::size_t n = compute_mask(state_->parser, cur.state, constraint_->impl(), mask);
    if (cur.state.accept)
        for (int32_t e : v.eos) {
            uint32_t &w = mask[static_cast<std::size_t>(e) >> 5];
            if (!(w >> (e & 31) & 1u)) ++n;
            w |= 1u << (e & 31);
        }
    return n;
}

bool Matcher::advance_bytes(std::string_view bytes) {
    Snapshot &cur = state_->history.back();
    if (cur.terminated) return false;
    Parser &p = state_->parser;
    const std::size_t mark = p.arena.size();
    PState a = cur.state, b;
    for (char c : bytes) {
        if (a.tops.empty()) {
            p.arena.resize(mark);
            return false;
        }
        p.step(a, static_cast<uint8_t>(c), b);
        std::swap(a, b);
    }
    if (!a.alive()) {
        p.arena.resize(mark);
        return false;
    }
    Snapshot s;
    s.state = std::move(a);
    s.arena_size = p.arena.size();
    state_->history.push_back(std::move(s));
    return true;
}

bool Matcher::advance(int32_t token_id) {
    const TokenVocabulary &v = constraint_->vocabulary();
    if (token_id < 0 || static_cast<std::size_t>(token_id) >= v.size()) return false;
    Snapshot &cur = state_->history.back();
    if (cur.terminated) return false;
    if (v.is_eos(token_id)) {
        if (!cur.state.accept) return false;
        Snapshot s;
        s.arena_size = cur.arena_size;
        s.terminated = true;
        state_->history.push_back(std::move(s));
        return true;
    }
    const std::string &bytes = v.token_bytes(token_id);
    if (bytes.empty()) return false;
    return advance_bytes(bytes);
}

void Matcher::rollback(std::size_t n) {
    n = std::min(n, count());
    state_->history.resize(state_->history.size() - n);
    state_->parser.arena.resize(state_->history.back().arena_size);
}

bool Matcher::is_accepting() const {
    const Snapshot &s = state_->history.back();
    return !s.terminated && s.state.accept;
}

bool Matcher::is_terminated() const {
    const Snapshot &s = state_->history.back();
    return s.terminated || !s.state.alive();
}

std::string Matcher::forced_bytes() const {
    Parser &p = state_->parser;
    const std::size_t mark = p.arena.size();
    PState a = state_->history.back().state, b;
    std::string out;
    if (state_->history.back().terminated) return out;
    while (!a.accept && !a.tops.empty() && out.size() < 4096) {
        ByteSet f = p.first_bytes(a);
        int only = -1, count = 0;
        for (int k = 0; k < 256 && count < 2; ++k)
            if (byteset_has(f, static_cast<uint8_t>(k))) {
                only = k;
                ++count;
            }
        if (count != 1) break;
        out.push_back(static_cast<char>(only));
        p.step(a, static_cast<uint8_t>(only), b);
        std::swap(a, b);
    }
    p.arena.resize(mark);
    return out;
}

std::size_t Matcher::min_bytes_to_accept() const {
    const Snapshot &s = state_->history.back();
    if (s.terminated) return 0;
    return state_->parser.min_bytes(s.state);
}

std::string Matcher::shortest_completion() const {
    const Snapshot &s = state_->history.back();
    if (s.terminated) return {};
    return state_->parser.shortest(s.state);
}

} // namespace llmhost::constraint
