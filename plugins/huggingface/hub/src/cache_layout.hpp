// The huggingface_hub cache tree (spec §5), byte for byte:
//   <cache>/CACHEDIR.TAG
//   <cache>/.locks/<type>s--org--name/<etag>.lock
//   <cache>/<type>s--org--name/blobs/<etag>
//                              refs/<revision>            (40-hex commit, no newline)
//                              snapshots/<commit>/<path>  -> ../../blobs/<etag> (relative)
//                              .no_exist/<commit>/<path>  (empty)
#pragma once

#include <llmhost/hub/client.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace llmhost::hub::detail {

namespace fs = std::filesystem;

std::string repo_folder_name(RepoType t, const std::string &repo_id); // "models--org--name"
// Inverse of repo_folder_name; nullopt for a folder that is not a repo cache.
std::optional<std::pair<RepoType, std::string>> parse_repo_folder(const std::string &folder);

class RepoCache {
public:
    RepoCache(fs::path cache_dir, RepoType t, const std::string &repo_id);

    const fs::path &cache_dir() const { return cache_dir_; }
    const fs::path &repo_dir() const { return repo_dir_; }
    // Every name below is checked again here (validate.hpp), whatever the caller did: a commit is
    // 40 lower-case hex, an etag 40/64 hex, a revision a ref name, a path relative without "..".
    // A bad one throws llmh::Error instead of naming a path outside the repo's folder.
    fs::path blob(const std::string &etag) const;
    fs::path incomplete(const std::string &etag) const;
    fs::path lock(const std::string &etag) const;
    fs::path snapshot_dir(const std::string &commit) const;
    fs::path snapshot_file(const std::string &commit, const std::string &path) const;
    fs::path no_exist(const std::string &commit, const std::string &path) const;
    fs::path ref(const std::string &revision) const;
    fs::path tree_cache(const std::string &commit) const;

    // Creates the cache dir (with CACHEDIR.TAG), the repo's blobs/ and the lock folder.
    void prepare() const;
    // refs/<revision> := commit, atomically (tmp + rename); nested for "refs/pr/1".
    void write_ref(const std::string &revision, const std::string &commit) const;
    std::optional<std::string> read_ref(const std::string &revision) const;
    // snapshots/<commit>/<path> -> relative path to blobs/<etag>, replacing any previous entry atomically.
    void link_snapshot(const std::string &commit, const std::string &path, const std::string &etag) const;
    void mark_no_exist(const std::string &commit, const std::string &path) const;

private:
    fs::path cache_dir_, repo_dir_, lock_dir_;
};

// Writes `content` to `path` through a temporary sibling and rename (readers never see half a file).
void write_file_atomic(const fs::path &path, const std::string &content);
// The permission bits huggingface_hub gives a finished blob: 0666 & ~umask.
unsigned blob_mode();

} // namespace llmhost::hub::detail
