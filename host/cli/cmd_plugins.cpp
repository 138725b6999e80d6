// `llmhost plugins`: every plugin file found in the search path, with its name, version, ABI and
// capabilities; for a file that failed to load, why, and what to do about it.
#include "cli_common.hpp"
#include "console.hpp"
#include "platform.hpp"

#include <llmhost/host.hpp>

namespace llmhost::cli {

namespace {

nlohmann::json to_json(const PluginInfo &p) {
    nlohmann::json j = {{"path", p.path}, {"loaded", p.loaded}};
    if (p.loaded) {
        j["name"] = p.name;
        j["version"] = p.version;
        j["description"] = p.description;
        j["abi"] = std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
        j["capabilities"] = capability_names(p.capabilities);
        if (!p.shadowed_by.empty()) j["shadowed_by"] = p.shadowed_by;
        if (!p.manifest.is_null()) j["manifest"] = p.manifest; // ABI 1.2: env, secrets, config keys
    } else {
        j["error_code"] = llmhost_status_name(p.error_code);
        j["error"] = p.error;
        j["hint"] = p.hint;
    }
    return j;
}

void run_plugins(Context &ctx, bool as_json) {
    Host &host = ctx.host();
    auto plugins = host.plugins();
    Console &out = Console::get();
    bool any_failed = false;
    for (const auto &p : plugins) any_failed |= !p.loaded;

    if (as_json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto &p : plugins) arr.push_back(to_json(p));
        out.out_line(arr.dump(2));
    } else {
        std::vector<std::vector<std::string>> rows = {
            {"NAME", "VERSION", "ABI", "CAPABILITIES", "PATH"}};
        for (const auto &p : plugins) {
            if (!p.loaded) continue;
            std::string path = p.path;
            if (!p.shadowed_by.empty()) path += "  (shadowed by " + p.shadowed_by + ")";
            rows.push_back({p.name, p.version,
                            std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor),
                            capability_names(p.capabilities), path});
        }
        if (rows.size() > 1)
            out.out(format_table(rows));
        else
            out.out_line("No plugin loaded.");
        for (const auto &p : plugins) {
            if (p.loaded) continue;
            out.out_line("FAILED " + p.path + " [" + llmhost_status_name(p.error_code) + "]");
            out.out_line("  error: " + p.error);
            if (!p.hint.empty()) out.out_line("  hint: " + p.hint);
        }
        if (!ctx.quiet) {
            std::string dirs;
            for (const auto &d : host.plugin_search_path())
                dirs +=
                    (dirs.empty() ? "" : std::string(1, detail::platform::path_list_separator)) + d;
            out.err_line("searched: " + (dirs.empty() ? std::string("(no directory)") : dirs));
        }
    }
    // Scripts can tell "everything loaded" from "something is broken".
    if (any_failed) ctx.exit_code = kExitPlugin;
}

void register_plugins(CLI::App &app, Context &ctx) {
    auto *cmd = app.add_subcommand("plugins", "List the plugins found, and why a bad one failed");
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "Print a JSON array instead of a table");
    cmd->footer("Exit code 7 when a plugin file failed to load (the others are still listed).");
    cmd->callback([&ctx, as_json] { run_plugins(ctx, *as_json); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(plugins, llmhost::cli::register_plugins)
