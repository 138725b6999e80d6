// Helpers for the toolcall tests: run a parser over an output cut into pieces, render the
// events as one comparable string (adjacent deltas of one kind merged, so that every chunking
// of the same output must render the same), and check UTF-8 boundaries of each event.
#pragma once

#include "llmhost/toolcall/toolcall.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace tc = llmhost::toolcall;

namespace toolcall_test {

inline bool valid_utf8(const std::string &s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80         ? 1
                              : (c >> 5) == 6  ? 2
                              : (c >> 4) == 14 ? 3
                              : (c >> 3) == 30 ? 4
                                               : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

struct Run {
    std::vector<tc::Event> events;
    std::string rendered; // merged form
    int calls = 0;
};

inline std::string render(const std::vector<tc::Event> &events) {
    std::string out;
    std::string kind, body; // the delta being merged
    int index = -1;
    auto close = [&] {
        if (!kind.empty())
            out += kind + "(" + (index >= 0 ? std::to_string(index) + "," : "") + body + ")\n";
        kind.clear();
        body.clear();
        index = -1;
    };
    for (const auto &e : events) {
        if (auto *t = std::get_if<tc::TextDelta>(&e)) {
            if (kind != "text") close(), kind = "text";
            body += t->text;
        } else if (auto *r = std::get_if<tc::ReasoningDelta>(&e)) {
            if (kind != "think") close(), kind = "think";
            body += r->text;
        } else if (auto *a = std::get_if<tc::ToolCallArgsDelta>(&e)) {
            if (kind != "args" || index != a->index) close(), kind = "args", index = a->index;
            body += a->json_fragment;
        } else if (auto *s = std::get_if<tc::ToolCallStart>(&e)) {
            close();
            out += "start(" + std::to_string(s->index) + "," + s->id + "," + s->name + ")\n";
        } else if (auto *x = std::get_if<tc::ToolCallEnd>(&e)) {
            close();
            out += "end(" + std::to_string(x->index) + (x->complete ? "" : ",broken") + ")\n";
        }
    }
    close();
    return out;
}

inline tc::ParserOptions options(tc::ToolFormat f,
                                 tc::ArgsStreaming mode = tc::ArgsStreaming::incremental) {
    tc::ParserOptions o;
    o.tools = f;
    o.args = mode;
    o.make_id = tc::counter_ids();
    return o;
}

/// Feeds `output` in the pieces `cuts` (sizes; the rest in one piece), then finish().
inline Run run(tc::ParserOptions o, const std::string &output,
               const std::vector<std::size_t> &cuts = {}) {
    Run r;
    tc::StreamParser p(o, [&](const tc::Event &e) { r.events.push_back(e); });
    std::size_t at = 0;
    for (auto n : cuts) {
        if (at >= output.size()) break;
        p.feed(std::string_view(output).substr(at, n));
        at += n;
    }
    if (at < output.size()) p.feed(std::string_view(output).substr(at));
    p.finish();
    r.rendered = render(r.events);
    r.calls = p.tool_calls();
    return r;
}

/// `output` gives `expected` fed whole, cut in two at every byte, byte by byte, and in 40 random
/// chunkings (fixed seed);
/// fed byte by byte, no text or reasoning event cuts a UTF-8 character of a valid input.
inline void check_chunkings(const tc::ParserOptions &o, const std::string &output,
                            const std::string &expected) {
    CHECK(run(o, output).rendered == expected);
    for (std::size_t k = 1; k < output.size(); ++k) {
        const Run r = run(o, output, {k});
        CHECK_MESSAGE(r.rendered == expected, "cut at byte " << k);
        if (r.rendered != expected) break;
    }
    std::vector<std::size_t> ones(output.size(), 1);
    const Run bytes = run(o, output, ones);
    CHECK(bytes.rendered == expected);
    if (valid_utf8(output))
        for (const auto &e : bytes.events) {
            if (auto *t = std::get_if<tc::TextDelta>(&e)) CHECK(valid_utf8(t->text));
            if (auto *t = std::get_if<tc::ReasoningDelta>(&e)) CHECK(valid_utf8(t->text));
        }
    std::mt19937 rng(20261126);
    for (int round = 0; round < 40; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t at = 0; at < output.size();) {
            const std::size_t n = 1 + rng() % 9;
            cuts.push_back(n);
            at += n;
        }
        const Run r = run(o, output, cuts);
        CHECK_MESSAGE(r.rendered == expected, "random chunking round " << round);
        if (r.rendered != expected) break;
    }
}

} // namespace toolcall_test
