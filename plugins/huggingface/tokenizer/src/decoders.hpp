// Decoders of tokenizer.json ("decoder"): ByteLevel, Metaspace, ByteFallback, Fuse, Strip,
// Replace, Sequence. Like the Rust library, each rewrites the list of token strings
// (decode_chain) and the results are concatenated.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>

#include <memory>
#include <string>
#include <vector>

namespace llmhost::tok {

class Decoder {
  public:
    virtual ~Decoder() = default;
    virtual void decode_chain(std::vector<std::string> &tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json &j, const std::string &where);

} // namespace llmhost::tok
