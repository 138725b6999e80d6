// The embeddable C API: open, generate with a stream callback, providers, swap, reload, close,
// thread-local last error — driven exactly as a C program would.
#include "test_support.hpp"

#include <llmhost/host.h>

using namespace test;

namespace {
struct Collected {
    std::string text;
    int calls = 0;
    int cancel_after = -1;
};
int on_piece(void *user, const char *piece, size_t len, uint32_t) {
    auto *c = static_cast<Collected *>(user);
    c->text.append(piece, len);
    return ++c->calls == c->cancel_after;
}
std::string take(char *s) {
    std::string out = s ? s : "";
    llmhost_free(s);
    return out;
}
} // namespace

TEST_CASE("C API round trip") {
    CleanEnvironment clean;
    nlohmann::json root = {{"default_provider", "e"},
                           {"providers", {{"e", {{"plugin", "echo"}, {"config", {{"prefix", "> "}}}}}}}};
    const std::string path = clean.home.write("c.json", root.dump());
    llmhost_open_params op = llmhost_open_default_params();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    op.config_path = path.c_str();
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    llmhost_host *h = llmhost_open_ext(&op);
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());
    CHECK(llmhost_last_error_code() == 0);
    CHECK(take(llmhost_default_provider(h)) == "e");

    llmhost_generate_params gp = llmhost_generate_default_params();
    gp.prompt = "hello C world";
    Collected c;
    llmh_result res;
    char *text = nullptr;
    REQUIRE(llmhost_generate(h, &gp, on_piece, &c, &res, &text) == LLMH_OK);
    CHECK(c.text == "> hello C world");
    CHECK(take(text) == "> hello C world");
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    CHECK(res.completion_tokens == 4);
    CHECK(std::string(llmhost_finish_reason_name(res.finish_reason)) == "stop");

    Collected cancelled;
    cancelled.cancel_after = 2;
    CHECK(llmhost_generate(h, &gp, on_piece, &cancelled, &res, nullptr) == LLMH_OK);
    CHECK(res.finish_reason == LLMH_FINISH_CANCELLED);
    CHECK(cancelled.text == "> hello ");

    llmh_message msgs[] = {{sizeof(llmh_message), "user", "chat works"}};
    gp.prompt = nullptr;
    gp.messages = msgs;
    gp.n_messages = 1;
    gp.params.max_tokens = 2;
    Collected chat;
    CHECK(llmhost_generate(h, &gp, on_piece, &chat, &res, nullptr) == LLMH_OK);
    CHECK(chat.text == "> chat ");
    CHECK(res.finish_reason == LLMH_FINISH_LENGTH);

    auto providers = nlohmann::json::parse(take(llmhost_providers_json(h)));
    REQUIRE(providers.size() == 1);
    CHECK(providers[0]["name"] == "e");
    CHECK(providers[0]["state"] == "ready");

    CHECK(llmhost_swap(h, "e", R"({"plugin": "echo", "config": {"prefix": "new "}})") == LLMH_OK);
    gp = llmhost_generate_default_params();
    gp.prompt = "x";
    gp.provider = "e";
    CHECK(llmhost_generate(h, &gp, nullptr, nullptr, nullptr, &text) == LLMH_OK);
    CHECK(take(text) == "new x");

    // Errors: a status code and a thread-local message + hint; success clears them.
    CHECK(llmhost_swap(h, "e", R"({"plugin": "echo", "config": {"fail_create": true}})") == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(llmhost_last_error_code() == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("fail_create") != std::string::npos);
    CHECK(std::string(llmhost_last_error_hint()).find("fail_create") != std::string::npos);
    CHECK(llmhost_swap(h, "e", "{not json") == LLMHOST_ERR_CONFIG);
    gp.provider = "missing";
    CHECK(llmhost_generate(h, &gp, nullptr, nullptr, nullptr, nullptr) == LLMHOST_ERR_NO_PROVIDER);
    CHECK(std::string(llmhost_status_name(llmhost_last_error_code())) == "no_provider");
    CHECK(llmhost_reload(h) == LLMH_OK); // back to the file's prefix
    CHECK(llmhost_last_error_code() == 0);
    gp.provider = nullptr;
    CHECK(llmhost_generate(h, &gp, nullptr, nullptr, nullptr, &text) == LLMH_OK);
    CHECK(take(text) == "> x");

    auto plugins = nlohmann::json::parse(take(llmhost_plugins_json(h)));
    CHECK(plugins.size() >= 5);
    auto models = nlohmann::json::parse(take(llmhost_models_json(h, "e")));
    CHECK(models[0]["id"] == "echo");
    CHECK(nlohmann::json::parse(take(llmhost_config_json(h)))["default_provider"] == "e");
    llmhost_close(h);

    CHECK(llmhost_open("/nonexistent/llmhost.json") == nullptr);
    CHECK(llmhost_last_error_code() == LLMHOST_ERR_CONFIG);
    CHECK(std::string(llmhost_last_error()).find("/nonexistent/llmhost.json") != std::string::npos);
    CHECK(llmhost_generate(nullptr, &gp, nullptr, nullptr, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("C API: open_from_env ignores config files, redact hides env secrets") {
    CleanEnvironment clean;
    const std::string token = fake_hf_token();
    clean.env.set("HF_TOKEN", token);
    // The bridge for HF_TOKEN comes from the huggingface plugin's manifest: the test directory's
    // stand-in carries it (the real plugin needs libtorch, which this build may lack).
    clean.env.set("LLMHOST_PLUGIN_PATH", LLMHOST_TEST_PLUGIN_DIR);
    clean.home.write("llmhost.json", "{ this file is broken and must not be read");
    llmhost_host *h = llmhost_open_from_env();
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());
    CHECK(take(llmhost_redact(h, ("t=" + token).c_str())) == "t=[redacted]");
    const std::string cfg = take(llmhost_config_json(h));
    CHECK(cfg.find(token) == std::string::npos);
    CHECK(cfg.find("hf_…(set, from HF_TOKEN)") != std::string::npos);
    llmhost_close(h);
    CHECK(llmhost_open(nullptr) == nullptr); // the default search finds ./llmhost.json: broken
    CHECK(llmhost_last_error_code() == LLMHOST_ERR_CONFIG);
}
