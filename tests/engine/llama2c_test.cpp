// The Llama path against an implementation nobody here wrote: karpathy/llama2.c's run.c.
// fixtures/llama2c_llama.json holds the generator spec (so we regenerate the same weights), the
// prompt, run.c's logits at a few positions and its 32 greedy tokens (temperature 0), produced
// from a llama2.c checkpoint of the same weights (tools/tiny_model: write_llama2c_checkpoint).
// How it was made: docs/models.md, "Fixtures".
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace llmhost::engine;

TEST_CASE("Llama logits and greedy tokens match llama2.c run.c (fp32, CPU)") {
    std::ifstream in(std::string(LLMHOST_ENGINE_FIXTURES) + "/llama2c_llama.json");
    REQUIRE(in.good());
    const auto fx = nlohmann::json::parse(in);
    test::TempDir d;
    auto spec = llmhost::tools::TinyModelSpec::from_json(fx.at("spec"));
    llmhost::tools::write_model_dir(spec, d.path);
    auto e = Engine::load(d.path, {.device = "cpu", .dtype = "float32",
                                   .max_context = spec.max_position_embeddings});
    const auto prompt = fx.at("prompt").get<std::vector<std::int32_t>>();
    const auto expected = fx.at("greedy").get<std::vector<std::int32_t>>();
    REQUIRE(expected.size() == 32);

    GenerateOptions o;
    o.max_tokens = 32;
    auto r = e->generate(prompt, o);
    CHECK(r.tokens == expected);

    // Logits at the recorded positions, from one pass over prompt + run.c's continuation.
    std::vector<std::int32_t> seq = prompt;
    seq.insert(seq.end(), expected.begin(), expected.end());
    const std::size_t V = static_cast<std::size_t>(spec.vocab_size);
    auto logits = e->forward(seq, 0, true);
    int compared = 0;
    for (auto &[pos_s, row] : fx.at("logits").items()) {
        const std::size_t pos = std::stoul(pos_s);
        REQUIRE(row.size() == V);
        float worst = 0;
        for (std::size_t i = 0; i < V; ++i)
            worst = std::max(worst, std::fabs(logits[pos * V + i] - row[i].get<float>()));
        CAPTURE(pos);
        CHECK(worst < 1e-4f);
        ++compared;
    }
    CHECK(compared >= 4);
}
