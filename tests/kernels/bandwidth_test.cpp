// measure_read_bandwidth() and ReadProbe: a positive rate from a small buffer, on 1 and more
// threads and with both read loops of every ISA, and argument checks. (The figure itself is a
// benchmark, bench/kernels, never asserted here.)
#include "llmhost/kernels/bandwidth.hpp"

#include "common.hpp"

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

TEST_CASE("bandwidth: a ReadProbe reads its one buffer again and again") {
    for (int t : {1, 2, 3}) {
        ReadProbe probe(t, 1u << 20);
        CHECK(probe.threads() == t);
        // Slices of whole 256-byte steps: the buffer is at most what was asked, never empty.
        CHECK(probe.buffer_bytes() > 0);
        CHECK(probe.buffer_bytes() <= (1u << 20));
        CHECK(probe.buffer_bytes() % (256 * std::size_t(t)) == 0);
        for (int round = 0; round < 3; ++round) {
            const Bandwidth b = probe.measure(2);
            CHECK(b.bytes_per_s > 0);
            CHECK(b.cpu_bytes_per_s > 0);
            CHECK(b.threads == t);
            CHECK(b.runs == 2);
            CHECK(b.buffer_bytes == probe.buffer_bytes());
        }
    }
    CHECK(ReadProbe(0, 1u << 16).threads() >= 1);
}

TEST_CASE("bandwidth: a ReadProbe refuses what measure_read_bandwidth refuses") {
    CHECK_THROWS_AS(ReadProbe(1, 100), std::invalid_argument);
    CHECK_THROWS_AS(ReadProbe(64, 4096), std::invalid_argument); // 64 bytes a thread: no slice
    ReadProbe probe(1, 1u << 16);
    CHECK_THROWS_AS(probe.measure(0), std::invalid_argument);
    CHECK_THROWS_AS(probe.measure(-1), std::invalid_argument);
    CHECK(probe.measure(1).bytes_per_s > 0); // still usable after a refused call
}

TEST_CASE("bandwidth: both read loops of every ISA (runs alternate plain and busy)") {
    for (Isa isa : kt::available_isas()) {
        force_isa(isa);
        CAPTURE(isa_name(isa));
        for (int t : {1, 3}) {
            ReadProbe probe(t, (1u << 20) + 256 * 3); // slices that are not powers of two
            const Bandwidth b = probe.measure(4);     // runs 2 and 4 take the busy loop
            CHECK(b.bytes_per_s > 0);
            CHECK(b.cpu_bytes_per_s > 0);
            CHECK(b.runs == 4);
        }
    }
    force_isa(best_isa());
}

TEST_CASE("bandwidth: a ReadProbe's steady reading (the busy loop, pass after pass) on every ISA") {
    for (Isa isa : kt::available_isas()) {
        force_isa(isa);
        CAPTURE(isa_name(isa));
        for (int t : {1, 3}) {
            ReadProbe probe(t, (1u << 20) + 256 * 5);
            for (int passes : {1, 6}) {
                const Bandwidth b = probe.measure_steady(passes);
                CHECK(b.bytes_per_s > 0);
                CHECK(b.cpu_bytes_per_s > 0);
                CHECK(b.runs == passes);
                CHECK(b.threads == t);
                CHECK(b.buffer_bytes == probe.buffer_bytes());
            }
            CHECK_THROWS_WITH_AS(probe.measure_steady(0), doctest::Contains("passes must be > 0"),
                                 std::invalid_argument);
            CHECK_THROWS_AS(probe.measure_steady(-3), std::invalid_argument);
            CHECK(probe.measure(1).bytes_per_s > 0); // still usable after a refused call
        }
    }
    force_isa(best_isa());
}

TEST_CASE("bandwidth: a ReadProbe reads its buffer as a step's segments, on the caller's loop") {
    ReadProbe probe(1, 4u << 20);
    // Sizes as a decode step's calls: not multiples of the 4 KiB unit, one below 256 bytes.
    const std::vector<std::size_t> segments{(1u << 20) + 1000, 300000, 100, 65536 * 3 + 256};
    std::size_t want = 0;
    for (std::size_t s : segments) want += s / 256 * 256;
    for (Isa isa : kt::available_isas()) {
        force_isa(isa);
        CAPTURE(isa_name(isa));
        for (int threads : {1, 3}) {
            CAPTURE(threads);
            const ParallelFor pf = threads > 1 ? kt::thread_for(threads) : serial_for();
            const Bandwidth b = probe.measure_segments(segments, pf, 3);
            CHECK(b.bytes_per_s > 0);
            CHECK(b.buffer_bytes == want);
            CHECK(b.runs == 3);
        }
    }
    force_isa(best_isa());
    // A loop that hands out chunks outside [0, n) must not make the probe read outside its buffer:
    // such chunks are skipped (unchecked, the first one reads ~4 PiB before the buffer: a crash).
    const ParallelFor buggy = [](int64_t n, int64_t,
                                 const std::function<void(int64_t, int64_t)> &b) {
        b(-(int64_t{1} << 40), 2);
        b(n - 1, n + 100);
        b(3, 3);
        b(0, n);
    };
    CHECK(probe.measure_segments(segments, buggy, 1).bytes_per_s > 0);
    CHECK_THROWS_AS(probe.measure_segments(segments, serial_for(), 0), std::invalid_argument);
    CHECK_THROWS_AS(probe.measure_segments({}, serial_for(), 1), std::invalid_argument);
    CHECK_THROWS_AS(probe.measure_segments(segments, ParallelFor{}, 1), std::invalid_argument);
    CHECK_THROWS_WITH_AS(probe.measure_segments({probe.buffer_bytes() + 1}, serial_for(), 1),
                         doctest::Contains("more than the buffer's"), std::invalid_argument);
}
