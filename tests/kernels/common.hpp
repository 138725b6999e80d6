// Shared helpers of the kernel tests: random data, a std::thread ParallelFor, ISA selection that
// skips (exit 77) when the CPU lacks the ISA.
#pragma once

#include "llmhost/kernels/linear.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kt {

using namespace llmhost::kernels;

inline std::vector<float> gaussian(std::size_t n, float sigma, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, sigma);
    std::vector<float> v(n);
    for (auto &x : v) x = d(rng);
    return v;
}

inline uint16_t to_bf16(float f) { // round to nearest even (finite inputs)
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}
inline float from_bf16(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// A real multi-threaded loop: `threads` std::threads over chunks of at least `grain`.
inline ParallelFor thread_for(int threads) {
    return [threads](int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
        int64_t chunks =
            std::max<int64_t>(1, std::min<int64_t>(threads, n / std::max<int64_t>(1, grain)));
        int64_t step = (n + chunks - 1) / chunks;
        std::vector<std::thread> pool;
        for (int64_t b = 0; b < n; b += step) pool.emplace_back(body, b, std::min(n, b + step));
        for (auto &t : pool) t.join();
    };
}

// The ISAs this CPU has (the scalar path always), for the cases that loop over "every ISA"; the
// per-ISA linear cases report a missing one as skipped.
inline std::vector<Isa> available_isas() {
    std::vector<Isa> out = {Isa::Scalar};
    if (best_isa() != Isa::Scalar) out.push_back(Isa::Avx2);
    if (best_isa() == Isa::Avx512) out.push_back(Isa::Avx512);
    return out;
}

// What fn throws as std::invalid_argument, or "no exception" (other exceptions propagate).
template <class F>
std::string error_of(F fn) {
    try {
        fn();
    } catch (const std::invalid_argument &e) {
        return e.what();
    }
    return "no exception";
}

// Forces `isa` for the scope; exits 77 (ctest SKIP) when this CPU lacks it.
struct IsaScope {
    explicit IsaScope(Isa isa) {
        if (isa == Isa::Avx512 && best_isa() != Isa::Avx512) skip(isa);
        if (isa == Isa::Avx2 && best_isa() == Isa::Scalar) skip(isa);
        force_isa(isa);
    }
    ~IsaScope() { force_isa(best_isa()); }
    [[noreturn]] static void skip(Isa isa) {
        std::printf("SKIP: this CPU lacks %s\n", isa_name(isa));
        std::fflush(stdout);
        std::_Exit(77);
    }
};

} // namespace kt
