// Normalizers of tokenizer.json ("normalizer"): Sequence, Prepend, Replace, NFC, Strip.
// They rewrite a whole segment of text (between added tokens) before pre-tokenization.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

namespace llmhost::tok {

class Normalizer {
  public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string &text) const = 0;
};

// nullptr for a json null. Throws TokenizerError naming `where` for unsupported types.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json &j, const std::string &where);

} // namespace llmhost::tok
