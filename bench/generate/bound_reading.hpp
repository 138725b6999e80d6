// The read bandwidth a decode bound divides by, as bench_generate's table and interleaved row and
// bench_kernels' model-order table take it: the higher of a read of 512 MiB (far beyond the L3)
// and a read of a buffer of the bytes one token streams (a ~100 MB model keeps part of itself in
// the L3 from token to token, and so does that buffer), each the best of `runs` reads, on
// buffers allocated and touched once (kernels::ReadProbe) so that a reading can be taken right
// before and right after each timed run. Header-only: bench_kernels uses it without the engine.
#pragma once

#include <llmhost/kernels/bandwidth.hpp>

#include <algorithm>
#include <cstddef>

namespace bench {

class BoundReading {
public:
    BoundReading(int threads, double token_bytes)
        : big_(threads, std::size_t{512} << 20),
          near_(threads, static_cast<std::size_t>(token_bytes) / 256 * 256) {}

    // Bytes per second: the higher of the two buffers' best of `runs` reads.
    double operator()(int runs) {
        return std::max(big_.measure(runs).bytes_per_s, near_.measure(runs).bytes_per_s);
    }

private:
    llmhost::kernels::ReadProbe big_, near_;
};

} // namespace bench
