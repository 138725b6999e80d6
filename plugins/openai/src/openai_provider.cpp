// The openai provider plugin: chat and completions against any OpenAI-compatible endpoint
// (OpenAI, vLLM, Ollama, llama.cpp server, llmhost serve).
//
// Config (the provider's "config" object; the host has already resolved OPENAI_BASE_URL into
// base_url and hands OPENAI_API_KEY out as the secret "api_key"):
//   base_url          default https://api.openai.com/v1
//   model             default model when a request names none
//   organization, project   OpenAI-Organization / OpenAI-Project headers
//   max_retries       default 2 (as the SDKs)
//   timeout_s         per attempt, default 600;  connect_timeout_s default 5
// logprobs/top_logprobs, tools (tool_choice, parallel_tool_calls, tool messages), response_format
// and reasoning_effort are passed to the endpoint (wire_request.cpp); what comes back is turned
// into events: text, reasoning (reasoning_content / reasoning), tool calls (tool_call_assembler)
// and logprobs.
#include "openai_client.hpp"
#include "openai_manifest.h"
#include "tool_call_assembler.hpp"
#include "wire.hpp"

#include <llmhost/plugin.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace {

using llmhost::openai::ClientConfig;
using llmhost::openai::OpenAiClient;
using Clock = std::chrono::steady_clock;

ClientConfig read_config(const std::string &config_json, const llmh::Host &host) {
    nlohmann::json j = nlohmann::json::parse(config_json, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "openai: the provider config is not a JSON object",
                          "write the provider's \"config\" as {\"base_url\": ..., \"model\": ...}");
    auto str = [&](const char *key, std::string fallback) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return fallback;
        if (!it->is_string())
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("openai: config '") + key + "' must be a string",
                              "fix the provider's config in llmhost.json");
        return it->get<std::string>();
    };
    auto num = [&](const char *key, double fallback, double lo, double hi) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return fallback;
        if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi)
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("openai: config '") + key + "' must be a number from " +
                                  std::to_string(static_cast<long>(lo)) + " to " +
                                  std::to_string(static_cast<long>(hi)),
                              "fix the provider's config in llmhost.json");
        return it->get<double>();
    };
    ClientConfig c;
    c.base_url = str("base_url", c.base_url);
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    if (c.base_url.rfind("http://", 0) != 0 && c.base_url.rfind("https://", 0) != 0)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "openai: base_url '" + c.base_url + "' is not an http(s) URL",
                          "set base_url (or OPENAI_BASE_URL) to e.g. https://api.openai.com/v1 or "
                          "http://127.0.0.1:8080/v1");
    c.organization = str("organization", "");
    c.project = str("project", "");
    c.max_retries = static_cast<int>(num("max_retries", 2, 0, 20));
    c.timeout = std::chrono::milliseconds(
        static_cast<long long>(num("timeout_s", 600, 0.001, 86400) * 1000));
    c.connect_timeout = std::chrono::milliseconds(
        static_cast<long long>(num("connect_timeout_s", 5, 0.001, 600) * 1000));
    c.api_key = host.secret("api_key");
    if (c.api_key && c.api_key->empty()) c.api_key.reset();
    return c;
}

class OpenAiProvider final : public llmh::Provider {
public:
    OpenAiProvider(const std::string &config_json, llmh::Host host)
        : host_(host), client_(read_config(config_json, host), host) {
        nlohmann::json j = nlohmann::json::parse(config_json, nullptr, false);
        if (j.is_object() && j.contains("model") && j["model"].is_string())
            default_model_ = j["model"].get<std::string>();
    }

    bool thread_safe() const override { return true; } // immutable config + a thread-safe transport

    llmh::Completion generate(const llmh::Request &r, llmh::EventSink &sink) override {
        const std::string model = r.model && !r.model->empty() ? *r.model : default_model_;
        if (model.empty())
            throw llmh::Error(
                LLMH_ERR_INVALID_ARGUMENT, "openai: no model given",
                "name one in the request (-m MODEL) or set \"model\" in the provider's "
                "config");
        require_key_for_openai();
        if (r.is_chat && r.messages.empty())
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "openai: the chat request has no messages");
        const bool chat = r.is_chat;
        const std::string path = chat ? "/chat/completions" : "/completions";
        const std::string body = llmhost::openai::build_request_body(r, model, chat, r.stream);
        auto cancelled = [&sink] { return sink.cancelled(); };

        llmh::Completion out;
        const auto start = Clock::now();
        uint32_t pieces = 0;
        auto next_token = [&] {
            if (pieces == 0)
                out.time_to_first_token_ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            return ++pieces;
        };
        llmhost::openai::ToolCallAssembler calls(sink, next_token);
        // ABI 1.1: a token's logprob goes out before the text that carries it. An endpoint that
        // ignores logprobs (some do) must not turn into an answer without them.
        auto emit_logprobs = [&](const std::vector<llmhost::openai::TokenLogprobs> &lps,
                                 bool has_logprobs, const std::string &text) {
            if (!sink.wants_logprobs()) return;
            if (!has_logprobs && !text.empty())
                throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                                  "openai: the endpoint " + client_.config().base_url +
                                      " answered without the logprobs that were asked for",
                                  "this endpoint (or model) does not support logprobs; drop them "
                                  "from the request");
            for (const auto &t : lps) sink.emit_logprob(t.chosen, t.top);
        };
        // One delta or message, in the order a model writes: reasoning, text, tool calls.
        auto emit = [&](const std::string &reasoning, const std::string &text,
                        const std::vector<llmhost::openai::ToolCallFragment> &fragments) {
            if (!reasoning.empty()) sink.reasoning(reasoning, next_token());
            if (!text.empty()) sink.text(text, next_token());
            for (const auto &f : fragments) calls.add(f);
        };
        llmh_finish_reason upstream_finish = LLMH_FINISH_NONE;
        std::optional<std::string> whole; // a non-streamed answer (also to a stream request)
        if (r.stream) {
            bool done = false;
            whole = client_.post_stream(
                path, body, model,
                [&](const llmhost::openai::SseEvent &ev) {
                    if (done) return; // bytes after [DONE] are ignored, as the SDKs do
                    auto d = llmhost::openai::decode_stream_event(ev, chat);
                    if (d.done) {
                        done = true;
                        return;
                    }
                    emit_logprobs(d.logprobs, d.has_logprobs, d.content);
                    emit(d.reasoning, d.content, d.tool_calls);
                    if (d.finish != LLMH_FINISH_NONE) upstream_finish = d.finish;
                    if (d.usage) set_usage(out, *d.usage);
                },
                cancelled);
            if (!whole && !done &&
                upstream_finish ==
                    LLMH_FINISH_NONE) // EOF mid-answer: report it, unlike the SDKs' silent end
                throw llmh::Error(LLMH_ERR_NETWORK,
                                  "openai: the stream from " + client_.config().base_url +
                                      " ended before its last event",
                                  "the endpoint closed the stream early; retry the request");
        } else {
            whole = client_.post(path, body, model, cancelled);
        }
        if (whole) {
            auto resp = llmhost::openai::decode_response(*whole, chat);
            emit_logprobs(resp.logprobs, resp.has_logprobs, resp.text);
            emit(resp.reasoning, resp.text, resp.tool_calls);
            if (resp.finish != LLMH_FINISH_NONE) upstream_finish = resp.finish;
            if (resp.usage) set_usage(out, *resp.usage);
        }
        out.finish_reason = finish_reason(upstream_finish, calls.finish());
        if (out.completion_tokens == 0) out.completion_tokens = pieces;
        out.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        return out;
    }

    std::vector<llmh::ModelInfo> list_models() override {
        require_key_for_openai();
        return llmhost::openai::decode_models(client_.get("/models", nullptr));
    }

private:
    static void set_usage(llmh::Completion &c, const llmhost::openai::Usage &u) {
        c.prompt_tokens = u.prompt_tokens;
        c.completion_tokens = u.completion_tokens;
        c.reasoning_tokens = std::min(u.reasoning_tokens, u.completion_tokens);
        c.cached_tokens = std::min(u.cached_tokens, u.prompt_tokens);
    }
    // The answer ends with tool calls whenever it made some: servers that say "stop" after their
    // calls (Ollama, some vLLM parsers) still hand the caller calls to run. "length" stays: the
    // calls may be cut off. "tool_calls" with no call at all is the endpoint's error, not ours.
    llmh_finish_reason finish_reason(llmh_finish_reason upstream, std::size_t n_calls) const {
        if (n_calls > 0 && upstream != LLMH_FINISH_LENGTH) return LLMH_FINISH_TOOL_CALLS;
        if (upstream == LLMH_FINISH_TOOL_CALLS && n_calls == 0)
            throw llmh::Error(LLMH_ERR_NETWORK,
                              "openai: the endpoint " + client_.config().base_url +
                                  " finished with tool_calls but sent no tool call",
                              "the server's tool-call parser failed; retry, or check the server");
        return upstream == LLMH_FINISH_NONE ? LLMH_FINISH_STOP : upstream;
    }
    void require_key_for_openai() const {
        if (!client_.config().api_key &&
            client_.config().base_url.find("api.openai.com") != std::string::npos)
            throw llmh::Error(
                LLMH_ERR_AUTH_REQUIRED, "openai: no API key for api.openai.com",
                "set OPENAI_API_KEY (or the provider's api_key in llmhost.json); keys "
                "are at https://platform.openai.com/api-keys");
    }

    llmh::Host host_;
    OpenAiClient client_;
    std::string default_model_;
};

} // namespace

LLMH_DEFINE_PLUGIN_WITH_MANIFEST(OpenAiProvider, "openai", "0.2.0",
                                 "Chat and completions from any OpenAI-compatible endpoint",
                                 LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING |
                                     LLMH_CAP_LIST_MODELS | LLMH_CAP_LOGPROBS |
                                     LLMH_CAP_STRUCTURED_OUTPUT | LLMH_CAP_TOOLS |
                                     LLMH_CAP_REASONING,
                                 LLMH_OPENAI_MANIFEST)
