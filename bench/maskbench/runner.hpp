// One MaskBench schema, measured the way MaskBench's runner (maskbench/maskbench/runner.py) does:
// compile (TTFM), then for each instance, for each of its tokens: compute the full mask over the
// vocabulary and commit the token if the mask allows it (TBM = the time of both).
//
// One difference, on purpose: upstream never checks the end of an instance. Here a valid instance
// must also leave the matcher accepting (else it is a validation error), and an invalid instance
// whose tokens all pass is still refused if the matcher is not accepting at its end (the issue's
// rule: "refused at some token or at the end"). Such end-only refusals are counted apart.
#pragma once

#include "dataset.hpp"

#include "llmhost/constraint/constraint.hpp"
#include "llmhost/tokenizer/tokenizer.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmhost::maskbench {

enum class Outcome { passing, compile_error, validation_error, invalidation_error, timeout };
const char *outcome_name(Outcome o);

struct RunOptions {
    // Per schema, compile + all instances (upstream: 900 s). A compile that alone takes longer
    // is also a timeout.
    double timeout_s = 900.0;
    // TBM/TTFM as this thread's CPU time instead of wall-clock time (upstream's measure). Only
    // for a loaded machine, where preemption inflates the wall-clock tail; say so when quoting.
    bool cpu_time = false;
};

struct SchemaResult {
    std::string id;
    std::string split;
    Outcome outcome = Outcome::passing;
    // The compile error, or the last failing instance ("test #i: ..."), as upstream reports it.
    std::string message;
    // Compile failures: true for a constraint::CompileError (names keyword + pointer), false for
    // any other exception (an engine bug: never acceptable).
    bool clear_compile_error = false;
    int64_t ttfm_ns = 0;
    std::vector<int64_t> mask_ns; // one per committed-or-refused token
    std::size_t tokens = 0;
    std::size_t valid_accepted = 0;
    std::size_t valid_refused = 0;
    std::size_t invalid_refused = 0;
    std::size_t invalid_refused_at_end = 0; // all tokens passed, not accepting at the end
    std::size_t invalid_accepted = 0;
    // The mask allowed a token that advance() then refused, or an accepting matcher's mask lacked
    // EOS: the matcher contradicts itself (a bug, counted as a failure of that instance).
    std::size_t inconsistencies = 0;
    std::size_t exceptions = 0; // thrown while matching (upstream: a validation error, "EXN")
};

class Runner {
public:
    Runner(const tok::Tokenizer &tokenizer,
           std::shared_ptr<const constraint::TokenVocabulary> vocabulary, RunOptions options = {});
    SchemaResult run(const SchemaCase &schema) const;

private:
    const tok::Tokenizer &tokenizer_;
    std::shared_ptr<const constraint::TokenVocabulary> vocabulary_;
    RunOptions options_;
};

} // namespace llmhost::maskbench
