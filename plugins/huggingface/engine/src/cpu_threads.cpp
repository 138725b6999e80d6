#include "cpu_threads.hpp"

#include <llmhost/engine/blas_probe.hpp>
#include <llmhost/engine/cpu_topology.hpp>

#include <ATen/Parallel.h>

#include <cstdlib>

namespace llmhost::engine {

int apply_cpu_threads(int requested) {
    int n = requested;
    if (n <= 0) {
        const char *omp = std::getenv("OMP_NUM_THREADS");
        n = omp && *omp ? at::get_num_threads() : default_cpu_threads();
    }
    if (n != at::get_num_threads()) at::set_num_threads(n);
    set_blas_threads(n);
    return at::get_num_threads();
}

void use_cpu_threads_here(int n) {
    if (n > 0 && n != at::get_num_threads()) at::set_num_threads(n);
}

} // namespace llmhost::engine
