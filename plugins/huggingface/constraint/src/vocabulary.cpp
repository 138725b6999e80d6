#include "vocabulary.hpp"

#include "llmhost/constraint/constraint.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace llmhost::constraint {

void VocabularyImpl::build_trie() {
    std::vector<int32_t> ids;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (!bytes[i].empty()) ids.push_back(static_cast<int32_t>(i));
    std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return bytes[a] < bytes[b]; });
    node_byte.assign(1, 0);
    node_end.assign(1, 0);
    std::vector<std::vector<int32_t>> node_toks(1);
    std::vector<uint32_t> path{0}; // path[d] = node at depth d
    const std::string *prev = nullptr;
    for (int32_t id : ids) {
        const std::string &s = bytes[id];
        std::size_t common = 0;
        if (prev)
            while (common < prev->size() && common < s.size() && (*prev)[common] == s[common])
                ++common;
        while (path.size() > common + 1) {
            node_end[path.back()] = static_cast<uint32_t>(node_byte.size());
            path.pop_back();
        }
        for (std::size_t d = common; d < s.size(); ++d) {
            path.push_back(static_cast<uint32_t>(node_byte.size()));
            node_byte.push_back(static_cast<uint8_t>(s[d]));
            node_end.push_back(0);
            node_toks.emplace_back();
        }
        node_toks[path.back()].push_back(id);
        prev = &s;
    }
    while (!path.empty()) {
        node_end[path.back()] = static_cast<uint32_t>(node_byte.size());
        path.pop_back();
    }
    tok_begin.assign(node_byte.size() + 1, 0);
    toks.clear();
    for (std::size_t n = 0; n < node_byte.size(); ++n) {
        tok_begin[n] = static_cast<uint32_t>(toks.size());
        toks.insert(toks.end(), node_toks[n].begin(), node_toks[n].end());
    }
    tok_begin[node_byte.size()] = static_cast<uint32_t>(toks.size());
    build_below();
}

void VocabularyImpl::build_below() {
    struct Hash {
        std::size_t operator()(const ByteSet &s) const {
            return std::hash<uint64_t>{}(s[0] ^ (s[1] * 0x9e3779b97f4a7c15ull) ^
                                         (s[2] * 0xc2b2ae3d27d4eb4full) ^
                                         (s[3] * 0x165667b19e3779f9ull));
        }
    };
    std::unordered_map<ByteSet, uint32_t, Hash> ids;
    below_sets.clear();
    below.assign(node_byte.size(), 0);
    // Children have higher indices than their parent: fill from the back.
    for (std::size_t n = node_byte.size(); n-- > 0;) {
        ByteSet s{};
        for (uint32_t c = static_cast<uint32_t>(n) + 1; c < node_end[n]; c = node_end[c]) {
            byteset_add(s, node_byte[c]);
            const ByteSet &sc = below_sets[below[c]];
            for (int w = 0; w < 4; ++w) s[w] |= sc[w];
        }
        auto [it, inserted] = ids.emplace(s, static_cast<uint32_t>(below_sets.size()));
        if (inserted) below_sets.push_back(s);
        below[n] = it->second;
    }
    // Decoder states top-down (a parent precedes its children), validity bottom-up.
    utf8_at.assign(node_byte.size(), 0);
    utf8_below.assign(node_byte.size(), 1);
    for (std::size_t n = 0; n < node_byte.size(); ++n)
        for (uint32_t c = static_cast<uint32_t>(n) + 1; c < node_end[n]; c = node_end[c])
            utf8_at[c] = utf8_at[n] == kUtf8Bad ? kUtf8Bad : utf8_next(utf8_at[n], node_byte[c]);
    for (std::size_t n = node_byte.size(); n-- > 0;)
        for (uint32_t c = static_cast<uint32_t>(n) + 1; c < node_end[n]; c = node_end[c])
            if (utf8_at[c] == kUtf8Bad || !utf8_below[c]) {
                utf8_below[n] = 0;
                break;
            }
}

TokenVocabulary::TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids)
    : impl_(std::make_unique<VocabularyImpl>()) {
    impl_->bytes = std::move(token_bytes);
    impl_->is_eos.assign(impl_->bytes.size(), 0);
    for (int32_t e : eos_ids) {
        if (e < 0 || static_cast<std::size_t>(e) >= impl_->bytes.size())
            throw std::invalid_argument("TokenVocabulary: eos id " + std::to_string(e) +
                                        " out of range");
        impl_->is_eos[e] = 1;
        impl_->bytes[e].clear(); // EOS is governed by acceptance, never by its text
    }
    impl_->eos = std::move(eos_ids);
    impl_->build_trie();
}
TokenVocabulary::TokenVocabulary(TokenVocabulary &&) noexcept = default;
TokenVocabulary &TokenVocabulary::operator=(TokenVocabulary &&) noexcept = default;
TokenVocabulary::~TokenVocabulary() = default;

std::size_t TokenVocabulary::size() const { return impl_->bytes.size(); }
const std::string &TokenVocabulary::token_bytes(int32_t id) const {
    return impl_->bytes.at(static_cast<std::size_t>(id));
}
bool TokenVocabulary::is_eos(int32_t id) const {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->is_eos.size() && impl_->is_eos[id];
}
const std::vector<int32_t> &TokenVocabulary::eos_ids() const { return impl_->eos; }

} // namespace llmhost::constraint
