// The engine's own parallel loops (the decode kernels, attention, dequantization): at::parallel_for
// with a record of how wide its teams really were.
//
// Why this header exists: with libtorch's OpenMP backend, at::parallel_for is a template whose
// `#pragma omp parallel` is compiled into the *caller's* translation unit. Compiled without
// -fopenmp it silently runs the whole range on the calling thread, whatever at::set_num_threads
// says (libtorch's own ops, compiled inside libtorch, still go parallel). Every engine file that
// runs a parallel loop includes this header instead of ATen/Parallel.h, so a build that loses the
// flag fails here instead of decoding on one core (it did, until 2026-11-26).
#pragma once

#include <ATen/Parallel.h>

#include <cstdint>

#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "libtorch uses OpenMP: compile this file with OpenMP (link OpenMP::OpenMP_CXX), or at::parallel_for runs serially"
#endif

namespace llmhost::engine {

// Records that a chunk ran on intra-op thread at::get_thread_num() (relaxed; a load per chunk
// unless the team is wider than any seen).
void note_parallel_chunk();

// at::parallel_for(begin, end, grain, f), noting each chunk's thread (parallel_team_high_water).
template <class F>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, const F &f) {
    at::parallel_for(begin, end, grain, [&](std::int64_t b, std::int64_t e) {
        note_parallel_chunk();
        f(b, e);
    });
}

} // namespace llmhost::engine
