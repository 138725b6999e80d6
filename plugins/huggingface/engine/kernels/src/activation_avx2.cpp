// swiglu()'s body compiled for avx2 (activation_impl.hpp; flags in CMakeLists.txt).
#include "activation_impl.hpp"

namespace llmhost::kernels::detail {
void swiglu_avx2(const SwigluArgs &a) { swiglu_body(a); }
} // namespace llmhost::kernels::detail
