// Stand-in (README.md): the device and stream guards of static_decode.cpp.
#pragma once
#include <c10/cuda/CUDAStream.h>
namespace c10::cuda {
struct CUDAGuard {
    explicit CUDAGuard(c10::Device device);
    explicit CUDAGuard(c10::DeviceIndex index);
};
struct CUDAStreamGuard {
    explicit CUDAStreamGuard(c10::Stream stream);
};
} // namespace c10::cuda
