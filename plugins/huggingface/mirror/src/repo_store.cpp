#include "repo_store.hpp"

#include "hashing.hpp"
#include "repo_id.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace llmhost::mirror {
namespace {

constexpr auto kRecheckInterval = std::chrono::seconds(1);
const char *kRepoConfig = ".mirror.json";

bool hidden(const fs::path &p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

std::string cache_folder_name(RepoType type, const std::string &id) {
    std::string name = std::string(repo_type_plural(type)) + "--" + id;
    for (std::size_t pos = 0; (pos = name.find('/', pos)) != std::string::npos; pos += 2)
        name.replace(pos, 1, "--");
    return name;
}

// Files the Hub stores in LFS: large files and the usual weight formats (as its default
// .gitattributes).
bool looks_like_lfs(const std::string &path, std::uint64_t size, std::uint64_t threshold) {
    static const char *exts[] = {".safetensors", ".bin",  ".pt",      ".pth",
                                 ".gguf",        ".onnx", ".msgpack", ".h5"};
    if (size >= threshold) return true;
    for (const char *ext : exts) {
        std::string_view e(ext);
        if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
            return true;
    }
    return false;
}

std::int64_t mtime_ns(const fs::path &p) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               fs::last_write_time(p).time_since_epoch())
        .count();
}

std::string read_small_file(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

struct RepoConfig {
    Access access = Access::public_repo;
    std::vector<std::string> tokens;
    std::vector<std::string> revisions;
};

// <repo>/.mirror.json: {"access": "public|private|gated", "tokens": [names], "revisions": [names]}.
RepoConfig read_repo_config(const fs::path &file) {
    RepoConfig config;
    if (!fs::exists(file)) return config;
    auto fail = [&](const std::string &what) {
        throw std::runtime_error(
            file.string() + ": " + what +
            " (expected {\"access\": \"public|private|gated\", \"tokens\": [names], "
            "\"revisions\": [names]}; see docs/deployment.md)");
    };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_small_file(file));
    } catch (const std::exception &e) {
        fail(std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) fail("not a JSON object");
    for (auto &[key, value] : j.items()) {
        if (key == "access") {
            std::string a = value.is_string() ? value.get<std::string>() : "";
            if (a == "public")
                config.access = Access::public_repo;
            else if (a == "private")
                config.access = Access::private_repo;
            else if (a == "gated")
                config.access = Access::gated;
            else
                fail("\"access\" must be \"public\", \"private\" or \"gated\"");
        } else if (key == "tokens" || key == "revisions") {
            if (!value.is_array()) fail("\"" + key + "\" must be a list of strings");
            for (auto &v : value) {
                if (!v.is_string() || v.get<std::string>().empty())
                    fail("\"" + key + "\" must be a list of strings");
                (key == "tokens" ? config.tokens : config.revisions)
                    .push_back(v.get<std::string>());
            }
        } else {
            fail("unknown key \"" + key + "\"");
        }
    }
    return config;
}

} // namespace

const char *repo_type_plural(RepoType type) {
    return type == RepoType::dataset ? "datasets" : "models";
}

const RepoFile *Snapshot::find(const std::string &path) const {
    auto it = std::lower_bound(files.begin(), files.end(), path,
                               [](const RepoFile &f, const std::string &p) { return f.path < p; });
    return it != files.end() && it->path == path ? &*it : nullptr;
}

std::shared_ptr<const Snapshot> Repo::resolve(const std::string &revision) const {
    auto ref = refs.find(revision);
    const std::string &commit = ref != refs.end() ? ref->second : revision;
    auto snap = snapshots.find(commit);
    return snap != snapshots.end() ? snap->second : nullptr;
}

RepoStore::RepoStore(fs::path root, std::uint64_t lfs_threshold_bytes)
    : root_(std::move(root)), lfs_threshold_(lfs_threshold_bytes) {}

// Every (type, id) under root: plain <org>/<name>, datasets/<org>/<name>, and cache folders
// models--org--name / datasets--org--name directly in root or in root/hub (root = HF_HOME).
std::vector<std::pair<RepoType, std::string>> RepoStore::list_repo_ids() {
    std::vector<std::pair<RepoType, std::string>> ids;
    auto scan_cache = [&](const fs::path &dir) {
        for (auto &entry : fs::directory_iterator(dir)) {
            std::string name = entry.path().filename().string();
            for (RepoType type : {RepoType::model, RepoType::dataset}) {
                std::string prefix = std::string(repo_type_plural(type)) + "--";
                if (entry.is_directory() && name.rfind(prefix, 0) == 0) {
                    std::string id = name.substr(prefix.size());
                    auto sep = id.find("--");
                    if (sep != std::string::npos) id.replace(sep, 2, "/");
                    ids.emplace_back(type, id);
                }
            }
        }
    };
    auto scan_plain = [&](const fs::path &dir, RepoType type) {
        for (auto &org : fs::directory_iterator(dir)) {
            std::string org_name = org.path().filename().string();
            if (!org.is_directory() || hidden(org.path()) ||
                org_name.find("--") != std::string::npos)
                continue;
            if (type == RepoType::model && (org_name == "datasets" || org_name == "hub")) continue;
            for (auto &repo : fs::directory_iterator(org.path()))
                if (repo.is_directory() && !hidden(repo.path()))
                    ids.emplace_back(type, org_name + "/" + repo.path().filename().string());
        }
    };
    if (!fs::is_directory(root_))
        throw std::runtime_error("mirror root " + root_.string() +
                                 " is not a directory: pass --root DIR");
    scan_cache(root_);
    if (fs::is_directory(root_ / "hub")) scan_cache(root_ / "hub");
    scan_plain(root_, RepoType::model);
    if (fs::is_directory(root_ / "datasets")) scan_plain(root_ / "datasets", RepoType::dataset);
    return ids;
}

// Only a valid "org/name" id is looked up, and only where list_repo_ids() finds repos: so the
// folder found is a repo's own root (whose .mirror.json is its ACL), never a folder inside another
// repo or cache (models--org--x/snapshots, datasets/<org>, hub/...).
bool RepoStore::locate(RepoType type, const std::string &id, Source &source) {
    if (!valid_repo_id(id)) return false;
    std::string org = id.substr(0, id.find('/'));
    bool plain_allowed = type == RepoType::dataset || (org != "datasets" && org != "hub");
    fs::path plain = (type == RepoType::dataset ? root_ / "datasets" : root_) / id;
    if (plain_allowed && fs::is_directory(plain)) {
        source = {plain, false};
        return true;
    }
    for (const fs::path &cache : {root_, root_ / "hub"}) {
        fs::path folder = cache / cache_folder_name(type, id);
        if (fs::is_directory(folder / "snapshots")) {
            source = {folder, true};
            return true;
        }
    }
    return false;
}

// What changes when the repo changes: every file's path, size and mtime (cache: refs and
// snapshots).
std::string RepoStore::signature(const Source &source) {
    std::string sig;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(source.dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (it->is_directory() &&
            (name == ".git" || name == "blobs" || name == ".cache" || name == ".no_exist")) {
            it.disable_recursion_pending();
            continue;
        }
        std::error_code sec;
        auto status = fs::status(it->path(), sec);
        if (sec || !fs::is_regular_file(status)) continue;
        sig += it->path().string() + '\t' + std::to_string(fs::file_size(it->path(), sec)) + '\t' +
               std::to_string(mtime_ns(it->path())) + '\n';
    }
    return sig;
}

RepoFile RepoStore::describe_file(const fs::path &disk, const fs::path &real, std::string rel,
                                  bool from_cache_link) {
    RepoFile file;
    file.path = std::move(rel);
    file.disk_path = real; // canonical: the server opens it with O_NOFOLLOW
    file.size = fs::file_size(disk);
    if (from_cache_link && fs::is_symlink(disk)) {
        // huggingface_hub names each blob by its etag: 64-hex sha256 (LFS) or 40-hex git sha1.
        std::string blob = fs::read_symlink(disk).filename().string();
        if (is_hex(blob, 64) || is_hex(blob, 40)) {
            file.lfs = blob.size() == 64;
            if (file.lfs)
                file.sha256 = blob;
            else
                file.git_oid = blob;
        }
    }
    if (file.sha256.empty() && file.git_oid.empty()) {
        file.lfs = looks_like_lfs(file.path, file.size, lfs_threshold_);
        std::int64_t mtime = mtime_ns(disk);
        auto cached = hashes_.find(disk.string());
        if (cached == hashes_.end() || cached->second.size != file.size ||
            cached->second.mtime_ns != mtime ||
            (file.lfs ? cached->second.sha256.empty() : cached->second.git_oid.empty())) {
            HashEntry entry{file.size, mtime, "", ""};
            if (file.lfs)
                entry.sha256 = sha256_of_file(disk);
            else
                entry.git_oid = git_blob_sha1_of_file(disk, file.size);
            cached = hashes_.insert_or_assign(disk.string(), entry).first;
        }
        file.sha256 = file.lfs ? cached->second.sha256 : "";
        file.git_oid = file.lfs ? "" : cached->second.git_oid;
    }
    if (file.lfs) {
        std::string pointer = lfs_pointer_text(file.sha256, file.size);
        file.pointer_size = pointer.size();
        file.git_oid = sha1_hex("blob " + std::to_string(pointer.size()) + '\0' + pointer);
    }
    return file;
}

std::shared_ptr<Snapshot> RepoStore::index_directory(const fs::path &dir, const fs::path &repo_dir,
                                                     bool resolve_cache_links) {
    auto snapshot = std::make_shared<Snapshot>();
    std::error_code cec;
    fs::path repo_root = fs::canonical(repo_dir, cec);
    if (cec) throw std::runtime_error("cannot resolve " + repo_dir.string() + ": " + cec.message());
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        bool top = it.depth() == 0;
        if (it->is_directory() && (name == ".git" || (top && name == ".cache"))) {
            it.disable_recursion_pending();
            continue;
        }
        if (top && name == kRepoConfig) continue;
        std::error_code sec;
        if (!fs::is_regular_file(fs::status(it->path(), sec)))
            continue; // dirs, dangling cache links
        // A link out of the repo's own folder (to another repo's blobs, to /etc) is not served: the
        // repo's ACL covers only what is inside it.
        fs::path real = fs::canonical(it->path(), sec);
        if (sec || !inside_folder(repo_root, real)) continue;
        std::string rel =
            it->path().lexically_relative(dir).generic_string(); // not relative(): it follows links
        if (!valid_repo_path(rel)) continue;
        snapshot->files.push_back(describe_file(it->path(), real, rel, resolve_cache_links));
    }
    if (ec) throw std::runtime_error("cannot list " + dir.string() + ": " + ec.message());
    std::sort(snapshot->files.begin(), snapshot->files.end(),
              [](const RepoFile &a, const RepoFile &b) { return a.path < b.path; });
    return snapshot;
}

std::shared_ptr<const Repo> RepoStore::load(RepoType type, const std::string &id,
                                            const Source &source) {
    auto repo = std::make_shared<Repo>();
    repo->type = type;
    repo->id = id;
    RepoConfig config = read_repo_config(source.dir / kRepoConfig);
    repo->access = config.access;
    repo->granted_tokens = config.tokens;
    std::string main_commit;
    if (!source.hf_cache) {
        // A deterministic commit over the file list and contents: stable across restarts.
        auto snapshot = index_directory(source.dir, source.dir, false);
        std::string manifest = "llmhost-mirror-commit-v1\n";
        for (auto &f : snapshot->files) manifest += f.path + '\0' + f.etag() + '\n';
        snapshot->commit = sha1_hex(manifest);
        main_commit = snapshot->commit;
        repo->snapshots[snapshot->commit] = snapshot;
        repo->refs["main"] = main_commit;
    } else {
        fs::file_time_type newest{};
        for (auto &entry : fs::directory_iterator(source.dir / "snapshots")) {
            std::string commit = entry.path().filename().string();
            if (!entry.is_directory() || !is_hex(commit, 40)) continue;
            auto snapshot = index_directory(entry.path(), source.dir, true);
            snapshot->commit = commit;
            repo->snapshots[commit] = snapshot;
            if (main_commit.empty() || entry.last_write_time() > newest) {
                newest = entry.last_write_time();
                main_commit = commit;
            }
        }
        std::error_code ec;
        fs::path refs = source.dir / "refs";
        for (auto it = fs::recursive_directory_iterator(refs, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_regular_file()) continue;
            std::string commit = trim(read_small_file(it->path()));
            if (repo->snapshots.count(commit))
                repo->refs[it->path().lexically_relative(refs).generic_string()] = commit;
        }
        // A cache filled by commit only has no refs/main: serve its newest snapshot as main.
        if (repo->refs.count("main"))
            main_commit = repo->refs["main"];
        else if (!main_commit.empty())
            repo->refs["main"] = main_commit;
    }
    for (auto &alias : config.revisions)
        if (!main_commit.empty() && !repo->refs.count(alias)) repo->refs[alias] = main_commit;
    return repo;
}

std::shared_ptr<const Repo> RepoStore::find(RepoType type, const std::string &id) {
    std::lock_guard lock(mutex_);
    std::string key = std::string(repo_type_plural(type)) + "/" + id;
    Source source;
    auto cached = repos_.find(key);
    auto now = std::chrono::steady_clock::now();
    if (cached != repos_.end() && now - cached->second.checked < kRecheckInterval)
        return cached->second.repo;
    if (!locate(type, id, source)) {
        repos_.erase(key);
        return nullptr;
    }
    std::string sig = signature(source);
    if (cached != repos_.end() && cached->second.signature == sig) {
        cached->second.checked = now;
        return cached->second.repo;
    }
    auto repo = load(type, id, source);
    repos_[key] = Cached{repo, sig, now};
    return repo;
}

void RepoStore::index_all() {
    for (auto &[type, id] : list_repo_ids()) find(type, id);
}

std::size_t RepoStore::repo_count() {
    std::lock_guard lock(mutex_);
    return repos_.size();
}

} // namespace llmhost::mirror
