#include "device_rope_cache.hpp"
#include "env_switch.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#if LLMHOST_WITH_CUDA_KERNELS
#include "cuda/rope_cache.hpp"

#include <c10/cuda/CUDAStream.h>
#endif

namespace llmhost::engine {

bool device_rope_cache_available() {
#if LLMHOST_WITH_CUDA_KERNELS
    static const bool on = env_switch_on("LLMHOST_CUDA_ROPE");
    return on;
#else
    return false;
#endif
}

std::optional<cuda::RopeCacheArgs> rope_cache_args(const at::Tensor &qkv, std::int64_t H,
                                                   std::int64_t KV, std::int64_t hd,
                                                   const at::Tensor &positions,
                                                   const RopeTables &rope, KVCache &cache,
                                                   std::int64_t layer, at::Tensor &q_out) {
    if (qkv.dim() != 3) return std::nullopt;
    const auto bf16 = at::kBFloat16;
    const at::Tensor &kc = cache.k[layer], &vc = cache.v[layer];
    const std::int64_t B = qkv.size(0), T = qkv.size(1);
    const at::Device dev = qkv.device();
    const bool suits =
        qkv.scalar_type() == bf16 && qkv.is_contiguous() && qkv.size(2) == (H + 2 * KV) * hd &&
        hd % 2 == 0 && positions.scalar_type() == at::kLong && positions.is_contiguous() &&
        positions.numel() == B * T && positions.device() == dev && rope.cos.scalar_type() == bf16 &&
        rope.sin_signed.scalar_type() == bf16 && rope.cos.is_contiguous() &&
        rope.sin_signed.is_contiguous() && rope.cos.device() == dev &&
        rope.sin_signed.device() == dev && rope.cos.size(1) == hd && kc.scalar_type() == bf16 &&
        vc.scalar_type() == bf16 && kc.dim() == 4 && kc.size(0) == B && kc.size(1) == KV &&
        kc.size(3) == hd && kc.stride(3) == 1 && kc.stride(2) == hd &&
        kc.strides() == vc.strides() && kc.sizes() == vc.sizes() && kc.device() == dev &&
        vc.device() == dev;
    if (!suits) return std::nullopt;
    q_out = at::empty({B, T, H, hd}, qkv.options());
    cuda::RopeCacheArgs a;
    a.qkv = static_cast<const std::uint16_t *>(qkv.data_ptr());
    a.ld = qkv.size(2);
    a.positions = positions.data_ptr<std::int64_t>();
    a.cos = static_cast<const std::uint16_t *>(rope.cos.data_ptr());
    a.sin_signed = static_cast<const std::uint16_t *>(rope.sin_signed.data_ptr());
    a.q_out = static_cast<std::uint16_t *>(q_out.data_ptr());
    a.k_cache = static_cast<std::uint16_t *>(kc.data_ptr());
    a.v_cache = static_cast<std::uint16_t *>(vc.data_ptr());
    a.row_stride = kc.stride(0);
    a.head_stride = kc.stride(1);
    a.positions_max = std::min(kc.size(2), rope.cos.size(0));
    a.B = int(B), a.T = int(T), a.H = int(H), a.KV = int(KV), a.hd = int(hd);
    return a;
}

at::Tensor device_rope_cache(const at::Tensor &qkv, std::int64_t H, std::int64_t KV,
                             std::int64_t hd, const at::Tensor &positions, const RopeTables &rope,
                             KVCache &cache, std::int64_t layer) {
#if LLMHOST_WITH_CUDA_KERNELS
    if (!device_rope_cache_available() || !qkv.is_cuda()) return {};
    at::Tensor q;
    const auto a = rope_cache_args(qkv, H, KV, hd, positions, rope, cache, layer, q);
    if (!a) return {};
    const char *err =
        cuda::rope_cache(*a, c10::cuda::getCurrentCUDAStream(qkv.device().index()).stream());
    if (err)
        throw std::runtime_error(std::string("llmhost's CUDA RoPE kernel did not launch: ") + err);
    return q;
#else
    (void)qkv, (void)H, (void)KV, (void)hd, (void)positions, (void)rope, (void)cache, (void)layer;
    return {};
#endif
}

} // namespace llmhost::engine
