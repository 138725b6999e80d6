// PackedMatrix: shapes, bytes, dequantization error bounds of Q8/Q4 against the fp32 source,
// bf16 views, and hostile arguments.
#include "common.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

using namespace kt;

namespace {

float fp16(uint16_t h) { // reference decoder, independent of the library's
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? std::ldexp(float(m), -24) : std::ldexp(float(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

} // namespace

TEST_CASE("pack: shapes and bytes per weight") {
    auto w = gaussian(17 * 100, 0.02f, 1);
    auto b = PackedMatrix::from_f32(w.data(), 17, 100, Format::BF16);
    CHECK(b.rows() == 17);
    CHECK(b.cols() == 100);
    CHECK(b.padded_cols() == 128);
    CHECK(b.bytes() == 32u * 128u * 2u); // 2 blocks of 16 rows, columns padded to 4 x 32
    auto q8 = PackedMatrix::from_f32(w.data(), 17, 100, Format::Q8);
    CHECK(q8.cols() == 100);
    // 4 groups of 32 (columns padded), 2 blocks of 16 rows (rows padded), + fp16 scales.
    CHECK(q8.bytes() == 2u * 4u * (512u + 16u * 2u));
    auto q4 = PackedMatrix::from_f32(w.data(), 17, 100, Format::Q4);
    CHECK(q4.bytes() == 2u * 4u * (256u + 16u * 2u));
    auto big = gaussian(64 * 768, 0.02f, 2);
    CHECK(double(PackedMatrix::from_f32(big.data(), 64, 768, Format::Q4).bytes()) / (64 * 768) ==
          doctest::Approx(0.5625));
    CHECK(double(PackedMatrix::from_f32(big.data(), 64, 768, Format::Q8).bytes()) / (64 * 768) ==
          doctest::Approx(1.0625));
}

TEST_CASE("pack: bf16 round trip, blocked layout, unpack") {
    // 19 rows x 45 columns: a partial row block and padded columns.
    auto w = gaussian(19 * 45, 1.0f, 3);
    std::vector<uint16_t> wb(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) wb[i] = to_bf16(w[i]);
    wb[7] = 0x7fc1; // a NaN's bits and an infinity are copied as they are
    wb[8] = 0xff80;
    auto v = PackedMatrix::from_bf16(wb.data(), 19, 45, Format::BF16);
    auto c = PackedMatrix::from_f32(w.data(), 19, 45, Format::BF16);
    CHECK(v.padded_cols() == 64);
    CHECK(v.bytes() == std::size_t(32 * 64 * 2)); // rows padded to two blocks of 16
    CHECK(v.bytes() == PackedMatrix::bytes_for(Format::BF16, 19, 45));
    // The layout linear.hpp documents: element 2 rr + j of vector p of block b.
    const auto *d = static_cast<const uint16_t *>(v.data());
    for (int r = 0; r < 32; ++r)
        for (int col = 0; col < 64; ++col) {
            const uint16_t want = r < 19 && col < 45 ? wb[std::size_t(r * 45 + col)] : 0;
            CHECK(d[(r / 16) * 16 * 64 + (col / 2) * 32 + (r % 16) * 2 + col % 2] == want);
        }
    std::vector<uint16_t> u(wb.size(), 1), part(2 * 45);
    v.unpack_bf16(0, 19, u.data());
    CHECK(u == wb);
    v.unpack_bf16(16, 2, part.data()); // rows of the second block
    CHECK(std::equal(part.begin(), part.end(), wb.begin() + 16 * 45));
    std::vector<float> a(w.size()), b(w.size());
    v.dequantize(0, 19, a.data());
    c.dequantize(0, 19, b.data());
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (i == 7) continue; // NaN
        CHECK(a[i] == from_bf16(wb[i]));
        if (i != 8) CHECK(b[i] == a[i]);
    }
    CHECK(std::isnan(a[7]));
    auto q = PackedMatrix::from_f32(w.data(), 19, 45, Format::Q8);
    CHECK_THROWS_WITH_AS(q.unpack_bf16(0, 1, u.data()),
                         "PackedMatrix::unpack_bf16: the matrix is int8, not bf16",
                         std::invalid_argument);
    CHECK_THROWS_AS(v.unpack_bf16(18, 2, u.data()), std::invalid_argument);
    CHECK_THROWS_AS(v.unpack_bf16(0, 1, nullptr), std::invalid_argument);
}

// The Q8/Q4 layout linear.hpp documents, byte by byte: per 16-row block, chunks of two groups,
// each chunk the two groups' 16 fp16 scales (64 bytes) and then their codes; Kp a multiple of 64.
TEST_CASE("pack: Q8/Q4 chunks, scales in the stream") {
    const int64_t rows = 19, cols = 100; // a partial block; 100 columns -> Kp 128, 4 groups
    auto w = gaussian(std::size_t(rows * cols), 0.05f, 9);
    for (Format f : {Format::Q8, Format::Q4}) {
        CAPTURE(format_name(f));
        auto p = PackedMatrix::from_f32(w.data(), rows, cols, f);
        CHECK(p.padded_cols() == 128);
        const int64_t groups = 4, gb = f == Format::Q8 ? 512 : 256, chunk = 64 + 2 * gb;
        CHECK(p.bytes() == std::size_t(2 * (groups / 2) * chunk));
        CHECK(p.bytes() == PackedMatrix::bytes_for(f, rows, cols));
        std::vector<float> d(w.size());
        p.dequantize(0, rows, d.data());
        const auto *b = static_cast<const unsigned char *>(p.data());
        for (int64_t r = 0; r < 32; ++r)
            for (int64_t g = 0; g < groups; ++g) {
                const unsigned char *c = b + ((r / 16) * (groups / 2) + g / 2) * chunk;
                uint16_t h;
                std::memcpy(&h, c + (g % 2) * 32 + (r % 16) * 2, 2);
                if (r >= rows) {
                    CHECK(h == 0); // padding rows: scale 0
                    continue;
                }
                CHECK(h == p.scale_bits(r, g));
                const float s = fp16(h);
                for (int64_t j = 0; j < 32; ++j) {
                    const int64_t col = g * 32 + j;
                    const unsigned char *codes = c + 64 + (g % 2) * gb;
                    int q;
                    if (f == Format::Q8) {
                        q = int(codes[(j / 4) * 64 + (r % 16) * 4 + j % 4]) - 128;
                    } else {
                        const unsigned char byte =
                            codes[((j % 16) / 4) * 64 + (r % 16) * 4 + j % 4];
                        q = int(j >= 16 ? byte >> 4 : byte & 15) - 8;
                    }
                    if (col >= cols)
                        CHECK(q == 0); // padding columns
                    else
                        CHECK(float(q) * s == d[std::size_t(r * cols + col)]);
                }
            }
    }
    auto bf = PackedMatrix::from_f32(w.data(), rows, cols, Format::BF16);
    CHECK_THROWS_WITH_AS(bf.scale_bits(0, 0),
                         "PackedMatrix::scale_bits: the matrix has no scales (bf16)",
                         std::invalid_argument);
    auto q8 = PackedMatrix::from_f32(w.data(), rows, cols, Format::Q8);
    CHECK_THROWS_AS(q8.scale_bits(rows, 0), std::invalid_argument); // a padding row
    CHECK_THROWS_AS(q8.scale_bits(0, 4), std::invalid_argument);
    CHECK_THROWS_AS(q8.scale_bits(-1, 0), std::invalid_argument);
}

// |w - deq| <= scale / 2 (Q8; Q4 too, except the code +7 clamp of the value of the opposite sign
// to the group's extreme, bounded by one scale), and the scale is as small as the format allows.
TEST_CASE("pack: quantization error within the format's bound") {
    for (int64_t cols : {1, 31, 32, 33, 100, 773}) {
        const int64_t rows = 5;
        auto w = gaussian(std::size_t(rows * cols), 0.05f, uint32_t(cols));
        w[0] = 0.3f; // an outlier in the first group
        for (Format f : {Format::Q8, Format::Q4}) {
            CAPTURE(cols);
            CAPTURE(format_name(f));
            auto p = PackedMatrix::from_f32(w.data(), rows, cols, f);
            std::vector<float> d(w.size());
            p.dequantize(0, rows, d.data());
            double se = 0, sw = 0;
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t c = 0; c < cols; ++c) {
                    float s = std::fabs(fp16(p.scale_bits(r, c / 32)));
                    float amax = 0;
                    for (int64_t j = c / 32 * 32; j < std::min(cols, c / 32 * 32 + 32); ++j)
                        amax = std::max(amax, std::fabs(w[r * cols + j]));
                    float qmax = f == Format::Q8 ? 127.0f : 8.0f;
                    CHECK(s >= amax / qmax * (1 - 1e-6f));
                    CHECK(s <= amax / qmax * (1 + 2e-3f)); // one fp16 step above at most
                    float e = std::fabs(w[r * cols + c] - d[r * cols + c]);
                    CHECK(e <= (f == Format::Q8 ? s * 0.5f : s) * (1 + 1e-6f));
                    se += double(e) * e;
                    sw += double(w[r * cols + c]) * w[r * cols + c];
                }
            // Gaussian weights: relative RMS error ~0.8% (int8) and ~11% (int4) per group of 32.
            double rel = std::sqrt(se / sw);
            CHECK(rel < (f == Format::Q8 ? 0.012 : 0.15));
        }
    }
}

TEST_CASE("pack: clone owns an identical copy") {
    auto w = gaussian(19 * 70, 0.1f, 21);
    for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
        auto p = PackedMatrix::from_f32(w.data(), 19, 70, f);
        auto c = p.clone();
        CHECK(c.data() != p.data());
        CHECK(c.bytes() == p.bytes());
        CHECK(c.format() == f);
        std::vector<float> a(w.size()), b(w.size());
        p.dequantize(0, 19, a.data());
        p = PackedMatrix(); // the clone must not depend on the original
        c.dequantize(0, 19, b.data());
        CHECK(a == b);
    }
    std::vector<uint16_t> raw(6, 0x3f80);
    auto v = PackedMatrix::from_bf16(raw.data(), 2, 3, Format::BF16);
    auto vc = v.clone();
    v = PackedMatrix();
    std::vector<float> d(6);
    vc.dequantize(0, 2, d.data());
    CHECK(d[0] == 1.0f);
    CHECK(PackedMatrix().clone().data() == nullptr);
}

TEST_CASE("pack: zero groups and bf16 source") {
    std::vector<float> z(40, 0.0f);
    z[39] = -1.0f;
    std::vector<uint16_t> zb(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) zb[i] = to_bf16(z[i]);
    for (Format f : {Format::Q8, Format::Q4}) {
        auto p = PackedMatrix::from_bf16(zb.data(), 1, 40, f);
        std::vector<float> d(40);
        p.dequantize(0, 1, d.data());
        for (int i = 0; i < 39; ++i) CHECK(d[i] == 0.0f);
        if (f == Format::Q4)
            CHECK(d[39] == -1.0f); // the extreme maps to -8 exactly
        else
            CHECK(d[39] == doctest::Approx(-1.0f).epsilon(1.0 / 254));
    }
}

TEST_CASE("pack: hostile arguments throw, naming the argument") {
    std::vector<float> w(4, 1.0f);
    CHECK(error_of([&] { PackedMatrix::from_f32(nullptr, 2, 2, Format::Q8); }).find("src") !=
          std::string::npos);
    CHECK(error_of([&] { PackedMatrix::from_f32(w.data(), 0, 2, Format::Q8); }).find("rows") !=
          std::string::npos);
    CHECK(error_of([&] { PackedMatrix::from_f32(w.data(), 2, -1, Format::BF16); }).find("cols") !=
          std::string::npos);
    CHECK(error_of([&] { PackedMatrix::from_bf16(nullptr, 2, 2, Format::BF16); }).find("src") !=
          std::string::npos);
    CHECK(error_of([&] {
              PackedMatrix::from_f32(w.data(), int64_t(1) << 40, int64_t(1) << 30, Format::Q4);
          }).find("too large") != std::string::npos);
    w[2] = std::numeric_limits<float>::quiet_NaN();
    CHECK(error_of([&] {
              PackedMatrix::from_f32(w.data(), 2, 2, Format::Q4);
          }).find("non-finite") != std::string::npos);
    w[2] = 1e30f;
    CHECK(error_of([&] { PackedMatrix::from_f32(w.data(), 2, 2, Format::Q8); }).find("fp16") !=
          std::string::npos);
    w[2] = 1.0f;
    auto p = PackedMatrix::from_f32(w.data(), 2, 2, Format::Q8);
    std::vector<float> out(4);
    CHECK_THROWS_AS(p.dequantize(1, 2, out.data()), std::invalid_argument);
    CHECK_THROWS_AS(p.dequantize(-1, 1, out.data()), std::invalid_argument);
    CHECK_THROWS_AS(p.dequantize(0, 1, nullptr), std::invalid_argument);
    PackedMatrix moved = std::move(p);
    CHECK(moved.rows() == 2);
    CHECK_THROWS_AS(p.dequantize(0, 1, out.data()), std::invalid_argument); // moved-from: empty
}
