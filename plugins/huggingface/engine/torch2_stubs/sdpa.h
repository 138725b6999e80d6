// Stand-in (README.md): at::scaled_dot_product_attention as libtorch 2.5+ declares it (2.0 has the
// first six parameters, 2.1 adds scale): force-included, since libtorch 1.13 has none.
#pragma once
#include <ATen/ATen.h>
namespace at {
Tensor scaled_dot_product_attention(const Tensor &query, const Tensor &key, const Tensor &value,
                                    const c10::optional<Tensor> &attn_mask = {},
                                    double dropout_p = 0.0, bool is_causal = false,
                                    c10::optional<double> scale = c10::nullopt,
                                    bool enable_gqa = false);
} // namespace at
