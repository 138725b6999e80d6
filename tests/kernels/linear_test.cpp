// linear(): every format x every ISA this CPU has (the scalar path everywhere), odd shapes and
// tails, fp32/bf16 activations and outputs, bias, strides and a multi-threaded split, each against
// a double-precision reference computed from dequantize().
#include "common.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

using namespace kt;

namespace {

struct Case {
    int64_t N, K, M;
    Act xt, yt;
    bool bias;
    int64_t pad_x, pad_y; // extra elements of row stride
    int threads;
};

// Checks one linear() call against sum_k x[m,k] * deq(W)[n,k] in double. The tolerance is the
// fp32 accumulation bound K * 2^-23 * sum |x w| (generous by a factor of ~K / log K), plus the
// bf16 rounding of the output (2^-8 relative) when y is bf16; x is rounded to bf16 first in the
// reference when the kernel does so (linear_rounds_x_to_bf16), as documented.
void check_case(Format f, const Case &c, uint32_t seed) {
    std::string what = std::string(format_name(f)) + " on " + isa_name(active_isa());
    CAPTURE(what);
    CAPTURE(c.N);
    CAPTURE(c.K);
    CAPTURE(c.M);
    CAPTURE(int(c.xt));
    CAPTURE(int(c.yt));
    CAPTURE(c.bias);
    CAPTURE(c.threads);
    auto wf = gaussian(std::size_t(c.N * c.K), 0.05f, seed);
    auto xs = gaussian(std::size_t(c.M * (c.K + c.pad_x)), 1.0f, seed + 1);
    auto bias = gaussian(std::size_t(c.N), 0.5f, seed + 2);
    PackedMatrix w = PackedMatrix::from_f32(wf.data(), c.N, c.K, f);
    std::vector<float> deq(std::size_t(c.N * c.K));
    w.dequantize(0, c.N, deq.data());

    const int64_t ldx = c.K + c.pad_x, ldy = c.N + c.pad_y;
    std::vector<uint16_t> xb(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) xb[i] = to_bf16(xs[i]);
    // What the kernel sees as x, in fp32.
    std::vector<float> xeff(xs.size());
    const bool round_x = linear_rounds_x_to_bf16(f);
    for (std::size_t i = 0; i < xs.size(); ++i)
        xeff[i] = (c.xt == Act::BF16 || round_x) ? from_bf16(xb[i]) : xs[i];

    // Q8/Q4 on SIMD paths quantize x per group of 32 to codes in [-qmax, qmax] (documented):
    // its error bound.
    const int32_t qmax = linear_x_code_max(f);
    const bool quant_x = qmax > 0;
    const int64_t groups = (c.K + 31) / 32;
    std::vector<double> xamax(std::size_t(c.M * groups), 0.0);
    for (int64_t m = 0; m < c.M; ++m)
        for (int64_t k = 0; k < c.K; ++k) {
            double &a = xamax[std::size_t(m * groups + k / 32)];
            a = std::max(a, double(std::fabs(xeff[std::size_t(m * ldx + k)])));
        }

    std::vector<float> yf(std::size_t(c.M * ldy), -7.0f);
    std::vector<uint16_t> yb(std::size_t(c.M * ldy), 0x1234);
    const void *x = c.xt == Act::F32 ? static_cast<const void *>(xs.data()) : xb.data();
    void *y = c.yt == Act::F32 ? static_cast<void *>(yf.data()) : yb.data();
    ParallelFor pf = c.threads > 1 ? thread_for(c.threads) : serial_for();
    linear(w, x, c.xt, ldx, c.M, y, c.yt, ldy, c.bias ? bias.data() : nullptr, pf);

    int bad = 0;
    for (int64_t m = 0; m < c.M; ++m) {
        for (int64_t n = 0; n < ldy; ++n) {
            const std::size_t at = std::size_t(m * ldy + n);
            if (n >= c.N) { // the stride's padding is never written
                if (c.yt == Act::F32)
                    CHECK(yf[at] == -7.0f);
                else
                    CHECK(yb[at] == 0x1234);
                continue;
            }
            double ref = c.bias ? bias[std::size_t(n)] : 0.0, mag = std::fabs(ref), xq_err = 0;
            for (int64_t k = 0; k < c.K; ++k) {
                double p = double(xeff[std::size_t(m * ldx + k)]) * deq[std::size_t(n * c.K + k)];
                ref += p;
                mag += std::fabs(p);
                if (quant_x) // |x - deq(x)| <= s / 2, s = max|x| over the group / qmax
                    xq_err += std::fabs(deq[std::size_t(n * c.K + k)]) *
                              xamax[std::size_t(m * groups + k / 32)] / qmax * 0.5;
            }
            double got = c.yt == Act::F32 ? yf[at] : from_bf16(yb[at]);
            double tol = mag * double(c.K + 2) * std::ldexp(1.0, -23) + xq_err * (1 + 1e-5) + 1e-30;
            if (c.yt == Act::BF16) tol += std::fabs(ref) * std::ldexp(1.0, -8);
            if (!(std::fabs(got - ref) <= tol) && bad++ < 5) {
                CAPTURE(m);
                CAPTURE(n);
                CHECK(got == doctest::Approx(ref).epsilon(0));
            }
        }
    }
    CHECK(bad == 0);
}

void run_all_shapes(Isa isa) {
    IsaScope scope(isa);
    CHECK(active_isa() == isa);
    uint32_t seed = 100;
    for (Format f : {Format::BF16, Format::Q8, Format::Q4})
        for (int64_t K : {1, 31, 33, 100, 768 + 5})
            for (int64_t N : {1, 3, 17})
                for (int64_t M : {1, 2, 5}) {
                    ++seed;
                    Act xt = seed % 2 ? Act::F32 : Act::BF16;
                    Act yt = seed % 3 ? Act::F32 : Act::BF16;
                    bool bias = seed % 5 < 3;
                    check_case(f, {N, K, M, xt, yt, bias, int64_t(seed % 4), int64_t(seed % 3), 1},
                               seed);
                }
    // Every activation/output type combination on one odd shape, and M up to 16.
    for (Format f : {Format::BF16, Format::Q8, Format::Q4})
        for (Act xt : {Act::F32, Act::BF16})
            for (Act yt : {Act::F32, Act::BF16})
                for (int64_t M : {3, 8, 16})
                    check_case(f, {13, 65, M, xt, yt, true, 1, 2, 1}, ++seed);
    // Large enough to split over threads (several 64 KiB chunks), with a tail of rows.
    for (Format f : {Format::BF16, Format::Q8, Format::Q4})
        for (int64_t M : {1, 4})
            check_case(f, {1027, 771, M, Act::F32, Act::F32, true, 0, 0, 3}, ++seed);
}

} // namespace

TEST_CASE("linear scalar: all formats, odd shapes, tails, types, bias, strides, threads") {
    run_all_shapes(Isa::Scalar);
}

TEST_CASE("linear avx2: all formats, odd shapes, tails, types, bias, strides, threads") {
    run_all_shapes(Isa::Avx2);
}

TEST_CASE("linear avx512: all formats, odd shapes, tails, types, bias, strides, threads") {
    run_all_shapes(Isa::Avx512);
}

TEST_CASE("linear avx512 without bf16/vnni: the widening bf16 and vpmaddwd int8/int4 paths") {
    IsaScope scope(Isa::Avx512);
    const bool has_vnni = isa_description().find("vnni") != std::string::npos;
    for (int combo = 0; combo < 3; ++combo) { // (bf16, vnni) = (0, 0), (0, 1), (1, 0)
        const bool bf16 = combo == 2, vnni = combo == 1;
        if ((bf16 && !cpu_has_avx512_bf16()) || (vnni && !has_vnni)) continue;
        force_avx512_extensions(bf16, vnni);
        CHECK(linear_rounds_x_to_bf16(Format::BF16) == bf16);
        CHECK((isa_description().find("bf16") != std::string::npos) == bf16);
        uint32_t seed = 900 + uint32_t(combo) * 50;
        for (Format f : {Format::BF16, Format::Q8, Format::Q4})
            for (int64_t K : {1, 33, 773})
                for (int64_t M : {1, 2, 5})
                    check_case(f,
                               {17, K, M, Act::F32, M == 2 ? Act::BF16 : Act::F32, true, 1, 1, 1},
                               ++seed);
    }
    force_avx512_extensions(cpu_has_avx512_bf16(), has_vnni);
}

TEST_CASE("linear: hostile arguments throw std::invalid_argument naming the argument") {
    auto wf = gaussian(4 * 8, 1.0f, 9);
    auto w = PackedMatrix::from_f32(wf.data(), 4, 8, Format::Q8);
    std::vector<float> x(16, 1.0f), y(8);
    auto pf = serial_for();
    CHECK(error_of([&] {
              linear(w, nullptr, Act::F32, 8, 1, y.data(), Act::F32, 4, nullptr, pf);
          }).find("x is null") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act::F32, 8, 1, nullptr, Act::F32, 4, nullptr, pf);
          }).find("y is null") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act::F32, 8, 0, y.data(), Act::F32, 4, nullptr, pf);
          }).find("M must be") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act::F32, 7, 2, y.data(), Act::F32, 4, nullptr, pf);
          }).find("ldx") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act::F32, 8, 2, y.data(), Act::F32, 3, nullptr, pf);
          }).find("ldy") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act(7), 8, 1, y.data(), Act::F32, 4, nullptr, pf);
          }).find("x_type") != std::string::npos);
    CHECK(error_of([&] {
              linear(w, x.data(), Act::F32, 8, 1, y.data(), Act::F32, 4, nullptr, {});
          }).find("pf") != std::string::npos);
    PackedMatrix empty;
    CHECK(error_of([&] {
              linear(empty, x.data(), Act::F32, 8, 1, y.data(), Act::F32, 4, nullptr, pf);
          }).find("empty") != std::string::npos);
}

TEST_CASE("isa: names, forcing, and refusal of an ISA the CPU lacks") {
    CHECK(std::string(isa_name(Isa::Scalar)) == "scalar");
    CHECK(std::string(isa_name(Isa::Avx2)) == "avx2");
    CHECK(std::string(isa_name(Isa::Avx512)) == "avx512");
    CHECK(std::string(format_name(Format::Q4)) == "int4");
    CHECK(std::string(format_name(Format::Q8)) == "int8");
    CHECK(std::string(format_name(Format::BF16)) == "bf16");
    force_isa(Isa::Scalar);
    CHECK(active_isa() == Isa::Scalar);
    CHECK(isa_description().rfind("scalar", 0) == 0);
    force_isa(best_isa());
    CHECK(isa_description().rfind(isa_name(best_isa()), 0) == 0);
    CHECK_THROWS_AS(force_isa(Isa(42)), std::invalid_argument);
    if (best_isa() != Isa::Avx512) {
        try {
            force_isa(Isa::Avx512);
            FAIL("forcing an ISA the CPU lacks must throw");
        } catch (const std::invalid_argument &e) {
            CHECK(std::string(e.what()).find("avx512") != std::string::npos);
        }
    }
}

TEST_CASE("linear: a NaN or inf in x gives non-finite outputs on every ISA, never a number") {
    auto wf = gaussian(20 * 70, 0.05f, 31);
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
            std::string what = std::string(isa_name(isa)) + " " + format_name(f);
            CAPTURE(what);
            auto w = PackedMatrix::from_f32(wf.data(), 20, 70, f);
            for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity()}) {
                auto x = gaussian(70, 1.0f, 32);
                x[40] = bad;
                std::vector<float> y(20, 0.0f);
                linear(w, x.data(), Act::F32, 70, 1, y.data(), Act::F32, 20, nullptr, serial_for());
                for (float v : y) CHECK(!std::isfinite(v));
            }
        }
    }
    force_isa(best_isa());
}

TEST_CASE("linear: the x precision contract per format and ISA") {
    for (Isa isa : available_isas()) {
        force_isa(isa);
        CAPTURE(isa_name(isa));
        const bool simd = isa != Isa::Scalar;
        CHECK(linear_x_code_max(Format::BF16) == 0);
        CHECK(linear_x_code_max(Format::Q8) == (simd ? kLinearXInt16Max : 0));
        CHECK(linear_x_code_max(Format::Q4) == (simd ? kLinearXInt8Max : 0));
    }
    force_isa(best_isa());
}
