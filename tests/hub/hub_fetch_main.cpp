// A minimal downloader for the process tests: hub_fetch ENDPOINT CACHE_DIR REPO [REVISION]
// The token comes from $HUB_FETCH_TOKEN (never argv). Prints the snapshot path, or the error
// code name and message on stderr with exit status 1.
#include <llmhost/hub/client.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: hub_fetch ENDPOINT CACHE_DIR REPO [REVISION]\n");
        return 2;
    }
    llmhost::hub::ClientOptions o;
    o.endpoint = argv[1];
    o.cache_dir = argv[2];
    if (const char *t = std::getenv("HUB_FETCH_TOKEN")) o.token = t;
    o.retry.initial_delay = std::chrono::milliseconds(50);
    o.retry.max_delay = std::chrono::milliseconds(200);
    try {
        llmhost::hub::Client client(o);
        llmhost::hub::SnapshotOptions s;
        if (argc > 4) s.revision = argv[4];
        auto path = client.snapshot_download(argv[3], s);
        std::printf("%s\n", path.c_str());
        return 0;
    } catch (const llmh::Error &e) {
        std::fprintf(stderr, "%s: %s\n", llmh_status_name(e.code()), e.what());
        return 1;
    }
}
