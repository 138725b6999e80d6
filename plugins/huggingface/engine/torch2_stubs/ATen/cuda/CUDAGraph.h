// Stand-in (README.md): at::cuda::CUDAGraph as libtorch 2.x declares it.
#pragma once
#include <c10/cuda/CUDAStream.h>
#include <utility>
enum cudaStreamCaptureMode {
    cudaStreamCaptureModeGlobal = 0,
    cudaStreamCaptureModeThreadLocal = 1,
    cudaStreamCaptureModeRelaxed = 2
};
namespace at::cuda {
using MempoolId_t = std::pair<unsigned long long, unsigned long long>;
struct CUDAGraph {
    CUDAGraph();
    ~CUDAGraph();
    void capture_begin(MempoolId_t pool = {0, 0},
                       cudaStreamCaptureMode capture_mode = cudaStreamCaptureModeGlobal);
    void capture_end();
    void replay();
    void reset();
    MempoolId_t pool();
};
} // namespace at::cuda
