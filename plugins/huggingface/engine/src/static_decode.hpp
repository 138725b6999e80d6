// The batch scheduler's decode step with static shapes, for CUDA graphs.
//
// Why: a decode step of a 16-layer Llama is ~250 small kernels; at batch 1 on an H100 launching
// them costs more than the ~0.75 ms that reading a 1B model's bf16 weights takes. A CUDA graph
// launches the whole step at once, but replays fixed shapes and fixed addresses. So the step runs
// over every KV-cache row (free rows decode a dummy token, as they already do inside a row range:
// batch_scheduler.cpp), attends to kv_len rounded up to a bucket (a power of two, at least 64, at
// most the cache: the causal mask hides the extra positions, whose softmax weight is exactly 0),
// and reads its tokens and positions from tensors that never move. Each bucket is captured once,
// on first use, and replayed after; the first replay is checked against the same step run
// eagerly, and any difference, or a capture that fails, turns graphs off for this engine with
// the reason in status() (never a wrong token).
//
// Modes (LLMHOST_DECODE_GRAPHS): unset: graphs on CUDA when libtorch has CUDA and the build has
// LLMHOST_CUDA_GRAPHS, else off; "0": off; "eager": the same static step without capture, on
// any device (the CPU tests run it).
#pragma once

#include "../../models/model.hpp"

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmhost::engine {

class StaticDecode {
public:
    enum class Mode { Off, Eager, Graphs };
    static Mode mode_for(at::Device device);

    // cache: the whole cache (every row); the step runs on all cache.batch rows.
    StaticDecode(CausalLM &model, KVCache &cache, at::Device device, Mode mode);
    ~StaticDecode();
    StaticDecode(const StaticDecode &) = delete;
    StaticDecode &operator=(const StaticDecode &) = delete;

    Mode mode() const { return mode_; }
    std::int64_t rows() const { return cache_.batch; }
    // The attended length a step of kv_len runs with.
    std::int64_t bucket(std::int64_t kv_len) const;
    // ids, pos: one per cache row. Returns fp32 logits [rows, V] on the device, valid until the
    // next call. Throws what the model throws (the caller fails the step's requests).
    at::Tensor step(const std::vector<std::int64_t> &ids, const std::vector<std::int64_t> &pos,
                    std::int64_t kv_len);
    // "graphs: N captured", "eager", "off", or "off: <why graphs were turned off>".
    std::string status() const;
    std::int64_t graphs_captured() const;

private:
    struct Graph; // a captured CUDA graph (static_decode.cpp)
    struct Entry {
        at::Tensor out;
        std::unique_ptr<Graph> graph;
    };
    at::Tensor run_eager(std::int64_t bucket);
    at::Tensor replay_or_capture(std::int64_t bucket);
    void turn_off(const std::string &why);

    CausalLM &model_;
    KVCache &cache_;
    at::Device device_;
    Mode mode_;
    at::Tensor tokens_, positions_;           // [rows, 1] int64 on the device; never reallocated
    at::Tensor host_tokens_, host_positions_; // staging, pinned on CUDA
    std::map<std::int64_t, Entry> entries_;   // by bucket
    std::string off_reason_;
};

} // namespace llmhost::engine
