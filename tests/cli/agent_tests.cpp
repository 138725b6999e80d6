// `llmhost chat --tools/--tool-results`, `llmhost generate --json/--json-schema` and
// `--reasoning`, against the echo plugin's deterministic rules (examples/echo-plugin-c/echo.c):
// it calls a tool named in the user's line with the JSON object after the name, answers a tool
// result with "The tool <fn> returned: <content>", reasons "Thinking about: <text>", and answers
// json_object with {"echo": <text>}. Hostile files are refused naming the file.
#include "sandbox.hpp"

using namespace cli_test;

namespace {

bool contains(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

const char *kTools = R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
  {"type": "function", "function": {"name": "get_time"}}
])";

struct AgentSandbox : Sandbox {
    AgentSandbox() {
        write_echo_config();
        tools = (dir / "tools.json").string();
        write_file(tools, kTools);
    }
    std::string file(const std::string &name, const std::string &text) {
        const auto p = (dir / name).string();
        write_file(p, text);
        return p;
    }
    std::string tools;
};

} // namespace

TEST_CASE(
    "chat --tools: the call is shown, its result is the next input line, the model continues") {
    AgentSandbox sb;
    auto r = sb.llmhost({"chat", "--tools", sb.tools},
                        "How is it? get_weather {\"city\": \"Oslo\"}\nrainy, 4 C\nthanks\n");
    INFO(r.out << "\n--- stderr\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "→ get_weather({\"city\": \"Oslo\"})\n"
                   "The tool get_weather returned: rainy, 4 C\n"
                   "thanks\n");
}

TEST_CASE("chat --tools --tool-results: scripted results, several calls in one answer") {
    AgentSandbox sb;
    const auto results =
        sb.file("results.json", R"({"get_weather": "sunny, 21 C", "get_time": {"h": 12}})");
    auto r = sb.llmhost({"chat", "--tools", sb.tools, "--tool-results", results},
                        "get_time and get_weather {\"city\": \"Rome\"}\n");
    INFO(r.out << "\n--- stderr\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "→ get_time({})\n"
          "← {\"h\":12}\n"
          "→ get_weather({\"city\": \"Rome\"})\n"
          "← sunny, 21 C\n"
          "The tool get_time returned: {\"h\":12} The tool get_weather returned: sunny, 21 C\n");
}

TEST_CASE(
    "chat --tools: the input ends before a tool result: the turn is dropped, said on stderr") {
    AgentSandbox sb;
    auto r = sb.llmhost({"chat", "--tools", sb.tools}, "get_weather\n");
    INFO(r.out << "\n--- stderr\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "→ get_weather({})\n");
    CHECK(contains(r.err, "no result for the call of get_weather: the input ended"));
}

TEST_CASE("chat --tools: hostile files are refused naming the file, before the chat starts") {
    AgentSandbox sb;
    const auto missing = (sb.dir / "nope.json").string();
    struct Case {
        std::string path, says;
    };
    for (const auto &c : std::vector<Case>{
             {missing, "cannot read it"},
             {sb.file("text.json", "get_weather please"), "is not valid JSON (at byte"},
             {sb.file("object.json", R"({"tools": []})"), "is not a JSON array of tools"},
             {sb.file("empty.json", "[]"), "holds no tool"},
             {sb.file("number.json", "[1]"), "tools[0] is not"},
             {sb.file("noname.json", R"([{"type": "function", "function": {}}])"),
              "tools[0].function.name"},
             {sb.file("params.json",
                      R"([{"type":"function","function":{"name":"f","parameters":[1]}}])"),
              "tools[0].function.parameters is not a JSON Schema object"},
             {sb.file("type.json", R"([{"type": "retrieval", "function": {"name": "f"}}])"),
              "tools[0] is not"}}) {
        CAPTURE(c.path);
        auto r = sb.llmhost({"chat", "--tools", c.path}, "hello\n");
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "--tools " + c.path + ": " + c.says));
        CHECK(r.out.empty());
    }
    auto r = sb.llmhost({"chat", "--tools", sb.tools, "--tool-results", sb.file("r.json", "[1]")},
                        "x\n");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err,
                   "--tool-results " + (sb.dir / "r.json").string() + ": is not a JSON object"));
    r = sb.llmhost({"chat", "--tool-results", sb.file("r2.json", "{}")}, "x\n");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--tool-results needs --tools"));

    // A name the host refuses: each turn fails with the host's reason, the chat goes on.
    const auto bad =
        sb.file("badname.json", R"([{"type": "function", "function": {"name": "two words"}}])");
    r = sb.llmhost({"chat", "--tools", bad}, "hello\n");
    CHECK(r.exit_code == 0);
    CHECK(contains(r.err, "function name 'two words'"));
}

TEST_CASE("chat --tools on a provider without tool calling: refused, never ignored") {
    AgentSandbox sb;
    fs::copy_file(HISTORY_PLUGIN_PATH, sb.plugins / fs::path(HISTORY_PLUGIN_PATH).filename());
    sb.write_config(
        R"({"default_provider": "hist", "providers": {"hist": {"plugin": "history"}}})");
    auto r = sb.llmhost({"chat", "--tools", sb.tools}, "get_weather\n");
    CHECK(r.out.empty());
    CHECK(contains(r.err, "provider 'hist'"));
    CHECK(contains(r.err, "does not support tools"));
}

TEST_CASE("generate --json prints the structured answer parsed, --json-schema asks for a schema") {
    AgentSandbox sb;
    auto r = sb.llmhost({"generate", "--json", "say \"hi\""});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "{\n  \"echo\": \"say \\\"hi\\\"\"\n}\n");

    // echo refuses json_schema: the request is refused, not answered with free text.
    const auto schema =
        sb.file("person.json", R"({"type": "object", "properties": {"name": {"type": "string"}}})");
    r = sb.llmhost({"generate", "--json-schema", schema, "x"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "json_schema is not supported"));
    CHECK(r.out.empty());
    // OpenAI's json_schema object is accepted as well (and refused by echo the same way).
    r = sb.llmhost({"generate", "--json-schema",
                    sb.file("named.json",
                            R"({"name": "person", "strict": true, "schema": {"type": "object"}})"),
                    "x"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "json_schema is not supported"));

    // On a provider without structured output: refused by capability, naming the field.
    fs::copy_file(HISTORY_PLUGIN_PATH, sb.plugins / fs::path(HISTORY_PLUGIN_PATH).filename());
    sb.write_config(
        R"({"default_provider": "hist", "providers": {"hist": {"plugin": "history"}}})");
    r = sb.llmhost({"generate", "--json", "x"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "does not support response_format"));
}

TEST_CASE("generate --json-schema: hostile schema files are refused naming the file") {
    AgentSandbox sb;
    const auto missing = (sb.dir / "none.json").string();
    struct Case {
        std::string path, says;
    };
    for (const auto &c : std::vector<Case>{
             {missing, "cannot read it"},
             {sb.file("bad.json", "{\"type\": "), "is not valid JSON"},
             {sb.file("array.json", "[]"), "is not a JSON object"},
             {sb.file("badname.json", R"({"name": "a b", "schema": {}})"), "json_schema.name"},
             {sb.file("badschema.json", R"({"name": "n", "schema": [1]})"),
              "json_schema.schema must be an object"}}) {
        CAPTURE(c.path);
        auto r = sb.llmhost({"generate", "--json-schema", c.path, "x"});
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "--json-schema " + c.path + ": "));
        CHECK(contains(r.err, c.says));
    }
    auto r = sb.llmhost({"generate", "--json", "--json-schema", sb.file("s.json", "{}"), "x"});
    CHECK(r.exit_code == 2); // one or the other
}

TEST_CASE("--reasoning: the reasoning on stderr as [thinking] lines, the answer alone on stdout") {
    AgentSandbox sb;
    for (const std::string mode : {"on", "low", "high"}) {
        CAPTURE(mode);
        auto r = sb.llmhost({"generate", "--reasoning", mode, "hello world"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "hello world\n");
        CHECK(contains(r.err, "[thinking] Thinking about: hello world\n"));
    }
    for (const std::string mode : {"off", "default"}) {
        auto r = sb.llmhost({"generate", "--reasoning", mode, "hello world"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "hello world\n");
        CHECK_FALSE(contains(r.err, "[thinking]"));
    }
    auto r = sb.llmhost({"generate", "--reasoning", "maximal", "x"});
    CHECK(r.exit_code == 2);
    r = sb.llmhost({"chat", "--reasoning", "on"}, "first\nsecond\n");
    CHECK(r.out == "first\nsecond\n");
    CHECK(contains(r.err, "[thinking] Thinking about: first\n"));
    CHECK(contains(r.err, "[thinking] Thinking about: second\n"));
}
