// Which BLAS libtorch's fp32 matmuls call in this process, and OpenBLAS's own thread count.
//
// Debian's libtorch is linked against libblas.so.3, which Debian's alternatives point at the
// reference (netlib) BLAS unless an optimized one is installed: then every fp32 matmul runs a
// naive triple loop, single-threaded (~15x slower prefill on a 110M Llama). The process's BLAS is
// the library that the symbol sgemm_ resolves to from here (dlsym + dladdr): that is the one
// libtorch's calls bind to, whatever else is loaded (an OpenBLAS pulled in by liblapack.so.3 does
// not help if libblas.so.3 is the reference one). Torch-free; the plugin logs the warning.
#pragma once

#include <string>
#include <string_view>

namespace llmhost::engine {

enum class BlasKind { OpenBLAS, MKL, BLIS, ATLAS, Reference, Unknown, None };

struct BlasInfo {
    BlasKind kind = BlasKind::None;
    std::string library;      // real path of the library that provides sgemm_ ("" when none)
    std::string detail;       // openblas_get_config() / MKL or BLIS version, when the library says
    std::string name() const; // "OpenBLAS", "reference BLAS (netlib)", ...
    bool reference() const { return kind == BlasKind::Reference; }
};

// What the library says about itself: the optimized BLASes export their own entry points
// (openblas_get_config, MKL_Get_Version_String, bli_info_get_version_str); netlib exports only
// the Fortran BLAS.
struct BlasSymbols {
    bool openblas = false, mkl = false, blis = false;
};

// Classifies a BLAS by its real path and symbols. Symbols win; then the path (Debian installs
// each implementation in its own directory: openblas-pthread/, blis-openmp/, atlas/, blas/);
// a plain libblas.so* / librefblas* with none of them is the reference; anything else Unknown.
BlasKind classify_blas(std::string_view real_path, const BlasSymbols &symbols);

// The BLAS this process's sgemm_ resolves to (None when no BLAS is loaded). Computed once.
const BlasInfo &process_blas();

// The BLAS in one library file (a path or a soname, as dlopen takes it; loaded RTLD_LOCAL, so
// it does not change what the process uses). None when it cannot be loaded or has no sgemm_.
BlasInfo probe_blas_library(const std::string &file);

// The warning to log when fp32 matmuls would run on the reference BLAS, with the fix; "" else.
std::string reference_blas_warning(const BlasInfo &info);

// Sets OpenBLAS's own pthread pool size (openblas_set_num_threads, found with dlsym) so that it
// matches libtorch's intra-op threads instead of spawning one thread per CPU beside them.
// False when the process's BLAS is not OpenBLAS (nothing to set).
bool set_blas_threads(int n);

} // namespace llmhost::engine
