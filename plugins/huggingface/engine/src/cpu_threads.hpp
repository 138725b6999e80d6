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

// How long the engine pool's idle workers poll before sleeping, in µs (models/parallel.hpp):
// LLMHOST_POOL_SPIN_US, or 1000 when it is unset or not an integer in [0, 100000]. 1000, not 200:
// the gap between two tokens' loops can exceed 200 µs, and a sleeping worker wakes late
// (2 threads, 2026-11-26: bf16 224-256 tok/s at 1000-2000 vs 199-220 at 200).
int pool_spin_us();

// How many pieces each pool member's region is run in (kernels/thread_pool.hpp, "Balancing"):
// LLMHOST_POOL_PIECES, or ThreadPool::kDefaultPieces when it is unset or not an integer in
// [1, 64]. 1 gives fixed chunks, one per thread (the A/B baseline).
int pool_pieces();

} // namespace llmhost::engine
