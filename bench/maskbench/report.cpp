#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace llmhost::maskbench {

namespace {

// LLGuidance 0.7.10 in maskbench/README.md (guidance-ai/jsonschemabench, run of 2025-03-27, Azure
// NC96ads_A100_v4 CPU, single thread per engine). Times in µs. Copied as published, never measured
// here.
struct PublishedRow {
    const char *metric;
    const char *value;
};
constexpr PublishedRow kLlguidance[] = {
    {"TBM avg", "64"},          {"TBM p25", "29"},           {"TBM p50", "46"},
    {"TBM p75", "55"},          {"TBM p90", "77"},           {"TBM p95", "119"},
    {"TBM p99", "533"},         {"TBM p99.9", "1,695"},      {"TBM p100", "33,055"},
    {"TTFM avg", "1,850"},      {"TTFM p25", "800"},         {"TTFM p50", "1,037"},
    {"TTFM p75", "1,534"},      {"TTFM p90", "3,030"},       {"TTFM p95", "5,457"},
    {"TTFM p99", "17,988"},     {"TTFM p99.9", "40,092"},    {"TTFM p100", "229,367"},
    {"tokens", "2,607,859"},    {"schemas", "11,306"},       {"passing", "8,909"},
    {"compile error", "2,377"}, {"segmentation fault", "0"}, {"out of memory", "0"},
    {"timeout", "0"},           {"validation error", "20"},  {"invalidation error", "0"},
};

std::string grouped(uint64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

// TBM below 100 µs keeps one decimal (our masks can be sub-microsecond); above, whole µs.
std::string us(int64_t ns, bool decimal) {
    if (decimal && ns < 100'000) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(ns) / 1000.0);
        return buf;
    }
    return grouped(static_cast<uint64_t>(ns / 1000));
}

const char *published(const std::string &metric) {
    for (const auto &r : kLlguidance)
        if (metric == r.metric) return r.value;
    return "";
}

} // namespace

int64_t percentile(const std::vector<int64_t> &sorted, double p) {
    auto idx = static_cast<std::size_t>(static_cast<double>(sorted.size()) * p / 100.0);
    if (idx >= sorted.size()) idx = sorted.size() - 1;
    return sorted[idx];
}

Summary summarize(const std::vector<SchemaResult> &results, double timeout_s) {
    Summary s;
    for (const auto &r : results) {
        ++s.schemas;
        auto &sp = s.splits[r.split];
        ++sp.schemas;
        switch (r.outcome) {
        case Outcome::passing: ++s.passing, ++sp.passing; break;
        case Outcome::compile_error: ++s.compile_error, ++sp.compile_error; break;
        case Outcome::validation_error: ++s.validation_error, ++sp.validation_error; break;
        case Outcome::invalidation_error: ++s.invalidation_error, ++sp.invalidation_error; break;
        case Outcome::timeout: ++s.timeout, ++sp.timeout; break;
        }
        if (r.outcome == Outcome::compile_error) {
            if (!r.clear_compile_error) ++s.unclear_compile_errors;
            continue;
        }
        if (r.outcome == Outcome::timeout) {
            // Upstream kills a schema at the limit: its TTFM counts as the limit, its masks are
            // lost.
            s.ttfm_ns.push_back(static_cast<int64_t>(timeout_s * 1e9));
            continue;
        }
        s.ttfm_ns.push_back(r.ttfm_ns);
        s.tokens += r.tokens;
        s.tbm_ns.insert(s.tbm_ns.end(), r.mask_ns.begin(), r.mask_ns.end());
        s.valid_accepted += r.valid_accepted;
        s.valid_refused += r.valid_refused;
        s.invalid_refused += r.invalid_refused;
        s.invalid_refused_at_end += r.invalid_refused_at_end;
        s.invalid_accepted += r.invalid_accepted;
        s.inconsistencies += r.inconsistencies;
        s.exceptions += r.exceptions;
    }
    std::sort(s.tbm_ns.begin(), s.tbm_ns.end());
    std::sort(s.ttfm_ns.begin(), s.ttfm_ns.end());
    return s;
}

void print_table(std::ostream &out, const Summary &s, const std::string &label) {
    std::vector<std::pair<std::string, std::string>> rows;
    const double ps[] = {25, 50, 75, 90, 95, 99, 99.9, 100};
    auto pname = [](double p) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%g", p);
        return std::string(buf);
    };
    auto add_times = [&](const char *name, const std::vector<int64_t> &v, bool decimal) {
        if (v.empty()) {
            rows.emplace_back(std::string(name) + " avg", "-");
            for (double p : ps) rows.emplace_back(std::string(name) + " p" + pname(p), "-");
            return;
        }
        int64_t sum = std::accumulate(v.begin(), v.end(), int64_t{0});
        rows.emplace_back(std::string(name) + " avg",
                          us(sum / static_cast<int64_t>(v.size()), decimal));
        for (double p : ps)
            rows.emplace_back(std::string(name) + " p" + pname(p), us(percentile(v, p), decimal));
    };
    add_times("TBM", s.tbm_ns, true);
    add_times("TTFM", s.ttfm_ns, false);
    rows.emplace_back("tokens", grouped(s.tokens));
    rows.emplace_back("schemas", grouped(s.schemas));
    rows.emplace_back("passing", grouped(s.passing));
    rows.emplace_back("compile error", grouped(s.compile_error));
    // In-process run: a crash would end the program, so these rows are not applicable.
    rows.emplace_back("segmentation fault", s.isolated ? grouped(s.segfaults) : "n/a");
    rows.emplace_back("out of memory", s.isolated ? grouped(s.aborts) : "n/a");
    rows.emplace_back("timeout", grouped(s.timeout));
    rows.emplace_back("validation error", grouped(s.validation_error));
    rows.emplace_back("invalidation error", grouped(s.invalidation_error));

    std::size_t w0 = 18, w1 = std::max<std::size_t>(label.size(), 10), w2 = 22;
    auto line = [&](const std::string &a, const std::string &b, const std::string &c) {
        out << "| " << a << std::string(w0 - std::min(w0, a.size()), ' ') << " | "
            << std::string(w1 - std::min(w1, b.size()), ' ') << b << " | "
            << std::string(w2 - std::min(w2, c.size()), ' ') << c << " |\n";
    };
    line("metric", label, "LLGuidance (published)");
    out << "|:" << std::string(w0 + 1, '-') << "|" << std::string(w1 + 1, '-') << ":|"
        << std::string(w2 + 1, '-') << ":|\n";
    for (const auto &[k, v] : rows) line(k, v, published(k));
}

void print_details(std::ostream &out, const Summary &s) {
    out << "instances: valid accepted " << s.valid_accepted << ", valid refused " << s.valid_refused
        << ", invalid refused " << s.invalid_refused << " (" << s.invalid_refused_at_end
        << " only at the end), invalid accepted " << s.invalid_accepted << "\n";
    out << "compile errors that were not a CompileError: " << s.unclear_compile_errors
        << "; matcher inconsistencies: " << s.inconsistencies
        << "; exceptions while matching: " << s.exceptions << "\n";
    out << "| split | schemas | passing | compile error | validation error | invalidation error | "
           "timeout |\n";
    out << "|:--|--:|--:|--:|--:|--:|--:|\n";
    for (const auto &[name, c] : s.splits)
        out << "| " << name << " | " << c.schemas << " | " << c.passing << " | " << c.compile_error
            << " | " << c.validation_error << " | " << c.invalidation_error << " | " << c.timeout
            << " |\n";
}

} // namespace llmhost::maskbench
