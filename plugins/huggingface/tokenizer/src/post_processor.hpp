// Post-processors of tokenizer.json ("post_processor") for a single sequence: TemplateProcessing,
// ByteLevel (no ids), BertProcessing, RobertaProcessing and Sequence of them. For one sequence
// each reduces to ids added in front of and behind the encoded text.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace llmhost::tok {

struct PostProcessor {
    std::vector<int32_t> prefix, suffix;
};

PostProcessor make_post_processor(const nlohmann::json &j, const std::string &where);

} // namespace llmhost::tok
