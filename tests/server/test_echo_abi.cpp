// The echo plugin's agent rules and hostile-input handling at the ABI level (dlopen, no host):
// what no host would send (NULL parts, structs of an older, smaller size) and the exact event
// sequence (fragments split on UTF-8 boundaries, several trailing tool results, effort alone).
#include <doctest/doctest.h>

#include <llmhost/plugin.h>

#include <dlfcn.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Ev {
    int type;
    std::string text;
    uint32_t index = 0;
    std::string id, name;
};

struct Echo {
    Echo() {
        lib = dlopen(LLMHOST_TEST_PLUGIN_DIR "/libllmhost_echo.so", RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(lib != nullptr, dlerror());
        auto entry = reinterpret_cast<llmh_plugin_entry_fn>(dlsym(lib, LLMH_PLUGIN_ENTRY_NAME));
        const bool has_entry = entry != nullptr;
        REQUIRE(has_entry);
        llmh_error err;
        llmh_error_init(&err);
        REQUIRE(entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, nullptr, &plugin, &err) == LLMH_OK);
        REQUIRE(plugin->create("{}", nullptr, &provider, &err) == LLMH_OK);
    }
    ~Echo() {
        plugin->destroy(provider);
        dlclose(lib);
    }
    // Runs `req` (on_event/user filled here); returns the status, events in `events`.
    llmh_status run(llmh_request &req) {
        events.clear();
        req.on_event = [](void *user, const llmh_event *e) {
            auto *self = static_cast<Echo *>(user);
            Ev ev{e->type, std::string(e->text ? e->text : "", e->text ? e->text_len : 0),
                  e->tool_index, e->tool_call_id ? e->tool_call_id : "",
                  e->tool_name ? e->tool_name : ""};
            self->events.push_back(ev);
            return 0;
        };
        req.user = this;
        std::memset(&result, 0, sizeof result);
        result.struct_size = sizeof result;
        llmh_error_init(&error);
        return plugin->generate(provider, &req, &result, &error);
    }
    std::string text(int type) const {
        std::string s;
        for (const auto &e : events)
            if (e.type == type) s += e.text;
        return s;
    }
    void *lib = nullptr;
    const llmh_plugin *plugin = nullptr;
    llmh_provider *provider = nullptr;
    std::vector<Ev> events;
    llmh_result result;
    llmh_error error;
};

llmh_message message(const char *role, const char *content) {
    llmh_message m{};
    m.struct_size = sizeof m;
    m.role = role;
    m.content = content;
    return m;
}
llmh_tool tool(const char *name) {
    llmh_tool t{};
    t.struct_size = sizeof t;
    t.type = "function";
    t.name = name;
    return t;
}
llmh_request request(const llmh_params &p, const llmh_message *const *msgs, size_t n) {
    llmh_request r{};
    r.struct_size = sizeof r;
    r.params = &p;
    r.messages = msgs;
    r.n_messages = n;
    r.parallel_tool_calls = -1;
    return r;
}

} // namespace

TEST_CASE("echo: NULL parts are invalid_argument naming the index - never a crash") {
    Echo echo;
    llmh_params p = llmh_default_params();
    llmh_message u = message("user", "hi");
    const llmh_message *msgs[2] = {&u, nullptr};
    llmh_request r = request(p, msgs, 2);
    CHECK(echo.run(r) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(echo.error.message).find("messages[1]") != std::string::npos);
    r.n_messages = 1;
    llmh_tool good = tool("f"), nameless = tool(nullptr);
    const llmh_tool *tools[3] = {&good, &nameless, nullptr};
    r.tools = tools;
    r.n_tools = 2;
    CHECK(echo.run(r) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(echo.error.message).find("tools[1]") != std::string::npos);
    tools[1] = nullptr;
    CHECK(echo.run(r) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(echo.error.message).find("tools[1]") != std::string::npos);
    r.n_tools = 0;
    llmh_message a = message("assistant", nullptr);
    const llmh_tool_call *calls[1] = {nullptr};
    a.tool_calls = calls;
    a.n_tool_calls = 1;
    const llmh_message *with_call[2] = {&u, &a};
    llmh_request rc = request(p, with_call, 2);
    CHECK(echo.run(rc) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(echo.error.message).find("messages[1].tool_calls[0]") != std::string::npos);
    CHECK(echo.events.empty());
}

TEST_CASE("echo: a request and a message of an older, smaller struct_size still work") {
    Echo echo;
    llmh_params p = llmh_default_params();
    llmh_message old = message("user", "old words");
    old.struct_size = offsetof(llmh_message, name); // role and content only
    const llmh_message *msgs[1] = {&old};
    llmh_request r = request(p, msgs, 1);
    r.struct_size = offsetof(llmh_request, logprobs); // before every ABI 2 agent field
    llmh_tool t = tool("old");
    const llmh_tool *tools[1] = {&t};
    r.tools = tools; // beyond struct_size: must not be read
    r.n_tools = 1;
    r.reasoning = LLMH_REASONING_ON;
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_TEXT) == "old words");
    CHECK(echo.text(LLMH_EVENT_REASONING).empty());
    CHECK(echo.result.finish_reason == LLMH_FINISH_STOP);
}

TEST_CASE(
    "echo: argument fragments split at the middle on a UTF-8 boundary - ids - one token each") {
    Echo echo;
    llmh_params p = llmh_default_params();
    // {"k":"ééé"}: 14 bytes; the middle (7) is the second byte of the first é (bytes 6-7), so
    // the split moves back to 6.
    llmh_message u = message("user", "lookup {\"k\":\"\xC3\xA9\xC3\xA9\xC3\xA9\"} and more");
    llmh_message earlier = message("assistant", "x");
    const llmh_message *msgs[3] = {&earlier, &earlier, &u};
    llmh_tool t = tool("lookup");
    const llmh_tool *tools[1] = {&t};
    llmh_request r = request(p, msgs, 3);
    r.tools = tools;
    r.n_tools = 1;
    REQUIRE(echo.run(r) == LLMH_OK);
    REQUIRE(echo.events.size() == 3);
    CHECK(echo.events[0].type == LLMH_EVENT_TOOL_CALL_START);
    CHECK(echo.events[0].id == "call_3_0"); // call_<n_messages>_<i>
    CHECK(echo.events[0].name == "lookup");
    CHECK(echo.events[1].text == "{\"k\":\"");
    CHECK(echo.events[2].text == "\xC3\xA9\xC3\xA9\xC3\xA9\"}");
    CHECK(echo.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(echo.result.completion_tokens == 2);
    // A name inside another word is no call; a name inside the arguments is no second call.
    llmh_message v = message("user", "mylookup lookup {\"q\": \"lookup\"}");
    msgs[2] = &v;
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_TOOL_CALL_ARGS) == "{\"q\": \"lookup\"}");
}

TEST_CASE(
    "echo: several trailing tool results - one sentence each, the unknown id without a name") {
    Echo echo;
    llmh_params p = llmh_default_params();
    llmh_tool_call c0{sizeof(llmh_tool_call), "call_1_0", "alpha", "{}"};
    llmh_tool_call c1{sizeof(llmh_tool_call), "call_1_1", "beta", "{}"};
    const llmh_tool_call *calls[2] = {&c0, &c1};
    llmh_message u = message("user", "alpha beta");
    llmh_message a = message("assistant", nullptr);
    a.tool_calls = calls;
    a.n_tool_calls = 2;
    llmh_message t0 = message("tool", "one"), t1 = message("tool", "two"),
                 t2 = message("tool", "three");
    t0.tool_call_id = "call_1_1";
    t1.tool_call_id = "call_1_0";
    t2.tool_call_id = "nope";
    const llmh_message *msgs[5] = {&u, &a, &t0, &t1, &t2};
    llmh_request r = request(p, msgs, 5);
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_TEXT) ==
          "The tool beta returned: one The tool alpha returned: two The tool returned: three");
    CHECK(echo.result.finish_reason == LLMH_FINISH_STOP);
}

TEST_CASE("echo: reasoning_effort alone turns reasoning on - max_tokens counts reasoning") {
    Echo echo;
    llmh_params p = llmh_default_params();
    llmh_message u = message("user", "a b c");
    const llmh_message *msgs[1] = {&u};
    llmh_request r = request(p, msgs, 1);
    r.reasoning_effort = "low";
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_REASONING) == "Thinking about: a b c");
    CHECK(echo.text(LLMH_EVENT_TEXT) == "a b c");
    CHECK(echo.result.reasoning_tokens == 5);
    CHECK(echo.result.completion_tokens == 8);
    r.reasoning_effort = nullptr;
    r.reasoning = LLMH_REASONING_OFF;
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_REASONING).empty());
    r.reasoning = LLMH_REASONING_ON;
    p.max_tokens = 3;
    REQUIRE(echo.run(r) == LLMH_OK);
    CHECK(echo.text(LLMH_EVENT_REASONING) == "Thinking about: a ");
    CHECK(echo.text(LLMH_EVENT_TEXT).empty());
    CHECK(echo.result.finish_reason == LLMH_FINISH_LENGTH);
}
