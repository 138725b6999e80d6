// Decode attention on CPU: the scores, softmax and weighted sum of one query position over the
// cached keys and values, vectorised and dispatched at run time like linear() (same ISAs, same
// force_isa()). Torch-free; the engine's decode_ops call it once per (row, KV head).
#pragma once

#include "llmhost/kernels/linear.hpp"

#include <cstdint>

namespace llmhost::kernels {

// Grouped-query attention of `groups` query heads sharing one KV head, for one query position:
//   out[g, :] = sum_s p[g, s] v[s, :]
//   p[g, :] = softmax over the visible s of scale * q[g, :] . k[s, :]
// q: groups rows of hd (q_type), contiguous; k, v: kv_len rows of hd (kv_type), row stride ld
// elements (>= hd); visible: kv_len bytes (0 = masked out), or nullptr for all; out: groups rows
// of hd (out_type; bf16 rounded to nearest even). Scores, softmax and sums in fp32 (dot products
// summed in a vector order, not left to right). Exception: with AVX512_BF16, a bf16 cache at
// hd 64 or 128 is multiplied as bf16 pairs (vdpbf16ps, exact products) with an fp32 q split into
// two bf16 parts, ~2^-17 |q| from fp32's q (a bf16 q is exact). A query that sees no position
// gets zeros.
// Throws std::invalid_argument naming the argument for a null pointer, groups, hd or kv_len <= 0,
// or ld < hd. Thread-safe (scratch per calling thread).
void attend(const void *q, Act q_type, int64_t groups, int64_t hd, const void *k, const void *v,
            Act kv_type, int64_t ld, int64_t kv_len, const unsigned char *visible, float scale,
            void *out, Act out_type);

} // namespace llmhost::kernels
