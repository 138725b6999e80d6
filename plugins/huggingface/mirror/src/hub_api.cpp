#include "hub_api.hpp"

#include "hashing.hpp"
#include "repo_id.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <stdexcept>

namespace llmhost::mirror {
namespace {

using json = nlohmann::json;
constexpr std::int64_t kBlobUrlLifetimeSeconds = 3600;

HttpResponse json_response(unsigned status, const json &body) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.body = body.dump();
    return r;
}

// The Hub's error shape: X-Error-Code (when it has one), X-Error-Message and {"error": message}.
HttpResponse hub_error(unsigned status, const std::string &code, const std::string &message) {
    HttpResponse r = json_response(status, json{{"error", message}});
    if (!code.empty()) r.headers.emplace_back("X-Error-Code", code);
    r.headers.emplace_back("X-Error-Message", message);
    return r;
}

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 1; // skip the leading '/'
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        parts.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// Decodes segments [from, end) and joins them with '/'; nullopt when malformed or when the
// decoded path is not a repo path (an empty, "." or ".." component, also one spelled %2F..%2F).
std::optional<std::string> join_decoded(const std::vector<std::string> &parts, std::size_t from) {
    std::string joined;
    for (std::size_t i = from; i < parts.size(); ++i) {
        auto seg = percent_decode(parts[i]);
        if (!seg) return std::nullopt;
        joined += (i == from ? "" : "/") + *seg;
    }
    if (!valid_repo_path(joined)) return std::nullopt;
    return joined;
}

// "org/name" from two decoded segments; an invalid id is kept as is and refused by open_repo()
// like a repo that does not exist (so the answer is the same 401/404 either way).
std::string repo_id_of(const std::string &org, const std::string &name) {
    auto a = percent_decode(org), b = percent_decode(name);
    return a && b ? *a + "/" + *b : org + "/" + name;
}

std::string query_param(const std::string &query, const std::string &name) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t end = query.find('&', pos);
        if (end == std::string::npos) end = query.size();
        std::string_view item(query.data() + pos, end - pos);
        if (item.substr(0, name.size() + 1) == name + "=")
            return percent_decode(item.substr(name.size() + 1)).value_or("");
        if (item == name) return "true";
        pos = end + 1;
    }
    return "";
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

// Range: bytes=N- | bytes=N-M | bytes=-S. Multiple ranges or other units are ignored (a 200),
// as RFC 9110 allows.
enum class RangeResult { none, ok, unsatisfiable };
RangeResult parse_range(const std::string &header, std::uint64_t size, std::uint64_t &first,
                        std::uint64_t &last) {
    if (header.rfind("bytes=", 0) != 0 || header.find(',') != std::string::npos)
        return RangeResult::none;
    std::string spec = header.substr(6);
    auto dash = spec.find('-');
    if (dash == std::string::npos) return RangeResult::none;
    auto number = [](const std::string &s, std::uint64_t &out) {
        if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
            return false;
        out = std::stoull(s);
        return true;
    };
    std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    std::uint64_t x = 0, y = 0;
    if (a.empty()) { // suffix: the last y bytes
        if (!number(b, y)) return RangeResult::none;
        if (y == 0 || size == 0) return RangeResult::unsatisfiable;
        first = y >= size ? 0 : size - y;
        last = size - 1;
        return RangeResult::ok;
    }
    if (!number(a, x) || (!b.empty() && !number(b, y))) return RangeResult::none;
    if (!b.empty() && y < x) return RangeResult::none;
    if (x >= size) return RangeResult::unsatisfiable;
    first = x;
    last = b.empty() || y >= size ? size - 1 : y;
    return RangeResult::ok;
}

// Contents of one file with ETag, Accept-Ranges and Range handling (200, 206 or 416).
HttpResponse file_contents(const HttpRequest &request, const RepoFile &file,
                           const std::string &etag) {
    HttpResponse r;
    r.headers.emplace_back("ETag", quoted(etag));
    r.headers.emplace_back("Accept-Ranges", "bytes");
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    std::string name = file.path.substr(file.path.rfind('/') + 1);
    r.headers.emplace_back("Content-Disposition",
                           "inline; filename*=UTF-8''" + percent_encode(name, false) +
                               "; filename=\"" + percent_encode(name, false) + "\";");
    std::uint64_t first = 0, last = file.size ? file.size - 1 : 0;
    RangeResult range =
        request.range ? parse_range(*request.range, file.size, first, last) : RangeResult::none;
    if (range == RangeResult::unsatisfiable) {
        HttpResponse e = hub_error(416, "", "Requested range not satisfiable");
        e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(file.size));
        return e;
    }
    if (range == RangeResult::ok) {
        r.status = 206;
        r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                    std::to_string(last) + "/" +
                                                    std::to_string(file.size));
        r.file = FileSlice{file.disk_path, first, last - first + 1};
    } else {
        r.file = FileSlice{file.disk_path, 0, file.size};
    }
    return r;
}

json lfs_json(const RepoFile &f, bool sibling_style) {
    if (sibling_style)
        return json{{"sha256", f.sha256}, {"size", f.size}, {"pointerSize", f.pointer_size}};
    return json{{"oid", f.sha256}, {"size", f.size}, {"pointerSize", f.pointer_size}};
}

} // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string percent_encode(std::string_view s, bool keep_slash) {
    static const char *digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

HubApi::HubApi(RepoStore &store, const TokenRegistry &tokens, HubApiOptions options)
    : store_(store), tokens_(tokens), options_(std::move(options)), secret_(32, '\0') {
    if (RAND_bytes(reinterpret_cast<unsigned char *>(secret_.data()),
                   static_cast<int>(secret_.size())) != 1)
        throw std::runtime_error("OpenSSL: no random bytes for the LFS URL signing key");
}

std::string HubApi::sign(const std::string &what) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char *>(what.data()), what.size(), mac, &length);
    return sha256_hex(std::string_view(reinterpret_cast<const char *>(mac), length)).substr(0, 32);
}

std::string HubApi::base_url(const HttpRequest &request) const {
    return "http://" + (request.host.empty() ? options_.default_authority : request.host);
}

HttpResponse HubApi::handle(const HttpRequest &request) {
    std::string target = request.target;
    std::string query;
    if (auto q = target.find('?'); q != std::string::npos) {
        query = target.substr(q + 1);
        target.resize(q);
    }
    if (target.empty() || target[0] != '/') return hub_error(400, "", "Bad request target");
    std::vector<std::string> parts = split_path(target);
    if (request.method != "GET" && request.method != "HEAD") {
        HttpResponse r =
            hub_error(405, "", "Method not allowed: this mirror is read-only (GET and HEAD)");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    // LFS blob URLs stand for the Hub's CDN: authorised by their signature, not by a token.
    if (parts.size() >= 6 && parts[0] == "_lfs") return lfs_blob(request, parts, query);

    const TokenEntry *token = nullptr;
    if (request.authorization) {
        auto presented = bearer_token(*request.authorization);
        token = presented ? tokens_.match(*presented) : nullptr;
        if (!token) return hub_error(401, "", "Invalid credentials in Authorization header");
    }
    HttpResponse r = [&]() -> HttpResponse {
        if (parts.size() == 2 && parts[0] == "api" && parts[1] == "whoami-v2") return whoami(token);
        if (parts.size() >= 4 && parts[0] == "api" &&
            (parts[1] == "models" || parts[1] == "datasets")) {
            RepoType type = parts[1] == "models" ? RepoType::model : RepoType::dataset;
            std::string id = repo_id_of(parts[2], parts[3]);
            if (parts.size() == 4) return repo_info(type, id, "main", token);
            auto rev = parts.size() >= 6 ? percent_decode(parts[5]) : std::nullopt;
            if (rev && parts.size() == 6 && parts[4] == "revision")
                return repo_info(type, id, *rev, token);
            if (rev && parts[4] == "tree") {
                auto path =
                    parts.size() > 6 ? join_decoded(parts, 6) : std::optional<std::string>("");
                if (path) return tree(request, type, id, *rev, *path, query, token);
            }
        }
        std::size_t base = !parts.empty() && parts[0] == "datasets" ? 1 : 0;
        if (parts.size() >= base + 5 && parts[base + 2] == "resolve") {
            auto rev = percent_decode(parts[base + 3]);
            auto path = join_decoded(parts, base + 4);
            if (rev && path)
                return resolve(request, base ? RepoType::dataset : RepoType::model,
                               repo_id_of(parts[base], parts[base + 1]), *rev, *path, token);
        }
        // The target is not echoed: it is in the request log, and an echo would reflect any name.
        return hub_error(404, "", "Not Found: not a Hub API route this mirror serves");
    }();
    if (token) r.token_name = token->name;
    return r;
}

std::shared_ptr<const Repo> HubApi::open_repo(RepoType type, const std::string &id,
                                              const TokenEntry *token, bool files,
                                              HttpResponse &denied) {
    std::shared_ptr<const Repo> repo;
    try {
        if (valid_repo_id(id)) repo = store_.find(type, id);
    } catch (const std::exception &e) {
        denied = hub_error(500, "", std::string("mirror misconfigured: ") + e.what());
        return nullptr;
    }
    std::string kind = type == RepoType::dataset ? "dataset" : "model";
    // A repo that does not exist answers like a private one, so that existence does not leak.
    Decision decision = repo
                            ? decide_access(*repo, token, files)
                            : (token ? Decision::repo_not_found_404 : Decision::repo_not_found_401);
    switch (decision) {
    case Decision::allow: return repo;
    case Decision::repo_not_found_401:
    case Decision::repo_not_found_404:
        denied = hub_error(decision == Decision::repo_not_found_401 ? 401 : 404, "RepoNotFound",
                           "Repository not found");
        return nullptr;
    case Decision::gated_401:
        denied = hub_error(
            401, "GatedRepo",
            "Access to " + kind + " " + id +
                " is restricted. You must have access to it and be authenticated to access it. "
                "Please log in.");
        return nullptr;
    case Decision::gated_403:
        denied = hub_error(403, "GatedRepo",
                           "Access to " + kind + " " + id +
                               " is restricted and you are not in the authorized list. Visit "
                               "https://huggingface.co/" +
                               (type == RepoType::dataset ? "datasets/" : "") + id +
                               " to ask for access.");
        return nullptr;
    }
    return nullptr;
}

HttpResponse HubApi::resolve(const HttpRequest &request, RepoType type, const std::string &id,
                             const std::string &rev, const std::string &path,
                             const TokenEntry *token) {
    HttpResponse denied;
    auto repo = open_repo(type, id, token, true, denied);
    if (!repo) return denied;
    auto snapshot = valid_revision(rev) ? repo->resolve(rev) : nullptr;
    if (!snapshot) return hub_error(404, "RevisionNotFound", "Invalid rev id: " + rev);
    const RepoFile *file = snapshot->find(path);
    if (!file) {
        HttpResponse r = hub_error(404, "EntryNotFound", "Entry not found");
        r.headers.emplace_back("X-Repo-Commit", snapshot->commit);
        return r;
    }
    if (!file->lfs) {
        HttpResponse r = file_contents(request, *file, file->git_oid);
        r.headers.emplace_back("X-Repo-Commit", snapshot->commit);
        return r;
    }
    // LFS: a 302 to the signed blob URL, with the blob's identity in X-Linked-* (the client's etag
    // and size).
    std::string host = options_.lfs_redirect_host.empty() ? base_url(request)
                                                          : "http://" + options_.lfs_redirect_host +
                                                                ":" + std::to_string(options_.port);
    std::string blob_path = std::string("/_lfs/") + repo_type_plural(type) + "/" + id + "/" +
                            file->sha256 + "/" + percent_encode(file->path, true);
    std::int64_t expires = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() +
                           kBlobUrlLifetimeSeconds;
    std::string exp = std::to_string(expires);
    HttpResponse r;
    r.status = 302;
    r.headers.emplace_back("Location", host + blob_path + "?exp=" + exp + "&sig=" +
                                           sign(std::string(repo_type_plural(type)) + "/" + id +
                                                "/" + file->sha256 + "/" + exp));
    r.headers.emplace_back("ETag", quoted(file->sha256));
    r.headers.emplace_back("X-Linked-Etag", quoted(file->sha256));
    r.headers.emplace_back("X-Linked-Size", std::to_string(file->size));
    r.headers.emplace_back("X-Repo-Commit", snapshot->commit);
    return r;
}

HttpResponse HubApi::lfs_blob(const HttpRequest &request, const std::vector<std::string> &parts,
                              const std::string &query) {
    // /_lfs/{models|datasets}/{org}/{name}/{sha256}/{path...}
    if (parts[1] != "models" && parts[1] != "datasets") return hub_error(404, "", "Not Found");
    RepoType type = parts[1] == "models" ? RepoType::model : RepoType::dataset;
    std::string id = parts[2] + "/" + parts[3], sha = parts[4], exp = query_param(query, "exp");
    if (!valid_repo_id(id) || !is_hex(sha, 64))
        return hub_error(404, "", "Not Found: no such LFS object");
    std::string expected = sign(parts[1] + "/" + id + "/" + sha + "/" + exp);
    std::string sig = query_param(query, "sig");
    std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    bool valid = sig.size() == expected.size() &&
                 CRYPTO_memcmp(sig.data(), expected.data(), sig.size()) == 0 &&
                 exp.find_first_not_of("0123456789") == std::string::npos && !exp.empty() &&
                 exp.size() < 19 && std::stoll(exp) >= now;
    if (!valid)
        return hub_error(403, "",
                         "Request signature does not match or has expired: resolve the file again");
    std::shared_ptr<const Repo> repo = store_.find(type, id);
    if (repo)
        for (auto &[commit, snapshot] : repo->snapshots)
            for (const RepoFile &file : snapshot->files)
                if (file.lfs && file.sha256 == sha) return file_contents(request, file, sha);
    return hub_error(404, "", "Not Found: no such LFS object");
}

HttpResponse HubApi::repo_info(RepoType type, const std::string &id, const std::string &rev,
                               const TokenEntry *token) {
    HttpResponse denied;
    auto repo = open_repo(type, id, token, false, denied);
    if (!repo) return denied;
    auto snapshot = valid_revision(rev) ? repo->resolve(rev) : nullptr;
    if (!snapshot) return hub_error(404, "RevisionNotFound", "Invalid rev id: " + rev);
    json siblings = json::array();
    for (const RepoFile &f : snapshot->files) {
        json s{{"rfilename", f.path}, {"size", f.size}, {"blobId", f.git_oid}};
        if (f.lfs) s["lfs"] = lfs_json(f, true);
        siblings.push_back(std::move(s));
    }
    json info{{"_id", snapshot->commit.substr(0, 24)},
              {"id", id},
              {"sha", snapshot->commit},
              {"private", repo->access == Access::private_repo},
              {"gated", repo->access == Access::gated ? json("manual") : json(false)},
              {"disabled", false},
              {"downloads", 0},
              {"likes", 0},
              {"tags", json::array()},
              {"siblings", std::move(siblings)}};
    if (type == RepoType::model) info["modelId"] = id;
    return json_response(200, info);
}

HttpResponse HubApi::tree(const HttpRequest &request, RepoType type, const std::string &id,
                          const std::string &rev, const std::string &path, const std::string &query,
                          const TokenEntry *token) {
    HttpResponse denied;
    auto repo = open_repo(type, id, token, false, denied);
    if (!repo) return denied;
    auto snapshot = valid_revision(rev) ? repo->resolve(rev) : nullptr;
    if (!snapshot) return hub_error(404, "RevisionNotFound", "Invalid rev id: " + rev);
    std::string recursive_param = query_param(query, "recursive");
    bool recursive =
        recursive_param == "true" || recursive_param == "1" || recursive_param == "True";
    std::string prefix = path.empty() ? "" : path + "/";

    // Entries below `path`: files, and the folders on their way (all levels, or direct children
    // only).
    std::vector<json> entries;
    std::set<std::string> folders_seen;
    bool path_exists = path.empty();
    for (const RepoFile &f : snapshot->files) {
        if (f.path.rfind(prefix, 0) != 0) continue;
        path_exists = true;
        std::string rest = f.path.substr(prefix.size());
        for (std::size_t slash = rest.find('/'); slash != std::string::npos;
             slash = rest.find('/', slash + 1)) {
            std::string folder = prefix + rest.substr(0, slash);
            if (folders_seen.insert(folder).second) {
                entries.push_back(
                    json{{"type", "directory"},
                         {"oid", sha1_hex("tree\n" + snapshot->commit + "\n" + folder)},
                         {"size", 0},
                         {"path", folder}});
            }
            if (!recursive) break;
        }
        if (!recursive && rest.find('/') != std::string::npos) continue;
        json e{{"type", "file"}, {"oid", f.git_oid}, {"size", f.size}, {"path", f.path}};
        if (f.lfs) e["lfs"] = lfs_json(f, false);
        entries.push_back(std::move(e));
    }
    if (!path_exists) {
        HttpResponse r =
            hub_error(404, "EntryNotFound", "Entry not found: no such folder at " + rev);
        r.headers.emplace_back("X-Repo-Commit", snapshot->commit);
        return r;
    }
    std::size_t cursor = 0;
    std::string cursor_param = query_param(query, "cursor");
    if (!cursor_param.empty() && cursor_param.size() < 10 &&
        cursor_param.find_first_not_of("0123456789") == std::string::npos)
        cursor = std::stoul(cursor_param);
    std::size_t page = std::max<std::size_t>(1, options_.page_size);
    json list = json::array();
    for (std::size_t i = cursor; i < entries.size() && i < cursor + page; ++i)
        list.push_back(entries[i]);
    HttpResponse r = json_response(200, list);
    if (cursor + page < entries.size()) {
        std::string next = base_url(request) + "/api/" + repo_type_plural(type) + "/" + id +
                           "/tree/" + percent_encode(rev, false) +
                           (path.empty() ? "" : "/" + percent_encode(path, true)) +
                           "?recursive=" + (recursive ? "true" : "false") +
                           "&expand=false&cursor=" + std::to_string(cursor + page);
        r.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
    }
    return r;
}

HttpResponse HubApi::whoami(const TokenEntry *token) {
    if (!token)
        return hub_error(401, "",
                         "Invalid credentials in Authorization header: a token is required");
    json who{{"type", "user"},
             {"id", sha1_hex("user\n" + token->user).substr(0, 24)},
             {"name", token->user},
             {"fullname", token->user},
             {"email", nullptr},
             {"emailVerified", false},
             {"isPro", false},
             {"canPay", false},
             {"orgs", json::array()},
             {"auth",
              {{"type", "access_token"},
               {"accessToken", {{"displayName", token->name}, {"role", token->role}}}}}};
    return json_response(200, who);
}

} // namespace llmhost::mirror
