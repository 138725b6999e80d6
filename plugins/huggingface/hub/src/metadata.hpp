// The per-file metadata HEAD (spec §2): commit, etag, size and where to GET the bytes.
#pragma once

#include <llmhost/net/http_client.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace llmhost::hub::detail {

struct FileMetadata {
    std::string commit;    // X-Repo-Commit
    std::string etag;      // X-Linked-Etag or ETag, W/ and quotes stripped
    std::uint64_t size = 0; // X-Linked-Size, else Content-Length (not of a redirect)
    std::string location;  // where the bytes are: the Location of a redirect (CDN), else the URL
};

std::string normalize_etag(std::string etag);

// nullopt when commit, etag or size is missing (huggingface_hub's FileMetadataError).
std::optional<FileMetadata> parse_file_metadata(const net::Response &r, const std::string &request_url);

// A relative Location on a HEAD is a repo rename: follow it (spec §2). True for 3xx with "/..." Location.
bool is_relative_redirect(const net::Response &r);

} // namespace llmhost::hub::detail
