// Who may call the server: client API keys (Authorization: Bearer), admin keys, and the rule
// that without any client key only loopback clients are served (unless --insecure-public).
#pragma once

#include <llmhost/server/server.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::server {

// Compares in time that depends only on the lengths, never on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// True when `authorization` is "Bearer <k>" for one of `keys` (every key is compared).
bool bearer_matches(std::string_view authorization, const std::vector<std::string> &keys);
// The position of the matching key in `keys`, or -1 (every key is compared, as above).
int bearer_key_index(std::string_view authorization, const std::vector<std::string> &keys);

// The name a key has in metrics and the request log: "<prefix>_<position from 1>" in the
// configured list (--api-key-file lines, then LLMHOST_API_KEYS, then --api-key). Never the key,
// nor anything derived from its value.
std::string key_name(const char *prefix, int index);

// split_keys (the LLMHOST_API_KEYS parser) is declared in <llmhost/server/server.hpp>.

} // namespace llmhost::server
