// The BPE model of tokenizer.json ("model": {"type": "BPE"}): vocabulary, ranked merges,
// unk / fuse_unk, byte_fallback (<0xNN> tokens), ignore_merges, subword prefix / word suffix.
//
// In byte-level tokenizers the model is fed raw bytes instead of the GPT-2 alphabet: the
// vocabulary is indexed by the bytes each token stands for, so the ByteLevel mapping costs
// nothing at encode time. The merge order is the Rust library's (lowest rank first, then
// leftmost), so the ids are the same.
#pragma once

#include "hash_maps.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::tok {

class BpeModel {
  public:
    // `where` is the json path used in error messages. `byte_level_input`: the pre-tokenizer ends
    // with ByteLevel, so tokenize() receives raw bytes.
    BpeModel(const nlohmann::json &model, const std::string &where, bool byte_level_input);

    // Appends the ids of one pre-tokenized word.
    void tokenize(std::string_view word, std::vector<int32_t> &out) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    const std::string *id_to_token(int32_t id) const;
    std::size_t size() const { return vocab_r_.size(); }
    bool byte_level_input() const { return byte_level_; }

  private:
    void merge_word(std::string_view word, std::vector<int32_t> &out) const;
    void tokenize_cached(std::string_view word, std::vector<int32_t> &out) const;
    // Metaspace vocabularies (Llama-2, Gemma) see a whole text as one word; it can be cut before a
    // "▁" wherever no vocabulary entry spans that boundary, which gives the same ids, fast.
    bool can_cut_before_marker(std::string_view prev_char) const;
    void prepare_marker_cuts();
    void add_symbol_for_unit(std::string_view unit, bool first, bool last, struct WordBuilder &w) const;

    StringIdMap vocab_;                      // token string -> id
    std::vector<std::string> vocab_r_;       // id -> token string ("" for holes)
    std::vector<bool> vocab_has_;            // id is in the vocabulary
    FlatStringMap<int32_t> unit_vocab_;      // what tokenize() looks up: the token's bytes in
                                             // byte-level mode, else the token string
    std::array<int32_t, 256> byte_unit_id_;  // byte-level: id of each single byte, or -1
    std::array<int32_t, 256> fallback_id_;   // <0xNN> ids when byte_fallback, or -1
    MergeTable merges_;
    std::optional<int32_t> unk_id_;
    std::string prefix_, suffix_;
    bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false, byte_level_ = false;
    bool marker_cuts_ = false;
    std::vector<std::string> chars_before_marker_; // characters followed by "▁" inside some token
    uint64_t cache_owner_;                   // identifies this model in the per-thread word cache
};

} // namespace llmhost::tok
