// linear() prepares x in each member of the parallel loop, for itself, once per call
// (linear.cpp, PreparedX). On a pool whose threads live on from call to call, every call must
// use its own x, never the one a thread prepared for the previous call (same matrix or another
// of a different K, M = 1 or several rows); and an x that overlaps y (y = W y) must be read
// before any member writes y. Each result is compared bit for bit with serial_for's.
#include "common.hpp"
#include "llmhost/kernels/thread_pool.hpp"

#include <doctest/doctest.h>

using namespace kt;

namespace {

// check(format, pf) on every ISA this CPU has and every format, on one pool of 3 threads.
template <class Check>
void on_every_isa_and_format(Check check) {
    ThreadPool pool(3, 1000);
    const ParallelFor pf = pool_for(pool);
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
            CAPTURE(isa_name(isa));
            CAPTURE(format_name(f));
            check(f, pf);
        }
    }
}

} // namespace

TEST_CASE("linear on a persistent pool: each call reads its own x, never the last call's") {
    on_every_isa_and_format([](Format f, const ParallelFor &pf) {
        // Large enough for several 64 KiB chunks, so every member runs pieces.
        auto a = gaussian(std::size_t(1000 * 512), 0.05f, 1);
        auto b = gaussian(std::size_t(700 * 384), 0.05f, 2);
        const PackedMatrix wa = PackedMatrix::from_f32(a.data(), 1000, 512, f);
        const PackedMatrix wb = PackedMatrix::from_f32(b.data(), 700, 384, f);
        for (int call = 0; call < 12; ++call) {
            CAPTURE(call);
            const PackedMatrix &w = call % 3 == 2 ? wb : wa; // K moves between 512 and 384
            const int64_t M = call % 4 == 3 ? 2 : 1;
            auto x = gaussian(std::size_t(M * w.cols()), 1.0f, 100 + uint32_t(call));
            std::vector<float> y(std::size_t(M * w.rows())), want(y.size());
            linear(w, x.data(), Act::F32, w.cols(), M, y.data(), Act::F32, w.rows(), nullptr, pf);
            linear(w, x.data(), Act::F32, w.cols(), M, want.data(), Act::F32, w.rows(), nullptr,
                   serial_for());
            CHECK(y == want);
        }
    });
}

TEST_CASE("linear with x inside y: y = W y in place equals the product into another buffer") {
    on_every_isa_and_format([](Format f, const ParallelFor &pf) {
        const int64_t n = 1024; // square: y's rows are x's columns
        auto src = gaussian(std::size_t(n * n), 0.05f, 7);
        const PackedMatrix w = PackedMatrix::from_f32(src.data(), n, n, f);
        const auto x = gaussian(std::size_t(n), 1.0f, 8);
        std::vector<float> want(x.size());
        linear(w, x.data(), Act::F32, n, 1, want.data(), Act::F32, n, nullptr, serial_for());
        std::vector<float> y = x;
        linear(w, y.data(), Act::F32, n, 1, y.data(), Act::F32, n, nullptr, pf);
        CHECK(y == want);
        // linear_add with x a quarter further on than y: y = buf[0, n), x = buf[n/4, n/4 + n).
        auto buf = gaussian(std::size_t(n + n / 4), 1.0f, 9);
        const std::vector<float> x0(buf.begin() + n / 4, buf.end());
        std::vector<float> want_add(buf.begin(), buf.begin() + n);
        linear_add(w, x0.data(), Act::F32, n, 1, want_add.data(), Act::F32, n, nullptr,
                   serial_for());
        linear_add(w, buf.data() + n / 4, Act::F32, n, 1, buf.data(), Act::F32, n, nullptr, pf);
        CHECK(std::vector<float>(buf.begin(), buf.begin() + n) == want_add);
    });
}
