#include "cli_common.hpp"

#include "terminal.hpp"

#include <algorithm>
#include <cstdio>

namespace llmhost::cli {

void SamplingOptions::add_to(CLI::App *cmd) {
    cmd->add_option("--max-tokens", max_tokens, "Most tokens to generate (default: the provider's)")
        ->option_text("N")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", temperature, "Sampling temperature; 0 = greedy")
        ->option_text("T")
        ->check(CLI::Range(0.0, 100.0));
    cmd->add_option("--top-p", top_p, "Nucleus sampling: keep the smallest set with this mass")
        ->option_text("P")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--top-k", top_k, "Keep only the K most likely tokens")
        ->option_text("K")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--min-p", min_p, "Drop tokens below this fraction of the top probability")
        ->option_text("P")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--repetition-penalty", repetition_penalty,
                    "Penalize repeated tokens (1 = off)")
        ->option_text("R")
        ->check(CLI::Range(0.0, 100.0));
    seed_option = cmd->add_option("--seed", seed, "Random seed: the same seed gives the same text")
                      ->option_text("N");
    cmd->add_option("--stop", stop, "Stop at this string (repeatable; not included in the output)")
        ->option_text("S")
        ->allow_extra_args(false);
}

void SamplingOptions::apply_to(GenerateRequest &request) const {
    request.max_tokens = max_tokens;
    request.temperature = temperature;
    request.top_p = top_p;
    request.top_k = top_k;
    request.min_p = min_p;
    request.repetition_penalty = repetition_penalty;
    if (seed_option && seed_option->count() > 0) request.seed = seed;
    request.stop = stop;
}

void add_provider_options(CLI::App *cmd, Context &ctx) {
    cmd->add_option("-p,--provider", ctx.provider_override,
                    "Provider to use (default: the configured default)")
        ->option_text("NAME");
    cmd->add_option("-m,--model", ctx.model_override,
                    "Model for the provider (its \"model\" config key)")
        ->option_text("MODEL");
    cmd->add_option(
           "--device", ctx.device_override,
           "Device, for plugins that declare --device (huggingface: auto, cpu, cuda, cuda:N)")
        ->option_text("DEV");
}

std::string describe_result(const GenerateResult &r) {
    char buf[512];
    double decode_ms = r.total_ms - r.time_to_first_token_ms;
    double tps = (decode_ms > 0 && r.completion_tokens > 1)
                     ? (r.completion_tokens - 1) * 1000.0 / decode_ms
                     : 0.0;
    std::snprintf(buf, sizeof buf,
                  ": finish=%s, prompt %u tokens, completion %u tokens, first token "
                  "%.1f ms, total %.1f ms, %.1f tokens/s",
                  r.finish_reason_name(), r.prompt_tokens, r.completion_tokens,
                  r.time_to_first_token_ms, r.total_ms, tps);
    // A route names the target that answered ("provider smart, served by local/tiny").
    std::string who = "provider " + r.provider;
    if (!r.served_by.empty() && r.served_by != r.provider) who += ", served by " + r.served_by;
    return who + buf;
}

std::string format_table(const std::vector<std::vector<std::string>> &rows) {
    std::vector<size_t> width;
    for (const auto &row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto &row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

bool stdin_is_terminal() { return terminal::is_terminal(stdin); }
bool stdout_is_terminal() { return terminal::is_terminal(stdout); }

} // namespace llmhost::cli
