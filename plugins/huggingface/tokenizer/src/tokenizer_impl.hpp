// The parts of a loaded tokenizer.json, in pipeline order.
#pragma once

#include "added_tokens.hpp"
#include "bpe_model.hpp"
#include "decoders.hpp"
#include "normalizers.hpp"
#include "post_processor.hpp"
#include "pre_tokenizers.hpp"
#include "llmhost/tokenizer/tokenizer.hpp"

#include <span>

#include <memory>
#include <string>

namespace llmhost::tok {

struct TokenizerImpl {
    std::string origin; // file path, for messages
    std::unique_ptr<Normalizer> normalizer;
    std::unique_ptr<PreTokenizer> pre_tokenizer;
    std::unique_ptr<BpeModel> model;
    std::unique_ptr<AddedVocabulary> added;
    PostProcessor post;
    std::unique_ptr<Decoder> decoder;

    void encode(std::string_view valid_utf8, bool add_special_tokens, std::vector<int32_t> &ids) const;
    // Token strings as the decoder sees them (added tokens first, then the model; unknown ids skipped).
    std::vector<std::string> decode_tokens(std::span<const int32_t> ids, bool skip_special) const;
};

} // namespace llmhost::tok
