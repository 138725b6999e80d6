// Generation loop: max_tokens, eos, early stop, cancellation, the context policy, usage.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/plugin.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace llmhost::engine;

namespace {
struct Fixture {
    test::TempDir dir;
    std::unique_ptr<Engine> e;
    Fixture() {
        llmhost::tools::write_model_dir(test::spec("llama", 11), dir.path);
        e = Engine::load(dir.path, {.device = "cpu", .max_context = 32});
    }
};
const std::vector<std::int32_t> kPrompt = {1, 20, 30, 40, 50};

llmh_status code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const llmh::Error &e) {
        return e.code();
    }
    return LLMH_OK;
}
} // namespace

TEST_CASE("generation: max_tokens, usage and greedy = argmax of the logits") {
    Fixture f;
    GenerateOptions o;
    o.max_tokens = 7;
    std::vector<std::int32_t> streamed;
    auto r = f.e->generate(kPrompt, o, [&](std::int32_t id) {
        streamed.push_back(id);
        return StepAction::Continue;
    });
    CHECK(r.tokens.size() == 7);
    CHECK(streamed == r.tokens);
    CHECK(r.finish == Finish::Length);
    CHECK(r.prompt_tokens == 5);
    CHECK(r.time_to_first_token_ms > 0);
    CHECK(r.total_ms >= r.time_to_first_token_ms);
    // The first token is the argmax of the prompt's last logits.
    auto logits = f.e->forward(kPrompt, 0, false);
    CHECK(r.tokens[0] == std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST_CASE("generation: eos ids stop without being emitted, on_token can stop") {
    Fixture f;
    GenerateOptions o;
    o.max_tokens = 10;
    auto ref = f.e->generate(kPrompt, o).tokens;
    o.eos_ids = {ref[3]};
    auto first = std::find(ref.begin(), ref.end(), ref[3]) - ref.begin();
    auto r = f.e->generate(kPrompt, o);
    CHECK(r.finish == Finish::Stop);
    CHECK(r.tokens == std::vector<std::int32_t>(ref.begin(), ref.begin() + first));
    o.eos_ids.clear();
    int n = 0;
    r = f.e->generate(kPrompt, o, [&](std::int32_t) { return ++n == 4 ? StepAction::Stop : StepAction::Continue; });
    CHECK(r.tokens.size() == 4);
    CHECK(r.finish == Finish::Stop);
}

TEST_CASE("generation: cancellation before prefill and between steps") {
    Fixture f;
    GenerateOptions o;
    o.max_tokens = 10;
    CHECK(code_of([&] { f.e->generate(kPrompt, o, {}, [] { return true; }); }) == LLMH_ERR_CANCELLED);
    int produced = 0, polls = 0;
    CHECK(code_of([&] {
              f.e->generate(kPrompt, o, [&](std::int32_t) { ++produced; return StepAction::Continue; },
                            [&] { return ++polls > 3; });
          }) == LLMH_ERR_CANCELLED);
    CHECK(produced == 3);
    // The engine is usable after a cancelled request.
    CHECK(f.e->generate(kPrompt, o).tokens.size() == 10);
}

TEST_CASE("generation: the context policy (overflow is an error, never a crash)") {
    Fixture f; // max_context 32
    GenerateOptions o;
    std::vector<std::int32_t> long_prompt(32, 7);
    CHECK(code_of([&] { f.e->generate(long_prompt, o); }) == LLMH_ERR_CONTEXT_OVERFLOW);
    long_prompt.resize(500, 7);
    CHECK(code_of([&] { f.e->generate(long_prompt, o); }) == LLMH_ERR_CONTEXT_OVERFLOW);
    o.max_tokens = 28; // 5 + 28 > 32
    try {
        f.e->generate(kPrompt, o);
        FAIL("expected an error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_CONTEXT_OVERFLOW);
        CHECK(std::string(e.what()).find("max_tokens (28)") != std::string::npos);
        CHECK(e.hint().find("27") != std::string::npos);
    }
    o.max_tokens = 27; // exactly fills the context
    CHECK(f.e->generate(kPrompt, o).tokens.size() == 27);
    o.max_tokens = 0;  // no limit: runs to the end of the context, finish "length"
    auto r = f.e->generate(kPrompt, o);
    CHECK(r.tokens.size() == 27);
    CHECK(r.finish == Finish::Length);
    CHECK(code_of([&] { f.e->generate(std::vector<std::int32_t>{}, o); }) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(code_of([&] { f.e->generate(std::vector<std::int32_t>{1, 100000}, o); }) == LLMH_ERR_INVALID_ARGUMENT);
}
