// What a request may name: repo ids in the Hub's grammar, revisions and repo-relative file paths,
// and whether a file on disk lies inside its repo's folder. Every check is on the decoded value.
// A name that fails here is answered like a repo or file that does not exist, so that no request
// reaches the disk through a path component (models--org--x/snapshots, datasets/<org>, ..).
#pragma once

#include <filesystem>
#include <string_view>

namespace llmhost::mirror {

// "namespace/name" as huggingface_hub's validate_repo_id accepts it: ASCII [A-Za-z0-9_.-] only,
// each part starting and ending with [A-Za-z0-9_], the name at most 96 characters, no "--" or ".."
// anywhere, not ending in ".git". The legacy one-segment form ("gpt2") was never served by the
// mirror and is refused: every repo on disk has an organisation folder.
bool valid_repo_id(std::string_view id);

// A branch, tag, "refs/pr/N" or a commit: 1 to 255 bytes, no control characters, backslash, "..",
// empty component or component starting with '.', no leading or trailing '/' (git's ref rules).
bool valid_revision(std::string_view revision);

// A repo-relative file or folder path ("sub/dir/file.txt"): 1 to 4096 bytes, '/'-separated, no
// empty, "." or ".." component, no leading '/', no control characters.
bool valid_repo_path(std::string_view path);

// `file` lies strictly inside `folder` once both are canonical (symlinks resolved). False when
// either cannot be resolved.
bool inside_folder(const std::filesystem::path &folder, const std::filesystem::path &file);

} // namespace llmhost::mirror
