// swiglu() and exp_shifted(): argument checks and the ISA's body (activation_impl.hpp).
#include "llmhost/kernels/activation.hpp"

#include "detail.hpp"

#include <stdexcept>
#include <string>

namespace llmhost::kernels {

void swiglu(const void *gate, int64_t gate_ld, const void *up, int64_t up_ld, Act type,
            int64_t rows, int64_t n, void *out) {
    auto bad = [](const std::string &what) {
        throw std::invalid_argument("kernels::swiglu: " + what);
    };
    if (!gate) bad("gate is null");
    if (!up) bad("up is null");
    if (!out) bad("out is null");
    if (rows <= 0) bad("rows must be > 0, got " + std::to_string(rows));
    if (n <= 0) bad("n must be > 0, got " + std::to_string(n));
    if (gate_ld < n)
        bad("gate_ld (" + std::to_string(gate_ld) + ") < n (" + std::to_string(n) + ")");
    if (up_ld < n) bad("up_ld (" + std::to_string(up_ld) + ") < n (" + std::to_string(n) + ")");
    if (type != Act::F32 && type != Act::BF16) bad("type is not F32 or BF16");
    const detail::SwigluArgs a{gate, gate_ld, up, up_ld, type, rows, n, out};
#if defined(LLMHOST_KERNELS_X86)
    switch (active_isa()) {
    case Isa::Avx512: return detail::swiglu_avx512(a);
    case Isa::Avx2: return detail::swiglu_avx2(a);
    case Isa::Scalar: break;
    }
#endif
    detail::swiglu_scalar(a);
}

double exp_shifted(const float *x, int64_t n, float max, float *out) {
    if (n < 0)
        throw std::invalid_argument("kernels::exp_shifted: n must be >= 0, got " +
                                    std::to_string(n));
    if (n == 0) return 0.0; // nothing to read or write: pointers may be null
    if (!x) throw std::invalid_argument("kernels::exp_shifted: x is null");
    if (!out) throw std::invalid_argument("kernels::exp_shifted: out is null");
#if defined(LLMHOST_KERNELS_X86)
    switch (active_isa()) {
    case Isa::Avx512: return detail::exp_shifted_avx512(x, n, max, out);
    case Isa::Avx2: return detail::exp_shifted_avx2(x, n, max, out);
    case Isa::Scalar: break;
    }
#endif
    return detail::exp_shifted_scalar(x, n, max, out);
}

} // namespace llmhost::kernels
