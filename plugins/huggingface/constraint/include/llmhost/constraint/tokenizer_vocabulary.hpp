// Builds a constraint::TokenVocabulary from a llmhost tokenizer: each id's BYTES. Kept apart
// from constraint.hpp so the matcher core does not depend on the tokenizer library.
//
// Byte-level BPE (GPT-2 byte map: "Ġ" -> ' ', "Ċ" -> '\n'), metaspace ("▁" -> ' ') with byte
// fallback ("<0x0A>" -> '\n'), and added tokens (their content as UTF-8). Special added tokens
// get empty bytes (never allowed by a grammar) unless they are EOS ids.
#pragma once

#include "llmhost/constraint/constraint.hpp"
#include "llmhost/tokenizer/tokenizer.hpp"

#include <unordered_set>

namespace llmhost::constraint {

// `eos_ids`: the ids that end generation (from generation_config / tokenizer_config).
// `vocab_size`: the model's vocabulary (logits) width; 0 = tokenizer.vocab_size(). Ids beyond the
// tokenizer get empty bytes.
// `text_ids`: special tokens that stand for their text (a model family's tool-call markers such
// as [TOOL_CALLS] or <|python_tag|>, which the decoder writes out): they get their content as
// bytes, so a grammar that writes that text may use them.
std::shared_ptr<const TokenVocabulary>
vocabulary_from_tokenizer(const tok::Tokenizer &tokenizer, std::vector<int32_t> eos_ids,
                          std::size_t vocab_size = 0,
                          const std::unordered_set<int32_t> &text_ids = {});

} // namespace llmhost::constraint
