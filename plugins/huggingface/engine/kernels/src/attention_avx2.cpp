// attend()'s body compiled for avx2 (attention_impl.hpp; flags in CMakeLists.txt).
#include "attention_impl.hpp"

namespace llmhost::kernels::detail {
void attend_avx2(const AttendArgs &a, float *scratch) { attend_body(a, scratch); }
} // namespace llmhost::kernels::detail
