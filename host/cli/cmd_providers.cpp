// `llmhost providers`: the providers the configuration (or the environment) defines, which one is
// the default, and their state; --models asks each one for the models it can serve.
#include "cli_common.hpp"
#include "console.hpp"

#include <llmhost/host.hpp>

namespace llmhost::cli {

namespace {

struct ProvidersOptions {
    bool models = false;
    bool as_json = false;
};

void run_providers(Context &ctx, const ProvidersOptions &opt) {
    Host &host = ctx.host();
    auto providers = host.providers();
    Console &out = Console::get();
    if (providers.empty() && !opt.as_json) {
        out.out_line("No provider configured.");
        out.err_line("hint: add one to the config file (see docs/configuration.md) or set "
                     "LLM_PROVIDER with OPENAI_API_KEY / HF_TOKEN / HF_MODEL_PATH");
        return;
    }
    nlohmann::json arr = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows = {{"NAME", "PLUGIN", "STATE", "DEFAULT", "DETAIL"}};
    int failures = 0;
    for (const auto &p : providers) {
        nlohmann::json j = {{"name", p.name},       {"plugin", p.plugin},
                            {"default", p.is_default}, {"state", to_string(p.state)},
                            {"instances_created", p.generation}};
        std::string detail = p.state == ProviderState::failed ? p.error : "";
        if (!p.route_targets.empty()) { // a route: what it spreads over
            j["route_targets"] = p.route_targets;
            for (const auto &t : p.route_targets)
                detail += (detail.empty() ? "targets: " : ", ") + t;
        }
        if (opt.models) {
            // Listing models creates the instance: a failure is reported in the row, not fatal.
            try {
                nlohmann::json models = nlohmann::json::array();
                std::string ids;
                for (const auto &m : host.list_models(p.name)) {
                    models.push_back({{"id", m.id}, {"description", m.description}});
                    ids += (ids.empty() ? "" : ", ") + m.id;
                }
                j["models"] = models;
                detail = "models: " + (ids.empty() ? std::string("(none listed)") : ids);
            } catch (const HostError &e) {
                j["error"] = e.what();
                detail = std::string("error: ") + e.what();
                ++failures;
            }
        } else if (p.state == ProviderState::failed) {
            j["error"] = p.error;
        }
        arr.push_back(j);
        rows.push_back({p.name, p.plugin, to_string(p.state), p.is_default ? "*" : "", detail});
    }
    if (opt.as_json) out.out_line(arr.dump(2));
    else out.out(format_table(rows));
    if (failures > 0) ctx.exit_code = kExitFailure;
}

void register_providers(CLI::App &app, Context &ctx) {
    auto *cmd = app.add_subcommand("providers", "List the configured providers");
    auto opt = std::make_shared<ProvidersOptions>();
    cmd->add_flag("--models", opt->models, "Also list each provider's models (starts each provider)");
    cmd->add_flag("--json", opt->as_json, "Print a JSON array instead of a table");
    cmd->callback([&ctx, opt] { run_providers(ctx, *opt); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(providers, llmhost::cli::register_providers)
