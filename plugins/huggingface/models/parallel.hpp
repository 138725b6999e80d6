// The engine's own parallel loops (the decode kernels, attention, dequantization): on the engine's
// spinning fork/join pool (kernels/thread_pool.hpp says why not OpenMP's), or at::parallel_for
// with LLMHOST_THREAD_POOL=openmp; with a record of how wide the teams really were.
//
// Why this header exists: with libtorch's OpenMP backend, at::parallel_for is a template whose
// `#pragma omp parallel` is compiled into the *caller's* translation unit. Compiled without
// -fopenmp it silently runs the whole range on the calling thread, whatever at::set_num_threads
// says (libtorch's own ops, compiled inside libtorch, still go parallel). Every engine file that
// runs a parallel loop includes this header instead of ATen/Parallel.h, so a build that loses the
// flag fails here instead of decoding on one core (it did, until 2026-11-26).
#pragma once

#include <llmhost/kernels/linear.hpp>
#include <llmhost/kernels/thread_pool.hpp>

#include <ATen/Parallel.h>

#include <cstdint>

#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error                                                                                             \
    "libtorch uses OpenMP: compile this file with OpenMP (link OpenMP::OpenMP_CXX), or at::parallel_for runs serially"
#endif

namespace llmhost::engine {

// Records that a chunk ran as chunk `index` of its loop (relaxed; a load per chunk unless the
// team is wider than any seen).
void note_parallel_chunk(int index);

// The pool for `threads` threads (one per count, made on first use, kept for the process), or
// nullptr when threads <= 1 or LLMHOST_THREAD_POOL=openmp.
kernels::ThreadPool *engine_pool(int threads);

// f(b, e) over chunks of [begin, end), >= grain each, on the calling thread's intra-op thread
// count (at::get_num_threads(), which the engine sets per thread), noting each chunk's thread
// (parallel_team_high_water).
template <class F>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, const F &f) {
    if (kernels::ThreadPool *pool = engine_pool(at::get_num_threads())) {
        pool->run(end - begin, grain, [&](std::int64_t b, std::int64_t e) {
            note_parallel_chunk(kernels::ThreadPool::thread_index());
            f(begin + b, begin + e);
        });
        return;
    }
    at::parallel_for(begin, end, grain, [&](std::int64_t b, std::int64_t e) {
        note_parallel_chunk(at::get_thread_num());
        f(b, e);
    });
}

// parallel_for as the kernels take it (kernels::ParallelFor), so that they split their rows over
// the same threads as the engine's other loops.
const kernels::ParallelFor &kernel_parallel_for();

} // namespace llmhost::engine
