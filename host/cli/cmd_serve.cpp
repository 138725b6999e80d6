// `llmhost serve`: the OpenAI-compatible HTTP server (host/server) over the configured providers.
// Keys come from the environment or a file rather than argv, where `ps` would show them.
#include "cli_common.hpp"
#include "console.hpp"

#include <llmhost/host.hpp>
#include <llmhost/server/server.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>

namespace llmhost::cli {

namespace {

struct ServeOptions {
    server::ServerOptions server;
    std::vector<std::string> api_keys_argv;
    std::string api_key_file;
    std::vector<std::string> admin_keys_argv;
    std::string admin_key_file;
    int metrics_port = -1; // -1: /metrics on the main port
    std::string request_log; // a file (appended to), "-" for stderr, empty for none
};

// The request log's sink: whole lines under a lock (requests finish on several threads), flushed
// each time so `tail -f` and a crash lose nothing.
struct RequestLogFile {
    std::mutex mu;
    FILE *f = nullptr;
    bool owned = false;
    ~RequestLogFile() {
        if (owned && f) std::fclose(f);
    }
    void write(std::string_view line) {
        std::lock_guard lk(mu);
        std::fwrite(line.data(), 1, line.size(), f);
        std::fputc('\n', f);
        std::fflush(f);
    }
};

std::shared_ptr<RequestLogFile> open_request_log(const std::string &path) {
    auto log = std::make_shared<RequestLogFile>();
    if (path == "-") {
        log->f = stderr;
        return log;
    }
    log->f = std::fopen(path.c_str(), "a");
    if (!log->f)
        throw UsageError("cannot open --request-log '" + path + "': " + std::strerror(errno),
                         "give a writable file, or - for stderr");
    log->owned = true;
    return log;
}

// Keys from, in order: a file (one per line), the environment variable, the command line.
std::vector<std::string> gather_keys(const std::string &file, const char *env,
                                     const std::vector<std::string> &argv_keys, const char *flag) {
    std::vector<std::string> keys;
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in)
            throw UsageError(std::string("cannot read ") + flag + "-file '" + file + "'",
                             "give a readable file with one key per line");
        for (std::string line; std::getline(in, line);)
            for (auto &k : server::split_keys(line))
                if (k[0] != '#') keys.push_back(k); // '#' starts a comment line
    }
    if (const char *v = std::getenv(env))
        for (auto &k : server::split_keys(v)) keys.push_back(k);
    for (const auto &k : argv_keys) keys.push_back(k);
    return keys;
}

void run_serve(Context &ctx, ServeOptions &opt) {
    Console &console = Console::get();
    opt.server.api_keys = gather_keys(opt.api_key_file, "LLMHOST_API_KEYS", opt.api_keys_argv, "--api-key");
    opt.server.admin_keys = gather_keys(opt.admin_key_file, "LLMHOST_ADMIN_KEYS", opt.admin_keys_argv, "--admin-key");
    if (!opt.api_keys_argv.empty() || !opt.admin_keys_argv.empty())
        console.err_line("warning: keys given on the command line are visible to other users in "
                         "`ps`; prefer LLMHOST_API_KEYS / LLMHOST_ADMIN_KEYS or --api-key-file");
    if (opt.server.max_concurrency == 0) throw UsageError("--max-concurrency must be at least 1");
    if (opt.server.max_body < 1024) throw UsageError("--max-body must be at least 1024 bytes");

    if (opt.metrics_port < -1 || opt.metrics_port > 65535) throw UsageError("--metrics-port must be 0..65535");
    if (opt.metrics_port >= 0) {
        opt.server.separate_metrics_listener = true;
        opt.server.metrics_port = static_cast<uint16_t>(opt.metrics_port);
    } else if (!opt.server.metrics_host.empty()) {
        throw UsageError("--metrics-host needs --metrics-port", "add --metrics-port PORT");
    }
    if (opt.server.log_content && opt.request_log.empty())
        throw UsageError("--log-content needs --request-log", "add --request-log FILE (or - for stderr)");
    std::shared_ptr<RequestLogFile> request_log;
    if (!opt.request_log.empty()) {
        request_log = open_request_log(opt.request_log);
        opt.server.request_log = [request_log](std::string_view line) { request_log->write(line); };
    }

    Host &host = ctx.host();
    opt.server.log = [&console](std::string_view line) { console.err_line(std::string("serve: ") + std::string(line)); };
    server::Server srv(host, opt.server);
    srv.start();
    srv.handle_signals();

    std::string providers;
    for (const auto &p : host.providers()) providers += (providers.empty() ? "" : ", ") + p.name;
    console.err_line("llmhost serve: listening on http://" + opt.server.host + ":" +
                     std::to_string(srv.port()) + "/v1  (providers: " +
                     (providers.empty() ? "none" : providers) + "; default: " +
                     (host.default_provider().empty() ? "none" : host.default_provider()) + ")");
    if (!opt.server.keys_file.empty())
        console.err_line("keys file: " + opt.server.keys_file +
                         " (scoped keys; SIGHUP re-reads it, a bad file keeps the previous keys)");
    if (opt.server.api_keys.empty() && opt.server.keys_file.empty())
        console.err_line(opt.server.insecure_public
                             ? "warning: no API key and --insecure-public: anyone who can reach this port can use it"
                             : "no API key configured: only clients on this machine (loopback) are served");
    const std::string metrics_where =
        opt.metrics_port >= 0 ? "http://" + (opt.server.metrics_host.empty() ? opt.server.host : opt.server.metrics_host) +
                               ":" + std::to_string(srv.metrics_port()) + "/metrics"
                         : "/metrics on the same port";
    console.err_line("metrics: " + metrics_where +
                     (opt.server.metrics_no_auth ? " (no key needed)" : ""));
    if (!opt.request_log.empty())
        console.err_line("request log: " + (opt.request_log == "-" ? std::string("stderr") : opt.request_log) +
                         (opt.server.log_content ? " (with request bodies and outputs: --log-content)" : ""));
    console.err_line(opt.server.admin_keys.empty()
                         ? "admin endpoints disabled (set LLMHOST_ADMIN_KEYS to enable live swaps over HTTP); SIGHUP reloads the config"
                         : "admin endpoints enabled: POST /admin/reload, POST /admin/providers/<name>; SIGHUP reloads the config");
    srv.wait();
    console.err_line("llmhost serve: stopped");
}

void register_serve(CLI::App &app, Context &ctx) {
    auto opt = std::make_shared<ServeOptions>();
    auto *cmd = app.add_subcommand("serve", "Serve the configured providers over an OpenAI-compatible HTTP API");
    cmd->add_option("--host", opt->server.host, "Address to listen on")->capture_default_str();
    cmd->add_option("--port", opt->server.port, "Port to listen on (0: any free port)")->capture_default_str();
    cmd->add_option("--api-key", opt->api_keys_argv,
                    "A client API key (repeatable). Prefer LLMHOST_API_KEYS (comma list) or "
                    "--api-key-file: argv is visible in `ps`")->option_text("KEY");
    cmd->add_option("--api-key-file", opt->api_key_file, "File with client API keys, one per line")->option_text("PATH");
    cmd->add_option("--keys-file", opt->server.keys_file,
                    "Hashed client keys with allowed providers and rpm/tpm limits (llmhost keys add "
                    "writes it; see docs/serving.md)")->option_text("PATH");
    cmd->add_option("--admin-key", opt->admin_keys_argv,
                    "A key for /admin/* (repeatable). Prefer LLMHOST_ADMIN_KEYS or --admin-key-file")->option_text("KEY");
    cmd->add_option("--admin-key-file", opt->admin_key_file, "File with admin keys, one per line")->option_text("PATH");
    cmd->add_flag("--insecure-public", opt->server.insecure_public,
                  "Serve non-loopback clients even though no API key is configured");
    cmd->add_option("--max-concurrency", opt->server.max_concurrency, "Generations running at once")->capture_default_str();
    cmd->add_option("--queue", opt->server.queue, "Generations waiting for a slot; beyond it clients get 429")->capture_default_str();
    cmd->add_option("--max-body", opt->server.max_body, "Request body limit in bytes")->capture_default_str();
    cmd->add_option("--io-threads", opt->server.io_threads, "Threads doing HTTP I/O")->capture_default_str();
    cmd->add_option("--metrics-port", opt->metrics_port,
                    "Serve GET /metrics (and /health) on this port instead of the main one (0: any free port)")
        ->option_text("PORT");
    cmd->add_option("--metrics-host", opt->server.metrics_host,
                    "Address of the --metrics-port listener (default: --host)")->option_text("ADDR");
    cmd->add_flag("--metrics-no-auth", opt->server.metrics_no_auth,
                  "GET /metrics without a key; only when the listener serving it is on a loopback address");
    cmd->add_option("--request-log", opt->request_log,
                    "One JSON line per request to FILE (appended), or - for stderr")->option_text("FILE|-");
    cmd->add_flag("--log-content", opt->server.log_content,
                  "The request log also carries request bodies and outputs (keys and secrets stay redacted)");
    cmd->footer("Authentication: without any key only clients on this machine are served. Keys are read\n"
                "from LLMHOST_API_KEYS / LLMHOST_ADMIN_KEYS (comma lists) or --api-key-file; --api-key\n"
                "works too but shows the key to anyone running `ps`.\n"
                "Signals: SIGINT/SIGTERM finish in-flight requests and stop (twice: stop now); SIGHUP\n"
                "re-reads the config and swaps changed providers without failing a request.\n"
                "Metrics: GET /metrics (Prometheus); needs a client or admin key when keys are set,\n"
                "unless --metrics-no-auth (loopback listeners only).\n"
                "Examples:\n"
                "  llmhost serve\n"
                "  LLMHOST_API_KEYS=k1,k2 llmhost serve --host 0.0.0.0 --port 8000 --max-concurrency 8\n"
                "  OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=unused python my_agent.py\n"
                "See docs/serving.md.");
    cmd->callback([&ctx, opt] { run_serve(ctx, *opt); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(serve, llmhost::cli::register_serve)
