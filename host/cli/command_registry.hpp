// How `llmhost` subcommands plug into the CLI: each command group lives in its own cmd_<group>.cpp
// and registers itself with LLMHOST_CLI_COMMAND; main.cpp builds the CLI11 app from the registry.
// This keeps main.cpp free of knowledge about the Hub client, the mirror, the tokenizer or the server,
// and lets host/cli/CMakeLists.txt include a group only when its library is built.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace llmhost {
class Host;
}

namespace llmhost::cli {

// Process exit codes (documented in docs/cli.md and `llmhost --help`).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,      // the operation failed (message on stderr)
    kExitUsage = 2,        // bad command line
    kExitConfig = 3,       // configuration file / environment invalid
    kExitAuth = 4,         // auth_required, auth_invalid, gated
    kExitNotFound = 5,     // model / repo / file / provider not found
    kExitNetwork = 6,      // network, timeout, rate_limited
    kExitPlugin = 7,       // plugin could not be loaded
    kExitCancelled = 130,  // interrupted (SIGINT)
};

// State shared by all commands: global options, and the host, opened on first use.
struct Context {
    std::string config_path;              // --config (empty: the default search)
    std::vector<std::string> plugin_dirs; // --plugin-dir (repeatable)
    bool no_default_plugin_dirs = false;  // --no-default-plugin-dirs: only --plugin-dir + config's
    bool verbose = false;                 // -v: debug logs to stderr
    bool quiet = false;                   // -q: warnings and errors only

    // Command-line overrides a command may set before its first host() call (HostOptions'
    // default_provider / model / device: they beat the config file and the environment).
    std::string provider_override;        // -p/--provider
    std::string model_override;           // -m/--model
    std::string device_override;          // --device

    // Opens the host (config file + environment bridge + plugin discovery) on first call.
    // Throws llmhost::HostError (see <llmhost/host.hpp>) on failure. Implemented in main.cpp.
    llmhost::Host &host();

    // Set by a command's callback; main returns it.
    int exit_code = kExitOk;

    std::unique_ptr<llmhost::Host> host_;
    ~Context();
};

using RegisterFn = void (*)(CLI::App &app, Context &ctx);

// Registered command groups, in registration order.
std::vector<std::pair<std::string, RegisterFn>> &command_registry();

struct Registrar {
    Registrar(const char *name, RegisterFn fn) { command_registry().emplace_back(name, fn); }
};

} // namespace llmhost::cli

// In a cmd_<group>.cpp:  LLMHOST_CLI_COMMAND(hub, register_hub_commands)
#define LLMHOST_CLI_COMMAND(NAME, FN) \
    static const ::llmhost::cli::Registrar llmhost_cli_registrar_##NAME(#NAME, FN);
