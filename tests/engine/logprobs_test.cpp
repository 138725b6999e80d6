// Logprobs: log_softmax of the model's raw logits for the same prefix (a separate forward), the
// top list, greedy = top[0], batched like solo, nothing computed for a request that did not ask;
// and the max_context configuration error (HTTP 500) and the memory estimate.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/engine/logprobs.hpp>
#include <llmhost/plugin.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <thread>

using namespace llmhost::engine;

namespace {

std::vector<double> log_softmax(const std::vector<float> &x) {
    double m = x[0];
    for (float v : x) m = std::max<double>(m, v);
    double s = 0;
    for (float v : x) s += std::exp(v - m);
    std::vector<double> out;
    for (float v : x) out.push_back(v - m - std::log(s));
    return out;
}

// Every token's logprobs against a fresh forward over prompt + the tokens before it.
void check_against_forward(Engine &e, const std::vector<std::int32_t> &prompt,
                           const GenerateResult &r, int top_n, bool greedy) {
    REQUIRE(r.logprobs.size() == r.tokens.size());
    std::vector<std::int32_t> prefix = prompt;
    for (std::size_t i = 0; i < r.tokens.size(); ++i) {
        CAPTURE(i);
        const auto ref = log_softmax(e.forward(prefix, 0, false));
        const TokenLogprobs &lp = r.logprobs[i];
        CHECK(lp.id == r.tokens[i]);
        CHECK(std::abs(lp.logprob - ref[lp.id]) < 1e-4);
        REQUIRE(lp.top.size() == static_cast<std::size_t>(top_n));
        for (std::size_t k = 0; k < lp.top.size(); ++k) {
            CHECK(std::abs(lp.top[k].second - ref[lp.top[k].first]) < 1e-4);
            if (k) CHECK(lp.top[k - 1].second >= lp.top[k].second); // most likely first
            if (lp.top[k].first == lp.id) CHECK(lp.top[k].second == lp.logprob);
        }
        // Nothing outside the list beats its last entry.
        for (std::size_t v = 0; v < ref.size() && top_n > 0; ++v) {
            bool listed = false;
            for (const auto &t : lp.top) listed = listed || t.first == static_cast<std::int32_t>(v);
            if (!listed && ref[v] > lp.top.back().second + 1e-4) FAIL_CHECK("token " << v << " beats the top list");
        }
        if (greedy && top_n > 0) CHECK(lp.top[0].first == lp.id);
        prefix.push_back(r.tokens[i]);
    }
}

GenerateOptions opts(int top_n, float temperature = 0, std::uint64_t seed = 1) {
    GenerateOptions o;
    o.max_tokens = 8;
    o.logprobs = true;
    o.top_logprobs = top_n;
    o.sampling.temperature = temperature;
    o.sampling.seed = seed;
    o.sampling.repetition_penalty = 1.3f; // raw logprobs ignore it, as temperature
    return o;
}

} // namespace

TEST_CASE("compute_logprobs: log_softmax, sorted top-n, probabilities sum to 1") {
    std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f, 10.0f};
    auto r = compute_logprobs(logits, 4, 3);
    const auto ref = log_softmax(logits);
    CHECK(r.logprob == doctest::Approx(ref[4]).epsilon(1e-6));
    REQUIRE(r.top.size() == 3);
    CHECK(r.top[0].first == 5);
    CHECK(r.top[1].first == 1); // a tie: the lower id first
    CHECK(r.top[2].first == 3);
    auto all = compute_logprobs(logits, 0, static_cast<int>(logits.size()));
    double sum = 0;
    for (auto &[id, lp] : all.top) sum += std::exp(static_cast<double>(lp));
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(compute_logprobs(logits, 0, 0).top.empty());
}

TEST_CASE("engine logprobs equal log_softmax of a separate forward (serial and batched)") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d / "m");
    const std::vector<std::int32_t> prompt = {1, 17, 42, 99, 5};
    for (std::int64_t batch : {1, 2}) {
        CAPTURE(batch);
        auto e = Engine::load(d / "m", {.device = "cpu", .max_context = 64, .max_batch = batch});
        auto greedy = e->generate(prompt, opts(5));
        check_against_forward(*e, prompt, greedy, 5, true);
        // Sampled at temperature 1.7 with a penalty: still the model's raw distribution.
        auto sampled = e->generate(prompt, opts(3, 1.7f, 42));
        check_against_forward(*e, prompt, sampled, 3, false);
        // The whole vocabulary: probabilities sum to 1.
        auto full = e->generate(prompt, opts(static_cast<int>(e->config().vocab_size)));
        for (const auto &lp : full.logprobs) {
            double sum = 0;
            for (auto &[id, l] : lp.top) sum += std::exp(static_cast<double>(l));
            CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
        }
    }
}

TEST_CASE("engine logprobs in a batch of 2: the asking request gets them, the other pays nothing") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("qwen2"), d / "m");
    auto e = Engine::load(d / "m", {.device = "cpu", .max_context = 64, .max_batch = 2});
    const std::vector<std::int32_t> p1 = {1, 5, 9, 13}, p2 = {1, 200, 3};
    GenerateOptions plain;
    plain.max_tokens = 8;
    // The asking request runs to the end of the context (60 tokens), and the other is started
    // only once its first token is out, so the two share decode steps however loaded the
    // machine is (with both at 8 tokens, a busy machine could finish one before the other began).
    GenerateOptions asking = opts(4);
    asking.max_tokens = 0;
    asking.sampling.repetition_penalty = 1.0f; // greedy = the raw top-1 over 60 tokens too
    const auto solo1 = e->generate(p1, asking);
    const auto solo2 = e->generate(p2, plain);
    GenerateResult r1, r2;
    int calls1 = 0, calls2 = 0;
    std::vector<int> order1; // +1 logprob, -1 token: each logprob right before its token
    std::thread b;
    r1 = e->generate(
        p1, asking,
        [&](std::int32_t) {
            if (order1.size() == 1)
                b = std::thread([&] {
                    r2 = e->generate(p2, plain, {}, {}, [&](const TokenLogprobs &) { ++calls2; });
                });
            order1.push_back(-1);
            return StepAction::Continue;
        },
        {}, [&](const TokenLogprobs &) { ++calls1, order1.push_back(+1); });
    REQUIRE(b.joinable()); // the asking request produced at least one token
    b.join();
    CHECK(e->batch_stats().max_active_rows == 2);
    CHECK(r1.tokens == solo1.tokens);
    CHECK(r2.tokens == solo2.tokens);
    CHECK(calls1 == static_cast<int>(r1.tokens.size()));
    CHECK(calls2 == 0);
    CHECK(r2.logprobs.empty());
    for (std::size_t i = 0; i < order1.size(); ++i) CHECK(order1[i] == (i % 2 == 0 ? +1 : -1));
    for (std::size_t i = 0; i < r1.logprobs.size(); ++i) {
        CHECK(std::abs(r1.logprobs[i].logprob - solo1.logprobs[i].logprob) < 1e-4);
        CHECK(r1.logprobs[i].top[0].first == solo1.logprobs[i].top[0].first);
    }
    check_against_forward(*e, p1, r1, 4, true);
}

TEST_CASE("max_context above the model's limit is a server configuration error (HTTP 500)") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d / "m"); // max_position_embeddings 128
    try {
        Engine::load(d / "m", {.device = "cpu", .max_context = 4096});
        FAIL("loaded");
    } catch (const llmh::Error &e) {
        CHECK(e.http_status() == 500);
        CHECK(std::string(e.what()).find("\"max_context\" 4096") != std::string::npos);
        CHECK(std::string(e.what()).find("128") != std::string::npos);
        CHECK(e.hint().find("at most 128") != std::string::npos);
    }
    CHECK_THROWS_AS(Engine::estimate_memory(d / "m", {.device = "cpu", .max_context = 4096}), llmh::Error);
}

TEST_CASE("estimate_memory = weights as computed + KV cache, before loading") {
    test::TempDir d;
    llmhost::tools::write_model_dir(test::spec("llama"), d / "m");
    for (const char *dtype : {"float32", "bfloat16"}) {
        CAPTURE(dtype);
        LoadOptions o{.device = "cpu", .dtype = dtype, .max_context = 64, .max_batch = 3};
        const std::size_t est = Engine::estimate_memory(d / "m", o);
        auto e = Engine::load(d / "m", o);
        CHECK(est == e->weight_bytes() + e->kv_cache_bytes());
    }
}
