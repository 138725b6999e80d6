// Stand-in (README.md): the torch-2 functions the engine calls, force-included, since libtorch
// 1.13 has none of them. at::scaled_dot_product_attention as libtorch 2.5+ declares it (2.0 has
// the first six parameters, 2.1 adds scale); at::rms_norm as 2.4+ declares it.
#pragma once
#include <ATen/ATen.h>
namespace at {
Tensor scaled_dot_product_attention(const Tensor &query, const Tensor &key, const Tensor &value,
                                    const c10::optional<Tensor> &attn_mask = {},
                                    double dropout_p = 0.0, bool is_causal = false,
                                    c10::optional<double> scale = c10::nullopt,
                                    bool enable_gqa = false);
Tensor rms_norm(const Tensor &input, IntArrayRef normalized_shape,
                const c10::optional<Tensor> &weight = {}, c10::optional<double> eps = c10::nullopt);
} // namespace at
