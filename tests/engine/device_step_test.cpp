// The fewer-kernel forms a GPU's decode step takes (models/linear.hpp, device_fusion_enabled),
// checked on the CPU where they can be: RoPE on q and k together and with its table rows picked
// once (bit for bit transformers' three ops), and dense projections joined into one matrix (the
// same products, the parts' weights views of it). at::rms_norm and the addmm residual run off the
// CPU only: the CUDA cases of model_test.cpp and the transformers fixtures on CUDA cover them.
// And llmhost's CUDA kernels: the bf16 GEMV (1 to 8 rows) against an fp32 product, and the RoPE +
// cache-write kernel against the libtorch path, on CUDA; that kernel's per-element arithmetic
// (cuda/rope_cache_math.hpp) also here on the CPU, run over the same index space.
#include "test_util.hpp"

#include "../../plugins/huggingface/models/cuda/rope_cache_math.hpp"
#include "../../plugins/huggingface/models/device_gemv.hpp"
#include "../../plugins/huggingface/models/device_rope_cache.hpp"
#include "../../plugins/huggingface/models/model.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace llmhost::engine;

namespace {

RopeTables tables(at::ScalarType dtype, std::int64_t hd = 16) {
    ModelConfig cfg;
    cfg.head_dim = hd;
    cfg.rope_theta = 10000.0;
    return RopeTables::build(cfg, 64, at::kCPU, dtype);
}

// transformers' apply_rotary_pos_emb: q * cos + rotate_half(q) * sin, three rounded ops.
at::Tensor reference_rope(const at::Tensor &x, const RopeTables &t, const at::Tensor &positions) {
    const std::int64_t B = x.size(0), T = x.size(1), hd = x.size(3);
    const at::Tensor flat = positions.reshape({-1});
    const at::Tensor c = t.cos.index_select(0, flat).view({B, T, 1, hd});
    const at::Tensor s = t.sin.index_select(0, flat).view({B, T, 1, hd});
    const at::Tensor x1 = x.narrow(-1, 0, hd / 2), x2 = x.narrow(-1, hd / 2, hd / 2);
    return x * c + at::cat({-x2, x1}, -1) * s;
}

// A fused q/k/v projection's output [B, T, (H + 2 KV) * hd] and its q and k views.
struct QKV {
    at::Tensor all, q, k;
};
QKV qkv(std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t KV, std::int64_t hd,
        at::ScalarType dtype) {
    QKV r;
    r.all = at::randn({B, T, (H + 2 * KV) * hd}).to(dtype);
    r.q = r.all.narrow(-1, 0, H * hd).view({B, T, H, hd});
    r.k = r.all.narrow(-1, H * hd, KV * hd).view({B, T, KV, hd});
    return r;
}

// bf16 bits <-> float on the host, rounding finite values to nearest even as torch and CUDA's
// __float2bfloat16_rn do (tools/tiny_model's conversions).
struct HostOps {
    static float to_float(std::uint16_t bits) { return llmhost::tools::bf16_to_float(bits); }
    static std::uint16_t to_bf16(float f) { return llmhost::tools::float_to_bf16(f); }
};

// What the libtorch path does: q and k rotated (transformers' ops), k and v scattered into layer 0
// of `cache` at `positions`. Returns q.
at::Tensor torch_rope_cache(const at::Tensor &qkv, const at::Tensor &positions, const RopeTables &t,
                            KVCache &cache, int H, int KV, int hd) {
    const std::int64_t B = qkv.size(0), T = qkv.size(1);
    const at::Tensor q = qkv.narrow(-1, 0, H * hd).reshape({B, T, H, hd});
    const at::Tensor k = qkv.narrow(-1, H * hd, KV * hd).reshape({B, T, KV, hd});
    const at::Tensor v = qkv.narrow(-1, (H + KV) * hd, KV * hd).reshape({B, T, KV, hd});
    const at::Tensor qr = reference_rope(q, t, positions), kr = reference_rope(k, t, positions);
    using at::indexing::Slice;
    const at::Tensor rows = at::arange(B, positions.options()).unsqueeze(1).expand({B, T});
    cache.k[0].index_put_({rows, Slice(), positions}, kr);
    cache.v[0].index_put_({rows, Slice(), positions}, v);
    return qr;
}

// True (the case is skipped, saying why) without a GPU or without the kernel in this build.
bool skip_without_kernel(bool available, const char *env_switch) {
    if (!at::hasCUDA()) return test::skip_case("no CUDA device");
    if (available) return false;
    return test::skip_case(std::string("llmhost's CUDA kernels are not in this build (no nvcc at "
                                       "configure time, -DLLMHOST_CUDA_KERNELS=OFF) or ") +
                           env_switch + "=0");
}

} // namespace

TEST_CASE("rope_cache_math: the kernel's element arithmetic, run on the CPU, is the libtorch "
          "path bit for bit") {
    at::manual_seed(11);
    const int B = 3, T = 2, H = 4, KV = 2, hd = 16, S = 32;
    const RopeTables t = tables(at::kBFloat16, hd);
    // Rows 1..3 of a 5-row cache: the row stride is the whole cache's, as in a step's row range.
    const auto bf16 = at::TensorOptions().dtype(at::kBFloat16);
    KVCache mine = KVCache::allocate(1, 5, KV, S, hd, bf16),
            theirs = KVCache::allocate(1, 5, KV, S, hd, bf16);
    for (auto *c : {&mine, &theirs}) {
        c->k[0].copy_(at::randn(c->k[0].sizes()).to(at::kBFloat16));
        c->v[0].copy_(at::randn(c->v[0].sizes()).to(at::kBFloat16));
    }
    theirs.k[0].copy_(mine.k[0]);
    theirs.v[0].copy_(mine.v[0]);
    KVCache my_rows = mine.rows(1, B), their_rows = theirs.rows(1, B);
    const at::Tensor qkv = at::randn({B, T, (H + 2 * KV) * hd}).to(at::kBFloat16);
    const at::Tensor positions = at::tensor({3, 4, 17, 18, 30, 31}, at::kLong).view({B, T});

    at::Tensor q;
    const auto a = rope_cache_args(qkv, H, KV, hd, positions, t, my_rows, 0, q);
    REQUIRE(a);
    for (std::int64_t e = 0; e < a->elements(); ++e)
        llmhost::cuda::rope_cache_element<HostOps>(*a, e);

    const at::Tensor want = torch_rope_cache(qkv, positions, t, their_rows, H, KV, hd);
    CHECK(at::equal(q, want));
    CHECK(at::equal(mine.k[0], theirs.k[0])); // every row: rows 0 and 4 untouched on both
    CHECK(at::equal(mine.v[0], theirs.v[0]));

    // A position beyond the cache (never sent by the engine): no write anywhere, a zero q row.
    const at::Tensor k_before = mine.k[0].clone(), v_before = mine.v[0].clone();
    const at::Tensor bad = at::tensor({5, 6, 7, 8, 9, S}, at::kLong).view({B, T});
    at::Tensor q2;
    const auto a2 = rope_cache_args(qkv, H, KV, hd, bad, t, my_rows, 0, q2);
    REQUIRE(a2);
    for (std::int64_t e = 0; e < a2->elements(); ++e)
        llmhost::cuda::rope_cache_element<HostOps>(*a2, e);
    CHECK(q2[B - 1][T - 1].abs().max().item<float>() == 0);
    const at::Tensor changed_k = (mine.k[0] != k_before).nonzero();
    // Only rows 1..3 at positions 5..9 changed: nothing at position S - 1 or beyond it.
    CHECK(at::equal(mine.k[0].narrow(2, 10, S - 10), k_before.narrow(2, 10, S - 10)));
    CHECK(at::equal(mine.v[0].narrow(2, 10, S - 10), v_before.narrow(2, 10, S - 10)));
    CHECK(changed_k.size(0) > 0);

    // What the kernel does not take: fp32 activations, a qkv of the wrong width.
    at::Tensor unused;
    CHECK_FALSE(rope_cache_args(qkv.to(at::kFloat), H, KV, hd, positions, t, my_rows, 0, unused));
    CHECK_FALSE(rope_cache_args(qkv.narrow(2, 0, (H + KV) * hd).contiguous(), H, KV, hd, positions,
                                t, my_rows, 0, unused));
}

TEST_CASE("RoPE: q and k from one buffer rotate together, bit for bit transformers' ops") {
    at::manual_seed(7);
    for (auto dtype : {at::kFloat, at::kBFloat16}) {
        CAPTURE(dtype);
        const RopeTables t = tables(dtype);
        // 3 rows x 9 tokens: more rows than the CPU's decode ops take, so the libtorch path runs.
        const std::int64_t B = 3, T = 9, H = 4, KV = 2, hd = 16;
        const at::Tensor positions = at::arange(B * T, at::kLong).view({B, T}) % 50;
        const QKV in = qkv(B, T, H, KV, hd, dtype);
        const auto rows = t.rows(positions);
        const auto [q, k] = t.apply_qk(in.q, in.k, positions, rows);
        CHECK(at::equal(q, reference_rope(in.q, t, positions)));
        CHECK(at::equal(k, reference_rope(in.k, t, positions)));
        // Taken together: both results are views of one rotated buffer.
        CHECK(q.storage().is_alias_of(k.storage()));

        // q and k in separate tensors: each rotated alone, the same values.
        const at::Tensor q2 = in.q.contiguous(), k2 = in.k.contiguous();
        const auto [q3, k3] = t.apply_qk(q2, k2, positions, rows);
        CHECK_FALSE(q3.storage().is_alias_of(k3.storage()));
        CHECK(at::equal(q3, q));
        CHECK(at::equal(k3, k));
        // apply() with rows picked here or passed in: the same.
        CHECK(at::equal(t.apply(in.q, positions), q));
        CHECK(at::equal(t.apply(in.q, positions, &rows), q));
    }
}

TEST_CASE("RoPE: k not right after q (v between, or another row stride) is not taken as one") {
    at::manual_seed(8);
    const RopeTables t = tables(at::kFloat);
    const std::int64_t B = 2, T = 12, H = 4, KV = 2, hd = 16;
    const at::Tensor positions = at::arange(B * T, at::kLong).view({B, T}) % 40;
    const QKV in = qkv(B, T, H, KV, hd, at::kFloat);
    // "k" taken from v's columns: q's buffer, but not adjacent to q.
    const at::Tensor v = in.all.narrow(-1, (H + KV) * hd, KV * hd).view({B, T, KV, hd});
    const auto rows = t.rows(positions);
    const auto [q, k] = t.apply_qk(in.q, v, positions, rows);
    CHECK_FALSE(q.storage().is_alias_of(k.storage()));
    CHECK(at::equal(q, reference_rope(in.q, t, positions)));
    CHECK(at::equal(k, reference_rope(v, t, positions)));
}

TEST_CASE("join_linears: dense parts become one matrix, the same products, no second copy") {
    at::manual_seed(9);
    auto dense = [](std::int64_t out, std::int64_t in, bool bias) {
        Linear l;
        l.weight = at::randn({out, in});
        l.out_features = out;
        l.in_features = in;
        if (bias) {
            l.bias = at::randn({out});
            l.bias_f32 = l.bias.contiguous();
        }
        return l;
    };
    for (bool bias : {false, true}) {
        CAPTURE(bias);
        FusedLinear<3> f;
        f.parts = {dense(64, 32, bias), dense(16, 32, bias), dense(16, 32, bias)};
        std::vector<at::Tensor> before;
        for (const Linear &p : f.parts) before.push_back(p.weight.clone());
        const at::Tensor x = at::randn({2, 20, 32});
        const auto separate = f(x); // not joined yet: one product per part
        f.join();
        REQUIRE(f.joined.weight.defined());
        CHECK(f.joined.out_features == 96);
        CHECK(f.joined.bias.defined() == bias);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(f.parts[i].weight.storage().is_alias_of(f.joined.weight.storage()));
            CHECK(at::equal(f.parts[i].weight, before[i]));
        }
        const auto joined = f(x);
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(joined[i].sizes() == separate[i].sizes());
            CHECK(at::allclose(joined[i], separate[i], 1e-5, 1e-5));
        }
    }

    // Parts that cannot be one matrix stay apart: another input width, a bias on one only, or
    // another dtype.
    FusedLinear<2> width, one_bias, dtypes;
    width.parts = {dense(8, 32, false), dense(8, 16, false)};
    one_bias.parts = {dense(8, 32, true), dense(8, 32, false)};
    dtypes.parts = {dense(8, 32, false), dense(8, 32, false)};
    dtypes.parts[1].weight = dtypes.parts[1].weight.to(at::kBFloat16);
    for (auto *f : {&width, &one_bias, &dtypes}) {
        f->join();
        CHECK_FALSE(f->joined.weight.defined());
    }
}

TEST_CASE("CUDA: the decode step's bf16 GEMV (1 to 8 rows) matches an fp32 product (skipped "
          "without a GPU)") {
    if (skip_without_kernel(device_gemv_available(), "LLMHOST_CUDA_GEMV")) return;
    at::manual_seed(10);
    const auto bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
    struct Shape {
        std::int64_t n, k;
    };
    // Below a block, odd row counts, the decode step's shapes (q/k/v joined, down, the head).
    for (const Shape s : {Shape{1, 8}, Shape{5, 24}, Shape{37, 264}, Shape{3072, 2048},
                          Shape{2048, 8192}, Shape{128256, 2048}}) {
        for (const std::int64_t m : {1, 3, 8}) {
            for (const bool bias : {false, true}) {
                for (const bool accumulate : {false, true}) {
                    CAPTURE(s.n);
                    CAPTURE(s.k);
                    CAPTURE(m);
                    CAPTURE(bias);
                    CAPTURE(accumulate);
                    const at::Tensor w = at::randn({s.n, s.k}, bf16);
                    const at::Tensor x = at::randn({m, s.k}, bf16);
                    const at::Tensor b = bias ? at::randn({s.n}, bf16) : at::Tensor();
                    const at::Tensor r = at::randn({m, s.n}, bf16);
                    at::Tensor out = accumulate ? r.clone() : at::empty({m, s.n}, bf16);
                    REQUIRE(device_gemv(x, w, b, out, accumulate));
                    at::Tensor want = at::matmul(x.to(at::kFloat), w.to(at::kFloat).t());
                    if (bias) want = want + b.to(at::kFloat);
                    if (accumulate) want = want + r.to(at::kFloat);
                    // One bf16 rounding of the result (2^-8 relative) and fp32 summation order.
                    const at::Tensor err =
                        (out.to(at::kFloat) - want).abs() - (want.abs() * 8e-3 + 1e-2);
                    CHECK(err.max().item<float>() <= 0);
                }
            }
        }
    }
    // What it does not take, it leaves to the caller: K not a multiple of 8, a strided x, fp32,
    // more than 8 rows, rows or a bias of the wrong size, a CPU tensor.
    const at::Tensor w12 = at::randn({4, 12}, bf16), w16 = at::randn({4, 16}, bf16);
    at::Tensor out = at::empty({4}, bf16);
    CHECK_FALSE(device_gemv(at::randn({1, 12}, bf16), w12, {}, out, false));
    const at::Tensor wide = at::randn({32}, bf16);
    CHECK_FALSE(device_gemv(wide.as_strided({16}, {2}), w16, {}, out, false)); // every other one
    CHECK_FALSE(device_gemv(at::randn({1, 16}, bf16).to(at::kFloat), w16, {}, out, false));
    at::Tensor nine = at::empty({9, 4}, bf16);
    CHECK_FALSE(device_gemv(at::randn({9, 16}, bf16), w16, {}, nine, false));
    // Rows of the wrong width, even where the element counts agree ([2, 32] is not [4, 16]), and
    // a bias of the wrong length.
    at::Tensor four = at::empty({4, 4}, bf16);
    CHECK_FALSE(device_gemv(at::randn({2, 32}, bf16), w16, {}, four, false));
    CHECK_FALSE(device_gemv(at::randn({1, 16}, bf16), w16, at::randn({8}, bf16), out, false));
    at::Tensor cpu_out = at::empty({4}, at::kBFloat16);
    CHECK_FALSE(device_gemv(at::randn({1, 16}).to(at::kBFloat16), w16.cpu(), {}, cpu_out, false));
}

TEST_CASE("CUDA: RoPE and the cache write in one kernel equal the libtorch path (skipped without "
          "a GPU)") {
    if (skip_without_kernel(device_rope_cache_available(), "LLMHOST_CUDA_ROPE")) return;
    at::manual_seed(12);
    const auto bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
    for (const int T : {1, 7}) { // a decode step; a short prefill chunk
        CAPTURE(T);
        const int B = 4, H = 32, KV = 8, hd = 64, S = 128;
        ModelConfig cfg;
        cfg.head_dim = hd;
        cfg.rope_theta = 500000.0;
        const RopeTables t = RopeTables::build(cfg, S, at::kCUDA, at::kBFloat16);
        KVCache mine = KVCache::allocate(1, 6, KV, S, hd, bf16);
        KVCache theirs = KVCache::allocate(1, 6, KV, S, hd, bf16);
        KVCache my_rows = mine.rows(2, B), their_rows = theirs.rows(2, B);
        const at::Tensor qkv = at::randn({B, T, (H + 2 * KV) * hd}, bf16);
        const at::Tensor positions =
            (at::arange(T, at::TensorOptions().dtype(at::kLong).device(at::kCUDA)).unsqueeze(0) +
             at::tensor({0, 9, 50, 100}, at::TensorOptions().dtype(at::kLong).device(at::kCUDA))
                 .unsqueeze(1))
                .contiguous();
        const at::Tensor q = device_rope_cache(qkv, H, KV, hd, positions, t, my_rows, 0);
        REQUIRE(q.defined());
        const at::Tensor want = torch_rope_cache(qkv, positions, t, their_rows, H, KV, hd);
        CHECK(at::equal(q, want));
        CHECK(at::equal(mine.k[0], theirs.k[0]));
        CHECK(at::equal(mine.v[0], theirs.v[0]));
    }
    // Not bf16: left to the libtorch path.
    KVCache f32 = KVCache::allocate(1, 1, 2, 16, 16, at::TensorOptions().device(at::kCUDA));
    const RopeTables t32 = tables(at::kFloat);
    CHECK_FALSE(
        device_rope_cache(at::randn({1, 1, 128}, at::TensorOptions().device(at::kCUDA)), 4, 2, 16,
                          at::zeros({1, 1}, at::TensorOptions().dtype(at::kLong).device(at::kCUDA)),
                          t32, f32, 0)
            .defined());
}
