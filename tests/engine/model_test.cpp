// Every architecture: loads from its real on-disk format, generates deterministically, and its
// KV-cache decode matches a full re-forward. GQA and tied embeddings checked by construction.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/plugin.hpp>

#include <ATen/Context.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

using namespace llmhost::engine;
using llmhost::tools::TinyTensor;
namespace fs = std::filesystem;

namespace {

const char *kArchs[] = {"llama", "mistral", "qwen2", "qwen3", "gpt2"};

std::unique_ptr<Engine> load(const fs::path &dir, std::int64_t ctx = 64, std::string dtype = "auto") {
    return Engine::load(dir, {.device = "cpu", .dtype = dtype, .max_context = ctx});
}

std::vector<std::int32_t> greedy(Engine &e, std::vector<std::int32_t> prompt, int n) {
    GenerateOptions o;
    o.max_tokens = n;
    return e.generate(prompt, o).tokens;
}

float max_abs_diff(const float *a, const float *b, std::size_t n) {
    float m = 0;
    for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

const std::vector<std::int32_t> kPrompt = {1, 17, 250, 3, 99, 42, 7, 300, 12, 5, 64, 128};

} // namespace

TEST_CASE("every architecture loads and generates deterministically") {
    for (const char *arch : kArchs) {
        CAPTURE(arch);
        test::TempDir d;
        llmhost::tools::write_model_dir(test::spec(arch), d.path);
        auto e = load(d.path);
        CHECK(e->weights_mapped()); // F32 file on an F32 CPU model: views of the mmap
        auto a = greedy(*e, kPrompt, 16);
        REQUIRE(a.size() == 16);
        CHECK(greedy(*e, kPrompt, 16) == a);    // the cache is reused safely across requests
        auto e2 = load(d.path);
        CHECK(greedy(*e2, kPrompt, 16) == a);   // and a fresh engine agrees
        // Sampling: same seed, same tokens.
        GenerateOptions o;
        o.max_tokens = 16;
        o.sampling.temperature = 1.0f;
        o.sampling.seed = 1234;
        auto s1 = e->generate(kPrompt, o).tokens;
        auto s2 = e2->generate(kPrompt, o).tokens;
        CHECK(s1 == s2);
        o.sampling.seed = 4321;
        CHECK(e->generate(kPrompt, o).tokens != s1);
    }
}

TEST_CASE("KV-cache decode equals a full re-forward, for every architecture") {
    for (const char *arch : kArchs) {
        CAPTURE(arch);
        test::TempDir d;
        llmhost::tools::write_model_dir(test::spec(arch), d.path);
        auto e = load(d.path);
        const std::size_t V = static_cast<std::size_t>(e->config().vocab_size), T = kPrompt.size();
        std::vector<float> full = e->forward(kPrompt, 0, true);
        REQUIRE(full.size() == T * V);
        // Prefill 5 tokens, then one token at a time through the cache.
        std::vector<float> pre = e->forward(std::span(kPrompt).first(5), 0, true);
        CHECK(max_abs_diff(pre.data(), full.data(), 5 * V) < 1e-4f);
        for (std::size_t i = 5; i < T; ++i) {
            std::vector<float> step = e->forward(std::span(kPrompt).subspan(i, 1), (std::int64_t)i, false);
            CHECK(max_abs_diff(step.data(), full.data() + i * V, V) < 1e-4f);
        }
        // Causality: the logits of a prefix do not depend on what follows it.
        CHECK(max_abs_diff(e->forward(std::span(kPrompt).first(3), 0, true).data(), full.data(), 3 * V) < 1e-4f);
    }
}

TEST_CASE("GQA: a grouped model equals the multi-head model with its KV heads repeated") {
    test::TempDir gqa, mha;
    auto s = llmhost::tools::resolve_spec(test::spec("llama"));
    s.num_heads = 4;
    s.num_kv_heads = 2;
    llmhost::tools::write_model_dir(s, gqa.path);
    // Same weights, but k/v projections with each KV head repeated for its group of query heads
    // (query head h uses KV head h / groups, as transformers' repeat_kv).
    auto m = s;
    m.num_kv_heads = 4;
    llmhost::tools::write_model_dir(m, mha.path);
    auto w = llmhost::tools::make_weights(s);
    const std::int64_t hd = s.head_dim, D = s.hidden_size, groups = 2;
    for (auto &t : w) {
        if (t.name.find("k_proj") == std::string::npos && t.name.find("v_proj") == std::string::npos) continue;
        std::vector<float> r;
        for (std::int64_t kv = 0; kv < s.num_kv_heads; ++kv)
            for (std::int64_t g = 0; g < groups; ++g)
                r.insert(r.end(), t.values.begin() + kv * hd * D, t.values.begin() + (kv + 1) * hd * D);
        t.values = r;
        t.shape = {m.num_kv_heads * hd, D};
    }
    std::vector<const TinyTensor *> all;
    for (const auto &t : w) all.push_back(&t);
    llmhost::tools::write_safetensors(mha / "model.safetensors", all, "F32");
    auto a = load(gqa.path), b = load(mha.path);
    auto la = a->forward(kPrompt, 0, true), lb = b->forward(kPrompt, 0, true);
    CHECK(max_abs_diff(la.data(), lb.data(), la.size()) < 1e-4f);
    // Greedy tokens agree as well.
    CHECK(greedy(*a, kPrompt, 12) == greedy(*b, kPrompt, 12));
}

TEST_CASE("tied embeddings: no lm_head in the file and equal to an untied copy of the embeddings") {
    for (const char *arch : {"llama", "gpt2"}) {
        CAPTURE(arch);
        test::TempDir tied, untied;
        auto s = llmhost::tools::resolve_spec(test::spec(arch));
        s.tie_word_embeddings = true;
        llmhost::tools::write_model_dir(s, tied.path);
        auto u = s;
        u.tie_word_embeddings = false;
        llmhost::tools::write_model_dir(u, untied.path);
        auto w = llmhost::tools::make_weights(u);
        const std::string embed = std::string(arch) == "gpt2" ? "transformer.wte.weight" : "model.embed_tokens.weight";
        std::vector<float> emb;
        for (auto &t : w) if (t.name == embed) emb = t.values;
        for (auto &t : w) if (t.name == "lm_head.weight") t.values = emb;
        std::vector<const TinyTensor *> all;
        for (const auto &t : w) all.push_back(&t);
        llmhost::tools::write_safetensors(untied / "model.safetensors", all, "F32");
        auto a = load(tied.path), b = load(untied.path);
        auto la = a->forward(kPrompt, 0, true), lb = b->forward(kPrompt, 0, true);
        CHECK(max_abs_diff(la.data(), lb.data(), la.size()) < 1e-5f);
        // An untied config without lm_head.weight is refused, naming the tensor.
        auto cfg = nlohmann::json::parse(std::ifstream(tied / "config.json"));
        cfg["tie_word_embeddings"] = false;
        std::ofstream(tied / "config.json") << cfg.dump();
        try {
            load(tied.path);
            FAIL("expected an error");
        } catch (const llmh::Error &e) {
            CHECK(std::string(e.what()).find("lm_head.weight") != std::string::npos);
        }
    }
}

TEST_CASE("bf16 and f16 checkpoints and bf16 compute on the CPU") {
    test::TempDir f32, bf16, f16;
    auto s = test::spec("llama");
    llmhost::tools::write_model_dir(s, f32.path);
    s.dtype = "BF16";
    llmhost::tools::write_model_dir(s, bf16.path);
    s.dtype = "F16";
    llmhost::tools::write_model_dir(s, f16.path);
    auto a = load(f32.path);
    auto b = load(bf16.path);        // converted to fp32: a copy, not a view
    CHECK_FALSE(b->weights_mapped());
    auto h = load(f16.path);
    // bf16 file, bf16 compute: the projections are packed copies for the decode kernels.
    auto c = load(bf16.path, 64, "bfloat16");
    CHECK_FALSE(c->weights_mapped());
    CHECK(c->dtype() == "bfloat16");
    CHECK(c->weight_bytes() * 2 == a->weight_bytes());
    auto la = a->forward(kPrompt, 0, true), lb = b->forward(kPrompt, 0, true),
         lh = h->forward(kPrompt, 0, true), lc = c->forward(kPrompt, 0, true);
    // Rounding the weights moves logits a little, not a lot.
    CHECK(max_abs_diff(la.data(), lb.data(), la.size()) < 0.25f);
    CHECK(max_abs_diff(la.data(), lh.data(), la.size()) < 0.05f);
    CHECK(max_abs_diff(lb.data(), lc.data(), la.size()) < 0.5f);
    CHECK(max_abs_diff(la.data(), lb.data(), la.size()) > 0.0f);
    CHECK_THROWS_AS(load(f32.path, 64, "float16"), llmh::Error); // fp16 is CUDA-only
}

TEST_CASE("llama3 rope scaling and Mistral's sliding window run and change the result") {
    test::TempDir plain, scaled;
    auto s = test::spec("llama");
    llmhost::tools::write_model_dir(s, plain.path);
    s.rope_scaling = "llama3"; // original_max_position_embeddings 64, factor 8
    llmhost::tools::write_model_dir(s, scaled.path);
    auto a = load(plain.path), b = load(scaled.path);
    auto la = a->forward(kPrompt, 0, true), lb = b->forward(kPrompt, 0, true);
    const std::size_t V = static_cast<std::size_t>(a->config().vocab_size);
    CHECK(max_abs_diff(la.data(), lb.data(), V) < 1e-5f); // position 0: rotation is the identity
    CHECK(max_abs_diff(la.data(), lb.data(), la.size()) > 1e-3f);

    test::TempDir win, nowin;
    auto m = test::spec("mistral");
    llmhost::tools::write_model_dir(m, nowin.path);
    m.sliding_window = 4;
    llmhost::tools::write_model_dir(m, win.path);
    auto c = load(nowin.path), w = load(win.path);
    auto lc = c->forward(kPrompt, 0, true), lw = w->forward(kPrompt, 0, true);
    CHECK(max_abs_diff(lc.data(), lw.data(), 4 * V) < 1e-5f); // inside the window: same
    CHECK(max_abs_diff(lc.data(), lw.data(), lc.size()) > 1e-3f);
    // The windowed model's cache path agrees with its full forward too.
    w->forward(std::span(kPrompt).first(6), 0, true);
    auto step = w->forward(std::span(kPrompt).subspan(6, 1), 6, false);
    CHECK(max_abs_diff(step.data(), lw.data() + 6 * V, V) < 1e-4f);
}

TEST_CASE("unknown architectures, bad devices and bad configs are refused clearly") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d.path);
    auto cfg = nlohmann::json::parse(std::ifstream(d / "config.json"));
    cfg["architectures"] = {"FalconForCausalLM"};
    std::ofstream(d / "config.json") << cfg.dump();
    try {
        load(d.path);
        FAIL("expected an error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
        CHECK(std::string(e.what()).find("FalconForCausalLM") != std::string::npos);
        CHECK(e.hint().find("LlamaForCausalLM") != std::string::npos);
        CHECK(e.hint().find("GPT2LMHeadModel") != std::string::npos);
    }
    test::TempDir ok;
    llmhost::tools::write_model_dir(test::spec("llama"), ok.path);
    try {
        Engine::load(ok.path, {.device = "tpu"});
        FAIL("expected an error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("tpu") != std::string::npos);
    }
    if (!at::hasCUDA()) {
        try {
            Engine::load(ok.path, {.device = "cuda:0"});
            FAIL("expected an error");
        } catch (const llmh::Error &e) {
            CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
            CHECK(e.hint().find("cpu") != std::string::npos);
        }
        CHECK(Engine::load(ok.path, {.device = "auto"})->device() == "cpu");
    }
    CHECK_THROWS_AS(Engine::load(ok.path, {.device = "cpu", .max_context = 100000}), llmh::Error);
    try {
        Engine::load(d / "nope", {});
        FAIL("expected an error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_NOT_FOUND);
    }
}

TEST_CASE("CUDA: the decode step as CUDA graphs gives the eager step's tokens (skipped without a "
          "GPU)") {
    if (!at::hasCUDA() && test::skip_case("no CUDA device")) return;
    test::TempDir d;
    auto s = test::spec("llama");
    s.max_position_embeddings = 256;
    llmhost::tools::write_model_dir(s, d.path);
    std::vector<std::vector<std::int32_t>> runs[2];
    std::string status[2];
    for (int graphs = 0; graphs < 2; ++graphs) {
        // The baseline is the same static step run eagerly: the same shapes and kernels, so the
        // tokens must be the same, bit for bit (the row-range step's shapes differ).
        if (!graphs) setenv("LLMHOST_DECODE_GRAPHS", "eager", 1);
        auto e = Engine::load(
            d.path, {.device = "cuda", .dtype = "bfloat16", .max_context = 256, .max_batch = 4});
        unsetenv("LLMHOST_DECODE_GRAPHS");
        for (int p = 0; p < 3; ++p) { // 100 tokens: past 64, the second bucket
            std::vector<std::int32_t> prompt = kPrompt;
            prompt.push_back(10 + p);
            runs[graphs].push_back(greedy(*e, prompt, 100));
        }
        status[graphs] = e->decode_graph_status();
    }
    CHECK(status[0] == "eager");
    CHECK(status[1].rfind("graphs: ", 0) == 0);
    CHECK(status[1] != "graphs: 0 captured");
    MESSAGE("decode graphs: " << status[1]);
    CHECK(runs[1] == runs[0]);
}

TEST_CASE("CUDA: bf16 matches the CPU within tolerance (skipped without a GPU)") {
    if (!at::hasCUDA() && test::skip_case("no CUDA device")) return;
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d.path);
    auto cpu = load(d.path);
    auto gpu = Engine::load(d.path, {.device = "cuda", .dtype = "bfloat16", .max_context = 64});
    auto a = cpu->forward(kPrompt, 0, true), b = gpu->forward(kPrompt, 0, true);
    CHECK(max_abs_diff(a.data(), b.data(), a.size()) < 0.5f);
    auto g32 = Engine::load(d.path, {.device = "cuda", .dtype = "float32", .max_context = 64});
    CHECK(greedy(*g32, kPrompt, 16) == greedy(*cpu, kPrompt, 16));
}
