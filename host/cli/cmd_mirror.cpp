// `llmhost mirror`: serve a directory of repos or a huggingface_hub cache over the Hub protocol, so
// that machines without internet access download with HF_ENDPOINT pointed here (docs/deployment.md).
#include "command_registry.hpp"
#include "signals.hpp"

#include <llmhost/mirror/server.hpp>

#include <pthread.h>
#include <signal.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>

namespace llmhost::cli {
namespace {

struct MirrorArgs {
    std::string root;
    std::string host = "127.0.0.1";
    unsigned port = 8090;
    std::string tokens;
    std::size_t page_size = 50;
    unsigned threads = 4;
    std::string lfs_redirect_host;
};

int run_mirror(const MirrorArgs &args, const Context &ctx) {
    std::error_code ec;
    if (!std::filesystem::is_directory(args.root, ec)) {
        std::cerr << "llmhost mirror: --root " << args.root
                  << " is not a directory: pass a directory of <org>/<name> repos or a huggingface_hub cache "
                     "(e.g. ~/.cache/huggingface/hub)\n";
        return kExitUsage;
    }
    if (args.port > 65535) {
        std::cerr << "llmhost mirror: --port " << args.port << " is not a TCP port (0-65535; 0 picks a free one)\n";
        return kExitUsage;
    }
    mirror::ServerOptions options;
    options.root = args.root;
    options.host = args.host;
    options.port = static_cast<std::uint16_t>(args.port);
    options.tokens_file = args.tokens;
    options.page_size = args.page_size;
    options.threads = args.threads;
    options.lfs_redirect_host = args.lfs_redirect_host;
    options.max_recorded_requests = 0;  // the CLI logs each request; it keeps none in memory
    if (!ctx.quiet)
        options.on_request = [](const mirror::RequestRecord &r) {
            std::cerr << "mirror: " + mirror::format_request_log_line(r) + "\n" << std::flush;
        };

    // Block SIGINT/SIGTERM before the server threads exist (they inherit the mask); this thread
    // then waits for one of them and stops the server cleanly.
    sigset_t stop_signals, previous;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

    mirror::Server server(options);
    try {
        std::cerr << "llmhost mirror: indexing " << args.root << " (hashes are computed once per file)...\n";
        server.start();
    } catch (const std::exception &e) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        std::cerr << "llmhost mirror: " << e.what() << "\n";
        return kExitConfig;
    }
    std::cerr << "llmhost mirror: serving " << server.repo_count() << " repos from " << args.root << " at "
              << server.endpoint() << (args.tokens.empty() ? " (no tokens file: private and gated repos are closed)" : "")
              << "; Ctrl-C stops\n";
    if (args.host == "0.0.0.0" || args.host == "::")
        std::cerr << "llmhost mirror: listening on all interfaces: clients use this machine's address\n";
    std::cout << "export HF_ENDPOINT=" << server.endpoint() << std::endl;

    // A thread that does not block SIGINT may take it through the CLI's handler: poll that flag too.
    int received = 0;
    const timespec tick{0, 250 * 1000 * 1000};
    while (received <= 0) {
        received = sigtimedwait(&stop_signals, nullptr, &tick);
        if (received <= 0 && signals::take_interrupt()) received = SIGINT;
    }
    std::cerr << "llmhost mirror: " << (received == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping\n";
    server.stop();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return kExitOk;
}

void register_mirror_commands(CLI::App &app, Context &ctx) {
    auto args = std::make_shared<MirrorArgs>();
    CLI::App *cmd = app.add_subcommand(
        "mirror", "Serve repos over the Hugging Face Hub protocol (for air-gapped clusters: HF_ENDPOINT=...)");
    cmd->add_option("--root", args->root,
                    "Directory of repos (<org>/<name>/..., datasets/<org>/<name>/...) or a huggingface_hub cache")
        ->required();
    cmd->add_option("--host", args->host, "Address to listen on (0.0.0.0 for every interface)")->capture_default_str();
    cmd->add_option("--port", args->port, "TCP port (0: any free port)")->capture_default_str();
    cmd->add_option("--tokens", args->tokens,
                    "JSON tokens file: names, roles and the private/gated repos each token may read "
                    "(docs/deployment.md)");
    cmd->add_option("--page-size", args->page_size, "Entries per page of the tree API")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "Server threads")->check(CLI::Range(1, 256))->capture_default_str();
    cmd->add_option("--lfs-redirect-host", args->lfs_redirect_host,
                    "Host name the LFS redirects point to (default: the one the client used)");
    cmd->callback([args, &ctx] { ctx.exit_code = run_mirror(*args, ctx); });
}

} // namespace

LLMHOST_CLI_COMMAND(mirror, register_mirror_commands)

} // namespace llmhost::cli
