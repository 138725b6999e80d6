#include "cpu_threads.hpp"

#include "../../models/parallel.hpp"

#include <llmhost/engine/blas_probe.hpp>
#include <llmhost/engine/cpu_topology.hpp>
#include <llmhost/engine/engine.hpp>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace llmhost::engine {

int apply_cpu_threads(int requested) {
    int n = requested;
    if (n <= 0) {
        const char *omp = std::getenv("OMP_NUM_THREADS");
        n = omp && *omp ? at::get_num_threads() : default_cpu_threads();
    }
    if (n != at::get_num_threads()) at::set_num_threads(n);
    set_blas_threads(n);
    return at::get_num_threads();
}

void use_cpu_threads_here(int n) {
    if (n > 0 && n != at::get_num_threads()) at::set_num_threads(n);
}

namespace {
std::atomic<int> widest_team{0};

// The integer in environment variable `name` when it is one in [lo, hi]; else `fallback`.
int env_int(const char *name, long lo, long hi, int fallback) {
    const char *v = std::getenv(name);
    if (!v || !*v) return fallback;
    char *end = nullptr;
    errno = 0;
    const long n = std::strtol(v, &end, 10);
    return errno == 0 && *end == '\0' && n >= lo && n <= hi ? int(n) : fallback;
}

} // namespace

int pool_spin_us() { return env_int("LLMHOST_POOL_SPIN_US", 0, 100000, 1000); }

int pool_pieces() {
    return env_int("LLMHOST_POOL_PIECES", 1, 64, kernels::ThreadPool::kDefaultPieces);
}

kernels::ThreadPool *engine_pool(int threads) {
    static const bool openmp = [] {
        const char *v = std::getenv("LLMHOST_THREAD_POOL");
        return v && std::string(v) == "openmp";
    }();
    if (threads <= 1 || openmp) return nullptr;
    thread_local int cached_threads = 0; // ~50 loops a token: skip the lock for the usual count
    thread_local kernels::ThreadPool *cached = nullptr;
    if (threads == cached_threads) return cached;
    static std::mutex mu;
    static std::map<int, std::unique_ptr<kernels::ThreadPool>> pools;
    std::lock_guard lk(mu);
    auto &p = pools[threads];
    if (!p) p = std::make_unique<kernels::ThreadPool>(threads, pool_spin_us(), pool_pieces());
    cached_threads = threads;
    cached = p.get();
    return cached;
}

void note_parallel_chunk(int index) {
    const int team = index + 1;
    int seen = widest_team.load(std::memory_order_relaxed);
    while (team > seen &&
           !widest_team.compare_exchange_weak(seen, team, std::memory_order_relaxed)) {}
}

int parallel_team_high_water(bool reset) {
    return reset ? widest_team.exchange(0) : widest_team.load();
}

} // namespace llmhost::engine
