// ABI 2.1's grammar / regex through the host: GenerateRequest and the C API carry them to a
// plugin with LLMH_CAP_GRAMMAR (the recording fixture, which answers with the llmh_request it
// received); check_request refuses them on a plugin without it (naming provider and field),
// refuses two constraints at once (naming both fields) and a NUL byte (the C string would end
// early); a 2.0-sized C request is read without touching the bytes where 2.1's fields would be.
#include "test_support.hpp"

#include <llmhost/host.h>

#include <cstring>

using namespace test;
using nlohmann::json;

namespace {

std::unique_ptr<llmhost::Host> open_host() {
    auto host = llmhost::Host::open(test_options());
    host->swap("rec", {{"plugin", "recording"}});
    host->swap("lim", {{"plugin", "limited"}});
    host->swap("echo", {{"plugin", "echo"}});
    return host;
}

bool contains(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

json recorded(llmhost::Host &host, const llmhost::GenerateRequest &r) {
    auto out = host.generate("rec", r);
    json j = json::parse(out.text, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), out.text);
    return j;
}

std::string refused(llmhost::Host &host, const std::string &provider,
                    const llmhost::GenerateRequest &r, int code) {
    auto e = expect_host_error([&] { host.generate(provider, r); });
    CHECK(e.code() == code);
    return e.what();
}

const char *kGrammar = "root ::= \"yes\" | \"no\"";

} // namespace

TEST_CASE("grammar and regex reach a plugin with the grammar capability") {
    CleanEnvironment clean;
    auto host = open_host();
    // `llmhost plugins` and the C/Python listings name the capability.
    CHECK(llmhost::capability_names(LLMH_CAP_TOOLS | LLMH_CAP_GRAMMAR) == "tools,grammar");
    auto r = prompt("q");
    json none = recorded(*host, r);
    CHECK(none["grammar"] == nullptr);
    CHECK(none["regex"] == nullptr);
    r.grammar = kGrammar;
    json g = recorded(*host, r);
    CHECK(g["grammar"] == kGrammar);
    CHECK(g["regex"] == nullptr);
    r.grammar.clear();
    r.regex = "[0-9]+";
    json x = recorded(*host, r);
    CHECK(x["regex"] == "[0-9]+");
    CHECK(x["grammar"] == nullptr);
    // With what does not constrain the output: a text response_format, tools with auto.
    r.response_format.type = LLMH_RESPONSE_TEXT;
    r.tools = {{"f", "", "", false}};
    r.tool_choice = LLMH_TOOL_CHOICE_NONE;
    CHECK(recorded(*host, r)["regex"] == "[0-9]+");
}

TEST_CASE(
    "grammar/regex on a plugin without the capability: unsupported, naming provider and field") {
    CleanEnvironment clean;
    auto host = open_host();
    for (const std::string provider : {"lim", "echo"}) {
        CAPTURE(provider);
        auto r = prompt("q");
        r.grammar = kGrammar;
        auto msg = refused(*host, provider, r, LLMH_ERR_UNSUPPORTED);
        CHECK(contains(msg, "provider '" + provider + "'"));
        CHECK(contains(msg, "grammar"));
        r.grammar.clear();
        r.regex = "a+";
        msg = refused(*host, provider, r, LLMH_ERR_UNSUPPORTED);
        CHECK(contains(msg, "regex"));
    }
    CHECK(host->generate("echo", prompt("plain")).text == "plain");
}

TEST_CASE("grammar/regex with another constraint: invalid_argument naming both fields") {
    CleanEnvironment clean;
    auto host = open_host();
    auto both = prompt("q");
    both.grammar = kGrammar;
    both.regex = "a";
    auto msg = refused(*host, "rec", both, LLMH_ERR_INVALID_ARGUMENT);
    CHECK((contains(msg, "grammar") && contains(msg, "regex")));
    // Whatever the plugin: a malformed request is refused before the capability check.
    CHECK(contains(refused(*host, "echo", both, LLMH_ERR_INVALID_ARGUMENT), "both"));

    for (const std::string field : {"grammar", "regex"}) {
        CAPTURE(field);
        auto base = prompt("q");
        (field == "grammar" ? base.grammar : base.regex) = field == "grammar" ? kGrammar : "a+";
        auto r = base;
        r.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
        msg = refused(*host, "rec", r, LLMH_ERR_INVALID_ARGUMENT);
        CHECK((contains(msg, field) && contains(msg, "response_format json_object")));
        r.response_format = {LLMH_RESPONSE_JSON_SCHEMA, "s", R"({"type":"object"})", true};
        msg = refused(*host, "rec", r, LLMH_ERR_INVALID_ARGUMENT);
        CHECK((contains(msg, field) && contains(msg, "response_format json_schema")));
        r = base;
        r.tools = {{"f", "", "", false}};
        r.tool_choice = LLMH_TOOL_CHOICE_REQUIRED;
        msg = refused(*host, "rec", r, LLMH_ERR_INVALID_ARGUMENT);
        CHECK((contains(msg, field) && contains(msg, "tool_choice required")));
        r.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
        r.tool_choice_name = "f";
        msg = refused(*host, "rec", r, LLMH_ERR_INVALID_ARGUMENT);
        CHECK((contains(msg, field) && contains(msg, "tool_choice")));
        // A NUL byte would end the C string early: the plugin would see another constraint.
        r = base;
        (field == "grammar" ? r.grammar : r.regex) += std::string("\0tail", 5);
        CHECK(contains(refused(*host, "rec", r, LLMH_ERR_INVALID_ARGUMENT), "NUL"));
    }
}

TEST_CASE("C API: grammar/regex arrive, are refused like the C++ API, and a 2.0-sized request is "
          "honoured") {
    CleanEnvironment clean;
    const std::string config = clean.home.write(
        "c.json", R"({"providers": {"rec": {"plugin": "recording"}, "echo": {"plugin": "echo"}}})");
    llmhost_open_params op = llmhost_open_default_params();
    op.config_path = config.c_str();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    llmhost_host *h = llmhost_open_ext(&op);
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());

    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);
    req.prompt = "q";
    req.grammar = kGrammar;
    char *text = nullptr;
    REQUIRE_MESSAGE(llmhost_generate(h, "rec", &req, nullptr, &text) == LLMH_OK,
                    llmhost_last_error());
    json seen = json::parse(text);
    llmhost_free(text);
    CHECK(seen["grammar"] == kGrammar);
    CHECK(seen["regex"] == nullptr);

    CHECK(llmhost_generate(h, "echo", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "grammar"));
    req.regex = "a";
    CHECK(llmhost_generate(h, "rec", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(contains(llmhost_last_error(), "regex"));

    // An ABI 2.0 caller: struct_size ends before grammar; what lies there is garbage to ignore.
    req.struct_size = offsetof(llmh_request, grammar);
    std::memset(reinterpret_cast<char *>(&req) + offsetof(llmh_request, grammar), 0xA5,
                sizeof req - offsetof(llmh_request, grammar));
    text = nullptr;
    REQUIRE_MESSAGE(llmhost_generate(h, "rec", &req, nullptr, &text) == LLMH_OK,
                    llmhost_last_error());
    seen = json::parse(text);
    llmhost_free(text);
    CHECK(seen["grammar"] == nullptr);
    CHECK(seen["regex"] == nullptr);
    // ... and a provider without the capability serves it: nothing asks for a grammar.
    CHECK(llmhost_generate(h, "echo", &req, nullptr, nullptr) == LLMH_OK);
    llmhost_close(h);
}
