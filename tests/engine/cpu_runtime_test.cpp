// The engine's CPU runtime choices: the default thread count (physical cores, from synthetic
// topologies: hyperthreaded, not, an affinity subset, a cgroup quota, hostile sysfs text) and
// which BLAS libtorch's fp32 matmuls bind to (classification, and the real process: the ctest
// entries engine.blas_probe.* rerun the "process BLAS" case with LD_LIBRARY_PATH pointing at
// Debian's netlib and OpenBLAS directories, LLMHOST_TEST_EXPECT_BLAS saying which to expect).
#include "test_util.hpp"

#include "../../plugins/huggingface/engine/src/cpu_threads.hpp"
#include "../../plugins/huggingface/engine/kernels/include/llmhost/kernels/thread_pool.hpp"

#include <llmhost/engine/blas_probe.hpp>
#include <llmhost/engine/cpu_topology.hpp>
#include <llmhost/engine/engine.hpp>

#include <ATen/Parallel.h>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <sched.h>
#include <thread>

using namespace llmhost::engine;

namespace {

std::vector<int> cpus(std::initializer_list<int> l) { return std::vector<int>(l); }

// A machine of `cores` cores with `smt` threads each, numbered as Linux does on x86 (cpu c and
// its siblings c + cores, c + 2*cores, ...).
CpuTopology machine(int cores, int smt) {
    CpuTopology t;
    for (int c = 0; c < cores * smt; ++c) {
        t.allowed.push_back(c);
        std::string list;
        for (int s = 0; s < smt; ++s)
            list += (s ? "," : "") + std::to_string(c % cores + s * cores);
        t.siblings[c] = list + "\n";
    }
    return t;
}

int openblas_threads() {
    const BlasInfo &b = process_blas();
    void *h = ::dlopen(b.library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    REQUIRE(h != nullptr);
    auto f = reinterpret_cast<int (*)()>(::dlsym(h, "openblas_get_num_threads"));
    REQUIRE(static_cast<bool>(f));
    return f();
}

} // namespace

TEST_CASE("cpu topology: cpu lists as sysfs writes them, and hostile ones") {
    CHECK(parse_cpu_list("0") == cpus({0}));
    CHECK(parse_cpu_list("0-3\n") == cpus({0, 1, 2, 3}));
    CHECK(parse_cpu_list("0,4") == cpus({0, 4}));
    CHECK(parse_cpu_list("8-9,0-1,4") == cpus({0, 1, 4, 8, 9}));
    CHECK(parse_cpu_list("3,3") == cpus({3}));
    for (const char *bad : {"", "\n", ",", "0,", ",1", "1-", "-1", "3-1", "a", "0-x", "1 2", "0--2",
                            "99999999999999999999", "0-70000"})
        CHECK_MESSAGE(!parse_cpu_list(bad), bad);
}

TEST_CASE("cpu topology: physical cores of synthetic machines") {
    CHECK(physical_cores(machine(4, 1)) == 4); // no SMT
    CHECK(physical_cores(machine(4, 2)) == 4); // 8 logical CPUs, hyperthreaded
    CHECK(physical_cores(machine(2, 4)) == 2); // SMT4 (POWER)
    // Affinity subsets (taskset, a cpuset): siblings of one core count once; one sibling of
    // each of two cores counts two.
    CpuTopology t = machine(4, 2);
    t.allowed = {0, 4};
    CHECK(physical_cores(t) == 1);
    t.allowed = {0, 1};
    CHECK(physical_cores(t) == 2);
    t.allowed = {1, 5, 2};
    CHECK(physical_cores(t) == 2);
    t.allowed = {};
    CHECK(physical_cores(t) == 0); // the caller falls back
    // Sibling lists written as ranges ("0-1": adjacent numbering, as on some ARM and VMs).
    CpuTopology adj;
    adj.allowed = {0, 1, 2, 3};
    adj.siblings = {{0, "0-1"}, {1, "0-1"}, {2, "2-3"}, {3, "2-3"}};
    CHECK(physical_cores(adj) == 2);
    // Missing or malformed sysfs text: each such CPU is its own core (never fewer threads than
    // a broken file suggests), and a list that does not contain the CPU itself is not trusted.
    CpuTopology odd;
    odd.allowed = {0, 1, 2, 3};
    odd.siblings = {{0, "garbage"}, {1, "1-2"}, {2, ""}, {3, "7"}};
    CHECK(physical_cores(odd) == 4);
    odd.siblings[1] = "0-1"; // cpu 1 names cpu 0 its sibling: one core, whatever cpu 0's file says
    CHECK(physical_cores(odd) == 3);
}

TEST_CASE("cpu topology: a cgroup quota caps the count") {
    CpuTopology t = machine(8, 2);
    t.quota_cpus = 2.0;
    CHECK(physical_cores(t) == 2);
    t.quota_cpus = 1.5; // docker --cpus 1.5: two threads can use it
    CHECK(physical_cores(t) == 2);
    t.quota_cpus = 0.5;
    CHECK(physical_cores(t) == 1);
    t.quota_cpus = 64.0; // more quota than cores: the cores decide
    CHECK(physical_cores(t) == 8);

    CHECK(parse_cgroup2_cpu_max("max 100000\n") == std::nullopt);
    CHECK(parse_cgroup2_cpu_max("200000 100000\n") == 2.0);
    CHECK(parse_cgroup2_cpu_max("150000 100000") == 1.5);
    CHECK(parse_cgroup2_cpu_max("") == std::nullopt);
    CHECK(parse_cgroup2_cpu_max("100000") == std::nullopt);
    CHECK(parse_cgroup2_cpu_max("abc 100000") == std::nullopt);
    CHECK(parse_cgroup2_cpu_max("100000 0") == std::nullopt);
    CHECK(parse_cgroup1_quota("-1\n", "100000\n") == std::nullopt);
    CHECK(parse_cgroup1_quota("50000\n", "100000\n") == 0.5);
    CHECK(parse_cgroup1_quota("x", "100000") == std::nullopt);
}

TEST_CASE("cpu topology: this process") {
    const CpuTopology t = read_cpu_topology();
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    CHECK(static_cast<int>(t.allowed.size()) == CPU_COUNT(&set));
    const int n = default_cpu_threads();
    CHECK(n >= 1);
    CHECK(n <= CPU_COUNT(&set));
}

TEST_CASE("blas probe: classification by symbols and real path") {
    const BlasSymbols none{};
    CHECK(classify_blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", none) ==
          BlasKind::Reference);
    CHECK(classify_blas("/usr/lib64/libblas.so.3", none) == BlasKind::Reference);
    CHECK(classify_blas("/usr/lib/librefblas.so", none) == BlasKind::Reference);
    CHECK(classify_blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", none) ==
          BlasKind::OpenBLAS);
    CHECK(classify_blas("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3", none) ==
          BlasKind::BLIS);
    CHECK(classify_blas("/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3", none) == BlasKind::ATLAS);
    CHECK(classify_blas("/opt/intel/mkl/lib/libmkl_rt.so", none) == BlasKind::MKL);
    // The library's own entry points win over a netlib-looking path.
    CHECK(classify_blas("/usr/local/lib/libblas.so.3", {.openblas = true}) == BlasKind::OpenBLAS);
    CHECK(classify_blas("/usr/local/lib/libblas.so.3", {.mkl = true}) == BlasKind::MKL);
    CHECK(classify_blas("/usr/local/lib/libblas.so.3", {.blis = true}) == BlasKind::BLIS);
    // sgemm_ from something else (a libtorch built with a static BLAS): no claim, no warning.
    CHECK(classify_blas("/usr/lib/libtorch_cpu.so", none) == BlasKind::Unknown);
    CHECK(classify_blas("", none) == BlasKind::None);

    BlasInfo ref{BlasKind::Reference, "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", ""};
    const std::string w = reference_blas_warning(ref);
    CHECK(w.find("fp32 matmuls run on the reference BLAS (~15x slower prefill): apt-get install "
                 "libopenblas0-pthread") == 0);
    CHECK(w.find(ref.library) != std::string::npos);
    for (BlasKind k : {BlasKind::OpenBLAS, BlasKind::MKL, BlasKind::BLIS, BlasKind::ATLAS,
                       BlasKind::Unknown, BlasKind::None})
        CHECK(reference_blas_warning(BlasInfo{k, "/x/libblas.so.3", ""}).empty());
}

TEST_CASE("blas probe: library files") {
    const auto netlib = probe_blas_library("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3");
    const auto openblas =
        probe_blas_library("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");
    REQUIRE_MESSAGE(netlib.kind != BlasKind::None, "libblas3 missing (scripts/deps.sh)");
    REQUIRE_MESSAGE(openblas.kind != BlasKind::None,
                    "libopenblas0-pthread missing (scripts/deps.sh)");
    CHECK(netlib.kind == BlasKind::Reference);
    CHECK(openblas.kind == BlasKind::OpenBLAS);
    CHECK(openblas.detail.rfind("OpenBLAS ", 0) == 0); // openblas_get_config()
    CHECK(probe_blas_library("libllmhost-no-such-blas.so.9").kind == BlasKind::None);
}

// What libtorch binds sgemm_ to in this process. Without LLMHOST_TEST_EXPECT_BLAS, what the
// loader finds for libblas.so.3 (the system's alternative); the ctest variants set both the
// search path and the expectation (tests/engine/CMakeLists.txt).
TEST_CASE("blas probe: the process BLAS") {
    const BlasInfo &b = process_blas();
    INFO("process BLAS: " << b.name() << " at " << b.library << " (" << b.detail << ")");
    const char *expect = std::getenv("LLMHOST_TEST_EXPECT_BLAS");
    const std::string want = expect ? expect : "";
    if (want == "reference") {
        CHECK(b.kind == BlasKind::Reference);
        CHECK(b.library.find("/blas/") != std::string::npos);
        CHECK_FALSE(reference_blas_warning(b).empty());
        CHECK_FALSE(set_blas_threads(1)); // nothing to set on netlib
    } else if (want == "openblas") {
        CHECK(b.kind == BlasKind::OpenBLAS);
        CHECK(reference_blas_warning(b).empty());
    } else {
        REQUIRE(want.empty());
        const BlasInfo sys = probe_blas_library("libblas.so.3");
        CHECK(b.kind == sys.kind);
        CHECK(b.library == sys.library);
    }
}

TEST_CASE("engine threads: 0 means the physical cores, n means n (libtorch and OpenBLAS)") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d.path);
    const int before = at::get_num_threads();
    const bool omp_env = std::getenv("OMP_NUM_THREADS") != nullptr;
    auto e = Engine::load(d.path, {.device = "cpu", .max_context = 32, .threads = 1});
    CHECK(at::get_num_threads() == 1);
    if (process_blas().kind == BlasKind::OpenBLAS) CHECK(openblas_threads() == 1);
    e = Engine::load(d.path, {.device = "cpu", .max_context = 32, .threads = 0});
    if (omp_env) {
        CHECK(at::get_num_threads() == 1); // OMP_NUM_THREADS set: the engine leaves it alone
    } else {
        CHECK(at::get_num_threads() == default_cpu_threads());
        if (process_blas().kind == BlasKind::OpenBLAS)
            CHECK(openblas_threads() == default_cpu_threads());
    }
    at::set_num_threads(before);
}

// at::parallel_for's OpenMP pragma is compiled into the engine's own files: built without
// OpenMP they run every loop on one thread while at::get_num_threads() says 2 (this happened;
// models/parallel.hpp). So the check is of the threads that really ran chunks, in a real decode.
// The engine's pool lets the caller take a worker's pieces when it gets there first, and does not
// wait for a worker that is not running: on the development VM a sleeping worker took over a
// millisecond to wake, and after the prefill OpenBLAS's and OpenMP's spinning threads kept it off
// the cores for several. The first loops of a request may run on the caller alone, which is
// right, but proves nothing: so the decode is repeated (for up to 20 s) until a worker has run a
// chunk. A serial build never gets there. (50 requests were not always enough under ctest -j2 on
// 2 cores: with the other core busy with another test, the caller finished every loop of an int8
// decode before the worker was scheduled.)
TEST_CASE("engine threads: the decode kernels really run on `threads` threads") {
    test::TempDir d;
    auto s = test::spec("llama");
    s.hidden_size = 256; // matrices of 256 KiB+ in bf16: several 64 KiB chunks each
    s.intermediate_size = 1024;
    s.vocab_size = 16384; // an lm head of 8 MiB in bf16, 2.3 in int4
    s.dtype = "BF16";
    llmhost::tools::write_model_dir(s, d.path);
    const int before = at::get_num_threads();
    std::vector<std::int32_t> prompt = {5, 9, 17, 33};
    GenerateOptions o;
    o.max_tokens = 32;
    for (const std::string dtype : {"bfloat16", "int8", "int4"}) {
        for (int threads : {1, 2}) {
            CAPTURE(dtype);
            CAPTURE(threads);
            auto e = Engine::load(
                d.path, {.device = "cpu", .dtype = dtype, .max_context = 64, .threads = threads});
            parallel_team_high_water(true);
            const auto t0 = std::chrono::steady_clock::now();
            while (parallel_team_high_water() < threads &&
                   std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20))
                e->generate(prompt, o);
            CHECK(parallel_team_high_water() == threads);
        }
        // A change while the engine is idle applies from the next request's first step on.
        CAPTURE(dtype);
        auto e = Engine::load(d.path,
                              {.device = "cpu", .dtype = dtype, .max_context = 64, .threads = 2});
        e->generate(prompt, o);
        e->set_threads(1);
        parallel_team_high_water(true);
        e->generate(prompt, o);
        CHECK(parallel_team_high_water() == 1);
    }
    at::set_num_threads(before);
}

namespace {

// `read()` for each (value of environment variable `name`, expected result), and unset; the
// variable is restored afterwards.
void check_env_int(const char *name, int (*read)(), int unset,
                   const std::vector<std::pair<const char *, int>> &cases) {
    const char *before = std::getenv(name);
    const std::string saved = before ? before : "";
    ::unsetenv(name);
    CHECK(read() == unset);
    for (const auto &[value, want] : cases) {
        CAPTURE(value);
        ::setenv(name, value, 1);
        CHECK(read() == want);
    }
    if (before)
        ::setenv(name, saved.c_str(), 1);
    else
        ::unsetenv(name);
}

} // namespace

TEST_CASE("engine threads: LLMHOST_POOL_SPIN_US, and hostile values of it") {
    check_env_int("LLMHOST_POOL_SPIN_US", pool_spin_us, 1000,
                  {{"0", 0},
                   {"250", 250},
                   {"100000", 100000},
                   {"", 1000},
                   {"-1", 1000},
                   {"100001", 1000},
                   {"12abc", 1000},
                   {"abc", 1000},
                   {" 5", 5},
                   {"99999999999999999999999", 1000}});
}

TEST_CASE("engine threads: LLMHOST_POOL_PIECES, and hostile values of it") {
    const int def = llmhost::kernels::ThreadPool::kDefaultPieces;
    check_env_int("LLMHOST_POOL_PIECES", pool_pieces, def,
                  {{"1", 1},
                   {"4", 4},
                   {"64", 64},
                   {"", def},
                   {"0", def},
                   {"-3", def},
                   {"65", def},
                   {"8x", def},
                   {"x", def},
                   {"99999999999999999999", def}});
}
