// Stand-in (README.md): the CUDAStream calls of static_decode.cpp and device_gemv.cpp.
#pragma once
#include <c10/core/Device.h>
#include <c10/core/Stream.h>
typedef struct CUstream_st *cudaStream_t; // as the CUDA runtime's driver_types.h declares it
namespace c10::cuda {
struct CUDAStream {
    void synchronize() const;
    cudaStream_t stream() const;
    operator c10::Stream() const;
};
CUDAStream getStreamFromPool(const bool isHighPriority = false, c10::DeviceIndex device = -1);
CUDAStream getStreamFromPool(const int priority, c10::DeviceIndex device = -1);
CUDAStream getCurrentCUDAStream(c10::DeviceIndex device = -1);
} // namespace c10::cuda
