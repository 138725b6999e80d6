// The static-shape decode step and its CUDA graphs (static_decode.hpp).
//
// The CUDA part is compiled only where libtorch has CUDA (LLMHOST_WITH_CUDA_GRAPHS, set by the
// engine's CMakeLists.txt); elsewhere Mode::Graphs is never chosen and the eager static step is
// what the tests run.
#include "static_decode.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#if LLMHOST_WITH_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace llmhost::engine {

struct StaticDecode::Graph {
#if LLMHOST_WITH_CUDA_GRAPHS
    at::cuda::CUDAGraph graph;
#endif
};

StaticDecode::Mode StaticDecode::mode_for(at::Device device) {
    const char *env = std::getenv("LLMHOST_DECODE_GRAPHS");
    const std::string v = env ? env : "";
    if (v == "0") return Mode::Off;
    if (v == "eager") return Mode::Eager;
#if LLMHOST_WITH_CUDA_GRAPHS
    if (device.is_cuda()) return Mode::Graphs;
#endif
    (void)device;
    return Mode::Off;
}

StaticDecode::StaticDecode(CausalLM &model, const KVCache &cache, at::Device device, Mode mode)
    : model_(model), max_rows_(cache.batch), max_ctx_(cache.max_ctx), device_(device), mode_(mode) {
    const auto on_device = at::TensorOptions().dtype(at::kLong).device(device);
    tokens_ = at::zeros({cache.batch, 1}, on_device);
    positions_ = at::zeros({cache.batch, 1}, on_device);
    auto staging = at::TensorOptions().dtype(at::kLong);
    if (device.is_cuda()) staging = staging.pinned_memory(true); // async copies, no bounce
    host_tokens_ = at::zeros({cache.batch, 1}, staging);
    host_positions_ = at::zeros({cache.batch, 1}, staging);
}

StaticDecode::~StaticDecode() = default;

std::int64_t StaticDecode::rows(std::int64_t used) const {
    std::int64_t n = 1;
    while (n < used) n *= 2;
    return std::min(n, max_rows_);
}

std::int64_t StaticDecode::bucket(std::int64_t kv_len) const {
    std::int64_t b = 64;
    while (b < kv_len) b *= 2;
    return std::min(b, max_ctx_);
}

std::string StaticDecode::status() const {
    switch (mode_.load()) {
    case Mode::Graphs: return "graphs: " + std::to_string(captured_.load()) + " captured";
    case Mode::Eager: return "eager";
    case Mode::Off: break;
    }
    std::lock_guard lk(reason_mu_);
    return off_reason_.empty() ? "off" : "off: " + off_reason_;
}

void StaticDecode::turn_off(const std::string &why) {
    {
        std::lock_guard lk(reason_mu_);
        off_reason_ = why;
    }
    mode_ = Mode::Off; // after the reason: a reader that sees Off finds it
    entries_.clear();
    captured_ = 0;
}

at::Tensor StaticDecode::run_eager(std::int64_t n, std::int64_t bucket, KVCache &rows) {
    // Views of the static inputs' first n rows: the same addresses at every step.
    return model_.forward(tokens_.narrow(0, 0, n), positions_.narrow(0, 0, n), bucket, rows, false)
        .select(1, 0); // [n, V]
}

at::Tensor StaticDecode::step(const std::vector<std::int64_t> &ids,
                              const std::vector<std::int64_t> &pos, std::int64_t kv_len,
                              KVCache &rows) {
    const std::int64_t n = static_cast<std::int64_t>(ids.size());
    if (n < 1 || n > max_rows_ || pos.size() != ids.size() || rows.batch != n || this->rows(n) != n)
        throw std::invalid_argument("StaticDecode::step: " + std::to_string(n) +
                                    " ids for a step over " + std::to_string(rows.batch) +
                                    " rows (one id and one position per row, rows(n) == n)");
    std::copy(ids.begin(), ids.end(), host_tokens_.data_ptr<std::int64_t>());
    std::copy(pos.begin(), pos.end(), host_positions_.data_ptr<std::int64_t>());
    // In stream order before the step's kernels; the caller's read-back of the logits ends the
    // step, so the staging buffers are free again when the next step writes them.
    tokens_.narrow(0, 0, n).copy_(host_tokens_.narrow(0, 0, n), /*non_blocking=*/true);
    positions_.narrow(0, 0, n).copy_(host_positions_.narrow(0, 0, n), /*non_blocking=*/true);
    const std::int64_t b = bucket(kv_len);
    if (mode_ == Mode::Graphs) return replay_or_capture(n, b, rows);
    return run_eager(n, b, rows);
}

#if LLMHOST_WITH_CUDA_GRAPHS

at::Tensor StaticDecode::replay_or_capture(std::int64_t n, std::int64_t b, KVCache &rows) {
    if (auto it = entries_.find({n, b}); it != entries_.end()) {
        it->second.graph->graph.replay();
        return it->second.out;
    }
    Entry e;
    e.graph = std::make_unique<Graph>();
    try {
        const c10::cuda::CUDAGuard guard(device_);
        // The inputs were copied on the current stream; capture runs on a side stream.
        c10::cuda::getCurrentCUDAStream().synchronize();
        c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, device_.index());
        {
            const c10::cuda::CUDAStreamGuard on_side(side);
            // Lazy initialisations (cuBLAS handles and workspaces, kernel choices) must happen
            // before capture. These runs write the same keys and values the step will write.
            (void)run_eager(n, b, rows);
            side.synchronize();
            // Every graph in one memory pool: they never run at the same time. Thread-local
            // capture: another engine's thread may use CUDA meanwhile.
            // (The pool id's type moved between torch versions: take it from pool() itself.)
            decltype(std::declval<at::cuda::CUDAGraph &>().pool()) pool = {0, 0};
            for (const auto &[other, entry] : entries_)
                if (entry.graph) {
                    pool = entry.graph->graph.pool();
                    break;
                }
            e.graph->graph.capture_begin(pool, cudaStreamCaptureModeThreadLocal);
            try {
                e.out = run_eager(n, b, rows);
            } catch (...) {
                try { // end the (now invalid) capture, so that the stream works again
                    e.graph->graph.capture_end();
                } catch (...) {}
                throw;
            }
            e.graph->graph.capture_end();
        }
        // Capture ran nothing: replay, then the same step eagerly, which must agree (bf16
        // kernels are the same ones; a graph that reads a stale address would not).
        e.graph->graph.replay();
        const at::Tensor eager = run_eager(n, b, rows);
        const float diff = (e.out - eager).abs().max().item<float>();
        const float scale = eager.abs().max().item<float>();
        if (!(diff <= 1e-3f * std::max(1.0f, scale))) {
            turn_off("the graph of " + std::to_string(n) + " rows, bucket " + std::to_string(b) +
                     " gave logits " + std::to_string(diff) + " away from the eager step");
            return eager;
        }
        auto [it, inserted] = entries_.emplace(std::make_pair(n, b), std::move(e));
        ++captured_;
        return it->second.out;
    } catch (const std::exception &ex) {
        // A capture that failed leaves no graph; the step itself still runs eagerly.
        turn_off("capture of " + std::to_string(n) + " rows, bucket " + std::to_string(b) +
                 " failed: " + ex.what());
        return run_eager(n, b, rows);
    }
}

#else

at::Tensor StaticDecode::replay_or_capture(std::int64_t n, std::int64_t b, KVCache &rows) {
    return run_eager(n, b, rows);
}

#endif

} // namespace llmhost::engine
