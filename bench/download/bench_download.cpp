// bench/download: download one generated repo (a few large LFS files + many small ones) from the
// in-process Hub mirror on 127.0.0.1 with
//   1. llmhost's Hub client (bench_download_client, or `llmhost download` with --cli),
//   2. curl fetching the same files in parallel (curl --parallel: the loopback limit),
//   3. Python huggingface_hub snapshot_download, when importable,
// and print MB/s, ratios and each client's peak RSS (wait4's ru_maxrss of the child process).
//
//   bench_download [--size-mb 2048] [--workdir /tmp] [--parallel 8] [--cli build/bin/llmhost]
#include <llmhost/mirror/server.hpp>
#include <llmhost/net/http_client.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;
namespace fs = std::filesystem;

namespace {

struct Result {
    std::string name;
    bool ran = false;
    int exit_code = 0;
    double seconds = 0;
    long max_rss_kb = 0;
    std::string note;
};

// Spawns argv with extra environment entries, waits, and measures wall time and peak RSS.
Result run_child(const std::string &name, const std::vector<std::string> &args, const std::vector<std::string> &extra_env,
                 bool quiet_stdout = true) {
    Result r;
    r.name = name;
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char **e = environ; *e; ++e) env_store.emplace_back(*e);
    for (auto &e : extra_env) env_store.push_back(e);
    std::vector<char *> envp;
    for (auto &e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet_stdout) posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        r.note = std::string("cannot start ") + args[0] + ": " + std::strerror(rc);
        return r;
    }
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.max_rss_kb = ru.ru_maxrss;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.ran = true;
    return r;
}

void write_random(const fs::path &p, std::uint64_t size, unsigned seed) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    std::mt19937_64 rng(seed);
    std::vector<std::uint64_t> buf(1 << 17); // 1 MiB
    while (size > 0) {
        for (auto &v : buf) v = rng();
        std::uint64_t n = std::min<std::uint64_t>(size, buf.size() * 8);
        out.write(reinterpret_cast<const char *>(buf.data()), static_cast<std::streamsize>(n));
        size -= n;
    }
}

std::uint64_t dir_bytes(const fs::path &dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
    return total;
}

} // namespace

int main(int argc, char **argv) {
    std::uint64_t size_mb = 2048;
    fs::path workdir = fs::temp_directory_path();
    unsigned parallel = 8;
    std::string cli;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--size-mb") size_mb = std::stoull(next());
        else if (a == "--workdir") workdir = next();
        else if (a == "--parallel") parallel = static_cast<unsigned>(std::stoul(next()));
        else if (a == "--cli") cli = next();
        else {
            std::fprintf(stderr, "usage: bench_download [--size-mb N] [--workdir DIR] [--parallel N] [--cli PATH]\n");
            return 2;
        }
    }
    fs::path base = workdir / ("llmhost-bench-download-" + std::to_string(::getpid()));
    fs::path root = base / "repos", repo_dir = root / "bench" / "repo";
    const std::uint64_t total = size_mb * 1000 * 1000;
    const int n_large = 4, n_small = 100;
    const std::uint64_t large = total * 24 / 100, small = total * 4 / 100 / n_small;
    std::printf("generating bench/repo: %d x %.1f MB + %d x %.1f kB in %s\n", n_large, large / 1e6, n_small, small / 1e3,
                root.c_str());
    for (int i = 0; i < n_large; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, n_large);
        write_random(repo_dir / name, large, 100 + i);
    }
    for (int i = 0; i < n_small; ++i)
        write_random(repo_dir / "small" / ("part-" + std::to_string(i) + ".json"), small, 1000 + i);
    const std::uint64_t repo_bytes = dir_bytes(repo_dir);

    llmhost::mirror::ServerOptions so;
    so.root = root;
    so.threads = 4;
    so.page_size = 1000;
    llmhost::mirror::Server server(so);
    server.start();
    const std::string endpoint = server.endpoint();
    std::printf("mirror at %s (indexed)\n", endpoint.c_str());

    // The file list, for curl.
    llmhost::net::HttpClient http;
    llmhost::net::Request tree_req;
    tree_req.url = endpoint + "/api/models/bench/repo/tree/main?recursive=true&expand=false";
    auto tree = http.fetch(tree_req);
    auto files = nlohmann::json::parse(tree.body);
    fs::path curl_cfg = base / "curl.cfg", curl_out = base / "curl-out";
    {
        std::ofstream cfg(curl_cfg);
        for (auto &f : files)
            if (f.value("type", "") == "file")
                cfg << "url = \"" << endpoint << "/bench/repo/resolve/main/" << f["path"].get<std::string>() << "\"\n"
                    << "output = \"" << (curl_out / f["path"].get<std::string>()).string() << "\"\n";
    }
    std::vector<std::string> curl_args = {"curl", "--parallel", "--parallel-max", std::to_string(parallel), "-s", "-S", "--no-progress-meter",
                                          "-L", "--fail", "--create-dirs", "-K", curl_cfg.string()};
    auto clean = [&](const fs::path &p) {
        std::error_code ec;
        fs::remove_all(p, ec);
    };

    std::vector<Result> results;
    run_child("warm-up", curl_args, {}); // page cache of the served files, connections
    clean(curl_out);

    fs::path cache_ours = base / "cache-llmhost";
    Result ours;
    if (!cli.empty()) {
        ours = run_child("llmhost download", {cli, "download", "bench/repo", "--max-workers", std::to_string(parallel)},
                         {"HF_ENDPOINT=" + endpoint, "HF_HUB_CACHE=" + cache_ours.string(),
                          "HF_HUB_DISABLE_PROGRESS_BARS=1"});
    } else {
        ours = run_child("llmhost hub client", {BENCH_CLIENT_EXE, endpoint, cache_ours.string(), "bench/repo",
                                                std::to_string(parallel)}, {});
    }
    if (ours.ran && ours.exit_code == 0 && dir_bytes(cache_ours) < repo_bytes) ours.note = "incomplete download!";
    results.push_back(ours);
    clean(cache_ours);
    // The same without sha256/sha1 verification (huggingface_hub does none): the cost of hashing.
    Result unverified = run_child("llmhost, no checksum", {BENCH_CLIENT_EXE, endpoint, cache_ours.string(), "bench/repo",
                                                         std::to_string(parallel), "--no-verify"}, {});
    results.push_back(unverified);
    clean(cache_ours);

    Result curl = run_child("curl --parallel", curl_args, {});
    curl.name = "curl --parallel " + std::to_string(parallel);
    if (curl.ran && curl.exit_code == 0 && dir_bytes(curl_out) < repo_bytes) curl.note = "incomplete download!";
    results.push_back(curl);
    clean(curl_out);

    Result py;
    py.name = "huggingface_hub";
    Result probe = run_child("probe", {"sh", "-c", "python3 -c \"import huggingface_hub\" 2>/dev/null"}, {});
    if (!probe.ran || probe.exit_code != 0) {
        py.note = "skipped: not importable";
    } else {
        fs::path cache_py = base / "cache-python";
        py = run_child("huggingface_hub", {"python3", "-c",
                                           "import sys; from huggingface_hub import snapshot_download; "
                                           "snapshot_download('bench/repo', cache_dir=sys.argv[1], max_workers=" +
                                               std::to_string(parallel) + ")",
                                           cache_py.string()},
                       {"HF_ENDPOINT=" + endpoint, "HF_HUB_DISABLE_PROGRESS_BARS=1", "HF_HUB_DISABLE_TELEMETRY=1"});
        clean(cache_py);
    }
    results.push_back(py);
    server.stop();

    std::printf("\nrepo: %.1f MB in %zu files, %u parallel transfers, loopback\n", repo_bytes / 1e6, files.size(), parallel);
    std::printf("%-28s %10s %10s %14s  %s\n", "client", "seconds", "MB/s", "peak RSS (MB)", "note");
    auto mbps = [&](const Result &r) { return r.seconds > 0 ? repo_bytes / 1e6 / r.seconds : 0.0; };
    for (auto &r : results) {
        if (!r.ran) {
            std::printf("%-28s %10s %10s %14s  %s\n", r.name.c_str(), "-", "-", "-", r.note.c_str());
            continue;
        }
        std::string note = r.exit_code != 0 ? "FAILED (exit " + std::to_string(r.exit_code) + ") " + r.note : r.note;
        std::printf("%-28s %10.2f %10.1f %14.1f  %s\n", r.name.c_str(), r.seconds, mbps(r), r.max_rss_kb / 1024.0,
                    note.c_str());
    }
    if (ours.ran && curl.ran && mbps(curl) > 0)
        std::printf("\nllmhost / curl:            %.2fx  (target >= 0.70)\n", mbps(ours) / mbps(curl));
    if (ours.ran && py.ran && py.exit_code == 0 && mbps(py) > 0)
        std::printf("llmhost / huggingface_hub: %.2fx  (target >= 1.5)\n", mbps(ours) / mbps(py));
    else
        std::printf("llmhost / huggingface_hub: n/a (%s)\n", py.note.empty() ? "failed" : py.note.c_str());
    std::printf("llmhost peak RSS:          %.1f MB  (target < 64)\n", ours.max_rss_kb / 1024.0);
    clean(base);
    return ours.ran && ours.exit_code == 0 ? 0 : 1;
}
