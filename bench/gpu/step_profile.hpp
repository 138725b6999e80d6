// What a piece of work runs on the device, by kernel name, from torch's profiler: bench_gpu's
// --profile, which splits a decode step's time among its kernels and shows the gaps between them.
//
// On CUDA the device events (kernels, copies, memsets, also those a CUDA graph launches) are
// summed by name; on a CPU (practice: Debian's libtorch 1.13 has no Kineto) the operators are,
// and nested operators then count twice, so only the CUDA figures add up to a step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct ProfiledName {
    std::string name;
    std::int64_t calls = 0;
    double total_us = 0;
};

struct WorkProfile {
    std::string what;                  // "CUDA device events" or "CPU operators (nested)"
    double wall_us = 0;                // the work, start to end (synchronized on CUDA)
    double busy_us = 0;                // the sum of every event's duration
    std::vector<ProfiledName> by_name; // largest total first
};

// Runs `work` once under the profiler and sums its events by name. `work` must end with the device
// idle (generate() does: it reads every token back), or wall_us misses its tail. Throws what `work`
// throws (the profiler is stopped first), or std::runtime_error naming the profiler's own failure.
WorkProfile profile_work(const std::function<void()> &work, bool cuda);

} // namespace bench
