// bench_generate's interleaved roofline: rounds of a few short decodes, each round between two
// readings of the read bandwidth taken just before and just after it; the median of the ratios.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

struct RooflineRowOptions {
    std::vector<std::string> dtypes = {"bfloat16", "int8", "int4"}; // loaded from the bf16 files
    std::vector<int> threads;                                       // each count in turn
    int rounds = 7;    // rounds per dtype and thread count, each between two readings
    int best_of = 3;   // timed decodes a round; the round's figure is the fastest
    int decode = 64;   // tokens a decode
    int read_runs = 3; // best of this many reads, of each buffer, for each reading
    bool prefix_cache = false;
};

// Loads `dir` (a bf16 checkpoint) once per dtype; at each thread count runs `rounds` rounds of
// `best_of` decodes of `decode` tokens after `prompt`, each round between two bandwidth readings
// (bound_reading.hpp: the highest of a 512 MiB read, a read of a buffer of the token's bytes, the
// best of ten such reads in a row, and that buffer read in the step's call pattern, the others
// each the best of `read_runs`), and prints per dtype and count the median ratio of a round's
// fastest decode to its bound, the quartiles, the extremes, how many rounds reached 80 %, and
// every round's ratio. Best of a few on both sides: a single
// decode against the best of several reads would count the machine's noise against the model.
void bench_roofline_interleaved(const std::filesystem::path &dir,
                                const std::vector<std::int32_t> &prompt,
                                const RooflineRowOptions &opt);

} // namespace bench
