// `llmhost config show`: the configuration as the host resolved it (file + environment + flags,
// ${VAR}s expanded), secrets shown as "hf_…(set, from HF_TOKEN)", never their values.
// `llmhost config path`: which configuration file is in use.
#include "cli_common.hpp"
#include "console.hpp"
#include "platform.hpp"

#include <llmhost/host.hpp>

namespace llmhost::cli {

namespace {

void run_show(Context &ctx) {
    Host &host = ctx.host();
    std::string path = host.config_path();
    if (!ctx.quiet)
        Console::get().err_line(path.empty()
                                    ? "# no configuration file: providers come from the environment"
                                    : "# from " + path);
    // dump() escapes nothing we need hidden: the host already replaced secrets with
    // descriptions; the console redacts once more on the way out.
    Console::get().out_line(host.resolved_config_for_display().dump(2));
}

void run_path(Context &ctx) {
    std::string path = ctx.host().config_path();
    if (path.empty()) {
        Console::get().err_line(
            "no configuration file found (looked at --config, $LLMHOST_CONFIG, ./llmhost.json, " +
            std::string(detail::platform::config_location_hint) + ")");
        ctx.exit_code = kExitNotFound;
        return;
    }
    Console::get().out_line(path);
}

void register_config(CLI::App &app, Context &ctx) {
    auto *cmd = app.add_subcommand("config", "Show the resolved configuration");
    cmd->require_subcommand(1);
    cmd->add_subcommand("show", "Print the resolved configuration as JSON (secrets never shown)")
        ->callback([&ctx] { run_show(ctx); });
    cmd->add_subcommand("path", "Print the path of the configuration file in use")
        ->callback([&ctx] { run_path(ctx); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(config, llmhost::cli::register_config)
