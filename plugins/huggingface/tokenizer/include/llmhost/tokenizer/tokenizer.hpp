// llmhost::tok — an exact, dependency-light implementation of Hugging Face `tokenizer.json`.
//
// Goal: the same ids as Hugging Face's Rust `tokenizers` for the files we support (checked by
// tests/tokenizer against the npm binding): BPE models (byte-level like GPT-2 / Llama-3 / Qwen /
// DeepSeek-V3, and metaspace + byte-fallback like Llama-2 / Gemma), their normalizers,
// pre-tokenizers, post-processors, decoders and added/special tokens.
//
// Input text contract: `encode` takes UTF-8. Invalid UTF-8 is not an error: each maximal invalid
// subsequence is replaced by U+FFFD first, exactly like Rust's String::from_utf8_lossy (the JS
// binding only accepts JS strings, which cannot carry invalid UTF-8 either).
//
// Decode contract: ids that are neither in the vocabulary nor added tokens are skipped, as the
// Rust library does (models often pad their embedding matrix beyond the tokenizer's vocabulary).
// `decode` always returns valid UTF-8 (invalid byte sequences produced by byte tokens become
// U+FFFD, as in Rust).
//
// "truncation" and "padding" in the file are ignored: encode() never drops or pads tokens.
//
// Errors: loading throws TokenizerError naming the file, the json path (e.g. `/pre_tokenizer/
// pretokenizers/1/type`) and what is unsupported. A loaded Tokenizer is immutable and safe to use
// from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::tok {

class TokenizerError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct TokenizerImpl; // defined in src/tokenizer_impl.hpp

class Tokenizer {
  public:
    // `path`: a tokenizer.json file, or a directory that contains one.
    static Tokenizer from_file(const std::string &path);
    // `json`: the text of a tokenizer.json; `origin` names it in error messages.
    static Tokenizer from_json(std::string_view json, std::string origin = "<memory>");

    // Text -> ids. With add_special_tokens the post-processor adds its tokens (e.g. BOS).
    std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
    // Ids -> the token strings as stored in the vocabulary (e.g. "Ġhello", "▁the", "<0x0A>").
    std::vector<std::string> encode_to_pieces(std::string_view text, bool add_special_tokens = true) const;

    // Ids -> text, through the tokenizer's decoder. skip_special_tokens drops special added tokens.
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    // The vocabulary string of `id`; empty when the id is unknown.
    std::string id_to_token(int32_t id) const;
    // Number of ids in use: max id + 1 over the model vocabulary and the added tokens.
    std::size_t vocab_size() const;
    // True for added tokens marked "special" (BOS, EOS, <|im_start|>, ...).
    bool is_special(int32_t id) const;
    // Ids the post-processor adds in front of / behind a single sequence (e.g. {BOS} / {}).
    std::vector<int32_t> special_prefix() const;
    std::vector<int32_t> special_suffix() const;

    Tokenizer(Tokenizer &&) noexcept;
    Tokenizer &operator=(Tokenizer &&) noexcept;
    ~Tokenizer();

    const TokenizerImpl &impl() const { return *impl_; }

  private:
    explicit Tokenizer(std::unique_ptr<TokenizerImpl> impl);
    std::unique_ptr<TokenizerImpl> impl_;
};

// Incremental detokenizer for streaming generation. push() returns the text that became final with
// this id: always whole UTF-8 characters, never half of one (bytes of a character split over several
// byte tokens are held back until complete). Concatenating every push() and then flush() gives
// decode(all ids) for the tokenizers we support. Same algorithm as Rust's DecodeStream: the ids
// since the last emitted boundary are re-decoded with a few tokens of left context, so decoders
// that look at neighbours (Metaspace, Strip, ByteFallback) behave as in a full decode.
class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer &tokenizer, bool skip_special_tokens = false);
    std::string push(int32_t id);
    // Emits whatever is held back (an incomplete character at the end becomes U+FFFD) and resets.
    std::string flush();

  private:
    const Tokenizer *tokenizer_;
    bool skip_special_;
    std::vector<int32_t> ids_;
    std::string prefix_;
    std::size_t prefix_index_ = 0;
};

} // namespace llmhost::tok
