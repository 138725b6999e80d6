// Reference fixtures: our logits and greedy tokens against implementations nobody here wrote.
//  - fixtures/llama2c_llama.json: karpathy/llama2.c's run.c on the same weights (exported to its
//    checkpoint format by tools/tiny_model write_llama2c_checkpoint, q/k rows permuted).
//  - fixtures/transformers_<arch>.json: Hugging Face transformers (tools/make_fixtures.py, to be
//    run where transformers is installed); each file found is checked.
// Each fixture stores the generator spec (so we regenerate the same weights), the prompt, the
// reference logits at a few positions and 32 greedy tokens. How they were made: docs/models.md.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace llmhost::engine;
namespace fs = std::filesystem;

namespace {

void check_fixture(const fs::path &file) {
    CAPTURE(file.filename().string());
    std::ifstream in(file);
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

    // 32 greedy tokens through prefill + KV-cache decode (no eos: all 32 are compared).
    GenerateOptions o;
    o.max_tokens = 32;
    CHECK(e->generate(prompt, o).tokens == expected);

    // Logits at the recorded positions, from one pass over prompt + the reference continuation.
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
        MESSAGE(file.filename().string() << " position " << pos << ": max |diff| = " << worst);
        ++compared;
    }
    CHECK(compared >= 4);
}

} // namespace

TEST_CASE("Llama logits and greedy tokens match llama2.c run.c (fp32, CPU)") {
    check_fixture(fs::path(LLMHOST_ENGINE_FIXTURES) / "llama2c_llama.json");
}

TEST_CASE("transformers fixtures, when present, match (fp32, CPU)") {
    int n = 0;
    for (const auto &entry : fs::directory_iterator(LLMHOST_ENGINE_FIXTURES)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("transformers_", 0) != 0 || entry.path().extension() != ".json") continue;
        check_fixture(entry.path());
        ++n;
    }
    if (n == 0)
        MESSAGE("no transformers fixtures yet: run tools/make_fixtures.py where transformers is "
                "installed (see docs/models.md)");
}
