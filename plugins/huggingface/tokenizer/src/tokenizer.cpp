// The encode / decode pipeline: added tokens on the raw text, normalizer, added tokens on the
// normalized text, pre-tokenizer, BPE per word, post-processor; and back through the decoder.
#include "tokenizer_impl.hpp"
#include "utf8.hpp"

namespace llmhost::tok {

void TokenizerImpl::encode(std::string_view text, bool add_special_tokens, std::vector<int32_t> &ids) const {
    if (add_special_tokens) ids.insert(ids.end(), post.prefix.begin(), post.prefix.end());
    std::vector<AddedVocabulary::Split> raw_splits, norm_splits;
    added->split(text, false, raw_splits);
    Pieces pieces;
    std::string segment;
    for (const auto &rs : raw_splits) {
        if (rs.id >= 0) { ids.push_back(rs.id); continue; }
        if (rs.end == rs.begin) continue;
        segment.assign(text.substr(rs.begin, rs.end - rs.begin));
        if (normalizer) normalizer->normalize(segment);
        added->split(segment, true, norm_splits);
        for (const auto &ns : norm_splits) {
            if (ns.id >= 0) { ids.push_back(ns.id); continue; }
            if (ns.end == ns.begin) continue;
            pieces.text.assign(segment, ns.begin, ns.end - ns.begin);
            pieces.items.assign(1, {0, static_cast<uint32_t>(pieces.text.size()), rs.begin == 0 && ns.begin == 0});
            if (pre_tokenizer) pre_tokenizer->apply(pieces);
            std::string_view buf = pieces.text;
            for (const auto &p : pieces.items) model->tokenize(buf.substr(p.begin, p.end - p.begin), ids);
        }
    }
    if (add_special_tokens) ids.insert(ids.end(), post.suffix.begin(), post.suffix.end());
}

std::vector<std::string> TokenizerImpl::decode_tokens(std::span<const int32_t> ids, bool skip_special) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
        const std::string *s = nullptr;
        if (const AddedToken *a = added->by_id(id)) s = &a->decode_form;
        else s = model->id_to_token(id);
        if (!s) continue; // unknown id: skipped, as the Rust library does
        if (skip_special) {
            const AddedToken *a = added->by_id(id);
            if (added->is_special_content(a ? a->content : *s)) continue;
        }
        tokens.push_back(*s);
    }
    return tokens;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 4);
    if (utf8::is_valid(text)) impl_->encode(text, add_special_tokens, ids);
    else impl_->encode(utf8::lossy(text), add_special_tokens, ids);
    return ids;
}

std::vector<std::string> Tokenizer::encode_to_pieces(std::string_view text, bool add_special_tokens) const {
    std::vector<std::string> out;
    for (int32_t id : encode(text, add_special_tokens)) out.push_back(id_to_token(id));
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens = impl_->decode_tokens(ids, skip_special_tokens);
    std::string out;
    if (impl_->decoder) {
        impl_->decoder->decode_chain(tokens);
        for (const auto &t : tokens) out += t;
    } else { // Rust joins with spaces when there is no decoder
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (i) out.push_back(' ');
            out += tokens[i];
        }
    }
    return out;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
    if (auto id = impl_->added->id_of(token)) return id;
    return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
    if (const AddedToken *a = impl_->added->by_id(id)) return a->content;
    if (const std::string *s = impl_->model->id_to_token(id)) return *s;
    return {};
}

std::size_t Tokenizer::vocab_size() const {
    auto n = static_cast<int64_t>(impl_->model->size());
    return static_cast<std::size_t>(std::max<int64_t>(n, impl_->added->max_id() + 1));
}

bool Tokenizer::is_special(int32_t id) const {
    const AddedToken *a = impl_->added->by_id(id);
    return a && a->special;
}

std::vector<int32_t> Tokenizer::special_prefix() const { return impl_->post.prefix; }
std::vector<int32_t> Tokenizer::special_suffix() const { return impl_->post.suffix; }

} // namespace llmhost::tok
