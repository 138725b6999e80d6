// ToolCallAssembler: upstream tool-call fragments in, ABI events out (dense indices in order,
// arguments only after their call's start), through a real llmh::EventSink.
#include <doctest/doctest.h>

#include "tool_call_assembler.hpp"

#include <string>
#include <vector>

using llmhost::openai::ToolCallAssembler;
using llmhost::openai::ToolCallFragment;

namespace {

// Records events as "start:<i>:<id>:<name>" / "args:<i>:<text>", checking the host's rules.
struct Recorder {
    std::vector<std::string> events;
    size_t started = 0;
    bool broken = false;
    llmh_request request{};
    uint32_t tokens = 0;

    Recorder() {
        request.struct_size = sizeof request;
        request.user = this;
        request.on_event = [](void *u, const llmh_event *e) -> int {
            auto *r = static_cast<Recorder *>(u);
            if (e->type == LLMH_EVENT_TOOL_CALL_START) {
                if (e->tool_index != r->started++) r->broken = true;
                r->events.push_back("start:" + std::to_string(e->tool_index) + ":" +
                                    e->tool_call_id + ":" + e->tool_name);
            } else if (e->type == LLMH_EVENT_TOOL_CALL_ARGS) {
                if (e->tool_index >= r->started) r->broken = true;
                r->events.push_back("args:" + std::to_string(e->tool_index) + ":" +
                                    std::string(e->text, e->text_len));
            }
            return 0;
        };
    }
};

ToolCallFragment frag(std::optional<int64_t> index, std::optional<std::string> id,
                      std::optional<std::string> name, std::string args = "") {
    return {index, std::move(id), std::move(name), std::move(args)};
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const llmh::Error &e) {
        return std::string(llmh_status_name(e.code())) + ": " + e.what();
    }
    return "no error";
}

using Events = std::vector<std::string>;

} // namespace

TEST_CASE(
    "OpenAI's order: start with id and name - then argument pieces - event numbers count up") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(0, "call_1", "get_weather", ""));
    a.add(frag(0, std::nullopt, std::nullopt, "{\"city\""));
    a.add(frag(0, std::nullopt, std::nullopt, ":\"Paris\"}"));
    CHECK(a.finish() == 1);
    CHECK(rec.events ==
          Events{"start:0:call_1:get_weather", "args:0:{\"city\"", "args:0::\"Paris\"}"});
    CHECK(rec.tokens == 3);
    CHECK_FALSE(rec.broken);
}

TEST_CASE("id and name after the index - arguments first: buffered until the call can start") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(0, std::nullopt, std::nullopt, "{\"a\":"));
    a.add(frag(0, std::nullopt, "f", "1"));
    CHECK(rec.events.empty()); // a name but no id yet: still waiting
    a.add(frag(0, "call_x", std::nullopt, "}"));
    CHECK(rec.events == Events{"start:0:call_x:f", "args:0:{\"a\":1}"});
    CHECK(a.finish() == 1);
}

TEST_CASE(
    "indices out of order or skipped map to dense order; interleaved arguments follow their call") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(5, "call_b", "second", ""));
    a.add(frag(2, "call_a", "first", "{}"));
    a.add(frag(5, std::nullopt, std::nullopt, "{\"k\":1}"));
    CHECK(a.finish() == 2);
    CHECK(rec.events ==
          Events{"start:0:call_b:second", "start:1:call_a:first", "args:1:{}", "args:0:{\"k\":1}"});
    CHECK_FALSE(rec.broken);
}

TEST_CASE(
    "a named call that never got an id starts at the end with a made-up one, in upstream order") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(1, std::nullopt, "g", "{\"b\":2}"));
    a.add(frag(0, std::nullopt, "f", "{\"a\":1}"));
    CHECK(rec.events.empty());
    CHECK(a.finish() == 2);
    CHECK(rec.events ==
          Events{"start:0:call_0:f", "args:0:{\"a\":1}", "start:1:call_1:g", "args:1:{\"b\":2}"});
}

TEST_CASE("calls without an index are matched by id, else continue the last call") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(std::nullopt, "call_a", "f", "{\"x\""));
    a.add(frag(std::nullopt, std::nullopt, std::nullopt, ":1}"));
    a.add(frag(std::nullopt, "call_b", "g", "{}"));
    a.add(frag(std::nullopt, "call_a", std::nullopt, ""));
    CHECK(a.finish() == 2);
    CHECK(rec.events == Events{"start:0:call_a:f", "args:0:{\"x\"", "args:0::1}",
                               "start:1:call_b:g", "args:1:{}"});
}

TEST_CASE("an index reused with a new id is a new call (Ollama sends every call at index 0)") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    a.add(frag(0, "call_a", "file_write", "{\"filePath\":\"hello.py\"}"));
    a.add(frag(0, "call_b", "file_write", "{\"filePath\":\"world.py\"}"));
    a.add(frag(0, std::nullopt, std::nullopt, "")); // an empty continuation goes to the latest
    CHECK(a.finish() == 2);
    CHECK(rec.events == Events{"start:0:call_a:file_write", "args:0:{\"filePath\":\"hello.py\"}",
                               "start:1:call_b:file_write", "args:1:{\"filePath\":\"world.py\"}"});
    CHECK_FALSE(rec.broken);
    // the cap counts calls, not indices: 128 calls at index 0 are the most
    Recorder rec2;
    llmh::EventSink sink2(&rec2.request);
    ToolCallAssembler b(sink2, [&] { return ++rec2.tokens; });
    for (int i = 0; i < ToolCallAssembler::kMaxCalls; ++i)
        b.add(frag(0, "id" + std::to_string(i), "f"));
    CHECK(error_of([&] { b.add(frag(0, "one_more", "f")); }).find("more than 128 tool calls") !=
          std::string::npos);
}

TEST_CASE("hostile fragments: negative or huge index - too many arguments - renamed call - no name "
          "ever") {
    Recorder rec;
    llmh::EventSink sink(&rec.request);
    auto fresh = [&] { return ToolCallAssembler(sink, [&] { return ++rec.tokens; }); };
    {
        auto a = fresh();
        std::string e = error_of([&] { a.add(frag(-1, "c", "f")); });
        CHECK(e.find("network: the endpoint sent a malformed tool call: index -1 is negative") ==
              0);
    }
    {
        auto a = fresh();
        CHECK_NOTHROW(a.add(frag(ToolCallAssembler::kMaxCalls - 1, "c", "f")));
        std::string e = error_of([&] { a.add(frag(ToolCallAssembler::kMaxCalls, "d", "f")); });
        CHECK(e.find("index 128 is beyond the 128 tool calls") != std::string::npos);
        CHECK(error_of([&] { a.add(frag(INT64_MAX, "d", "f")); }).find("beyond") !=
              std::string::npos);
    }
    {
        auto a = fresh();
        for (int i = 0; i < ToolCallAssembler::kMaxCalls; ++i)
            a.add(frag(std::nullopt, "id" + std::to_string(i), "f"));
        CHECK(error_of([&] {
                  a.add(frag(std::nullopt, "one_more", "f"));
              }).find("more than 128 tool calls") != std::string::npos);
    }
    {
        auto a = fresh();
        a.add(frag(0, "c", "f"));
        const std::string mib(1u << 20, 'x');
        for (int i = 0; i < 4; ++i) a.add(frag(0, std::nullopt, std::nullopt, mib));
        std::string e = error_of([&] { a.add(frag(0, std::nullopt, std::nullopt, "y")); });
        CHECK(e.find("arguments exceed 4 MiB") != std::string::npos);
    }
    {
        auto a = fresh(); // buffered (not yet started) arguments count against the cap too
        const std::string big(ToolCallAssembler::kMaxArgumentBytes + 1, 'x');
        CHECK(error_of([&] { a.add(frag(0, std::nullopt, std::nullopt, big)); }).find("exceed") !=
              std::string::npos);
    }
    {
        auto a = fresh();
        a.add(frag(0, "c", "f"));
        CHECK(error_of([&] {
                  a.add(frag(0, std::nullopt, "g"));
              }).find("tool call 0 changed its name") != std::string::npos);
        CHECK_NOTHROW(a.add(frag(0, "c", "f"))); // repeating the same id and name is fine
    }
    {
        auto a = fresh();
        a.add(frag(0, "c", "f"));
        a.add(frag(3, "d", std::nullopt, "{\"x\":1}"));
        std::string e = error_of([&] { a.finish(); });
        CHECK(e.find("tool call 3 never got a function name") != std::string::npos);
    }
}

TEST_CASE("a caller that cancels during a tool call stops the assembler with cancelled") {
    Recorder rec;
    rec.request.on_event = [](void *, const llmh_event *) -> int { return 1; };
    llmh::EventSink sink(&rec.request);
    ToolCallAssembler a(sink, [&] { return ++rec.tokens; });
    CHECK(error_of([&] { a.add(frag(0, "c", "f")); }).find("cancelled") == 0);
}
