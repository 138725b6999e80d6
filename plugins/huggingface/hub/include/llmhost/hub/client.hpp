// llmhost::hub — a token-aware Hugging Face Hub client with a huggingface_hub-compatible cache.
//
// Downloads go through the shared async transport (llmhost::net::HttpClient: libcurl multi on
// Asio, one io thread), up to max_parallel files at once, streamed to disk with size and sha
// verification, resumable across interruptions and kill -9, safe with several processes on one
// cache. The cache tree is what Python huggingface_hub writes (see
// shared/reference/hf-hub-protocol.md §5): each reads the other's.
//
// The client never reads the environment: the caller (host, CLI) resolves HF_TOKEN, HF_ENDPOINT,
// HF_HUB_CACHE, HF_HUB_OFFLINE, HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT into ClientOptions
// (options_from_env() below does it for callers that have no host).
//
// Every failure is thrown as llmh::Error (plugin.hpp) with an ABI code, a message naming the repo,
// revision or file, and a hint with the user's next step. Secrets never appear in either.
#pragma once

#include <llmhost/net/http_client.hpp>
#include <llmhost/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::hub {

enum class RepoType { model, dataset, space };
const char *repo_type_name(RepoType t);          // "model", "dataset", "space"
std::optional<RepoType> parse_repo_type(const std::string &s);

struct ClientOptions {
    std::string endpoint = "https://huggingface.co"; // HF_ENDPOINT (trailing '/' ignored)
    std::optional<std::string> token;                // sent only to the endpoint's host
    std::filesystem::path cache_dir;                 // the hub cache (HF_HUB_CACHE); required
    bool offline = false;                            // HF_HUB_OFFLINE: cache only, no request
    unsigned max_parallel = 8;                       // files downloaded at once
    std::chrono::milliseconds etag_timeout{10'000};  // HEAD / API calls (HF_HUB_ETAG_TIMEOUT)
    std::chrono::milliseconds download_timeout{10'000}; // connect + idle on a GET (HF_HUB_DOWNLOAD_TIMEOUT)
    std::string user_agent;                          // empty: "llmhost/<version>; hf_hub-compatible"
    net::RetryPolicy retry{};                        // network errors, 5xx, 429 (Retry-After honoured);
                                                     // a longer Retry-After than retry.max_retry_after
                                                     // gives up at once (rate limited, retry_after set)
    bool verify_checksums = true;                    // sha256 of LFS files, git sha1 of small ones
    // Limits against slow or hostile servers (docs/huggingface-token.md, "Hub client limits"):
    std::uint64_t min_download_speed = 1024; // bytes/s a GET must keep up over download_timeout
                                             // (curl --speed-limit/--speed-time), else it is retried
    int max_file_retries = 20;               // retries of one file in all; progress does not reset
                                             // it (retry.max_retries counts consecutive failures)
    std::size_t max_tree_pages = 10'000;     // pages of one file listing (Link: next); a repeated
                                             // page URL is refused at once
};

// Sets one of the huggingface provider's Hub client settings by its config key (seconds for the
// times): download_timeout, etag_timeout, max_retry_after, min_download_speed, max_retries,
// max_file_retries, max_tree_pages. False for another key; llmh::Error(invalid_argument) for a
// value out of range.
bool set_client_option(ClientOptions &o, const std::string &key, double value);
inline const char *const kClientOptionKeys[] = {"download_timeout", "etag_timeout", "max_retry_after",
                                                "min_download_speed", "max_retries", "max_file_retries",
                                                "max_tree_pages"};

// Reads HF_ENDPOINT, HF_HOME, HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE, XDG_CACHE_HOME,
// HF_HUB_OFFLINE, HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT. Never the token.
ClientOptions options_from_env();

// Where a file or a whole snapshot stands; reported at most ~10 times a second, and once at the end.
struct Progress {
    std::string task;             // "download org/name"
    std::uint64_t bytes_done = 0; // including files already in the cache
    std::uint64_t bytes_total = 0;
    std::size_t files_done = 0;
    std::size_t files_total = 0;
};

// What a client fetched from the network and found in the cache since it was made: file bodies
// only (metadata requests are not counted). Files found in the cache cost no request.
struct TransferStats {
    std::uint64_t bytes_downloaded = 0; // body bytes written to the cache (or local_dir)
    std::uint64_t files_downloaded = 0; // files fetched and verified
    std::uint64_t files_cached = 0;     // files already in the cache (or local_dir), not fetched
};

using Logger = std::function<void(llmh_log_level level, const std::string &message)>;
using ProgressFn = std::function<void(const Progress &)>;
using CancelFn = std::function<bool()>; // true: stop as soon as possible (llmh::Error cancelled)

struct SnapshotOptions {
    std::string revision = "main";            // branch, tag or 40-hex commit
    RepoType repo_type = RepoType::model;
    std::vector<std::string> allow_patterns;  // fnmatch, '*' crosses '/'; empty: every file
    std::vector<std::string> ignore_patterns;
    std::optional<std::filesystem::path> local_dir; // huggingface_hub's local_dir mode
};

struct RepoFile {
    std::string path;
    std::uint64_t size = 0;
    std::string blob_id;                      // git blob sha1
    std::optional<std::string> lfs_sha256;    // LFS files only
    std::string etag() const { return lfs_sha256 ? *lfs_sha256 : blob_id; }
};

struct RepoInfo {
    std::string id;
    std::string sha;          // the 40-hex commit the revision points to
    bool is_private = false;
    std::string gated;        // "" / "auto" / "manual"
};

struct WhoAmI {
    std::string name;          // user name
    std::string type;          // "user" / "org"
    std::string fullname;
    std::string token_name;    // the token's display name (never its value)
    std::string token_role;    // "read", "write", "fineGrained"
    std::vector<std::string> orgs;
};

class Client {
public:
    explicit Client(ClientOptions options, Logger logger = {}, ProgressFn progress = {},
                    CancelFn cancel = {});
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    // Downloads the files of `repo_id` at `revision` that pass the patterns; returns the absolute
    // snapshot folder (<cache>/<type>s--org--name/snapshots/<commit>) or realpath(local_dir).
    std::filesystem::path snapshot_download(const std::string &repo_id, const SnapshotOptions &opts = {});

    // One file; returns its path in the snapshot (a symlink into blobs/).
    std::filesystem::path hf_hub_download(const std::string &repo_id, const std::string &filename,
                                          const std::string &revision = "main",
                                          RepoType repo_type = RepoType::model);

    RepoInfo repo_info(const std::string &repo_id, const std::string &revision = "main",
                       RepoType repo_type = RepoType::model);
    std::vector<RepoFile> list_repo_files(const std::string &repo_id, const std::string &revision,
                                          RepoType repo_type = RepoType::model);

    // GET /api/whoami-v2. Throws auth_required when no token is configured.
    WhoAmI whoami();

    const ClientOptions &options() const;
    TransferStats stats() const;
    net::HttpClient &http();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// ---- cache management (no network) -------------------------------------------------------------

struct CachedRevision {
    std::string commit;
    std::vector<std::string> refs;     // branch/tag names pointing at it
    std::size_t files = 0;
    std::uint64_t size_on_disk = 0;    // blobs referenced by this revision
    std::filesystem::path snapshot_path;
};

struct CachedRepo {
    std::string repo_id;
    RepoType repo_type = RepoType::model;
    std::filesystem::path repo_path;
    std::uint64_t size_on_disk = 0;    // all blobs of the repo
    std::size_t files = 0;             // distinct blobs
    std::filesystem::file_time_type last_modified{};
    std::vector<CachedRevision> revisions;
};

struct CacheInfo {
    std::filesystem::path cache_dir;
    std::uint64_t size_on_disk = 0;
    std::vector<CachedRepo> repos;
    std::vector<std::string> warnings;  // folders that are not valid repo caches
};

CacheInfo scan_cache(const std::filesystem::path &cache_dir);

// Removes the repo's folder and its .locks folder. Returns the bytes freed.
// Throws llmh::Error not_found when the repo is not in the cache.
std::uint64_t delete_repo_from_cache(const std::filesystem::path &cache_dir, const std::string &repo_id,
                                     RepoType repo_type = RepoType::model);

// "1.2 GB", "532.0 MB", "12.0 kB" (decimal units, as `hf cache scan`).
std::string format_size(std::uint64_t bytes);

} // namespace llmhost::hub
