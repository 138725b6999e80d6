// The environment bridge's raw inputs: reading variables, the Hugging Face token chain
// (HF_TOKEN > HUGGING_FACE_HUB_TOKEN > token file) and value validation. The host is the only
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
// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::string hf_home();
// $HF_HUB_CACHE, else $HF_HOME/hub.
std::string hf_hub_cache();
// $HF_TOKEN_PATH, else $HF_HOME/token.
std::string hf_token_file();

// The Hugging Face token from the environment: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token
// file (its first non-blank line, trimmed; empty means none).
std::optional<ResolvedSecret> hf_token_from_environment();

// Every secret value the environment holds, known or not yet assigned to a provider (raw and
// trimmed, and the userinfo of OPENAI_BASE_URL / HF_ENDPOINT), so the redactor can hide them all.
std::vector<std::string> environment_secret_values();

// auto | cpu | cuda | cuda:N
bool valid_device(std::string_view device);
// 1/true/yes/on (case-insensitive) -> true; 0/false/no/off -> false; else nullopt.
std::optional<bool> parse_bool(std::string_view text);

// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string &path);

} // namespace llmhost::detail
