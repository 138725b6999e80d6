// The parallel file downloader: up to max_parallel files at once on the shared transport, each a
// small state machine  HEAD -> lock -> (resume) GET -> verify -> rename -> link.
//
// The state machines run on the calling thread (an event queue fed by the transport's completion
// handlers); only body bytes are written on the transport's io thread, straight to the file, so
// memory stays flat whatever the repo size. Files go to blobs/<etag>.incomplete under the blob's
// lock and are resumed with Range after a drop or a kill -9; the finished blob appears atomically
// (rename) and only then the snapshot symlink. A checksum mismatch deletes the partial blob and
// publishes nothing.
#pragma once

#include "cache_layout.hpp"
#include "session.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::hub::detail {

struct FileJob {
    std::string path;                       // in the repo
    std::string revision;                   // in the resolve URL (snapshot_download: the commit)
    std::optional<std::string> known_etag;  // from the tree listing
    std::optional<std::uint64_t> known_size;
    // Results:
    std::string commit;
    std::string etag;
    std::filesystem::path result; // the snapshot symlink, or the file in local_dir
    bool done = false;
};

class Downloader {
public:
    // local_dir: huggingface_hub's local_dir mode (files written there, metadata in .cache/huggingface).
    Downloader(Session &s, RepoType t, std::string repo_id, const RepoCache &cache,
               std::optional<std::filesystem::path> local_dir, std::string task);
    ~Downloader();

    // Downloads every job; throws the first fatal llmh::Error after every transfer has stopped.
    void run(std::vector<FileJob> &jobs);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace llmhost::hub::detail
