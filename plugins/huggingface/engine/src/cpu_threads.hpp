// LoadOptions::threads applied to the process: libtorch's intra-op pool and OpenBLAS's own.
#pragma once

namespace llmhost::engine {

// `requested` > 0: that many threads. 0: one per physical core this process may use
// (cpu_topology.hpp), unless OMP_NUM_THREADS is set, which libtorch already honours (the user
// chose). OpenBLAS's pthread pool, when OpenBLAS is the process's BLAS, gets the same count, so
// `threads: 1` means one core for fp32 matmuls too. Returns the intra-op thread count now in use.
// Process-wide, like the libtorch setting it wraps.
int apply_cpu_threads(int requested);

// The count apply_cpu_threads returned, set on the calling thread when it differs: under OpenMP
// libtorch's count is per thread, so each thread that runs the model (the batch loop, a serial
// caller) applies it itself. n <= 0: leaves the thread as it is.
void use_cpu_threads_here(int n);

} // namespace llmhost::engine
