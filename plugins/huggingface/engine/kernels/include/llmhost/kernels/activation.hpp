// SwiGLU's elementwise product for the decode step on CPU, and the exponentials of a softmax over a
// vocabulary for the sampler, vectorised and dispatched at run time like linear() (same ISAs,
// same force_isa()). Torch-free; the engine's decode_ops and Sampler call them.
#pragma once

#include "llmhost/kernels/linear.hpp"

#include <cstdint>

namespace llmhost::kernels {

// out[r, i] = silu(gate[r, i]) * up[r, i] for `rows` rows of n elements, silu(x) = x / (1 + e^-x)
// in fp32 (e^x by a ~1 ulp polynomial, not libm's). gate and up: row strides gate_ld, up_ld
// elements (>= n); out: contiguous [rows, n]; all three of `type`. bf16: silu's result is rounded
// to bf16, then the product (round to nearest even), as torch's `at::silu(g) * u` rounds. NaN in,
// NaN out. Throws std::invalid_argument naming the argument for a null pointer, rows or n <= 0,
// or a stride below n.
void swiglu(const void *gate, int64_t gate_ld, const void *up, int64_t up_ld, Act type,
            int64_t rows, int64_t n, void *out);

// out[i] = e^(x[i] - max) for n values (the weights of a softmax whose maximum is `max`), with
// the same ~1 ulp polynomial; returns their sum, accumulated in double. x[i] - max below -87
// (including -inf), and NaN, give 0. Throws std::invalid_argument for n < 0, or a
// null pointer when n > 0.
// For the sampler's temperature draws over a whole vocabulary (libm's exp, one call per id, was
// ~190 us per token at 32,000 ids).
double exp_shifted(const float *x, int64_t n, float max, float *out);

} // namespace llmhost::kernels
