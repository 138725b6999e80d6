#include "provider_instance.hpp"

#include "request_marshal.hpp"

#include <chrono>
#include <cstddef>
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

// What the event/cancel trampolines need during one generate call.
struct CallState {
    const TokenCallback *on_token = nullptr;
    const EventCallback *on_event = nullptr;
    const LogprobCallback *on_logprob = nullptr;
    const std::function<bool()> *should_cancel = nullptr;
    std::string text;
    std::string reasoning;
    std::vector<ToolCall> tool_calls;
    std::exception_ptr error; // an exception thrown by the caller's callback
    bool caller_cancelled = false;
    bool protocol_error = false; // the plugin broke the event rules (see on_event_trampoline)
    std::string protocol_message;
    std::chrono::steady_clock::time_point t0;
    double first_ms = 0;
};

TokenLogprob from_c(const llmh_token_logprob &t) {
    return {std::string(t.token ? t.token : "", t.token ? t.token_len : 0), t.logprob};
}

bool deliver_logprob(CallState &s, const llmh_event &e) {
    if (!LLMH_HAS_FIELD(&e, llmh_event, n_top) || !e.logprob) return true;
    if (!s.on_logprob || !*s.on_logprob) return true;
    std::vector<TokenLogprob> alternatives;
    alternatives.reserve(e.top ? e.n_top : 0);
    for (size_t i = 0; e.top && i < e.n_top && i < LLMH_TOP_LOGPROBS_MAX; ++i)
        alternatives.push_back(from_c(e.top[i]));
    return (*s.on_logprob)(from_c(*e.logprob), alternatives);
}

// Records the event in the result and hands it on. Tool calls must start in index order and
// arguments may only follow their call's start; a plugin that breaks this gets its generation
// stopped with an internal error instead of a garbled call reaching the caller.
bool deliver_event(CallState &s, const llmh_event &e) {
    if (!LLMH_HAS_FIELD(&e, llmh_event, text_len)) return true;
    const std::string_view text(e.text ? e.text : "", e.text ? e.text_len : 0);
    Event ev;
    ev.type = static_cast<llmh_event_type>(e.type);
    ev.text = text;
    if (LLMH_HAS_FIELD(&e, llmh_event, n_tokens)) ev.n_tokens = e.n_tokens;
    switch (e.type) {
    case LLMH_EVENT_TEXT:
        if (s.first_ms == 0) s.first_ms = ms_since(s.t0);
        s.text.append(text);
        if (s.on_token && *s.on_token && !(*s.on_token)(text, ev.n_tokens)) return false;
        break;
    case LLMH_EVENT_REASONING:
        if (s.first_ms == 0) s.first_ms = ms_since(s.t0);
        s.reasoning.append(text);
        break;
    case LLMH_EVENT_TOOL_CALL_START:
    case LLMH_EVENT_TOOL_CALL_ARGS: {
        if (!LLMH_HAS_FIELD(&e, llmh_event, tool_name)) return true;
        ev.tool_index = e.tool_index;
        if (e.type == LLMH_EVENT_TOOL_CALL_START) {
            if (e.tool_index != s.tool_calls.size() || !e.tool_name || !*e.tool_name) {
                s.protocol_error = true;
                s.protocol_message = "tool call " + std::to_string(e.tool_index) +
                                     " started out of order or without a name";
                return false;
            }
            if (s.first_ms == 0) s.first_ms = ms_since(s.t0);
            s.tool_calls.push_back({e.tool_call_id ? e.tool_call_id : "", e.tool_name, ""});
            ev.tool_call_id = s.tool_calls.back().id;
            ev.tool_name = s.tool_calls.back().name;
        } else {
            if (e.tool_index >= s.tool_calls.size()) {
                s.protocol_error = true;
                s.protocol_message = "arguments for tool call " + std::to_string(e.tool_index) +
                                     " came before that call started";
                return false;
            }
            s.tool_calls[e.tool_index].arguments.append(text);
        }
        break;
    }
    case LLMH_EVENT_LOGPROB: return deliver_logprob(s, e);
    default: return true; // a newer event type: ignored, as plugin.h promises
    }
    return !(s.on_event && *s.on_event) || (*s.on_event)(ev);
}

int on_event_trampoline(void *user, const llmh_event *e) {
    auto *s = static_cast<CallState *>(user);
    if (s->caller_cancelled || s->protocol_error) return 1;
    if (e == nullptr) return 0;
    try {
        if (!deliver_event(*s, *e) && !s->protocol_error) s->caller_cancelled = true;
    } catch (...) { // never let the caller's exception unwind through the plugin
        s->error = std::current_exception();
        s->caller_cancelled = true;
    }
    return (s->caller_cancelled || s->protocol_error) ? 1 : 0;
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

GenerateResult ProviderInstance::generate(const GenerateRequest &r, const std::string &default_model,
                                          const TokenCallback &on_token) {
    const uint32_t caps = lib_->info().capabilities;
    check_request(r, caps, "provider '" + name_ + "' (plugin " + lib_->info().name + ")");
    const std::string &model = r.model.empty() ? default_model : r.model;
    MarshalledRequest marshalled(r, model, caps);

    CallState state;
    state.on_token = &on_token;
    state.on_event = &r.on_event;
    state.should_cancel = &r.should_cancel;
    state.on_logprob = &r.on_logprob;
    state.t0 = std::chrono::steady_clock::now();

    llmh_request &req = marshalled.request();
    req.on_event = on_event_trampoline;
    req.should_cancel = should_cancel_trampoline;
    req.user = &state;

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
    if (state.protocol_error)
        throw HostError(LLMH_ERR_INTERNAL,
                        core_->redactor.redact("provider '" + name_ + "' (plugin " +
                                               lib_->info().name + ") broke the event protocol: " +
                                               state.protocol_message),
                        "this is a bug in the plugin; please report it");

    GenerateResult out;
    out.provider = name_;
    out.text = std::move(state.text);
    out.reasoning = std::move(state.reasoning);
    out.tool_calls = std::move(state.tool_calls);
    out.prompt_tokens = res.prompt_tokens;
    out.completion_tokens = res.completion_tokens;
    out.reasoning_tokens = res.reasoning_tokens;
    out.cached_tokens = res.cached_tokens;
    out.total_ms = res.total_ms > 0 ? res.total_ms : ms_since(state.t0);
    out.time_to_first_token_ms = res.time_to_first_token_ms > 0 ? res.time_to_first_token_ms : state.first_ms;
    out.finish_reason = static_cast<llmh_finish_reason>(res.finish_reason);
    if (st == LLMH_ERR_CANCELLED && state.caller_cancelled) { // asked for: not an error
        out.finish_reason = LLMH_FINISH_CANCELLED;
        return out;
    }
    if (st != LLMH_OK) throw error_from(st, err, "generation failed");
    if (out.finish_reason == LLMH_FINISH_NONE)
        out.finish_reason = out.tool_calls.empty() ? LLMH_FINISH_STOP : LLMH_FINISH_TOOL_CALLS;
    if (out.finish_reason == LLMH_FINISH_TOOL_CALLS && out.tool_calls.empty())
        throw HostError(LLMH_ERR_INTERNAL,
                        "provider '" + name_ + "' (plugin " + lib_->info().name +
                            ") finished with tool_calls but sent no tool call",
                        "this is a bug in the plugin; please report it");
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

namespace llmhost::detail {

namespace {
// Prometheus metric and label names, kept to what every scraper accepts.
bool valid_metric_name(const char *s) {
    if (s == nullptr || *s == 0) return false;
    std::size_t n = 0;
    for (const char *p = s; *p; ++p, ++n) {
        const char c = *p;
        const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (n > 0 && c >= '0' && c <= '9');
        if (!ok || n >= 64) return false;
    }
    return true;
}
} // namespace

std::vector<ProviderMetric> ProviderInstance::metrics(std::size_t *dropped) {
    struct Collect {
        std::vector<ProviderMetric> out;
        std::size_t dropped = 0;
        const std::string *provider;
    } c{{}, 0, &name_};
    const auto fn = lib_->table().metrics;
    if (fn == nullptr) return {};
    llmh_error err;
    llmh_error_init(&err);
    auto emit = [](void *user, const llmh_metric *m) {
        auto &c = *static_cast<Collect *>(user);
        // Read only the fields the plugin's struct has; a malformed sample is dropped, not shown.
        if (m == nullptr || m->struct_size < offsetof(llmh_metric, value) + sizeof(double) ||
            !valid_metric_name(m->name) ||
            (m->kind != LLMH_METRIC_GAUGE && m->kind != LLMH_METRIC_COUNTER) ||
            (m->kind == LLMH_METRIC_COUNTER &&
             !std::string_view(m->name).ends_with("_total")) ||
            (m->label_key != nullptr && !valid_metric_name(m->label_key)) ||
            (m->label_key != nullptr && m->label_value == nullptr) ||
            (m->label_key != nullptr && std::string_view(m->label_key) == "provider")) {
            ++c.dropped;
            return;
        }
        ProviderMetric pm;
        pm.provider = *c.provider;
        pm.name = m->name;
        pm.help = m->help ? m->help : "";
        for (char &ch : pm.help) // one line of text
            if (ch == '\n' || ch == '\r' || ch == '\\') ch = ' ';
        pm.counter = m->kind == LLMH_METRIC_COUNTER;
        if (m->label_key) pm.label_key = m->label_key, pm.label_value = m->label_value;
        pm.value = m->value;
        c.out.push_back(std::move(pm));
    };
    llmh_status st;
    try {
        st = fn(handle_, emit, &c, &err); // thread-safe by contract, even for serial providers
    } catch (...) {
        st = llmh_set_error(&err, LLMH_ERR_INTERNAL, "the plugin threw an exception across the C ABI",
                            "this is a bug in the plugin; please report it");
    }
    if (st != LLMH_OK) throw error_from(st, err, "reporting metrics failed");
    if (dropped) *dropped = c.dropped;
    return std::move(c.out);
}

} // namespace llmhost::detail
