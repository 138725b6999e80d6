// The Llama family's CPU decode step (models/llama_cpu_step.cpp) against the op-by-op forward it
// replaces for packed models: the same logits bit for bit, in every architecture switch (Qwen2
// biases, Qwen3 head norms, Mistral's sliding window, tied heads), every packed format, single
// tokens and short chunks, all logits or the last; and batched decode on it equal to each request
// alone. And the decode ops it shares with that path against the libtorch expressions they
// replace, bit for bit; and the KV cache's row views a step runs on (models/model.hpp).
#include "test_util.hpp"

#include "../../plugins/huggingface/models/decode_ops.hpp"
#include "../../plugins/huggingface/models/llama_parts.hpp"

#include <llmhost/engine/engine.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace llmhost::engine;

namespace {

// Restores the process-wide switch however a case ends.
struct StepSwitch {
    bool saved = cpu_decode_step_enabled();
    ~StepSwitch() { set_cpu_decode_step_enabled(saved); }
};

std::unique_ptr<Engine> load(const std::filesystem::path &dir, const std::string &dtype,
                             std::int64_t max_batch = 1) {
    return Engine::load(
        dir, {.device = "cpu", .dtype = dtype, .max_context = 48, .max_batch = max_batch});
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("cpu step: bit for bit the op-by-op forward, every switch and packed format") {
    StepSwitch keep;
    test::TempDir tmp;
    struct Variant {
        const char *arch;
        bool tied;
        std::optional<std::int64_t> window;
    };
    for (const Variant v :
         {Variant{"llama", false, {}}, Variant{"llama", true, {}}, Variant{"qwen2", false, {}},
          Variant{"qwen3", false, {}}, Variant{"mistral", false, 5}}) {
        for (const char *file_dtype : {"F32", "BF16"}) {
            auto s = test::spec(v.arch);
            s.dtype = file_dtype;
            s.tie_word_embeddings = v.tied;
            s.sliding_window = v.window;
            const auto dir = tmp / (std::string(v.arch) + (v.tied ? "tied" : "") + file_dtype);
            llmhost::tools::write_model_dir(s, dir);
            for (const char *dtype : {"bfloat16", "int8", "int4"}) {
                CAPTURE(v.arch);
                CAPTURE(v.tied);
                CAPTURE(file_dtype);
                CAPTURE(dtype);
                auto with_step = load(dir, dtype), op_by_op = load(dir, dtype);
                // Chunks of 3 tokens and single tokens (12 positions: past Mistral's window),
                // all logits and the last only. Each engine keeps its own cache, so any
                // difference in the keys and values written would show in later positions.
                std::vector<std::int32_t> ids;
                for (int i = 0; i < 12; ++i) ids.push_back(3 + (i * 37) % 300);
                std::int64_t p = 0;
                for (const std::int64_t n : {3, 1, 1, 3, 1, 2, 1}) {
                    CAPTURE(p);
                    const std::span<const std::int32_t> chunk(ids.data() + p, std::size_t(n));
                    const bool all = n > 1 && p % 2 == 1;
                    const std::uint64_t before = cpu_decode_steps_taken();
                    set_cpu_decode_step_enabled(true);
                    const auto a = with_step->forward(chunk, p, all);
                    CHECK(cpu_decode_steps_taken() == before + 1); // it really ran the step
                    set_cpu_decode_step_enabled(false);
                    const auto b = op_by_op->forward(chunk, p, all);
                    CHECK(cpu_decode_steps_taken() == before + 1);
                    REQUIRE(a.size() == b.size());
                    CHECK(a.size() == std::size_t((all ? n : 1) * s.vocab_size));
                    CHECK(same_bits(a, b));
                    p += n;
                }
            }
        }
    }
}

TEST_CASE("cpu step: not taken where it does not apply") {
    StepSwitch keep;
    set_cpu_decode_step_enabled(true);
    test::TempDir tmp;
    auto s = test::spec("llama");
    llmhost::tools::write_model_dir(s, tmp.path);
    std::vector<std::int32_t> ids(20, 7);
    {
        auto e = load(tmp.path, "float32"); // dense fp32 projections: BLAS, not the kernels
        const std::uint64_t before = cpu_decode_steps_taken();
        e->forward({ids.data(), 1}, 0, false);
        CHECK(cpu_decode_steps_taken() == before);
    }
    {
        auto e = load(tmp.path, "int8");
        const std::uint64_t before = cpu_decode_steps_taken();
        e->forward(ids, 0, false); // 20 rows: a prefill, through BLAS
        CHECK(cpu_decode_steps_taken() == before);
        e->forward({ids.data(), 1}, 20, false);
        CHECK(cpu_decode_steps_taken() == before + 1);
    }
}

TEST_CASE("cpu step: batched decode gives each request exactly its tokens alone") {
    StepSwitch keep;
    set_cpu_decode_step_enabled(true);
    test::TempDir tmp;
    auto s = test::spec("qwen2", 5);
    llmhost::tools::write_model_dir(s, tmp.path);
    for (const char *dtype : {"bfloat16", "int8", "int4"}) {
        CAPTURE(dtype);
        auto serial = load(tmp.path, dtype, 1), batched = load(tmp.path, dtype, 3);
        std::vector<std::vector<std::int32_t>> prompts;
        std::vector<GenerateOptions> opts(5);
        for (int i = 0; i < 5; ++i) {
            std::vector<std::int32_t> pr;
            for (int t = 0; t < 2 + 3 * i; ++t) pr.push_back((11 + 29 * i + 5 * t) % 380 + 3);
            prompts.push_back(pr);
            opts[std::size_t(i)].max_tokens = 10 + 3 * i;
            if (i % 2) opts[std::size_t(i)].sampling = {.temperature = 0.9f, .seed = 40u + i};
        }
        std::vector<std::vector<std::int32_t>> alone, together(prompts.size());
        for (std::size_t i = 0; i < prompts.size(); ++i)
            alone.push_back(serial->generate(prompts[i], opts[i]).tokens);
        std::vector<std::thread> threads;
        std::atomic<int> ready{0}; // released together, so that they share decode steps
        for (std::size_t i = 0; i < prompts.size(); ++i)
            threads.emplace_back([&, i] {
                ++ready;
                while (ready.load() < int(prompts.size())) std::this_thread::yield();
                together[i] = batched->generate(prompts[i], opts[i]).tokens;
            });
        for (auto &t : threads) t.join();
        for (std::size_t i = 0; i < prompts.size(); ++i) {
            CAPTURE(i);
            CHECK(together[i] == alone[i]);
        }
        CHECK(batched->batch_stats().max_active_rows >= 2); // rows really shared steps
    }
}

TEST_CASE("decode ops: RoPE bit for bit the libtorch expression, RMSNorm within its rounding") {
    at::manual_seed(7);
    for (const at::ScalarType t : {at::kFloat, at::kBFloat16}) {
        for (const std::int64_t hd : {64, 40, 2}) {
            CAPTURE(t);
            CAPTURE(hd);
            const std::int64_t B = 2, T = 3, heads = 3, P = 50;
            // Strided input (a view of a wider tensor), as q and k are views of the fused output.
            const at::Tensor wide = at::randn({B, T, heads, hd + 8}).to(t);
            const at::Tensor x = wide.narrow(-1, 4, hd);
            const at::Tensor cos = at::randn({P, hd}).to(t), sin = at::randn({P, hd}).to(t);
            const at::Tensor pos = at::randint(0, P, {B, T}, at::kLong);
            const at::Tensor c = cos.index_select(0, pos.reshape({-1})).view({B, T, 1, hd});
            const at::Tensor s = sin.index_select(0, pos.reshape({-1})).view({B, T, 1, hd});
            const at::Tensor x1 = x.narrow(-1, 0, hd / 2), x2 = x.narrow(-1, hd / 2, hd / 2);
            const at::Tensor ref = x * c + at::cat({-x2, x1}, -1) * s;
            CHECK(at::equal(decode_ops::rope(x, cos, sin, pos), ref));

            const at::Tensor w = at::randn({hd}).to(t);
            at::Tensor h = x.to(at::kFloat);
            h = h * at::rsqrt(h.pow(2).mean(-1, true) + 1e-5);
            const at::Tensor norm_ref = w * h.to(t);
            const at::Tensor norm = decode_ops::rms_norm(x, w, 1e-5);
            // The sum of squares is a vector reduction in both, in different orders: fp32 may
            // differ in the last bits, and a bf16 result by one rounding step.
            CHECK(at::allclose(norm.to(at::kFloat), norm_ref.to(at::kFloat),
                               t == at::kFloat ? 1e-5 : 1e-2, 1e-5));
        }
    }
}

TEST_CASE("KV cache row views: made once per row range, writes land in the cache") {
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    KVCache cache = KVCache::allocate(/*layers=*/3, /*batch=*/4, /*kv_heads=*/2, /*max_ctx=*/8,
                                      /*head_dim=*/4, opts);
    KVCacheRows views(cache);
    KVCache &a = views(1, 2);
    CHECK(&views(1, 2) == &a); // the same views, not new ones
    CHECK(&views(0, 1) != &a);
    REQUIRE(a.k.size() == 3);
    CHECK(a.batch == 2);
    CHECK(a.k[2].sizes() == at::IntArrayRef({2, 2, 8, 4}));
    a.k[2].fill_(7.0f);
    a.v[0][1].fill_(3.0f);
    CHECK(cache.k[2][0].sum().item<float>() == 0.0f); // row 0: outside the range
    CHECK(cache.k[2][1].sum().item<float>() == 7.0f * 2 * 8 * 4);
    CHECK(cache.k[2][3].sum().item<float>() == 0.0f);
    CHECK(cache.v[0][2].sum().item<float>() == 3.0f * 2 * 8 * 4);
}
