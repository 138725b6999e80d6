// linear_concat(): several matrices against one x in one call must give, column for column, what
// separate linear() calls give (the same kernel per row, x prepared once), on every ISA this CPU
// has, with biases, strides, bf16 outputs and a thread split whose chunks cross matrix edges;
// and hostile arguments are refused naming the matrix.
#include "common.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace kt;

namespace {

void check_concat(Format f, Isa isa, std::vector<int64_t> rows, int64_t K, int64_t M, Act yt,
                  int threads, uint32_t seed) {
    std::string what = std::string(format_name(f)) + " on " + isa_name(isa);
    CAPTURE(what);
    CAPTURE(K);
    CAPTURE(M);
    CAPTURE(threads);
    std::vector<PackedMatrix> ws;
    std::vector<std::vector<float>> bias;
    int64_t N = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        auto src = gaussian(std::size_t(rows[i] * K), 0.05f, seed + uint32_t(i));
        ws.push_back(PackedMatrix::from_f32(src.data(), rows[i], K, f));
        bias.push_back(i % 2 ? std::vector<float>{} : gaussian(std::size_t(rows[i]), 0.5f, seed));
        N += rows[i];
    }
    const int64_t ldx = K + 3, ldy = N + 5;
    auto x = gaussian(std::size_t(M * ldx), 1.0f, seed + 99);
    std::vector<const PackedMatrix *> wp;
    std::vector<const float *> bp;
    for (std::size_t i = 0; i < ws.size(); ++i) {
        wp.push_back(&ws[i]);
        bp.push_back(bias[i].empty() ? nullptr : bias[i].data());
    }
    ParallelFor pf = threads > 1 ? thread_for(threads) : serial_for();
    const std::size_t esz = yt == Act::F32 ? 4 : 2;
    std::vector<unsigned char> joint(std::size_t(M * ldy) * esz, 0xab), sep = joint;
    linear_concat(wp.data(), int(wp.size()), x.data(), Act::F32, ldx, M, joint.data(), yt, ldy,
                  bp.data(), pf);
    for (std::size_t i = 0, off = 0; i < ws.size(); off += std::size_t(rows[i]), ++i)
        linear(ws[i], x.data(), Act::F32, ldx, M, sep.data() + off * esz, yt, ldy, bp[i],
               serial_for());
    CHECK(joint == sep); // bit for bit, the stride's padding untouched in both
}

} // namespace

TEST_CASE("linear_concat: equals separate linear() calls on every ISA, format and split") {
    for (Isa isa : available_isas()) {
        force_isa(isa);
        uint32_t seed = 500;
        for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
            // q/k/v-like (GQA) and gate/up-like shapes with odd sizes and row tails.
            check_concat(f, isa, {40, 17, 17}, 100, 1, Act::F32, 1, ++seed);
            check_concat(f, isa, {33, 5}, 65, 3, Act::BF16, 1, ++seed);
            check_concat(f, isa, {1}, 31, 2, Act::F32, 1, ++seed);
            // Several 64 KiB chunks over 3 threads: chunk edges fall inside and across matrices.
            check_concat(f, isa, {700, 260, 260}, 771, 1, Act::F32, 3, ++seed);
            check_concat(f, isa, {1030, 1030}, 300, 4, Act::F32, 3, ++seed);
        }
    }
    force_isa(best_isa());
}

TEST_CASE("linear_concat: hostile arguments are refused, naming the matrix") {
    auto a = gaussian(16 * 64, 1.0f, 1);
    auto q8 = PackedMatrix::from_f32(a.data(), 16, 64, Format::Q8);
    auto q4 = PackedMatrix::from_f32(a.data(), 16, 64, Format::Q4);
    auto narrow = PackedMatrix::from_f32(a.data(), 32, 32, Format::Q8);
    PackedMatrix empty;
    std::vector<float> x(2 * 64, 1.0f), y(2 * 64);
    auto msg = [&](std::vector<const PackedMatrix *> ws, int count, int64_t M, int64_t ldy) {
        try {
            linear_concat(ws.data(), count, x.data(), Act::F32, 64, M, y.data(), Act::F32, ldy,
                          nullptr, serial_for());
        } catch (const std::invalid_argument &e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    CHECK(msg({&q8}, 0, 1, 64).find("no matrices") != std::string::npos);
    CHECK(msg({&q8, nullptr}, 2, 1, 64).find("matrix 1 is an empty matrix") != std::string::npos);
    CHECK(msg({&q8, &empty}, 2, 1, 64).find("matrix 1 is an empty matrix") != std::string::npos);
    CHECK(msg({&q8, &q4}, 2, 1, 64).find("matrix 1 has format int4") != std::string::npos);
    CHECK(msg({&q8, &narrow}, 2, 1, 64).find("matrix 1 has 32 cols") != std::string::npos);
    CHECK(msg({&q8, &q8}, 2, 2, 31).find("ldy 31 < N 32") != std::string::npos);
    CHECK(msg({&q8, &q8}, 2, 2, 32) == "no exception");
    CHECK_THROWS_AS(linear_concat(nullptr, 1, x.data(), Act::F32, 64, 1, y.data(), Act::F32, 32,
                                  nullptr, serial_for()),
                    std::invalid_argument);
}
