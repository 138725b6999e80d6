// What every HTTP session of one server shares: options, the backend, the worker pools, the
// shutdown state and counters. Owned by Server::Impl; sessions hold a reference.
#pragma once

#include "backend.hpp"
#include "key_registry.hpp"
#include "server_metrics.hpp"
#include "worker_pool.hpp"

#include <llmhost/server/server.hpp>

#include <atomic>
#include <map>
#include <tuple>
#include <mutex>
#include <string>
#include <memory>
#include <string_view>

namespace llmhost::server {

struct ServerState {
    ServerState(std::shared_ptr<Backend> b, ServerOptions o)
        : options(std::move(o)), backend(std::move(b)),
          workers(options.max_concurrency, options.queue),
          admin(1, 16), keys(options.keys_file),
          metrics(ServerMetrics::Readers{
                      [this] { return static_cast<double>(requests_in_flight.load()); },
                      [this] { return static_cast<double>(workers.running()); },
                      [this] { return static_cast<double>(workers.queued()); },
                      [this] { return backend->provider_stats(); },
                      [this] { return backend->route_stats(); },
                      [this] { return backend->provider_metrics(); }},
                  [this](const std::string &p) { return backend->models(p); }) {}

    // Clients need a key: plain keys (--api-key...) or a keys file are configured.
    bool client_keys_required() const { return !options.api_keys.empty() || keys.enabled(); }

    // (Re)reads --keys-file; a bad file keeps the previous keys (never a window with none).
    // `trigger` names the cause in the log ("SIGHUP"). False when the file was refused.
    bool reload_keys(const char *trigger) {
        if (!keys.enabled()) return true;
        try {
            for (const auto &w : keys.load()) log("warning: " + w);
            log(std::string(trigger) + ": keys file reloaded (" + std::to_string(keys.size()) +
                " keys)");
            return true;
        } catch (const std::exception &e) {
            log(std::string(trigger) + ": keys file refused, the previous keys stay: " + e.what());
            return false;
        }
    }

    void log(std::string_view line) const {
        if (options.log) options.log(keys.redact(backend->redact(line)));
    }

    // The backend's secrets and the server's own client and admin keys replaced by
    // "[redacted]": a prompt kept by --log-content may quote a key.
    std::string redact_all(std::string_view text) const {
        std::string out = keys.redact(backend->redact(text));
        for (const auto *keys : {&options.api_keys, &options.admin_keys})
            for (const auto &k : *keys) {
                if (k.empty()) continue;
                for (std::size_t at = out.find(k); at != std::string::npos; at = out.find(k, at))
                    out.replace(at, k.size(), "[redacted]");
            }
        return out;
    }

    // A finished request: metrics, then the request log line.
    // Runs on a session's strand: nothing may escape (a failing sink loses its line only).
    void finish(const RequestRecord &r) noexcept {
        try {
            metrics.record(r);
            if (r.scoped_key && r.has_usage)
                keys.add_tokens(r.key, uint64_t{r.prompt_tokens} + r.completion_tokens);
            if (!options.request_log) return;
            // Client text is redacted before JSON escaping (which could split a key that holds
            // a quote or a backslash), the whole line again after.
            RequestRecord c = r;
            c.model = redact_all(c.model);
            c.request_body = redact_all(c.request_body);
            c.output = redact_all(c.output);
            options.request_log(redact_all(request_log_line(c, options.log_content)));
        } catch (...) {
        }
    }

    ServerOptions options;
    std::shared_ptr<Backend> backend;
    WorkerPool workers; // generations and model listings
    WorkerPool admin;   // swaps and reloads: one at a time, never behind the generation queue
    KeyRegistry keys;   // --keys-file (disabled without one)

    std::atomic<bool> draining{false};   // shutting down: finish what runs, accept nothing new
    std::atomic<bool> abort_all{false};  // drain timed out / destructor: cancel every generation
    std::atomic<int> active_requests{0}; // received and not yet fully answered
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<int> requests_in_flight{0}; // tracked requests (not /metrics, /health) unanswered
    ServerMetrics metrics;

    // GET /v1/models shows a model given as a server path by its directory name; a request with
    // that id must reach the same model: "provider/shown" -> the provider's own model name.
    void remember_alias(const std::string &shown_id, const std::string &model) {
        std::lock_guard lk(aliases_mu);
        model_aliases[shown_id] = model;
    }
    std::string unalias(const std::string &provider, const std::string &model) {
        std::lock_guard lk(aliases_mu);
        auto it = model_aliases.find(provider + "/" + model);
        return it == model_aliases.end() ? model : it->second;
    }
    std::mutex aliases_mu;
    std::map<std::string, std::string> model_aliases;
};

} // namespace llmhost::server
