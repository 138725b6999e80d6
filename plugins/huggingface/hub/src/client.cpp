// Client: snapshot_download / hf_hub_download orchestration (spec §6 and §9), offline resolution,
// and the fall-back to the cache when the Hub cannot be reached.
#include <llmhost/hub/client.hpp>

#include "cache_layout.hpp"
#include "downloader.hpp"
#include "endpoint.hpp"
#include "patterns.hpp"
#include "repo_api.hpp"
#include "session.hpp"
#include "validate.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace llmhost::hub {

using namespace detail;

struct Client::Impl {
    Session s;
    Impl(ClientOptions o, Logger l, ProgressFn p, CancelFn c)
        : s(std::move(o), std::move(l), std::move(p), std::move(c)) {}

    RepoCache cache_for(RepoType t, const std::string &repo_id) {
        validate_repo_id(repo_id);
        if (s.opts.cache_dir.empty())
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "no Hugging Face cache directory is configured",
                              "set HF_HUB_CACHE or HF_HOME (default ~/.cache/huggingface/hub)");
        return RepoCache(s.opts.cache_dir, t, repo_id);
    }

    static std::string offline_hint(const std::string &repo_id) {
        return "unset HF_HUB_OFFLINE (or the provider's `offline` config) and run `llmhost download " + repo_id +
               "` once while online";
    }

    // Which commit a revision names in the cache (offline, or the Hub unreachable).
    std::optional<std::string> cached_commit(const RepoCache &cache, const std::string &revision) {
        if (is_commit_hash(revision)) return revision;
        return cache.read_ref(revision);
    }

    fs::path offline_file(const RepoCache &cache, const std::string &repo_id, const std::string &file,
                          const std::string &revision) {
        auto commit = cached_commit(cache, revision);
        if (!commit)
            throw llmh::Error(LLMH_ERR_NOT_FOUND,
                              "offline mode: revision '" + revision + "' of '" + repo_id + "' is not in the cache " +
                                  s.opts.cache_dir.string(),
                              offline_hint(repo_id));
        fs::path p = cache.snapshot_file(*commit, file);
        std::error_code ec;
        if (fs::exists(p, ec)) return p;
        if (fs::exists(cache.no_exist(*commit, file), ec))
            throw llmh::Error(LLMH_ERR_NOT_FOUND,
                              "file '" + file + "' does not exist in '" + repo_id + "' at " + commit->substr(0, 12) +
                                  " (the Hub said so earlier; cached in .no_exist)",
                              "check the file name");
        throw llmh::Error(LLMH_ERR_NOT_FOUND,
                          "offline mode: file '" + file + "' of '" + repo_id + "' (revision '" + revision +
                              "') is not in the cache " + s.opts.cache_dir.string(),
                          offline_hint(repo_id));
    }

    fs::path offline_snapshot(const RepoCache &cache, const std::string &repo_id, const SnapshotOptions &o) {
        auto commit = cached_commit(cache, o.revision);
        std::error_code ec;
        if (!commit || !fs::is_directory(cache.snapshot_dir(*commit), ec))
            throw llmh::Error(LLMH_ERR_NOT_FOUND,
                              "offline mode: '" + repo_id + "' at revision '" + o.revision + "' is not in the cache " +
                                  s.opts.cache_dir.string(),
                              offline_hint(repo_id));
        // With a cached file list (trees/<commit>.json), every wanted file must be there.
        std::ifstream tree(cache.tree_cache(*commit));
        if (tree) {
            auto j = nlohmann::json::parse(tree, nullptr, false);
            if (j.is_object() && j.contains("files") && j["files"].is_object())
                for (auto it = j["files"].begin(); it != j["files"].end(); ++it)
                    if (valid_path(it.key()) && keep_path(it.key(), o.allow_patterns, o.ignore_patterns) &&
                        !fs::exists(cache.snapshot_file(*commit, it.key()), ec))
                        throw llmh::Error(LLMH_ERR_NOT_FOUND,
                                          "offline mode: snapshot " + commit->substr(0, 12) + " of '" + repo_id +
                                              "' is incomplete: '" + it.key() + "' is missing",
                                          offline_hint(repo_id));
        }
        return fs::absolute(cache.snapshot_dir(*commit));
    }

    // trees/<commit>.json as huggingface_hub >= 1.29 writes it (_tree_cache.py: json.dump(indent=1),
    // keys in that order, paths sorted, ASCII-escaped): its offline snapshot_download then checks our
    // snapshot for completeness instead of returning a half-downloaded one unchecked. Best effort.
    void write_tree_listing(const RepoCache &cache, const std::string &commit, std::vector<RepoFile> files) {
        std::sort(files.begin(), files.end(), [](const RepoFile &a, const RepoFile &b) { return a.path < b.path; });
        nlohmann::ordered_json listing = nlohmann::ordered_json::object();
        for (const auto &f : files) {
            nlohmann::ordered_json entry{{"size", f.size}, {"blob_id", f.blob_id}};
            if (f.lfs_sha256) {
                entry["lfs_sha256"] = *f.lfs_sha256;
                entry["lfs_size"] = f.size;
            }
            listing[f.path] = std::move(entry);
        }
        nlohmann::ordered_json doc{{"format_version", 1}, {"files", std::move(listing)}};
        try {
            write_file_atomic(cache.tree_cache(commit), doc.dump(1, ' ', true));
            // huggingface_hub writes it through tempfile.mkstemp, hence 0600.
            std::error_code ec;
            fs::permissions(cache.tree_cache(commit), fs::perms::owner_read | fs::perms::owner_write,
                            fs::perm_options::replace, ec);
        } catch (const llmh::Error &e) {
            s.log(LLMH_LOG_WARN, std::string("not caching the file list: ") + e.what());
        }
    }

    static bool valid_path(const std::string &p) {
        try { // trees/<commit>.json is read from disk: a bad name is skipped, never joined to a path
            validate_repo_path(p);
            return true;
        } catch (const llmh::Error &) {
            return false;
        }
    }

    static bool unreachable(const llmh::Error &e) {
        return e.code() == LLMH_ERR_NETWORK || e.code() == LLMH_ERR_TIMEOUT;
    }
};

const char *repo_type_name(RepoType t) {
    switch (t) {
    case RepoType::model: return "model";
    case RepoType::dataset: return "dataset";
    case RepoType::space: return "space";
    }
    return "model";
}

std::optional<RepoType> parse_repo_type(const std::string &s) {
    if (s == "model" || s == "models") return RepoType::model;
    if (s == "dataset" || s == "datasets") return RepoType::dataset;
    if (s == "space" || s == "spaces") return RepoType::space;
    return std::nullopt;
}

Client::Client(ClientOptions options, Logger logger, ProgressFn progress, CancelFn cancel)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(logger), std::move(progress), std::move(cancel))) {}

Client::~Client() = default;

const ClientOptions &Client::options() const { return impl_->s.opts; }
TransferStats Client::stats() const {
    const auto &c = impl_->s.stats;
    return {c.bytes_downloaded.load(), c.files_downloaded.load(), c.files_cached.load()};
}
net::HttpClient &Client::http() { return impl_->s.http; }

RepoInfo Client::repo_info(const std::string &repo_id, const std::string &revision, RepoType t) {
    validate_repo_id(repo_id);
    if (!revision.empty()) validate_revision(revision);
    if (impl_->s.opts.offline)
        throw llmh::Error(LLMH_ERR_NETWORK, "offline mode: cannot ask the Hub about '" + repo_id + "'",
                          Impl::offline_hint(repo_id));
    return fetch_repo_info(impl_->s, t, repo_id, revision);
}

std::vector<RepoFile> Client::list_repo_files(const std::string &repo_id, const std::string &revision, RepoType t) {
    validate_repo_id(repo_id);
    validate_revision(revision);
    if (impl_->s.opts.offline)
        throw llmh::Error(LLMH_ERR_NETWORK, "offline mode: cannot list the files of '" + repo_id + "'",
                          Impl::offline_hint(repo_id));
    return fetch_tree(impl_->s, t, repo_id, revision);
}

WhoAmI Client::whoami() {
    if (impl_->s.opts.offline)
        throw llmh::Error(LLMH_ERR_NETWORK, "offline mode: whoami needs the Hub",
                          "unset HF_HUB_OFFLINE to ask the Hub who the token belongs to");
    return fetch_whoami(impl_->s);
}

fs::path Client::hf_hub_download(const std::string &repo_id, const std::string &filename,
                                 const std::string &revision, RepoType t) {
    Impl &m = *impl_;
    RepoCache cache = m.cache_for(t, repo_id);
    validate_repo_path(filename);
    const std::string rev = revision.empty() ? "main" : revision;
    validate_revision(rev); // user input: it names refs/<rev> and goes into the URL
    if (m.s.opts.offline) return m.offline_file(cache, repo_id, filename, rev);
    std::error_code ec;
    if (is_commit_hash(rev) && fs::exists(cache.snapshot_file(rev, filename), ec))
        return cache.snapshot_file(rev, filename);
    cache.prepare();
    std::vector<FileJob> jobs(1);
    jobs[0].path = filename;
    jobs[0].revision = rev;
    try {
        Downloader(m.s, t, repo_id, cache, std::nullopt, "download " + repo_id + "/" + filename).run(jobs);
    } catch (const llmh::Error &e) {
        if (!Impl::unreachable(e) || e.http_status() != 0) throw;
        // The Hub is unreachable: a cached copy of this revision will do (as huggingface_hub).
        if (auto commit = m.cached_commit(cache, rev); commit && fs::exists(cache.snapshot_file(*commit, filename), ec)) {
            m.s.log(LLMH_LOG_WARN, std::string(e.what()) + "; using the cached copy of '" + filename + "'");
            return cache.snapshot_file(*commit, filename);
        }
        throw;
    }
    cache.write_ref(rev, jobs[0].commit);
    return jobs[0].result;
}

fs::path Client::snapshot_download(const std::string &repo_id, const SnapshotOptions &o) {
    Impl &m = *impl_;
    RepoCache cache = m.cache_for(o.repo_type, repo_id);
    const std::string rev = o.revision.empty() ? "main" : o.revision;
    validate_revision(rev); // user input: it names refs/<rev> and goes into the URL
    SnapshotOptions opts = o;
    opts.revision = rev;
    if (m.s.opts.offline && !o.local_dir) return m.offline_snapshot(cache, repo_id, opts);
    if (m.s.opts.offline)
        throw llmh::Error(LLMH_ERR_NETWORK, "offline mode: cannot download '" + repo_id + "' into " + o.local_dir->string(),
                          Impl::offline_hint(repo_id));

    std::string commit = rev;
    std::vector<RepoFile> files;
    try {
        if (!is_commit_hash(rev)) commit = fetch_repo_info(m.s, o.repo_type, repo_id, rev).sha;
        files = fetch_tree(m.s, o.repo_type, repo_id, commit);
    } catch (const llmh::Error &e) {
        if (!Impl::unreachable(e) || e.http_status() >= 400 || o.local_dir) throw;
        m.s.log(LLMH_LOG_WARN, std::string(e.what()) + "; trying the cache");
        try {
            return m.offline_snapshot(cache, repo_id, opts);
        } catch (const llmh::Error &) {
            throw e;
        }
    }

    std::vector<FileJob> jobs;
    for (const auto &f : files) {
        if (!keep_path(f.path, o.allow_patterns, o.ignore_patterns)) continue;
        FileJob j;
        j.path = f.path;
        j.revision = commit;
        j.known_etag = f.etag();
        j.known_size = f.size;
        jobs.push_back(std::move(j));
    }
    if (!o.local_dir) {
        cache.prepare();
        m.write_tree_listing(cache, commit, files);
        cache.write_ref(rev, commit);
        std::error_code ec;
        fs::create_directories(cache.snapshot_dir(commit), ec);
    } else {
        std::error_code ec;
        fs::create_directories(*o.local_dir, ec);
        if (ec)
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "cannot create " + o.local_dir->string() + ": " + ec.message(),
                              "choose a writable --local-dir");
    }
    m.s.log(LLMH_LOG_INFO, "'" + repo_id + "' at " + commit.substr(0, 12) + ": " + std::to_string(jobs.size()) + " of " +
                               std::to_string(files.size()) + " files selected");
    Downloader(m.s, o.repo_type, repo_id, cache, o.local_dir, "download " + repo_id).run(jobs);
    if (o.local_dir) return fs::canonical(*o.local_dir);
    return fs::absolute(cache.snapshot_dir(commit));
}

} // namespace llmhost::hub
