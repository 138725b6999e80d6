// Concurrent streams against one engine: the aggregate tok/s of N threads calling generate() at
// once (bench_generate's streams table, bench_gpu's 8- and 32-stream rows).
#pragma once

#include <llmhost/engine/engine.hpp>

namespace bench {

struct StreamRun {
    double tok_s = 0;         // generated tokens / wall time (prefills included)
    double decode_ms_sum = 0; // sum of the requests' decode_ms (meaningful when serial)
    long decode_tokens = 0;   // generated tokens minus the first of each (sampled by prefill)
};

// Aggregate generated tok/s of `streams` threads, each generating `decode` tokens greedily from
// its own prompt of `prompt_len` ids (below 32000), all released at once; wall time from the
// release to the last one done.
StreamRun aggregate_tok_s(llmhost::engine::Engine &e, int streams, int prompt_len, int decode);

} // namespace bench
