// The environment bridge's raw inputs: reading variables and files, the one boolean parser. What
// each plugin reads comes from its manifest (manifest.hpp). The host is the only
// component that reads the environment; plugins ask it through get_secret / get_config.
#pragma once

#include <llmhost/host.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::detail {

// The variable's value; nullopt when unset or empty (an empty token means "none").
std::optional<std::string> env_value(const char *name);

std::string home_dir();

// Every secret value the environment holds, known or not yet assigned to a provider: the values
// (raw and trimmed) of variables whose name looks like a credential, and the userinfo of every URL.
std::vector<std::string> environment_secret_values();

// The one boolean parser (environment and config values): 1/true/yes/on (case-insensitive) -> true;
// 0/false/no/off -> false; else nullopt.
std::optional<bool> parse_bool(std::string_view text);

// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string &path);

} // namespace llmhost::detail
