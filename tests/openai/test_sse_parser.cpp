// The SSE decoder against the rules both OpenAI SDKs follow (openai-wire.md §3).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "sse_parser.hpp"

#include <string>
#include <vector>

using llmhost::openai::SseEvent;
using llmhost::openai::SseParser;

namespace {

// Feeds `text` split into pieces of `step` bytes (0: all at once).
std::vector<SseEvent> decode(const std::string &text, std::size_t step = 0) {
    SseParser p;
    std::vector<SseEvent> out;
    auto sink = [&](const SseEvent &e) { out.push_back(e); };
    if (step == 0) {
        p.feed(text, sink);
    } else {
        for (std::size_t i = 0; i < text.size(); i += step) p.feed(std::string_view(text).substr(i, step), sink);
    }
    return out;
}

} // namespace

TEST_CASE("events end at a blank line - data lines are joined with a newline") {
    auto ev = decode("data: {\"a\":1}\n\ndata: line1\ndata: line2\n\n");
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].data == "{\"a\":1}");
    CHECK(ev[1].data == "line1\nline2");
    CHECK(ev[1].event.empty());
}

TEST_CASE("comments are skipped and unknown fields (error: - id: - retry:) are dropped") {
    auto ev = decode(": ping\n\n: keep-alive\ndata: x\nid: 7\nretry: 100\nerror: boom\n\n");
    REQUIRE(ev.size() == 1); // the comment-only block dispatches nothing
    CHECK(ev[0].data == "x");
}

TEST_CASE("event: names the event - also for error events") {
    auto ev = decode("event: error\ndata: {\"error\":{\"message\":\"m\"}}\n\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].event == "error");
    CHECK(ev[0].data == "{\"error\":{\"message\":\"m\"}}");
}

TEST_CASE("CRLF - CR and LF all end lines - also when split between chunks") {
    const std::string text = "data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: [DONE]\r\n\r\n";
    for (std::size_t step : {0u, 1u, 2u, 3u, 5u}) {
        CAPTURE(step);
        auto ev = decode(text, step);
        REQUIRE(ev.size() == 4);
        CHECK(ev[0].data == "a");
        CHECK(ev[1].data == "b");
        CHECK(ev[2].data == "c");
        CHECK(ev[3].data == "[DONE]");
    }
}

TEST_CASE("a chunk boundary anywhere gives the same events - including inside UTF-8") {
    const std::string text = "data: {\"content\":\"h\xC3\xA9llo \xE2\x82\xAC\"}\n\n: c\n\ndata:no-space\n\n";
    auto whole = decode(text);
    REQUIRE(whole.size() == 2);
    CHECK(whole[1].data == "no-space"); // no leading space to strip
    for (std::size_t step = 1; step < text.size(); ++step) {
        auto ev = decode(text, step);
        REQUIRE(ev.size() == 2);
        CHECK(ev[0].data == whole[0].data);
        CHECK(ev[1].data == whole[1].data);
    }
}

TEST_CASE("only one leading space is stripped - a line without a colon is a field with no value") {
    auto ev = decode("data:  two spaces\n\ndata\n\n");
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].data == " two spaces");
    CHECK(ev[1].data == ""); // an empty data is an event (the SDKs then fail to parse it)
}

TEST_CASE("an unfinished event at the end is reported - not dispatched") {
    SseParser p;
    int n = 0;
    p.feed("data: {\"partial\"", [&](const SseEvent &) { ++n; });
    CHECK(n == 0);
    CHECK(p.has_partial_event());
    SseParser q;
    q.feed("data: x\n\n", [&](const SseEvent &) { ++n; });
    CHECK(n == 1);
    CHECK_FALSE(q.has_partial_event());
}
