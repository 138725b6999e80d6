// MaskBench on the committed 300-schema subset, walked through the real constraint engine with the
// Llama-3.1 tokenizer, measured as bench_maskbench measures it. Required: no valid instance
// refused, no invalid instance accepted, every compile failure a CompileError (keyword + JSON
// pointer), no matcher inconsistency or exception, no timeout, and at least --min-passing schemas
// passing (so a compiler that rejects everything cannot pass this test).
//
// usage: maskbench_subset_test [--min-passing N] [--timeout-s S]
#include "dataset.hpp"
#include "report.hpp"
#include "runner.hpp"

#include "llmhost/constraint/tokenizer_vocabulary.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace mb = llmhost::maskbench;

int main(int argc, char **argv) {
    std::size_t min_passing = 0;
    mb::RunOptions options;
    options.timeout_s = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--min-passing")
            min_passing = std::strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--timeout-s")
            options.timeout_s = std::strtod(argv[i + 1], nullptr);
        else {
            std::cerr << "unknown argument " << a << "\n";
            return 2;
        }
    }
    const std::string tokenizer_path = LLMHOST_MASKBENCH_TOKENIZER;
    if (!std::filesystem::exists(tokenizer_path)) {
        std::cout << "SKIP: " << tokenizer_path << " is missing (npm ci in tests/node)\n";
        return 77;
    }
    auto cases = mb::load_dataset(LLMHOST_MASKBENCH_SUBSET);
    auto tok = llmhost::tok::Tokenizer::from_file(tokenizer_path);
    std::vector<int32_t> eos;
    for (const char *name : {"<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"})
        if (auto id = tok.token_to_id(name)) eos.push_back(*id);
    auto vocab = llmhost::constraint::vocabulary_from_tokenizer(tok, eos);
    mb::Runner runner(tok, vocab, options);

    std::vector<mb::SchemaResult> results;
    int failures = 0;
    for (const auto &c : cases) {
        results.push_back(runner.run(c));
        const auto &r = results.back();
        bool bad = r.outcome == mb::Outcome::validation_error ||
                   r.outcome == mb::Outcome::invalidation_error ||
                   r.outcome == mb::Outcome::timeout ||
                   (r.outcome == mb::Outcome::compile_error && !r.clear_compile_error) ||
                   r.inconsistencies || r.exceptions || r.valid_refused || r.invalid_accepted;
        if (bad) {
            ++failures;
            std::cerr << "FAIL " << r.id << ": " << mb::outcome_name(r.outcome) << ": " << r.message
                      << "\n";
        }
    }
    auto s = mb::summarize(results, options.timeout_s);
    mb::print_table(std::cout, s, "llmhost (subset)");
    std::cout << "\n";
    mb::print_details(std::cout, s);
    if (s.passing < min_passing) {
        std::cerr << "FAIL: " << s.passing << " schemas passing, at least " << min_passing
                  << " required\n";
        ++failures;
    }
    if (results.size() != 300) {
        std::cerr << "FAIL: the subset has " << results.size() << " schemas, 300 expected\n";
        ++failures;
    }
    return failures ? 1 : 0;
}
