// STREAM-style read bandwidth, measured the way the decode roofline needs it: the bound a
// memory-bound matrix-vector product can reach is (bytes it streams) / (this bandwidth).
#pragma once

#include <cstddef>

namespace llmhost::kernels {

struct Bandwidth {
    double bytes_per_s; // wall clock: buffer bytes / time until every thread finished
    int threads;
    std::size_t buffer_bytes;
    int runs;
    // The same bytes over the longest per-thread CPU time of a run (CLOCK_THREAD_CPUTIME_ID):
    // equal to bytes_per_s on an idle machine; on a shared one, the rate while the readers ran.
    double cpu_bytes_per_s = 0;
};

// Vectorized (AVX-512/AVX2 per dispatch) sum over one buffer much larger than the L3 (default
// 512 MiB, touched first), split over `threads` std::threads (pinned is not required), best of
// `runs`. threads <= 0: one per online CPU. Throws std::invalid_argument for buffer_bytes < 4096
// or runs <= 0, std::bad_alloc when the buffer cannot be allocated.
Bandwidth measure_read_bandwidth(int threads, std::size_t buffer_bytes = 512u << 20, int runs = 5);

} // namespace llmhost::kernels
