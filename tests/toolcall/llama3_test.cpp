// Llama 3.1 / 3.2 JSON tool calls: the whole message is the call(s).
#include "toolcall_test_util.hpp"

using namespace toolcall_test;
using tc::ArgsStreaming;
using tc::ToolFormat;

namespace {
const auto llama = options(ToolFormat::llama3_json);
const auto llama_buffered = options(ToolFormat::llama3_json, ArgsStreaming::buffered);
} // namespace

TEST_CASE("llama3: a single call with \"parameters\" (the model card's form)") {
    const std::string out =
        R"({"name": "get_weather", "parameters": {"city": "San Francisco", "unit": "c"}})";
    const std::string want = "start(0,call_0,get_weather)\n"
                             "args(0,{\"city\": \"San Francisco\", \"unit\": \"c\"})\n"
                             "end(0)\n";
    check_chunkings(llama, out, want);
    check_chunkings(llama_buffered, out, want);
}

TEST_CASE("llama3: <|python_tag|>, \"arguments\", leading whitespace") {
    check_chunkings(llama, "<|python_tag|>{\"name\": \"f\", \"arguments\": {\"x\": 1}}",
                    "start(0,call_0,f)\nargs(0,{\"x\": 1})\nend(0)\n");
    check_chunkings(llama, "\n  {\"name\": \"f\", \"parameters\": {}}",
                    "start(0,call_0,f)\nargs(0,{})\nend(0)\n");
}

TEST_CASE("llama3: several calls separated by semicolons or newlines") {
    const std::string out =
        "{\"name\": \"a\", \"parameters\": {\"n\": 1}}; {\"name\": \"b\", "
        "\"parameters\": {\"s\": \"x;y\"}}\n{\"name\": \"c\", \"parameters\": {}}";
    check_chunkings(llama, out,
                    "start(0,call_0,a)\nargs(0,{\"n\": 1})\nend(0)\n"
                    "start(1,call_1,b)\nargs(1,{\"s\": \"x;y\"})\nend(1)\n"
                    "start(2,call_2,c)\nargs(2,{})\nend(2)\n");
}

TEST_CASE("llama3: text first means the whole message is text (vLLM's streaming rule)") {
    const std::string out = "Here you go: {\"name\": \"f\", \"parameters\": {}}";
    check_chunkings(llama, out, "text(" + out + ")\n");
    check_chunkings(llama, "<|python", "text(<|python)\n");
    check_chunkings(llama, "", "");
}

TEST_CASE("llama3: nested, escaped and unicode arguments") {
    const std::string args =
        R"({"code": "if (a) { b = \"}\"; }", "list": [[1, {"x": null}]], "ü": "日本語 🎉"})";
    check_chunkings(llama, "{\"name\": \"run\", \"parameters\": " + args + "}",
                    "start(0,call_0,run)\nargs(0," + args + ")\nend(0)\n");
}

TEST_CASE("llama3: malformed JSON or not a call → text") {
    const std::vector<std::string> bad = {
        R"({"type": "object", "properties": {}})",             // JSON, but no name
        R"({"name": "f", "parameters": "x"})",                 // parameters not an object
        R"({"name": "f", "parameters": {}, "arguments": {}})", // both keys
        R"({"name": "f", "parameters": {"a": 1})",             // unterminated at finish
        R"({"name": "f", "parameters": {"a": tru}})",          // invalid literal
        "<|python_tag|>brave_search.call(query=\"x\")",        // built-in tool syntax: not JSON
    };
    for (const auto &out : bad) {
        CAPTURE(out);
        check_chunkings(llama_buffered, out, "text(" + out + ")\n");
    }
}

TEST_CASE("llama3: a good call then a broken one - text after calls") {
    check_chunkings(llama_buffered, "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", oops",
                    "start(0,call_0,a)\nargs(0,{})\nend(0)\ntext({\"name\": \"b\", oops)\n");
    check_chunkings(llama, "{\"name\": \"a\", \"parameters\": {}}\nI called it.",
                    "start(0,call_0,a)\nargs(0,{})\nend(0)\ntext(I called it.)\n");
    // Incremental: broken after Start.
    check_chunkings(llama, "{\"name\": \"a\", \"parameters\": {\"k\": [1,,",
                    "start(0,call_0,a)\nargs(0,{\"k\": [1,)\nend(0,broken)\ntext(,)\n");
}
