// The decode roofline of bench_generate: read bandwidth measured in the same run (STREAM-style,
// llmhost::kernels::measure_read_bandwidth: a vectorized read of 512 MiB, far beyond the L3, best
// of several runs) and the bytes one decoded token streams, computed from the loaded model.
//
// Decoding at batch 1 reads every linear weight and the lm_head once per token, plus the KV
// cache up to the current position; the embedding table is read one row per token (when it is
// not also the lm_head). tok/s <= bandwidth / those bytes. A bound is only a bound if the
// bandwidth is real: if the model itself streams its weights faster than "the bandwidth"
// (implied rate = tok/s x bytes per token), the measurement is too low, and check() says so.
#pragma once

#include <llmhost/engine/engine.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace bench {

struct ReadBandwidth {
    int threads = 1;
    double bytes_per_s = 0;
};

// Best of `runs` vectorized reads of `bytes` on `threads` threads (<= 0: one per CPU this
// process may use).
ReadBandwidth read_bandwidth(int threads, std::size_t bytes = std::size_t{512} << 20, int runs = 5);

// Bytes streamed per decoded token at KV position `pos`: weights as computed on, less the
// embedding rows a token does not read (untied models), plus the KV cache of positions [0, pos).
double bytes_per_token(const llmhost::engine::Engine &e, const std::filesystem::path &model_dir,
                       double pos);

// The bytes of each call a decode step makes to the packed-weight kernels, in call order (per
// layer q/k/v together, o, gate/up together, down; then the lm head), for a Llama-family model
// on the CPU in bfloat16, int8 or int4; empty otherwise (float32 runs on BLAS). BoundReading
// reads its buffer in this pattern.
std::vector<std::size_t> step_segments(const llmhost::engine::Engine &e);

// The sanity check: "" when decode at tok_s streams no faster than bw, else a warning line.
std::string check_bound(const std::string &what, double tok_s, double bytes,
                        const ReadBandwidth &bw);

} // namespace bench
