// JSON API calls (spec §1): repo info (revision -> commit), the paged tree listing, whoami.
#pragma once

#include "session.hpp"

#include <llmhost/hub/client.hpp>

#include <vector>

namespace llmhost::hub::detail {

RepoInfo fetch_repo_info(Session &s, RepoType t, const std::string &repo_id, const std::string &revision);
// Every file (not folder) of the repo at `revision`, following Link rel="next" pages.
std::vector<RepoFile> fetch_tree(Session &s, RepoType t, const std::string &repo_id, const std::string &revision);
WhoAmI fetch_whoami(Session &s);

// Parsers (exposed for tests).
RepoInfo parse_repo_info(const std::string &json, const std::string &repo_id);
std::vector<RepoFile> parse_tree_page(const std::string &json);
WhoAmI parse_whoami(const std::string &json);

} // namespace llmhost::hub::detail
