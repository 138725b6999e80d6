// MaskBench's table (maskbench/scripts/maskbench_results.py): the same rows, the same percentile
// rule (sorted samples, index int(n * p / 100), clamped), TTFM over the schemas that compiled plus
// the time limit for each timeout. Printed next to LLGuidance's published column.
#pragma once

#include "runner.hpp"

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace llmhost::maskbench {

struct SplitCounts {
    std::size_t schemas = 0, passing = 0, compile_error = 0, validation_error = 0,
                invalidation_error = 0, timeout = 0;
};

struct Summary {
    std::size_t schemas = 0, passing = 0, compile_error = 0, validation_error = 0,
                invalidation_error = 0, timeout = 0;
    std::size_t unclear_compile_errors = 0; // compile failures that were not a CompileError
    std::size_t tokens = 0;
    std::size_t valid_accepted = 0, valid_refused = 0, invalid_refused = 0,
                invalid_refused_at_end = 0, invalid_accepted = 0;
    std::size_t inconsistencies = 0, exceptions = 0;
    std::vector<int64_t> tbm_ns;  // sorted
    std::vector<int64_t> ttfm_ns; // sorted, timeouts included at the limit
    std::map<std::string, SplitCounts> splits;
    // --isolate only: schemas whose child died (SIGSEGV; SIGABRT, which upstream's table calls
    // "out of memory"; anything else). Without isolation a crash ends the run: rows print "n/a".
    bool isolated = false;
    std::size_t segfaults = 0, aborts = 0, other_deaths = 0;
};

Summary summarize(const std::vector<SchemaResult> &results, double timeout_s);

// The element at upstream's percentile index of a sorted, non-empty vector.
int64_t percentile(const std::vector<int64_t> &sorted, double p);

// The markdown table: metric | llmhost | LLGuidance (published). `label` heads our column.
void print_table(std::ostream &out, const Summary &s, const std::string &label);
// Per-split counts and the extra correctness counters that upstream's table does not have.
void print_details(std::ostream &out, const Summary &s);

} // namespace llmhost::maskbench
