// Hub URLs (protocol spec §1) and validation of the names that go into them and into cache paths.
#pragma once

#include <llmhost/hub/client.hpp>

#include <string>

namespace llmhost::hub::detail {

std::string type_prefix(RepoType t);  // "" / "datasets/" / "spaces/" (resolve and web URLs)
std::string api_segment(RepoType t);  // "models" / "datasets" / "spaces"
bool is_commit_hash(const std::string &s); // 40 lower-case hex digits

// Throws llmh::Error(invalid_argument) naming the repo id and the accepted form.
void validate_repo_id(const std::string &repo_id);
// Throws llmh::Error(invalid_argument) for "..", absolute, empty or backslash-bearing paths: a file
// name from the server or the user must never escape the snapshot folder.
void validate_repo_path(const std::string &path);

class Endpoint {
public:
    explicit Endpoint(std::string base); // trailing '/' removed
    const std::string &base() const { return base_; }
    std::string resolve_url(RepoType t, const std::string &repo_id, const std::string &revision,
                            const std::string &path) const;
    std::string repo_info_url(RepoType t, const std::string &repo_id, const std::string &revision) const;
    std::string tree_url(RepoType t, const std::string &repo_id, const std::string &revision) const;
    std::string whoami_url() const { return base_ + "/api/whoami-v2"; }
    std::string web_url(RepoType t, const std::string &repo_id) const; // for hints
    std::string settings_tokens_url() const;                           // where to create a token

private:
    std::string base_;
};

} // namespace llmhost::hub::detail
