// What every bench row sends and how it reads a decode: the same prompt ids everywhere
// (bench/gpu/transformers_peer.py makes the same ones for its peer), and decode tok/s from a
// GenerateResult.
#pragma once

#include <llmhost/engine/engine.hpp>

#include <cstdint>
#include <vector>

namespace bench {

// n ids below 32000 (every bench vocabulary holds them); `offset` gives each concurrent stream
// a prompt of its own.
inline std::vector<std::int32_t> prompt_ids(int n, int offset = 0) {
    std::vector<std::int32_t> p(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = (i * 7919 + 13 + offset) % 32000;
    return p;
}

// decode_ms covers the generated ids after the first (which prefill sampled): tokens - 1
// forward passes.
inline double decode_tok_s(const llmhost::engine::GenerateResult &r) {
    return double(r.tokens.size() - 1) / (r.decode_ms / 1e3);
}

} // namespace bench
