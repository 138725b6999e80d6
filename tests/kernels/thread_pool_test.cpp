// ThreadPool: every index runs exactly once in at::parallel_for's split, on as many threads as
// asked; exceptions from any chunk reach the caller; nested and concurrent callers run serially
// instead of waiting; a loop published before the workers first ran, and loops after they went
// to sleep, are not lost (both hung once); hostile sizes are refused.
#include "llmhost/kernels/thread_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using llmhost::kernels::ThreadPool;

namespace {

// Runs [0, n) on the pool and checks each index was visited once; returns the chunks' threads.
std::set<std::thread::id> cover(ThreadPool &pool, int64_t n, int64_t grain) {
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::set<int> indices;
    pool.run(n, grain, [&](int64_t b, int64_t e) {
        REQUIRE(0 <= b);
        REQUIRE(b < e);
        REQUIRE(e <= n);
        for (int64_t i = b; i < e; ++i) hits[std::size_t(i)]++;
        std::lock_guard lk(mu);
        ids.insert(std::this_thread::get_id());
        indices.insert(ThreadPool::thread_index());
    });
    for (int64_t i = 0; i < n; ++i) REQUIRE(hits[std::size_t(i)] == 1);
    CHECK(indices.size() == ids.size()); // one pool index per thread
    CHECK(ThreadPool::thread_index() == 0);
    return ids;
}

} // namespace

TEST_CASE("thread pool: coverage and team size") {
    ThreadPool pool(3);
    CHECK(pool.threads() == 3);
    CHECK(cover(pool, 1, 1).size() == 1);
    CHECK(cover(pool, 2, 1).size() == 2);
    CHECK(cover(pool, 1000, 1).size() == 3);
    CHECK(cover(pool, 1000, 400).size() == 3); // ceil(1000 / 400) = 3
    CHECK(cover(pool, 1000, 500).size() == 2);
    CHECK(cover(pool, 1000, 1000).size() == 1); // one chunk: the caller alone
    CHECK(cover(pool, 7, 0).size() == 3);       // grain 0 counts as 1
    pool.run(0, 1, [](int64_t, int64_t) { FAIL("an empty range runs nothing"); });
    pool.run(-5, 1, [](int64_t, int64_t) { FAIL("a negative range runs nothing"); });
    ThreadPool one(1);
    CHECK(cover(one, 100, 1).size() == 1);
}

TEST_CASE("thread pool: a loop right after construction, and after the workers slept") {
    for (int i = 0; i < 200; ++i) { // the workers may not have started yet
        ThreadPool pool(2, i % 2 ? 0 : 200);
        CHECK(cover(pool, 64, 1).size() == 2);
    }
    ThreadPool pool(2, 0); // spin 0: every wait between loops is a sleep
    for (int i = 0; i < 200; ++i) {
        if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        CHECK(cover(pool, 64, 1).size() == 2);
    }
}

TEST_CASE("thread pool: exceptions from the caller's chunk and a worker's reach the caller") {
    ThreadPool pool(2);
    CHECK_THROWS_WITH_AS(pool.run(10, 1,
                                  [](int64_t b, int64_t) {
                                      if (b > 0) throw std::runtime_error("worker chunk");
                                  }),
                         "worker chunk", std::runtime_error);
    CHECK_THROWS_WITH_AS(pool.run(10, 1,
                                  [](int64_t b, int64_t) {
                                      if (b == 0) throw std::runtime_error("caller chunk");
                                  }),
                         "caller chunk", std::runtime_error);
    CHECK(cover(pool, 10, 1).size() == 2); // still usable
}

TEST_CASE("thread pool: nested and concurrent callers run serially, never wait") {
    ThreadPool pool(2);
    std::atomic<int> inner{0};
    pool.run(4, 1, [&](int64_t, int64_t) {
        pool.run(100, 1, [&](int64_t b, int64_t e) {
            CHECK(b == 0);
            CHECK(e == 100);
            inner++;
        });
    });
    CHECK(inner == 2); // one per chunk, one chunk per thread
    std::atomic<long> sum{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
        callers.emplace_back([&] {
            for (int r = 0; r < 200; ++r)
                pool.run(1000, 1, [&](int64_t b, int64_t e) {
                    long s = 0;
                    for (int64_t i = b; i < e; ++i) s += i;
                    sum += s;
                });
        });
    for (auto &t : callers) t.join();
    CHECK(sum == 4L * 200 * (999L * 1000 / 2));
}

TEST_CASE("thread pool: hostile sizes are refused") {
    CHECK_THROWS_WITH_AS(ThreadPool(0), "ThreadPool: threads must be >= 1, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(ThreadPool(2, -1), "ThreadPool: spin_us must be >= 0, got -1",
                         std::invalid_argument);
}
