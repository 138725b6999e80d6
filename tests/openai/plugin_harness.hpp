// Loads libllmhost_openai.so through its C ABI entry point, as the host does, with host services
// the test controls: a secret table (api_key), and a log that records every line so a test can
// check that the key never appears in it.
#pragma once

#include <llmhost/plugin.h>

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::test {

struct Outcome {
    llmh_status status = LLMH_OK;
    llmh_error error{};
    llmh_result result{};
    std::vector<std::string> pieces;
    // "lp:<token bytes>/<n top>" and "piece:<text>" in the order the plugin called back.
    std::vector<std::string> events;
    std::string text() const {
        std::string t;
        for (const auto &p : pieces) t += p;
        return t;
    }
};

class OpenAiPlugin {
public:
    explicit OpenAiPlugin(std::map<std::string, std::string> secrets = {}) : secrets_(std::move(secrets)) {
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

    // Runs a chat request with one user message; `cancel_after` > 0 cancels after that many pieces.
    // `top_logprobs` >= 0 asks for logprobs (ABI 1.1), `response_format` (JSON) for a format.
    Outcome chat(const std::string &user, bool stream, const char *model = nullptr,
                 int cancel_after = 0, llmh_params params = llmh_default_params(),
                 int top_logprobs = -1, const char *response_format = nullptr) {
        Outcome o;
        llmh_message msg{sizeof(llmh_message), "user", user.c_str()};
        llmh_request req{};
        req.struct_size = sizeof req;
        req.model = model;
        req.messages = &msg;
        req.n_messages = 1;
        req.params = params;
        req.params.stream = stream;
        struct Ctx { Outcome *o; int cancel_after; } ctx{&o, cancel_after};
        req.on_token = [](void *u, const char *p, size_t n, uint32_t) -> int {
            auto *c = static_cast<Ctx *>(u);
            c->o->pieces.emplace_back(p, n);
            c->o->events.push_back("piece:" + std::string(p, n));
            return c->cancel_after > 0 && static_cast<int>(c->o->pieces.size()) >= c->cancel_after;
        };
        req.user = &ctx;
        if (top_logprobs >= 0) {
            req.logprobs = 1;
            req.top_logprobs = top_logprobs;
            req.on_logprob = [](void *u, const llmh_token_logprob *chosen, const llmh_token_logprob *,
                                size_t n_top) -> int {
                static_cast<Ctx *>(u)->o->events.push_back(
                    "lp:" + std::string(chosen->token, chosen->token_len) + "/" + std::to_string(n_top));
                return 0;
            };
        }
        req.response_format_json = response_format;
        llmh_error_init(&o.error);
        o.result.struct_size = sizeof o.result;
        o.status = plugin_->generate(provider_, &req, &o.result, &o.error);
        return o;
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
