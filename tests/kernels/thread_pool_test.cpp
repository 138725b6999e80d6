// ThreadPool: every index runs exactly once, on at most as many threads as asked, and on all of
// them when the pieces are slow enough for the workers to arrive; a member whose region is done
// takes the others' pieces; exceptions from any piece reach the caller; nested and concurrent
// callers run serially instead of waiting; a loop published before the workers first ran, and
// loops after they went to sleep, are not lost (both hung once); hostile sizes are refused.
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

// Runs [0, n) with pieces that each wait (up to max_wait) until `want` threads have entered one:
// returns how many did. Each member starts with a piece of its own region, so when the pieces
// are slow every member of the team gets one.
int slow_pieces_threads(ThreadPool &pool, int64_t n, int64_t grain, int want,
                        std::chrono::milliseconds max_wait = std::chrono::seconds(10)) {
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
    const auto deadline = std::chrono::steady_clock::now() + max_wait;
    pool.run(n, grain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[std::size_t(i)]++;
        {
            std::lock_guard lk(mu);
            ids.insert(std::this_thread::get_id());
        }
        for (;;) {
            {
                std::lock_guard lk(mu);
                if (int(ids.size()) >= want) return;
            }
            if (std::chrono::steady_clock::now() > deadline) return;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
    for (int64_t i = 0; i < n; ++i) REQUIRE(hits[std::size_t(i)] == 1);
    return int(ids.size());
}

} // namespace

TEST_CASE("thread pool: coverage and team size") {
    ThreadPool pool(3);
    CHECK(pool.threads() == 3);
    CHECK(cover(pool, 1, 1).size() == 1);
    CHECK(cover(pool, 2, 1).size() <= 2);
    CHECK(cover(pool, 1000, 1).size() <= 3);
    CHECK(cover(pool, 1000, 1000).size() == 1); // one chunk: the caller alone
    CHECK(cover(pool, 7, 0).size() <= 3);       // grain 0 counts as 1
    for (int64_t n : {2, 3, 7, 64, 1000, 4097})
        for (int64_t grain : {1, 3, 100}) cover(pool, n, grain); // each index once
    // With slow pieces, the whole team takes part, and no more than the team.
    CHECK(slow_pieces_threads(pool, 1000, 1, 3) == 3);
    CHECK(slow_pieces_threads(pool, 1000, 400, 3) == 3); // ceil(1000 / 400) = 3
    CHECK(slow_pieces_threads(pool, 1000, 500, 3, std::chrono::milliseconds(100)) ==
          2); // a team of 2: never 3
    CHECK(slow_pieces_threads(pool, 2, 1, 2) == 2);
    pool.run(0, 1, [](int64_t, int64_t) { FAIL("an empty range runs nothing"); });
    pool.run(-5, 1, [](int64_t, int64_t) { FAIL("a negative range runs nothing"); });
    ThreadPool one(1);
    CHECK(cover(one, 100, 1).size() == 1);
}

TEST_CASE("thread pool: a member whose region is done takes the others' pieces") {
    for (int pieces : {1, 8}) {
        CAPTURE(pieces);
        ThreadPool pool(2, 1000, pieces);
        // The worker's pieces are slow (20 ms each); the caller's first piece waits until the
        // worker is inside one (so the order does not depend on who the scheduler runs first),
        // the rest are instant. With 8 pieces a region, the caller then takes what is left of
        // the worker's region [32, 64) from its back; with 1, the worker holds its region whole.
        std::mutex mu;
        std::set<int64_t> by_caller;
        std::set<std::pair<int64_t, int64_t>> caller_pieces;
        std::vector<std::atomic<int>> hits(64);
        std::atomic<bool> worker_in{false};
        pool.run(64, 1, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) hits[std::size_t(i)]++;
            if (ThreadPool::thread_index() != 0) {
                worker_in = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                return;
            }
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (!worker_in && std::chrono::steady_clock::now() < give_up)
                std::this_thread::yield();
            std::lock_guard lk(mu);
            for (int64_t i = b; i < e; ++i) by_caller.insert(i);
            caller_pieces.insert({b, e});
        });
        for (auto &h : hits) REQUIRE(h == 1);
        REQUIRE(worker_in);
        CHECK(by_caller.count(63) == (pieces == 8 ? 1u : 0u)); // the worker's last piece
        for (int64_t i = 0; i < 32; ++i) CHECK(by_caller.count(i) == 1);
        // Its own region [0, 32): whole with one piece; with 8, pieces of 4 while two or more
        // are left, then halves of what is left (the guided tail): 2, 1, 1.
        if (pieces == 1) {
            CHECK(caller_pieces.count({0, 32}) == 1);
        } else {
            for (int64_t b = 0; b < 28; b += 4) CHECK(caller_pieces.count({b, b + 4}) == 1);
            CHECK(caller_pieces.count({28, 30}) == 1);
            CHECK(caller_pieces.count({30, 31}) == 1);
            CHECK(caller_pieces.count({31, 32}) == 1);
        }
    }
    CHECK_THROWS_WITH_AS(ThreadPool(2, 0, 0), "ThreadPool: pieces must be >= 1, got 0",
                         std::invalid_argument);
}

TEST_CASE("thread pool: a loop right after construction, and after the workers slept") {
    for (int i = 0; i < 200; ++i) { // the workers may not have started yet
        ThreadPool pool(2, i % 2 ? 0 : 200);
        CHECK(cover(pool, 64, 1).size() <= 2);
        if (i % 50 == 0) CHECK(slow_pieces_threads(pool, 64, 1, 2) == 2);
    }
    ThreadPool pool(2, 0); // spin 0: every wait between loops is a sleep
    for (int i = 0; i < 200; ++i) {
        if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        CHECK(cover(pool, 64, 1).size() <= 2);
        if (i % 50 == 0) CHECK(slow_pieces_threads(pool, 64, 1, 2) == 2); // a sleeper wakes
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
    CHECK(slow_pieces_threads(pool, 10, 1, 2) == 2); // still usable, by both
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
    CHECK(inner == 4); // one per piece: 2 regions of 2, pieces of the grain
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
