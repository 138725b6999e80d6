// Pieces several commands share: sampling options, provider selection, exit-code mapping,
// usage errors found after parsing, and the usage/timing line printed with -v.
#pragma once

#include "command_registry.hpp"

#include <llmhost/host.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::cli {

// A command line that parsed but makes no sense (e.g. no prompt given): exit code 2.
class UsageError : public std::runtime_error {
public:
    UsageError(const std::string &message, std::string hint = {})
        : std::runtime_error(message), hint_(std::move(hint)) {}
    const std::string &hint() const { return hint_; }

private:
    std::string hint_;
};

// llmh_status / LLMHOST_ERR_* -> ExitCode. Implemented in main.cpp.
int exit_code_for(int code);
// Prints "error: ..." and "hint: ..." and returns the exit code for e. Implemented in main.cpp.
int report_host_error(const HostError &e);

// --max-tokens, --temperature, --top-p, --top-k, --min-p, --repetition-penalty, --seed, --stop.
struct SamplingOptions {
    int max_tokens = 0;
    float temperature = -1.0f;
    float top_p = 0.0f;
    int top_k = 0;
    float min_p = 0.0f;
    float repetition_penalty = 0.0f;
    uint64_t seed = 0;
    CLI::Option *seed_option = nullptr; // seed is set when this option was given
    std::vector<std::string> stop;

    void add_to(CLI::App *cmd);
    void apply_to(GenerateRequest &request) const;
};

// -p/--provider, -m/--model, --device: stored in ctx as host overrides.
void add_provider_options(CLI::App *cmd, Context &ctx);

// "provider echo: finish=stop, prompt 3 tokens, completion 5 tokens, first token 0.1 ms,
//  total 0.4 ms, 12500.0 tokens/s"
std::string describe_result(const GenerateResult &result);

// Rows as left-aligned columns separated by two spaces; the last column is not padded.
std::string format_table(const std::vector<std::vector<std::string>> &rows);

bool stdin_is_terminal();
bool stdout_is_terminal();

} // namespace llmhost::cli
