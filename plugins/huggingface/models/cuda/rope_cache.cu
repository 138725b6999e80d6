// A decode step's RoPE on q and k with k and v written into the KV cache, in one kernel where the
// libtorch path launches about seven (roll, two multiplies, an add, the row indices, two
// scatters) per layer. The arithmetic is rope_cache_math.hpp's, shared with a CPU test.
#include "rope_cache.hpp"
#include "rope_cache_math.hpp"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace llmhost::cuda {
namespace {

struct DeviceOps {
    static __device__ __forceinline__ float to_float(std::uint16_t bits) {
        return __bfloat162float(__ushort_as_bfloat16(bits));
    }
    static __device__ __forceinline__ std::uint16_t to_bf16(float f) {
        return __bfloat16_as_ushort(__float2bfloat16_rn(f));
    }
};

__global__ void rope_cache_kernel(RopeCacheArgs a) {
    const std::int64_t n = a.elements();
    for (std::int64_t e = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
         e += std::int64_t(gridDim.x) * blockDim.x)
        rope_cache_element<DeviceOps>(a, e);
}

} // namespace

const char *rope_cache(const RopeCacheArgs &a, void *stream) {
    const std::int64_t n = a.elements();
    if (n <= 0 || a.hd % 2 != 0) return "rope_cache: empty or odd head size";
    const int block = 256;
    const std::int64_t blocks = (n + block - 1) / block;
    const unsigned grid = static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
    rope_cache_kernel<<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(a);
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

} // namespace llmhost::cuda
