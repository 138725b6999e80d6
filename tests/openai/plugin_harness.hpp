// Loads libllmhost_openai.so through its C ABI entry point, as the host does, with host services
// the test controls: a secret table (api_key), and a log that records every line so a test can
// check that the key never appears in it. Output events are recorded in order and checked against
// the ABI's tool-call rules the way the host checks them (START 0, 1, ... in order; ARGS only for
// a started call), so a test sees a protocol break as "protocol:" event.
#pragma once

#include <llmhost/plugin.h>

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::test {

struct ToolCallOut {
    std::string id, name, arguments;
};

struct Outcome {
    llmh_status status = LLMH_OK;
    llmh_error error{};
    llmh_result result{};
    std::vector<std::string> pieces; // TEXT events
    std::string reasoning;           // REASONING events, joined
    std::vector<ToolCallOut> tool_calls;
    // "lp:<token bytes>/<n top>", "piece:<text>", "reasoning:<text>", "start:<i>:<id>:<name>",
    // "args:<i>:<text>" and "protocol:<what>" in the order the plugin called back.
    std::vector<std::string> events;
    std::vector<uint32_t> n_tokens; // of each event, to check they count up
    std::string text() const {
        std::string t;
        for (const auto &p : pieces) t += p;
        return t;
    }
};

class OpenAiPlugin {
public:
    explicit OpenAiPlugin(std::map<std::string, std::string> secrets = {})
        : secrets_(std::move(secrets)) {
        lib_ = dlopen(LLMHOST_OPENAI_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        if (!lib_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        auto entry = reinterpret_cast<llmh_plugin_entry_fn>(dlsym(lib_, LLMH_PLUGIN_ENTRY_NAME));
        if (!entry) throw std::runtime_error("no entry symbol");
        services_.struct_size = sizeof services_;
        services_.ctx = this;
        services_.get_secret = &OpenAiPlugin::get_secret;
        services_.get_config = nullptr;
        services_.log = &OpenAiPlugin::log;
        services_.progress = nullptr;
        llmh_error err;
        llmh_error_init(&err);
        if (entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, &services_, &plugin_, &err) != LLMH_OK)
            throw std::runtime_error(err.message);
    }
    ~OpenAiPlugin() {
        if (provider_) plugin_->destroy(provider_);
        if (lib_) dlclose(lib_);
    }
    const llmh_plugin &desc() const { return *plugin_; }

    // Creates the instance; returns the status (error in last_create_error).
    llmh_status create(const std::string &config_json) {
        llmh_error_init(&create_error);
        return plugin_->create(config_json.c_str(), &services_, &provider_, &create_error);
    }
    llmh_provider *provider() const { return provider_; }
    llmh_error create_error{};

    // Runs `req` (its on_event, should_cancel and user are set here); `cancel_after` > 0 cancels
    // after that many TEXT pieces.
    Outcome run(llmh_request &req, int cancel_after = 0) {
        Outcome o;
        struct Ctx {
            Outcome *o;
            int cancel_after;
        } ctx{&o, cancel_after};
        req.struct_size = sizeof req;
        req.on_event = [](void *u, const llmh_event *e) -> int {
            auto *c = static_cast<Ctx *>(u);
            Outcome &o = *c->o;
            const std::string text(e->text ? e->text : "", e->text ? e->text_len : 0);
            o.n_tokens.push_back(e->n_tokens);
            switch (e->type) {
            case LLMH_EVENT_TEXT:
                o.pieces.push_back(text);
                o.events.push_back("piece:" + text);
                return c->cancel_after > 0 && static_cast<int>(o.pieces.size()) >= c->cancel_after;
            case LLMH_EVENT_REASONING:
                o.reasoning += text;
                o.events.push_back("reasoning:" + text);
                return 0;
            case LLMH_EVENT_TOOL_CALL_START:
                if (e->tool_index != o.tool_calls.size() || !e->tool_name || !*e->tool_name) {
                    o.events.push_back("protocol:start " + std::to_string(e->tool_index));
                    return 1;
                }
                o.tool_calls.push_back({e->tool_call_id ? e->tool_call_id : "", e->tool_name, ""});
                o.events.push_back("start:" + std::to_string(e->tool_index) + ":" +
                                   o.tool_calls.back().id + ":" + e->tool_name);
                return 0;
            case LLMH_EVENT_TOOL_CALL_ARGS:
                if (e->tool_index >= o.tool_calls.size()) {
                    o.events.push_back("protocol:args " + std::to_string(e->tool_index));
                    return 1;
                }
                o.tool_calls[e->tool_index].arguments += text;
                o.events.push_back("args:" + std::to_string(e->tool_index) + ":" + text);
                return 0;
            case LLMH_EVENT_LOGPROB:
                o.events.push_back("lp:" + std::string(e->logprob->token, e->logprob->token_len) +
                                   "/" + std::to_string(e->n_top));
                return 0;
            default: return 0;
            }
        };
        req.should_cancel = nullptr;
        req.user = &ctx;
        llmh_error_init(&o.error);
        o.result.struct_size = sizeof o.result;
        o.status = plugin_->generate(provider_, &req, &o.result, &o.error);
        return o;
    }

    // Runs a chat request with one user message; `cancel_after` > 0 cancels after that many pieces.
    // `top_logprobs` >= 0 asks for logprobs, `response_format` for a format.
    Outcome chat(const std::string &user, bool stream, const char *model = nullptr,
                 int cancel_after = 0, llmh_params params = llmh_default_params(),
                 int top_logprobs = -1, const llmh_response_format *response_format = nullptr) {
        llmh_message msg{};
        msg.struct_size = sizeof msg;
        msg.role = "user";
        msg.content = user.c_str();
        const llmh_message *msgs[] = {&msg};
        llmh_request req{};
        req.struct_size = sizeof req;
        req.model = model;
        req.messages = msgs;
        req.n_messages = 1;
        params.stream = stream;
        req.params = &params;
        if (top_logprobs >= 0) {
            req.logprobs = 1;
            req.top_logprobs = top_logprobs;
        }
        req.parallel_tool_calls = -1;
        req.response_format = response_format;
        return run(req, cancel_after);
    }

    std::vector<std::string> logs() const {
        std::lock_guard lk(m_);
        return logs_;
    }

private:
    static int64_t get_secret(void *ctx, const char *name, char *buf, size_t cap) {
        auto *self = static_cast<OpenAiPlugin *>(ctx);
        auto it = self->secrets_.find(name);
        if (it == self->secrets_.end()) return -1;
        if (it->second.size() < cap) {
            std::copy(it->second.begin(), it->second.end(), buf);
            buf[it->second.size()] = '\0';
        }
        return static_cast<int64_t>(it->second.size());
    }
    static void log(void *ctx, llmh_log_level, const char *message) {
        auto *self = static_cast<OpenAiPlugin *>(ctx);
        std::lock_guard lk(self->m_);
        self->logs_.emplace_back(message);
    }

    void *lib_ = nullptr;
    const llmh_plugin *plugin_ = nullptr;
    llmh_provider *provider_ = nullptr;
    llmh_host_services services_{};
    std::map<std::string, std::string> secrets_;
    mutable std::mutex m_;
    std::vector<std::string> logs_;
};

} // namespace llmhost::test
