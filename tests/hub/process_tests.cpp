// Across processes: two downloaders on one cache share the work; a downloader killed with
// SIGKILL mid-file leaves a partial blob that the next run resumes.
#include "hashing.hpp"

#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

extern char **environ;

using namespace llmhost;
using hubtest::Mirror;
namespace fs = std::filesystem;

namespace {
pid_t spawn_fetch(const Mirror &m, const std::string &repo) {
    std::string endpoint = m.server->endpoint(), cache = m.cache.path.string();
    std::vector<char *> argv = {const_cast<char *>(HUB_FETCH_EXE), endpoint.data(), cache.data(),
                                const_cast<char *>(repo.c_str()), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, HUB_FETCH_EXE, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
} // namespace

TEST_CASE("two processes downloading one repo share the work and corrupt nothing") {
    Mirror m;
    m.server->faults().slow_body("*model.safetensors", 8 * 1024 * 1024); // ~1 s: the runs overlap
    pid_t a = spawn_fetch(m, "org/big-model");
    pid_t b = spawn_fetch(m, "org/big-model");
    CHECK(wait_exit(a) == 0);
    CHECK(wait_exit(b) == 0);
    fs::path repo = m.cache.path / "models--org--big-model";
    std::string commit = hubtest::read_file(repo / "refs/main");
    CHECK(hubtest::read_file(repo / "snapshots" / commit / "model.safetensors") == m.big);
    // The big blob was fetched once in total (bytes), whoever fetched it.
    std::uint64_t lfs_bytes = 0;
    for (auto &r : m.requests_for("/_lfs/", "GET")) lfs_bytes += r.body_bytes;
    CHECK(lfs_bytes == m.big.size());
    for (auto &e : fs::directory_iterator(repo / "blobs"))
        CHECK(e.path().extension() != ".incomplete");
}

TEST_CASE("a download killed with SIGKILL resumes from its partial blob") {
    Mirror m;
    m.server->faults().slow_body("*model.safetensors", 2 * 1024 * 1024);
    pid_t child = spawn_fetch(m, "org/big-model");
    fs::path partial = m.cache.path / "models--org--big-model/blobs" / (hub::detail::sha256_hex(m.big) + ".incomplete");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::error_code ec;
    while (std::chrono::steady_clock::now() < deadline && !(fs::exists(partial, ec) && fs::file_size(partial, ec) > 1500000))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(child, SIGKILL);
    CHECK(wait_exit(child) == 128 + SIGKILL);
    REQUIRE(fs::exists(partial));
    auto kept = fs::file_size(partial);
    CHECK(kept > 1500000);
    CHECK(kept < m.big.size());

    m.server->faults().clear();
    m.settle_and_clear();
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/big-model");
    CHECK(hubtest::read_file(snap / "model.safetensors") == m.big);
    // The killed child's request may be logged late (when the server notices the closed socket).
    std::size_t resumed = 0, full = 0;
    for (auto &g : m.requests_for("/_lfs/", "GET")) {
        if (g.status == 206 && g.body_bytes == m.big.size() - kept) ++resumed; // resumed, not restarted
        if (g.status == 200 && g.body_bytes == m.big.size()) ++full;
    }
    CHECK(resumed == 1);
    CHECK(full == 0);
    CHECK_FALSE(fs::exists(partial));
}
