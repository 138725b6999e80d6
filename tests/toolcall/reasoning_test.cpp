// <think>...</think> (Qwen3, DeepSeek-R1) → reasoning events, alone and with tool calls.
#include "toolcall_test_util.hpp"

using namespace toolcall_test;
using tc::ToolFormat;

namespace {
tc::ParserOptions thinking(ToolFormat f = ToolFormat::none, bool starts_inside = false) {
    auto o = options(f);
    o.reasoning = true;
    o.starts_in_reasoning = starts_inside;
    return o;
}
} // namespace

TEST_CASE("reasoning: a think block then the answer") {
    check_chunkings(thinking(), "<think>\nThe user wants 2+2. 日本 🎉\n</think>\n\nIt is 4.",
                    "think(\nThe user wants 2+2. 日本 🎉\n)\ntext(\n\nIt is 4.)\n");
}

TEST_CASE("reasoning: Qwen3 thinks, then calls a tool") {
    const std::string out = "<think>\nI should call get_weather for <Paris>.\n</think>\n\n"
                            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                            "\"Paris\"}}\n</tool_call>";
    check_chunkings(thinking(ToolFormat::hermes), out,
                    "think(\nI should call get_weather for <Paris>.\n)\ntext(\n\n)\n"
                    "start(0,call_0,get_weather)\nargs(0,{\"city\": \"Paris\"})\nend(0)\n");
}

TEST_CASE("reasoning: a <tool_call> inside the think block is reasoning, not a call") {
    check_chunkings(thinking(ToolFormat::hermes),
                    "<think>maybe <tool_call>{\"name\":\"f\"}</tool_call>?</think>no",
                    "think(maybe <tool_call>{\"name\":\"f\"}</tool_call>?)\ntext(no)\n");
}

TEST_CASE("reasoning: the prompt opened <think> (starts_in_reasoning)") {
    check_chunkings(thinking(ToolFormat::none, true), "Let me think.\n</think>\n\nAnswer.",
                    "think(Let me think.\n)\ntext(\n\nAnswer.)\n");
    // A <think> the model repeats anyway is dropped.
    check_chunkings(thinking(ToolFormat::none, true), "<think>hm</think>ok",
                    "think(hm)\ntext(ok)\n");
}

TEST_CASE("reasoning: no think block, unclosed block, disabled") {
    // Qwen3 with enable_thinking=false: the prompt closed the block, the output is content.
    check_chunkings(thinking(), "Just the answer <think> here is text.",
                    "text(Just the answer <think> here is text.)\n");
    check_chunkings(thinking(), "<think>cut off by max_tokens", "think(cut off by max_tokens)\n");
    check_chunkings(thinking(), "<thin", "text(<thin)\n");
    check_chunkings(options(ToolFormat::none), "<think>x</think>y", "text(<think>x</think>y)\n");
}

TEST_CASE("reasoning: prompt_opens_reasoning") {
    CHECK(tc::prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
    CHECK_FALSE(tc::prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    CHECK_FALSE(tc::prompt_opens_reasoning("<|im_start|>assistant\n"));
    CHECK(
        tc::prompt_opens_reasoning("<think>\nold\n</think>\n\nhi<|im_start|>assistant\n<think>\n"));
}
