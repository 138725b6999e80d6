// swiglu(): silu(gate) * up against a double-precision reference on every ISA this CPU has, fp32
// and bf16, odd lengths (vector tails), row strides, the edges (NaN, infinities, large
// magnitudes), and hostile arguments refused naming the argument. exp_shifted() likewise.
#include "common.hpp"

#include <llmhost/kernels/activation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kt;

namespace {

double silu_ref(double x) { return x / (1.0 + std::exp(-x)); }

void check(Isa isa, Act t, int64_t rows, int64_t n, uint32_t seed) {
    std::string what =
        std::string(isa_name(isa)) + (t == Act::F32 ? " f32" : " bf16") + " n " + std::to_string(n);
    CAPTURE(what);
    const int64_t ld = n + 3; // strided rows: the gap is never read into the output
    auto g = gaussian(std::size_t(rows * ld), 3.0f, seed);
    auto u = gaussian(std::size_t(rows * ld), 1.0f, seed + 1);
    g[0] = 40.0f;             // silu ~ x
    if (n > 1) g[1] = -40.0f; // silu ~ 0
    if (n > 2) g[2] = 0.0f;
    std::vector<uint16_t> gb(g.size()), ub(u.size()), ob(std::size_t(rows * n));
    std::vector<float> of(std::size_t(rows * n));
    for (std::size_t i = 0; i < g.size(); ++i) {
        gb[i] = to_bf16(g[i]);
        ub[i] = to_bf16(u[i]);
        if (t == Act::BF16) g[i] = from_bf16(gb[i]), u[i] = from_bf16(ub[i]);
    }
    if (t == Act::F32)
        swiglu(g.data(), ld, u.data(), ld, t, rows, n, of.data());
    else
        swiglu(gb.data(), ld, ub.data(), ld, t, rows, n, ob.data());
    int bad = 0;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n; ++i) {
            const double x = g[std::size_t(r * ld + i)], up = u[std::size_t(r * ld + i)];
            const double s = silu_ref(x), ref = s * up;
            double got, tol;
            if (t == Act::F32) {
                got = of[std::size_t(r * n + i)];
                tol = 4e-7 * std::fabs(ref) + 1e-30;
            } else { // two roundings to bf16 (2^-9 relative each) on top of fp32's
                got = from_bf16(ob[std::size_t(r * n + i)]);
                tol = (std::fabs(s) * std::fabs(up) + std::fabs(ref)) / 256 + 1e-30;
            }
            bad += !(std::fabs(got - ref) <= tol);
        }
    CHECK(bad == 0);
}

} // namespace

TEST_CASE("swiglu: matches a double reference on every ISA, type, length and stride") {
    uint32_t seed = 7000;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (Act t : {Act::F32, Act::BF16})
            for (int64_t n : {1, 15, 16, 37, 2048}) check(isa, t, 3, n, ++seed);
    }
    force_isa(best_isa());
}

TEST_CASE("swiglu: NaN and infinities as torch gives them, on every ISA") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    // 16 + 3 elements: the edges in the vector part and in the tail.
    std::vector<float> g(19, 1.0f), u(19, 2.0f), o(19);
    for (int base : {0, 16}) {
        g[std::size_t(base)] = nan;
        g[std::size_t(base + 1)] = inf;
        g[std::size_t(base + 2)] = -inf;
    }
    for (Isa isa : available_isas()) {
        force_isa(isa);
        CAPTURE(isa_name(isa));
        swiglu(g.data(), 19, u.data(), 19, Act::F32, 1, 19, o.data());
        std::vector<uint16_t> gb(19), ub(19), ob(19);
        for (std::size_t i = 0; i < 19; ++i) {
            std::memcpy(&gb[i], reinterpret_cast<const char *>(&g[i]) + 2, 2); // exact for these
            ub[i] = to_bf16(u[i]);
        }
        swiglu(gb.data(), 19, ub.data(), 19, Act::BF16, 1, 19, ob.data());
        for (int base : {0, 16}) {
            CHECK(std::isnan(o[std::size_t(base)]));     // NaN in, NaN out
            CHECK(o[std::size_t(base + 1)] == inf);      // inf / (1 + 0)
            CHECK(std::isnan(o[std::size_t(base + 2)])); // -inf / (1 + inf)
            CHECK(std::isnan(from_bf16(ob[std::size_t(base)])));
            CHECK(from_bf16(ob[std::size_t(base + 1)]) == inf);
            CHECK(std::isnan(from_bf16(ob[std::size_t(base + 2)])));
        }
        CHECK(o[3] == doctest::Approx(2.0 / (1.0 + std::exp(-1.0))));
    }
    force_isa(best_isa());
}

TEST_CASE("swiglu: hostile arguments throw std::invalid_argument naming the argument") {
    std::vector<float> a(8, 1.0f), o(8);
    CHECK(error_of([&] { swiglu(nullptr, 8, a.data(), 8, Act::F32, 1, 8, o.data()); }) ==
          "kernels::swiglu: gate is null");
    CHECK(error_of([&] { swiglu(a.data(), 8, nullptr, 8, Act::F32, 1, 8, o.data()); }) ==
          "kernels::swiglu: up is null");
    CHECK(error_of([&] { swiglu(a.data(), 8, a.data(), 8, Act::F32, 1, 8, nullptr); }) ==
          "kernels::swiglu: out is null");
    CHECK(error_of([&] {
              swiglu(a.data(), 8, a.data(), 8, Act::F32, 0, 8, o.data());
          }).find("rows") != std::string::npos);
    CHECK(error_of([&] {
              swiglu(a.data(), 8, a.data(), 8, Act::F32, 1, 0, o.data());
          }).find("n must") != std::string::npos);
    CHECK(error_of([&] {
              swiglu(a.data(), 4, a.data(), 8, Act::F32, 1, 8, o.data());
          }).find("gate_ld") != std::string::npos);
    CHECK(error_of([&] {
              swiglu(a.data(), 8, a.data(), 4, Act::F32, 1, 8, o.data());
          }).find("up_ld") != std::string::npos);
}

// exp_shifted(): e^(x - max) and its sum against double precision on every ISA, lengths around
// the vector widths, with -inf (weight 0), NaN (weight 0) and values more than 87 below the
// maximum (0); hostile arguments refused.
TEST_CASE("exp_shifted: the weights and their sum against a double reference on every ISA") {
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 33, 1000}) {
            CAPTURE(isa_name(isa));
            CAPTURE(n);
            auto x = gaussian(std::size_t(n), 4.0f, 70 + uint32_t(n));
            if (n > 3) {
                x[1] = -std::numeric_limits<float>::infinity();
                x[2] = std::nanf("");
                x[3] = -200.0f;
            }
            float mx = -std::numeric_limits<float>::infinity();
            for (float v : x)
                if (v > mx) mx = v;
            std::vector<float> out(std::size_t(n) + 1, -1.0f);
            const double sum = llmhost::kernels::exp_shifted(x.data(), n, mx, out.data());
            double ref_sum = 0;
            for (int64_t i = 0; i < n; ++i) {
                const float v = x[std::size_t(i)];
                const double ref =
                    std::isnan(v) || v - mx < -87.0f ? 0.0 : std::exp(double(v - mx));
                CHECK(std::fabs(out[std::size_t(i)] - ref) <= 4e-7 * ref + 1e-38);
                ref_sum += ref;
            }
            CHECK(out[std::size_t(n)] == -1.0f); // nothing past n is written
            CHECK(std::fabs(sum - ref_sum) <= 1e-6 * ref_sum + 1e-30);
        }
    }
    force_isa(best_isa());
    float x = 0, out = 0;
    CHECK_THROWS_WITH_AS(llmhost::kernels::exp_shifted(nullptr, 1, 0, &out),
                         "kernels::exp_shifted: x is null", std::invalid_argument);
    CHECK_THROWS_WITH_AS(llmhost::kernels::exp_shifted(&x, 1, 0, nullptr),
                         "kernels::exp_shifted: out is null", std::invalid_argument);
    CHECK_THROWS_WITH_AS(llmhost::kernels::exp_shifted(&x, -1, 0, &out),
                         "kernels::exp_shifted: n must be >= 0, got -1", std::invalid_argument);
    CHECK(llmhost::kernels::exp_shifted(nullptr, 0, 0, nullptr) == 0.0);
}
