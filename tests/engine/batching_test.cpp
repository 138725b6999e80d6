// Continuous batching: concurrent generate() calls on one engine give exactly the tokens each
// request gets alone on the serial path (max_batch = 1), whatever joins, leaves, stops or fails
// around it. batch_stats() proves the requests really shared decode steps.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/plugin.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

using namespace llmhost::engine;

namespace {

struct Job {
    std::vector<std::int32_t> prompt;
    GenerateOptions opts;
};

struct Outcome {
    std::vector<std::int32_t> tokens, streamed;
    Finish finish = Finish::Length;
    llmh_status status = LLMH_OK;
};

Outcome run(Engine &e, const Job &j, const TokenFn &extra = {}, const CancelFn &cancel = {}) {
    Outcome o;
    try {
        auto r = e.generate(j.prompt, j.opts, [&](std::int32_t id) {
            o.streamed.push_back(id);
            return extra ? extra(id) : StepAction::Continue;
        }, cancel);
        o.tokens = r.tokens;
        o.finish = r.finish;
    } catch (const llmh::Error &err) {
        o.status = err.code();
    }
    return o;
}

// All jobs at once, one thread each, released together.
std::vector<Outcome> run_concurrently(Engine &e, const std::vector<Job> &jobs) {
    std::vector<Outcome> out(jobs.size());
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < jobs.size(); ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready.load() < static_cast<int>(jobs.size())) std::this_thread::yield();
            out[i] = run(e, jobs[i]);
        });
    for (auto &t : threads) t.join();
    return out;
}

// Prompts of different lengths, and different parameters: greedy, seeded sampling with each
// processor, a repetition penalty, different max_tokens.
std::vector<Job> mixed_jobs(std::int32_t vocab) {
    std::vector<Job> jobs;
    for (int i = 0; i < 7; ++i) {
        Job j;
        for (int t = 0; t < 3 + 4 * i; ++t) j.prompt.push_back((17 + 31 * i + 7 * t) % vocab);
        j.opts.max_tokens = 12 + 4 * i; // prompt + max_tokens <= 63
        auto &s = j.opts.sampling;
        switch (i % 4) {
        case 0: break; // greedy
        case 1: s.temperature = 0.9f, s.seed = 100 + i; break;
        case 2: s.temperature = 1.3f, s.top_k = 40, s.top_p = 0.9f, s.seed = 7; break;
        case 3: s.temperature = 0.7f, s.min_p = 0.05f, s.repetition_penalty = 1.3f, s.seed = 1; break;
        }
        jobs.push_back(std::move(j));
    }
    return jobs;
}

// Runs the jobs one by one on `serial`, then all at once on `batched`: each must get exactly its
// tokens and finish alone.
void expect_tokens_alone(Engine &serial, Engine &batched, const std::vector<Job> &jobs) {
    std::vector<Outcome> alone;
    for (const auto &j : jobs) alone.push_back(run(serial, j));
    const auto together = run_concurrently(batched, jobs);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        CAPTURE(i);
        REQUIRE(together[i].status == LLMH_OK);
        CHECK(together[i].tokens == alone[i].tokens);
        CHECK(together[i].finish == alone[i].finish);
    }
}

struct Engines {
    test::TempDir dir;
    std::unique_ptr<Engine> serial, batched;
    Engines(const std::string &arch, std::int64_t max_batch, std::int64_t max_context,
            std::int64_t max_positions = 128) {
        auto s = test::spec(arch, 5);
        s.max_position_embeddings = max_positions;
        llmhost::tools::write_model_dir(s, dir.path);
        serial = Engine::load(dir.path, {.device = "cpu", .max_context = max_context, .max_batch = 1});
        batched = Engine::load(dir.path, {.device = "cpu", .max_context = max_context, .max_batch = max_batch});
    }
};

} // namespace

TEST_CASE("batching: defaults, and max_batch = 1 is the serial path") {
    Engines f("llama", 0, 64);
    CHECK(f.batched->max_batch() == 4); // CPU default
    CHECK(f.serial->max_batch() == 1);
    CHECK(f.batched->kv_cache_bytes() == 4 * f.serial->kv_cache_bytes());
    Job j{{1, 2, 3}, {}};
    j.opts.max_tokens = 5;
    run(*f.serial, j);
    CHECK(f.serial->batch_stats().prefills == 0);
    run(*f.batched, j);
    CHECK(f.batched->batch_stats().prefills == 1);
}

TEST_CASE("batching: concurrent requests get exactly their tokens alone (greedy and seeded)") {
    for (std::string arch : {"llama", "qwen3", "gpt2"}) {
        CAPTURE(arch);
        Engines f(arch, 3, 64); // 7 requests, 3 slots: some wait, slots are reused
        const auto jobs = mixed_jobs(f.serial->config().vocab_size);
        std::vector<Outcome> alone;
        for (const auto &j : jobs) alone.push_back(run(*f.serial, j));
        const auto together = run_concurrently(*f.batched, jobs);
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            CAPTURE(i);
            REQUIRE(together[i].status == LLMH_OK);
            CHECK(together[i].tokens == alone[i].tokens);
            CHECK(together[i].streamed == alone[i].tokens);
            CHECK(together[i].finish == alone[i].finish);
        }
        const BatchStats st = f.batched->batch_stats();
        CHECK(st.prefills == 7);
        CHECK(st.max_active_rows >= 2); // they really shared decode steps
        CHECK(st.max_active_rows <= 3);
        CHECK(st.decode_rows > st.decode_steps);
    }
}

TEST_CASE("batching: ids picked on the device (greedy, temperature, top-k, top-p, min-p) equal "
          "the host sampler's, in a batch mixed with penalised and logprob rows") {
    // Off the CPU this is the default; LLMHOST_DEVICE_SAMPLING=1 runs the same code on the CPU.
    struct Env {
        Env() { setenv("LLMHOST_DEVICE_SAMPLING", "1", 1); }
        ~Env() { unsetenv("LLMHOST_DEVICE_SAMPLING"); }
    };
    for (std::string arch : {"llama", "gpt2"}) {
        CAPTURE(arch);
        test::TempDir dir;
        auto spec = test::spec(arch, 5);
        llmhost::tools::write_model_dir(spec, dir.path);
        auto serial = Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 1});
        std::unique_ptr<Engine> picked;
        {
            Env on;
            picked = Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 4});
        }
        // Rows 0 and 4 greedy, 1 and 5 a plain seeded temperature, 2 and 6 top-k with top-p:
        // picked on the device. Row 3 has a repetition penalty: the host's.
        auto jobs = mixed_jobs(serial->config().vocab_size);
        Job lp = jobs[0], pen = jobs[4], hot = jobs[1], nuc = jobs[5], mp = jobs[1];
        lp.opts.logprobs = true;                   // greedy, but its logits must come back
        pen.opts.sampling.presence_penalty = 0.5f; // greedy over penalised logits: the host's
        hot.opts.sampling.temperature = 4.0f;      // a flat distribution: many ids in play
        hot.opts.sampling.seed = 99;
        nuc.opts.sampling.top_p = 0.8f; // top-p and min-p without top-k: the device's too
        nuc.opts.sampling.seed = 3;
        mp.opts.sampling.min_p = 0.1f;
        mp.opts.sampling.top_p = 0.95f;
        mp.opts.sampling.temperature = 1.5f;
        mp.opts.sampling.seed = 4;
        for (const Job &j : {lp, pen, hot, nuc, mp}) jobs.push_back(j);
        expect_tokens_alone(*serial, *picked, jobs);
        // Each device row decodes max_tokens - 1 ids after the one its prefill sampled.
        std::int64_t device_rows = 0;
        for (std::size_t i : {0u, 1u, 2u, 4u, 5u, 6u, 9u, 10u, 11u})
            device_rows += jobs[i].opts.max_tokens - 1;
        const BatchStats st = picked->batch_stats();
        CHECK(st.device_picked_rows == device_rows);
        CHECK(st.decode_rows > st.device_picked_rows);        // the others came to the host
        CHECK(serial->batch_stats().device_picked_rows == 0); // the serial path never does
        auto host = Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 4});
        run_concurrently(*host, jobs);
        CHECK(host->batch_stats().device_picked_rows == 0); // the CPU's default: the host sampler
    }
}

TEST_CASE("batching: the static decode step (every row, kv_len in buckets: what CUDA graphs "
          "replay) gives each request exactly its tokens alone") {
    // On CUDA it is captured as graphs; LLMHOST_DECODE_GRAPHS=eager runs the same step on the CPU.
    struct Env {
        Env() { setenv("LLMHOST_DECODE_GRAPHS", "eager", 1); }
        ~Env() { unsetenv("LLMHOST_DECODE_GRAPHS"); }
    };
    for (std::string arch : {"llama", "mistral", "gpt2"}) {
        CAPTURE(arch);
        test::TempDir dir;
        auto spec = test::spec(arch, 5);
        if (arch == "mistral") spec.sliding_window = 6; // dummies attend up to their own key
        llmhost::tools::write_model_dir(spec, dir.path);
        auto serial = Engine::load(dir.path, {.device = "cpu", .max_context = 100, .max_batch = 1});
        std::unique_ptr<Engine> stat;
        {
            Env on;
            // max_context 100: the buckets are 64 and then the cache's 100, not 128.
            stat = Engine::load(dir.path, {.device = "cpu", .max_context = 100, .max_batch = 3});
        }
        CHECK(stat->decode_graph_status() == "eager");
        auto jobs = mixed_jobs(serial->config().vocab_size);
        Job longer = jobs[1]; // past position 64: the second bucket
        for (int t = 0; t < 40; ++t) longer.prompt.push_back((5 + 3 * t) % 300);
        longer.opts.max_tokens = 30;
        jobs.push_back(longer);
        expect_tokens_alone(*serial, *stat, jobs);
        // Every step ran all 3 rows, free ones included (dummies are not counted as rows).
        const BatchStats st = stat->batch_stats();
        CHECK(st.max_active_rows <= 3);
        CHECK(st.decode_rows > st.decode_steps);
        // And a second round on the same engine: the buckets' static buffers are reused.
        expect_tokens_alone(*serial, *stat, jobs);
    }
}

TEST_CASE("batching: decode_graph_status names the step's mode") {
    test::TempDir dir;
    llmhost::tools::write_model_dir(test::spec("llama", 5), dir.path);
    CHECK(Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 1})
              ->decode_graph_status() == "off: max_batch 1");
    CHECK(Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 2})
              ->decode_graph_status() == "off"); // the CPU: no graphs, the row-range step
    setenv("LLMHOST_DECODE_GRAPHS", "0", 1);
    CHECK(Engine::load(dir.path, {.device = "cpu", .max_context = 64, .max_batch = 2})
              ->decode_graph_status() == "off");
    unsetenv("LLMHOST_DECODE_GRAPHS");
}

TEST_CASE("batching: a request joins mid-flight while another decodes") {
    Engines f("llama", 4, 1000, 1024);
    Job a{{1, 5, 9, 13}, {}}, b{{40, 41, 42, 43, 44, 45, 46, 47}, {}};
    a.opts.max_tokens = 40;
    a.opts.sampling = {.temperature = 1.0f, .seed = 42};
    b.opts.max_tokens = 25;
    b.opts.sampling = {.temperature = 0.8f, .top_k = 50, .seed = 9};
    const Outcome a_alone = run(*f.serial, a), b_alone = run(*f.serial, b);

    // A runs to the end of the context unless stopped: it is still decoding when B arrives
    // (after A's 3rd token) and while B runs; A stops itself after 40 tokens.
    Job a_open = a;
    a_open.opts.max_tokens = 0;
    Outcome b_joined;
    int a_seen = 0;
    const Outcome a_with_b = run(*f.batched, a_open, [&](std::int32_t) {
        ++a_seen;
        if (a_seen == 3) std::thread([&] { b_joined = run(*f.batched, b); }).join();
        return a_seen == 40 ? StepAction::Stop : StepAction::Continue;
    });
    REQUIRE(b_joined.status == LLMH_OK);
    CHECK(b_joined.tokens == b_alone.tokens);
    CHECK(a_with_b.tokens == a_alone.tokens);
    CHECK(a_with_b.finish == Finish::Stop);
    CHECK(f.batched->batch_stats().max_active_rows == 2);
}

TEST_CASE("batching: cancelling or stopping one request leaves the others untouched") {
    Engines f("llama", 4, 64);
    auto jobs = mixed_jobs(f.serial->config().vocab_size);
    jobs.resize(4);
    for (auto &j : jobs) j.opts.max_tokens = 30;
    std::vector<Outcome> alone;
    for (const auto &j : jobs) alone.push_back(run(*f.serial, j));

    std::vector<Outcome> out(4);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready.load() < 4) std::this_thread::yield();
            int n = 0, polls = 0;
            if (i == 1) // cancelled after 5 tokens
                out[i] = run(*f.batched, jobs[i], {}, [&] { return ++polls > 5; });
            else if (i == 2) // stopped by its callback (as a stop string does) at the 7th token
                out[i] = run(*f.batched, jobs[i], [&](std::int32_t) {
                    return ++n == 7 ? StepAction::Stop : StepAction::Continue;
                });
            else
                out[i] = run(*f.batched, jobs[i]);
        });
    for (auto &t : threads) t.join();
    CHECK(out[1].status == LLMH_ERR_CANCELLED);
    // At most 5 tokens (one poll per token, and one every 100 ms while waiting), a prefix of its own.
    CHECK(out[1].streamed.size() <= 5);
    CHECK(std::equal(out[1].streamed.begin(), out[1].streamed.end(), alone[1].tokens.begin()));
    REQUIRE(out[2].status == LLMH_OK);
    CHECK(out[2].finish == Finish::Stop);
    CHECK(out[2].tokens == std::vector<std::int32_t>(alone[2].tokens.begin(), alone[2].tokens.begin() + 7));
    for (int i : {0, 3}) {
        CAPTURE(i);
        REQUIRE(out[i].status == LLMH_OK);
        CHECK(out[i].tokens == alone[i].tokens);
    }
    // The freed slots serve new requests correctly.
    const auto again = run_concurrently(*f.batched, jobs);
    for (int i = 0; i < 4; ++i) CHECK(again[i].tokens == alone[i].tokens);
}

TEST_CASE("batching: eos and the context policy per request") {
    Engines f("llama", 4, 32);
    std::vector<Job> jobs(4);
    jobs[0] = {{1, 20, 30, 40, 50}, {}};            // runs to the end of the context
    jobs[1] = {std::vector<std::int32_t>(40, 7), {}}; // prompt longer than the context
    jobs[2] = {{1, 20, 30, 40, 50}, {}};
    jobs[2].opts.max_tokens = 28;                   // 5 + 28 > 32: refused
    jobs[3] = {{3, 4, 5}, {}};
    jobs[3].opts.max_tokens = 20;
    const Outcome ref3 = run(*f.serial, jobs[3]);
    REQUIRE(ref3.tokens.size() == 20);
    jobs[3].opts.eos_ids = {ref3.tokens[6]};        // stops at its own eos, not emitted
    const auto out = run_concurrently(*f.batched, jobs);
    CHECK(out[0].status == LLMH_OK);
    CHECK(out[0].tokens.size() == 27);
    CHECK(out[0].finish == Finish::Length);
    CHECK(out[0].tokens == run(*f.serial, jobs[0]).tokens);
    CHECK(out[1].status == LLMH_ERR_CONTEXT_OVERFLOW);
    CHECK(out[2].status == LLMH_ERR_CONTEXT_OVERFLOW);
    CHECK(out[3].status == LLMH_OK);
    CHECK(out[3].finish == Finish::Stop);
    CHECK(out[3].tokens == run(*f.serial, jobs[3]).tokens);
    CHECK(out[3].tokens.size() <= 6);
}
