// LoadOptions::threads applied to the process: libtorch's intra-op pool and OpenBLAS's own.
#pragma once

namespace llmhost::engine {

// `requested` > 0: that many threads. 0: one per physical core this process may use
// (cpu_topology.hpp), unless OMP_NUM_THREADS is set, which libtorch already honours (the user
// chose). OpenBLAS's pthread pool, when OpenBLAS is the process's BLAS, gets the same count, so
// `threads: 1` means one core for fp32 matmuls too. Returns the intra-op thread count now in use.
// Process-wide, like the libtorch setting it wraps.
int apply_cpu_threads(int requested);

} // namespace llmhost::engine
