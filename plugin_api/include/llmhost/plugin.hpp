// llmhost C++ plugin SDK — header-only, on top of plugin.h.
//
// A C++ provider is a class derived from llmh::Provider; LLMH_DEFINE_PLUGIN exports the entry
// point and a function table that catches every exception at the ABI boundary and turns it into
// an llmh_error (llmh::Error keeps its code and hint; std::bad_alloc -> out_of_memory; anything
// else -> internal). Nothing C++ ever crosses the boundary.
//
//   class Echo : public llmh::Provider {
//    public:
//     Echo(const llmh::Json& config, llmh::Host host) { ... }
//     llmh::Completion generate(const llmh::Request& r, llmh::EventSink& sink) override { ... }
//   };
//   LLMH_DEFINE_PLUGIN(Echo, "echo", "1.0.0", "Echoes the prompt",
//                      LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING)
//
// The config arrives as a JSON string; the SDK does not impose a JSON library. Providers parse it
// with whatever they like (the in-tree ones use nlohmann::json).
#pragma once

#include <llmhost/plugin.h>

#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmh {

// An error with an ABI code, a message (what went wrong) and a hint (what to do).
class Error : public std::runtime_error {
public:
    Error(llmh_status code, std::string message, std::string hint = {}, int http_status = 0,
          double retry_after_s = 0)
        : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)),
          http_status_(http_status), retry_after_s_(retry_after_s) {}
    llmh_status code() const noexcept { return code_; }
    const std::string &hint() const noexcept { return hint_; }
    int http_status() const noexcept { return http_status_; }
    double retry_after_s() const noexcept { return retry_after_s_; }

    void fill(llmh_error *err) const noexcept {
        llmh_set_error(err, code_, what(), hint_.c_str());
        if (err && err->struct_size >= sizeof(llmh_error)) {
            err->http_status = http_status_;
            err->retry_after_s = retry_after_s_;
        }
    }

private:
    llmh_status code_;
    std::string hint_;
    int http_status_;
    double retry_after_s_;
};

// The one boolean parser of llmhost (host, plugins, CLI): "1", "true", "yes", "on" and "0",
// "false", "no", "off", any case, as huggingface_hub's _is_true reads environment switches;
// nullopt for anything else, so the caller can refuse it instead of guessing.
inline std::optional<bool> parse_bool(std::string_view text) {
    std::string t;
    for (char c : text) t += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return std::nullopt;
}

// Thin, copyable view of the host services handed to an instance.
class Host {
public:
    Host() = default;
    explicit Host(const llmh_host_services *s) : s_(s) {}

    std::optional<std::string> secret(const char *name) const {
        if (!s_ || !LLMH_HAS_FIELD(s_, llmh_host_services, get_secret) || !s_->get_secret)
            return std::nullopt;
        return fetch([&](char *b, size_t c) { return s_->get_secret(s_->ctx, name, b, c); });
    }
    std::optional<std::string> config(const char *json_pointer) const {
        if (!s_ || !LLMH_HAS_FIELD(s_, llmh_host_services, get_config) || !s_->get_config)
            return std::nullopt;
        return fetch([&](char *b, size_t c) { return s_->get_config(s_->ctx, json_pointer, b, c); });
    }
    void log(llmh_log_level level, const std::string &msg) const {
        if (s_ && LLMH_HAS_FIELD(s_, llmh_host_services, log) && s_->log)
            s_->log(s_->ctx, level, msg.c_str());
    }
    void debug(const std::string &m) const { log(LLMH_LOG_DEBUG, m); }
    void info(const std::string &m) const { log(LLMH_LOG_INFO, m); }
    void warn(const std::string &m) const { log(LLMH_LOG_WARN, m); }
    void error(const std::string &m) const { log(LLMH_LOG_ERROR, m); }
    // Returns true when the user asked to cancel.
    bool progress(const std::string &task, uint64_t done, uint64_t total) const {
        if (s_ && LLMH_HAS_FIELD(s_, llmh_host_services, progress) && s_->progress)
            return s_->progress(s_->ctx, task.c_str(), done, total) != 0;
        return false;
    }
    const llmh_host_services *raw() const { return s_; }

private:
    template <class F> static std::optional<std::string> fetch(F call) {
        std::string buf(256, '\0');
        for (int attempt = 0; attempt < 4; ++attempt) {
            int64_t n = call(buf.data(), buf.size());
            if (n < 0) return std::nullopt;
            if (static_cast<size_t>(n) < buf.size()) {
                buf.resize(static_cast<size_t>(n));
                return buf;
            }
            buf.assign(static_cast<size_t>(n) + 1, '\0');
        }
        return std::nullopt;
    }
    const llmh_host_services *s_ = nullptr;
};

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments; // JSON text
};

struct Message {
    std::string role;
    std::string content;
    bool has_content = true;                 // false: the C message had content == NULL
    std::optional<std::string> name;
    std::optional<std::string> tool_call_id; // role "tool"
    std::vector<ToolCall> tool_calls;        // role "assistant"
    std::optional<std::string> reasoning;    // role "assistant"
};

struct Tool {
    std::string name;
    std::string description;
    std::string parameters_json; // a JSON Schema text; empty: none
    bool strict = false;
};

enum class ToolChoice { automatic, none, required, function };

struct ResponseFormat {
    llmh_response_format_type type = LLMH_RESPONSE_TEXT;
    std::string name;        // json_schema
    std::string schema_json; // json_schema
    bool strict = false;
    bool is_text() const { return type == LLMH_RESPONSE_TEXT; }
};

// A request, copied out of the C structs (so a provider never reads past an old struct_size).
// Validated on the way: a provider sees no NULL role, no nameless tool, no tool_choice naming a
// tool that was not given.
struct Request {
    std::optional<std::string> model;
    std::vector<Message> messages; // empty for a raw prompt
    std::string prompt;
    bool is_chat = false;
    int max_tokens = 0;
    float temperature = -1.0f;
    float top_p = 0.0f;
    int top_k = 0;
    float min_p = 0.0f;
    float repetition_penalty = 0.0f;
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;
    bool stream = false;
    bool logprobs = false;
    int top_logprobs = 0;
    std::vector<Tool> tools;
    ToolChoice tool_choice = ToolChoice::automatic;
    std::string tool_choice_name;             // ToolChoice::function
    std::optional<bool> parallel_tool_calls;  // nullopt: the provider's default (allowed)
    ResponseFormat response_format;
    llmh_reasoning reasoning = LLMH_REASONING_DEFAULT;
    std::string reasoning_effort;             // "" or "low"/"medium"/"high" (implies ON)
    std::string grammar;                      // ABI 2.1: GBNF, root rule "root"; "" = none
    std::string regex;                        // ABI 2.1: the whole output matches it; "" = none

    static std::string str(const char *s) { return s ? std::string(s) : std::string(); }

    static ToolCall tool_call_from_c(const llmh_tool_call *c) {
        if (!c) throw Error(LLMH_ERR_INVALID_ARGUMENT, "a message's tool call is NULL");
        ToolCall t;
        if (LLMH_HAS_FIELD(c, llmh_tool_call, id)) t.id = str(c->id);
        if (LLMH_HAS_FIELD(c, llmh_tool_call, name)) t.name = str(c->name);
        if (LLMH_HAS_FIELD(c, llmh_tool_call, arguments)) t.arguments = str(c->arguments);
        if (t.name.empty()) throw Error(LLMH_ERR_INVALID_ARGUMENT, "a tool call has no name");
        if (t.arguments.empty()) t.arguments = "{}";
        return t;
    }

    static Message message_from_c(const llmh_message *m, size_t i) {
        if (!m || !LLMH_HAS_FIELD(m, llmh_message, content) || !m->role)
            throw Error(LLMH_ERR_INVALID_ARGUMENT,
                        "message " + std::to_string(i) + " is NULL or has no role");
        Message out;
        out.role = m->role;
        out.has_content = m->content != nullptr;
        out.content = str(m->content);
        if (LLMH_HAS_FIELD(m, llmh_message, name) && m->name) out.name = m->name;
        if (LLMH_HAS_FIELD(m, llmh_message, tool_call_id) && m->tool_call_id)
            out.tool_call_id = m->tool_call_id;
        if (LLMH_HAS_FIELD(m, llmh_message, n_tool_calls) && m->tool_calls)
            for (size_t k = 0; k < m->n_tool_calls; ++k)
                out.tool_calls.push_back(tool_call_from_c(m->tool_calls[k]));
        if (LLMH_HAS_FIELD(m, llmh_message, reasoning) && m->reasoning) out.reasoning = m->reasoning;
        return out;
    }

    static Tool tool_from_c(const llmh_tool *t) {
        if (!t || !LLMH_HAS_FIELD(t, llmh_tool, name) || !t->name || !*t->name)
            throw Error(LLMH_ERR_INVALID_ARGUMENT, "a tool is NULL or has no name");
        if (t->type && std::string_view(t->type) != "function")
            throw Error(LLMH_ERR_UNSUPPORTED,
                        "tool '" + std::string(t->name) + "' has type '" + t->type +
                            "'; only \"function\" tools exist");
        Tool out;
        out.name = t->name;
        out.description = str(t->description);
        if (LLMH_HAS_FIELD(t, llmh_tool, parameters_json)) out.parameters_json = str(t->parameters_json);
        if (LLMH_HAS_FIELD(t, llmh_tool, strict)) out.strict = t->strict != 0;
        return out;
    }

    static void params_from_c(const llmh_params *p, Request &q) {
        if (!p) return;
        if (LLMH_HAS_FIELD(p, llmh_params, max_tokens)) q.max_tokens = p->max_tokens;
        if (LLMH_HAS_FIELD(p, llmh_params, temperature)) q.temperature = p->temperature;
        if (LLMH_HAS_FIELD(p, llmh_params, top_p)) q.top_p = p->top_p;
        if (LLMH_HAS_FIELD(p, llmh_params, top_k)) q.top_k = p->top_k;
        if (LLMH_HAS_FIELD(p, llmh_params, min_p)) q.min_p = p->min_p;
        if (LLMH_HAS_FIELD(p, llmh_params, repetition_penalty))
            q.repetition_penalty = p->repetition_penalty;
        if (LLMH_HAS_FIELD(p, llmh_params, presence_penalty)) q.presence_penalty = p->presence_penalty;
        if (LLMH_HAS_FIELD(p, llmh_params, frequency_penalty))
            q.frequency_penalty = p->frequency_penalty;
        if (LLMH_HAS_FIELD(p, llmh_params, seed) && p->has_seed) q.seed = p->seed;
        if (LLMH_HAS_FIELD(p, llmh_params, n_stop) && p->stop)
            for (size_t i = 0; i < p->n_stop; ++i)
                if (p->stop[i]) q.stop.emplace_back(p->stop[i]);
        if (LLMH_HAS_FIELD(p, llmh_params, stream)) q.stream = p->stream != 0;
    }

    static Request from_c(const llmh_request *r) {
        Request q;
        if (!r) throw Error(LLMH_ERR_INVALID_ARGUMENT, "request is NULL");
        if (LLMH_HAS_FIELD(r, llmh_request, model) && r->model) q.model = r->model;
        if (LLMH_HAS_FIELD(r, llmh_request, n_messages) && r->messages) {
            q.is_chat = true;
            for (size_t i = 0; i < r->n_messages; ++i)
                q.messages.push_back(message_from_c(r->messages[i], i));
        }
        if (LLMH_HAS_FIELD(r, llmh_request, prompt) && r->prompt) q.prompt = r->prompt;
        if (LLMH_HAS_FIELD(r, llmh_request, params)) params_from_c(r->params, q);
        if (LLMH_HAS_FIELD(r, llmh_request, top_logprobs) && r->logprobs) {
            if (r->top_logprobs < 0 || r->top_logprobs > LLMH_TOP_LOGPROBS_MAX)
                throw Error(LLMH_ERR_INVALID_ARGUMENT,
                            "top_logprobs must be between 0 and " +
                                std::to_string(LLMH_TOP_LOGPROBS_MAX));
            q.logprobs = true;
            q.top_logprobs = r->top_logprobs;
        }
        if (LLMH_HAS_FIELD(r, llmh_request, n_tools) && r->tools)
            for (size_t i = 0; i < r->n_tools; ++i) q.tools.push_back(tool_from_c(r->tools[i]));
        if (LLMH_HAS_FIELD(r, llmh_request, tool_choice_name)) {
            switch (r->tool_choice) {
            case LLMH_TOOL_CHOICE_AUTO: q.tool_choice = ToolChoice::automatic; break;
            case LLMH_TOOL_CHOICE_NONE: q.tool_choice = ToolChoice::none; break;
            case LLMH_TOOL_CHOICE_REQUIRED: q.tool_choice = ToolChoice::required; break;
            case LLMH_TOOL_CHOICE_FUNCTION: q.tool_choice = ToolChoice::function; break;
            default:
                throw Error(LLMH_ERR_UNSUPPORTED,
                            "tool_choice " + std::to_string(r->tool_choice) + " is unknown");
            }
            if (q.tool_choice == ToolChoice::function) {
                q.tool_choice_name = str(r->tool_choice_name);
                bool known = false;
                for (const auto &t : q.tools) known = known || t.name == q.tool_choice_name;
                if (!known)
                    throw Error(LLMH_ERR_INVALID_ARGUMENT,
                                "tool_choice names function '" + q.tool_choice_name +
                                    "', which is not among the request's tools");
            }
            if ((q.tool_choice == ToolChoice::required) && q.tools.empty())
                throw Error(LLMH_ERR_INVALID_ARGUMENT, "tool_choice \"required\" needs tools");
        }
        if (LLMH_HAS_FIELD(r, llmh_request, parallel_tool_calls) && r->parallel_tool_calls >= 0)
            q.parallel_tool_calls = r->parallel_tool_calls > 0;
        if (LLMH_HAS_FIELD(r, llmh_request, response_format) && r->response_format) {
            const llmh_response_format *f = r->response_format;
            if (LLMH_HAS_FIELD(f, llmh_response_format, type)) {
                if (f->type < LLMH_RESPONSE_TEXT || f->type > LLMH_RESPONSE_JSON_SCHEMA)
                    throw Error(LLMH_ERR_UNSUPPORTED,
                                "response_format type " + std::to_string(f->type) + " is unknown");
                q.response_format.type = static_cast<llmh_response_format_type>(f->type);
            }
            if (LLMH_HAS_FIELD(f, llmh_response_format, name)) q.response_format.name = str(f->name);
            if (LLMH_HAS_FIELD(f, llmh_response_format, schema_json))
                q.response_format.schema_json = str(f->schema_json);
            if (LLMH_HAS_FIELD(f, llmh_response_format, strict))
                q.response_format.strict = f->strict != 0;
            if (q.response_format.type == LLMH_RESPONSE_JSON_SCHEMA &&
                q.response_format.schema_json.empty())
                throw Error(LLMH_ERR_INVALID_ARGUMENT, "response_format json_schema has no schema");
        }
        if (LLMH_HAS_FIELD(r, llmh_request, reasoning_effort)) {
            if (r->reasoning < LLMH_REASONING_DEFAULT || r->reasoning > LLMH_REASONING_ON)
                throw Error(LLMH_ERR_UNSUPPORTED,
                            "reasoning mode " + std::to_string(r->reasoning) + " is unknown");
            q.reasoning = static_cast<llmh_reasoning>(r->reasoning);
            q.reasoning_effort = str(r->reasoning_effort);
            if (!q.reasoning_effort.empty()) q.reasoning = LLMH_REASONING_ON;
        }
        // ABI 2.1: a 2.0 caller's struct ends before these, so they stay empty for it.
        if (LLMH_HAS_FIELD(r, llmh_request, grammar)) q.grammar = str(r->grammar);
        if (LLMH_HAS_FIELD(r, llmh_request, regex)) q.regex = str(r->regex);
        if (!q.grammar.empty() && !q.regex.empty())
            throw Error(LLMH_ERR_INVALID_ARGUMENT, "grammar and regex are both set; send one of them");
        return q;
    }
};

// One token and its log-probability, for EventSink::emit_logprob (bytes, not necessarily UTF-8).
struct TokenLogprob {
    std::string token;
    float logprob = 0;
};

// Where a provider sends its output events. Every emit throws Error(cancelled) when the caller
// cancels, so the provider's generation loop unwinds without special code.
class EventSink {
public:
    explicit EventSink(const llmh_request *r) {
        if (r && LLMH_HAS_FIELD(r, llmh_request, user)) {
            fn_ = r->on_event;
            cancel_ = r->should_cancel;
            user_ = r->user;
        }
        if (r && LLMH_HAS_FIELD(r, llmh_request, top_logprobs)) logprobs_ = r->logprobs != 0;
    }
    // A piece of the answer.
    void text(std::string_view piece, uint32_t n_tokens) {
        send(LLMH_EVENT_TEXT, piece, n_tokens);
    }
    void emit(std::string_view piece, uint32_t n_tokens) { text(piece, n_tokens); }
    // A piece of the reasoning.
    void reasoning(std::string_view piece, uint32_t n_tokens) {
        send(LLMH_EVENT_REASONING, piece, n_tokens);
    }
    // A tool call begins (index 0, 1, ... in order), then its arguments come in pieces.
    void tool_call_start(uint32_t index, const std::string &id, const std::string &name,
                         uint32_t n_tokens = 0) {
        llmh_event e = blank(LLMH_EVENT_TOOL_CALL_START, n_tokens);
        e.tool_index = index;
        e.tool_call_id = id.c_str();
        e.tool_name = name.c_str();
        deliver(e);
    }
    void tool_call_args(uint32_t index, std::string_view piece, uint32_t n_tokens = 0) {
        llmh_event e = blank(LLMH_EVENT_TOOL_CALL_ARGS, n_tokens);
        e.tool_index = index;
        e.text = piece.data();
        e.text_len = piece.size();
        deliver(e);
    }
    // True when the caller asked for logprobs (call emit_logprob before the token's text).
    bool wants_logprobs() const { return logprobs_ && fn_ != nullptr; }
    void emit_logprob(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top) {
        if (!wants_logprobs()) return;
        auto to_c = [](const TokenLogprob &t) {
            return llmh_token_logprob{sizeof(llmh_token_logprob), t.token.data(), t.token.size(),
                                      t.logprob};
        };
        std::vector<llmh_token_logprob> c_top;
        c_top.reserve(top.size());
        for (const auto &t : top) c_top.push_back(to_c(t));
        llmh_token_logprob c_chosen = to_c(chosen);
        llmh_event e = blank(LLMH_EVENT_LOGPROB, 0);
        e.logprob = &c_chosen;
        e.top = c_top.data();
        e.n_top = c_top.size();
        deliver(e);
    }
    bool cancelled() const { return cancel_ && cancel_(user_) != 0; }
    void check_cancelled() const {
        if (cancelled()) throw Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    }

private:
    static llmh_event blank(llmh_event_type type, uint32_t n_tokens) {
        llmh_event e{};
        e.struct_size = sizeof e;
        e.type = type;
        e.n_tokens = n_tokens;
        return e;
    }
    void send(llmh_event_type type, std::string_view piece, uint32_t n_tokens) {
        llmh_event e = blank(type, n_tokens);
        e.text = piece.data();
        e.text_len = piece.size();
        deliver(e);
    }
    void deliver(const llmh_event &e) {
        if (fn_ && fn_(user_, &e) != 0)
            throw Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    }
    llmh_event_fn fn_ = nullptr;
    llmh_cancel_fn cancel_ = nullptr;
    bool logprobs_ = false;
    void *user_ = nullptr;
};
using TokenSink = EventSink; // the 1.x name

struct Completion {
    llmh_finish_reason finish_reason = LLMH_FINISH_STOP;
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0; // reasoning included
    uint32_t reasoning_tokens = 0;
    uint32_t cached_tokens = 0;
    double time_to_first_token_ms = 0;
    double total_ms = 0;
};

struct ModelInfo {
    std::string id;
    std::string description;
};

// One sample for the host's /metrics (ABI 2.2, plugin.h llmh_metric).
struct Metric {
    std::string name; // [a-z_][a-z0-9_]*; counters end in _total
    std::string help;
    bool counter = false; // else a gauge
    std::string label_key, label_value; // one optional label ("" = none)
    double value = 0;
};

class Provider {
public:
    virtual ~Provider() = default;
    virtual Completion generate(const Request &request, EventSink &sink) = 0;
    virtual std::vector<ModelInfo> list_models() { return {}; }
    virtual bool thread_safe() const { return false; }
    // Called on a scrape, concurrently with generate: cheap, never blocking on a request.
    virtual std::vector<Metric> metrics() { return {}; }
};

namespace detail {

// Runs f, converting any exception into an error object.
template <class F> llmh_status guard(llmh_error *err, F &&f) noexcept {
    try {
        f();
        return LLMH_OK;
    } catch (const Error &e) {
        e.fill(err);
        return e.code();
    } catch (const std::bad_alloc &) {
        return llmh_set_error(err, LLMH_ERR_OUT_OF_MEMORY, "out of memory",
                              "free memory or use a smaller model");
    } catch (const std::exception &e) {
        return llmh_set_error(err, LLMH_ERR_INTERNAL, e.what(),
                              "this is a bug in the plugin; please report it");
    } catch (...) {
        return llmh_set_error(err, LLMH_ERR_INTERNAL, "unknown exception in plugin",
                              "this is a bug in the plugin; please report it");
    }
}

inline void fill_result(llmh_result *out, const Completion &c) {
    if (!out) return;
    if (LLMH_HAS_FIELD(out, llmh_result, finish_reason)) out->finish_reason = c.finish_reason;
    if (LLMH_HAS_FIELD(out, llmh_result, completion_tokens)) {
        out->prompt_tokens = c.prompt_tokens;
        out->completion_tokens = c.completion_tokens;
    }
    if (LLMH_HAS_FIELD(out, llmh_result, cached_tokens)) {
        out->reasoning_tokens = c.reasoning_tokens;
        out->cached_tokens = c.cached_tokens;
    }
    if (LLMH_HAS_FIELD(out, llmh_result, total_ms)) {
        out->time_to_first_token_ms = c.time_to_first_token_ms;
        out->total_ms = c.total_ms;
    }
}

template <class P> struct Adapter {
    static llmh_status create(const char *config_json, const llmh_host_services *host,
                              llmh_provider **out, llmh_error *err) {
        return guard(err, [&] {
            if (!out) throw Error(LLMH_ERR_INVALID_ARGUMENT, "create: out is NULL");
            auto *p = new P(std::string(config_json ? config_json : "{}"), Host(host));
            *out = reinterpret_cast<llmh_provider *>(static_cast<Provider *>(p));
        });
    }
    static void destroy(llmh_provider *p) noexcept {
        delete reinterpret_cast<Provider *>(p);
    }
    static uint32_t flags(llmh_provider *p) noexcept {
        return reinterpret_cast<Provider *>(p)->thread_safe() ? LLMH_PROVIDER_THREAD_SAFE : 0u;
    }
    static llmh_status generate(llmh_provider *p, const llmh_request *r, llmh_result *res,
                                llmh_error *err) {
        return guard(err, [&] {
            Request req = Request::from_c(r);
            EventSink sink(r);
            Completion c = reinterpret_cast<Provider *>(p)->generate(req, sink);
            fill_result(res, c);
        });
    }
    static llmh_status list_models(llmh_provider *p, llmh_model_fn fn, void *user,
                                   llmh_error *err) {
        return guard(err, [&] {
            for (const auto &m : reinterpret_cast<Provider *>(p)->list_models())
                if (fn) fn(user, m.id.c_str(), m.description.c_str());
        });
    }
    static llmh_status metrics(llmh_provider *p, llmh_metric_fn fn, void *user, llmh_error *err) {
        return guard(err, [&] {
            for (const auto &m : reinterpret_cast<Provider *>(p)->metrics()) {
                llmh_metric c{};
                c.struct_size = sizeof c;
                c.name = m.name.c_str();
                c.help = m.help.c_str();
                c.kind = m.counter ? LLMH_METRIC_COUNTER : LLMH_METRIC_GAUGE;
                c.label_key = m.label_key.empty() ? nullptr : m.label_key.c_str();
                c.label_value = m.label_key.empty() ? nullptr : m.label_value.c_str();
                c.value = m.value;
                if (fn) fn(user, &c);
            }
        });
    }
};

} // namespace detail
} // namespace llmh

// Defines the exported entry point for provider class CLASS, constructible from
// (std::string config_json, llmh::Host host). No manifest: the plugin gets no environment bridge.
#define LLMH_DEFINE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, CAPS)                               \
    LLMH_DEFINE_PLUGIN_WITH_MANIFEST(CLASS, NAME, VERSION, DESCRIPTION, CAPS, nullptr)

// The same, with the plugin's manifest (a JSON text with static storage, see
// docs/plugin-abi.md "Manifest"): its environment variables, secrets, config keys and flags.
#define LLMH_DEFINE_PLUGIN_WITH_MANIFEST(CLASS, NAME, VERSION, DESCRIPTION, CAPS, MANIFEST)       \
    extern "C" LLMH_PLUGIN_EXPORT llmh_status llmh_plugin_entry(                                 \
        uint32_t host_major, uint32_t host_minor, const llmh_host_services *host,                \
        const llmh_plugin **out, llmh_error *err) {                                              \
        (void)host_minor;                                                                        \
        (void)host;                                                                              \
        static const llmh_plugin desc = {                                                        \
            sizeof(llmh_plugin), LLMH_ABI_MAJOR, LLMH_ABI_MINOR, NAME, VERSION, DESCRIPTION,     \
            (CAPS), &::llmh::detail::Adapter<CLASS>::create,                                     \
            &::llmh::detail::Adapter<CLASS>::destroy, &::llmh::detail::Adapter<CLASS>::flags,    \
            &::llmh::detail::Adapter<CLASS>::generate,                                           \
            &::llmh::detail::Adapter<CLASS>::list_models, (MANIFEST),                            \
            &::llmh::detail::Adapter<CLASS>::metrics};                                           \
        if (host_major != LLMH_ABI_MAJOR) {                                                      \
            std::string m = std::string("plugin '") + NAME + "' was built for llmhost ABI " +    \
                            std::to_string(LLMH_ABI_MAJOR) + ".x, host speaks " +                 \
                            std::to_string(host_major) + ".x";                                   \
            return llmh_set_error(err, LLMH_ERR_ABI_MISMATCH, m.c_str(),                        \
                                  "rebuild the plugin against this host's plugin.h");            \
        }                                                                                        \
        if (!out) return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "out is NULL", "");      \
        *out = &desc;                                                                            \
        return LLMH_OK;                                                                          \
    }
