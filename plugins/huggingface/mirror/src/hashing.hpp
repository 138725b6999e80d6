// Content hashes the Hub protocol names files by: git blob sha1 (regular files, commits) and sha256 (LFS).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace llmhost::mirror {

std::string sha1_hex(std::string_view data);
std::string sha256_hex(std::string_view data);

// Streams the file in 1 MiB chunks (never the whole file in memory). Throws std::runtime_error
// naming the file when it cannot be read.
std::string git_blob_sha1_of_file(const std::filesystem::path &file, std::uint64_t size);
std::string sha256_of_file(const std::filesystem::path &file);

// The git-lfs pointer file that a Hub repo stores in git for an LFS file.
std::string lfs_pointer_text(const std::string &sha256, std::uint64_t size);

bool is_hex(std::string_view s, std::size_t length);

} // namespace llmhost::mirror
