// bench_generate's int4 ÷ bf16 row: the two formats' decode tok/s measured interleaved, rep by
// rep, so that their ratio compares them on the same machine state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace bench {

// Loads `dir` (a bf16 checkpoint) as bfloat16 and as int4, then at each of `threads` runs
// `reps` rounds of: a bf16 decode, an int4 decode, and a closing bf16 decode (shared with the
// next round), each `decode` tokens after `prompt`. Prints each int4 rep's tok/s over the mean
// of the two bf16 reps around it, and their median. prefix_cache: as the table's
// --cached-prompt (the reps then reuse the prompt's KV and only decode).
void bench_int4_vs_bf16(const std::filesystem::path &dir, const std::vector<std::int32_t> &prompt,
                        int decode, const std::vector<int> &threads, bool prefix_cache,
                        int reps = 5);

} // namespace bench
