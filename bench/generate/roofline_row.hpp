// bench_generate's interleaved roofline: each decode rep between two readings of the read
// bandwidth taken just before and just after it, many short reps, the median of the ratios.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

struct RooflineRowOptions {
    std::vector<std::string> dtypes = {"bfloat16", "int8", "int4"}; // loaded from the bf16 files
    std::vector<int> threads;                                       // each count in turn
    int reps = 11;     // timed decodes per dtype and thread count
    int decode = 64;   // tokens a rep
    int read_runs = 3; // best of this many reads, of each buffer, for each reading
    bool prefix_cache = false;
};

// Loads `dir` (a bf16 checkpoint) once per dtype; at each thread count runs `reps` decodes of
// `decode` tokens after `prompt`, each between two bandwidth readings (the highest of a 512 MiB
// read and a read of a buffer of the token's bytes, roofline.hpp), and prints per dtype and count
// the median ratio of a rep's tok/s to its bound, the quartiles, the extremes, how many reps
// reached 80 %, and every rep's ratio.
void bench_roofline_interleaved(const std::filesystem::path &dir,
                                const std::vector<std::int32_t> &prompt,
                                const RooflineRowOptions &opt);

} // namespace bench
