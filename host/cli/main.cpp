// `llmhost`: global options, the subcommands registered in command_registry(), the host opened on
// first use, and the mapping from failures to documented exit codes.
#include "cli_common.hpp"
#include "command_registry.hpp"
#include "console.hpp"
#include "early_redaction.hpp"
#include "signals.hpp"
#include "terminal.hpp"

#include <llmhost/host.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <new>

#ifndef LLMHOST_VERSION
#define LLMHOST_VERSION "unknown"
#endif

namespace llmhost::cli {

namespace {

const char *kExamples = R"(
Examples:
  llmhost plugins                              # plugins found, and why a bad one failed
  llmhost providers                            # providers in the configuration
  llmhost generate "Write a haiku about C"     # stream a completion from the default provider
  echo "Summarize this" | llmhost generate -p openai -m gpt-4o-mini
  llmhost generate -p huggingface -m Qwen/Qwen3-0.6B --max-tokens 64 --seed 1 "Hello"
  llmhost chat --system "You are terse."       # interactive; /reset, /exit; SIGHUP reloads config
  llmhost config show                          # resolved config; secrets shown, never their values
  llmhost doctor                               # config, secrets and their source, plugins, cache, GPU
  llmhost --config ./llmhost.json --plugin-dir ./my-plugins plugins

Configuration: --config FILE, else $LLMHOST_CONFIG, else ./llmhost.json, else
$XDG_CONFIG_HOME/llmhost/config.json (%APPDATA%\llmhost\config.json on Windows); without one,
the environment (LLM_PROVIDER, HF_TOKEN, OPENAI_API_KEY, ...) defines the providers.
Documentation: docs/cli.md, docs/configuration.md.

Exit codes:
  0    success
  1    the operation failed (message and hint on stderr)
  2    bad command line
  3    configuration file or environment invalid (file:line:column in the message)
  4    authentication: token missing or rejected, gated model
  5    not found: provider, model, repository, file
  6    network, timeout, rate limited
  7    a plugin could not be loaded
  130  interrupted (Ctrl-C)
)";

llmh_log_level log_level_for(const Context &ctx) {
    if (ctx.verbose) return LLMH_LOG_DEBUG;
    if (ctx.quiet) return LLMH_LOG_WARN;
    return LLMH_LOG_INFO;
}

} // namespace

int exit_code_for(int code) {
    switch (code) {
    case LLMH_OK: return kExitOk;
    case LLMHOST_ERR_CONFIG: return kExitConfig;
    case LLMHOST_ERR_PLUGIN:
    case LLMH_ERR_ABI_MISMATCH: return kExitPlugin;
    case LLMHOST_ERR_NO_PROVIDER:
    case LLMH_ERR_NOT_FOUND: return kExitNotFound;
    case LLMH_ERR_AUTH_REQUIRED:
    case LLMH_ERR_AUTH_INVALID:
    case LLMH_ERR_GATED: return kExitAuth;
    case LLMH_ERR_NETWORK:
    case LLMH_ERR_TIMEOUT:
    case LLMH_ERR_RATE_LIMITED: return kExitNetwork;
    case LLMH_ERR_CANCELLED: return kExitCancelled;
    default: return kExitFailure;
    }
}

int report_host_error(const HostError &e) {
    Console::get().error(e.what(), e.hint());
    return exit_code_for(e.code());
}

llmhost::Host &Context::host() {
    if (host_) return *host_;
    HostOptions options;
    options.config_path = config_path;
    options.plugin_dirs = plugin_dirs;
    options.search_default_plugin_dirs = !no_default_plugin_dirs;
    options.default_provider = provider_override;
    options.model = model_override;
    options.device = device_override;
    options.log_level = log_level_for(*this);
    host_ = Host::open(options); // on failure the console keeps redact_without_host

    Host *h = host_.get();
    Console &console = Console::get();
    console.set_redactor([h](std::string_view text) { return h->redact(text); });
    // Log lines are redacted by the host already; the console redacts again on the way out.
    h->set_log_sink([&console](llmh_log_level level, std::string_view message) {
        console.err_line(std::string("llmhost: ") + llmh_log_level_name(level) + ": " +
                         std::string(message));
    });
    h->set_log_level(log_level_for(*this));
    if (quiet) console.progress().set_enabled(false);
    h->set_progress_sink([&console](std::string_view task, uint64_t done, uint64_t total) {
        console.progress().update(task, done, total);
        return signals::interrupt_pending(); // Ctrl-C cancels a download, too
    });
    return *host_;
}

Context::~Context() {
    // The sinks capture the console, which outlives the host; drop the redactor before the
    // host it points into goes away.
    Console::get().progress().finish();
    if (host_) {
        host_->set_progress_sink({});
        host_->set_log_sink({});
        Console::get().set_redactor(redact_without_host);
    }
}

int run(int argc, char **argv) {
    Context ctx;
    CLI::App app{"llmhost - one interface to many LLM providers, loaded as plugins", "llmhost"};
    app.footer(kExamples);
    app.option_defaults()->always_capture_default(false);
    app.add_option("--config", ctx.config_path, "Configuration file (JSON)")->option_text("FILE");
    app.add_option("--plugin-dir", ctx.plugin_dirs,
                   "Search this directory for plugins first (repeatable)")
        ->option_text("DIR")
        ->allow_extra_args(false);
    app.add_flag(
        "--no-default-plugin-dirs", ctx.no_default_plugin_dirs,
        "Search only --plugin-dir and the config's plugin_dirs (not $LLMHOST_PLUGIN_PATH or "
        "the built-in directories)");
    app.add_flag("-v,--verbose", ctx.verbose, "Debug logs, usage and timings on stderr");
    app.add_flag("-q,--quiet", ctx.quiet, "Only warnings and errors on stderr, no progress bar");
    app.set_version_flag("--version", std::string("llmhost ") + LLMHOST_VERSION + " (library " +
                                          llmhost_version() + ", plugin ABI " +
                                          std::to_string(LLMH_ABI_MAJOR) + "." +
                                          std::to_string(LLMH_ABI_MINOR) + ")");
    app.require_subcommand(1);
    // Global options are accepted after the subcommand too: `llmhost plugins --plugin-dir D`.
    app.fallthrough();

    for (auto &[name, fn] : command_registry()) fn(app, ctx);

    signals::install();
    // Until a host is open (or when opening it fails) the environment's secrets and URL userinfo
    // are still hidden from everything printed.
    Console::get().set_redactor(redact_without_host);
    // UTF-8 arguments on every platform (Windows' argv is in the ANSI code page); CLI11 takes
    // them last-first, without the program name.
    const std::vector<std::string> args = terminal::prepare(argc, argv);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    if (!reversed.empty()) reversed.pop_back();
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return kExitUsage;
    } catch (const HostError &e) {
        return report_host_error(e);
    } catch (const UsageError &e) {
        Console::get().error(e.what(), e.hint());
        return kExitUsage;
    } catch (const std::bad_alloc &) {
        Console::get().error("out of memory");
        return kExitFailure;
    } catch (const std::exception &e) {
        Console::get().error(e.what());
        return kExitFailure;
    }
    return ctx.exit_code;
}

} // namespace llmhost::cli

int main(int argc, char **argv) { return llmhost::cli::run(argc, argv); }
