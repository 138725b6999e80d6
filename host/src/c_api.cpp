// The C API (host.h) over llmhost::Host: exceptions become status codes and a thread-local
// last error; strings handed out are malloc'd.
#include <llmhost/host.h>
#include <llmhost/host.hpp>
#include <llmhost/plugin.hpp>

#include <cstdlib>
#include <cstring>
#include <type_traits>

struct llmhost_host {
    std::unique_ptr<llmhost::Host> host;
};

namespace {

struct LastError {
    int code = 0;
    std::string message;
    std::string hint;
};
thread_local LastError g_last;
// The target that served this thread's last successful generation (llmhost_last_served_by).
thread_local std::string g_served_by;

void clear_error() { g_last = LastError{}; }

int set_error(int code, std::string message, std::string hint = {}) {
    g_last.code = code;
    g_last.message = std::move(message);
    g_last.hint = std::move(hint);
    return code;
}

// Runs f; an exception becomes the thread's last error and `fail` is returned.
template <class R, class F>
R guarded(R fail, F &&f) noexcept {
    clear_error();
    try {
        return f();
    } catch (const llmhost::HostError &e) {
        set_error(e.code(), e.what(), e.hint());
    } catch (const std::bad_alloc &) {
        set_error(LLMH_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception &e) {
        set_error(LLMH_ERR_INTERNAL, e.what(), "this is a bug in llmhost; please report it");
    } catch (...) {
        set_error(LLMH_ERR_INTERNAL, "unknown exception",
                  "this is a bug in llmhost; please report it");
    }
    if constexpr (std::is_same_v<R, int>)
        return g_last.code; // status-returning functions
    else
        return fail;
}

char *dup_string(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

llmhost::Host &checked(llmhost_host *h) {
    if (h == nullptr || !h->host)
        throw llmhost::HostError(LLMH_ERR_INVALID_ARGUMENT, "the llmhost_host handle is NULL",
                                 "open one with llmhost_open first");
    return *h->host;
}

} // namespace

extern "C" {

LLMHOST_API llmhost_open_params llmhost_open_default_params(void) {
    llmhost_open_params p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.use_config_file = 1;
    p.search_default_plugin_dirs = 1;
    p.log_level = LLMH_LOG_INFO;
    return p;
}

LLMHOST_API llmhost_host *llmhost_open_ext(const llmhost_open_params *params) {
    return guarded<llmhost_host *>(nullptr, [&] {
        llmhost_open_params p = llmhost_open_default_params();
        if (params) std::memcpy(&p, params, std::min<size_t>(params->struct_size, sizeof p));
        llmhost::HostOptions o;
        if (p.config_path) o.config_path = p.config_path;
        o.use_config_file = p.use_config_file != 0;
        for (size_t i = 0; p.plugin_dirs && i < p.n_plugin_dirs; ++i)
            if (p.plugin_dirs[i]) o.plugin_dirs.emplace_back(p.plugin_dirs[i]);
        o.search_default_plugin_dirs = p.search_default_plugin_dirs != 0;
        if (p.default_provider) o.default_provider = p.default_provider;
        o.log_level = static_cast<llmh_log_level>(p.log_level);
        auto h = std::make_unique<llmhost_host>();
        h->host = llmhost::Host::open(o);
        return h.release();
    });
}

LLMHOST_API llmhost_host *llmhost_open(const char *config_path) {
    llmhost_open_params p = llmhost_open_default_params();
    p.config_path = config_path;
    return llmhost_open_ext(&p);
}

LLMHOST_API llmhost_host *llmhost_open_from_env(void) {
    llmhost_open_params p = llmhost_open_default_params();
    p.use_config_file = 0;
    return llmhost_open_ext(&p);
}

LLMHOST_API void llmhost_close(llmhost_host *host) { delete host; }

namespace {

// llmh_request (read through the SDK's struct_size-aware, validating reader) -> GenerateRequest.
llmhost::GenerateRequest from_c_request(const llmh_request *c) {
    // The SDK reader turns an effort into reasoning ON; an explicit OFF with an effort is a
    // contradiction the caller must hear about, as the C++ and HTTP callers do.
    if (c != nullptr && LLMH_HAS_FIELD(c, llmh_request, reasoning_effort) &&
        c->reasoning == LLMH_REASONING_OFF && c->reasoning_effort != nullptr &&
        *c->reasoning_effort)
        throw llmhost::HostError(LLMH_ERR_INVALID_ARGUMENT,
                                 "llmhost_generate: reasoning_effort is set but reasoning is off",
                                 "drop one of them");
    llmh::Request q;
    try {
        q = llmh::Request::from_c(c);
    } catch (const llmh::Error &e) {
        throw llmhost::HostError(e.code(), std::string("llmhost_generate: ") + e.what(), e.hint());
    }
    llmhost::GenerateRequest r;
    if (q.model) r.model = *q.model;
    r.prompt = q.prompt;
    for (auto &m : q.messages) {
        llmhost::Message out{m.role,
                             m.content,
                             m.name.value_or(""),
                             m.tool_call_id.value_or(""),
                             {},
                             m.reasoning.value_or("")};
        for (auto &t : m.tool_calls) out.tool_calls.push_back({t.id, t.name, t.arguments});
        r.messages.push_back(std::move(out));
    }
    r.max_tokens = q.max_tokens;
    r.temperature = q.temperature;
    r.top_p = q.top_p;
    r.top_k = q.top_k;
    r.min_p = q.min_p;
    r.repetition_penalty = q.repetition_penalty;
    r.presence_penalty = q.presence_penalty;
    r.frequency_penalty = q.frequency_penalty;
    r.seed = q.seed;
    r.stop = q.stop;
    r.stream = q.stream;
    r.logprobs = q.logprobs;
    r.top_logprobs = q.top_logprobs;
    for (auto &t : q.tools) r.tools.push_back({t.name, t.description, t.parameters_json, t.strict});
    switch (q.tool_choice) {
    case llmh::ToolChoice::automatic: r.tool_choice = LLMH_TOOL_CHOICE_AUTO; break;
    case llmh::ToolChoice::none: r.tool_choice = LLMH_TOOL_CHOICE_NONE; break;
    case llmh::ToolChoice::required: r.tool_choice = LLMH_TOOL_CHOICE_REQUIRED; break;
    case llmh::ToolChoice::function: r.tool_choice = LLMH_TOOL_CHOICE_FUNCTION; break;
    }
    r.tool_choice_name = q.tool_choice_name;
    r.parallel_tool_calls = q.parallel_tool_calls;
    r.response_format = {q.response_format.type, q.response_format.name,
                         q.response_format.schema_json, q.response_format.strict};
    r.reasoning = q.reasoning;
    r.reasoning_effort = q.reasoning_effort;
    r.grammar = q.grammar; // ABI 2.1; empty for a 2.0 caller's smaller struct
    r.regex = q.regex;
    return r;
}

// Hands the host's events back to the caller's C callback, as the plugin ABI's llmh_event.
struct CEvents {
    llmh_event_fn fn = nullptr;
    void *user = nullptr;
    llmh_cancel_fn cancel = nullptr;

    bool send(llmh_event &e) const { return fn == nullptr || fn(user, &e) == 0; }
    bool event(const llmhost::Event &ev) const {
        if (ev.type == LLMH_EVENT_LOGPROB) return true;
        llmh_event e{};
        e.struct_size = sizeof e;
        e.type = ev.type;
        e.text = ev.text.data();
        e.text_len = ev.text.size();
        e.n_tokens = ev.n_tokens;
        e.tool_index = ev.tool_index;
        const std::string id(ev.tool_call_id), name(ev.tool_name); // NUL-terminated for C
        e.tool_call_id = ev.type == LLMH_EVENT_TOOL_CALL_START ? id.c_str() : nullptr;
        e.tool_name = ev.type == LLMH_EVENT_TOOL_CALL_START ? name.c_str() : nullptr;
        return send(e);
    }
    bool logprob(const llmhost::TokenLogprob &chosen,
                 const std::vector<llmhost::TokenLogprob> &top) const {
        auto to_c = [](const llmhost::TokenLogprob &t) {
            return llmh_token_logprob{sizeof(llmh_token_logprob), t.token.data(), t.token.size(),
                                      t.logprob};
        };
        std::vector<llmh_token_logprob> c_top;
        for (const auto &t : top) c_top.push_back(to_c(t));
        const llmh_token_logprob c_chosen = to_c(chosen);
        llmh_event e{};
        e.struct_size = sizeof e;
        e.type = LLMH_EVENT_LOGPROB;
        e.logprob = &c_chosen;
        e.top = c_top.data();
        e.n_top = c_top.size();
        return send(e);
    }
};

llmhost::GenerateResult run_c_request(llmhost_host *host, const char *provider,
                                      const llmh_request *request, llmh_result *result) {
    g_served_by.clear();
    auto &h = checked(host);
    if (request == nullptr)
        throw llmhost::HostError(LLMH_ERR_INVALID_ARGUMENT, "llmhost_generate: request is NULL",
                                 "build one with llmhost_request_init");
    llmhost::GenerateRequest r = from_c_request(request);
    CEvents ev;
    if (LLMH_HAS_FIELD(request, llmh_request, user)) {
        ev.fn = request->on_event;
        ev.user = request->user;
        ev.cancel = request->should_cancel;
    }
    if (ev.fn) {
        r.on_event = [&ev](const llmhost::Event &e) { return ev.event(e); };
        if (r.logprobs)
            r.on_logprob = [&ev](const llmhost::TokenLogprob &c,
                                 const std::vector<llmhost::TokenLogprob> &t) {
                return ev.logprob(c, t);
            };
    }
    if (ev.cancel) r.should_cancel = [&ev] { return ev.cancel(ev.user) != 0; };
    auto res = h.generate(provider ? provider : "", r);
    g_served_by = res.served_by;
    if (result) {
        llmh_result out{};
        out.struct_size = sizeof out;
        out.finish_reason = res.finish_reason;
        out.prompt_tokens = res.prompt_tokens;
        out.completion_tokens = res.completion_tokens;
        out.reasoning_tokens = res.reasoning_tokens;
        out.cached_tokens = res.cached_tokens;
        out.time_to_first_token_ms = res.time_to_first_token_ms;
        out.total_ms = res.total_ms;
        *result = out;
    }
    return res;
}

} // namespace

LLMHOST_API int llmhost_generate(llmhost_host *host, const char *provider,
                                 const llmh_request *request, llmh_result *result, char **text) {
    return guarded<int>(-1, [&]() -> int {
        auto res = run_c_request(host, provider, request, result);
        if (text) *text = dup_string(res.text);
        return LLMH_OK;
    });
}

LLMHOST_API int llmhost_generate_message(llmhost_host *host, const char *provider,
                                         const llmh_request *request, llmh_result *result,
                                         char **message_json) {
    return guarded<int>(-1, [&]() -> int {
        auto res = run_c_request(host, provider, request, result);
        nlohmann::json m = {{"role", "assistant"}};
        m["content"] = res.text.empty() && !res.tool_calls.empty() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(res.text);
        if (!res.reasoning.empty()) m["reasoning_content"] = res.reasoning;
        if (!res.tool_calls.empty()) {
            m["tool_calls"] = nlohmann::json::array();
            for (const auto &c : res.tool_calls)
                m["tool_calls"].push_back(
                    {{"id", c.id},
                     {"type", "function"},
                     {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        }
        if (message_json)
            *message_json =
                dup_string(m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return LLMH_OK;
    });
}

static nlohmann::json plugin_json(const llmhost::PluginInfo &p) {
    return {{"path", p.path},
            {"loaded", p.loaded},
            {"name", p.name},
            {"version", p.version},
            {"description", p.description},
            {"abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)},
            {"capabilities", llmhost::capability_names(p.capabilities)},
            {"shadowed_by", p.shadowed_by},
            {"error_code", p.error_code},
            {"error", p.error},
            {"hint", p.hint}};
}

LLMHOST_API char *llmhost_providers_json(llmhost_host *host) {
    return guarded<char *>(nullptr, [&] {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto &p : checked(host).providers())
            arr.push_back({{"name", p.name},
                           {"plugin", p.plugin},
                           {"default", p.is_default},
                           {"state", llmhost::to_string(p.state)},
                           {"error", p.error},
                           {"thread_safe", p.thread_safe},
                           {"generation", p.generation}});
        return dup_string(arr.dump());
    });
}

LLMHOST_API char *llmhost_plugins_json(llmhost_host *host) {
    return guarded<char *>(nullptr, [&] {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto &p : checked(host).plugins()) arr.push_back(plugin_json(p));
        return dup_string(arr.dump());
    });
}

LLMHOST_API char *llmhost_models_json(llmhost_host *host, const char *provider) {
    return guarded<char *>(nullptr, [&] {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto &m : checked(host).list_models(provider ? provider : ""))
            arr.push_back({{"id", m.id}, {"description", m.description}});
        return dup_string(arr.dump());
    });
}

LLMHOST_API char *llmhost_config_json(llmhost_host *host) {
    return guarded<char *>(
        nullptr, [&] { return dup_string(checked(host).resolved_config_for_display().dump()); });
}

LLMHOST_API char *llmhost_default_provider(llmhost_host *host) {
    return guarded<char *>(nullptr, [&] { return dup_string(checked(host).default_provider()); });
}

LLMHOST_API int llmhost_swap(llmhost_host *host, const char *name, const char *entry_json) {
    return guarded<int>(-1, [&]() -> int {
        auto &h = checked(host);
        nlohmann::json entry;
        try {
            entry = nlohmann::json::parse(entry_json ? entry_json : "");
        } catch (const nlohmann::json::parse_error &e) {
            // The entry may hold a secret: report the position only, never the text.
            return set_error(LLMHOST_ERR_CONFIG,
                             "llmhost_swap: the entry is not valid JSON (at byte " +
                                 std::to_string(e.byte) + ")",
                             "pass {\"plugin\": \"...\", \"config\": {...}}");
        }
        h.swap(name ? name : "", entry);
        return LLMH_OK;
    });
}

LLMHOST_API int llmhost_reload(llmhost_host *host) {
    return guarded<int>(-1, [&] {
        checked(host).reload();
        return static_cast<int>(LLMH_OK);
    });
}

LLMHOST_API char *llmhost_redact(llmhost_host *host, const char *text) {
    return guarded<char *>(nullptr,
                           [&] { return dup_string(checked(host).redact(text ? text : "")); });
}

LLMHOST_API void llmhost_set_log_callback(llmhost_host *host, llmhost_log_fn fn, void *user) {
    guarded<int>(-1, [&] {
        if (fn)
            checked(host).set_log_sink([fn, user](llmh_log_level level, std::string_view msg) {
                std::string m(msg);
                fn(user, static_cast<int>(level), m.c_str());
            });
        else
            checked(host).set_log_sink({});
        return 0;
    });
}

LLMHOST_API void llmhost_free(void *ptr) { std::free(ptr); }

LLMHOST_API const char *llmhost_last_error(void) { return g_last.message.c_str(); }
LLMHOST_API const char *llmhost_last_error_hint(void) { return g_last.hint.c_str(); }
LLMHOST_API int llmhost_last_error_code(void) { return g_last.code; }
LLMHOST_API const char *llmhost_last_served_by(void) { return g_served_by.c_str(); }

} // extern "C"
