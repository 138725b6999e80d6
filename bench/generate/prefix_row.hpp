// bench_generate's prefix-cache row: time to first token of an agent's next turn (a long shared
// history + a few new tokens) with the engine's prefix cache vs without, same model, same run.
#pragma once

#include <filesystem>

namespace bench {

// Writes (once) the ~100M Llama body of bench_generate with room for `prefix_len + new_len`
// positions under `root`, then for fp32 and bf16 prints the best-of-`reps` TTFT of the turn
// `prefix + new` on an engine whose row already holds `prefix` (cache on) and on one with
// LoadOptions::prefix_cache off, and their ratio.
void bench_prefix(const std::filesystem::path &root, int prefix_len, int new_len, int reps);

} // namespace bench
