// WeightArena: pieces are 64-byte aligned, disjoint and stable; a request larger than a chunk
// gets a chunk of its own; packed matrices in an arena equal their standalone copies byte for
// byte and keep the arena alive; the chunks carry the huge-page advice where the system has
// transparent huge pages (the "hg" flag of their mapping in /proc/self/smaps).
#include "common.hpp"

#include "llmhost/kernels/weight_arena.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

using namespace kt;

namespace {

// The VmFlags of the mapping that contains p ("" when not found or not Linux).
std::string vm_flags_of(const void *p) {
    std::ifstream smaps("/proc/self/smaps");
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            inside = lo <= addr && addr < hi;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line;
    }
    return {};
}

bool thp_available() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string s;
    std::getline(f, s);
    return !s.empty() && s.find("[never]") == std::string::npos;
}

} // namespace

TEST_CASE("arena: aligned, disjoint pieces; a big request gets its own chunk") {
    WeightArena a(std::size_t{4} << 20);
    std::vector<std::pair<unsigned char *, std::size_t>> pieces;
    for (std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{3} << 20, std::size_t{64},
                          std::size_t{9} << 20, std::size_t{777}}) {
        auto *p = static_cast<unsigned char *>(a.allocate(n));
        CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
        std::memset(p, int(pieces.size() + 1), n);
        pieces.push_back({p, n});
    }
    for (std::size_t i = 0; i < pieces.size(); ++i) { // nothing overwrote another piece
        const auto [p, n] = pieces[i];
        CHECK(p[0] == i + 1);
        CHECK(p[n - 1] == i + 1);
        for (std::size_t j = 0; j < pieces.size(); ++j)
            if (j != i)
                CHECK((p + n <= pieces[j].first || pieces[j].first + pieces[j].second <= p));
    }
    // 4 MiB chunks: the 9 MiB piece has one of its own (rounded to 2 MiB pages).
    CHECK(a.reserved_bytes() >= (std::size_t{4} << 20) + (std::size_t{9} << 20));
    CHECK(a.reserved_bytes() <= std::size_t{3} * (std::size_t{4} << 20) + (std::size_t{10} << 20));
    CHECK_THROWS_AS(a.allocate(0), std::invalid_argument);
    CHECK_THROWS_AS(WeightArena(8), std::invalid_argument);
}

TEST_CASE("arena: packed matrices in it equal standalone ones and keep it alive") {
    auto w = gaussian(300 * 200, 0.05f, 4);
    for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
        CAPTURE(format_name(f));
        auto arena = std::make_shared<WeightArena>();
        auto in = PackedMatrix::from_f32(w.data(), 300, 200, f, arena);
        auto own = PackedMatrix::from_f32(w.data(), 300, 200, f);
        REQUIRE(in.bytes() == own.bytes());
        CHECK(std::memcmp(in.data(), own.data(), in.bytes()) == 0);
        const std::weak_ptr<WeightArena> alive = arena;
        arena.reset();
        CHECK_FALSE(alive.expired()); // the matrix holds it
        std::vector<float> x(200, 0.5f), y1(300), y2(300);
        linear(in, x.data(), Act::F32, 200, 1, y1.data(), Act::F32, 300, nullptr, serial_for());
        linear(own, x.data(), Act::F32, 200, 1, y2.data(), Act::F32, 300, nullptr, serial_for());
        CHECK(y1 == y2);
        auto moved = std::move(in);
        CHECK_FALSE(alive.expired());
        moved = PackedMatrix();
        CHECK(alive.expired()); // the last matrix gone, the arena is freed
    }
}

TEST_CASE("arena: clone() copies into an arena or an allocation of its own") {
    auto w = gaussian(100 * 96, 0.05f, 6);
    for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
        CAPTURE(format_name(f));
        auto arena = std::make_shared<WeightArena>(std::size_t{1} << 20);
        const auto src = PackedMatrix::from_f32(w.data(), 100, 96, f);
        const auto in = src.clone(arena), own = src.clone();
        REQUIRE(in.bytes() == src.bytes());
        REQUIRE(own.bytes() == src.bytes());
        CHECK(std::memcmp(in.data(), src.data(), src.bytes()) == 0);
        CHECK(std::memcmp(own.data(), src.data(), src.bytes()) == 0);
        CHECK(in.data() != src.data());
        CHECK(own.data() != src.data());
        CHECK(in.format() == f);
        CHECK(in.rows() == 100);
        CHECK(in.cols() == 96);
        // In the arena: its one chunk holds the copy, and a second copy follows in the same chunk.
        CHECK(arena->reserved_bytes() == (std::size_t{1} << 20));
        const auto again = in.clone(arena);
        CHECK(arena->reserved_bytes() == (std::size_t{1} << 20));
        const auto *a0 = static_cast<const unsigned char *>(in.data());
        const auto *a1 = static_cast<const unsigned char *>(again.data());
        CHECK(a1 >= a0 + in.bytes());
        CHECK(a1 < a0 + (std::size_t{1} << 20));
        const std::weak_ptr<WeightArena> alive = arena;
        arena.reset();
        CHECK_FALSE(alive.expired()); // the copies hold it
        CHECK(PackedMatrix().clone(std::make_shared<WeightArena>()).data() == nullptr);
    }
}

TEST_CASE("arena: chunks carry the huge-page advice where the system has THP") {
    WeightArena a;
    void *p = a.allocate(1 << 20);
    const std::string flags = vm_flags_of(p);
    if (flags.empty() || !thp_available()) { // nothing to compare: a skip (ctest), not a pass
        std::printf("SKIP: no /proc/self/smaps, or transparent huge pages are disabled\n");
        std::fflush(stdout);
        std::_Exit(77);
    }
    CHECK(a.huge_pages_advised());
    CHECK_MESSAGE(flags.find(" hg") != std::string::npos, flags);
}
