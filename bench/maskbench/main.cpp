// bench_maskbench: MaskBench (github guidance-ai/jsonschemabench, maskbench/) on llmhost's
// constraint engine, single thread, printing the README's table next to LLGuidance's published
// column.
//
// usage: bench_maskbench --data FILE.jsonl [--tokenizer tokenizer.json] [--timeout-s S]
//                        [--limit N] [--only SUBSTR] [--results OUT.jsonl] [--isolate]
//                        [--cpu-time]
// --isolate runs each schema in a forked child (as upstream does): a hang is killed at the time
// limit and a crash is counted, at the price of cold per-process caches for every schema.
// FILE.jsonl: tests/fixtures/maskbench/subset.jsonl (300 schemas), or the full set exported with
// `tests/fixtures/maskbench/make_subset.py --all --out FILE`. Run pinned to one core (taskset -c 0)
// on an otherwise idle machine; say which machine when quoting the numbers.
#include "dataset.hpp"
#include "isolate.hpp"
#include "report.hpp"
#include "runner.hpp"

#include "llmhost/constraint/tokenizer_vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace mb = llmhost::maskbench;

namespace {

[[noreturn]] void usage(const char *why) {
    std::cerr
        << "bench_maskbench: " << why << "\n"
        << "usage: bench_maskbench --data FILE.jsonl [--tokenizer tokenizer.json] [--timeout-s S]\n"
           "                       [--limit N] [--only SUBSTR] [--results OUT.jsonl] [--isolate]\n"
           "                       [--cpu-time]\n";
    std::exit(2);
}

// Llama-3.1 instruct ends a turn with <|eot_id|>; <|end_of_text|> and <|eom_id|> end it too.
std::vector<int32_t> llama3_eos(const llmhost::tok::Tokenizer &tok) {
    std::vector<int32_t> ids;
    for (const char *name : {"<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"})
        if (auto id = tok.token_to_id(name)) ids.push_back(*id);
    return ids;
}

} // namespace

int main(int argc, char **argv) {
    std::string data, results_path;
    std::string tokenizer_path = LLMHOST_MASKBENCH_TOKENIZER;
    std::string only;
    mb::RunOptions options;
    std::size_t limit = 0;
    bool isolate = false;
    for (int i = 1; i < argc; ++i) {
        auto value = [&](const char *flag) -> std::string {
            if (i + 1 >= argc) usage((std::string(flag) + " needs a value").c_str());
            return argv[++i];
        };
        std::string a = argv[i];
        if (a == "--data")
            data = value("--data");
        else if (a == "--tokenizer")
            tokenizer_path = value("--tokenizer");
        else if (a == "--results")
            results_path = value("--results");
        else if (a == "--only")
            only = value("--only");
        else if (a == "--isolate")
            isolate = true;
        else if (a == "--cpu-time") // TBM/TTFM in thread CPU time (loaded machines)
            options.cpu_time = true;
        else if (a == "--timeout-s") {
            char *end = nullptr;
            std::string v = value("--timeout-s");
            options.timeout_s = std::strtod(v.c_str(), &end);
            if (end == v.c_str() || *end || !(options.timeout_s > 0))
                usage("--timeout-s must be a positive number");
        } else if (a == "--limit") {
            char *end = nullptr;
            std::string v = value("--limit");
            limit = std::strtoull(v.c_str(), &end, 10);
            if (end == v.c_str() || *end) usage("--limit must be a whole number");
        } else
            usage(("unknown argument " + a).c_str());
    }
    if (data.empty()) usage("--data is required");

    try {
        auto cases = mb::load_dataset(data);
        auto tok = llmhost::tok::Tokenizer::from_file(tokenizer_path);
        auto eos = llama3_eos(tok);
        if (eos.empty())
            throw std::runtime_error(tokenizer_path + ": no Llama-3 end-of-turn token");
        auto vocab = llmhost::constraint::vocabulary_from_tokenizer(tok, eos);
        mb::Runner runner(tok, vocab, options);

        std::ofstream results;
        if (!results_path.empty()) {
            results.open(results_path);
            if (!results) throw std::runtime_error(results_path + ": cannot write");
        }
        std::vector<mb::SchemaResult> all;
        std::size_t segfaults = 0, aborts = 0, other_deaths = 0, dead = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (const auto &c : cases) {
            if (!only.empty() && c.id.find(only) == std::string::npos) continue;
            if (limit && all.size() + dead == limit) break;
            if (isolate) {
                auto ir = mb::run_isolated(runner, c, options.timeout_s);
                if (ir.signal != 0) {
                    if (ir.signal == SIGSEGV || ir.signal == SIGBUS)
                        ++segfaults;
                    else if (ir.signal == SIGABRT)
                        ++aborts;
                    else
                        ++other_deaths;
                    ++dead;
                    if (results)
                        results << nlohmann::json({{"id", c.id},
                                                   {"outcome", "crash"},
                                                   {"message", ir.result.message}})
                                       .dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
                                << "\n";
                    continue;
                }
                all.push_back(std::move(ir.result));
            } else {
                all.push_back(runner.run(c));
            }
            auto &r = all.back();
            if (results) {
                nlohmann::json j = {{"id", r.id},
                                    {"outcome", mb::outcome_name(r.outcome)},
                                    {"message", r.message},
                                    {"ttfm_us", r.ttfm_ns / 1000},
                                    {"tokens", r.tokens},
                                    {"valid_refused", r.valid_refused},
                                    {"invalid_accepted", r.invalid_accepted},
                                    {"inconsistencies", r.inconsistencies}};
                int64_t mx = 0, over = 0;
                for (auto ns : r.mask_ns) {
                    mx = std::max(mx, ns);
                    over += ns > 500000;
                }
                j["max_mask_us"] = mx / 1000;
                // Masks over the TBM p99 target (500 us): which schemas make the tail.
                j["masks_over_500us"] = over;
                results << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            }
            // Progress on stderr for long runs; the table goes to stdout.
            if (all.size() % 500 == 0) std::cerr << all.size() << " schemas\n";
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        auto s = mb::summarize(all, options.timeout_s);
        s.isolated = isolate;
        s.schemas += dead;
        s.segfaults = segfaults;
        s.aborts = aborts;
        s.other_deaths = other_deaths;
        std::cout << "data: " << data << " (" << all.size()
                  << " schemas), tokenizer: " << tokenizer_path << ", vocabulary " << vocab->size()
                  << ", single thread, " << secs << " s total"
                  << (options.cpu_time ? ", TBM/TTFM in thread CPU time (--cpu-time)" : "")
                  << "\n\n";
        mb::print_table(std::cout, s, "llmhost");
        std::cout << "\n";
        mb::print_details(std::cout, s);
    } catch (const std::exception &e) {
        std::cerr << "bench_maskbench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
