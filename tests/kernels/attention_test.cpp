// attend(): decode attention against a double-precision reference (scores, masked softmax,
// weighted sum) on every ISA this CPU has, for fp32 and bf16 inputs, caches and outputs, odd head
// sizes and lengths, strided cache rows, GQA groups, random and hostile masks (nothing visible
// gives zeros, not NaN), scores large enough to overflow a naive exp, many tiles of the one-pass
// softmax with whole tiles masked; and hostile arguments.
#include "common.hpp"

#include "llmhost/kernels/attention.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

using namespace kt;

namespace {

struct Case {
    int64_t groups, hd, kv_len;
    Act q_type, kv_type, out_type;
    int mask; // 0: none (nullptr), 1: random, 2: nothing visible, 3: only the last position,
              // 4: only the first, 5: the second half
    float q_sigma;
};

// Values as the kernel sees them: bf16 inputs are rounded before anything else.
std::vector<float> as_type(std::vector<float> v, Act t) {
    if (t == Act::BF16)
        for (auto &x : v) x = from_bf16(to_bf16(x));
    return v;
}

std::vector<unsigned char> encode(const std::vector<float> &v, Act t) {
    std::vector<unsigned char> out(v.size() * (t == Act::F32 ? 4 : 2));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (t == Act::F32) {
            std::memcpy(out.data() + 4 * i, &v[i], 4);
        } else {
            const uint16_t b = to_bf16(v[i]);
            std::memcpy(out.data() + 2 * i, &b, 2);
        }
    }
    return out;
}

// ld = hd + 5: strided rows, whose padding must never be read as data; ld = hd: contiguous
// rows, which an fp32 cache reads in place.
void check_ld(const Case &c, Isa isa, uint32_t seed, int64_t ld) {
    const std::string what = std::string(isa_name(isa)) + " groups " + std::to_string(c.groups) +
                             " hd " + std::to_string(c.hd) + " kv_len " + std::to_string(c.kv_len) +
                             " mask " + std::to_string(c.mask) + " ld " + std::to_string(ld);
    CAPTURE(what);
    auto q = as_type(gaussian(std::size_t(c.groups * c.hd), c.q_sigma, seed), c.q_type);
    auto k = as_type(gaussian(std::size_t(c.kv_len * ld), 1.0f, seed + 1), c.kv_type);
    auto v = as_type(gaussian(std::size_t(c.kv_len * ld), 1.0f, seed + 2), c.kv_type);
    for (int64_t s = 0; s < c.kv_len; ++s) // NaN in the padding: any read of it shows
        for (int64_t i = c.hd; i < ld; ++i) k[s * ld + i] = v[s * ld + i] = NAN;
    std::vector<unsigned char> vis(std::size_t(c.kv_len), 1);
    std::mt19937 rng(seed + 3);
    for (int64_t s = 0; s < c.kv_len; ++s) {
        if (c.mask == 1) vis[s] = rng() % 3 != 0;
        if (c.mask == 2) vis[s] = 0;
        if (c.mask == 3) vis[s] = s == c.kv_len - 1;
        if (c.mask == 4) vis[s] = s == 0;
        if (c.mask == 5) vis[s] = s >= c.kv_len / 2;
    }
    const float scale = 1.0f / std::sqrt(float(c.hd));
    const auto qb = encode(q, c.q_type), kb = encode(k, c.kv_type), vb = encode(v, c.kv_type);
    std::vector<unsigned char> out(std::size_t(c.groups * c.hd) * (c.out_type == Act::F32 ? 4 : 2));
    attend(qb.data(), c.q_type, c.groups, c.hd, kb.data(), vb.data(), c.kv_type, ld, c.kv_len,
           c.mask ? vis.data() : nullptr, scale, out.data(), c.out_type);
    for (int64_t g = 0; g < c.groups; ++g) {
        std::vector<double> p(std::size_t(c.kv_len), 0.0);
        double mx = -INFINITY, sum = 0;
        for (int64_t s = 0; s < c.kv_len; ++s) {
            if (!vis[s]) continue;
            double d = 0;
            for (int64_t i = 0; i < c.hd; ++i) d += double(q[g * c.hd + i]) * k[s * ld + i];
            p[s] = d * scale;
            mx = std::max(mx, p[s]);
        }
        for (int64_t s = 0; s < c.kv_len; ++s)
            if (vis[s]) sum += (p[s] = std::exp(p[s] - mx));
        for (int64_t i = 0; i < c.hd; ++i) {
            double ref = 0, mag = 0;
            for (int64_t s = 0; s < c.kv_len; ++s)
                if (vis[s]) {
                    ref += p[s] / sum * v[s * ld + i];
                    mag += p[s] / sum * std::fabs(v[s * ld + i]);
                }
            float got;
            if (c.out_type == Act::F32) {
                std::memcpy(&got, out.data() + 4 * std::size_t(g * c.hd + i), 4);
            } else {
                uint16_t b;
                std::memcpy(&b, out.data() + 2 * std::size_t(g * c.hd + i), 2);
                got = from_bf16(b);
            }
            REQUIRE(std::isfinite(got));
            if (c.mask == 2) {
                CHECK(got == 0.0f);
                continue;
            }
            // fp32 scores and sums: error ~ hd * eps * |q||k| in the exponent, kv_len * eps in
            // the sum; bf16 output adds half an ulp of the result (2^-9 relative).
            const double tol = 2e-5 * (1 + mag) * (1 + c.q_sigma) +
                               (c.out_type == Act::BF16 ? std::fabs(ref) / 256 : 0.0);
            CHECK_MESSAGE(std::fabs(got - ref) <= tol,
                          "g " << g << " i " << i << " got " << got << " ref " << ref);
        }
    }
}

void check(const Case &c, Isa isa, uint32_t seed) {
    check_ld(c, isa, seed, c.hd + 5);
    check_ld(c, isa, seed, c.hd);
}

// f(isa) on every ISA, and on an AVX-512 CPU with BF16 on the AVX-512 path without it too: the
// scores of a bf16 cache are vdpbf16ps products with it, widened K rows and FMAs without.
template <class F>
void each_isa(const F &f) {
    for (Isa isa : available_isas()) {
        force_isa(isa);
        f(isa);
        if (isa == Isa::Avx512 && cpu_has_avx512_bf16()) {
            const bool vnni = isa_description().find("vnni") != std::string::npos;
            force_avx512_extensions(false, vnni);
            f(isa);
            force_avx512_extensions(true, vnni);
        }
    }
    force_isa(best_isa());
}

} // namespace

TEST_CASE("attend: matches a double reference on every ISA, type, shape and mask") {
    uint32_t seed = 900;
    each_isa([&](Isa isa) {
        CAPTURE(isa_description());
        for (Act qt : {Act::F32, Act::BF16})
            for (Act kvt : {Act::F32, Act::BF16})
                for (Act ot : {Act::F32, Act::BF16}) {
                    check({1, 64, 1, qt, kvt, ot, 0, 1.0f}, isa, ++seed);
                    check({3, 64, 80, qt, kvt, ot, 1, 1.0f}, isa, ++seed);
                    check({4, 7, 33, qt, kvt, ot, 3, 1.0f}, isa, ++seed);
                    check({2, 100, 300, qt, kvt, ot, 1, 1.0f}, isa, ++seed);
                    check({8, 128, 17, qt, kvt, ot, 2, 1.0f}, isa, ++seed);
                    check({5, 1, 9, qt, kvt, ot, 0, 1.0f}, isa, ++seed);
                    // Scores of several hundred: exp() without the max subtracted overflows.
                    check({2, 64, 50, qt, kvt, ot, 1, 40.0f}, isa, ++seed);
                    // Many tiles of the one-pass softmax: the max grows from tile to tile (large
                    // scores), whole tiles masked before, after or between visible positions.
                    check({3, 64, 1000, qt, kvt, ot, 1, 40.0f}, isa, ++seed);
                    check({3, 64, 1000, qt, kvt, ot, 3, 1.0f}, isa, ++seed);
                    check({2, 128, 777, qt, kvt, ot, 4, 1.0f}, isa, ++seed);
                    check({2, 64, 333, qt, kvt, ot, 5, 40.0f}, isa, ++seed);
                    check({1, 37, 129, qt, kvt, ot, 0, 1.0f}, isa, ++seed);
                }
    });
}

// A masked position's K and V rows may hold anything (a slot another request wrote, or nothing
// yet): NaN there must not reach the output, on any ISA, cache type or head size (the AVX-512
// path reads V rows straight from the cache for hd 64 and 128).
TEST_CASE("attend: masked rows are never read (NaN in them changes nothing)") {
    each_isa([&](Isa) {
        for (Act kvt : {Act::F32, Act::BF16})
            for (int64_t hd : {64, 128, 40})
                for (int64_t groups : {1, 3, 6}) {
                    CAPTURE(isa_description());
                    CAPTURE(hd);
                    CAPTURE(groups);
                    const int64_t S = 100;
                    auto q = gaussian(std::size_t(groups * hd), 1.0f, 5);
                    auto k = gaussian(std::size_t(S * hd), 1.0f, 6);
                    auto v = gaussian(std::size_t(S * hd), 1.0f, 7);
                    std::vector<unsigned char> vis(static_cast<std::size_t>(S), 0);
                    for (int64_t t = 0; t < S; ++t) vis[std::size_t(t)] = t % 3 != 1;
                    auto run = [&](float masked_value) {
                        auto kk = k, vv = v;
                        for (int64_t t = 0; t < S; ++t)
                            if (!vis[std::size_t(t)])
                                for (int64_t i = 0; i < hd; ++i)
                                    kk[std::size_t(t * hd + i)] = vv[std::size_t(t * hd + i)] =
                                        masked_value;
                        const auto kb = encode(kk, kvt), vb = encode(vv, kvt);
                        std::vector<float> out(std::size_t(groups * hd));
                        attend(q.data(), Act::F32, groups, hd, kb.data(), vb.data(), kvt, hd, S,
                               vis.data(), 0.125f, out.data(), Act::F32);
                        return out;
                    };
                    const auto clean = run(0.0f), poisoned = run(NAN);
                    for (float x : poisoned) REQUIRE(std::isfinite(x));
                    CHECK(clean == poisoned);
                }
    });
}

TEST_CASE("attend: hostile arguments are refused, naming them") {
    std::vector<float> q(64, 1.0f), k(64, 1.0f), v(64, 1.0f), out(64);
    auto call = [&](const void *qp, int64_t groups, int64_t hd, int64_t ld, int64_t kv_len,
                    void *op) {
        attend(qp, Act::F32, groups, hd, k.data(), v.data(), Act::F32, ld, kv_len, nullptr, 1.0f,
               op, Act::F32);
    };
    CHECK_THROWS_WITH_AS(call(nullptr, 1, 8, 8, 1, out.data()), "kernels::attend: q is null",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(call(q.data(), 1, 8, 8, 1, nullptr), "kernels::attend: out is null",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(call(q.data(), 0, 8, 8, 1, out.data()),
                         "kernels::attend: groups must be > 0, got 0", std::invalid_argument);
    CHECK_THROWS_WITH_AS(call(q.data(), 1, -8, 8, 1, out.data()),
                         "kernels::attend: hd must be > 0, got -8", std::invalid_argument);
    CHECK_THROWS_WITH_AS(call(q.data(), 1, 8, 8, 0, out.data()),
                         "kernels::attend: kv_len must be > 0, got 0", std::invalid_argument);
    CHECK_THROWS_WITH_AS(call(q.data(), 1, 8, 7, 1, out.data()), "kernels::attend: ld (7) < hd (8)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(attend(q.data(), Act::F32, 1, 8, nullptr, v.data(), Act::F32, 8, 1,
                                nullptr, 1.0f, out.data(), Act::F32),
                         "kernels::attend: k is null", std::invalid_argument);
}
