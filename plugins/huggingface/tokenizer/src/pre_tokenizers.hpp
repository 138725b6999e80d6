// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): Sequence, Split (all behaviours, invert),
// ByteLevel, Metaspace (prepend_scheme, split), Digits. They cut a normalized segment into the
// words the model encodes one by one.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmhost::tok {

// Words as byte ranges of one buffer, so splitting does not copy text.
struct Pieces {
    struct Piece {
        uint32_t begin, end;
        bool at_origin; // starts at offset 0 of the original input (Metaspace prepend_scheme "first")
    };
    std::string text;
    std::vector<Piece> items;
};

class PreTokenizer {
  public:
    virtual ~PreTokenizer() = default;
    virtual void apply(Pieces &pieces) const = 0;
    // True when this pre-tokenizer ends with ByteLevel: the model then works on raw bytes.
    virtual bool byte_level() const { return false; }
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json &j, const std::string &where);

} // namespace llmhost::tok
