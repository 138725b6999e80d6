// The Linux-only probes of system_probe.hpp, on Windows: the libtorch engine (the only user of
// CUDA and of a BLAS here) is built for Linux only for now, so there is nothing to check for it.
#include "system_probe.hpp"

namespace llmhost::cli {

namespace {
constexpr const char *kLinuxOnly =
    "not checked on Windows: the huggingface provider's libtorch engine, the only part of llmhost "
    "that uses ";
} // namespace

GpuInfo probe_gpu() {
    GpuInfo g;
    g.not_probed = std::string(kLinuxOnly) + "CUDA, is built for Linux only for now";
    return g;
}

BlasInfo probe_blas(const std::string &soname) {
    BlasInfo info;
    info.soname = soname;
    info.not_probed = std::string(kLinuxOnly) + "a BLAS, is built for Linux only for now";
    return info;
}

} // namespace llmhost::cli
