// Mistral [TOOL_CALLS]: the JSON-array form and the name[ARGS]{...} form.
#include "toolcall_test_util.hpp"

using namespace toolcall_test;
using tc::ArgsStreaming;
using tc::ToolFormat;

namespace {
const auto mistral = options(ToolFormat::mistral);
const auto mistral_buffered = options(ToolFormat::mistral, ArgsStreaming::buffered);
} // namespace

TEST_CASE("mistral: array form, one and several calls") {
    check_chunkings(mistral,
                    R"([TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}])",
                    "start(0,call_0,get_weather)\nargs(0,{\"city\": \"Paris\"})\nend(0)\n");
    const std::string two =
        R"([TOOL_CALLS] [{"name": "a", "arguments": {"x": [1, 2]}, "id": "abc123XYZ"},)"
        R"( {"name": "b", "arguments": {}}])";
    const std::string want = "start(0,call_0,a)\nargs(0,{\"x\": [1, 2]})\nend(0)\n"
                             "start(1,call_1,b)\nargs(1,{})\nend(1)\n";
    check_chunkings(mistral, two, want);
    check_chunkings(mistral_buffered, two, want);
}

TEST_CASE("mistral: name[ARGS] form (v13), [CALL_ID] (v11), bare name{...}") {
    const std::string out =
        R"([TOOL_CALLS]get_weather[ARGS]{"city": "Zürich"}[TOOL_CALLS]search[ARGS]{"query": "café \"best\"", "f": {"t": ["a"]}})";
    const std::string want =
        "start(0,call_0,get_weather)\nargs(0,{\"city\": \"Zürich\"})\nend(0)\n"
        "start(1,call_1,search)\nargs(1,{\"query\": \"café \\\"best\\\"\", \"f\": "
        "{\"t\": [\"a\"]}})\nend(1)\n";
    check_chunkings(mistral, out, want);
    check_chunkings(mistral_buffered, out, want);
    check_chunkings(mistral, R"([TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{"city": "Bern"})",
                    "start(0,call_0,get_weather)\nargs(0,{\"city\": \"Bern\"})\nend(0)\n");
    check_chunkings(mistral, R"([TOOL_CALLS]add{"a": 3.5, "b": 4})",
                    "start(0,call_0,add)\nargs(0,{\"a\": 3.5, \"b\": 4})\nend(0)\n");
}

TEST_CASE("mistral: text before and after calls") {
    check_chunkings(mistral, "Sure. [TOOL_CALLS]f[ARGS]{}\n\nDone [TOOL",
                    "text(Sure. )\nstart(0,call_0,f)\nargs(0,{})\nend(0)\ntext(\n\nDone [TOOL)\n");
}

TEST_CASE("mistral: malformed calls → text") {
    const std::vector<std::string> bad = {
        "[TOOL_CALLS][]",
        "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}", // unterminated array at finish
        "[TOOL_CALLS][{\"arguments\": {}}]",                 // no name
        "[TOOL_CALLS]get weather[ARGS]{}",                   // bad name
        "[TOOL_CALLS][ARGS]{}",                              // no name at all
        "[TOOL_CALLS]f[ARGS]{\"a\": }",                      // invalid JSON
        "[TOOL_CALLS]f[ARGS]",                               // no arguments at finish
        "[TOOL_CALLS]f[ARGS][1, 2]",                         // arguments not an object
    };
    for (const auto &out : bad) {
        CAPTURE(out);
        // The array's first call may already be committed; only uncommitted text is given back.
        if (out == "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}") {
            check_chunkings(mistral_buffered, out, "start(0,call_0,f)\nargs(0,{})\nend(0)\n");
            continue;
        }
        check_chunkings(mistral_buffered, out, "text(" + out + ")\n");
    }
}
