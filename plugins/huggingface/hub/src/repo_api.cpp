#include "repo_api.hpp"

#include "validate.hpp"

#include <nlohmann/json.hpp>

#include <unordered_set>

namespace llmhost::hub::detail {

using nlohmann::json;

namespace {
[[noreturn]] void bad_json(const std::string &what, const std::string &url) {
    throw llmh::Error(LLMH_ERR_NETWORK, "the Hub answered " + what + " from " + url,
                      "check HF_ENDPOINT: it must point to the Hugging Face Hub or a compatible mirror");
}

std::string str(const json &j, const char *key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
} // namespace

RepoInfo parse_repo_info(const std::string &body, const std::string &repo_id) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("id")) throw std::runtime_error("no 'id' in repo info");
    RepoInfo info;
    info.id = str(j, "id");
    if (info.id.empty()) info.id = repo_id;
    info.sha = str(j, "sha");
    if (auto it = j.find("private"); it != j.end() && it->is_boolean()) info.is_private = it->get<bool>();
    if (auto it = j.find("gated"); it != j.end()) {
        if (it->is_string()) info.gated = it->get<std::string>();
        else if (it->is_boolean() && it->get<bool>()) info.gated = "auto";
    }
    return info;
}

RepoInfo fetch_repo_info(Session &s, RepoType t, const std::string &repo_id, const std::string &revision) {
    std::string url = s.endpoint.repo_info_url(t, repo_id, revision);
    auto ctx = s.context(t, repo_id, revision);
    net::Response r = s.fetch_with_retry(s.api_request("GET", url), ctx);
    if (r.status != 200) throw http_error(r, r.body, ctx);
    RepoInfo info;
    try {
        info = parse_repo_info(r.body, repo_id);
    } catch (const std::exception &) {
        bad_json("an unreadable repo info", url);
    }
    require_commit(info.sha, "the 'sha' of the repo info from " + s.endpoint.base());
    return info;
}

std::vector<RepoFile> parse_tree_page(const std::string &body) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_array()) throw std::runtime_error("tree page is not a JSON list");
    std::vector<RepoFile> files;
    for (const auto &item : j) {
        if (!item.is_object() || str(item, "type") != "file") continue;
        RepoFile f;
        f.path = str(item, "path");
        f.blob_id = str(item, "oid");
        if (auto it = item.find("size"); it != item.end() && it->is_number_unsigned()) f.size = it->get<std::uint64_t>();
        if (auto it = item.find("lfs"); it != item.end() && it->is_object()) {
            std::string oid = str(*it, "oid");
            if (!oid.empty()) f.lfs_sha256 = oid;
            if (auto sz = it->find("size"); sz != it->end() && sz->is_number_unsigned()) f.size = sz->get<std::uint64_t>();
        }
        if (f.path.empty()) throw std::runtime_error("tree entry without a path");
        // The etag names a blob and is compared with local files: the same rule as a HEAD's ETag.
        require_blob_name(f.blob_id, "the 'oid' of '" + excerpt(f.path, 200) + "' in the file list");
        if (f.lfs_sha256) require_blob_name(*f.lfs_sha256, "the 'lfs.oid' of '" + excerpt(f.path, 200) + "' in the file list");
        files.push_back(std::move(f));
    }
    return files;
}

std::vector<RepoFile> fetch_tree(Session &s, RepoType t, const std::string &repo_id, const std::string &revision) {
    std::vector<RepoFile> all;
    std::string url = s.endpoint.tree_url(t, repo_id, revision);
    auto ctx = s.context(t, repo_id, revision);
    // A hostile server can page forever: a cap on pages, and a page seen twice is a loop.
    std::unordered_set<std::string> seen;
    const std::string origin = net::url_origin(url);
    auto refuse = [&](const std::string &what, const std::string &hint) {
        throw llmh::Error(LLMH_ERR_NETWORK, "the file list of '" + repo_id + "' from " + s.endpoint.base() + " " + what,
                          hint + "; check HF_ENDPOINT: it must point to the Hugging Face Hub or a trusted mirror");
    };
    for (std::size_t page = 0; !url.empty(); ++page) {
        if (page >= s.opts.max_tree_pages)
            refuse("has more than " + std::to_string(s.opts.max_tree_pages) + " pages; stopped",
                   "for a repo with that many files raise the huggingface provider's `max_tree_pages`");
        if (!seen.insert(url).second)
            refuse("loops: page " + std::to_string(page + 1) + " links back to an earlier page", "stopped");
        if (net::url_origin(url) != origin)
            refuse("links to another server (" + excerpt(net::url_origin(url), 80) + ")", "stopped");
        net::Response r = s.fetch_with_retry(s.api_request("GET", url), ctx);
        if (r.status != 200) throw http_error(r, r.body, ctx);
        try {
            auto files = parse_tree_page(r.body);
            for (auto &f : files) {
                validate_repo_path(f.path);
                all.push_back(std::move(f));
            }
        } catch (const llmh::Error &) {
            throw;
        } catch (const std::exception &e) {
            bad_json(std::string("an unreadable file list (") + e.what() + ")", url);
        }
        auto next = net::link_next(r.headers);
        url = next ? net::resolve_url(url, *next) : std::string();
    }
    return all;
}

WhoAmI parse_whoami(const std::string &body) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_object()) throw std::runtime_error("whoami answer is not a JSON object");
    WhoAmI w;
    w.name = str(j, "name");
    w.type = str(j, "type");
    w.fullname = str(j, "fullname");
    if (auto orgs = j.find("orgs"); orgs != j.end() && orgs->is_array())
        for (const auto &o : *orgs)
            if (o.is_object() && !str(o, "name").empty()) w.orgs.push_back(str(o, "name"));
    if (auto auth = j.find("auth"); auth != j.end() && auth->is_object())
        if (auto tok = auth->find("accessToken"); tok != auth->end() && tok->is_object()) {
            w.token_name = str(*tok, "displayName");
            w.token_role = str(*tok, "role");
        }
    return w;
}

WhoAmI fetch_whoami(Session &s) {
    if (!s.opts.token || s.opts.token->empty())
        throw llmh::Error(LLMH_ERR_AUTH_REQUIRED, "no Hugging Face token is configured",
                          "create a token at " + s.endpoint.settings_tokens_url() +
                              " and set HF_TOKEN (or the huggingface provider's `token` config, or $HF_HOME/token)");
    std::string url = s.endpoint.whoami_url();
    ErrorContext ctx = s.context(RepoType::model, "", "");
    net::Response r = s.fetch_with_retry(s.api_request("GET", url), ctx);
    if (r.status == 401)
        throw llmh::Error(LLMH_ERR_AUTH_INVALID, "the Hugging Face token was rejected by " + s.endpoint.base() +
                                                     " (invalid, expired or revoked)",
                          "check that HF_TOKEN holds the whole token (hf_...), or create a new one at " +
                              s.endpoint.settings_tokens_url(),
                          401);
    if (r.status != 200) throw http_error(r, r.body, ctx);
    try {
        return parse_whoami(r.body);
    } catch (const std::exception &) {
        bad_json("an unreadable whoami answer", url);
    }
}

} // namespace llmhost::hub::detail
