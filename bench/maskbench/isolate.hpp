// Runs one schema in a forked child, as upstream's runner isolates engines: a compile or mask
// call that never returns is killed at the time limit (a timeout), and a crash is counted
// (segmentation fault / other signal) instead of ending the whole benchmark.
#pragma once

#include "runner.hpp"

namespace llmhost::maskbench {

struct IsolatedResult {
    SchemaResult result;
    // The child died from a signal (SIGSEGV, SIGABRT for std::bad_alloc / assert, ...): result
    // holds only id/split; `signal` says which.
    int signal = 0;
    bool killed_at_limit = false;
};

IsolatedResult run_isolated(const Runner &runner, const SchemaCase &schema, double timeout_s);

} // namespace llmhost::maskbench
