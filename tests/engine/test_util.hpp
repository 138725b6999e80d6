// Helpers for the engine tests: a temporary directory and tiny models written into it.
#pragma once

#include "tiny_model.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace test {

// A case that has nothing to compare says so and, under ctest (which sets LLMHOST_TEST_SKIP_EXIT
// for each case it runs alone: tests/engine/CMakeLists.txt), exits 77 so that it is counted as
// skipped, not passed. Run by hand, the binary goes on with the next case. (Printed, not
// doctest's MESSAGE: this header stays free of doctest, whose CHECK each test file defines after
// libtorch's headers, which define a CHECK of their own.)
inline bool skip_case(const std::string &why) {
    std::printf("skipped: %s\n", why.c_str());
    std::fflush(stdout);
    if (std::getenv("LLMHOST_TEST_SKIP_EXIT")) std::exit(77);
    return true;
}

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
