// Hugging Face Hub commands: `llmhost download`, `llmhost whoami`, `llmhost cache ls|rm`.
//
// The token comes from the host's secret service (config `token` > HF_TOKEN >
// HUGGING_FACE_HUB_TOKEN > token file), the endpoint, cache folder, offline flag and limits from
// the huggingface provider's resolved config (Host::provider_config), which the host fills from the
// plugin's manifest: the commands read their settings exactly as the plugin does. Without any
// configuration the environment bridge defines that provider, so these commands work with nothing
// but environment variables, as `hf download` does.
#include "cli_common.hpp"
#include "console.hpp"
#include "signals.hpp"

#include <llmhost/host.hpp>
#include <llmhost/hub/client.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>

namespace llmhost::cli {

namespace {

struct HubSettings {
    hub::ClientOptions options;
    std::string token_source; // "HF_TOKEN", "config", ... ("" when no token)
};

// The huggingface provider's resolved settings, read from the same resolved config the plugin
// receives (its manifest's environment bridge: HF_ENDPOINT, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE,
// HF_HOME, HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, HF_HUB_*_TIMEOUT) and its token from the host's
// secrets. `provider` empty: the one named "huggingface", else the first provider whose plugin is
// huggingface. Without the huggingface plugin installed there is no such provider: the Hub
// client's own reading of the environment (options_from_env) is all there is, without a token.
HubSettings hub_settings(Context &ctx, const std::string &provider) {
    HubSettings s;
    Host &host = ctx.host();
    std::string name = provider;
    if (name.empty()) {
        for (const auto &p : host.providers())
            if (p.plugin == "huggingface" && (name.empty() || p.name == "huggingface"))
                name = p.name;
        if (name.empty()) {
            s.options = hub::options_from_env();
            return s;
        }
    }
    auto pc = host.provider_config(name);
    if (!pc)
        throw UsageError("no provider named '" + provider + "'",
                         "`llmhost providers` lists the configured providers");
    if (pc->contains("endpoint") && (*pc)["endpoint"].is_string()) {
        s.options.endpoint = (*pc)["endpoint"].get<std::string>();
        while (!s.options.endpoint.empty() && s.options.endpoint.back() == '/')
            s.options.endpoint.pop_back();
    }
    if (pc->contains("cache_dir") && (*pc)["cache_dir"].is_string())
        s.options.cache_dir = (*pc)["cache_dir"].get<std::string>();
    if (pc->contains("offline") && (*pc)["offline"].is_boolean())
        s.options.offline = (*pc)["offline"].get<bool>();
    // Limits (docs/huggingface-token.md §6), checked as the plugin checks them; the environment
    // gives them as text ("2.5").
    for (const char *key : hub::kClientOptionKeys) {
        if (!pc->contains(key)) continue;
        const auto &v = (*pc)[key];
        if (v.is_number())
            hub::set_client_option(s.options, key, v.get<double>());
        else if (v.is_string()) {
            char *end = nullptr;
            double d = std::strtod(v.get_ref<const std::string &>().c_str(), &end);
            if (end != v.get_ref<const std::string &>().c_str() && *end == '\0')
                hub::set_client_option(s.options, key, d);
        }
    }
    if (auto tok = host.secret(name, "token"); tok && !tok->value.empty()) {
        s.options.token = tok->value;
        s.token_source = tok->source;
    }
    return s;
}

hub::Logger console_logger(const Context &ctx) {
    bool verbose = ctx.verbose, quiet = ctx.quiet;
    return [verbose, quiet](llmh_log_level level, const std::string &msg) {
        if (level == LLMH_LOG_DEBUG && !verbose) return;
        if (level == LLMH_LOG_INFO && !verbose) return;
        if (level == LLMH_LOG_WARN && quiet) return;
        Console::get().err_line(std::string(level >= LLMH_LOG_ERROR ? "error: " : level == LLMH_LOG_WARN ? "warning: " : "") + msg);
    };
}

// Runs a Hub operation, turning llmh::Error into "error:/hint:" lines and the exit code.
template <class F> void guarded(Context &ctx, F &&f) {
    try {
        f();
    } catch (const llmh::Error &e) {
        Console::get().progress().finish();
        Console::get().error(e.what(), e.hint());
        ctx.exit_code = exit_code_for(e.code());
    }
}

struct DownloadOptions {
    std::string repo;
    std::string revision = "main";
    std::vector<std::string> include, exclude;
    std::string local_dir;
    std::string repo_type = "model";
    std::string provider;
    unsigned max_workers = 8;
};

void run_download(Context &ctx, const DownloadOptions &o) {
    auto type = hub::parse_repo_type(o.repo_type);
    if (!type) throw UsageError("--repo-type must be model, dataset or space, not '" + o.repo_type + "'");
    HubSettings s = hub_settings(ctx, o.provider);
    s.options.max_parallel = std::max(1u, o.max_workers);
    signals::install();
    Console &con = Console::get();
    if (ctx.quiet) con.progress().set_enabled(false);
    guarded(ctx, [&] {
        hub::Client client(
            s.options, console_logger(ctx),
            [&con](const hub::Progress &p) { con.progress().update(p.task, p.bytes_done, p.bytes_total); },
            [] { return signals::interrupt_pending(); });
        hub::SnapshotOptions so;
        so.revision = o.revision;
        so.repo_type = *type;
        so.allow_patterns = o.include;
        so.ignore_patterns = o.exclude;
        if (!o.local_dir.empty()) so.local_dir = o.local_dir;
        auto path = client.snapshot_download(o.repo, so);
        con.progress().finish();
        con.out_line(path.string());
    });
}

void run_whoami(Context &ctx, const std::string &provider) {
    HubSettings s = hub_settings(ctx, provider);
    guarded(ctx, [&] {
        hub::Client client(s.options, console_logger(ctx));
        auto w = client.whoami();
        Console &con = Console::get();
        con.out_line("user: " + w.name + (w.fullname.empty() || w.fullname == w.name ? "" : " (" + w.fullname + ")"));
        if (!w.orgs.empty()) {
            std::string orgs;
            for (const auto &org : w.orgs) orgs += (orgs.empty() ? "" : ", ") + org;
            con.out_line("orgs: " + orgs);
        }
        con.out_line("token: " + (w.token_name.empty() ? std::string("(unnamed)") : w.token_name) +
                     ", role " + (w.token_role.empty() ? std::string("unknown") : w.token_role) +
                     ", from " + s.token_source);
        if (s.options.endpoint != "https://huggingface.co") con.out_line("endpoint: " + s.options.endpoint);
    });
}

std::string age(std::filesystem::file_time_type t) {
    using namespace std::chrono;
    auto sys = time_point_cast<seconds>(t - std::filesystem::file_time_type::clock::now() + system_clock::now());
    auto secs = duration_cast<seconds>(system_clock::now() - sys).count();
    if (secs < 60) return "a few seconds ago";
    if (secs < 3600) return std::to_string(secs / 60) + " minutes ago";
    if (secs < 86400) return std::to_string(secs / 3600) + " hours ago";
    return std::to_string(secs / 86400) + " days ago";
}

std::filesystem::path cache_dir_for(Context &ctx, const std::string &flag, const std::string &provider) {
    if (!flag.empty()) return flag;
    return hub_settings(ctx, provider).options.cache_dir;
}

void run_cache_ls(Context &ctx, const std::string &cache_flag, const std::string &provider, bool revisions) {
    auto dir = cache_dir_for(ctx, cache_flag, provider);
    auto t0 = std::chrono::steady_clock::now();
    auto info = hub::scan_cache(dir);
    Console &con = Console::get();
    std::vector<std::vector<std::string>> rows;
    if (revisions) {
        rows.push_back({"REPO ID", "REPO TYPE", "REVISION", "SIZE ON DISK", "NB FILES", "REFS", "LOCAL PATH"});
        for (const auto &r : info.repos)
            for (const auto &v : r.revisions) {
                std::string refs;
                for (const auto &x : v.refs) refs += (refs.empty() ? "" : ", ") + x;
                rows.push_back({r.repo_id, hub::repo_type_name(r.repo_type), v.commit, hub::format_size(v.size_on_disk),
                                std::to_string(v.files), refs, v.snapshot_path.string()});
            }
    } else {
        rows.push_back({"REPO ID", "REPO TYPE", "SIZE ON DISK", "NB FILES", "LAST MODIFIED", "REFS", "LOCAL PATH"});
        for (const auto &r : info.repos) {
            std::string refs;
            for (const auto &v : r.revisions)
                for (const auto &x : v.refs) refs += (refs.empty() ? "" : ", ") + x;
            rows.push_back({r.repo_id, hub::repo_type_name(r.repo_type), hub::format_size(r.size_on_disk),
                            std::to_string(r.files), age(r.last_modified), refs, r.repo_path.string()});
        }
    }
    if (!info.repos.empty()) con.out(format_table(rows));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fs", secs);
    con.out_line(std::string(info.repos.empty() ? "" : "\n") + "Done in " + buf + ". Scanned " +
                 std::to_string(info.repos.size()) + " repo(s) in " + dir.string() + " for a total of " +
                 hub::format_size(info.size_on_disk) + ".");
    for (const auto &w : info.warnings) con.err_line("warning: " + w);
}

void run_cache_rm(Context &ctx, const std::string &repo, const std::string &type_name, const std::string &cache_flag,
                  const std::string &provider) {
    auto type = hub::parse_repo_type(type_name);
    if (!type) throw UsageError("--repo-type must be model, dataset or space, not '" + type_name + "'");
    auto dir = cache_dir_for(ctx, cache_flag, provider);
    guarded(ctx, [&] {
        auto freed = hub::delete_repo_from_cache(dir, repo, *type);
        Console::get().out_line("Deleted " + std::string(hub::repo_type_name(*type)) + " '" + repo + "' from " +
                                dir.string() + ": " + hub::format_size(freed) + " freed.");
    });
}

void register_hub(CLI::App &app, Context &ctx) {
    {
        auto o = std::make_shared<DownloadOptions>();
        auto *cmd = app.add_subcommand("download", "Download a Hugging Face repo into the Hub cache and print its path");
        cmd->add_option("repo", o->repo, "Repo id, e.g. Qwen/Qwen2.5-0.5B-Instruct")->required();
        cmd->add_option("--revision", o->revision, "Branch, tag or commit (default main)");
        cmd->add_option("--include", o->include, "Only files matching this glob ('*' crosses '/'); repeatable");
        cmd->add_option("--exclude", o->exclude, "Skip files matching this glob; repeatable");
        cmd->add_option("--local-dir", o->local_dir, "Write the files into this folder instead of the cache");
        cmd->add_option("--repo-type", o->repo_type, "model (default), dataset or space");
        cmd->add_option("--max-workers", o->max_workers, "Files downloaded at once (default 8)");
        cmd->add_option("--hub-provider", o->provider, "Provider whose token/endpoint/cache to use (default huggingface)");
        cmd->footer("Examples:\n  llmhost download gpt2 --include '*.json' --include '*.safetensors'\n"
                    "  HF_TOKEN=hf_... llmhost download meta-llama/Llama-3.2-1B --exclude 'original/*'\n"
                    "  HF_ENDPOINT=http://mirror:8080 llmhost download org/model --local-dir ./model");
        cmd->callback([&ctx, o] { run_download(ctx, *o); });
    }
    {
        auto provider = std::make_shared<std::string>();
        auto *cmd = app.add_subcommand("whoami", "Show the Hugging Face user and token role behind the configured token");
        cmd->add_option("--hub-provider", *provider, "Provider whose token to use (default huggingface)");
        cmd->callback([&ctx, provider] { run_whoami(ctx, *provider); });
    }
    {
        auto *cache = app.add_subcommand("cache", "Inspect or clean the Hugging Face Hub cache");
        cache->require_subcommand(1);
        auto dir = std::make_shared<std::string>();
        auto provider = std::make_shared<std::string>();
        auto revisions = std::make_shared<bool>(false);
        auto *ls = cache->add_subcommand("ls", "List cached repos (like `hf cache scan`)");
        ls->add_option("--cache-dir", *dir, "Cache folder (default: HF_HUB_CACHE or $HF_HOME/hub)");
        ls->add_option("--hub-provider", *provider, "Provider whose cache_dir to use");
        ls->add_flag("--revisions", *revisions, "One row per cached revision");
        ls->callback([&ctx, dir, provider, revisions] { run_cache_ls(ctx, *dir, *provider, *revisions); });
        auto repo = std::make_shared<std::string>();
        auto type = std::make_shared<std::string>("model");
        auto *rm = cache->add_subcommand("rm", "Delete a repo from the cache (like `hf cache delete`)");
        rm->add_option("repo", *repo, "Repo id")->required();
        rm->add_option("--repo-type", *type, "model (default), dataset or space");
        rm->add_option("--cache-dir", *dir, "Cache folder (default: HF_HUB_CACHE or $HF_HOME/hub)");
        rm->add_option("--hub-provider", *provider, "Provider whose cache_dir to use");
        rm->callback([&ctx, repo, type, dir, provider] { run_cache_rm(ctx, *repo, *type, *dir, *provider); });
    }
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(hub, llmhost::cli::register_hub)
