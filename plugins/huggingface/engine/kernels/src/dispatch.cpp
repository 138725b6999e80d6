// Run-time ISA selection: what the CPU (and OS, via XCR0 in __builtin_cpu_supports) supports, the
// one linear() uses, and forcing another for tests and benchmarks.
#include "detail.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

namespace llmhost::kernels {
namespace {
bool cpu_has_vnni();

bool cpu_has(Isa isa) {
#if defined(LLMHOST_KERNELS_X86)
    switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    case Isa::Avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    }
    return false;
#else
    return isa == Isa::Scalar;
#endif
}

bool cpu_has_vnni() {
#if defined(LLMHOST_KERNELS_X86)
    return __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

std::atomic<int> &forced() {
    static std::atomic<int> f{-1};
    return f;
}

// Which AVX-512 extensions linear() may use (bit 0: BF16, bit 1: VNNI); tests clear them to run
// the paths of AVX-512 CPUs without them (e.g. Skylake-X) on this one.
std::atomic<int> &allowed_ext() {
    static std::atomic<int> a{3};
    return a;
}

bool use_bf16() { return cpu_has_avx512_bf16() && (allowed_ext().load() & 1); }
bool use_vnni() { return cpu_has_vnni() && (allowed_ext().load() & 2); }

} // namespace

namespace detail {
bool avx512_bf16_allowed() { return use_bf16(); }
} // namespace detail

bool cpu_has_avx512_bf16() {
#if defined(LLMHOST_KERNELS_X86)
    return cpu_has(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

Isa best_isa() {
    static const Isa best = cpu_has(Isa::Avx512) ? Isa::Avx512
                            : cpu_has(Isa::Avx2) ? Isa::Avx2
                                                 : Isa::Scalar;
    return best;
}

Isa active_isa() {
    int f = forced().load(std::memory_order_relaxed);
    return f < 0 ? best_isa() : static_cast<Isa>(f);
}

void force_isa(Isa isa) {
    if (isa != Isa::Scalar && isa != Isa::Avx2 && isa != Isa::Avx512)
        throw std::invalid_argument("force_isa: unknown ISA value " +
                                    std::to_string(static_cast<int>(isa)));
    if (!cpu_has(isa))
        throw std::invalid_argument(std::string("force_isa: this CPU lacks ") + isa_name(isa));
    forced().store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char *isa_name(Isa isa) {
    switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    }
    return "unknown";
}

std::string isa_description() {
    Isa isa = active_isa();
    std::string d = isa_name(isa);
    if (isa == Isa::Avx512) {
        std::string ext;
        if (use_bf16()) ext += "bf16";
        if (use_vnni()) ext += ext.empty() ? "vnni" : ", vnni";
        if (!ext.empty()) d += " (" + ext + ")";
    }
    if (isa != best_isa()) d += std::string(", forced; best ") + isa_name(best_isa());
    return d;
}

const char *format_name(Format f) {
    switch (f) {
    case Format::BF16: return "bf16";
    case Format::Q8: return "int8";
    case Format::Q4: return "int4";
    }
    return "unknown";
}

bool linear_rounds_x_to_bf16(Format f) {
    return f == Format::BF16 && active_isa() == Isa::Avx512 && use_bf16();
}

void force_avx512_extensions(bool bf16, bool vnni) {
    if (bf16 && !cpu_has_avx512_bf16())
        throw std::invalid_argument("force_avx512_extensions: this CPU lacks avx512-bf16");
    if (vnni && !cpu_has_vnni())
        throw std::invalid_argument("force_avx512_extensions: this CPU lacks avx512-vnni");
    allowed_ext().store((bf16 ? 1 : 0) | (vnni ? 2 : 0));
}

int32_t linear_x_code_max(Format f) {
    if (f == Format::BF16 || !detail::active_kernels().wants_int16_x) return 0;
    return detail::x_code_max(f);
}

namespace detail {

const IsaKernels &active_kernels() {
    static const IsaKernels scalar = scalar_kernels();
#if defined(LLMHOST_KERNELS_X86)
    switch (active_isa()) {
    case Isa::Avx512: {
        static const IsaKernels k[2][2] = {
            {avx512_kernels(false, false), avx512_kernels(false, true)},
            {avx512_kernels(true, false), avx512_kernels(true, true)}};
        return k[use_bf16()][use_vnni()];
    }
    case Isa::Avx2: {
        static const IsaKernels k = avx2_kernels();
        return k;
    }
    case Isa::Scalar: break;
    }
#endif
    return scalar;
}

} // namespace detail
} // namespace llmhost::kernels
