// attend()'s body compiled for scalar (attention_impl.hpp; flags in CMakeLists.txt).
#include "attention_impl.hpp"

namespace llmhost::kernels::detail {
void attend_scalar(const AttendArgs &a, float *scratch) { attend_body(a, scratch); }
} // namespace llmhost::kernels::detail
