// Validation of every name that reaches a cache path or a URL: revisions (user
// input), commits and ETags (server input). A hostile or broken server must
// never steer a path outside the cache or the local dir, nor skip the checksum,
// and its garbage is quoted short and sanitized in errors.
#pragma once

#include <string>
#include <string_view>

namespace llmhost::hub::detail {

// "'abc...' (1048576 bytes)": at most `max` printable characters, control and
// non-ASCII bytes as '?'.
std::string excerpt(std::string_view value, std::size_t max = 48);

// A branch or tag name (git check-ref-format, roughly, as the Hub accepts them)
// or a 40-hex commit. Throws llmh::Error(invalid_argument) naming the revision
// and the rule it breaks.
void validate_revision(const std::string &revision);

// A commit the server (or a file in the cache) gave: exactly 40 lower-case hex,
// else llmh::Error(network) naming `source` (e.g. "the X-Repo-Commit header of
// https://hub").
const std::string &require_commit(const std::string &commit, const std::string &source);

// A blob name: 40 hex (git sha1) or 64 hex (sha256), either case.
bool is_blob_name(const std::string &etag);
// The normalized ETag (W/ and quotes stripped, see metadata.cpp) as a blob
// name, else llmh::Error(network) naming `source`.
const std::string &require_blob_name(const std::string &etag, const std::string &source);

} // namespace llmhost::hub::detail
