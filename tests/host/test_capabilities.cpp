// Plugin ABI 1.1 fields are refused, never ignored, by a provider whose plugin lacks the
// capability (the echo plugin has neither LLMH_CAP_LOGPROBS nor LLMH_CAP_RESPONSE_FORMAT), and a
// provider's create failure is marked as a server-side (configuration) error.
#include "test_support.hpp"

#include <llmhost/host.h>

using namespace test;

namespace {

std::unique_ptr<llmhost::Host> echo_host(CleanEnvironment &clean,
                                         nlohmann::json config = nlohmann::json::object()) {
    nlohmann::json root = {
        {"default_provider", "talk"},
        {"providers", {{"talk", {{"plugin", "echo"}, {"config", std::move(config)}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("caps.json", root.dump());
    return llmhost::Host::open(o);
}

} // namespace

TEST_CASE(
    "logprobs on a plugin without LLMH_CAP_LOGPROBS: unsupported, naming provider and field") {
    CleanEnvironment clean;
    auto host = echo_host(clean);
    auto req = prompt("hello there");
    req.logprobs = true;
    req.top_logprobs = 2;
    bool called = false;
    auto e = expect_host_error([&] {
        host->generate("talk", req, [&](std::string_view, uint32_t) { return called = true; });
    });
    CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("provider 'talk'") != std::string::npos);
    CHECK(std::string(e.what()).find("logprobs") != std::string::npos);
    CHECK_FALSE(called); // refused before the plugin ran
    req.logprobs = false;
    req.top_logprobs = 0;
    CHECK(host->generate("talk", req).text == "hello there");
}

TEST_CASE("response_format: text is free text - json_object and json_schema need the capability") {
    CleanEnvironment clean;
    auto host = echo_host(clean);
    auto req = prompt("free text");
    req.response_format_json = R"({"type":"text"})";
    CHECK(host->generate("talk", req).text == "free text");
    for (const char *rf :
         {R"({"type":"json_object"})",
          R"({"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}})"}) {
        CAPTURE(rf);
        req.response_format_json = rf;
        auto e = expect_host_error([&] { host->generate("talk", req); });
        CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
        CHECK(std::string(e.what()).find("provider 'talk'") != std::string::npos);
        CHECK(std::string(e.what()).find("response_format") != std::string::npos);
    }
    req.response_format_json = "[1]";
    CHECK(expect_host_error([&] { host->generate("talk", req); }).code() ==
          LLMH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("top_logprobs out of range or without logprobs: invalid_argument") {
    CleanEnvironment clean;
    auto host = echo_host(clean);
    auto req = prompt("x");
    req.logprobs = true;
    req.top_logprobs = LLMH_TOP_LOGPROBS_MAX + 1;
    CHECK(expect_host_error([&] { host->generate("talk", req); }).code() ==
          LLMH_ERR_INVALID_ARGUMENT);
    req.logprobs = false;
    req.top_logprobs = 3;
    CHECK(expect_host_error([&] { host->generate("talk", req); }).code() ==
          LLMH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("a provider's create failure is a configuration error: http_status 500") {
    CleanEnvironment clean;
    auto host = echo_host(clean, {{"fail_create", true}});
    auto e = expect_host_error([&] { host->generate("talk", prompt("x")); });
    CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT); // the plugin's code is kept
    CHECK(e.http_status() == 500);                // but it is not the request's fault
}

TEST_CASE("C API: llmhost_generate_ext refuses logprobs and response_format on echo") {
    CleanEnvironment clean;
    nlohmann::json root = {{"providers", {{"e", {{"plugin", "echo"}}}}}};
    const std::string path = clean.home.write("c.json", root.dump());
    llmhost_open_params op = llmhost_open_default_params();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    op.config_path = path.c_str();
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    llmhost_host *h = llmhost_open_ext(&op);
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());
    llmhost_generate_params gp = llmhost_generate_default_params();
    gp.provider = "e";
    gp.prompt = "abc";
    llmhost_generate_options o{};
    o.struct_size = sizeof o;
    o.logprobs = 1;
    CHECK(llmhost_generate_ext(h, &gp, &o, nullptr, nullptr, nullptr, nullptr) ==
          LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(llmhost_last_error()).find("logprobs") != std::string::npos);
    o.logprobs = 0;
    o.response_format_json = R"({"type":"json_object"})";
    CHECK(llmhost_generate_ext(h, &gp, &o, nullptr, nullptr, nullptr, nullptr) ==
          LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(llmhost_last_error()).find("response_format") != std::string::npos);
    o.response_format_json = R"({"type":"text"})";
    char *text = nullptr;
    CHECK(llmhost_generate_ext(h, &gp, &o, nullptr, nullptr, nullptr, &text) == LLMH_OK);
    CHECK(std::string(text) == "abc");
    llmhost_free(text);
    CHECK(llmhost_generate_ext(h, &gp, nullptr, nullptr, nullptr, nullptr, nullptr) == LLMH_OK);
    llmhost_close(h);
}
