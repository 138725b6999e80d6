// The mirror's tokens file and the Hub's access rules (public, private, gated).
// Token values are kept only as sha256 digests and compared in constant time; never logged.
#pragma once

#include "repo_store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::mirror {

struct TokenEntry {
    std::string name;                     // shown in logs and whoami's accessToken.displayName
    std::string user;                     // whoami "name" (defaults to the token name)
    std::string role;                     // "read" or "write"
    std::vector<std::string> repos;       // private/gated repos granted: fnmatch globs on "org/name",
                                          // "datasets/org/name" for datasets
    std::string digest;                   // sha256 of the token value
};

// {"tokens": [{"name": "alice-read", "token": "hf_...", "role": "read", "user": "alice",
//              "repos": ["org/private-model", "org/gated-*", "datasets/org/data"]}]}
class TokenRegistry {
public:
    TokenRegistry() = default;
    // Throws std::runtime_error naming the file and the entry at fault (the token value never).
    static TokenRegistry load(const std::filesystem::path &file);

    // The entry whose token equals `presented` (constant-time comparison of digests); nullptr if none.
    const TokenEntry *match(std::string_view presented) const;
    std::size_t size() const { return entries_.size(); }

private:
    std::vector<TokenEntry> entries_;
};

// The bearer token of an Authorization header value ("Bearer hf_..."); nullopt when absent or another scheme.
std::optional<std::string> bearer_token(std::string_view authorization);

enum class Decision {
    allow,
    repo_not_found_401,  // private repo, no token
    repo_not_found_404,  // private repo, token not granted (the Hub hides the repo)
    gated_401,           // gated repo, no token
    gated_403,           // gated repo, token not granted
};

// `token` is the matched entry or nullptr (no token). `files` is true for file contents (resolve and
// LFS blobs): a gated repo shows its metadata to everyone and gates only the files, as the Hub does.
Decision decide_access(const Repo &repo, const TokenEntry *token, bool files);

} // namespace llmhost::mirror
