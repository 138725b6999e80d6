#include "runner.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace llmhost::maskbench {

namespace cst = llmhost::constraint;
using Clock = std::chrono::steady_clock;

namespace {

int64_t ns_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// The clock TBM/TTFM are read from: wall-clock (steady) or this thread's CPU time.
int64_t sample_ns(bool cpu) {
    if (!cpu)
        return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool any_eos_set(const cst::TokenVocabulary &vocab, std::span<const uint32_t> mask) {
    for (int32_t id : vocab.eos_ids())
        if (cst::mask_test(mask, id)) return true;
    return false;
}

std::string json_quoted(const std::string &s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "refused at token 7 "Ġfoo" after "...the last 40 bytes before it"": enough to find the bug.
std::string describe_refusal(const tok::Tokenizer &tok, const std::vector<int32_t> &ids,
                             std::size_t k) {
    std::string before = tok.decode(std::span<const int32_t>(ids.data(), k));
    if (before.size() > 40) before = before.substr(before.size() - 40);
    return "refused at token " + std::to_string(k) + " " + json_quoted(tok.id_to_token(ids[k])) +
           " after " + json_quoted(before);
}

} // namespace

const char *outcome_name(Outcome o) {
    switch (o) {
    case Outcome::passing: return "passing";
    case Outcome::compile_error: return "compile error";
    case Outcome::validation_error: return "validation error";
    case Outcome::invalidation_error: return "invalidation error";
    case Outcome::timeout: return "timeout";
    }
    return "?";
}

Runner::Runner(const tok::Tokenizer &tokenizer,
               std::shared_ptr<const cst::TokenVocabulary> vocabulary, RunOptions options)
    : tokenizer_(tokenizer), vocabulary_(std::move(vocabulary)), options_(options) {}

SchemaResult Runner::run(const SchemaCase &sc) const {
    SchemaResult r;
    r.id = sc.id;
    r.split = sc.split;
    const auto budget_ns = static_cast<int64_t>(options_.timeout_s * 1e9);
    const auto start = Clock::now();

    // TTFM: everything needed before the first mask (LLGuidance's row times LLMatcher creation,
    // which also binds the grammar to the tokenizer).
    std::shared_ptr<const cst::Constraint> constraint;
    try {
        const int64_t t0 = sample_ns(options_.cpu_time);
        auto grammar = cst::Grammar::from_json_schema(sc.schema);
        constraint = cst::Constraint::create(grammar, vocabulary_);
        r.ttfm_ns = sample_ns(options_.cpu_time) - t0;
    } catch (const cst::CompileError &e) {
        r.outcome = Outcome::compile_error;
        r.clear_compile_error = true;
        r.message = e.what();
        return r;
    } catch (const std::exception &e) {
        r.outcome = Outcome::compile_error;
        r.message = std::string("unexpected exception: ") + e.what();
        return r;
    }
    if (r.ttfm_ns > budget_ns) {
        r.outcome = Outcome::timeout;
        r.message = "compile exceeded the time limit";
        return r;
    }

    cst::Matcher matcher(constraint);
    std::vector<uint32_t> mask(cst::mask_words(vocabulary_->size()));
    bool failed_valid = false, failed_invalid = false;
    for (std::size_t i = 0; i < sc.tests.size(); ++i) {
        const TestCase &tc = sc.tests[i];
        const std::string label = "test #" + std::to_string(i);
        matcher.reset();
        const std::vector<int32_t> ids = tokenizer_.encode(tc.text, false);
        bool all_passed = true;
        std::string why;
        try {
            for (std::size_t k = 0; k < ids.size(); ++k) {
                if (ns_since(start) > budget_ns) {
                    r.outcome = Outcome::timeout;
                    r.message = label + ": time limit reached";
                    return r;
                }
                const int64_t t0 = sample_ns(options_.cpu_time);
                matcher.fill_mask(mask);
                bool ok = cst::mask_test(mask, ids[k]);
                bool advanced = ok && matcher.advance(ids[k]);
                r.mask_ns.push_back(sample_ns(options_.cpu_time) - t0);
                ++r.tokens;
                if (ok && !advanced) {
                    ++r.inconsistencies;
                    why = "mask allowed token " + std::to_string(k) + " but advance() refused it";
                }
                if (!advanced) {
                    all_passed = false;
                    if (why.empty()) why = describe_refusal(tokenizer_, ids, k);
                    break;
                }
            }
        } catch (const std::exception &e) {
            // Upstream counts an exception while matching as a validation error ("EXN").
            ++r.exceptions;
            failed_valid = true;
            failed_invalid = false;
            r.message = label + ": EXN " + e.what();
            continue;
        }
        bool accepting = all_passed && matcher.is_accepting();
        if (accepting) {
            matcher.fill_mask(mask); // not timed: upstream takes no mask after the last token
            if (!any_eos_set(*vocabulary_, mask)) {
                ++r.inconsistencies;
                accepting = false;
                why = "accepting, but the mask after the last token has no EOS";
            }
        } else if (all_passed && why.empty()) {
            why = "all tokens passed but the matcher is not accepting at the end";
        }
        if (tc.valid) {
            if (accepting) {
                ++r.valid_accepted;
            } else {
                ++r.valid_refused;
                failed_valid = true;
                failed_invalid = false; // upstream keeps the last failure only
                r.message = label + ": should accept but didn't (" + why + ")";
            }
        } else {
            if (!accepting) {
                ++r.invalid_refused;
                if (all_passed) ++r.invalid_refused_at_end;
            } else {
                ++r.invalid_accepted;
                failed_invalid = true;
                failed_valid = false;
                r.message = label + ": should reject but didn't";
            }
        }
    }
    if (failed_valid)
        r.outcome = Outcome::validation_error;
    else if (failed_invalid)
        r.outcome = Outcome::invalidation_error;
    return r;
}

} // namespace llmhost::maskbench
