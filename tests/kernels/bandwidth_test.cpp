// measure_read_bandwidth(): a positive rate from a small buffer, on 1 and 2 threads, and argument
// checks. (The figure itself is a benchmark, bench/kernels, never asserted here.)
#include "llmhost/kernels/bandwidth.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace llmhost::kernels;

TEST_CASE("bandwidth: small buffer gives a positive rate") {
    for (int t : {1, 2}) {
        Bandwidth b = measure_read_bandwidth(t, 1u << 20, 2);
        CHECK(b.bytes_per_s > 0);
        CHECK(b.cpu_bytes_per_s > 0);
        CHECK(b.threads == t);
        CHECK(b.runs == 2);
        CHECK(b.buffer_bytes > 0);
        CHECK(b.buffer_bytes <= (1u << 20));
    }
    CHECK(measure_read_bandwidth(0, 1u << 16, 1).threads >= 1);
}

TEST_CASE("bandwidth: bad arguments throw") {
    CHECK_THROWS_AS(measure_read_bandwidth(1, 100, 1), std::invalid_argument);
    CHECK_THROWS_AS(measure_read_bandwidth(1, 1u << 20, 0), std::invalid_argument);
}
