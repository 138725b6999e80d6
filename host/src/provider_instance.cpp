#include "provider_instance.hpp"

#include <chrono>
#include <cstring>

namespace llmhost::detail {

namespace {

int64_t copy_out(const std::string &value, char *buf, size_t cap) {
    if (buf != nullptr && value.size() < cap) {
        std::memcpy(buf, value.data(), value.size());
        buf[value.size()] = '\0';
    }
    return static_cast<int64_t>(value.size());
}

int64_t svc_get_secret(void *ctx, const char *name, char *buf, size_t cap) {
    return static_cast<ProviderInstance *>(ctx)->get_secret(name, buf, cap);
}
int64_t svc_get_config(void *ctx, const char *pointer, char *buf, size_t cap) {
    return static_cast<ProviderInstance *>(ctx)->get_config(pointer, buf, cap);
}
void svc_log(void *ctx, llmh_log_level level, const char *message) {
    auto *inst = static_cast<ProviderInstance *>(ctx);
    inst->library().core()->log(level, inst->name(), message ? message : "");
}
int svc_progress(void *ctx, const char *task, uint64_t done, uint64_t total) {
    auto *inst = static_cast<ProviderInstance *>(ctx);
    return inst->library().core()->progress(task ? task : "", done, total) ? 1 : 0;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// What the token/cancel trampolines need during one generate call.
struct CallState {
    const TokenCallback *on_token = nullptr;
    const LogprobCallback *on_logprob = nullptr;
    const std::function<bool()> *should_cancel = nullptr;
    std::string text;
    std::exception_ptr error; // an exception thrown by the caller's callback
    bool caller_cancelled = false;
    std::chrono::steady_clock::time_point t0;
    double first_ms = 0;
};

int on_token_trampoline(void *user, const char *piece, size_t len, uint32_t n_tokens) {
    auto *s = static_cast<CallState *>(user);
    if (s->first_ms == 0) s->first_ms = ms_since(s->t0);
    std::string_view p(piece ? piece : "", piece ? len : 0);
    s->text.append(p);
    if (!s->on_token || !*s->on_token) return 0;
    try {
        if (!(*s->on_token)(p, n_tokens)) s->caller_cancelled = true;
    } catch (...) { // never let the caller's exception unwind through the plugin
        s->error = std::current_exception();
        s->caller_cancelled = true;
    }
    return s->caller_cancelled ? 1 : 0;
}

TokenLogprob from_c(const llmh_token_logprob &t) {
    return {std::string(t.token ? t.token : "", t.token ? t.token_len : 0), t.logprob};
}

int on_logprob_trampoline(void *user, const llmh_token_logprob *chosen, const llmh_token_logprob *top,
                          size_t n_top) {
    auto *s = static_cast<CallState *>(user);
    if (s->caller_cancelled) return 1;
    if (!chosen || !s->on_logprob || !*s->on_logprob) return 0;
    try {
        std::vector<TokenLogprob> alternatives;
        alternatives.reserve(top ? n_top : 0);
        for (size_t i = 0; top && i < n_top; ++i) alternatives.push_back(from_c(top[i]));
        if (!(*s->on_logprob)(from_c(*chosen), alternatives)) s->caller_cancelled = true;
    } catch (...) {
        s->error = std::current_exception();
        s->caller_cancelled = true;
    }
    return s->caller_cancelled ? 1 : 0;
}

// The response_format to hand the plugin: nullopt for free text ({"type":"text"} or none).
std::optional<std::string> effective_response_format(const std::string &json_text) {
    if (json_text.empty()) return std::nullopt;
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        "response_format must be a JSON object with a string \"type\"",
                        "send {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                        "{\"type\": \"json_schema\", \"json_schema\": {...}}");
    if (j["type"] == "text") return std::nullopt;
    return j.dump();
}

int should_cancel_trampoline(void *user) {
    auto *s = static_cast<CallState *>(user);
    if (s->caller_cancelled) return 1;
    try {
        if (s->should_cancel && *s->should_cancel && (*s->should_cancel)()) s->caller_cancelled = true;
    } catch (...) {
        s->error = std::current_exception();
        s->caller_cancelled = true;
    }
    return s->caller_cancelled ? 1 : 0;
}

} // namespace

int64_t ProviderInstance::get_secret(const char *name, char *buf, size_t cap) const {
    if (name == nullptr) return -1;
    auto it = secrets_.find(name); // only this provider's secrets: scoping
    return it == secrets_.end() ? -1 : copy_out(it->second.value, buf, cap);
}

int64_t ProviderInstance::get_config(const char *pointer, char *buf, size_t cap) const {
    if (pointer == nullptr) return -1;
    try {
        const nlohmann::json::json_pointer p(pointer);
        if (!config_.contains(p)) return -1;
        const auto &v = config_.at(p);
        return copy_out(v.is_string() ? v.get<std::string>() : v.dump(), buf, cap);
    } catch (const std::exception &) { // not a valid JSON pointer
        return -1;
    }
}

HostError ProviderInstance::error_from(llmh_status st, const llmh_error &err, const char *what) const {
    std::string msg = err.message[0] ? err.message : llmh_status_name(st);
    const auto &r = core_->redactor;
    return HostError(st, r.redact("provider '" + name_ + "' (plugin " + lib_->info().name + "): " +
                                  what + ": " + msg),
                     r.redact(err.hint), std::nullopt, err.retry_after_s, err.http_status);
}

std::shared_ptr<ProviderInstance> ProviderInstance::create(std::shared_ptr<PluginLibrary> lib,
                                                           const ProviderSpec &spec) {
    std::shared_ptr<ProviderInstance> inst(new ProviderInstance());
    inst->core_ = lib->core();
    inst->lib_ = std::move(lib);
    inst->name_ = spec.name;
    inst->config_ = spec.config;
    inst->secrets_ = spec.secrets;
    inst->services_.struct_size = sizeof(llmh_host_services);
    inst->services_.ctx = inst.get();
    inst->services_.get_secret = svc_get_secret;
    inst->services_.get_config = svc_get_config;
    inst->services_.log = svc_log;
    inst->services_.progress = svc_progress;

    const llmh_plugin &t = inst->lib_->table();
    const std::string config_json = spec.config.dump();
    llmh_error err;
    llmh_error_init(&err);
    llmh_provider *handle = nullptr;
    llmh_status st;
    try {
        st = t.create(config_json.c_str(), &inst->services_, &handle, &err);
    } catch (...) {
        st = llmh_set_error(&err, LLMH_ERR_INTERNAL, "the plugin threw an exception across the C ABI",
                            "this is a bug in the plugin; please report it");
    }
    if (st == LLMH_OK && handle == nullptr)
        st = llmh_set_error(&err, LLMH_ERR_INTERNAL, "create returned ok but no instance",
                            "this is a bug in the plugin; please report it");
    if (st != LLMH_OK) {
        // A create failure comes from the provider's configuration, never from a request: a
        // code that reads as the caller's fault (invalid_argument, not_found...) is marked with
        // http_status 500 so a server does not blame its client (docs/serving.md, Errors).
        const bool reads_as_client_error =
            st == LLMH_ERR_INVALID_ARGUMENT || st == LLMH_ERR_NOT_FOUND ||
            st == LLMH_ERR_UNSUPPORTED || st == LLMH_ERR_CONTEXT_OVERFLOW;
        if (reads_as_client_error && err.http_status < 500) err.http_status = 500;
        throw inst->error_from(st, err, "cannot create the provider");
    }
    inst->handle_ = handle;
    inst->thread_safe_ = t.flags && (t.flags(handle) & LLMH_PROVIDER_THREAD_SAFE) != 0;
    return inst;
}

ProviderInstance::~ProviderInstance() {
    if (handle_ == nullptr) return;
    try {
        lib_->table().destroy(handle_);
    } catch (...) {
        core_->log(LLMH_LOG_ERROR, name_, "the plugin's destroy threw an exception (ignored)");
    }
}

void ProviderInstance::check_supported(const GenerateRequest &r) const {
    const uint32_t caps = lib_->info().capabilities;
    const std::string who = "provider '" + name_ + "' (plugin " + lib_->info().name + ")";
    if (r.top_logprobs < 0 || r.top_logprobs > LLMH_TOP_LOGPROBS_MAX)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        "top_logprobs must be between 0 and " + std::to_string(LLMH_TOP_LOGPROBS_MAX),
                        "ask for fewer alternatives per token");
    if (r.top_logprobs > 0 && !r.logprobs)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "top_logprobs needs logprobs",
                        "set logprobs as well, or drop top_logprobs");
    // By capability, never by plugin name: a plugin that cannot honour a field must not see it.
    if (r.logprobs && !(caps & LLMH_CAP_LOGPROBS))
        throw HostError(LLMH_ERR_UNSUPPORTED, who + " does not support logprobs",
                        "drop logprobs/top_logprobs, or use a provider whose plugin reports "
                        "LLMH_CAP_LOGPROBS (`llmhost plugins` lists the capabilities)");
    if (effective_response_format(r.response_format_json) && !(caps & LLMH_CAP_RESPONSE_FORMAT))
        throw HostError(LLMH_ERR_UNSUPPORTED,
                        who + " does not support response_format (structured output); it would "
                              "answer with free text",
                        "drop response_format (or send {\"type\": \"text\"}), or use a provider "
                        "whose plugin reports LLMH_CAP_RESPONSE_FORMAT");
}

GenerateResult ProviderInstance::generate(const GenerateRequest &r, const std::string &default_model,
                                          const TokenCallback &on_token) {
    check_supported(r);
    const std::optional<std::string> response_format = effective_response_format(r.response_format_json);
    std::vector<llmh_message> messages;
    for (const auto &m : r.messages)
        messages.push_back({sizeof(llmh_message), m.role.c_str(), m.content.c_str()});
    std::vector<const char *> stops;
    for (const auto &s : r.stop) stops.push_back(s.c_str());

    CallState state;
    state.on_token = &on_token;
    state.should_cancel = &r.should_cancel;
    state.on_logprob = &r.on_logprob;
    state.t0 = std::chrono::steady_clock::now();

    llmh_request req{};
    req.struct_size = sizeof req;
    const std::string &model = r.model.empty() ? default_model : r.model;
    req.model = model.empty() ? nullptr : model.c_str();
    req.messages = messages.empty() ? nullptr : messages.data();
    req.n_messages = messages.size();
    req.prompt = r.prompt.c_str();
    req.params = llmh_default_params();
    req.params.max_tokens = r.max_tokens;
    req.params.temperature = r.temperature;
    req.params.top_p = r.top_p;
    req.params.top_k = r.top_k;
    req.params.min_p = r.min_p;
    req.params.repetition_penalty = r.repetition_penalty;
    req.params.has_seed = r.seed.has_value();
    req.params.seed = r.seed.value_or(0);
    req.params.stop = stops.empty() ? nullptr : stops.data();
    req.params.n_stop = stops.size();
    req.params.stream = r.stream;
    req.on_token = on_token_trampoline;
    req.should_cancel = should_cancel_trampoline;
    req.user = &state;
    // ABI 1.1 fields: set only when check_supported found the matching capability.
    req.logprobs = r.logprobs ? 1 : 0;
    req.top_logprobs = r.logprobs ? r.top_logprobs : 0;
    req.on_logprob = r.logprobs ? on_logprob_trampoline : nullptr;
    req.response_format_json = response_format ? response_format->c_str() : nullptr;

    llmh_result res{};
    res.struct_size = sizeof res;
    llmh_error err;
    llmh_error_init(&err);
    llmh_status st;
    {
        std::unique_lock<std::mutex> lock(serial_, std::defer_lock);
        if (!thread_safe_) lock.lock();
        try {
            st = lib_->table().generate(handle_, &req, &res, &err);
        } catch (...) {
            st = llmh_set_error(&err, LLMH_ERR_INTERNAL, "the plugin threw an exception across the C ABI",
                                "this is a bug in the plugin; please report it");
        }
    }
    if (state.error) std::rethrow_exception(state.error);

    GenerateResult out;
    out.provider = name_;
    out.text = std::move(state.text);
    out.prompt_tokens = res.prompt_tokens;
    out.completion_tokens = res.completion_tokens;
    out.total_ms = res.total_ms > 0 ? res.total_ms : ms_since(state.t0);
    out.time_to_first_token_ms = res.time_to_first_token_ms > 0 ? res.time_to_first_token_ms : state.first_ms;
    out.finish_reason = static_cast<llmh_finish_reason>(res.finish_reason);
    if (st == LLMH_ERR_CANCELLED && state.caller_cancelled) { // asked for: not an error
        out.finish_reason = LLMH_FINISH_CANCELLED;
        return out;
    }
    if (st != LLMH_OK) throw error_from(st, err, "generation failed");
    if (out.finish_reason == LLMH_FINISH_NONE) out.finish_reason = LLMH_FINISH_STOP;
    return out;
}

std::vector<ModelInfo> ProviderInstance::list_models() {
    std::vector<ModelInfo> models;
    const auto fn = lib_->table().list_models;
    if (fn == nullptr || !(lib_->info().capabilities & LLMH_CAP_LIST_MODELS)) return models;
    llmh_error err;
    llmh_error_init(&err);
    auto collect = [](void *user, const char *id, const char *desc) {
        static_cast<std::vector<ModelInfo> *>(user)->push_back({id ? id : "", desc ? desc : ""});
    };
    llmh_status st;
    {
        std::unique_lock<std::mutex> lock(serial_, std::defer_lock);
        if (!thread_safe_) lock.lock();
        try {
            st = fn(handle_, collect, &models, &err);
        } catch (...) {
            st = llmh_set_error(&err, LLMH_ERR_INTERNAL, "the plugin threw an exception across the C ABI",
                                "this is a bug in the plugin; please report it");
        }
    }
    if (st != LLMH_OK) throw error_from(st, err, "listing models failed");
    return models;
}

} // namespace llmhost::detail
