// Shared test fixture: a temporary repo root served by the in-process Hub-protocol mirror, a
// temporary cache, and two tokens (alice: granted the private and gated repos; bob: nothing).
#pragma once

#include <llmhost/hub/client.hpp>
#include <llmhost/mirror/server.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace hubtest {

namespace fs = std::filesystem;

inline const char *const kAlice = "hf_alice-TEST-token-0123456789abcdef";
inline const char *const kBob = "hf_bobTESTtoken9876543210fedcba";

struct TempDir {
    fs::path path;
    explicit TempDir(const char *prefix) {
        std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        char *p = ::mkdtemp(tmpl.data());
        REQUIRE(p != nullptr);
        path = p;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

inline std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        auto v = rng();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k) s[i + k] = static_cast<char>((v >> (8 * k)) & 0xff);
    }
    return s;
}

inline void write_file(const fs::path &p, const std::string &content) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string read_file(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Mirror {
    TempDir root{"hubtest-repos"};
    TempDir cache{"hubtest-cache"};
    std::unique_ptr<llmhost::mirror::Server> server;
    std::string weights = random_bytes(3 * 1024 * 1024 + 123, 1); // public model.safetensors (LFS)
    std::string big = random_bytes(8 * 1024 * 1024, 7);           // org/big-model (LFS)
    std::string config = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64}\n";
    std::string tokenizer = random_bytes(20000, 3);
    std::string notes = "nested file\n";

    explicit Mirror(std::string lfs_redirect_host = "") {
        fs::path r = root.path;
        write_file(r / "org/public-model/config.json", config);
        write_file(r / "org/public-model/tokenizer.json", tokenizer);
        write_file(r / "org/public-model/sub/dir/notes.txt", notes);
        write_file(r / "org/public-model/model.safetensors", weights);
        write_file(r / "org/private-model/.mirror.json", R"({"access": "private", "tokens": ["alice"]})");
        write_file(r / "org/private-model/config.json", config);
        write_file(r / "org/gated-model/.mirror.json", R"({"access": "gated", "tokens": ["alice"]})");
        write_file(r / "org/gated-model/config.json", config);
        write_file(r / "org/gated-model/model.safetensors", random_bytes(200000, 5));
        write_file(r / "org/big-model/config.json", config);
        write_file(r / "org/big-model/model.safetensors", big);
        fs::path tokens = r.parent_path() / (r.filename().string() + "-tokens.json");
        write_file(tokens, std::string(R"({"tokens": [)") + R"({"name": "alice", "token": ")" + kAlice +
                               R"(", "role": "read", "user": "alice"},)" + R"({"name": "bob", "token": ")" + kBob +
                               R"(", "role": "write", "user": "bob"}]})");
        tokens_file = tokens;
        llmhost::mirror::ServerOptions o;
        o.root = r;
        o.tokens_file = tokens;
        o.lfs_redirect_host = std::move(lfs_redirect_host);
        o.page_size = 2; // several tree pages even for small repos (Link rel="next")
        server = std::make_unique<llmhost::mirror::Server>(o);
        server->start();
    }
    ~Mirror() {
        server->stop();
        std::error_code ec;
        fs::remove(tokens_file, ec);
    }

    llmhost::hub::ClientOptions options(std::optional<std::string> token = std::nullopt) const {
        llmhost::hub::ClientOptions o;
        o.endpoint = server->endpoint();
        o.cache_dir = cache.path;
        o.token = std::move(token);
        o.retry.initial_delay = std::chrono::milliseconds(20);
        o.retry.max_delay = std::chrono::milliseconds(100);
        o.etag_timeout = std::chrono::milliseconds(5000);
        o.download_timeout = std::chrono::milliseconds(5000);
        return o;
    }

    // The server records a request once its response is fully written, which can be just after
    // the client saw the last byte: settle() waits until no new record arrives for 100 ms.
    void settle() const {
        std::size_t n = server->requests().size();
        for (int quiet = 0; quiet < 2;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::size_t now = server->requests().size();
            quiet = now == n ? quiet + 1 : 0;
            n = now;
        }
    }
    void settle_and_clear() {
        settle();
        server->clear_requests();
    }

    std::vector<llmhost::mirror::RequestRecord> requests() const {
        settle();
        return server->requests();
    }

    // Requests whose target contains `needle` (and method, when given).
    std::vector<llmhost::mirror::RequestRecord> requests_for(const std::string &needle,
                                                             const std::string &method = "") const {
        std::vector<llmhost::mirror::RequestRecord> out;
        for (auto &r : requests())
            if (r.target.find(needle) != std::string::npos && (method.empty() || r.method == method)) out.push_back(r);
        return out;
    }

    fs::path tokens_file;
};

// Runs f and returns the llmh::Error it throws (fails the test if it does not throw one).
template <class F> llmh::Error expect_error(F &&f) {
    try {
        f();
    } catch (const llmh::Error &e) {
        return e;
    }
    FAIL("expected an llmh::Error");
    return llmh::Error(LLMH_OK, "");
}

} // namespace hubtest
