// Added tokens ("added_tokens"): special and extra tokens matched in the text before
// pre-tokenization, leftmost-longest, honouring single_word / lstrip / rstrip. Tokens with
// normalized=false are matched in the original text, the others in the normalized text. Ids are
// assigned as the Rust library does when it loads a file (vocabulary id, else the next free id).
#pragma once

#include "hash_maps.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace llmhost::tok {

class BpeModel;
class Normalizer;

struct AddedToken {
    int32_t id;
    std::string content;
    std::string decode_form; // content, or its normalized form when normalized=true changes it
    bool single_word, lstrip, rstrip, normalized, special;
};

// Leftmost-longest multi-pattern matcher (a byte trie).
class TokenTrie {
  public:
    void add(std::string_view pattern, int32_t value);
    bool empty() const { return nodes_.size() <= 1; }
    // Longest pattern starting at text[pos]: sets len and returns its value, or -1.
    int32_t longest_at(std::string_view text, std::size_t pos, std::size_t &len) const;
    bool may_start_with(unsigned char c) const { return first_[c]; }

  private:
    struct Node {
        std::vector<std::pair<unsigned char, int32_t>> next; // sorted by byte
        int32_t value = -1;
    };
    std::vector<Node> nodes_{Node{}};
    bool first_[256] = {};
};

class AddedVocabulary {
  public:
    AddedVocabulary(const nlohmann::json &added, const std::string &where, const BpeModel &model,
                    const Normalizer *normalizer);

    struct Split {
        std::size_t begin, end;
        int32_t id; // -1: plain text
    };
    // Cuts `text` into plain text and added tokens.
    void split(std::string_view text, bool normalized, std::vector<Split> &out) const;

    const AddedToken *by_id(int32_t id) const;
    std::optional<int32_t> id_of(std::string_view content) const;
    bool is_special_content(std::string_view content) const { return special_contents_.count(std::string(content)) != 0; }
    int32_t max_id() const { return max_id_; }
    const std::vector<AddedToken> &tokens() const { return tokens_; }

  private:
    std::vector<AddedToken> tokens_;
    std::unordered_map<int32_t, std::size_t> index_by_id_;
    StringIdMap id_by_content_;
    std::unordered_set<std::string> special_contents_;
    TokenTrie raw_trie_, normalized_trie_; // values: index into tokens_
    int32_t max_id_ = -1;
};

} // namespace llmhost::tok
