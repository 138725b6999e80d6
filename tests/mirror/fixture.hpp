// Test repos on disk and a mirror serving them on 127.0.0.1 (ephemeral port).
#pragma once

#include "http_client.hpp"

#include <llmhost/mirror/server.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace mirror_test {

namespace fs = std::filesystem;

// Secret values the tests use; a request log must never contain them.
inline const std::string kAliceToken = "hf_alice_S3cretValue_0123456789";  // granted org/private
inline const std::string kBobToken = "hf_bob_S3cretValue_9876543210";      // granted org/gated
inline const std::string kCarolToken = "hf_carol_S3cretValue_5555555555";  // write role, no grants

struct TempDir {
    fs::path path;
    TempDir();
    ~TempDir();
};

void write_file(const fs::path &path, const std::string &content);
std::string read_file(const fs::path &path);
std::string pseudo_random_bytes(std::size_t n, unsigned seed);

// Plain layout under root:
//   org/tiny: config.json, README.md, sub/dir/notes.txt, model.safetensors (300000 bytes, LFS)
//   org/private (.mirror.json private, token alice), org/gated (.mirror.json gated; bob granted by
//   the tokens file), datasets/org/data: train.csv.  Returns the tokens file path.
fs::path make_plain_repos(const fs::path &root);

// A huggingface_hub cache: models--org--cached with one snapshot (config.json regular, weights.safetensors
// LFS), refs/main and refs/v1. Returns the snapshot's commit.
std::string make_hf_cache(const fs::path &root, std::string &config_content, std::string &weights_content);

struct Mirror {
    TempDir dir;
    fs::path tokens;
    std::unique_ptr<llmhost::mirror::Server> server;
    std::string ep;
    // Creates the plain repos (and tokens file), then `more(root)` (e.g. an HF cache), then starts.
    explicit Mirror(llmhost::mirror::ServerOptions options = {},
                    const std::function<void(const fs::path &)> &more = {});
    ~Mirror();
};

std::string auth(const std::string &token);  // "Authorization: Bearer <token>"

} // namespace mirror_test
