// The repos a mirror serves, indexed from disk: a plain directory of repos or a huggingface_hub
// cache. No networking here: the HTTP layer asks for a repo, a revision and a file and gets what to
// send.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace llmhost::mirror {

enum class RepoType { model, dataset };
const char *repo_type_plural(RepoType type); // "models" / "datasets"

struct RepoFile {
    std::string path; // repo-relative, '/'-separated
    std::uint64_t size = 0;
    std::string git_oid; // 40-hex git blob sha1 (of the LFS pointer file for LFS files)
    std::string sha256;  // 64-hex, LFS files only
    bool lfs = false;
    std::uint64_t pointer_size = 0;  // size of the LFS pointer file, LFS files only
    std::filesystem::path disk_path; // where the content is read from
    std::string etag() const { return lfs ? sha256 : git_oid; }
};

struct Snapshot {
    std::string commit;          // 40-hex
    std::vector<RepoFile> files; // sorted by path
    const RepoFile *find(const std::string &path) const;
};

enum class Access { public_repo, private_repo, gated };

struct Repo {
    RepoType type = RepoType::model;
    std::string id; // "org/name"
    Access access = Access::public_repo;
    std::vector<std::string> granted_tokens; // token names from .mirror.json
    std::map<std::string, std::string> refs; // revision name -> commit
    std::map<std::string, std::shared_ptr<const Snapshot>> snapshots; // commit -> snapshot
    // A branch/tag name, or a full 40-hex commit. nullptr: no such revision.
    std::shared_ptr<const Snapshot> resolve(const std::string &revision) const;
};

// Thread-safe. Repos are indexed at start (index_all) and re-checked lazily, at most once per
// `recheck_interval`, by comparing each file's size and mtime; only changed files are re-hashed.
class RepoStore {
public:
    RepoStore(std::filesystem::path root, std::uint64_t lfs_threshold_bytes);

    // Indexes every repo under root. Throws std::runtime_error naming the file at fault
    // (unreadable root, invalid .mirror.json).
    void index_all();
    // nullptr when the repo does not exist. Throws std::runtime_error on a broken .mirror.json.
    std::shared_ptr<const Repo> find(RepoType type, const std::string &id);
    const std::filesystem::path &root() const { return root_; }
    std::size_t repo_count();

private:
    struct HashEntry {
        std::uint64_t size;
        std::int64_t mtime_ns;
        std::string git_oid, sha256;
    };
    struct Source {
        std::filesystem::path
            dir; // the repo's directory (plain) or its models--org--name folder (cache)
        bool hf_cache = false;
    };
    std::vector<std::pair<RepoType, std::string>> list_repo_ids();
    bool locate(RepoType type, const std::string &id, Source &source);
    std::shared_ptr<const Repo> load(RepoType type, const std::string &id, const Source &source);
    // Files under `dir` whose real path lies inside `repo_dir` (the repo's root folder).
    std::shared_ptr<Snapshot> index_directory(const std::filesystem::path &dir,
                                              const std::filesystem::path &repo_dir,
                                              bool resolve_cache_links);
    // `disk`: the path found while listing; `real`: its canonical path (what is served).
    RepoFile describe_file(const std::filesystem::path &disk, const std::filesystem::path &real,
                           std::string rel, bool from_cache_link);
    std::string signature(const Source &source);

    std::filesystem::path root_;
    std::uint64_t lfs_threshold_;
    std::mutex mutex_;
    struct Cached {
        std::shared_ptr<const Repo> repo;
        std::string signature;
        std::chrono::steady_clock::time_point checked;
    };
    std::map<std::string, Cached> repos_;     // key: "<type>/<id>"
    std::map<std::string, HashEntry> hashes_; // key: disk path
};

} // namespace llmhost::mirror
