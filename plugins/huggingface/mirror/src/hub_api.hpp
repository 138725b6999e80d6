// The Hub's HTTP routes, as plain data in and out (no sockets here, so the protocol logic is one
// readable file and Beast stays in server.cpp):
//   HEAD/GET [/datasets]/{org}/{name}/resolve/{rev}/{path}    file metadata and contents, Range
//   GET /api/{models|datasets}/{org}/{name}[/revision/{rev}]  repo info (id, sha, siblings, private, gated)
//   GET /api/{models|datasets}/{org}/{name}/tree/{rev}[/path] file list, paged with Link rel="next"
//   GET /api/whoami-v2                                        the token's user and role
//   HEAD/GET /_lfs/{type}s/{org}/{name}/{sha256}/{path}?exp=&sig=  LFS contents (a signed "CDN" URL)
#pragma once

#include "repo_store.hpp"
#include "tokens.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmhost::mirror {

struct HttpRequest {
    std::string method;          // "GET", "HEAD", ...
    std::string target;          // path and query as received
    std::optional<std::string> authorization;
    std::string host;            // Host header ("127.0.0.1:8080"); empty when absent
    std::optional<std::string> range;
};

struct FileSlice {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct HttpResponse {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added by the server
    std::string body;                  // used when `file` is empty
    std::optional<FileSlice> file;     // file contents to stream
    std::string token_name;            // the matched token's name, for the request log
    bool had_authorization = false;
};

struct HubApiOptions {
    std::size_t page_size = 50;
    std::string lfs_redirect_host;     // empty: the request's Host
    std::string default_authority;     // "127.0.0.1:port": used when a request has no Host header
    std::uint16_t port = 0;
};

class HubApi {
public:
    HubApi(RepoStore &store, const TokenRegistry &tokens, HubApiOptions options);
    HttpResponse handle(const HttpRequest &request);

private:
    HttpResponse resolve(const HttpRequest &request, RepoType type, const std::string &id, const std::string &rev,
                         const std::string &path, const TokenEntry *token);
    HttpResponse lfs_blob(const HttpRequest &request, const std::vector<std::string> &segments,
                          const std::string &query);
    HttpResponse repo_info(RepoType type, const std::string &id, const std::string &rev, const TokenEntry *token);
    HttpResponse tree(const HttpRequest &request, RepoType type, const std::string &id, const std::string &rev,
                      const std::string &path, const std::string &query, const TokenEntry *token);
    HttpResponse whoami(const TokenEntry *token);
    // The repo if the token may see it; otherwise `denied` holds the Hub's error response.
    std::shared_ptr<const Repo> open_repo(RepoType type, const std::string &id, const TokenEntry *token, bool files,
                                          HttpResponse &denied);
    std::string sign(const std::string &what) const;
    std::string base_url(const HttpRequest &request) const;

    RepoStore &store_;
    const TokenRegistry &tokens_;
    HubApiOptions options_;
    std::string secret_;  // random per server: signs LFS blob URLs
};

// Percent-decoding of one URL segment ("refs%2Fpr%2F1" -> "refs/pr/1"); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);
// Percent-encoding that keeps A-Za-z0-9 and "-._~", plus '/' when keep_slash.
std::string percent_encode(std::string_view s, bool keep_slash);

} // namespace llmhost::mirror
