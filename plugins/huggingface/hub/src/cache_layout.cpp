// Cache paths and the small, atomic writes that publish a download (spec §5).
#include "cache_layout.hpp"

#include "endpoint.hpp"
#include "validate.hpp"

#include <llmhost/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace llmhost::hub::detail {

namespace {
const char kCachedirTag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return std::string(buf, 8);
}

[[noreturn]] void fs_error(const std::string &what, const fs::path &p, int err) {
    llmh_status code = err == ENOSPC || err == EDQUOT ? LLMH_ERR_OUT_OF_MEMORY : LLMH_ERR_INTERNAL;
    std::string hint = err == ENOSPC || err == EDQUOT
                           ? "free disk space in " + p.parent_path().string() + " or point HF_HUB_CACHE elsewhere"
                           : "check the permissions of " + p.parent_path().string();
    if (err == EACCES || err == EROFS || err == EPERM) code = LLMH_ERR_INVALID_ARGUMENT;
    throw llmh::Error(code, what + " " + p.string() + ": " + std::strerror(err), hint);
}
} // namespace

unsigned blob_mode() {
    mode_t m = umask(0);
    umask(m); // umask cannot be read without being set: put it back at once
    return 0666u & ~static_cast<unsigned>(m);
}

std::string repo_folder_name(RepoType t, const std::string &repo_id) {
    std::string name = std::string(repo_type_name(t)) + "s--";
    for (char c : repo_id) {
        if (c == '/') name += "--";
        else name += c;
    }
    return name;
}

std::optional<std::pair<RepoType, std::string>> parse_repo_folder(const std::string &folder) {
    auto sep = folder.find("--");
    if (sep == std::string::npos) return std::nullopt;
    std::string type = folder.substr(0, sep);
    RepoType t;
    if (type == "models") t = RepoType::model;
    else if (type == "datasets") t = RepoType::dataset;
    else if (type == "spaces") t = RepoType::space;
    else return std::nullopt;
    std::string rest = folder.substr(sep + 2);
    if (rest.empty()) return std::nullopt;
    std::string id;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest.compare(i, 2, "--") == 0) {
            id += '/';
            ++i;
        } else {
            id += rest[i];
        }
    }
    return std::make_pair(t, id);
}

RepoCache::RepoCache(fs::path cache_dir, RepoType t, const std::string &repo_id)
    : cache_dir_(std::move(cache_dir)) {
    std::string folder = repo_folder_name(t, repo_id);
    repo_dir_ = cache_dir_ / folder;
    lock_dir_ = cache_dir_ / ".locks" / folder;
}

namespace {
const std::string kCacheName = "a cache path"; // defence in depth: callers validated already
}

fs::path RepoCache::blob(const std::string &etag) const {
    return repo_dir_ / "blobs" / require_blob_name(etag, kCacheName);
}
fs::path RepoCache::incomplete(const std::string &etag) const {
    return repo_dir_ / "blobs" / (require_blob_name(etag, kCacheName) + ".incomplete");
}
fs::path RepoCache::lock(const std::string &etag) const {
    return lock_dir_ / (require_blob_name(etag, kCacheName) + ".lock");
}
fs::path RepoCache::snapshot_dir(const std::string &commit) const {
    return repo_dir_ / "snapshots" / require_commit(commit, kCacheName);
}
fs::path RepoCache::snapshot_file(const std::string &commit, const std::string &path) const {
    validate_repo_path(path);
    return snapshot_dir(commit) / fs::path(path);
}
fs::path RepoCache::no_exist(const std::string &commit, const std::string &path) const {
    validate_repo_path(path);
    return repo_dir_ / ".no_exist" / require_commit(commit, kCacheName) / fs::path(path);
}
fs::path RepoCache::ref(const std::string &revision) const {
    validate_revision(revision);
    return repo_dir_ / "refs" / revision;
}
fs::path RepoCache::tree_cache(const std::string &commit) const {
    return repo_dir_ / "trees" / (require_commit(commit, kCacheName) + ".json");
}

static void make_dirs(const fs::path &p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) fs_error("cannot create directory", p / ".", ec.value());
}

void RepoCache::prepare() const {
    make_dirs(repo_dir_ / "blobs");
    make_dirs(lock_dir_);
    fs::path tag = cache_dir_ / "CACHEDIR.TAG";
    std::error_code ec;
    if (!fs::exists(tag, ec)) {
        try {
            write_file_atomic(tag, kCachedirTag);
        } catch (const llmh::Error &) {
            // Best effort, as huggingface_hub: a read-only cache root still works for reading.
        }
    }
}

void write_file_atomic(const fs::path &path, const std::string &content) {
    make_dirs(path.parent_path());
    fs::path tmp = path;
    tmp += ".tmp" + random_suffix();
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.close();
        if (!out) {
            int err = errno;
            std::error_code ec;
            fs::remove(tmp, ec);
            fs_error("cannot write", path, err ? err : EIO);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        std::error_code ec;
        fs::remove(tmp, ec);
        fs_error("cannot rename into", path, err);
    }
}

void RepoCache::write_ref(const std::string &revision, const std::string &commit) const {
    if (revision == commit) return; // spec §5: a ref only when the revision is not the commit
    write_file_atomic(ref(revision), commit);
}

std::optional<std::string> RepoCache::read_ref(const std::string &revision) const {
    // The file holds 40 hex and a newline at most: a huge or hostile one is not read whole.
    std::ifstream in(ref(revision), std::ios::binary);
    if (!in) return std::nullopt;
    std::string s(64, '\0');
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<std::size_t>(in.gcount()));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    if (!is_commit_hash(s)) return std::nullopt;
    return s;
}

void RepoCache::link_snapshot(const std::string &commit, const std::string &path,
                              const std::string &etag) const {
    fs::path link = snapshot_file(commit, path);
    make_dirs(link.parent_path());
    // ../../blobs/<etag> from snapshots/<commit>/, plus one ../ per sub-folder of path.
    fs::path target = fs::path("..") / ".." / "blobs" / require_blob_name(etag, kCacheName);
    for (auto depth = std::count(path.begin(), path.end(), '/'); depth > 0; --depth)
        target = fs::path("..") / target;
    fs::path tmp = link;
    tmp += ".tmp" + random_suffix();
    if (::symlink(target.c_str(), tmp.c_str()) != 0) fs_error("cannot create symlink", tmp, errno);
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        fs_error("cannot publish", link, err);
    }
}

void RepoCache::mark_no_exist(const std::string &commit, const std::string &path) const {
    fs::path marker = no_exist(commit, path);
    make_dirs(marker.parent_path());
    std::ofstream touch(marker, std::ios::binary | std::ios::app);
}

} // namespace llmhost::hub::detail
