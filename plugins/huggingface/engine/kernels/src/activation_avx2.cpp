// swiglu()'s and exp_shifted()'s bodies compiled for avx2 (activation_impl.hpp).
#include "activation_impl.hpp"

namespace llmhost::kernels::detail {
void swiglu_avx2(const SwigluArgs &a) { swiglu_body(a); }
double exp_shifted_avx2(const float *x, int64_t n, float max, float *out) {
    return exp_shifted_body(x, n, max, out);
}
} // namespace llmhost::kernels::detail
