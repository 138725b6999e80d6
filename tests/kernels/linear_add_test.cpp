// linear_add(): y += W x (+ bias) must give exactly what linear() into a scratch row and then the
// torch-style add give (the product rounded to y's type first, then the sum), on every ISA this
// CPU has, for every format, fp32 and bf16 y, with a thread split and row strides; hostile
// arguments are refused as linear() refuses them.
#include "common.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>
#include <string>

using namespace kt;

namespace {

void check_add(Format f, Isa isa, int64_t N, int64_t K, int64_t M, Act yt, int threads,
               uint32_t seed) {
    std::string what = std::string(format_name(f)) + " on " + isa_name(isa) + " y " +
                       (yt == Act::F32 ? "f32" : "bf16");
    CAPTURE(what);
    CAPTURE(M);
    CAPTURE(threads);
    auto src = gaussian(std::size_t(N * K), 0.05f, seed);
    const PackedMatrix w = PackedMatrix::from_f32(src.data(), N, K, f);
    const auto bias = gaussian(std::size_t(N), 0.5f, seed + 1);
    const auto x = gaussian(std::size_t(M * K), 1.0f, seed + 2);
    const int64_t ldy = N + 3; // strided rows: the gap must stay untouched
    const auto y0f = gaussian(std::size_t(M * ldy), 1.0f, seed + 3);
    const std::size_t elem = yt == Act::F32 ? 4 : 2;
    std::vector<unsigned char> y0(std::size_t(M * ldy) * elem);
    for (std::size_t i = 0; i < y0f.size(); ++i) {
        if (yt == Act::F32) {
            std::memcpy(y0.data() + 4 * i, &y0f[i], 4);
        } else {
            const uint16_t b = to_bf16(y0f[i]);
            std::memcpy(y0.data() + 2 * i, &b, 2);
        }
    }
    std::vector<unsigned char> product(y0.size()), y = y0;
    const ParallelFor pf = threads > 1 ? thread_for(threads) : serial_for();
    linear(w, x.data(), Act::F32, K, M, product.data(), yt, ldy, bias.data(), pf);
    linear_add(w, x.data(), Act::F32, K, M, y.data(), yt, ldy, bias.data(), pf);
    int bad = 0;
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < ldy; ++n) {
            const std::size_t at = std::size_t(m * ldy + n);
            if (yt == Act::F32) {
                float a, p, got;
                std::memcpy(&a, y0.data() + 4 * at, 4);
                std::memcpy(&p, product.data() + 4 * at, 4);
                std::memcpy(&got, y.data() + 4 * at, 4);
                const float want = n < N ? a + p : a;
                bad += std::memcmp(&got, &want, 4) != 0;
            } else {
                uint16_t a, p, got;
                std::memcpy(&a, y0.data() + 2 * at, 2);
                std::memcpy(&p, product.data() + 2 * at, 2);
                std::memcpy(&got, y.data() + 2 * at, 2);
                const uint16_t want = n < N ? to_bf16(from_bf16(a) + from_bf16(p)) : a;
                bad += got != want;
            }
        }
    CHECK(bad == 0);
}

} // namespace

TEST_CASE("linear_add: y + linear(x), bit for bit, on every ISA, format and y type") {
    uint32_t seed = 4000;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (Format f : {Format::BF16, Format::Q8, Format::Q4})
            for (Act yt : {Act::F32, Act::BF16}) {
                check_add(f, isa, 37, 100, 1, yt, 1, ++seed);
                check_add(f, isa, 19, 64, 5, yt, 1, ++seed);
                check_add(f, isa, 1027, 771, 2, yt, 3, ++seed); // chunks on 3 threads
            }
    }
    force_isa(best_isa());
}

TEST_CASE("linear_add: hostile arguments are refused as linear() refuses them") {
    auto src = gaussian(16 * 32, 0.05f, 7);
    const PackedMatrix w = PackedMatrix::from_f32(src.data(), 16, 32, Format::BF16);
    std::vector<float> x(64, 1.0f), y(64, 0.0f);
    CHECK_THROWS_WITH_AS(
        linear_add(w, x.data(), Act::F32, 32, 1, nullptr, Act::F32, 16, nullptr, serial_for()),
        "kernels::linear: y is null", std::invalid_argument);
    CHECK_THROWS_AS(
        linear_add(w, x.data(), Act::F32, 32, 0, y.data(), Act::F32, 16, nullptr, serial_for()),
        std::invalid_argument);
    CHECK_THROWS_AS(linear_add(PackedMatrix(), x.data(), Act::F32, 32, 1, y.data(), Act::F32, 16,
                               nullptr, serial_for()),
                    std::invalid_argument);
}
