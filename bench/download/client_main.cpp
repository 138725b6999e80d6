// The measured side of bench/download: one snapshot_download in its own process, so its peak RSS
// (reported by the parent through wait4) is the client's alone.
//   bench_download_client ENDPOINT CACHE_DIR REPO [MAX_PARALLEL] [--no-verify]
#include <llmhost/hub/client.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: bench_download_client ENDPOINT CACHE_DIR REPO [MAX_PARALLEL]\n");
        return 2;
    }
    llmhost::hub::ClientOptions o;
    o.endpoint = argv[1];
    o.cache_dir = argv[2];
    if (argc > 4) o.max_parallel = static_cast<unsigned>(std::atoi(argv[4]));
    if (argc > 5 && std::strcmp(argv[5], "--no-verify") == 0) o.verify_checksums = false; // the cost of sha256
    try {
        llmhost::hub::Client client(o);
        std::printf("%s\n", client.snapshot_download(argv[3]).c_str());
        return 0;
    } catch (const llmh::Error &e) {
        std::fprintf(stderr, "%s: %s\n", llmh_status_name(e.code()), e.what());
        return 1;
    }
}
