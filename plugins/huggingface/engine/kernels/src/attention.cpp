// attend(): argument checks, per-thread scratch, and the ISA's body (attention_impl.hpp).
#include "llmhost/kernels/attention.hpp"

#include "detail.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::kernels {

void attend(const void *q, Act q_type, int64_t groups, int64_t hd, const void *k, const void *v,
            Act kv_type, int64_t ld, int64_t kv_len, const unsigned char *visible, float scale,
            void *out, Act out_type) {
    auto bad = [](const std::string &what) {
        throw std::invalid_argument("kernels::attend: " + what);
    };
    if (!q) bad("q is null");
    if (!k) bad("k is null");
    if (!v) bad("v is null");
    if (!out) bad("out is null");
    if (groups <= 0) bad("groups must be > 0, got " + std::to_string(groups));
    if (hd <= 0) bad("hd must be > 0, got " + std::to_string(hd));
    if (kv_len <= 0) bad("kv_len must be > 0, got " + std::to_string(kv_len));
    if (ld < hd) bad("ld (" + std::to_string(ld) + ") < hd (" + std::to_string(hd) + ")");
    detail::AttendArgs a{q,  q_type, groups,  hd,    k,   v,       kv_type,
                         ld, kv_len, visible, scale, out, out_type};
#if defined(LLMHOST_KERNELS_X86)
    a.bf16_dot = active_isa() == Isa::Avx512 && detail::avx512_bf16_allowed();
#endif
    thread_local std::vector<float> scratch;
    const auto need = std::size_t(detail::attend_scratch_floats(groups, hd, kv_len));
    if (scratch.size() < need) scratch.resize(need);
#if defined(LLMHOST_KERNELS_X86)
    switch (active_isa()) {
    case Isa::Avx512: return detail::attend_avx512(a, scratch.data());
    case Isa::Avx2: return detail::attend_avx2(a, scratch.data());
    case Isa::Scalar: break;
    }
#endif
    detail::attend_scalar(a, scratch.data());
}

} // namespace llmhost::kernels
