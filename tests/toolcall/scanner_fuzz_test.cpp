// The incremental JSON scanner against nlohmann::json::accept as the oracle, and the stream
// parsers on random outputs built from markers, JSON fragments, text and UTF-8: same events for
// every chunking, no lost text when there is no call, every complete call's arguments an object.
#include "json_scanner.hpp"
#include "toolcall_test_util.hpp"

#include <nlohmann/json.hpp>

#include <map>

using namespace toolcall_test;
using llmhost::toolcall::detail::JsonScanner;

namespace {
// Whether `s` is exactly one JSON value per the scanner: it must end the value on its last byte
// (or, for a number, be followed by the end: fed a trailing space to see it end).
bool scanner_accepts(const std::string &s) {
    JsonScanner scan;
    const std::string in = s + " ";
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto st = scan.feed(in[i]);
        if (st == JsonScanner::Status::error) return false;
        if (st == JsonScanner::Status::done || st == JsonScanner::Status::done_unconsumed) {
            const std::size_t end = st == JsonScanner::Status::done ? i + 1 : i;
            return in.find_first_not_of(" \t\r\n", end) == std::string::npos;
        }
    }
    return false;
}

std::string random_json_text(std::mt19937 &rng) {
    static const std::vector<std::string> parts = {"{",
                                                   "}",
                                                   "[",
                                                   "]",
                                                   ",",
                                                   ":",
                                                   "\"",
                                                   "\"a\"",
                                                   "\"k\":",
                                                   " ",
                                                   "\n",
                                                   "1",
                                                   "-",
                                                   "0",
                                                   ".5",
                                                   "e",
                                                   "E+",
                                                   "2",
                                                   "true",
                                                   "fals",
                                                   "false",
                                                   "null",
                                                   "\\",
                                                   "\\n",
                                                   "\\u00e9",
                                                   "\\u12",
                                                   "x",
                                                   "é",
                                                   "{\"a\": [1, 2]}",
                                                   "\"s\\\"q\"",
                                                   "01",
                                                   "-0.0e-1",
                                                   "\t",
                                                   "nul"};
    std::string s;
    const int n = 1 + rng() % 12;
    for (int i = 0; i < n; ++i) s += parts[rng() % parts.size()];
    return s;
}
} // namespace

TEST_CASE("json scanner: agrees with nlohmann::json::accept") {
    const std::vector<std::string> fixed = {"{}",
                                            "[]",
                                            "0",
                                            "-0",
                                            "1.5e+10",
                                            "\"\\u00e9\\n\"",
                                            "{\"a\": {\"b\": [1, {\"c\": null}]}}",
                                            "[1,]",
                                            "{\"a\" 1}",
                                            "01",
                                            "1.",
                                            ".5",
                                            "-",
                                            "tru",
                                            "\"\\x\"",
                                            "\"a\nb\"",
                                            "{\"a\":1,}",
                                            "[[]",
                                            "true false",
                                            "{\"a\":\"}\"}"};
    for (const auto &s : fixed) {
        CAPTURE(s);
        CHECK(scanner_accepts(s) == nlohmann::json::accept(s));
    }
    std::mt19937 rng(7);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        const std::string s = random_json_text(rng);
        const bool want = nlohmann::json::accept(s);
        accepted += want;
        if (scanner_accepts(s) != want) {
            CAPTURE(s);
            CHECK(scanner_accepts(s) == want);
            break;
        }
    }
    CHECK(accepted > 500); // the generator must produce valid JSON often enough to matter
}

TEST_CASE("stream parsers: random outputs, every format and mode") {
    static const std::vector<std::string> parts = {
        "<tool_call>", "</tool_call>", "\n", " ", "[TOOL_CALLS]", "[ARGS]", "<|python_tag|>", ";",
        "<think>", "</think>",
        "{\"name\": \"f\", \"arguments\": ", "{\"name\": \"g\", \"parameters\": ", "{\"a\": 1}",
        "{\"s\": \"}{\\\"\"}", "}", "{", "]", "[", ",", "get", "text ", "é", "🎉", "<", "<tool",
        "\"", "x",
        // Whole calls of each format, so that random outputs hold valid calls often.
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [1, \"]\"]}}\n</tool_call>",
        "<tool_call>{\"name\": \"h\"}</tool_call>", "[TOOL_CALLS]f[ARGS]{\"a\": {}}",
        "[TOOL_CALLS][{\"name\": \"m\", \"arguments\": {\"b\": null}}]",
        "{\"name\": \"g\", \"parameters\": {\"c\": \"{\"}}",
        "<|python_tag|>{\"name\": \"p\", \"arguments\": {}}"};
    std::mt19937 rng(11);
    int total_calls = 0, broken = 0;
    for (int round = 0; round < 1000; ++round) {
        std::string out;
        const int n = 1 + rng() % 10;
        for (int i = 0; i < n; ++i) out += parts[rng() % parts.size()];
        for (auto f :
             {tc::ToolFormat::hermes, tc::ToolFormat::llama3_json, tc::ToolFormat::mistral}) {
            for (auto mode : {tc::ArgsStreaming::incremental, tc::ArgsStreaming::buffered}) {
                auto o = options(f, mode);
                o.reasoning = round % 2 == 1;
                CAPTURE(out);
                CAPTURE(tc::to_string(f));
                const Run whole = run(o, out);
                std::vector<std::size_t> ones(out.size(), 1);
                const Run bytes = run(o, out, ones);
                CHECK(bytes.rendered == whole.rendered);
                std::vector<std::size_t> cuts;
                for (std::size_t at = 0; at < out.size(); at += cuts.emplace_back(1 + rng() % 5)) {}
                CHECK(run(o, out, cuts).rendered == whole.rendered);
                // Per call: arguments of a complete call are one JSON object.
                std::map<int, std::string> args;
                std::string text;
                int starts = 0;
                for (const auto &e : whole.events) {
                    if (auto *a = std::get_if<tc::ToolCallArgsDelta>(&e))
                        args[a->index] += a->json_fragment;
                    if (auto *t = std::get_if<tc::TextDelta>(&e)) text += t->text;
                    if (std::get_if<tc::ToolCallStart>(&e)) ++starts;
                    if (auto *x = std::get_if<tc::ToolCallEnd>(&e)) {
                        if (x->complete) {
                            CHECK(nlohmann::json::accept(args[x->index]));
                            CHECK(nlohmann::json::parse(args[x->index]).is_object());
                        } else {
                            CHECK(mode == tc::ArgsStreaming::incremental);
                            ++broken;
                        }
                    }
                }
                CHECK(starts == whole.calls);
                total_calls += starts;
                // No call and no reasoning: the text is the output, byte for byte.
                if (starts == 0 && !o.reasoning) CHECK(text == out);
            }
        }
    }
    MESSAGE(total_calls << " calls, " << broken << " broken after Start");
    CHECK(total_calls > 50); // the outputs must contain calls often enough to matter
}
