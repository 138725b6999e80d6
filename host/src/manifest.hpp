// A plugin's manifest (llmh_plugin::manifest_json, ABI 1.2): data, not code, read without creating
// an instance. It drives everything the host used to know about particular plugins: the
// environment bridge, the missing-secret warning, `config show` / `doctor`, config validation and
// generic host flags such as --device. Format: docs/plugin-abi.md, "Manifest".
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::detail {

// One place a value may come from, tried in order.
struct ManifestSource {
    enum class Kind { env, file, value } kind = Kind::env;
    std::string text;  // env: the variable; file: a path expression; value: an expression
    std::string label; // the source shown ("HF_TOKEN", "token file", "default"); env: the variable
};

// An environment mapping: a config key or a secret, filled when the provider leaves it unset.
struct ManifestEnv {
    bool secret = false;
    std::string target;          // config key or secret name
    std::string type = "string"; // string | path | bool | number
    std::vector<ManifestSource> from;
};

struct ManifestSecret {
    bool expected = false; // warn when the provider starts without it
    std::string warning;   // the warning logged when an expected secret is missing
    std::string hint;      // what to do about it (doctor, warning)
    std::string missing;   // shown by `config show` in place of an unset expected secret
};

struct ManifestConfigKey {
    std::string type;                // "" (any) | string | path | bool | number
    std::string pattern;             // ECMAScript regex the whole string value must match
    std::vector<std::string> values; // an enum of allowed strings
    std::string hint;                // shown when the value is not valid
};

struct Manifest {
    std::string
        from_environment; // provider name when the plugin comes up from the environment alone
    bool default_provider = false; // that provider is the default when nothing else picks one
    std::vector<ManifestEnv> env;
    std::map<std::string, ManifestSecret> secrets;
    std::map<std::string, ManifestConfigKey> config;
    bool closed_config = false;               // "additional_config": false: unknown keys are errors
    std::map<std::string, std::string> flags; // host flag ("--device") -> config key
    nlohmann::json json;                      // the manifest as parsed (for the CLI)
};

// Parses and checks a manifest; throws std::invalid_argument naming what is wrong.
Manifest parse_manifest(std::string_view text);

// ${VAR} and ${VAR:-default} (the default may nest further ${...}) from the environment; empty
// variables count as unset. nullopt when a ${VAR} without a default is unset: that source does
// not apply.
std::optional<std::string> expand_environment(std::string_view expr);

// A value from the environment: its text and the source to show.
struct EnvValue {
    std::string value;
    std::string source;
};

// The first source of `m` that gives a value (a file source: its first non-blank line, trimmed).
// `all`, when given, receives every value any source gives (the redactor must know them all).
std::optional<EnvValue> resolve_env(const ManifestEnv &m, std::vector<std::string> *all = nullptr);

// Converts a value of the given type from its text; throws HostError(LLMHOST_ERR_CONFIG) naming
// `source` (a variable, never a secret) when it is not of that type.
nlohmann::json typed_env_value(const std::string &type, const std::string &text,
                               const std::string &source);

// Every secret value the manifest's sources can see now (raw and trimmed), for the redactor.
std::vector<std::string> manifest_secret_values(const Manifest &m);

} // namespace llmhost::detail
