// Hermes / Qwen2.5 / Qwen3 <tool_call> blocks: exact event sequences under every chunking.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "toolcall_test_util.hpp"

using namespace toolcall_test;
using tc::ArgsStreaming;
using tc::ToolFormat;

namespace {
const auto hermes = options(ToolFormat::hermes);
const auto hermes_buffered = options(ToolFormat::hermes, ArgsStreaming::buffered);
} // namespace

TEST_CASE("hermes: a single call, as Qwen3's template writes it") {
    const std::string out = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                            "\"Paris\"}}\n</tool_call>";
    const std::string want = "start(0,call_0,get_weather)\n"
                             "args(0,{\"city\": \"Paris\"})\n"
                             "end(0)\n";
    check_chunkings(hermes, out, want);
    check_chunkings(hermes_buffered, out, want);
    CHECK(run(hermes, out).calls == 1);
}

TEST_CASE("hermes: text before, several calls, whitespace between calls dropped") {
    const std::string out =
        "Let me check both.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n"
        "</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"x\": [1, "
        "2.5e3, -0, true, null]}}\n</tool_call>\n";
    const std::string want =
        "text(Let me check both.\n)\n"
        "start(0,call_0,a)\nargs(0,{})\nend(0)\n"
        "start(1,call_1,b)\nargs(1,{\"x\": [1, 2.5e3, -0, true, null]})\nend(1)\n";
    check_chunkings(hermes, out, want);
    check_chunkings(hermes_buffered, out, want);
}

TEST_CASE("hermes: text after a call stays text - text without a call is all text") {
    check_chunkings(
        hermes,
        "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>\n\nDone, < and <tool "
        "are fine.",
        "start(0,call_0,f)\nargs(0,{})\nend(0)\ntext(\n\nDone, < and <tool are fine.)\n");
    check_chunkings(hermes, "No tools needed: 2 < 3, <b>bold</b> <tool_cal",
                    "text(No tools needed: 2 < 3, <b>bold</b> <tool_cal)\n");
}

TEST_CASE("hermes: nested objects, escaped quotes and braces, unicode in arguments") {
    const std::string args = R"({"q": "say \"hi\" {not: a brace} \\", "n": {"deep": [{"k": "}"}]},)"
                             R"( "u": "héllo 日本 🎉 \u00e9"})";
    const std::string out =
        "<tool_call>\n{\"name\": \"search\", \"arguments\": " + args + "}\n</tool_call>";
    check_chunkings(hermes, out, "start(0,call_0,search)\nargs(0," + args + ")\nend(0)\n");
}

TEST_CASE("hermes: name after arguments, other keys skipped, escaped name") {
    check_chunkings(
        hermes,
        "<tool_call>{\"arguments\": {\"a\": 1}, \"id\": 7, \"name\": \"f\\u005fg\"}</tool_call>",
        "start(0,call_0,f_g)\nargs(0,{\"a\": 1})\nend(0)\n");
}

TEST_CASE("hermes: no arguments key gives {}") {
    check_chunkings(hermes, "<tool_call>{\"name\": \"now\"}</tool_call>",
                    "start(0,call_0,now)\nargs(0,{})\nend(0)\n");
}

TEST_CASE("hermes: malformed calls become text, never a Start") {
    const std::vector<std::string> bad = {
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}",       // unterminated at finish
        "<tool_call>\n{\"arguments\": {\"a\": 1}}\n</tool_call>",         // missing name
        "<tool_call>\n{\"name\": \"\", \"arguments\": {}}\n</tool_call>", // empty name
        "<tool_call>\n{\"name\": 3, \"arguments\": {}}\n</tool_call>",    // name not a string
        "<tool_call>\n{\"name\": \"f\", \"arguments\": [1]}\n</tool_call>",    // args not an object
        "<tool_call>\n{\"name\": \"f\", \"arguments\": \"{}\"}\n</tool_call>", // args a string
        "<tool_call>\n{name: f}\n</tool_call>",                                // not JSON
        "<tool_call>\nget_weather(city='Paris')\n</tool_call>",                // not JSON
        "<tool_call>{\"arguments\": {}, \"arguments\": {}, \"name\": \"f\"}</tool_call>", // twice
    };
    for (const auto &out : bad) {
        CAPTURE(out);
        check_chunkings(hermes_buffered, out, "text(" + out + ")\n");
    }
    // With incremental streaming, a call is only started once name and '{' are seen: these
    // (all broken before that point) are plain text too.
    for (std::size_t i = 1; i < bad.size(); ++i) {
        CAPTURE(bad[i]);
        check_chunkings(hermes, bad[i], "text(" + bad[i] + ")\n");
    }
}

TEST_CASE("hermes: a call that breaks after its Start (incremental) ends broken, rest is text") {
    const std::string out =
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1 oops}}\n</tool_call>";
    check_chunkings(
        hermes, out,
        "start(0,call_0,f)\nargs(0,{\"a\": 1 )\nend(0,broken)\ntext(oops}}\n</tool_call>)\n");
    // Buffered: the same output is plain text.
    check_chunkings(hermes_buffered, out, "text(" + out + ")\n");
    // Cut off by the token limit inside the arguments.
    check_chunkings(hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"x",
                    "start(0,call_0,f)\nargs(0,{\"a\": \"x)\nend(0,broken)\n");
    // Garbage between the object and </tool_call>.
    check_chunkings(hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {}} x</tool_call>",
                    "start(0,call_0,f)\nargs(0,{})\nend(0,broken)\ntext(} x</tool_call>)\n");
}

TEST_CASE("hermes: after a malformed call, a later call is still found") {
    check_chunkings(
        hermes_buffered,
        "<tool_call>{\"oops\"</tool_call>\n<tool_call>{\"name\": \"g\", \"arguments\": "
        "{}}</tool_call>",
        "text(<tool_call>{\"oops\"</tool_call>\n)\nstart(0,call_0,g)\nargs(0,{})\nend(0)\n");
}

TEST_CASE(
    "hermes: arguments stream before the call ends - text never waits for more than a marker") {
    std::vector<tc::Event> events;
    tc::StreamParser p(hermes, [&](const tc::Event &e) { events.push_back(e); });
    p.feed("Sure <tool");
    REQUIRE(events.size() == 1);
    CHECK(std::get<tc::TextDelta>(events[0]).text == "Sure ");
    p.feed("_call>\n{\"name\": \"f\", \"arguments\": {\"text\": \"a lo");
    REQUIRE(events.size() == 3);
    CHECK(std::get<tc::ToolCallStart>(events[1]).name == "f");
    CHECK(std::get<tc::ToolCallArgsDelta>(events[2]).json_fragment == "{\"text\": \"a lo");
    p.feed("ng text\"}}\n</tool_");
    REQUIRE(events.size() == 4);
    CHECK(std::get<tc::ToolCallArgsDelta>(events[3]).json_fragment == "ng text\"}");
    p.feed("call>");
    REQUIRE(events.size() == 5);
    CHECK(std::get<tc::ToolCallEnd>(events[4]).complete);
    p.finish();
    CHECK(events.size() == 5);
}

TEST_CASE("hermes: UTF-8 split across pieces is never cut in text or arguments") {
    const std::string out =
        "é日🎉<tool_call>{\"name\":\"f\",\"arguments\":{\"s\":\"🎉日\"}}</tool_call>";
    std::vector<tc::Event> events;
    tc::StreamParser p(hermes, [&](const tc::Event &e) { events.push_back(e); });
    for (char c : out) p.feed(std::string_view(&c, 1));
    p.finish();
    for (const auto &e : events) {
        if (auto *t = std::get_if<tc::TextDelta>(&e)) CHECK(valid_utf8(t->text));
        if (auto *a = std::get_if<tc::ToolCallArgsDelta>(&e)) CHECK(valid_utf8(a->json_fragment));
    }
    CHECK(render(events) == "text(é日🎉)\nstart(0,call_0,f)\nargs(0,{\"s\":\"🎉日\"})\nend(0)\n");
}

TEST_CASE("ids: counter and seeded random generators") {
    auto ids = tc::counter_ids("t");
    CHECK(ids() == "t0");
    CHECK(ids() == "t1");
    auto a = tc::random_ids(42), b = tc::random_ids(42);
    const std::string x = a();
    CHECK(x == b());
    CHECK(x.size() == 29);
    CHECK(x.rfind("call_", 0) == 0);
    CHECK(a() != x);
}

TEST_CASE("feed after finish is ignored - format none is all text") {
    std::vector<tc::Event> events;
    tc::StreamParser p(options(ToolFormat::none), [&](const tc::Event &e) { events.push_back(e); });
    p.feed("<tool_call>{\"name\":\"f\"}</tool_call>");
    p.finish();
    p.feed("more");
    p.finish();
    CHECK(render(events) == "text(<tool_call>{\"name\":\"f\"}</tool_call>)\n");
}
