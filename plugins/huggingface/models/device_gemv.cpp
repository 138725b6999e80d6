#include "device_gemv.hpp"
#include "env_switch.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if LLMHOST_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>
#endif

namespace llmhost::engine {

bool device_gemv_available() {
#if LLMHOST_WITH_CUDA_KERNELS
    static const bool on = env_switch_on("LLMHOST_CUDA_GEMV");
    return on;
#else
    return false;
#endif
}

bool device_gemv(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias,
                 at::Tensor &out, bool accumulate) {
#if LLMHOST_WITH_CUDA_KERNELS
    if (!device_gemv_available() || !x.is_cuda() || !weight.is_cuda() || !out.is_cuda())
        return false;
    const auto bf16 = at::kBFloat16;
    if (x.scalar_type() != bf16 || weight.scalar_type() != bf16 || out.scalar_type() != bf16 ||
        (bias.defined() && (bias.scalar_type() != bf16 || !bias.is_contiguous())))
        return false;
    if (weight.dim() != 2 || x.dim() < 1) return false;
    const std::int64_t N = weight.size(0), K = weight.size(1);
    const std::int64_t M = x.numel() / std::max<std::int64_t>(K, 1);
    // x's rows must be K wide (not merely hold M * K elements: [2, 2K] is not [4, K]).
    if (x.size(-1) != K || (bias.defined() && bias.numel() != N) || x.numel() != M * K ||
        out.numel() != M * N || !x.is_contiguous() || !weight.is_contiguous() ||
        !out.is_contiguous() || !cuda::gemv_bf16_suits(M, N, K, weight.data_ptr(), x.data_ptr()))
        return false;
    const char *err =
        cuda::gemv_bf16(weight.data_ptr(), x.data_ptr(), bias.defined() ? bias.data_ptr() : nullptr,
                        accumulate ? out.data_ptr() : nullptr, out.data_ptr(), M, N, K,
                        c10::cuda::getCurrentCUDAStream(x.device().index()).stream());
    if (err) throw std::runtime_error(std::string("llmhost's CUDA GEMV did not launch: ") + err);
    return true;
#else
    (void)x, (void)weight, (void)bias, (void)out, (void)accumulate;
    return false;
#endif
}

} // namespace llmhost::engine
