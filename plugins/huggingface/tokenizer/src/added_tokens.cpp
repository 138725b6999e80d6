#include "added_tokens.hpp"

#include "bpe_model.hpp"
#include "json_util.hpp"
#include "normalizers.hpp"
#include "regex.hpp"
#include "utf8.hpp"

#include <algorithm>

namespace llmhost::tok {

void TokenTrie::add(std::string_view pattern, int32_t value) {
    if (pattern.empty()) return;
    first_[static_cast<unsigned char>(pattern[0])] = true;
    int32_t node = 0;
    for (unsigned char c : pattern) {
        auto &next = nodes_[node].next;
        auto it = std::lower_bound(next.begin(), next.end(), c, [](const auto &p, unsigned char k) { return p.first < k; });
        if (it != next.end() && it->first == c) {
            node = it->second;
        } else {
            auto child = static_cast<int32_t>(nodes_.size());
            next.insert(it, {c, child});
            nodes_.emplace_back();
            node = child;
        }
    }
    nodes_[node].value = value; // a duplicate pattern: the last one wins
}

int32_t TokenTrie::longest_at(std::string_view text, std::size_t pos, std::size_t &len) const {
    int32_t node = 0, best = -1;
    for (std::size_t i = pos; i < text.size(); ++i) {
        const auto &next = nodes_[node].next;
        auto c = static_cast<unsigned char>(text[i]);
        auto it = std::lower_bound(next.begin(), next.end(), c, [](const auto &p, unsigned char k) { return p.first < k; });
        if (it == next.end() || it->first != c) break;
        node = it->second;
        if (nodes_[node].value >= 0) {
            best = nodes_[node].value;
            len = i + 1 - pos;
        }
    }
    return best;
}

AddedVocabulary::AddedVocabulary(const nlohmann::json &added, const std::string &where, const BpeModel &model,
                                 const Normalizer *normalizer) {
    if (added.is_null()) return;
    if (!added.is_array()) json_util::fail(where, "expected an array");
    // Rust's add_tokens: a content already in the vocabulary keeps that id, others get the next
    // id after the vocabulary (its number of entries).
    int32_t next_id = static_cast<int32_t>(model.size());
    for (std::size_t i = 0; i < added.size(); ++i) {
        std::string at = where + "/" + std::to_string(i);
        const auto &t = added[i];
        AddedToken tok{};
        tok.content = json_util::get_string(t, at, "content");
        if (tok.content.empty()) continue;
        tok.single_word = json_util::get_bool(t, at, "single_word", false);
        tok.lstrip = json_util::get_bool(t, at, "lstrip", false);
        tok.rstrip = json_util::get_bool(t, at, "rstrip", false);
        tok.special = json_util::get_bool(t, at, "special", false);
        tok.normalized = json_util::get_bool(t, at, "normalized", !tok.special);
        if (auto known = id_of(tok.content)) tok.id = *known;
        else if (auto in_model = model.token_to_id(tok.content)) tok.id = *in_model;
        else tok.id = next_id++;
        tok.decode_form = tok.content;
        if (tok.normalized && normalizer) normalizer->normalize(tok.decode_form);
        if (tok.special) special_contents_.insert(tok.content);
        id_by_content_[tok.content] = tok.id;
        if (auto it = index_by_id_.find(tok.id); it != index_by_id_.end()) {
            tokens_[it->second] = tok;
        } else {
            index_by_id_[tok.id] = tokens_.size();
            tokens_.push_back(tok);
        }
        max_id_ = std::max(max_id_, tok.id);
    }
    // Tries are built from the final table (ordered by id, as Rust iterates its id map).
    std::vector<std::size_t> order(tokens_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return tokens_[a].id < tokens_[b].id; });
    for (std::size_t i : order) {
        const auto &tok = tokens_[i];
        if (tok.normalized) normalized_trie_.add(tok.decode_form, static_cast<int32_t>(i));
        else raw_trie_.add(tok.content, static_cast<int32_t>(i));
    }
}

const AddedToken *AddedVocabulary::by_id(int32_t id) const {
    auto it = index_by_id_.find(id);
    return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::id_of(std::string_view content) const {
    if (auto id = find_id(id_by_content_, content)) return *id;
    return std::nullopt;
}

namespace {
// The Rust library uses the `regex` crate here, whose \w and \s are wider than PCRE2's and whose
// $ means end of text: spell its classes out.
#define RUST_WORD "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]"
#define RUST_SPACE "\\p{White_Space}"
bool is_word_char_before(std::string_view text, std::size_t end) { // \w$ on text[..end]
    static const Regex re(RUST_WORD "\\z");
    bool found = false;
    re.scan(text.substr(0, end), [&](std::size_t, std::size_t) { found = true; });
    return found;
}
bool is_word_char_after(std::string_view text, std::size_t begin) { // ^\w on text[begin..]
    static const Regex re("^" RUST_WORD);
    bool found = false;
    re.scan(text.substr(begin), [&](std::size_t, std::size_t) { found = true; });
    return found;
}
std::size_t spaces_before(std::string_view text, std::size_t end) { // start of \s*$
    static const Regex re(RUST_SPACE "*\\z");
    std::size_t start = end;
    bool done = false;
    re.scan(text.substr(0, end), [&](std::size_t b, std::size_t) { if (!done) { start = b; done = true; } });
    return start;
}
std::size_t spaces_after(std::string_view text, std::size_t begin) { // length of ^\s*
    static const Regex re("^" RUST_SPACE "*");
    std::size_t len = 0;
    re.scan(text.substr(begin), [&](std::size_t, std::size_t e) { len = e; });
    return len;
}
} // namespace

void AddedVocabulary::split(std::string_view text, bool normalized, std::vector<Split> &out) const {
    const TokenTrie &trie = normalized ? normalized_trie_ : raw_trie_;
    out.clear();
    if (trie.empty()) {
        out.push_back({0, text.size(), -1});
        return;
    }
    std::size_t start_offset = 0, pos = 0;
    while (pos < text.size()) {
        if (!trie.may_start_with(static_cast<unsigned char>(text[pos]))) { ++pos; continue; }
        std::size_t len = 0;
        int32_t index = trie.longest_at(text, pos, len);
        if (index < 0) { ++pos; continue; }
        const AddedToken &tok = tokens_[index];
        std::size_t start = pos, stop = pos + len;
        pos = stop; // the next match starts after this one, even when this one is discarded
        if (tok.single_word) {
            bool start_space = start == 0 || !is_word_char_before(text, start);
            bool stop_space = stop == text.size() || !is_word_char_after(text, stop);
            if (!start_space || !stop_space) continue;
        }
        if (tok.lstrip) start = std::max(spaces_before(text, start), start_offset);
        if (tok.rstrip) stop += spaces_after(text, stop);
        if (start_offset < start) out.push_back({start_offset, start, -1});
        out.push_back({start, stop, tok.id});
        start_offset = stop;
        pos = std::max(pos, stop);
    }
    if (start_offset != text.size()) out.push_back({start_offset, text.size(), -1});
}

} // namespace llmhost::tok
