// `llmhost cache ls` / `cache rm`: what huggingface_hub's scan_cache_dir and delete report.
#include <llmhost/hub/client.hpp>

#include "cache_layout.hpp"
#include "endpoint.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sys/stat.h>

namespace llmhost::hub {

using namespace detail;

namespace {
std::uint64_t blob_size(const fs::path &p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_blocks) * 512u : 0; // on disk
}

void collect_refs(const fs::path &refs_dir, std::map<std::string, std::vector<std::string>> &by_commit) {
    std::error_code ec;
    if (!fs::is_directory(refs_dir, ec)) return;
    for (auto it = fs::recursive_directory_iterator(refs_dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        std::string name = fs::relative(it->path(), refs_dir, ec).generic_string();
        std::FILE *f = std::fopen(it->path().c_str(), "rb");
        if (!f) continue;
        char buf[64] = {};
        std::size_t n = std::fread(buf, 1, 40, f);
        std::fclose(f);
        std::string commit(buf, n);
        if (is_commit_hash(commit)) by_commit[commit].push_back(name);
    }
}
} // namespace

CacheInfo scan_cache(const fs::path &cache_dir) {
    CacheInfo info;
    info.cache_dir = cache_dir;
    std::error_code ec;
    if (!fs::is_directory(cache_dir, ec)) return info;
    for (const auto &entry : fs::directory_iterator(cache_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name == ".locks" || name == "CACHEDIR.TAG" || name == "version.txt") continue;
        auto parsed = parse_repo_folder(name);
        if (!parsed || !entry.is_directory(ec)) {
            info.warnings.push_back("not a repo cache folder: " + entry.path().string());
            continue;
        }
        CachedRepo repo;
        repo.repo_type = parsed->first;
        repo.repo_id = parsed->second;
        repo.repo_path = entry.path();
        repo.last_modified = fs::last_write_time(entry.path(), ec);
        std::map<std::string, std::uint64_t> blobs;
        for (const auto &b : fs::directory_iterator(entry.path() / "blobs", ec)) {
            std::string bn = b.path().filename().string();
            if (bn.ends_with(".incomplete")) continue;
            blobs[bn] = blob_size(b.path());
            repo.last_modified = std::max(repo.last_modified, fs::last_write_time(b.path(), ec));
        }
        for (auto &[n, sz] : blobs) repo.size_on_disk += sz;
        repo.files = blobs.size();
        std::map<std::string, std::vector<std::string>> refs;
        collect_refs(entry.path() / "refs", refs);
        for (const auto &snap : fs::directory_iterator(entry.path() / "snapshots", ec)) {
            CachedRevision rev;
            rev.commit = snap.path().filename().string();
            rev.snapshot_path = snap.path();
            rev.refs = refs[rev.commit];
            std::set<std::string> seen;
            std::error_code ec2;
            for (auto it = fs::recursive_directory_iterator(snap.path(), ec2); it != fs::recursive_directory_iterator(); it.increment(ec2)) {
                if (ec2) break;
                if (it->is_directory(ec2) && !it->is_symlink(ec2)) continue;
                ++rev.files;
                fs::path target = fs::weakly_canonical(it->path(), ec2);
                std::string blob = target.filename().string();
                if (blobs.count(blob) && seen.insert(blob).second) rev.size_on_disk += blobs[blob];
            }
            repo.revisions.push_back(std::move(rev));
        }
        info.size_on_disk += repo.size_on_disk;
        info.repos.push_back(std::move(repo));
    }
    std::sort(info.repos.begin(), info.repos.end(),
              [](const CachedRepo &a, const CachedRepo &b) { return a.repo_id < b.repo_id; });
    return info;
}

std::uint64_t delete_repo_from_cache(const fs::path &cache_dir, const std::string &repo_id, RepoType t) {
    validate_repo_id(repo_id);
    RepoCache cache(cache_dir, t, repo_id);
    std::error_code ec;
    if (!fs::is_directory(cache.repo_dir(), ec))
        throw llmh::Error(LLMH_ERR_NOT_FOUND,
                          std::string(repo_type_name(t)) + " '" + repo_id + "' is not in the cache " + cache_dir.string(),
                          "`llmhost cache ls` lists the cached repos");
    std::uint64_t freed = 0;
    for (auto it = fs::recursive_directory_iterator(cache.repo_dir(), ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) freed += blob_size(it->path());
    }
    fs::remove_all(cache.repo_dir(), ec);
    if (ec)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "cannot delete " + cache.repo_dir().string() + ": " + ec.message(),
                          "check the folder's permissions");
    fs::remove_all(cache_dir / ".locks" / repo_folder_name(t, repo_id), ec);
    return freed;
}

std::string format_size(std::uint64_t bytes) {
    const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1000.0 && u < 5) {
        v /= 1000.0;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

} // namespace llmhost::hub
