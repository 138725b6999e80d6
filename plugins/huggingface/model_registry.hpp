// The models a provider keeps loaded: an LRU under a count and a memory budget, as Ollama's
// OLLAMA_MAX_LOADED_MODELS and keep_alive.
//
//   acquire(name) -> Lease     the model for a request; loads it if needed. The lease marks
//                              the model in flight until it is destroyed.
//
// Rules:
// - A name is resolved (directory, or Hub download) BEFORE anything is unloaded, so a request
//   for a model that does not exist (a framework's default "gpt-4o-mini") fails with not_found
//   and leaves the loaded models serving.
// - Room is made by unloading the least recently used models that have no request in flight;
//   a model with requests in flight is never unloaded. If the new model's estimate
//   (Engine::estimate_memory: weights as computed + KV cache) does not fit even with every idle
//   model unloaded, the request fails with out_of_memory naming the knob, and nothing is
//   unloaded.
// - keep_alive: a model idle that long is unloaded by a small reaper thread; the provider's
//   configured default model is exempt (it is what a request naming no model gets, and
//   reloading it would stall the next plain request), but LRU pressure may still unload it.
// - Names: a request may name a model by the id list_models shows (repo id or directory
//   name), by the directory, or by the string that loaded it; the mapping survives unloading,
//   so a listed id still routes to its directory after an eviction.
//
// Locking: one registry mutex, held only for bookkeeping (never while resolving, loading,
// unloading or generating), so requests on a loaded model are never blocked by a load of
// another. Two requests for the same unloaded model: the second waits for the first's load.
// In-flight counts (not per-model locks) protect models from eviction; the Lease holds a
// shared_ptr, so a model is freed only when no request uses it.
#pragma once

#include "loaded_model.hpp"
#include "model_resolver.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace llmhost::hf {

struct RegistryLimits {
    std::size_t max_models = 3;
    std::uint64_t max_bytes = 0; // 0: no limit
    double keep_alive_s = -1;    // < 0: never unload idle models
};

// How the registry reaches the outside world (the provider passes the real ones, tests fakes).
struct RegistryHooks {
    std::function<ResolvedModel(const std::string &name)> resolve;
    std::function<std::uint64_t(const std::filesystem::path &dir)> estimate;
    std::function<std::shared_ptr<LoadedModel>(const ResolvedModel &)> load;
    std::function<void(const std::string &)> log;
};

class ModelRegistry {
    struct Entry;

public:
    ModelRegistry(RegistryLimits limits, RegistryHooks hooks, std::string pinned_name);
    ~ModelRegistry(); // stops the reaper; requests must be over
    ModelRegistry(const ModelRegistry &) = delete;
    ModelRegistry &operator=(const ModelRegistry &) = delete;

    class Lease {
    public:
        Lease(ModelRegistry *reg, std::shared_ptr<Entry> e);
        Lease(Lease &&o) noexcept : reg_(o.reg_), entry_(std::move(o.entry_)) {}
        Lease(const Lease &) = delete;
        ~Lease();
        LoadedModel &operator*() const;
        LoadedModel *operator->() const { return &**this; }

    private:
        ModelRegistry *reg_;
        std::shared_ptr<Entry> entry_;
    };

    Lease acquire(const std::string &name);
    // Loaded models, most recently used first.
    std::vector<std::shared_ptr<LoadedModel>> loaded() const;

private:
    struct Entry {
        std::shared_ptr<LoadedModel> model;
        std::uint64_t bytes = 0;
        std::chrono::steady_clock::time_point last_used;
        int in_flight = 0;
        bool pinned = false;
    };
    using Evicted = std::vector<std::shared_ptr<LoadedModel>>;

    std::shared_ptr<Entry> find_locked(const std::string &name) const;
    std::string unique_id_locked(const ResolvedModel &m) const;
    // Picks idle models to unload so that one more model of `need` bytes fits; throws
    // out_of_memory (nothing picked) when it cannot.
    std::vector<std::string> plan_room_locked(const std::string &what, std::uint64_t need) const;
    std::shared_ptr<Entry> load(const std::string &name, std::unique_lock<std::mutex> &lk);
    void release(Entry &e);
    void reap();

    RegistryLimits limits_;
    RegistryHooks hooks_;
    std::string pinned_name_;

    mutable std::mutex mu_;
    std::condition_variable cv_;                          // a load finished, a lease ended
    std::map<std::string, std::shared_ptr<Entry>> by_id_; // loaded models by listed id
    std::map<std::string, std::string> alias_;            // any name used -> listed id
    std::map<std::string, std::filesystem::path> dir_of_; // listed id -> directory (kept)
    std::set<std::string> loading_;                       // names being resolved/loaded
    std::set<std::filesystem::path> loading_dirs_;        // directories being loaded
    std::uint64_t reserved_ = 0;                          // estimates of loads in progress
    std::size_t loads_in_progress_ = 0;
    bool stop_ = false;
    std::thread reaper_; // last
};

} // namespace llmhost::hf
