// Streaming detokenization (the algorithm of Rust's DecodeStream): re-decode the ids since the
// last emitted boundary, with the previous tokens as left context, and emit only the growth of
// the text, and only when it does not end in U+FFFD (an incomplete character so far).
#include "llmhost/tokenizer/tokenizer.hpp"

namespace llmhost::tok {

StreamDecoder::StreamDecoder(const Tokenizer &tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens) {}

std::string StreamDecoder::push(int32_t id) {
    ids_.push_back(id);
    std::string text = tokenizer_->decode(ids_, skip_special_);
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    if (text.size() <= prefix_.size() || std::string_view(text).ends_with(kReplacement)) return {};
    // With the supported decoders the context decodes the same way every time, so `text` extends
    // `prefix_`; should a decoder ever rewrite it, emit from the first differing byte.
    std::size_t common = 0;
    while (common < prefix_.size() && prefix_[common] == text[common]) ++common;
    std::string fresh = text.substr(common);
    std::size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = tokenizer_->decode(ids_, skip_special_);
    prefix_index_ = new_prefix_index;
    return fresh;
}

std::string StreamDecoder::flush() {
    std::string text = tokenizer_->decode(ids_, skip_special_);
    std::string rest = text.size() > prefix_.size() && std::string_view(text).starts_with(prefix_)
                           ? text.substr(prefix_.size())
                           : std::string();
    ids_.clear();
    prefix_.clear();
    prefix_index_ = 0;
    return rest;
}

} // namespace llmhost::tok
