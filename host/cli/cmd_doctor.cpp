// `llmhost doctor`: checks the setup and says what to fix — the configuration file (found? valid?),
// each provider's secrets and where they come from (never their values), the plugins (and why a
// bad one failed), the Hugging Face cache directory and its free space, whether a CUDA GPU is
// visible, and which BLAS the system's libblas.so.3 is (the reference one makes fp32 on CPU
// slow). Keeps going after a failure so one run shows every problem. Exit 0 when none is found.
#include "cli_common.hpp"
#include "console.hpp"
#include "platform.hpp"
#include "progress_bar.hpp"
#include "system_probe.hpp"

#include "secret_patterns.hpp"

#include <llmhost/host.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace llmhost::cli {

namespace {

class Report {
public:
    explicit Report(Console &c) : console_(c) {}
    void section(const std::string &title) { console_.out_line("\n" + title); }
    void ok(const std::string &what) { console_.out_line("  ok    " + what); }
    void note(const std::string &what) { console_.out_line("  --    " + what); }
    void warn(const std::string &what, const std::string &hint = {}) {
        console_.out_line("  WARN  " + what);
        if (!hint.empty()) console_.out_line("        hint: " + hint);
        ++warnings_;
    }
    void fail(const std::string &what, const std::string &hint = {}) {
        console_.out_line("  FAIL  " + what);
        if (!hint.empty()) console_.out_line("        hint: " + hint);
        ++problems_;
    }
    int problems() const { return problems_; }
    int warnings() const { return warnings_; }

private:
    Console &console_;
    int problems_ = 0;
    int warnings_ = 0;
};

// The secrets a provider's plugin declares in its manifest, plus any the config names.
std::set<std::string> secret_names(const ProviderInfo &p, const nlohmann::json &manifest,
                                   const nlohmann::json &display) {
    std::set<std::string> names;
    if (manifest.is_object() && manifest.contains("secrets") && manifest["secrets"].is_object())
        for (auto it = manifest["secrets"].begin(); it != manifest["secrets"].end(); ++it)
            names.insert(it.key());
    // Looked up by key, not by a JSON pointer: a provider may be named "a~b" or "a/b".
    const auto &providers = display.value("providers", nlohmann::json::object());
    if (auto it = providers.find(p.name); it != providers.end() && it->is_object())
        if (auto s = it->find("secrets"); s != it->end() && s->is_object())
            for (auto jt = s->begin(); jt != s->end(); ++jt) names.insert(jt.key());
    return names;
}

// The variables the plugins' manifests read (values of config variables shown, secrets by
// presence only), then any other credential-looking variable that is set (presence only).
void check_environment(Report &r, Host *host) {
    r.section("Environment");
    if (const char *v = std::getenv("LLM_PROVIDER"); v && *v)
        r.ok(std::string("LLM_PROVIDER=") + v);
    std::set<std::string> listed = {"LLM_PROVIDER"};
    std::vector<std::string> secret_vars;
    std::set<std::string> plugins_seen;
    for (const auto &p : host ? host->plugins() : std::vector<PluginInfo>{}) {
        if (!p.loaded || !p.manifest.is_object() || !plugins_seen.insert(p.name).second) continue;
        for (const auto &e : p.manifest.value("env", nlohmann::json::array())) {
            const bool secret = e.contains("secret");
            for (const auto &src : e.value("from", nlohmann::json::array())) {
                std::string var = src.is_string()   ? src.get<std::string>()
                                  : src.is_object() ? src.value("env", "")
                                                    : "";
                if (var.empty() || !listed.insert(var).second) continue;
                if (secret) {
                    secret_vars.push_back(var);
                } else if (const char *v = std::getenv(var.c_str()); v && *v) {
                    r.ok(var + "=" + v + " (" + p.name + ")");
                }
            }
        }
    }
    for (const std::string &entry : detail::platform::environment_entries()) { // UTF-8 everywhere
        std::string name = entry.substr(0, entry.find('='));
        if (!listed.count(name) && detail::looks_like_secret_key(name) &&
            entry.size() > name.size() + 1) {
            secret_vars.push_back(name);
            listed.insert(name);
        }
    }
    // Secrets: presence only.
    for (const auto &var : secret_vars) {
        const char *v = std::getenv(var.c_str());
        if (v && *v)
            r.ok(var + " is set");
        else
            r.note(var + " is not set");
    }
}

void check_providers(Report &r, Host &host) {
    r.section("Providers");
    auto providers = host.providers();
    auto plugins = host.plugins();
    auto display = host.resolved_config_for_display();
    if (providers.empty())
        r.warn("no provider configured", "add one to the config file (docs/configuration.md) or "
                                         "set LLM_PROVIDER and its secret");
    for (const auto &p : providers) {
        std::string label =
            p.name + " (plugin " + p.plugin + (p.is_default ? ", default" : "") + ")";
        bool plugin_found = false;
        for (const auto &pl : plugins)
            plugin_found |= pl.loaded && (pl.name == p.plugin || pl.path == p.plugin);
        if (p.state == ProviderState::failed)
            r.fail(label + ": " + p.error);
        else if (!plugin_found)
            r.fail(label + ": no loaded plugin is named '" + p.plugin + "'",
                   "see `llmhost plugins`; add its directory with --plugin-dir or plugin_dirs");
        else
            r.ok(label + ": " + to_string(p.state));
        const nlohmann::json manifest = host.provider_manifest(p.name);
        for (const auto &name : secret_names(p, manifest, display)) {
            auto s = host.secret(p.name, name);
            nlohmann::json decl = manifest.is_object()
                                      ? manifest.value("secrets", nlohmann::json::object())
                                            .value(name, nlohmann::json::object())
                                      : nlohmann::json::object();
            if (s)
                r.ok(p.name + " secret '" + name + "': set (from " + s->source + ")");
            else if (decl.value("expected", false))
                r.warn(p.name + " secret '" + name + "': not set", decl.value("hint", ""));
            else
                r.note(p.name + " secret '" + name + "': not set");
        }
    }
}

void check_plugins(Report &r, Host &host) {
    r.section("Plugins");
    auto plugins = host.plugins();
    if (plugins.empty())
        r.warn("no plugin found", "build them (scripts/test.sh) or point --plugin-dir / "
                                  "$LLMHOST_PLUGIN_PATH at their directory");
    for (const auto &p : plugins) {
        if (p.loaded)
            r.ok(p.name + " " + p.version + " (ABI " + std::to_string(p.abi_major) + "." +
                 std::to_string(p.abi_minor) + ", " + capability_names(p.capabilities) + ") " +
                 p.path + (p.shadowed_by.empty() ? "" : " (shadowed by " + p.shadowed_by + ")"));
        else
            r.fail(p.error, p.hint);
    }
    std::string dirs;
    for (const auto &d : host.plugin_search_path())
        dirs += (dirs.empty() ? "" : std::string(1, detail::platform::path_list_separator)) + d;
    r.note("searched: " + dirs);
}

void check_cache(Report &r, Host *host) {
    r.section("Hugging Face cache");
    // The cache_dir the huggingface provider really gets (its manifest's bridge), when there is
    // one.
    std::string path, source;
    if (host)
        for (const auto &p : host->providers()) {
            auto cfg = host->provider_config(p.name);
            if (p.plugin != "huggingface" || !cfg || !cfg->contains("cache_dir") ||
                !(*cfg)["cache_dir"].is_string())
                continue;
            path = (*cfg)["cache_dir"].get<std::string>();
            auto shown = host->resolved_config_for_display()["providers"][p.name]["sources"];
            source = shown.value("cache_dir", "config");
            break;
        }
    auto c = probe_hf_cache_dir(path, source);
    std::string where = c.path + " (from " + c.source + ")";
    std::string space =
        c.free_bytes ? ProgressBar::format_bytes(static_cast<double>(*c.free_bytes)) + " free"
                     : std::string("free space unknown");
    if (!c.exists)
        r.note(where + ": does not exist yet (created on first download); " + space + " on " +
               c.checked);
    else if (c.free_bytes && *c.free_bytes < 5'000'000'000ULL)
        r.warn(where + ": only " + space,
               "models need several GB; set HF_HUB_CACHE to a larger disk");
    else
        r.ok(where + ", " + space);
}

void check_gpu(Report &r) {
    r.section("GPU");
    auto g = probe_gpu();
    if (!g.not_probed.empty()) {
        r.note(g.not_probed);
        return;
    }
    if (g.cuda_visible_devices) r.note("CUDA_VISIBLE_DEVICES=" + *g.cuda_visible_devices);
    if (!g.driver_loaded) {
        r.note(
            "no NVIDIA driver (/proc/driver/nvidia absent): the huggingface provider runs on CPU");
        return;
    }
    if (!g.driver_version.empty()) r.ok(g.driver_version);
    for (const auto &line : g.smi_list) r.ok(line);
    if (g.smi_list.empty())
        for (const auto &d : g.devices) r.ok(d);
    if (g.visible())
        r.ok("CUDA is visible to this process (HF_DEVICE=auto will use cuda:0)");
    else
        r.warn("an NVIDIA driver is loaded but no device is visible to this process",
               "check CUDA_VISIBLE_DEVICES and the container's device mounts");
}

// A system probe, not a plugin's: libtorch (and numpy, and most of what does fp32 matmuls on a
// CPU) binds to libblas.so.3, and Debian's default for it is the unoptimized reference BLAS.
void check_blas(Report &r) {
    r.section("BLAS (CPU matrix multiplication)");
    const BlasInfo b = probe_blas();
    if (!b.not_probed.empty()) {
        r.note(b.not_probed);
        return;
    }
    if (!b.found) {
        r.note(b.soname + " not found: nothing on this system links a BLAS through it");
        return;
    }
    std::string what = b.soname + " -> " + b.library + ": " + b.kind;
    if (!b.detail.empty()) what += " (" + b.detail + ")";
    if (b.reference)
        r.warn(what, kReferenceBlasFix);
    else
        r.ok(what);
}

void run_doctor(Context &ctx) {
    Console &console = Console::get();
    Report r(console);
    console.out_line(std::string("llmhost ") + llmhost_version() + ", plugin ABI " +
                     std::to_string(LLMH_ABI_MAJOR) + "." + std::to_string(LLMH_ABI_MINOR));
    r.section("Configuration");
    Host *host = nullptr;
    int open_error = 0;
    try {
        host = &ctx.host();
        std::string path = host->config_path();
        if (path.empty())
            r.note("no configuration file (looked at --config, $LLMHOST_CONFIG, ./llmhost.json, " +
                   std::string(detail::platform::config_location_hint) +
                   "): providers come from the environment");
        else
            r.ok("configuration file " + path);
        std::string def = host->default_provider();
        if (def.empty())
            r.warn("no default provider", "set \"default_provider\" or LLM_PROVIDER");
        else
            r.ok("default provider: " + def);
    } catch (const HostError &e) {
        r.fail(e.what(), e.hint());
        open_error = e.code();
    }
    check_environment(r, host);
    if (host) {
        check_providers(r, *host);
        check_plugins(r, *host);
    }
    check_cache(r, host);
    check_gpu(r);
    check_blas(r);

    console.out_line("");
    if (r.problems() == 0)
        console.out_line(
            "No problem found" +
            (r.warnings() ? " (" + std::to_string(r.warnings()) + " warning(s))" : std::string()) +
            ".");
    else
        console.out_line(std::to_string(r.problems()) + " problem(s) found.");
    if (open_error)
        ctx.exit_code = exit_code_for(open_error);
    else if (r.problems() > 0)
        ctx.exit_code = kExitFailure;
}

void register_doctor(CLI::App &app, Context &ctx) {
    app.add_subcommand("doctor", "Check the configuration, secrets, plugins, cache, GPU and BLAS")
        ->callback([&ctx] { run_doctor(ctx); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(doctor, llmhost::cli::register_doctor)
