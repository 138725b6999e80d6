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
//     llmh::Completion generate(const llmh::Request& r, llmh::TokenSink& sink) override { ... }
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

struct Message {
    std::string role;
    std::string content;
};

// A request, copied out of the C struct (so a provider never reads past an old struct_size).
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
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;
    bool stream = false;
    // ABI 1.1 (see plugin.h: the host sets these only for a plugin advertising the capability).
    bool logprobs = false;
    int top_logprobs = 0;
    std::optional<std::string> response_format_json;

    static Request from_c(const llmh_request *r) {
        Request q;
        if (!r) throw Error(LLMH_ERR_INVALID_ARGUMENT, "request is NULL");
        if (LLMH_HAS_FIELD(r, llmh_request, model) && r->model) q.model = r->model;
        if (LLMH_HAS_FIELD(r, llmh_request, n_messages) && r->messages) {
            q.is_chat = true;
            for (size_t i = 0; i < r->n_messages; ++i) {
                const llmh_message &m = r->messages[i];
                q.messages.push_back({m.role ? m.role : "", m.content ? m.content : ""});
            }
        }
        if (LLMH_HAS_FIELD(r, llmh_request, prompt) && r->prompt) q.prompt = r->prompt;
        if (LLMH_HAS_FIELD(r, llmh_request, params)) {
            const llmh_params &p = r->params;
            if (LLMH_HAS_FIELD(&p, llmh_params, max_tokens)) q.max_tokens = p.max_tokens;
            if (LLMH_HAS_FIELD(&p, llmh_params, temperature)) q.temperature = p.temperature;
            if (LLMH_HAS_FIELD(&p, llmh_params, top_p)) q.top_p = p.top_p;
            if (LLMH_HAS_FIELD(&p, llmh_params, top_k)) q.top_k = p.top_k;
            if (LLMH_HAS_FIELD(&p, llmh_params, min_p)) q.min_p = p.min_p;
            if (LLMH_HAS_FIELD(&p, llmh_params, repetition_penalty))
                q.repetition_penalty = p.repetition_penalty;
            if (LLMH_HAS_FIELD(&p, llmh_params, seed) && p.has_seed) q.seed = p.seed;
            if (LLMH_HAS_FIELD(&p, llmh_params, n_stop) && p.stop)
                for (size_t i = 0; i < p.n_stop; ++i)
                    if (p.stop[i]) q.stop.emplace_back(p.stop[i]);
            if (LLMH_HAS_FIELD(&p, llmh_params, stream)) q.stream = p.stream != 0;
        }
        if (LLMH_HAS_FIELD(r, llmh_request, on_logprob) && r->logprobs) {
            if (r->top_logprobs < 0 || r->top_logprobs > LLMH_TOP_LOGPROBS_MAX)
                throw Error(LLMH_ERR_INVALID_ARGUMENT,
                            "top_logprobs must be between 0 and " +
                                std::to_string(LLMH_TOP_LOGPROBS_MAX));
            q.logprobs = true;
            q.top_logprobs = r->top_logprobs;
        }
        if (LLMH_HAS_FIELD(r, llmh_request, response_format_json) && r->response_format_json)
            q.response_format_json = r->response_format_json;
        return q;
    }
};

// One token and its log-probability, for TokenSink::emit_logprob (bytes, not necessarily UTF-8).
struct TokenLogprob {
    std::string token;
    float logprob = 0;
};

// Where a provider sends text. emit() throws Error(cancelled) when the caller cancels, so the
// provider's generation loop unwinds without special code.
class TokenSink {
public:
    explicit TokenSink(const llmh_request *r) {
        if (r && LLMH_HAS_FIELD(r, llmh_request, user)) {
            fn_ = r->on_token;
            cancel_ = r->should_cancel;
            user_ = r->user;
        }
        if (r && LLMH_HAS_FIELD(r, llmh_request, on_logprob) && r->logprobs)
            logprob_fn_ = r->on_logprob;
    }
    // True when the caller asked for logprobs (call emit_logprob before emit for each token).
    bool wants_logprobs() const { return logprob_fn_ != nullptr; }
    void emit_logprob(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top) {
        if (!logprob_fn_) return;
        auto to_c = [](const TokenLogprob &t) {
            return llmh_token_logprob{sizeof(llmh_token_logprob), t.token.data(), t.token.size(),
                                      t.logprob};
        };
        std::vector<llmh_token_logprob> c_top;
        c_top.reserve(top.size());
        for (const auto &t : top) c_top.push_back(to_c(t));
        llmh_token_logprob c_chosen = to_c(chosen);
        if (logprob_fn_(user_, &c_chosen, c_top.data(), c_top.size()) != 0)
            throw Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    }
    void emit(std::string_view piece, uint32_t n_tokens) {
        if (fn_ && fn_(user_, piece.data(), piece.size(), n_tokens) != 0)
            throw Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    }
    bool cancelled() const { return cancel_ && cancel_(user_) != 0; }
    void check_cancelled() const {
        if (cancelled()) throw Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    }

private:
    llmh_token_fn fn_ = nullptr;
    llmh_cancel_fn cancel_ = nullptr;
    llmh_logprob_fn logprob_fn_ = nullptr;
    void *user_ = nullptr;
};

struct Completion {
    llmh_finish_reason finish_reason = LLMH_FINISH_STOP;
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0;
    double time_to_first_token_ms = 0;
    double total_ms = 0;
};

struct ModelInfo {
    std::string id;
    std::string description;
};

class Provider {
public:
    virtual ~Provider() = default;
    virtual Completion generate(const Request &request, TokenSink &sink) = 0;
    virtual std::vector<ModelInfo> list_models() { return {}; }
    virtual bool thread_safe() const { return false; }
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
            TokenSink sink(r);
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
};

} // namespace detail
} // namespace llmh

// Defines the exported entry point for provider class CLASS, constructible from
// (std::string config_json, llmh::Host host). No manifest: the plugin gets no environment bridge.
#define LLMH_DEFINE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, CAPS)                               \
    LLMH_DEFINE_PLUGIN_WITH_MANIFEST(CLASS, NAME, VERSION, DESCRIPTION, CAPS, nullptr)

// ABI 1.2: the same, with the plugin's manifest (a JSON text with static storage, see
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
            &::llmh::detail::Adapter<CLASS>::list_models, (MANIFEST)};                           \
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
