// swiglu()'s body compiled for scalar (activation_impl.hpp; flags in CMakeLists.txt).
#include "activation_impl.hpp"

namespace llmhost::kernels::detail {
void swiglu_scalar(const SwigluArgs &a) { swiglu_body(a); }
} // namespace llmhost::kernels::detail
