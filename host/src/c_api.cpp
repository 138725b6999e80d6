// The C API (host.h) over llmhost::Host: exceptions become status codes and a thread-local
// last error; strings handed out are malloc'd.
#include <llmhost/host.h>
#include <llmhost/host.hpp>

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

void clear_error() { g_last = LastError{}; }

int set_error(int code, std::string message, std::string hint = {}) {
    g_last.code = code;
    g_last.message = std::move(message);
    g_last.hint = std::move(hint);
    return code;
}

// Runs f; an exception becomes the thread's last error and `fail` is returned.
template <class R, class F> R guarded(R fail, F &&f) noexcept {
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
        set_error(LLMH_ERR_INTERNAL, "unknown exception", "this is a bug in llmhost; please report it");
    }
    if constexpr (std::is_same_v<R, int>) return g_last.code; // status-returning functions
    else return fail;
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

LLMHOST_API llmhost_generate_params llmhost_generate_default_params(void) {
    llmhost_generate_params p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.params = llmh_default_params();
    p.params.stream = 1;
    return p;
}

LLMHOST_API int llmhost_generate(llmhost_host *host, const llmhost_generate_params *params,
                                 llmh_token_fn on_token, void *user, llmh_result *result,
                                 char **text) {
    return llmhost_generate_ext(host, params, nullptr, on_token, user, result, text);
}

LLMHOST_API int llmhost_generate_ext(llmhost_host *host, const llmhost_generate_params *params,
                                     const llmhost_generate_options *options,
                                     llmh_token_fn on_token, void *user, llmh_result *result,
                                     char **text) {
    return guarded<int>(-1, [&]() -> int {
        auto &h = checked(host);
        if (params == nullptr)
            return set_error(LLMH_ERR_INVALID_ARGUMENT, "llmhost_generate: params is NULL",
                             "pass llmhost_generate_default_params() filled in");
        llmhost_generate_params p = llmhost_generate_default_params();
        std::memcpy(&p, params, std::min<size_t>(params->struct_size, sizeof p));
        llmhost::GenerateRequest r;
        if (p.model) r.model = p.model;
        if (p.prompt) r.prompt = p.prompt;
        for (size_t i = 0; p.messages && i < p.n_messages; ++i)
            r.messages.push_back({p.messages[i].role ? p.messages[i].role : "",
                                  p.messages[i].content ? p.messages[i].content : ""});
        const llmh_params &q = p.params;
        r.max_tokens = q.max_tokens;
        r.temperature = q.temperature;
        r.top_p = q.top_p;
        r.top_k = q.top_k;
        r.min_p = q.min_p;
        r.repetition_penalty = q.repetition_penalty;
        if (q.has_seed) r.seed = q.seed;
        for (size_t i = 0; q.stop && i < q.n_stop; ++i)
            if (q.stop[i]) r.stop.emplace_back(q.stop[i]);
        r.stream = q.stream != 0;
        llmhost_generate_options o{};
        if (options) std::memcpy(&o, options, std::min<size_t>(options->struct_size, sizeof o));
        r.logprobs = o.logprobs != 0;
        r.top_logprobs = o.top_logprobs;
        if (o.response_format_json) r.response_format_json = o.response_format_json;
        if (o.on_logprob)
            r.on_logprob = [&](const llmhost::TokenLogprob &chosen,
                               const std::vector<llmhost::TokenLogprob> &top) {
                auto to_c = [](const llmhost::TokenLogprob &t) {
                    return llmh_token_logprob{sizeof(llmh_token_logprob), t.token.data(),
                                              t.token.size(), t.logprob};
                };
                std::vector<llmh_token_logprob> c_top;
                for (const auto &t : top) c_top.push_back(to_c(t));
                const llmh_token_logprob c_chosen = to_c(chosen);
                return o.on_logprob(user, &c_chosen, c_top.data(), c_top.size()) == 0;
            };
        llmhost::TokenCallback cb;
        if (on_token)
            cb = [&](std::string_view piece, uint32_t n) {
                return on_token(user, piece.data(), piece.size(), n) == 0;
            };
        auto res = h.generate(p.provider ? p.provider : "", r, cb);
        if (result) {
            llmh_result out{};
            out.struct_size = sizeof out;
            out.finish_reason = res.finish_reason;
            out.prompt_tokens = res.prompt_tokens;
            out.completion_tokens = res.completion_tokens;
            out.time_to_first_token_ms = res.time_to_first_token_ms;
            out.total_ms = res.total_ms;
            *result = out;
        }
        if (text) *text = dup_string(res.text);
        return LLMH_OK;
    });
}

static nlohmann::json plugin_json(const llmhost::PluginInfo &p) {
    return {{"path", p.path},          {"loaded", p.loaded},
            {"name", p.name},          {"version", p.version},
            {"description", p.description},
            {"abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)},
            {"capabilities", llmhost::capability_names(p.capabilities)},
            {"shadowed_by", p.shadowed_by}, {"error_code", p.error_code},
            {"error", p.error},        {"hint", p.hint}};
}

LLMHOST_API char *llmhost_providers_json(llmhost_host *host) {
    return guarded<char *>(nullptr, [&] {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto &p : checked(host).providers())
            arr.push_back({{"name", p.name}, {"plugin", p.plugin}, {"default", p.is_default},
                           {"state", llmhost::to_string(p.state)}, {"error", p.error},
                           {"thread_safe", p.thread_safe}, {"generation", p.generation}});
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
    return guarded<char *>(nullptr, [&] { return dup_string(checked(host).resolved_config_for_display().dump()); });
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
    return guarded<char *>(nullptr, [&] { return dup_string(checked(host).redact(text ? text : "")); });
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

} // extern "C"
