// The downloader's checks of what a server sent, and the errors it ends a file
// with.
#pragma once

#include "metadata.hpp"

#include <llmhost/plugin.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace llmhost::hub::detail {

// The HEAD's commit and ETag name cache paths: anything but hex is refused
// (validate.hpp).
std::optional<llmh::Error> check_file_metadata(const std::string &endpoint, const std::string &path,
                                               const FileMetadata &m);

// A lower-case hex digest equals an ETag of either case (the ETag keeps the
// server's case).
bool same_hex(const std::string &digest, const std::string &etag);

// A file retried max_file_retries times in all (a server that trickles a few
// bytes per connection resets the consecutive count forever).
llmh::Error retry_budget_error(const std::string &repo_id, const std::string &path, int retries,
                               const std::string &last, std::uint64_t written, std::uint64_t size);

// A write into `dir` failed with errno `err` (disk full names the space the
// file needs).
llmh::Error download_disk_error(const std::string &path, const std::filesystem::path &dir, std::uint64_t size, int err);

} // namespace llmhost::hub::detail
