// llmhost host library — the C++ API (libllmhost.so, target llmhost::host).
//
// A Host reads the configuration (file + environment bridge + CLI-flag overrides), discovers
// provider plugins, creates provider instances lazily, runs requests on them, and swaps them live.
// Every message that leaves the Host (logs, errors, hints) has every known secret redacted.
//
//   auto host = llmhost::Host::open({});            // config file search, env bridge
//   llmhost::GenerateRequest req;
//   req.prompt = "Hello";
//   auto res = host->generate("", req, [](std::string_view piece, uint32_t) {
//       std::cout << piece << std::flush;
//       return true;                                 // false cancels
//   });
//
// Thread-safety: every member function may be called from several threads at once.
// The embeddable C API over this class is <llmhost/host.h>.
#pragma once

#include <llmhost/host.h>
#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost {

// Where in a configuration file an error is (1-based line and column, in bytes).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

// Every failure of the host library. code() is an llmh_status (LLMH_ERR_*) or one of the host's
// own codes (LLMHOST_ERR_CONFIG, LLMHOST_ERR_PLUGIN, LLMHOST_ERR_NO_PROVIDER, see host.h).
// what() and hint() are already redacted. For configuration errors location() is set and what()
// starts with "file:line:column: ".
class LLMHOST_API HostError : public std::runtime_error {
public:
    HostError(int code, const std::string &message, std::string hint = {},
              std::optional<SourceLocation> location = std::nullopt, double retry_after_s = 0,
              int http_status = 0);
    int code() const noexcept { return code_; }
    const std::string &hint() const noexcept { return hint_; }
    const std::optional<SourceLocation> &location() const noexcept { return location_; }
    double retry_after_s() const noexcept { return retry_after_s_; }
    int http_status() const noexcept { return http_status_; }
    // "invalid_argument", "config", "plugin", "no_provider", ...
    const char *code_name() const noexcept { return llmhost_status_name(code_); }

private:
    int code_;
    std::string hint_;
    std::optional<SourceLocation> location_;
    double retry_after_s_;
    int http_status_;
};

struct HostOptions {
    // Configuration file. Empty: $LLMHOST_CONFIG, ./llmhost.json, $XDG_CONFIG_HOME/llmhost/config.json
    // (the first that exists; none is fine: the environment bridge then defines the providers).
    // A path given here must exist.
    std::string config_path;
    // false: ignore every configuration file (initialize_from_env sets this).
    bool use_config_file = true;

    // Plugin directories searched first (e.g. `--plugin-dir`), before the config's plugin_dirs,
    // $LLMHOST_PLUGIN_PATH and the built-in ones.
    std::vector<std::string> plugin_dirs;
    // false: search only plugin_dirs above and the config's (tests use this to isolate).
    bool search_default_plugin_dirs = true;

    // CLI-flag overrides: they beat the config file and the environment. Never secrets.
    std::string default_provider; // --provider
    std::string model;            // --model: key "model" of the provider a request runs on
    // --device: the config key that each provider's plugin maps the flag to in its manifest
    // ("flags": {"--device": "device"}); an error when no configured provider's plugin takes it.
    std::string device;
    // Arbitrary config overrides: {"<provider name>" or "*": {"<key>": value, ...}}.
    nlohmann::json provider_config_overrides = nlohmann::json::object();

    // Minimum level that reaches the log sink.
    llmh_log_level log_level = LLMH_LOG_INFO;
};

// One plugin file found during discovery.
struct PluginInfo {
    std::string path;
    bool loaded = false;      // false: `error` says why
    std::string name;         // descriptor name; empty if it failed to load
    std::string version;
    std::string description;
    uint32_t abi_major = 0;   // the ABI the plugin was built for
    uint32_t abi_minor = 0;
    uint32_t capabilities = 0; // LLMH_CAP_*
    std::string shadowed_by;  // another file with the same plugin name that wins, if any
    int error_code = 0;       // llmh_status / LLMHOST_ERR_* when !loaded
    std::string error;        // names the file and the cause (redacted)
    std::string hint;
    // The plugin's manifest as parsed (docs/plugin-abi.md "Manifest"); null when the
    // plugin has none.
    nlohmann::json manifest;
};

// "chat,completion,streaming"
LLMHOST_API std::string capability_names(uint32_t capabilities);

enum class ProviderState {
    configured, // not created yet (instances are created on first use)
    ready,      // an instance serves requests
    failed      // the last attempt to create an instance failed (see ProviderInfo::error)
};
LLMHOST_API const char *to_string(ProviderState s);

struct ProviderInfo {
    std::string name;
    std::string plugin;     // plugin name, or the plugin file path when the config gives one
    bool is_default = false;
    ProviderState state = ProviderState::configured;
    std::string error;      // last creation error (redacted), when state == failed
    bool thread_safe = false;
    uint64_t generation = 0; // instances created so far for this provider (each swap adds one)
    std::vector<std::string> route_targets; // a route ("plugin" is "route"): its targets' labels
};

// An assistant's call of a tool (plugin ABI llmh_tool_call).
struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments; // JSON text
};

struct Message {
    std::string role;                 // "system", "developer", "user", "assistant", "tool"
    std::string content;              // empty with tool_calls: sent as "no content"
    std::string name;                 // optional
    std::string tool_call_id;         // role "tool": the call this message answers
    std::vector<ToolCall> tool_calls; // role "assistant"
    std::string reasoning;            // role "assistant": its earlier reasoning, if kept
};

// A function the model may call (plugin ABI llmh_tool).
struct Tool {
    std::string name;
    std::string description;
    std::string parameters_json; // JSON Schema text (an object); empty: no parameters
    bool strict = false;
};

// Structured output (plugin ABI llmh_response_format).
struct ResponseFormat {
    llmh_response_format_type type = LLMH_RESPONSE_TEXT;
    std::string name;        // json_schema
    std::string schema_json; // json_schema: the schema as JSON text
    bool strict = false;
};

// One generated token and its log-probability (plugin ABI llmh_token_logprob). `token` holds
// the token's raw bytes, which may be part of a multi-byte UTF-8 character.
struct TokenLogprob {
    std::string token;
    float logprob = 0;
};

// An output event (plugin ABI llmh_event) other than LOGPROB: TEXT and REASONING carry `text`,
// TOOL_CALL_START carries tool_index, tool_call_id and tool_name, TOOL_CALL_ARGS tool_index and
// a piece of the arguments in `text`. Views are valid only during the call.
struct Event {
    llmh_event_type type = LLMH_EVENT_TEXT;
    std::string_view text;
    uint32_t n_tokens = 0;
    uint32_t tool_index = 0;
    std::string_view tool_call_id;
    std::string_view tool_name;
};

// Called for every output event, in order. Return false to cancel.
using EventCallback = std::function<bool(const Event &event)>;

// Called once per generated token, before the event that carries its text. Return false
// to cancel.
using LogprobCallback =
    std::function<bool(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top)>;

// One request, as every layer above the plugin ABI sees it (the server, the C and Python APIs
// and the CLI map into this type; provider_instance.cpp maps it to llmh_request in one place).
// A field the provider's plugin cannot honour is refused with LLMH_ERR_UNSUPPORTED naming the
// provider and the field (logprobs: LLMH_CAP_LOGPROBS, tools or tool messages: LLMH_CAP_TOOLS,
// response_format other than text: LLMH_CAP_STRUCTURED_OUTPUT, reasoning other than default:
// LLMH_CAP_REASONING, grammar or regex: LLMH_CAP_GRAMMAR). Never silently ignored.
struct GenerateRequest {
    std::string model;              // empty: HostOptions::model, else the provider's own
    std::vector<Message> messages;  // chat; empty: use prompt
    std::string prompt;
    int max_tokens = 0;             // <= 0: provider default
    float temperature = -1.0f;      // < 0: default
    float top_p = 0.0f;
    int top_k = 0;
    float min_p = 0.0f;
    float repetition_penalty = 0.0f;
    float presence_penalty = 0.0f;  // 0: off
    float frequency_penalty = 0.0f; // 0: off
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;
    bool stream = true;
    // Polled by the plugin while no event flows; return true to cancel.
    std::function<bool()> should_cancel;
    bool logprobs = false;       // report every generated token to on_logprob
    int top_logprobs = 0;        // 0..LLMH_TOP_LOGPROBS_MAX alternatives per token (needs logprobs)
    LogprobCallback on_logprob;  // may be empty (the logprobs are then computed and dropped)
    std::vector<Tool> tools;
    llmh_tool_choice tool_choice = LLMH_TOOL_CHOICE_AUTO;
    std::string tool_choice_name;            // LLMH_TOOL_CHOICE_FUNCTION
    std::optional<bool> parallel_tool_calls; // nullopt: the provider's default (allowed)
    ResponseFormat response_format;
    llmh_reasoning reasoning = LLMH_REASONING_DEFAULT;
    std::string reasoning_effort;            // "low" | "medium" | "high"; implies ON
    std::string grammar;                     // GBNF (root rule "root"); "" = none; needs LLMH_CAP_GRAMMAR
    std::string regex;                       // the whole output matches it; "" = none; same cap
    // Every output event (text included); may be empty. Text also reaches Host::generate's
    // on_token.
    EventCallback on_event;
    // Called with "provider" or "provider/model" before the request starts on a provider. A
    // route calls it again when it moves on to its next target (only before any output reached
    // the caller), so the last call names the target whose output follows. May be empty.
    std::function<void(std::string_view target)> on_target;
};

// OpenAI's `response_format` object ({"type":"text"|"json_object"|"json_schema",
// "json_schema":{"name","schema","strict"}}) as a ResponseFormat. Throws HostError
// (invalid_argument, naming the field) on anything else.
LLMHOST_API ResponseFormat response_format_from_openai(const nlohmann::json &response_format);

// OpenAI's rule for function names and json_schema names, which every peer and chat template
// assumes: 1-64 characters of a-z, A-Z, 0-9, '_' and '-'. The server, the host and
// response_format_from_openai check names with this one function.
LLMHOST_API bool is_valid_openai_name(std::string_view name);

// Called for every generated piece of the answer, in order, on the calling thread. Return false
// to cancel.
using TokenCallback = std::function<bool(std::string_view piece, uint32_t n_tokens)>;

struct GenerateResult {
    std::string provider; // the provider the request named (a route's name for a route)
    // The target that served it: "provider" or "provider/model" (a route's target), else the
    // provider itself.
    std::string served_by;
    llmh_finish_reason finish_reason = LLMH_FINISH_NONE;
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0; // reasoning included
    uint32_t reasoning_tokens = 0;
    uint32_t cached_tokens = 0;
    double time_to_first_token_ms = 0;
    double total_ms = 0;
    std::string text;                 // the answer, everything streamed as TEXT
    std::string reasoning;            // everything streamed as REASONING
    std::vector<ToolCall> tool_calls; // assembled from TOOL_CALL_START/ARGS, in index order
    const char *finish_reason_name() const noexcept { return llmhost_finish_reason_name(finish_reason); }
};

// One target of a route and its state in the route object now (for GET /metrics). Counters start
// at zero when the route is created, swapped or reloaded with a changed entry.
struct RouteTargetStatus {
    std::string route;
    std::string target; // "provider" or "provider/model"
    uint64_t ok = 0;               // served
    uint64_t failed = 0;           // failed (moved on, or the error was returned)
    uint64_t skipped_cooldown = 0; // not tried: cooling down
    uint64_t skipped_limit = 0;    // not tried: max_concurrent, rpm or tpm reached
    bool cooling_down = false;
    double cooldown_remaining_s = 0;
    uint32_t in_flight = 0;
    double ttft_ewma_ms = -1; // recent time to first token (latency strategy); < 0: no sample
};

struct ModelInfo {
    std::string id;
    std::string description;
};

// One sample a provider reported for /metrics (plugin.h llmh_metric, ABI 2.2), already checked:
// name matches [a-z_][a-z0-9_]* (at most 64 bytes), label key likewise or empty.
struct ProviderMetric {
    std::string provider; // the provider (config name) that reported it
    std::string name;
    std::string help;
    bool counter = false; // else a gauge
    std::string label_key, label_value;
    double value = 0;
};

struct ResolvedSecret {
    std::string value;
    // "config", a variable from the plugin's manifest ("HF_TOKEN"), a manifest file source
    // ("token file /root/.cache/huggingface/token"), "env MY_VAR" (config {"env": "MY_VAR"}),
    // "file /path" (config {"file": "/path"})
    std::string source;
};

// Receives every log line (already redacted, prefixed "[provider] " for provider logs).
using LogSink = std::function<void(llmh_log_level level, std::string_view message)>;
// Receives plugin progress; return true to cancel the task.
using ProgressSink =
    std::function<bool(std::string_view task, uint64_t done, uint64_t total)>;

class LLMHOST_API Host {
public:
    // Reads the config file (see HostOptions::config_path) and the environment, discovers plugins.
    // Throws HostError (code LLMHOST_ERR_CONFIG with a location for file errors).
    static std::unique_ptr<Host> open(const HostOptions &options = {});
    // The original framework's API: the environment bridge only, no configuration file.
    static std::unique_ptr<Host> initialize_from_env(HostOptions options = {});

    ~Host();
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;

    // Every plugin file found (loaded ones and the reason the others failed).
    std::vector<PluginInfo> plugins() const;
    // The directories searched, in order.
    std::vector<std::string> plugin_search_path() const;

    std::vector<ProviderInfo> providers() const;
    std::string default_provider() const; // "" when none can be determined
    // The configuration file in use; empty when none (environment only).
    std::string config_path() const;

    // Creates the provider's instance now if it has none (otherwise the first request does).
    void start(std::string_view provider);

    // Runs one request. provider empty: the default provider. Throws HostError; a cancellation
    // asked for by on_token/should_cancel is not an error (finish_reason == LLMH_FINISH_CANCELLED).
    GenerateResult generate(std::string_view provider, const GenerateRequest &request,
                            const TokenCallback &on_token = {});

    // A route lists its targets' models ("model" of a target, else the target's own list).
    std::vector<ModelInfo> list_models(std::string_view provider);

    // Every target of every route that has served or refused a request so far.
    std::vector<RouteTargetStatus> route_status() const;

    // What each running provider instance reports about itself (plugins with ABI >= 2.2 that
    // implement metrics): engine slots, caches, downloads. A provider that fails or reports
    // malformed samples is skipped with a warning in the log; never throws for a plugin's fault.
    std::vector<ProviderMetric> provider_metrics() const;

    // Replaces or adds provider `name` from an entry {"plugin": ..., "config": {...},
    // "secrets": {...}} (${VAR}s are expanded). The new instance is created first; if that fails
    // the old one keeps serving and HostError is thrown. Requests running on the old instance
    // finish on it; it is destroyed (and its library unloaded) after the last of them.
    void swap(std::string_view name, const nlohmann::json &provider_entry);

    // Re-reads the configuration file and swaps every provider whose entry changed, adds new
    // ones, removes deleted ones (what SIGHUP does). On a config error nothing changes.
    // When some swaps fail the others still apply and HostError lists the failures.
    void reload();

    // The resolved configuration, secrets shown as "hf_…(set, from HF_TOKEN)", never values.
    nlohmann::json resolved_config_for_display() const;

    // A secret of a provider and where it came from (for `llmhost download`, `whoami`, `doctor`).
    std::optional<ResolvedSecret> secret(std::string_view provider, std::string_view name) const;

    // The config a provider's plugin receives (no secrets: ask secret()), as resolved from the
    // file, the manifest-driven environment bridge and overrides; nullopt when no such provider.
    // Real values, not for display: print it only through redact().
    std::optional<nlohmann::json> provider_config(std::string_view provider) const;
    // The manifest of the provider's plugin (null when the plugin has none or was not found).
    nlohmann::json provider_manifest(std::string_view provider) const;

    // `text` with every known secret replaced by "[redacted]".
    std::string redact(std::string_view text) const;

    // Default: warnings and errors to stderr. An empty function restores the default.
    void set_log_sink(LogSink sink);
    void set_log_level(llmh_log_level min_level);
    // Default: none (progress is dropped, nothing is cancelled).
    void set_progress_sink(ProgressSink sink);

    struct Impl;

private:
    explicit Host(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace llmhost
