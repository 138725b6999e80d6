// STREAM-style read bandwidth, measured the way the decode roofline needs it: the bound a
// memory-bound matrix-vector product can reach is (bytes it streams) / (this bandwidth).
#pragma once

#include "llmhost/kernels/linear.hpp" // ParallelFor

#include <cstddef>
#include <memory>
#include <vector>

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
// `runs`. The runs take two loops in turn, a plain one and one with two multiply-adds per 64
// bytes between the loads (as a decode kernel spaces them; on the development VM it read 3-6 %
// faster, and a bound must be what the fastest reader reaches): runs = 1 is the plain loop alone,
// runs >= 2 includes both. threads <= 0: one per online CPU. Throws std::invalid_argument for
// buffer_bytes < 4096 or runs <= 0, std::bad_alloc when the buffer cannot be allocated.
Bandwidth measure_read_bandwidth(int threads, std::size_t buffer_bytes = 512u << 20, int runs = 5);

// The same reading, taken again and again on one buffer: allocated and touched once, so a bench
// can read the bandwidth right before and right after each timed run (a fresh 512 MiB buffer costs
// an allocation and a memset, ~0.1 s, between the two). The reader threads exist only inside
// measure(): nothing spins between readings. Same arguments and errors as measure_read_bandwidth.
class ReadProbe {
public:
    ReadProbe(int threads, std::size_t buffer_bytes);
    ~ReadProbe();
    ReadProbe(const ReadProbe &) = delete;
    ReadProbe &operator=(const ReadProbe &) = delete;

    // Best of `runs` timed reads after one untimed read, the two loops in turn as above (runs > 0,
    // else std::invalid_argument).
    Bandwidth measure(int runs);
    // The busy loop alone, `passes` reads in a row after the untimed one, the best counting. A
    // buffer of a few times the L3 read again and again at a decode kernel's pace is partly kept
    // in the L3 from pass to pass once the cache has seen a few of them, as a model's weights
    // are from token to token: on the development VM a 94 MB buffer read 31-33 GB/s a pass at
    // one thread right after a larger buffer had been read, rising to 37-41 GB/s by the fifth to
    // eighth pass, where the two loops in turn (measure) read ~35 and the plain loop never rose
    // (2026-11-27). Throws std::invalid_argument for passes <= 0.
    Bandwidth measure_steady(int passes);
    // The buffer read as a decode step reads its weights: consecutive segments of the given bytes
    // (its calls' matrices, in call order), each split over `pf` as linear() splits a matrix
    // (chunks of >= 64 KiB, on the caller's threads), the two loops in turn; bytes_per_s is the
    // best run (cpu_bytes_per_s is 0: the chunks run on pf's threads, not the probe's). A bound
    // must be what the fastest reader reaches, and on the development VM a read in this pattern
    // went up to 14 % faster at 2 threads than a buffer of that size read as one half a thread
    // (2026-11-27).
    // Each segment starts on a 256-byte boundary and is read down to a multiple of 256 bytes;
    // a chunk pf hands out outside the segment's range is skipped, never read.
    // Throws std::invalid_argument for runs <= 0, no segments or no pf, or segments that (so
    // placed) add up to more than buffer_bytes().
    Bandwidth measure_segments(const std::vector<std::size_t> &segments, const ParallelFor &pf,
                               int runs);
    int threads() const { return threads_; }
    std::size_t buffer_bytes() const { return slice_ * std::size_t(threads_); }

private:
    Bandwidth measure_loops(int runs, bool steady);
    int threads_ = 1;
    std::size_t slice_ = 0; // each thread's part, a multiple of 256 bytes
    std::unique_ptr<unsigned char, void (*)(void *)> buf_;
};

} // namespace llmhost::kernels
