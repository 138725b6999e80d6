// The LRU of loaded models (see model_registry.hpp).
#include "model_registry.hpp"

#include <algorithm>
#include <cstdio>

namespace llmhost::hf {

namespace {
using Clock = std::chrono::steady_clock;

std::string gib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
    return buf;
}
} // namespace

ModelRegistry::ModelRegistry(RegistryLimits limits, RegistryHooks hooks, std::string pinned_name)
    : limits_(limits), hooks_(std::move(hooks)), pinned_name_(std::move(pinned_name)) {
    if (limits_.keep_alive_s > 0) reaper_ = std::thread([this] { reap(); });
}

ModelRegistry::~ModelRegistry() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
}

ModelRegistry::Lease::Lease(ModelRegistry *reg, std::shared_ptr<Entry> e)
    : reg_(reg), entry_(std::move(e)) {}

ModelRegistry::Lease::~Lease() {
    if (entry_) reg_->release(*entry_);
}

LoadedModel &ModelRegistry::Lease::operator*() const { return *entry_->model; }

std::shared_ptr<ModelRegistry::Entry> ModelRegistry::find_locked(const std::string &name) const {
    auto a = alias_.find(name);
    auto it = by_id_.find(a != alias_.end() ? a->second : name);
    return it != by_id_.end() ? it->second : nullptr;
}

ModelRegistry::Lease ModelRegistry::acquire(const std::string &name) {
    std::unique_lock lk(mu_);
    for (;;) {
        if (auto e = find_locked(name)) {
            ++e->in_flight;
            e->last_used = Clock::now();
            return Lease(this, e);
        }
        if (loading_.count(name)) { // someone is loading it: wait for that load, then look again
            cv_.wait(lk);
            continue;
        }
        return Lease(this, load(name, lk));
    }
}

std::string ModelRegistry::unique_id_locked(const ResolvedModel &m) const {
    // Two directories with the same name: the second is listed as "name-2".
    std::string id = m.id;
    for (int n = 2;; ++n) {
        auto it = dir_of_.find(id);
        if (it == dir_of_.end() || it->second == m.dir) return id;
        id = m.id + "-" + std::to_string(n);
    }
}

std::vector<std::string> ModelRegistry::plan_room_locked(const std::string &what,
                                                         std::uint64_t need) const {
    const auto hint_memory = std::string(
        "raise \"max_loaded_memory\" in the huggingface provider's config (bytes, \"16GiB\", 0 for "
        "no limit, or \"auto\" = 3/4 of RAM), lower \"max_context\" or \"max_batch\", or use "
        "\"dtype\": \"bfloat16\"");
    if (limits_.max_bytes && need > limits_.max_bytes)
        throw llmh::Error(LLMH_ERR_OUT_OF_MEMORY,
                          "huggingface: cannot load " + what + ": it needs about " + gib(need) +
                              " (weights + KV cache), more than max_loaded_memory (" +
                              gib(limits_.max_bytes) + ")",
                          hint_memory);
    std::size_t count = by_id_.size() + loads_in_progress_;
    std::uint64_t used = reserved_;
    std::vector<std::pair<Clock::time_point, std::string>> idle;
    for (const auto &[id, e] : by_id_) {
        used += e->bytes;
        if (e->in_flight == 0) idle.emplace_back(e->last_used, id);
    }
    std::sort(idle.begin(), idle.end()); // least recently used first
    std::vector<std::string> victims;
    std::size_t i = 0;
    auto fits = [&] {
        return count + 1 <= limits_.max_models && (!limits_.max_bytes || used + need <= limits_.max_bytes);
    };
    while (!fits()) {
        if (i == idle.size()) {
            if (count + 1 > limits_.max_models)
                throw llmh::Error(LLMH_ERR_OUT_OF_MEMORY,
                                  "huggingface: cannot load " + what + ": max_loaded_models (" +
                                      std::to_string(limits_.max_models) +
                                      ") models are loaded and every one has requests in flight",
                                  "raise \"max_loaded_models\" in the huggingface provider's "
                                  "config, or retry when a request finishes");
            throw llmh::Error(LLMH_ERR_OUT_OF_MEMORY,
                              "huggingface: cannot load " + what + ": it needs about " + gib(need) +
                                  "; max_loaded_memory is " + gib(limits_.max_bytes) + " and " +
                                  gib(used) + " stay in use by models with requests in flight",
                              hint_memory + ", or retry when a request finishes");
        }
        const auto &victim = by_id_.at(idle[i].second);
        victims.push_back(idle[i].second);
        --count;
        used -= victim->bytes;
        ++i;
    }
    return victims;
}

std::shared_ptr<ModelRegistry::Entry> ModelRegistry::load(const std::string &name,
                                                         std::unique_lock<std::mutex> &lk) {
    loading_.insert(name);
    // A listed id or a name seen before, whose model was unloaded: back to its directory.
    std::string source = name, known_id;
    if (auto a = alias_.find(name); a != alias_.end()) known_id = a->second;
    else if (dir_of_.count(name)) known_id = name;
    if (!known_id.empty()) source = dir_of_.at(known_id).string();
    auto done_loading = [&] { // on every way out
        loading_.erase(name);
        cv_.notify_all();
    };

    lk.unlock(); // resolving may download: other requests go on meanwhile
    ResolvedModel m;
    std::uint64_t need = 0;
    try {
        m = hooks_.resolve(source);
        if (!known_id.empty()) m.id = known_id;
        need = hooks_.estimate(m.dir);
    } catch (...) {
        lk.lock();
        done_loading();
        throw; // e.g. not_found: the loaded models are untouched
    }
    lk.lock();
    // Another name for the same directory being loaded right now: wait for it, then share it.
    cv_.wait(lk, [&] { return !loading_dirs_.count(m.dir); });
    for (const auto &[id, e] : by_id_) // the same directory under another name
        if (e->model->dir() == m.dir) {
            alias_[name] = id;
            ++e->in_flight;
            e->last_used = Clock::now();
            done_loading();
            return e;
        }
    std::vector<std::string> victims;
    try {
        victims = plan_room_locked("'" + m.id + "'", need);
    } catch (...) {
        done_loading();
        throw;
    }
    const std::string id = unique_id_locked(m);
    dir_of_[id] = m.dir; // reserves the id against a concurrent load of a same-named directory
    Evicted evicted;
    for (const auto &v : victims) {
        evicted.push_back(std::move(by_id_.at(v)->model));
        by_id_.erase(v);
    }
    reserved_ += need;
    ++loads_in_progress_;
    loading_dirs_.insert(m.dir);

    lk.unlock(); // unload and load outside the lock
    for (const auto &v : victims)
        hooks_.log("huggingface: unloaded " + v + " (least recently used) to make room for " + id);
    evicted.clear(); // idle models: these were the last references
    std::shared_ptr<LoadedModel> model;
    std::exception_ptr error;
    try {
        model = hooks_.load({m.dir, id});
    } catch (...) {
        error = std::current_exception();
    }
    lk.lock();
    reserved_ -= need;
    --loads_in_progress_;
    loading_dirs_.erase(m.dir);
    if (error) {
        done_loading();
        std::rethrow_exception(error);
    }
    auto e = std::make_shared<Entry>();
    e->model = std::move(model);
    e->bytes = e->model->memory_bytes(); // measured, replaces the estimate
    e->last_used = Clock::now();
    e->in_flight = 1;
    e->pinned = name == pinned_name_;
    by_id_[id] = e;
    alias_[name] = id;
    alias_[m.dir.string()] = id;
    done_loading();
    return e;
}

void ModelRegistry::release(Entry &e) {
    std::shared_ptr<LoadedModel> unload; // freed after the lock is released
    {
        std::lock_guard lk(mu_);
        --e.in_flight;
        e.last_used = Clock::now();
        if (limits_.keep_alive_s == 0 && e.in_flight == 0 && !e.pinned)
            for (auto it = by_id_.begin(); it != by_id_.end(); ++it)
                if (it->second.get() == &e) {
                    unload = std::move(e.model);
                    by_id_.erase(it);
                    break;
                }
    }
    cv_.notify_all();
    if (unload) hooks_.log("huggingface: unloaded " + unload->id() + " (keep_alive 0)");
}

void ModelRegistry::reap() {
    const auto keep = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(limits_.keep_alive_s));
    const auto tick = std::min<Clock::duration>(keep, std::chrono::seconds(1));
    std::unique_lock lk(mu_);
    while (!stop_) {
        cv_.wait_for(lk, tick);
        Evicted expired;
        std::vector<std::string> ids;
        const auto now = Clock::now();
        for (auto it = by_id_.begin(); it != by_id_.end();) {
            const Entry &e = *it->second;
            if (e.in_flight == 0 && !e.pinned && now - e.last_used >= keep) {
                ids.push_back(it->first);
                expired.push_back(std::move(it->second->model));
                it = by_id_.erase(it);
            } else {
                ++it;
            }
        }
        if (expired.empty()) continue;
        lk.unlock();
        for (const auto &id : ids) hooks_.log("huggingface: unloaded " + id + " (idle past keep_alive)");
        expired.clear();
        lk.lock();
    }
}

std::vector<std::shared_ptr<LoadedModel>> ModelRegistry::loaded() const {
    std::vector<std::pair<Clock::time_point, std::shared_ptr<LoadedModel>>> v;
    {
        std::lock_guard lk(mu_);
        for (const auto &[id, e] : by_id_) v.emplace_back(e->last_used, e->model);
    }
    std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    std::vector<std::shared_ptr<LoadedModel>> out;
    for (auto &p : v) out.push_back(std::move(p.second));
    return out;
}

} // namespace llmhost::hf
