#include <llmhost/engine/blas_probe.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>

#include <dlfcn.h>
#include <link.h>

namespace llmhost::engine {

namespace {

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return r;
}

std::string real_path(const std::string &p) {
    char buf[PATH_MAX];
    if (::realpath(p.c_str(), buf)) return buf;
    return p;
}

// Symbols and self-description of the library behind `handle` (dlsym on a handle searches the
// library and its dependencies: Debian's openblas-pthread/libblas.so.3 is a thin wrapper whose
// openblas_* entry points live in its libopenblas.so.0).
BlasInfo describe(void *handle, const std::string &file) {
    BlasInfo info;
    info.library = real_path(file);
    BlasSymbols s;
    using cstr_fn = const char *(*)();
    if (auto f = reinterpret_cast<cstr_fn>(::dlsym(handle, "openblas_get_config"))) {
        s.openblas = true;
        if (const char *c = f()) info.detail = c;
    }
    if (auto f =
            reinterpret_cast<void (*)(char *, int)>(::dlsym(handle, "MKL_Get_Version_String"))) {
        s.mkl = true;
        char buf[256] = {};
        f(buf, sizeof buf - 1);
        info.detail = buf;
    }
    if (auto f = reinterpret_cast<cstr_fn>(::dlsym(handle, "bli_info_get_version_str"))) {
        s.blis = true;
        if (const char *c = f()) info.detail = std::string("BLIS ") + c;
    }
    info.kind = classify_blas(info.library, s);
    return info;
}

} // namespace

std::string BlasInfo::name() const {
    switch (kind) {
    case BlasKind::OpenBLAS: return "OpenBLAS";
    case BlasKind::MKL: return "Intel MKL";
    case BlasKind::BLIS: return "BLIS";
    case BlasKind::ATLAS: return "ATLAS";
    case BlasKind::Reference: return "reference BLAS (netlib)";
    case BlasKind::Unknown: return "unrecognised BLAS";
    case BlasKind::None: break;
    }
    return "no BLAS";
}

BlasKind classify_blas(std::string_view real_path, const BlasSymbols &symbols) {
    if (symbols.openblas) return BlasKind::OpenBLAS;
    if (symbols.mkl) return BlasKind::MKL;
    if (symbols.blis) return BlasKind::BLIS;
    if (real_path.empty()) return BlasKind::None;
    const std::string p = lower(real_path);
    if (p.find("openblas") != std::string::npos) return BlasKind::OpenBLAS;
    if (p.find("mkl") != std::string::npos) return BlasKind::MKL;
    if (p.find("blis") != std::string::npos) return BlasKind::BLIS;
    if (p.find("atlas") != std::string::npos) return BlasKind::ATLAS;
    const auto slash = p.rfind('/');
    const std::string file = slash == std::string::npos ? p : p.substr(slash + 1);
    if (file.rfind("libblas.so", 0) == 0 || file.rfind("libblas64.so", 0) == 0 ||
        file.rfind("librefblas", 0) == 0)
        return BlasKind::Reference;
    return BlasKind::Unknown;
}

const BlasInfo &process_blas() {
    static const BlasInfo info = [] {
        // RTLD_DEFAULT from here searches this library's own scope (glibc looks up the caller),
        // which is where libtorch's references to sgemm_ bind too.
        void *sym = ::dlsym(RTLD_DEFAULT, "sgemm_");
        Dl_info where{};
        if (!sym || !::dladdr(sym, &where) || !where.dli_fname) return BlasInfo{};
        void *handle = ::dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (!handle) {
            BlasInfo b;
            b.library = real_path(where.dli_fname);
            b.kind = classify_blas(b.library, {});
            return b;
        }
        BlasInfo b = describe(handle, where.dli_fname);
        ::dlclose(handle); // only drops the reference NOLOAD took
        return b;
    }();
    return info;
}

BlasInfo probe_blas_library(const std::string &file) {
    void *handle = ::dlopen(file.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!handle) return {};
    BlasInfo b;
    if (::dlsym(handle, "sgemm_")) {
        // The file dlopen actually found (a soname is resolved through the loader's search).
        const link_map *lm = nullptr;
        std::string found = file;
        if (::dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && *lm->l_name)
            found = lm->l_name;
        b = describe(handle, found);
    }
    // Not dlclose'd: loading OpenBLAS started its thread pool, and unloading a library under its
    // own threads is how processes crash at exit.
    return b;
}

std::string reference_blas_warning(const BlasInfo &info) {
    if (!info.reference()) return {};
    return "fp32 matmuls run on the reference BLAS (~15x slower prefill): apt-get install "
           "libopenblas0-pthread (BLAS in use: " +
           info.library + ")";
}

bool set_blas_threads(int n) {
    const BlasInfo &b = process_blas();
    if (b.kind != BlasKind::OpenBLAS || n < 1) return false;
    void *handle = ::dlopen(b.library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) return false;
    auto f = reinterpret_cast<void (*)(int)>(::dlsym(handle, "openblas_set_num_threads"));
    if (f) f(n);
    ::dlclose(handle);
    return f != nullptr;
}

} // namespace llmhost::engine
