// The decode step's RoPE + KV-cache write on a GPU (rope_cache.cu), behind a plain interface as
// gemv_bf16.hpp is.
#pragma once

#include "rope_cache_math.hpp"

namespace llmhost::cuda {

// Enqueues rope_cache_element over every element of `a` on `stream` (a cudaStream_t). Returns
// null when launched, else why not (nothing was enqueued).
const char *rope_cache(const RopeCacheArgs &a, void *stream);

} // namespace llmhost::cuda
