// `llmhost doctor`'s BLAS section: which library libblas.so.3 is, and the warning with the fix
// when it is the reference (netlib) one. The reference case is exercised for real, without
// uninstalling anything: LD_LIBRARY_PATH puts Debian's netlib directory first in the loader's
// search, exactly as a machine without an optimized BLAS would resolve libblas.so.3.
// scripts/deps.sh installs both libraries (libblas3 and libopenblas0-pthread).
#include "sandbox.hpp"

#include "system_probe.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace cli_test;
namespace fs = std::filesystem;

namespace {

const fs::path kNetlibDir = "/usr/lib/x86_64-linux-gnu/blas";
const fs::path kOpenblasDir = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

bool has(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

llmhost::cli::BlasInfo classified(const std::string &path, bool ob = false, bool mkl = false,
                                  bool blis = false) {
    llmhost::cli::BlasInfo b;
    b.library = path;
    llmhost::cli::classify_blas(b, ob, mkl, blis);
    return b;
}

} // namespace

TEST_CASE("doctor BLAS: classification by the library's symbols and real path") {
    using llmhost::cli::BlasInfo;
    // Debian's alternatives targets.
    CHECK(classified("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0").reference);
    CHECK(classified("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0").kind ==
          "reference BLAS (netlib)");
    CHECK(classified("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3").kind == "OpenBLAS");
    CHECK_FALSE(classified("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3").reference);
    CHECK(classified("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3").kind == "BLIS");
    CHECK(classified("/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3").kind == "ATLAS");
    CHECK(classified("/opt/intel/oneapi/mkl/lib/libmkl_rt.so.2").kind == "Intel MKL");
    // A self-describing library wins over a path that looks like netlib's (a hand-installed
    // OpenBLAS copied to /usr/local/lib/libblas.so.3).
    CHECK(classified("/usr/local/lib/libblas.so.3", /*openblas=*/true).kind == "OpenBLAS");
    CHECK_FALSE(classified("/usr/local/lib/libblas.so.3", true).reference);
    CHECK(classified("/usr/local/lib/libblas.so.3", false, true).kind == "Intel MKL");
    CHECK(classified("/usr/local/lib/libblas.so.3", false, false, true).kind == "BLIS");
    // Other distributions' netlib names; something else entirely is not called reference.
    CHECK(classified("/usr/lib64/libblas.so.3.9.0").reference);
    CHECK(classified("/usr/lib/librefblas.so.3").reference);
    CHECK_FALSE(classified("/usr/lib/libsomethingelse.so.1").reference);
    CHECK(classified("/usr/lib/libsomethingelse.so.1").kind == "unrecognised BLAS");
}

TEST_CASE("doctor BLAS: probe of a missing library reports not found") {
    const auto b = llmhost::cli::probe_blas("libllmhost-no-such-blas.so.9");
    CHECK_FALSE(b.found);
    CHECK_FALSE(b.reference);
}

TEST_CASE("doctor BLAS: the reference BLAS gets a warning with the fix") {
    REQUIRE_MESSAGE(fs::exists(kNetlibDir / "libblas.so.3"),
                    "libblas3 is not installed (scripts/deps.sh installs it)");
    // Only in the child: loaded here, the netlib file would answer every later dlopen of its
    // soname in this process.
    Sandbox sb;
    sb.write_echo_config();
    sb.env["LD_LIBRARY_PATH"] = kNetlibDir.string();
    auto r = sb.llmhost({"doctor"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0); // a warning, not a problem
    CHECK(has(r.out, "BLAS (CPU matrix multiplication)"));
    CHECK(has(r.out, "WARN  libblas.so.3 -> " + kNetlibDir.string()));
    CHECK(has(r.out, "reference BLAS (netlib)"));
    CHECK(has(r.out, "hint: fp32 matmuls run on the reference BLAS (~15x slower prefill): "
                     "apt-get install libopenblas0-pthread"));
    CHECK(has(r.out, "No problem found (1 warning(s))."));
}

TEST_CASE("doctor BLAS: OpenBLAS is reported as ok, with its configuration") {
    REQUIRE_MESSAGE(fs::exists(kOpenblasDir / "libblas.so.3"),
                    "libopenblas0-pthread is not installed (scripts/deps.sh installs it)");
    Sandbox sb;
    sb.write_echo_config();
    sb.env["LD_LIBRARY_PATH"] = kOpenblasDir.string();
    auto r = sb.llmhost({"doctor"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "ok    libblas.so.3 -> " + kOpenblasDir.string()));
    CHECK(has(r.out, ": OpenBLAS (OpenBLAS ")); // openblas_get_config(), e.g. "OpenBLAS 0.3.21 ..."
    CHECK_FALSE(has(r.out, "reference BLAS"));
}

TEST_CASE("doctor BLAS: without overrides it reports what this system's libblas.so.3 is") {
    // This process loads no BLAS otherwise (the cases above probe in children), so the loader's
    // search here is the child's.
    const auto sys = llmhost::cli::probe_blas();
    Sandbox sb;
    sb.write_echo_config();
    auto r = sb.llmhost({"doctor"});
    INFO(r.out << r.err);
    CHECK(has(r.out, "BLAS (CPU matrix multiplication)"));
    if (!sys.found) {
        CHECK(has(r.out, "libblas.so.3 not found"));
        return;
    }
    CHECK(has(r.out, "libblas.so.3 -> " + sys.library + ": " + sys.kind));
    CHECK(has(r.out, "hint: fp32 matmuls run on the reference BLAS") == sys.reference);
}
