// Python huggingface_hub downloads from the mirror (HF_ENDPOINT) — only where it is importable:
// otherwise this program prints why and exits 77, which ctest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "fixture.hpp"

#include <cstdio>
#include <cstdlib>

using namespace mirror_test;

TEST_CASE("python huggingface_hub snapshot_download through the mirror") {
    llmhost::mirror::ServerOptions options;
    options.lfs_redirect_host = "localhost";  // the LFS GET goes to another host name: no token there
    Mirror m(options);
    setenv("HF_ENDPOINT", m.ep.c_str(), 1);
    setenv("HF_TOKEN", kAliceToken.c_str(), 1);  // environment, never argv
    setenv("HF_HUB_DISABLE_TELEMETRY", "1", 1);
    setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1", 1);
    unsetenv("HF_HUB_OFFLINE");
    fs::path cache = m.dir.path / "hf-cache";
    std::string command = "python3 " LLMHOST_MIRROR_TEST_DIR "/python_client_check.py '" +
                          (m.dir.path / "repos").string() + "' '" + cache.string() + "'";
    int rc = std::system(command.c_str());
    CHECK(rc == 0);
    bool saw_token = false, saw_lfs = false;
    for (auto &r : m.server->requests()) {
        saw_token |= r.token_name == "alice";
        if (r.target.rfind("/_lfs/", 0) == 0) {
            saw_lfs = true;
            CHECK_MESSAGE(!r.had_authorization, "the token went to another host: " << r.target);
        }
    }
    CHECK(saw_token);
    CHECK(saw_lfs);
}

int main(int argc, char **argv) {
    if (std::system("python3 -c 'from huggingface_hub import snapshot_download' >/dev/null 2>&1") != 0) {
        std::puts("SKIPPED: python3 cannot import huggingface_hub (pip install huggingface_hub to run this test)");
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
