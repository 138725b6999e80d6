// allow/ignore patterns, as huggingface_hub's filter_repo_objects (spec §9): case-sensitive
// fnmatchcase in which '*' also crosses '/'; '\' becomes '/' and a trailing '/' gets '*'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::hub::detail {

// Python fnmatch.fnmatchcase: '*' any run (including '/'), '?' one character, '[seq]', '[!seq]'.
// An unterminated '[' matches a literal '['.
bool fnmatch_case(std::string_view pattern, std::string_view name);

std::string normalize_pattern(std::string pattern);

// Kept if it matches some allow pattern (when there are any) and no ignore pattern.
bool keep_path(const std::string &path, const std::vector<std::string> &allow,
               const std::vector<std::string> &ignore);

} // namespace llmhost::hub::detail
