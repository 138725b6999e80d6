// bench_generate's constrained row: decode tok/s under a JSON-schema constraint (guided
// decoding, as `response_format: json_schema` runs it) vs unconstrained, same model, same run.
#pragma once

#include <filesystem>
#include <string>

namespace bench {

// `tokenizer_dir`: a tokenizer.json directory (the Llama-3.1 one by default); the models written
// under `root` take its vocabulary. Prints one row per model shape and the time profile.
void bench_constrained(const std::filesystem::path &root,
                       const std::filesystem::path &tokenizer_dir, int prompt_len, int decode_len,
                       int reps);

} // namespace bench
