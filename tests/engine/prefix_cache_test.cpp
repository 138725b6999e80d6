// Prefix cache (plugins/huggingface/engine/src/prefix_cache.hpp): a request whose prompt starts
// with what a KV-cache row already holds prefills only the rest, and gets exactly the tokens an
// uncached engine gives (greedy, fp32), on the serial path and under continuous batching;
// cached_tokens says how many prompt positions were reused. Slot choice (in place, copy from
// another row, LRU eviction) is tested on PrefixCache itself, without a model.
#include "test_util.hpp"

#include "../../plugins/huggingface/engine/src/prefix_cache.hpp"

#include <llmhost/constraint/guide.hpp>
#include <llmhost/engine/engine.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <thread>

using namespace llmhost::engine;
namespace cst = llmhost::constraint;

namespace {

using Ids = std::vector<std::int32_t>;

Ids cat(std::initializer_list<Ids> parts) {
    Ids out;
    for (const Ids &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// n ids from a fixed pseudo-random sequence (never the eos id 2: tests give no eos anyway).
Ids ids(std::uint32_t seed, std::size_t n, std::int32_t vocab = 384) {
    Ids out;
    std::uint32_t x = seed * 2654435761u + 12345u;
    while (out.size() < n) {
        x = x * 1664525u + 1013904223u;
        const auto id = static_cast<std::int32_t>((x >> 8) % static_cast<std::uint32_t>(vocab));
        if (id != 2) out.push_back(id);
    }
    return out;
}

// What a finished greedy request leaves in its row: its prompt and every generated id but the
// last (which was sampled, never run).
Ids fed(const Ids &prompt, const GenerateResult &r) {
    Ids out = prompt;
    out.insert(out.end(), r.tokens.begin(), r.tokens.end() - (r.tokens.empty() ? 0 : 1));
    return out;
}

std::int64_t expected_reuse(const Ids &row, const Ids &prompt) {
    return std::min(common_prefix(row, prompt), static_cast<std::int64_t>(prompt.size()) - 1);
}

GenerateOptions greedy(std::int64_t max_tokens) {
    GenerateOptions o;
    o.max_tokens = max_tokens; // no eos ids: exactly max_tokens tokens
    return o;
}

struct Model {
    test::TempDir dir;
    explicit Model(const std::string &arch, std::optional<std::int64_t> window = {}) {
        auto s = test::spec(arch, 21);
        s.max_position_embeddings = 512;
        if (window) s.sliding_window = window;
        llmhost::tools::write_model_dir(s, dir.path);
    }
    std::unique_ptr<Engine> load(std::int64_t max_batch, bool prefix_cache = true) const {
        return Engine::load(dir.path, {.device = "cpu",
                                       .dtype = "float32",
                                       .max_context = 256,
                                       .max_batch = max_batch,
                                       .prefix_cache = prefix_cache});
    }
};

// The same prompt on an engine that caches nothing.
GenerateResult uncached(const Model &m, const Ids &prompt, const GenerateOptions &o) {
    static std::map<std::string, std::unique_ptr<Engine>> engines; // main thread only
    auto &e = engines[m.dir.path.string()];
    if (!e) e = m.load(1, false);
    GenerateResult r = e->generate(prompt, o);
    REQUIRE(r.cached_tokens == 0);
    return r;
}

// A conversation of turns on one engine: each turn's prompt is checked against the uncached
// engine (tokens) and the expected reuse (the row the previous request left).
void conversation_cases(const Model &m, Engine &e) {
    const Ids system = ids(1, 40), user_a = ids(2, 6), user_a2 = ids(3, 5), user_b = ids(4, 6);
    REQUIRE(user_a[0] != user_b[0]);
    Ids row; // what the previous request left in its row
    auto turn = [&](const Ids &prompt, std::int64_t max_tokens, std::int64_t expect) {
        CAPTURE(prompt.size());
        const GenerateResult got = e.generate(prompt, greedy(max_tokens));
        const GenerateResult want = uncached(m, prompt, greedy(max_tokens));
        CHECK(got.tokens == want.tokens);
        CHECK(got.cached_tokens == expect);
        CHECK(got.prompt_tokens == static_cast<std::int64_t>(prompt.size()));
        row = fed(prompt, got);
        return got;
    };
    // First turn: nothing cached.
    const Ids a1 = cat({system, user_a});
    const GenerateResult r1 = turn(a1, 8, 0);
    // The next turn of the same history: everything that ran is reused.
    const Ids a2 = cat({a1, r1.tokens, user_a2});
    turn(a2, 8, static_cast<std::int64_t>(a1.size() + 7));
    // Another user with the same system prompt: the system prompt is reused.
    const Ids b1 = cat({system, user_b});
    turn(b1, 8, 40);
    // A strict prefix of the cached prompt: all but its last token.
    const Ids b_prefix(b1.begin(), b1.begin() + 30);
    turn(b_prefix, 6, 29);
    // The identical prompt again: all but its last token.
    turn(b_prefix, 6, 29);
    // Diverges at the first token: nothing reused.
    Ids x = ids(5, 20);
    x[0] = (b_prefix[0] + 1) % 384 == 2 ? 3 : (b_prefix[0] + 1) % 384;
    const GenerateResult rx = turn(x, 30, 0);
    // The row was generated past the new prompt: the new prompt is x + 5 of the generated ids,
    // shorter than what the row holds (x + 29 ids); positions beyond it are stale and unread.
    const Ids x_short = cat({x, Ids(rx.tokens.begin(), rx.tokens.begin() + 5)});
    const Ids row_x = row;
    turn(x_short, 10, expected_reuse(row_x, x_short));
    CHECK(expected_reuse(row_x, x_short) == 24);
    // ... and one that leaves the generated path after 10 ids.
    Ids x_fork = cat({x, Ids(rx.tokens.begin(), rx.tokens.begin() + 10), ids(6, 3)});
    if (x_fork[30] == rx.tokens[10])
        x_fork[30] = (x_fork[30] + 1) % 384 == 2 ? 5 : (x_fork[30] + 1) % 384;
    const Ids row_short = row;
    turn(x_fork, 10, expected_reuse(row_short, x_fork));
    CHECK(expected_reuse(row_short, x_fork) == 30);
}

} // namespace

// ---- slot choice, without a model --------------------------------------------------------------

TEST_CASE("prefix cache: slot choice - in place, copy from another row, LRU eviction") {
    PrefixCache c(2, true);
    const Ids a = {10, 11, 12, 13}, b = {20, 21, 22};
    auto p = c.acquire(a);
    REQUIRE(p);
    CHECK(p->slot == 0); // never-used slots first, the lowest
    CHECK(p->reuse == 0);
    auto q = c.acquire(b);
    REQUIRE(q);
    CHECK(q->slot == 1);
    CHECK_FALSE(c.acquire(a)); // both busy
    c.release(0, Ids{10, 11, 12, 13, 14});
    c.release(1, Ids{20, 21, 22, 23});
    // The next turn of a: in place, all of the row reused.
    p = c.acquire(Ids{10, 11, 12, 13, 14, 15, 16});
    CHECK(p->slot == 0);
    CHECK(p->source == 0);
    CHECK(p->reuse == 5);
    CHECK(c.length(0) == 5); // cut to what is reused until released
    c.release(0, Ids{10, 11, 12, 13, 14, 15, 16, 17});
    // A fork of a (does not cover row 0): copied into the LRU row (b's), a is kept.
    p = c.acquire(Ids{10, 11, 99});
    CHECK(p->slot == 1);
    CHECK(p->source == 0);
    CHECK(p->reuse == 2);
    CHECK(c.length(0) == 8);
    // While busy, a row's held prompt can be copied from.
    c.hold(1, Ids{10, 11, 99});
    c.release(0, Ids{10, 11, 12});
    p = c.acquire(Ids{10, 11, 99, 7});
    CHECK(p->slot == 0);   // the only free row
    CHECK(p->source == 1); // the longest match is the busy one
    CHECK(p->reuse == 3);
    // The prompt must keep one token to run.
    c.release(0, Ids{1, 2, 3});
    c.release(1, Ids{});
    p = c.acquire(Ids{1, 2, 3});
    CHECK(p->reuse == 2);
    const PrefixCacheStats st = c.stats();
    CHECK(st.lookups == 6);
    CHECK(st.hits == 4);
    CHECK(st.copied == 2);
    CHECK(st.reused_tokens == 5 + 2 + 3 + 2);
}

TEST_CASE("prefix cache: disabled takes the lowest free slot and reuses nothing") {
    PrefixCache c(3, false);
    const Ids a = {1, 2, 3};
    CHECK(c.acquire(a)->slot == 0);
    CHECK(c.acquire(a)->slot == 1);
    c.release(0, a);
    auto p = c.acquire(a);
    CHECK(p->slot == 0);
    CHECK(p->reuse == 0);
    CHECK(c.length(0) == 0);
    CHECK(c.stats().lookups == 0);
    CHECK_THROWS(c.acquire(Ids{}));
}

// ---- the engine ---------------------------------------------------------------------------------

TEST_CASE("prefix cache: serial path gives the uncached tokens, reuse counted") {
    for (std::string arch : {"llama", "qwen3", "gpt2"}) {
        CAPTURE(arch);
        Model m(arch);
        auto e = m.load(1);
        conversation_cases(m, *e);
        const PrefixCacheStats st = e->prefix_cache_stats();
        CHECK(st.lookups == 8);
        CHECK(st.hits == 6);
        CHECK(st.copied == 0); // one row: always in place
    }
}

TEST_CASE("prefix cache: batched engine, one request at a time") {
    for (std::string arch : {"llama", "gpt2"}) {
        CAPTURE(arch);
        Model m(arch);
        auto e = m.load(4);
        conversation_cases(m, *e);
        CHECK(e->prefix_cache_stats().hits == 6);
        CHECK(e->prefix_cache_stats().copied > 0); // forks are copied, the source row is kept
    }
}

TEST_CASE("prefix cache: concurrent conversations sharing a system prompt (max_batch 4)") {
    for (auto [arch, window] : {std::pair<std::string, std::optional<std::int64_t>>{"llama", {}},
                                {"qwen3", {}},
                                {"gpt2", {}},
                                {"mistral", 24}}) { // sliding window: the free rows' dummy path
        CAPTURE(arch);
        Model m(arch, window);
        auto e = m.load(4);
        const Ids system = ids(7, 40);
        std::vector<Ids> prompts;
        for (std::uint32_t u = 0; u < 4; ++u) {
            Ids p = cat({system, ids(100 + u, 5 + u)});
            p[40] = static_cast<std::int32_t>(300 + u); // users differ at their first token
            prompts.push_back(p);
        }
        auto run_all = [&](const std::vector<Ids> &ps, const std::vector<std::int64_t> &max) {
            std::vector<GenerateResult> out(ps.size());
            std::atomic<int> ready{0};
            std::vector<std::thread> threads;
            for (std::size_t i = 0; i < ps.size(); ++i)
                threads.emplace_back([&, i] {
                    ++ready;
                    while (ready.load() < static_cast<int>(ps.size())) std::this_thread::yield();
                    out[i] = e->generate(ps[i], greedy(max[i]));
                });
            for (auto &t : threads) t.join();
            return out;
        };
        const std::vector<std::int64_t> max1 = {12, 9, 15, 6}, max2 = {10, 14, 7, 11};
        const auto first = run_all(prompts, max1);
        std::vector<std::int64_t> cached;
        for (std::size_t i = 0; i < 4; ++i) {
            CAPTURE(i);
            CHECK(first[i].tokens == uncached(m, prompts[i], greedy(max1[i])).tokens);
            cached.push_back(first[i].cached_tokens);
        }
        // The first admitted computes the system prompt; the others copy it from its row.
        std::sort(cached.begin(), cached.end());
        CHECK(cached == std::vector<std::int64_t>{0, 40, 40, 40});
        // Every conversation's next turn, all at once: each continues its own row in place.
        std::vector<Ids> next;
        for (std::size_t i = 0; i < 4; ++i)
            next.push_back(cat({prompts[i], first[i].tokens, ids(200 + i, 4)}));
        const auto second = run_all(next, max2);
        for (std::size_t i = 0; i < 4; ++i) {
            CAPTURE(i);
            CHECK(second[i].tokens == uncached(m, next[i], greedy(max2[i])).tokens);
            CHECK(second[i].cached_tokens ==
                  static_cast<std::int64_t>(prompts[i].size() + first[i].tokens.size() - 1));
        }
        CHECK(e->batch_stats().max_active_rows >= 2);
        CHECK(e->prefix_cache_stats().hits == 7);
    }
}

TEST_CASE("prefix cache: LRU - with 2 slots and 3 conversations the oldest is evicted") {
    Model m("llama");
    auto e = m.load(2);
    std::vector<Ids> conv = {ids(31, 20), ids(32, 20), ids(33, 20)};
    conv[0][0] = 10, conv[1][0] = 11, conv[2][0] = 12; // nothing shared
    auto turn = [&](std::size_t c, std::int64_t expect) {
        CAPTURE(c);
        const GenerateResult r = e->generate(conv[c], greedy(5));
        CHECK(r.tokens == uncached(m, conv[c], greedy(5)).tokens);
        CHECK(r.cached_tokens == expect);
        const std::int64_t held = static_cast<std::int64_t>(conv[c].size() + 4);
        conv[c] = cat({conv[c], r.tokens, ids(40 + static_cast<std::uint32_t>(c), 3)});
        return held;
    };
    turn(0, 0);
    const std::int64_t b = turn(1, 0);
    const std::int64_t c = turn(2, 0); // evicts conversation 0 (least recently used)
    turn(1, b);                        // hits
    turn(2, c);                        // hits
    turn(0, 0);                        // was evicted; now evicts conversation 1
    const PrefixCacheStats st = e->prefix_cache_stats();
    CHECK(st.lookups == 6);
    CHECK(st.hits == 2);
}

TEST_CASE("prefix cache: off reuses nothing; forward() invalidates row 0") {
    Model m("llama");
    const Ids p = ids(50, 30);
    auto off = m.load(1, false);
    off->generate(p, greedy(4));
    CHECK(off->generate(p, greedy(4)).cached_tokens == 0);
    CHECK(off->prefix_cache_stats().lookups == 0);

    auto e = m.load(1);
    const GenerateResult want = e->generate(p, greedy(4));
    CHECK(e->generate(p, greedy(4)).cached_tokens == 29);
    const Ids junk = ids(51, 10);
    e->forward(junk, 0, false); // overwrites row 0 behind the cache's back
    const GenerateResult again = e->generate(p, greedy(4));
    CHECK(again.cached_tokens == 0);
    CHECK(again.tokens == want.tokens);
}

TEST_CASE("prefix cache: logprobs and guided decoding with a reused prefix") {
    Model m("llama");
    auto e = m.load(4);
    const Ids p1 = ids(60, 40);
    const GenerateResult r1 = e->generate(p1, greedy(6));
    const Ids p2 = cat({p1, r1.tokens, ids(61, 4)});

    GenerateOptions lo = greedy(8);
    lo.logprobs = true;
    lo.top_logprobs = 3;
    const GenerateResult got = e->generate(p2, lo);
    const GenerateResult want = uncached(m, p2, lo);
    CHECK(got.cached_tokens == static_cast<std::int64_t>(p1.size() + 5));
    REQUIRE(got.tokens == want.tokens);
    REQUIRE(got.logprobs.size() == want.logprobs.size());
    for (std::size_t i = 0; i < got.logprobs.size(); ++i) {
        CHECK(got.logprobs[i].id == want.logprobs[i].id);
        // Suffix vs whole-prompt prefill multiply different shapes: equal up to rounding.
        CHECK(std::abs(got.logprobs[i].logprob - want.logprobs[i].logprob) < 1e-4);
        REQUIRE(got.logprobs[i].top.size() == 3);
    }

    // A regex over the byte ids: forced ids are fast-forwarded through the reused row.
    std::vector<std::string> bytes(384);
    for (int b = 0; b < 256; ++b) bytes[b] = std::string(1, static_cast<char>(b));
    bytes[2].clear();
    auto vocab = std::make_shared<const cst::TokenVocabulary>(std::move(bytes), Ids{2});
    auto constraint =
        cst::Constraint::create(cst::Grammar::from_regex("(yes|no)-[0-9]{3}-(done|fail)"), vocab);
    auto guided = [&] {
        GenerateOptions o = greedy(20);
        o.eos_ids = {2};
        o.guide = std::make_shared<cst::Guide>(constraint);
        return o;
    };
    const Ids p3 = cat({p2, got.tokens, ids(62, 3)});
    const GenerateResult g = e->generate(p3, guided());
    const GenerateResult g_want = uncached(m, p3, guided());
    CHECK(g.cached_tokens == static_cast<std::int64_t>(p2.size() + 7));
    CHECK(g.tokens == g_want.tokens);
    std::string text;
    for (auto id : g.tokens) text += static_cast<char>(id);
    CHECK(std::regex_match(text, std::regex("(yes|no)-[0-9]{3}-(done|fail)")));
}
