// MaskBench's aggregation rules (maskbench_results.py), so our table means what upstream's means.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "report.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace llmhost::maskbench;

namespace {

SchemaResult result(Outcome o, int64_t ttfm_ns, std::vector<int64_t> masks, bool clear = true) {
    SchemaResult r;
    r.id = "x";
    r.split = o == Outcome::passing ? "A" : "B";
    r.outcome = o;
    r.ttfm_ns = ttfm_ns;
    r.mask_ns = std::move(masks);
    r.tokens = r.mask_ns.size();
    r.clear_compile_error = clear;
    return r;
}

} // namespace

TEST_CASE("percentile uses upstream's index int(n * p / 100), clamped to the last element") {
    std::vector<int64_t> v = {10, 20, 30, 40};
    CHECK(percentile(v, 25) == 20);  // index 1
    CHECK(percentile(v, 50) == 30);  // index 2
    CHECK(percentile(v, 99) == 40);  // index 3
    CHECK(percentile(v, 100) == 40); // index 4 -> clamped
    CHECK(percentile({7}, 99.9) == 7);
}

TEST_CASE("summarize: compile errors have no TTFM, timeouts count at the limit and lose masks") {
    std::vector<SchemaResult> rs = {
        result(Outcome::passing, 1000, {5, 1}),       result(Outcome::compile_error, 0, {}),
        result(Outcome::compile_error, 0, {}, false), result(Outcome::validation_error, 3000, {9}),
        result(Outcome::timeout, 2000, {100, 200}),
    };
    auto s = summarize(rs, 2.0);
    CHECK(s.schemas == 5);
    CHECK(s.passing == 1);
    CHECK(s.compile_error == 2);
    CHECK(s.unclear_compile_errors == 1);
    CHECK(s.validation_error == 1);
    CHECK(s.timeout == 1);
    CHECK(s.ttfm_ns == std::vector<int64_t>{1000, 3000, 2'000'000'000});
    CHECK(s.tbm_ns == std::vector<int64_t>{1, 5, 9});
    CHECK(s.tokens == 3);
    CHECK(s.splits["A"].passing == 1);
    CHECK(s.splits["B"].schemas == 4);
}

TEST_CASE("the table has upstream's rows and LLGuidance's published values") {
    auto s = summarize({result(Outcome::passing, 1'500'000, {250, 46'000})}, 900);
    std::ostringstream out;
    print_table(out, s, "llmhost");
    const std::string t = out.str();
    for (const char *row :
         {"| TBM avg", "| TBM p99.9", "| TBM p100", "| TTFM p50", "| passing", "| compile error",
          "| validation error", "| invalidation error", "| timeout"})
        CHECK(t.find(row) != std::string::npos);
    CHECK(t.find("8,909") != std::string::npos); // LLGuidance passing
    CHECK(t.find("533") != std::string::npos);   // LLGuidance TBM p99
    // Ours: TTFM 1.5 ms -> "1,500" µs; TBM p50 = 46 µs -> "46.0".
    CHECK(t.find("1,500") != std::string::npos);
    CHECK(t.find("46.0") != std::string::npos);
}
