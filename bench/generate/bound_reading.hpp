// The read bandwidth a decode bound divides by, as bench_generate's table and interleaved row and
// bench_kernels' model-order table take it: the highest of a read of 512 MiB (far beyond the L3),
// a read of a buffer of the bytes one token streams (a ~100 MB model keeps part of itself in the
// L3 from token to token, and so does that buffer), and, given the sizes of a step's calls, that
// buffer read call by call, each call split over the threads as linear() splits a matrix (on the
// development VM that pattern read up to 14 % faster at 2 threads than a buffer of that size read
// as one half a thread, as fast as the int8 kernels streamed the model: 2026-11-27); and the
// B/token buffer read ten times in a row by the busy loop (ReadProbe::measure_steady: the L3
// keeps more of it once it has seen a few passes at a decode's pace, as it does a model's
// weights). The first three are the best of `runs` reads, on buffers allocated and touched once
// (kernels::ReadProbe), so that a reading can be taken right before and right after each timed run.
// Header-only: bench_kernels uses it without the engine.
#pragma once

#include <llmhost/kernels/bandwidth.hpp>
#include <llmhost/kernels/linear.hpp>
#include <llmhost/kernels/thread_pool.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace bench {

class BoundReading {
public:
    // segments: the bytes of a decode step's calls in call order (step_segments()), or none.
    BoundReading(int threads, double token_bytes, std::vector<std::size_t> segments = {})
        : big_(threads, std::size_t{512} << 20),
          near_(threads, static_cast<std::size_t>(token_bytes) / 256 * 256 + 256 * segments.size()),
          segments_(std::move(segments)), pool_(big_.threads(), 1000),
          pf_(llmhost::kernels::pool_for(pool_)) {}

    // Bytes per second: the highest of the readings (each the best of `runs` reads, the steady
    // one the best of kSteadyPasses).
    double operator()(int runs) {
        double best = std::max(big_.measure(runs).bytes_per_s, near_.measure(runs).bytes_per_s);
        best = std::max(best, near_.measure_steady(kSteadyPasses).bytes_per_s);
        if (!segments_.empty())
            best = std::max(best, near_.measure_segments(segments_, pf_, runs).bytes_per_s);
        return best;
    }

    // The B/token buffer read this many times in a row (ReadProbe::measure_steady): the L3 keeps
    // part of it from pass to pass after ~5-8 passes on the development VM.
    static constexpr int kSteadyPasses = 10;

private:
    llmhost::kernels::ReadProbe big_, near_;
    std::vector<std::size_t> segments_;
    llmhost::kernels::ThreadPool pool_; // reads the segments as linear() would split them
    llmhost::kernels::ParallelFor pf_;
};

} // namespace bench
