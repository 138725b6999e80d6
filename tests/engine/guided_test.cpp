// Guided decoding in the engine (GenerateOptions::guide): every constrained sequence parses,
// on the serial path and in a batch, whatever the budget; forced tokens are fast-forwarded
// (fewer forward passes than tokens); logprobs switch fast-forward off so every token has its
// own; an unconstrained neighbour in the batch is untouched.
#include "test_util.hpp"

#include <llmhost/constraint/guide.hpp>
#include <llmhost/engine/engine.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <thread>

using namespace llmhost::engine;
namespace cst = llmhost::constraint;

namespace {

constexpr std::int32_t kVocab = 384, kEos = 2;

// Ids 0..255 are the bytes (but the EOS id), then JSON-ish pieces, then unused ids.
std::shared_ptr<const cst::TokenVocabulary> vocab() {
    std::vector<std::string> bytes(kVocab);
    for (int b = 0; b < 256; ++b) bytes[b] = std::string(1, static_cast<char>(b));
    bytes[kEos].clear();
    const char *pieces[] = {"{\"",         "\": ",     "\", \"", "\"}",     "}}",         "]}",
                            "temperature", "location", "unit",   "celsius", "fahrenheit", " the",
                            " of",         "\": \"",   "\": [",  "123",     "  ",         "\n",
                            "true",        "false",    "null",   ", \"",    "ab",         "xyz"};
    int id = 256;
    for (const char *p : pieces) bytes[id++] = p;
    return std::make_shared<const cst::TokenVocabulary>(std::move(bytes),
                                                        std::vector<std::int32_t>{kEos});
}

const char *kSchema = R"({"type":"object","properties":{
  "location_of_the_measurement":{"type":"string","maxLength":12},
  "temperature_in_degrees":{"type":"integer","minimum":-50,"maximum":60},
  "unit":{"enum":["celsius","fahrenheit"]}},
  "required":["location_of_the_measurement","temperature_in_degrees","unit"],
  "additionalProperties":false})";

std::shared_ptr<const cst::Constraint> constraint() {
    static auto c = cst::Constraint::create(
        cst::Grammar::from_json_schema(kSchema, {.compact = false,
                                                 .max_whitespace = 4,
                                                 .prefix = {},
                                                 .suffix = {},
                                                 .ordered_properties = true}),
        vocab());
    return c;
}

std::string text_of(const std::vector<std::int32_t> &ids) {
    auto v = vocab();
    std::string s;
    for (auto id : ids) s += v->token_bytes(id);
    return s;
}

void check_output(const GenerateResult &r) {
    const std::string text = text_of(r.tokens);
    CAPTURE(text);
    const auto j = nlohmann::json::parse(text);
    std::size_t chars = 0; // maxLength counts characters (code points), not UTF-8 bytes
    for (unsigned char c : j.at("location_of_the_measurement").get<std::string>())
        chars += (c & 0xC0) != 0x80;
    CHECK(chars <= 12);
    const int t = j.at("temperature_in_degrees").get<int>();
    CHECK(t >= -50);
    CHECK(t <= 60);
    CHECK((j.at("unit") == "celsius" || j.at("unit") == "fahrenheit"));
}

GenerateOptions guided(std::int64_t max_tokens, float temperature, std::uint64_t seed) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.eos_ids = {kEos};
    o.sampling.temperature = temperature;
    o.sampling.seed = seed;
    o.guide = std::make_shared<cst::Guide>(constraint());
    return o;
}

struct Model {
    test::TempDir dir;
    std::unique_ptr<Engine> serial, batched;
    Model() {
        auto s = test::spec("llama", 11);
        s.max_position_embeddings = 256;
        llmhost::tools::write_model_dir(s, dir.path);
        serial = Engine::load(dir.path, {.device = "cpu", .max_context = 256, .max_batch = 1});
        batched = Engine::load(dir.path, {.device = "cpu", .max_context = 256, .max_batch = 4});
    }
};

const std::vector<std::int32_t> kPrompt = {5, 17, 99, 260, 3};

} // namespace

TEST_CASE("guided decoding: every sequence parses, serial path, any budget") {
    Model m;
    const std::size_t least = cst::Guide(constraint()).min_tokens();
    REQUIRE(least > 5);
    int length = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        const auto budget = static_cast<std::int64_t>(least + (seed * 7) % 50);
        GenerateResult r =
            m.serial->generate(kPrompt, guided(budget, seed % 3 ? 1.0f : 0.0f, seed));
        CHECK(static_cast<std::int64_t>(r.tokens.size()) <= budget);
        check_output(r);
        if (r.finish == Finish::Length) ++length;
    }
    CHECK(length > 0); // budget-aware closing did some of the work
}

TEST_CASE("guided decoding: a batch fast-forwards forced tokens and leaves its neighbour alone") {
    Model m;
    const BatchStats before = m.batched->batch_stats();
    std::vector<GenerateResult> out(4);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&, i] {
            GenerateOptions o = guided(80, 1.0f, 40 + i);
            if (i == 3) o.guide.reset(); // unconstrained neighbour
            out[i] = m.batched->generate(kPrompt, o);
        });
    for (auto &t : ts) t.join();
    std::int64_t constrained_tokens = 0;
    for (int i = 0; i < 3; ++i) {
        check_output(out[i]);
        constrained_tokens += static_cast<std::int64_t>(out[i].tokens.size());
    }
    // The neighbour: exactly what it gets alone on the serial path.
    GenerateOptions plain;
    plain.max_tokens = 80;
    plain.eos_ids = {kEos};
    plain.sampling.temperature = 1.0f;
    plain.sampling.seed = 43;
    CHECK(out[3].tokens == m.serial->generate(kPrompt, plain).tokens);
    const BatchStats after = m.batched->batch_stats();
    // Each constrained request decoded fewer rows than it produced tokens: forced ones (the long
    // property names) rode along in one pass.
    const std::int64_t rows = after.decode_rows - before.decode_rows;
    const std::int64_t all_tokens =
        constrained_tokens + static_cast<std::int64_t>(out[3].tokens.size());
    CHECK(rows + 4 < all_tokens);
}

TEST_CASE("guided decoding: the serial path fast-forwards too; logprobs turn it off") {
    Model m;
    GenerateOptions o = guided(120, 0.0f, 1);
    int calls = 0;
    GenerateResult r = m.serial->generate(kPrompt, o, [&](std::int32_t) {
        ++calls;
        return StepAction::Continue;
    });
    check_output(r);
    CHECK(calls == static_cast<int>(r.tokens.size())); // forced tokens are delivered too
    // The same request with logprobs: one entry per token, so no token skipped the model.
    GenerateOptions lp = guided(120, 0.0f, 1);
    lp.logprobs = true;
    GenerateResult with = m.serial->generate(kPrompt, lp);
    check_output(with);
    CHECK(with.logprobs.size() == with.tokens.size());
    // Greedy: fast-forward only ever appends what the grammar forces, so both texts agree
    // wherever the model had a choice... and the text forced is identical bytes.
    CHECK(text_of(with.tokens).find("\"temperature_in_degrees\"") != std::string::npos);
}

TEST_CASE("Sampler::draw_masked draws exactly what sampling the -inf-masked logits draws") {
    std::mt19937 rng(3);
    std::normal_distribution<float> logit(0.0f, 3.0f);
    const std::vector<SamplingParams> params = {
        {},                                              // greedy
        {.temperature = 1.0f, .seed = 9},                // plain
        {.temperature = 0.8f, .top_k = 5, .seed = 1},    // top-k
        {.temperature = 1.2f, .top_p = 0.7f, .seed = 2}, // top-p
        {.temperature = 1.0f, .min_p = 0.1f, .repetition_penalty = 1.3f, .seed = 3}};
    for (const auto &p : params) {
        Sampler masked(p), reference(p);
        const std::vector<std::int32_t> history = {1, 5, 77, 99};
        for (int step = 0; step < 200; ++step) {
            std::vector<float> a(300);
            for (float &x : a) x = logit(rng);
            std::vector<std::uint32_t> mask(cst::mask_words(290), 0); // ids 290.. never allowed
            const int density = step % 4;                             // sparse to dense masks
            for (std::size_t id = 0; id < 290; ++id)
                if (rng() % 8 < static_cast<unsigned>(1 + 2 * density))
                    mask[id >> 5] |= 1u << (id & 31);
            mask[3] |= 1u << 7; // never empty
            std::vector<float> b = a;
            for (std::size_t id = 0; id < b.size(); ++id)
                if (id >= 290 || !cst::mask_test(mask, static_cast<std::int32_t>(id)))
                    b[id] = -std::numeric_limits<float>::infinity();
            const std::int32_t got = masked.draw_masked(a, history, mask);
            CHECK(got == reference.sample(b, history));
            CHECK(cst::mask_test(mask, got));
        }
    }
}

TEST_CASE("Sampler: plain temperature sampling (no sort) draws the softmax distribution") {
    for (bool masked : {false, true}) {
        Sampler s({.temperature = 0.5f, .seed = 21});
        const std::vector<std::uint32_t> mask = {0b1011u}; // ids 0, 1, 3 (id 2 refused)
        std::vector<int> seen(4, 0);
        const int n = 70000;
        for (int i = 0; i < n; ++i) {
            // At temperature 0.5 these logits give probabilities 1:2:(4):8 -> 1/11, 2/11, 8/11
            // with id 2 refused, or 1/15, 2/15, 4/15, 8/15 without a mask.
            std::vector<float> l = {0.0f, 0.5f * std::log(2.0f), 0.5f * std::log(4.0f),
                                    0.5f * std::log(8.0f)};
            ++seen[masked ? s.draw_masked(l, {}, mask) : s.sample(l, {})];
        }
        const double total = masked ? 11.0 : 15.0;
        const double want[4] = {1 / total, 2 / total, masked ? 0.0 : 4 / total, 8 / total};
        for (int id = 0; id < 4; ++id) {
            CAPTURE(masked);
            CAPTURE(id);
            CHECK(std::abs(seen[id] / static_cast<double>(n) - want[id]) < 0.01);
        }
    }
}
