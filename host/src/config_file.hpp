// The configuration file: where it is searched, parsing with positions, the schema (unknown keys
// get a "did you mean" suggestion), and ${VAR} / ${VAR:-default} expansion.
#pragma once

#include "json_locator.hpp"

#include <llmhost/host.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace llmhost::detail {

// Maps a JSON pointer inside the document being checked to a position (nullopt: no file, e.g. an
// entry given to swap()). `key` asks for the key's position rather than the value's.
using Locate = std::function<std::optional<SourceLocation>(const std::string &pointer, bool key)>;

struct ConfigFile {
    std::string path;    // as found (absolute when searched)
    std::string text;
    nlohmann::json raw;  // as written (for telling where a secret came from)
    nlohmann::json root; // validated, ${VAR}s expanded
    std::shared_ptr<JsonLocator> locator;
    Locate locate() const;
};

// The file to use: options.config_path (must exist), else $LLMHOST_CONFIG (must exist), else
// ./llmhost.json, else $XDG_CONFIG_HOME/llmhost/config.json; nullopt when none exists.
std::optional<std::string> find_config_file(const HostOptions &options);

// Reads, parses, validates and expands. Throws HostError(LLMHOST_ERR_CONFIG) with a location.
ConfigFile load_config_file(const std::string &path);

// nlohmann's parse_error text without its position prefix and without the text it quotes
// ("last read: '...'"), which may be a secret.
std::string parse_error_description(std::string_view what);

// Checks one provider entry {"plugin", "config", "secrets"}; `pointer` is where it sits.
void validate_provider_entry(const nlohmann::json &entry, const std::string &pointer,
                             const Locate &locate);

// Expands ${VAR} and ${VAR:-default} in every string of `value` (in place). `$${` is a literal
// `${`. An unset variable without a default throws HostError(LLMHOST_ERR_CONFIG).
void expand_variables(nlohmann::json &value, const std::string &pointer, const Locate &locate);
std::string expand_string(std::string_view text, const std::string &pointer, const Locate &locate);

// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string> &candidates);

// Throws HostError(LLMHOST_ERR_CONFIG) at `pointer`.
[[noreturn]] void config_error(const Locate &locate, const std::string &pointer, bool at_key,
                               const std::string &message, const std::string &hint);

} // namespace llmhost::detail
