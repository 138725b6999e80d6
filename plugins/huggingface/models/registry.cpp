// Architecture name (config.json "architectures"[0]) -> model code.
#include "model.hpp"

#include <llmhost/plugin.hpp>

namespace llmhost::engine {

const std::vector<std::string> &supported_architectures() {
    static const std::vector<std::string> names = {
        "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
        "GPT2LMHeadModel"};
    return names;
}

std::unique_ptr<CausalLM> make_model(const ModelConfig &cfg, const Weights &w,
                                     std::int64_t max_context) {
    require_supported_architecture(cfg.architecture);
    if (cfg.architecture == "GPT2LMHeadModel") return make_gpt2(cfg, w);
    return make_llama_family(cfg, w, max_context);
}

void require_supported_architecture(const std::string &a) {
    for (const auto &n : supported_architectures())
        if (n == a) return;
    std::string list;
    for (const auto &n : supported_architectures()) list += (list.empty() ? "" : ", ") + n;
    throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                      "model architecture '" + a + "' is not supported by the huggingface engine",
                      "supported architectures: " + list);
}

} // namespace llmhost::engine
