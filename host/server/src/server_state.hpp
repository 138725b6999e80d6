// What every HTTP session of one server shares: options, the backend, the worker pools, the
// shutdown state and counters. Owned by Server::Impl; sessions hold a reference.
#pragma once

#include "backend.hpp"
#include "worker_pool.hpp"

#include <llmhost/server/server.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <memory>
#include <string_view>

namespace llmhost::server {

struct ServerState {
    ServerState(std::shared_ptr<Backend> b, ServerOptions o)
        : options(std::move(o)), backend(std::move(b)),
          workers(options.max_concurrency, options.queue),
          admin(1, 16) {}

    void log(std::string_view line) const {
        if (options.log) options.log(backend->redact(line));
    }

    ServerOptions options;
    std::shared_ptr<Backend> backend;
    WorkerPool workers; // generations and model listings
    WorkerPool admin;   // swaps and reloads: one at a time, never behind the generation queue

    std::atomic<bool> draining{false};   // shutting down: finish what runs, accept nothing new
    std::atomic<bool> abort_all{false};  // drain timed out / destructor: cancel every generation
    std::atomic<int> active_requests{0}; // received and not yet fully answered
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> rejected{0};

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
