// The embeddable C API: open, generate with a stream callback, providers, swap, reload, close,
// thread-local last error — driven exactly as a C program would.
#include "test_support.hpp"

#include <llmhost/host.h>

using namespace test;

namespace {
// What a C caller's on_event sees, flattened: "T:" text, "R:" reasoning, "S<i>:<id>:<name>" a call
// starting, "A<i>:" a piece of its arguments.
struct Collected {
    std::string text;
    std::vector<std::string> events;
    int calls = 0;
    int cancel_after = -1;
};
int on_event(void *user, const llmh_event *e) {
    auto *c = static_cast<Collected *>(user);
    const std::string piece(e->text ? e->text : "", e->text ? e->text_len : 0);
    switch (e->type) {
    case LLMH_EVENT_TEXT:
        c->text += piece;
        c->events.push_back("T:" + piece);
        break;
    case LLMH_EVENT_REASONING: c->events.push_back("R:" + piece); break;
    case LLMH_EVENT_TOOL_CALL_START:
        c->events.push_back("S" + std::to_string(e->tool_index) + ":" + e->tool_call_id + ":" +
                            e->tool_name);
        break;
    case LLMH_EVENT_TOOL_CALL_ARGS:
        c->events.push_back("A" + std::to_string(e->tool_index) + ":" + piece);
        break;
    default: c->events.push_back("?"); break;
    }
    return ++c->calls == c->cancel_after;
}
std::string take(char *s) {
    std::string out = s ? s : "";
    llmhost_free(s);
    return out;
}
llmhost_host *open_echo(CleanEnvironment &clean, const std::string &prefix) {
    nlohmann::json root = {
        {"default_provider", "e"},
        {"providers", {{"e", {{"plugin", "echo"}, {"config", {{"prefix", prefix}}}}}}}};
    const std::string path = clean.home.write("c.json", root.dump());
    llmhost_open_params op = llmhost_open_default_params();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    op.config_path = path.c_str();
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    return llmhost_open_ext(&op);
}
} // namespace

TEST_CASE("C API round trip") {
    CleanEnvironment clean;
    llmhost_host *h = open_echo(clean, "> ");
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());
    CHECK(llmhost_last_error_code() == 0);
    CHECK(take(llmhost_default_provider(h)) == "e");

    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);
    CHECK(req.struct_size == sizeof req);
    CHECK(req.params == &params);
    CHECK(req.parallel_tool_calls == -1);
    req.prompt = "hello C world";
    Collected c;
    req.on_event = on_event;
    req.user = &c;
    llmh_result res;
    char *text = nullptr;
    REQUIRE(llmhost_generate(h, nullptr, &req, &res, &text) == LLMH_OK);
    CHECK(c.text == "> hello C world");
    CHECK(c.events == std::vector<std::string>{"T:> ", "T:hello ", "T:C ", "T:world"});
    CHECK(take(text) == "> hello C world");
    CHECK(res.struct_size == sizeof res);
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    CHECK(res.completion_tokens == 4);
    CHECK(std::string(llmhost_finish_reason_name(res.finish_reason)) == "stop");

    Collected cancelled;
    cancelled.cancel_after = 2;
    req.user = &cancelled;
    CHECK(llmhost_generate(h, "", &req, &res, nullptr) == LLMH_OK);
    CHECK(res.finish_reason == LLMH_FINISH_CANCELLED);
    CHECK(cancelled.text == "> hello ");

    llmh_message user{};
    user.struct_size = sizeof user;
    user.role = "user";
    user.content = "chat works";
    const llmh_message *msgs[] = {&user};
    req.prompt = nullptr;
    req.messages = msgs;
    req.n_messages = 1;
    params.max_tokens = 2;
    Collected chat;
    req.user = &chat;
    CHECK(llmhost_generate(h, "e", &req, &res, nullptr) == LLMH_OK);
    CHECK(chat.text == "> chat ");
    CHECK(res.finish_reason == LLMH_FINISH_LENGTH);

    auto providers = nlohmann::json::parse(take(llmhost_providers_json(h)));
    REQUIRE(providers.size() == 1);
    CHECK(providers[0]["name"] == "e");
    CHECK(providers[0]["state"] == "ready");

    CHECK(llmhost_swap(h, "e", R"({"plugin": "echo", "config": {"prefix": "new "}})") == LLMH_OK);
    llmhost_request_init(&req, &params);
    req.prompt = "x";
    CHECK(llmhost_generate(h, "e", &req, nullptr, &text) == LLMH_OK);
    CHECK(take(text) == "new x");

    // Errors: a status code and a thread-local message + hint; success clears them.
    CHECK(llmhost_swap(h, "e", R"({"plugin": "echo", "config": {"fail_create": true}})") ==
          LLMH_ERR_INVALID_ARGUMENT);
    CHECK(llmhost_last_error_code() == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("fail_create") != std::string::npos);
    CHECK(std::string(llmhost_last_error_hint()).find("fail_create") != std::string::npos);
    CHECK(llmhost_swap(h, "e", "{not json") == LLMHOST_ERR_CONFIG);
    CHECK(llmhost_generate(h, "missing", &req, nullptr, nullptr) == LLMHOST_ERR_NO_PROVIDER);
    CHECK(std::string(llmhost_status_name(llmhost_last_error_code())) == "no_provider");
    CHECK(llmhost_reload(h) == LLMH_OK); // back to the file's prefix
    CHECK(llmhost_last_error_code() == 0);
    CHECK(llmhost_generate(h, nullptr, &req, nullptr, &text) == LLMH_OK);
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
    CHECK(llmhost_generate(nullptr, nullptr, &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
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

// The echo plugin's deterministic tool rules (examples/echo-plugin-c/echo.c): it calls a given
// tool named in the last user message with the JSON object after the name, and answers a tool
// result with "The tool <fn> returned: <content>".
TEST_CASE("C API: a tool call round trip, the assistant message as JSON, reasoning") {
    CleanEnvironment clean;
    llmhost_host *h = open_echo(clean, "");
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());

    llmh_tool weather{sizeof(llmh_tool),
                      "function",
                      "get_weather",
                      "Current weather",
                      R"({"type":"object","properties":{"city":{"type":"string"}}})",
                      0};
    const llmh_tool *tools[] = {&weather};
    llmh_message user{};
    user.struct_size = sizeof user;
    user.role = "user";
    user.content = R"(Please get_weather {"city": "Paris"} now)";
    const llmh_message *turn1[] = {&user};

    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);
    req.messages = turn1;
    req.n_messages = 1;
    req.tools = tools;
    req.n_tools = 1;
    Collected c;
    req.on_event = on_event;
    req.user = &c;
    llmh_result res;
    char *json = nullptr;
    REQUIRE_MESSAGE(llmhost_generate_message(h, "e", &req, &res, &json) == LLMH_OK,
                    llmhost_last_error());
    CHECK(res.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(std::string(llmhost_finish_reason_name(res.finish_reason)) == "tool_calls");
    const auto msg = nlohmann::json::parse(take(json));
    CHECK(msg["role"] == "assistant");
    CHECK(msg["content"].is_null());
    REQUIRE(msg["tool_calls"].size() == 1);
    const auto &call = msg["tool_calls"][0];
    CHECK(call["id"] == "call_1_0");
    CHECK(call["type"] == "function");
    CHECK(call["function"]["name"] == "get_weather");
    CHECK(nlohmann::json::parse(call["function"]["arguments"].get<std::string>()) ==
          nlohmann::json{{"city", "Paris"}});
    // The events as they came: one start, the arguments in two pieces, no text.
    REQUIRE(c.events.size() == 3);
    CHECK(c.events[0] == "S0:call_1_0:get_weather");
    CHECK(c.events[1].rfind("A0:", 0) == 0);
    CHECK(c.events[2].rfind("A0:", 0) == 0);
    CHECK(c.events[1].substr(3) + c.events[2].substr(3) == R"({"city": "Paris"})");
    CHECK(c.text.empty());

    // Turn 2: the assistant's call and the tool's result go back; the answer uses the result.
    const std::string args = call["function"]["arguments"];
    llmh_tool_call tc{sizeof(llmh_tool_call), "call_1_0", "get_weather", args.c_str()};
    const llmh_tool_call *calls[] = {&tc};
    llmh_message assistant{};
    assistant.struct_size = sizeof assistant;
    assistant.role = "assistant";
    assistant.tool_calls = calls;
    assistant.n_tool_calls = 1;
    llmh_message result{};
    result.struct_size = sizeof result;
    result.role = "tool";
    result.tool_call_id = "call_1_0";
    result.content = "sunny, 21 C";
    const llmh_message *turn2[] = {&user, &assistant, &result};
    req.messages = turn2;
    req.n_messages = 3;
    Collected c2;
    req.user = &c2;
    REQUIRE_MESSAGE(llmhost_generate_message(h, "e", &req, &res, &json) == LLMH_OK,
                    llmhost_last_error());
    const auto answer = nlohmann::json::parse(take(json));
    CHECK(answer["content"] == "The tool get_weather returned: sunny, 21 C");
    CHECK_FALSE(answer.contains("tool_calls"));
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    CHECK(c2.text == "The tool get_weather returned: sunny, 21 C");

    // Reasoning: REASONING events first, counted, and kept apart from the answer.
    llmhost_request_init(&req, &params);
    user.content = "hi there";
    req.messages = turn1;
    req.n_messages = 1;
    req.reasoning = LLMH_REASONING_ON;
    Collected c3;
    req.on_event = on_event;
    req.user = &c3;
    REQUIRE_MESSAGE(llmhost_generate_message(h, "e", &req, &res, &json) == LLMH_OK,
                    llmhost_last_error());
    const auto thought = nlohmann::json::parse(take(json));
    CHECK(thought["reasoning_content"] == "Thinking about: hi there");
    CHECK(thought["content"] == "hi there");
    CHECK(res.reasoning_tokens == 4);
    CHECK(res.completion_tokens > res.reasoning_tokens);
    REQUIRE_FALSE(c3.events.empty());
    CHECK(c3.events.front().rfind("R:", 0) == 0);
    CHECK(c3.events.back().rfind("T:", 0) == 0);

    // Structured output: json_object on echo is a JSON object.
    llmhost_request_init(&req, &params);
    req.messages = turn1;
    req.n_messages = 1;
    llmh_response_format rf{};
    rf.struct_size = sizeof rf;
    rf.type = LLMH_RESPONSE_JSON_OBJECT;
    req.response_format = &rf;
    char *text = nullptr;
    REQUIRE_MESSAGE(llmhost_generate(h, "e", &req, &res, &text) == LLMH_OK, llmhost_last_error());
    CHECK(nlohmann::json::parse(take(text)) == nlohmann::json{{"echo", "hi there"}});
    llmhost_close(h);
}

TEST_CASE("C API: hostile requests are refused naming the part; struct_size is honoured") {
    CleanEnvironment clean;
    llmhost_host *h = open_echo(clean, "");
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());
    llmh_message user{};
    user.struct_size = sizeof user;
    user.role = "user";
    user.content = "one two";
    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);

    CHECK(llmhost_generate(h, "e", nullptr, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);

    const llmh_message *with_null[] = {&user, nullptr};
    req.messages = with_null;
    req.n_messages = 2;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("message 1") != std::string::npos);

    const llmh_message *one[] = {&user};
    req.messages = one;
    req.n_messages = 1;
    llmh_tool nameless{sizeof(llmh_tool), "function", nullptr, nullptr, nullptr, 0};
    const llmh_tool *bad_tools[] = {&nameless};
    req.tools = bad_tools;
    req.n_tools = 1;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    llmh_tool retrieval{sizeof(llmh_tool), "retrieval", "search", nullptr, nullptr, 0};
    bad_tools[0] = &retrieval;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(llmhost_last_error()).find("retrieval") != std::string::npos);
    llmh_tool spaced{sizeof(llmh_tool), "function", "two words", nullptr, nullptr, 0};
    bad_tools[0] = &spaced;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    llmh_tool unparsable{sizeof(llmh_tool), "function", "f", nullptr, "{not json", 0};
    bad_tools[0] = &unparsable;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("parameters") != std::string::npos);

    req.tool_choice = 42;
    bad_tools[0] = &spaced;
    spaced.name = "ok";
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) != LLMH_OK);
    req.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
    req.tool_choice_name = "missing";
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("missing") != std::string::npos);

    // Reasoning off with an effort is a contradiction, not silently "on".
    llmhost_request_init(&req, &params);
    req.prompt = "x";
    req.reasoning = LLMH_REASONING_OFF;
    req.reasoning_effort = "high";
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(llmhost_last_error()).find("reasoning is off") != std::string::npos);
    req.reasoning = LLMH_REASONING_DEFAULT; // an effort alone means on
    Collected thought;
    req.on_event = on_event;
    req.user = &thought;
    CHECK(llmhost_generate(h, "e", &req, nullptr, nullptr) == LLMH_OK);
    REQUIRE_FALSE(thought.events.empty());
    CHECK(thought.events.front() == "R:Thinking ");

    // An older caller: its request ends before logprobs, its message before name. What lies
    // past struct_size is never read, even when it is garbage.
    llmhost_request_init(&req, &params);
    req.messages = one;
    req.n_messages = 1;
    req.tools = reinterpret_cast<const llmh_tool *const *>(uintptr_t{1});
    req.n_tools = 1000;
    req.tool_choice = 77;
    req.response_format = reinterpret_cast<const llmh_response_format *>(uintptr_t{1});
    req.reasoning_effort = reinterpret_cast<const char *>(uintptr_t{1});
    req.struct_size = offsetof(llmh_request, logprobs);
    user.struct_size = offsetof(llmh_message, name);
    user.name = reinterpret_cast<const char *>(uintptr_t{1});
    user.tool_calls = reinterpret_cast<const llmh_tool_call *const *>(uintptr_t{1});
    user.n_tool_calls = 99;
    char *text = nullptr;
    REQUIRE_MESSAGE(llmhost_generate(h, "e", &req, nullptr, &text) == LLMH_OK,
                    llmhost_last_error());
    CHECK(take(text) == "one two");
    llmhost_close(h);
}
