// Helpers for the engine tests: a temporary directory and tiny models written into it.
#pragma once

#include "tiny_model.hpp"

#include <filesystem>
#include <random>
#include <string>

namespace test {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("llmhost-engine-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(const std::string &s) const { return path / s; }
};

inline llmhost::tools::TinyModelSpec spec(const std::string &arch, std::uint64_t seed = 3) {
    llmhost::tools::TinyModelSpec s;
    s.arch = arch;
    s.seed = seed;
    s.vocab_size = 384;
    s.hidden_size = 64;
    s.intermediate_size = 96;
    s.num_layers = 2;
    s.num_heads = 4;
    s.num_kv_heads = arch == "gpt2" ? 4 : 2;
    s.max_position_embeddings = 128;
    s.eos_token_ids = {2};
    if (arch == "qwen3") s.head_dim = 32; // heads * head_dim != hidden, as in real Qwen3
    return s;
}

} // namespace test
