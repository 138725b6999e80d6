// Reference fixtures: our logits and greedy tokens against implementations nobody here wrote.
//  - fixtures/llama2c_llama.json: karpathy/llama2.c's run.c on the same weights (exported to its
//    checkpoint format by tools/tiny_model write_llama2c_checkpoint, q/k rows permuted).
//  - fixtures/transformers_<arch>.json: Hugging Face transformers (tools/make_fixtures.py, to be
//    run where transformers is installed); each file found is checked, on the CPU in fp32 and,
//    where there is a GPU, on CUDA in fp32 and bf16. LLMHOST_ENGINE_FIXTURES=DIR reads them from
//    DIR instead (tools/gpu/run-all.sh checks fixtures it has just made before they are committed).
// A case with no fixture to compare is skipped (exit 77 under ctest), never passed.
// Each fixture stores the generator spec (so we regenerate the same weights), the prompt, the
// reference logits at a few positions and 32 greedy tokens. How they were made: docs/models.md.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>

#include <ATen/Context.h> // before doctest: libtorch's logging defines a CHECK of its own
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

using namespace llmhost::engine;
namespace fs = std::filesystem;

namespace {

fs::path fixture_dir() {
    const char *dir = std::getenv("LLMHOST_ENGINE_FIXTURES");
    return dir && *dir ? fs::path(dir) : fs::path(LLMHOST_ENGINE_FIXTURES);
}

std::vector<fs::path> transformers_fixtures() {
    std::vector<fs::path> out;
    for (const auto &entry : fs::directory_iterator(fixture_dir())) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("transformers_", 0) == 0 && entry.path().extension() == ".json")
            out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The engine on `device` in `dtype` against the fixture: logits within `tolerance`, and, when
// `greedy` is set, the 32 greedy tokens exactly.
void check_fixture(const fs::path &file, const std::string &device = "cpu",
                   const std::string &dtype = "float32", float tolerance = 1e-4f,
                   bool greedy = true) {
    CAPTURE(file.filename().string());
    CAPTURE(device);
    CAPTURE(dtype);
    std::ifstream in(file);
    REQUIRE(in.good());
    const auto fx = nlohmann::json::parse(in);
    test::TempDir d;
    auto spec = llmhost::tools::TinyModelSpec::from_json(fx.at("spec"));
    llmhost::tools::write_model_dir(spec, d.path);
    auto e = Engine::load(
        d.path, {.device = device, .dtype = dtype, .max_context = spec.max_position_embeddings});
    const auto prompt = fx.at("prompt").get<std::vector<std::int32_t>>();
    const auto expected = fx.at("greedy").get<std::vector<std::int32_t>>();
    REQUIRE(expected.size() == 32);

    // 32 greedy tokens through prefill + KV-cache decode (no eos: all 32 are compared).
    if (greedy) {
        GenerateOptions o;
        o.max_tokens = 32;
        CHECK(e->generate(prompt, o).tokens == expected);
    }

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
        CHECK(worst < tolerance);
        MESSAGE(file.filename().string() << " " << device << " " << dtype << " position " << pos
                                         << ": max |diff| = " << worst);
        ++compared;
    }
    CHECK(compared >= 4);
}

} // namespace

TEST_CASE("Llama logits and greedy tokens match llama2.c run.c (fp32, CPU)") {
    check_fixture(fs::path(LLMHOST_ENGINE_FIXTURES) / "llama2c_llama.json");
}

TEST_CASE("transformers fixtures match (fp32, CPU): logits within 1e-4, 32 greedy tokens") {
    const auto files = transformers_fixtures();
    if (files.empty() &&
        test::skip_case("no transformers fixtures in " + fixture_dir().string() +
                        ": run tools/make_fixtures.py where transformers is installed "
                        "(tools/gpu/run-all.sh does; docs/models.md)"))
        return;
    for (const auto &f : files) check_fixture(f);
}

TEST_CASE("transformers fixtures match on CUDA: fp32 within 1e-4 and its greedy tokens, bf16 "
          "within 2e-2") {
    if (!at::hasCUDA() && test::skip_case("no CUDA device")) return;
    const auto files = transformers_fixtures();
    if (files.empty() && test::skip_case("no transformers fixtures in " + fixture_dir().string()))
        return;
    for (const auto &f : files) {
        check_fixture(f, "cuda", "float32", 1e-4f, true);
        check_fixture(f, "cuda", "bfloat16", 2e-2f, false); // bf16 rounding moves argmax ties
    }
}
