// chat_inputs() — what the plugin hands to the model's chat template — against the "plugin_*"
// conversations of tests/template/conversations.json. Those conversations are rendered by
// template_parity_test with our engine AND with @huggingface/jinja on the real Qwen2.5, Qwen3,
// DeepSeek-V3 and Llama-3 templates; this test proves they are exactly what the plugin makes of
// the matching OpenAI request, so the parity covers the plugin's real prompts.
#include "chat_inputs.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using ojson = nlohmann::ordered_json;

ojson conversations() {
    std::ifstream in(std::filesystem::path(LLMHOST_TEMPLATE_TEST_DIR) / "conversations.json");
    REQUIRE(in);
    std::stringstream buf;
    buf << in.rdbuf();
    return ojson::parse(buf.str())["conversations"];
}

// The OpenAI request a client sends for a conversation in the HF convention: arguments and
// parameters as JSON text (compact, as clients send them), "" content beside tool calls as null.
llmh::Request openai_request(const ojson &conv) {
    llmh::Request r;
    r.is_chat = true;
    for (const auto &m : conv["messages"]) {
        llmh::Message msg;
        msg.role = m["role"];
        msg.content = m["content"];
        if (m.contains("tool_calls") && msg.content.empty()) msg.has_content = false;
        if (m.contains("name")) msg.name = m["name"].get<std::string>();
        if (m.contains("tool_call_id")) msg.tool_call_id = m["tool_call_id"].get<std::string>();
        if (m.contains("reasoning_content"))
            msg.reasoning = m["reasoning_content"].get<std::string>();
        if (m.contains("tool_calls"))
            for (const auto &c : m["tool_calls"])
                msg.tool_calls.push_back(
                    {c["id"], c["function"]["name"], c["function"]["arguments"].dump()});
        r.messages.push_back(std::move(msg));
    }
    for (const auto &t : conv["tools"]) {
        const auto &f = t["function"];
        llmh::Tool tool;
        tool.name = f["name"];
        if (f.contains("description")) tool.description = f["description"];
        if (f.contains("parameters")) tool.parameters_json = f["parameters"].dump();
        tool.strict = f.value("strict", false);
        r.tools.push_back(std::move(tool));
    }
    return r;
}

} // namespace

TEST_CASE("chat_inputs: the plugin's template variables are the parity-tested conversations") {
    const ojson all = conversations();
    int checked = 0;
    for (const char *name :
         {"plugin_tool_round_trip", "plugin_tools_first_turn", "plugin_tool_call_with_text"}) {
        CAPTURE(name);
        REQUIRE(all.contains(name));
        const ojson &conv = all[name];
        for (const auto &extra : conv["extras"]) {
            llmh::Request r = openai_request(conv);
            if (extra.contains("enable_thinking"))
                r.reasoning =
                    extra["enable_thinking"].get<bool>() ? LLMH_REASONING_ON : LLMH_REASONING_OFF;
            const llmhost::hf::ChatInputs in = llmhost::hf::chat_inputs(r);
            // Order-sensitive equality: key order shows in the prompt (`tool | tojson`).
            CHECK(in.messages.dump() == conv["messages"].dump());
            CHECK(in.tools.dump() == conv["tools"].dump());
            CHECK(in.extra.dump() == extra.dump());
            ++checked;
        }
    }
    CHECK(checked == 7);
}

TEST_CASE("chat_inputs: hostile arguments and parameters are errors naming the place") {
    llmh::Request r;
    r.is_chat = true;
    llmh::Message a;
    a.role = "assistant";
    a.has_content = false;
    a.tool_calls.push_back({"call_1", "f", "{\"x\": 1"});
    r.messages.push_back(a);
    try {
        llmhost::hf::chat_inputs(r);
        FAIL("no error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("message 0, tool call 0 (f): arguments") !=
              std::string::npos);
    }
    for (const char *bad : {"[]", "\"s\"", "null", "12", "{\"a\":1} trailing"}) {
        CAPTURE(bad);
        r.messages[0].tool_calls[0].arguments = bad;
        CHECK_THROWS_AS(llmhost::hf::chat_inputs(r), llmh::Error);
    }
    r.messages[0].tool_calls[0].arguments = "{}";
    CHECK_NOTHROW(llmhost::hf::chat_inputs(r));
    r.tools.push_back({"g", "", "[1]", false});
    CHECK_THROWS_AS(llmhost::hf::chat_inputs(r), llmh::Error);
}
