// The batch scheduler's decode step with static shapes, for CUDA graphs.
//
// Why: a decode step of a 16-layer Llama is ~250 small kernels; at batch 1 on an H100 launching
// them costs more than the ~0.75 ms that reading a 1B model's bf16 weights takes. A CUDA graph
// launches the whole step at once, but replays fixed shapes and fixed addresses. So the step runs
// over the cache rows [0, n) with n a power of two (rows(): free rows in it decode a dummy token,
// as they already do inside a row range: batch_scheduler.cpp), attends to kv_len rounded up to a
// bucket (a power of two, at least 64, at most the cache: the causal mask hides the extra
// positions, whose softmax weight is exactly 0), and reads its tokens and positions from tensors
// that never move. Each (n, bucket) is captured once, on first use, and replayed after; the first
// replay is checked against the same step run eagerly, and any difference, or a capture that
// fails, turns graphs off for this engine with the reason in status() (never a wrong token).
//
// Modes (LLMHOST_DECODE_GRAPHS): unset: graphs on CUDA when libtorch has CUDA and the build has
// LLMHOST_CUDA_GRAPHS, else off; "0": off; "eager": the same static step without capture, on
// any device (the CPU tests run it).
#pragma once

#include "../../models/model.hpp"

#include <ATen/ATen.h>

#include <cstdint>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace llmhost::engine {

class StaticDecode {
public:
    enum class Mode { Off, Eager, Graphs };
    static Mode mode_for(at::Device device);

    // cache: the whole cache (every row), which the steps run on views of.
    StaticDecode(CausalLM &model, const KVCache &cache, at::Device device, Mode mode);
    ~StaticDecode();
    StaticDecode(const StaticDecode &) = delete;
    StaticDecode &operator=(const StaticDecode &) = delete;

    Mode mode() const { return mode_.load(); }
    // The rows [0, n) a step over rows [0, used) runs on: the next power of two, at most all.
    std::int64_t rows(std::int64_t used) const;
    // The attended length a step of kv_len runs with.
    std::int64_t bucket(std::int64_t kv_len) const;
    // ids, pos: one per row of `rows`, the view of cache rows [0, n) with n = this->rows(..)
    // (the caller's, made once: its tensors must not change between steps). Returns fp32 logits
    // [n, V] on the device, valid until the next call. Throws what the model throws (the caller
    // fails the step's requests).
    at::Tensor step(const std::vector<std::int64_t> &ids, const std::vector<std::int64_t> &pos,
                    std::int64_t kv_len, KVCache &rows);
    // "graphs: N captured", "eager", "off", or "off: <why graphs were turned off>". Any thread
    // may ask (the engine's callers do) while the loop thread steps.
    std::string status() const;

private:
    struct Graph; // a captured CUDA graph (static_decode.cpp)
    struct Entry {
        at::Tensor out;
        std::unique_ptr<Graph> graph;
    };
    at::Tensor run_eager(std::int64_t n, std::int64_t bucket, KVCache &rows);
    at::Tensor replay_or_capture(std::int64_t n, std::int64_t bucket, KVCache &rows);
    void turn_off(const std::string &why);

    CausalLM &model_;
    const std::int64_t max_rows_, max_ctx_;
    at::Device device_;
    std::atomic<Mode> mode_;                  // set by the loop thread, read by status()
    std::atomic<std::int64_t> captured_{0};   // graphs in entries_
    at::Tensor tokens_, positions_; // [max rows, 1] int64 on the device; never reallocated
    at::Tensor host_tokens_, host_positions_; // staging, pinned on CUDA
    std::map<std::pair<std::int64_t, std::int64_t>, Entry> entries_; // by (rows, bucket)
    mutable std::mutex reason_mu_;
    std::string off_reason_; // reason_mu_
};

} // namespace llmhost::engine
