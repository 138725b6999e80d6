// What looks like a secret without knowing its value: credential-like key names (any case, camel
// or snake), credentials in a URL's userinfo, and the normalization every secret value gets
// (trimmed, control characters refused). Pure functions: no environment, no state.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::detail {

// "apiKey", "API-KEY", "x.api key" -> "api_key", "api_key", "x_api_key": lower snake case, camel
// humps split ("HFToken" -> "hf_token"), '-', '.' and blanks turned into '_'.
std::string snake_case_key(std::string_view key);

// A key whose value is a credential (docs/configuration.md, "Which keys are secret"): a word
// token/secret/password/passwd/passphrase/authorization/credential(s)/cookie/bearer/apikey, or
// the word key (api_key, private_key, key), in any case and at any position; not when the last
// word says the value only points at one (token_file, api_key_env, password_path, ...), not
// plurals/derivatives (max_tokens, tokenizer), not tokenizer special tokens (eos_token, ...).
bool looks_like_secret_key(std::string_view key);

// Every member of `value` (any depth) whose key looks_like_secret_key gets `mask` instead of its
// value (null and "" are kept: they say "not set").
void mask_secret_keys(nlohmann::json &value, const std::string &mask);
// The strings (any depth) that mask_secret_keys would hide.
void collect_secret_key_values(const nlohmann::json &value, std::vector<std::string> &out);

// "https://user:pass@host/x" -> "https://[redacted]@host/x", for every URL in `text`.
std::string redact_url_userinfo(std::string_view text, std::string_view mask);
// The userinfo of the URL at the start of `url` ("user:pass", then "pass"), or none.
std::vector<std::string> url_userinfo_parts(std::string_view url);

// A secret as used: surrounding whitespace (blanks, CR, LF) trimmed.
std::string trim_secret(std::string_view raw);
// The first non-blank line of a secret file, trimmed.
std::string first_line_trimmed(std::string_view text);
// True when `value` holds a byte < 0x20 or 0x7f: it would break (or inject) an HTTP header.
bool has_control_char(std::string_view value);

} // namespace llmhost::detail
