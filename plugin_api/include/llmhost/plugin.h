/*
 * llmhost plugin ABI — the one contract between the llmhost host and a provider plugin.
 *
 * Plain C99. A plugin is a shared library exporting one symbol, LLMH_PLUGIN_ENTRY_NAME
 * ("llmh_plugin_entry"). Everything else travels through two tables of function pointers:
 * the host's services (host -> plugin) and the plugin's descriptor (plugin -> host).
 * A plugin never links against host symbols.
 *
 * Versioning (see docs/plugin-abi.md):
 *   - LLMH_ABI_MAJOR changes only when an existing field or function changes meaning.
 *     A host refuses a plugin built for another major, naming both versions.
 *   - LLMH_ABI_MINOR grows when fields are appended. Every struct that crosses the boundary
 *     begins with `uint32_t struct_size`, written by whoever fills the struct. A reader touches
 *     a field only if the struct is large enough to hold it (LLMH_HAS_FIELD). No struct embeds
 *     another by value and no array has a fixed stride: parts are reached through pointers, so
 *     each grows on its own. Older or newer minors on either side therefore keep working.
 *   - ABI 2.0 replaced 1.x: pointer-reached request parts, tool calling, structured output,
 *     reasoning, and output as events. docs/plugin-abi.md has the migration.
 *   - ABI 2.1 appended llmh_request.grammar and .regex (LLMH_CAP_GRAMMAR).
 *   - ABI 2.2 (this header) appended llmh_plugin.metrics: what a provider reports for the
 *     host's /metrics (engine slots, caches, downloads...).
 *
 * Ownership, in one rule: memory belongs to whoever allocated it, and a pointer handed across
 * the boundary is valid only for the duration of the call it was passed to, unless the
 * comment on that field says otherwise.
 *
 * Threading: the host may call a provider from several threads at once only if the provider
 * reports LLMH_PROVIDER_THREAD_SAFE; otherwise the host serializes calls to that instance.
 * Host services may be called from any thread.
 */
#ifndef LLMHOST_PLUGIN_H
#define LLMHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLMH_ABI_MAJOR 2
#define LLMH_ABI_MINOR 2

#define LLMH_PLUGIN_ENTRY_NAME "llmh_plugin_entry"

#if defined(_WIN32)
#define LLMH_PLUGIN_EXPORT __declspec(dllexport)
#else
#define LLMH_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* True when the struct pointed to by `ptr` (which starts with struct_size) contains `field`. */
#define LLMH_HAS_FIELD(ptr, type, field) \
    ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ------------------------------------------------------------------------------------------ */
/* Status codes and error objects                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef enum llmh_status {
    LLMH_OK = 0,
    LLMH_ERR_INVALID_ARGUMENT = 1, /* bad config, bad request, bad model files */
    LLMH_ERR_AUTH_REQUIRED = 2,    /* a credential is needed and none was given */
    LLMH_ERR_AUTH_INVALID = 3,     /* the credential given was rejected */
    LLMH_ERR_GATED = 4,            /* access must be requested/granted (e.g. gated HF repo) */
    LLMH_ERR_NOT_FOUND = 5,        /* model, repository, revision or file does not exist */
    LLMH_ERR_RATE_LIMITED = 6,     /* retry after llmh_error.retry_after_s seconds */
    LLMH_ERR_NETWORK = 7,          /* connection failed, dropped, DNS, TLS, 5xx */
    LLMH_ERR_TIMEOUT = 8,
    LLMH_ERR_UNSUPPORTED = 9,      /* feature, architecture or dtype not supported */
    LLMH_ERR_CANCELLED = 10,       /* the caller cancelled */
    LLMH_ERR_OUT_OF_MEMORY = 11,   /* RAM, GPU memory or disk space */
    LLMH_ERR_INTERNAL = 12,        /* a bug: please report */
    LLMH_ERR_ABI_MISMATCH = 13,    /* plugin and host disagree on the ABI major */
    LLMH_ERR_CONTEXT_OVERFLOW = 14 /* prompt + max_tokens exceed the model's context */
} llmh_status;

#define LLMH_ERROR_MESSAGE_MAX 1024
#define LLMH_ERROR_HINT_MAX 1024

/*
 * An error object. Always allocated by the CALLER (host), who sets struct_size; the callee
 * fills it when it returns a status other than LLMH_OK. Fixed buffers: nothing to free, nothing
 * to allocate on an out-of-memory path, trivially usable from any language.
 * Strings are NUL-terminated UTF-8, truncated if longer than the buffer.
 * `message` says what went wrong (naming the thing), `hint` what the user can do about it.
 * Neither may contain a secret.
 */
typedef struct llmh_error {
    uint32_t struct_size;
    int32_t code;           /* an llmh_status */
    int32_t http_status;    /* the HTTP status behind the error, 0 if none */
    double retry_after_s;   /* LLMH_ERR_RATE_LIMITED: seconds to wait (0 = unknown) */
    char message[LLMH_ERROR_MESSAGE_MAX];
    char hint[LLMH_ERROR_HINT_MAX];
} llmh_error;

/* ------------------------------------------------------------------------------------------ */
/* Host services (host -> plugin)                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef enum llmh_log_level {
    LLMH_LOG_DEBUG = 0,
    LLMH_LOG_INFO = 1,
    LLMH_LOG_WARN = 2,
    LLMH_LOG_ERROR = 3
} llmh_log_level;

/*
 * Services the host offers. The table and `ctx` stay valid until the matching destroy call
 * (for the table handed to create) or until the library is unloaded (for the table handed to
 * the entry point). All functions are thread-safe.
 */
typedef struct llmh_host_services {
    uint32_t struct_size;
    void *ctx; /* opaque; pass it back as the first argument of every service */

    /*
     * Look up a secret by name (e.g. "token", "api_key"). The host decides: config value,
     * environment (HF_TOKEN, OPENAI_API_KEY, ...), token file, and only secrets that the
     * configuration grants this provider. A plugin never reads the environment itself.
     * Copies the value, NUL-terminated, into buf when it fits (cap includes the NUL) and
     * returns its length in bytes; returns -1 when the secret is absent or not granted.
     * When the return value >= cap, nothing usable was copied: call again with a larger buf.
     */
    int64_t (*get_secret)(void *ctx, const char *name, char *buf, size_t cap);

    /*
     * Look up a configuration value of this provider by JSON pointer ("/model", "/hub/endpoint").
     * Same buffer contract as get_secret. Strings are returned unquoted; other JSON values as
     * their compact JSON text. -1 when absent.
     */
    int64_t (*get_config)(void *ctx, const char *json_pointer, char *buf, size_t cap);

    /* Log a message. The host redacts every known secret from it before it reaches any sink. */
    void (*log)(void *ctx, llmh_log_level level, const char *message);

    /*
     * Report progress on a named task ("download meta-llama/Llama-3.2-1B"). total = 0 when
     * unknown. Returns nonzero when the user asked to cancel: the plugin should stop and
     * return LLMH_ERR_CANCELLED.
     */
    int (*progress)(void *ctx, const char *task, uint64_t done, uint64_t total);
} llmh_host_services;

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                    */
/* ------------------------------------------------------------------------------------------ */
/*
 * ABI 2 layout rule: every part of a request is reached through a POINTER to a struct that
 * begins with its own struct_size (params, each message, each tool call, each tool, the
 * response format). Arrays are arrays of pointers, never arrays of structs, so a part can grow
 * without moving anything else. A reader checks LLMH_HAS_FIELD on each part separately.
 * Every string is NUL-terminated UTF-8; NULL means "not given". All of it is owned by the
 * caller and valid only during generate.
 */

/* An assistant's call of a tool (a function). */
typedef struct llmh_tool_call {
    uint32_t struct_size;
    const char *id;        /* the call's id, echoed back by the tool message ("call_0") */
    const char *name;      /* the function's name */
    const char *arguments; /* the arguments as JSON text (an object), as the model wrote them */
} llmh_tool_call;

typedef struct llmh_message {
    uint32_t struct_size;
    const char *role;         /* "system", "developer", "user", "assistant", "tool" */
    const char *content;      /* UTF-8; NULL for an assistant message with only tool calls */
    const char *name;         /* optional participant or tool name */
    const char *tool_call_id; /* role "tool": the id of the call this message answers */
    const llmh_tool_call *const *tool_calls; /* role "assistant": the calls it made */
    size_t n_tool_calls;
    const char *reasoning;    /* role "assistant": its earlier reasoning text, if kept */
} llmh_message;

/* A tool the model may call. Only functions exist today; `type` leaves room for others. */
typedef struct llmh_tool {
    uint32_t struct_size;
    const char *type;            /* "function" */
    const char *name;            /* [a-zA-Z0-9_-]{1,64} */
    const char *description;     /* may be NULL */
    const char *parameters_json; /* a JSON Schema (object) as text; NULL: no parameters */
    int32_t strict;              /* nonzero: arguments must match the schema exactly */
} llmh_tool;

typedef enum llmh_tool_choice {
    LLMH_TOOL_CHOICE_AUTO = 0,     /* the model decides (the default) */
    LLMH_TOOL_CHOICE_NONE = 1,     /* no tool call; the tools are still described to the model */
    LLMH_TOOL_CHOICE_REQUIRED = 2, /* at least one tool call */
    LLMH_TOOL_CHOICE_FUNCTION = 3  /* exactly the function named by tool_choice_name */
} llmh_tool_choice;

typedef enum llmh_response_format_type {
    LLMH_RESPONSE_TEXT = 0,        /* free text (the default) */
    LLMH_RESPONSE_JSON_OBJECT = 1, /* any JSON object */
    LLMH_RESPONSE_JSON_SCHEMA = 2  /* JSON matching schema_json */
} llmh_response_format_type;

typedef struct llmh_response_format {
    uint32_t struct_size;
    int32_t type;            /* an llmh_response_format_type */
    const char *name;        /* JSON_SCHEMA: the schema's name ([a-zA-Z0-9_-]{1,64}) */
    const char *schema_json; /* JSON_SCHEMA: the schema as JSON text */
    int32_t strict;          /* JSON_SCHEMA: nonzero = the output must match exactly */
} llmh_response_format;

typedef enum llmh_reasoning {
    LLMH_REASONING_DEFAULT = 0, /* what the model does by default */
    LLMH_REASONING_OFF = 1,     /* no reasoning (Qwen3: enable_thinking=false) */
    LLMH_REASONING_ON = 2       /* reason before answering; reasoning_effort may say how much */
} llmh_reasoning;

/* Sampling parameters. Use the "unset" values to mean "the model's/provider's default". */
typedef struct llmh_params {
    uint32_t struct_size;
    int32_t max_tokens;       /* <= 0: provider default */
    float temperature;        /* < 0: default; 0: greedy */
    float top_p;              /* <= 0 or >= 1: off */
    int32_t top_k;            /* <= 0: off */
    float min_p;              /* <= 0: off */
    float repetition_penalty; /* <= 0 or == 1: off */
    float presence_penalty;   /* 0: off (OpenAI's -2..2) */
    float frequency_penalty;  /* 0: off (OpenAI's -2..2) */
    int32_t has_seed;         /* nonzero: `seed` is set */
    uint64_t seed;
    const char *const *stop;  /* stop strings (not included in the output) */
    size_t n_stop;
    int32_t stream;           /* a hint: the caller wants events as they come */
} llmh_params;

/* The most alternatives a caller may ask for per token (OpenAI's limit). */
#define LLMH_TOP_LOGPROBS_MAX 20

/*
 * One token and its log-probability (natural log, under the model's distribution before
 * sampling transforms such as temperature). `token` is the token's raw bytes, which may be part
 * of a multi-byte UTF-8 character.
 */
typedef struct llmh_token_logprob {
    uint32_t struct_size;
    const char *token;
    size_t token_len;
    float logprob;
} llmh_token_logprob;

/* ------------------------------------------------------------------------------------------ */
/* Output events (plugin -> host, during generate)                                             */
/* ------------------------------------------------------------------------------------------ */

typedef enum llmh_event_type {
    LLMH_EVENT_TEXT = 1,            /* text:        a piece of the answer */
    LLMH_EVENT_REASONING = 2,       /* text:        a piece of the reasoning ("thinking") */
    LLMH_EVENT_TOOL_CALL_START = 3, /* tool_index, tool_call_id, tool_name: a call begins */
    LLMH_EVENT_TOOL_CALL_ARGS = 4,  /* tool_index, text: a piece of that call's JSON arguments */
    LLMH_EVENT_LOGPROB = 5          /* logprob, top, n_top: one generated token (see below) */
} llmh_event_type;

/*
 * One output event. Filled by the plugin (which sets struct_size); valid only during the call.
 * Text pieces are UTF-8 and never end inside a multi-byte character.
 * Order: reasoning, text and tool calls come as the model produces them. A tool call is one
 * TOOL_CALL_START followed by zero or more TOOL_CALL_ARGS with the same tool_index (0, 1, ...
 * in order); the concatenated ARGS are the arguments' JSON text. A LOGPROB event (only when the
 * request asks for logprobs) comes BEFORE the TEXT event carrying (the first part of) its
 * token's text; tokens that end the generation (end-of-sequence, a stop string) are not reported.
 * A host ignores event types it does not know, so a plugin may send newer ones; a plugin must
 * not rely on a host reading them.
 */
typedef struct llmh_event {
    uint32_t struct_size;
    int32_t type;          /* an llmh_event_type */
    const char *text;      /* TEXT, REASONING, TOOL_CALL_ARGS: the piece (not NUL-terminated) */
    size_t text_len;
    uint32_t n_tokens;     /* tokens generated so far (0 when unknown) */
    uint32_t tool_index;   /* TOOL_CALL_START, TOOL_CALL_ARGS: which call of this answer */
    const char *tool_call_id; /* TOOL_CALL_START: NUL-terminated id ("call_0") */
    const char *tool_name;    /* TOOL_CALL_START: NUL-terminated function name */
    const llmh_token_logprob *logprob; /* LOGPROB: the chosen token */
    const llmh_token_logprob *top;     /* LOGPROB: the top_logprobs most likely, likeliest first */
    size_t n_top;
} llmh_event;

/* Called for each event, in order, from the thread that called generate. Nonzero cancels: the
 * plugin stops and generate returns LLMH_ERR_CANCELLED. */
typedef int (*llmh_event_fn)(void *user, const llmh_event *event);

/* Polled by the plugin between steps where no event flows (connect, prefill). Nonzero cancels. */
typedef int (*llmh_cancel_fn)(void *user);

/*
 * An extension in a request's `next` chain (Vulkan's pNext): a struct that begins with this
 * header. Types below 0x10000 are reserved for llmhost; others are free for a host and a plugin
 * that agree on them. A reader skips a type it does not know.
 */
typedef struct llmh_chain {
    uint32_t struct_size;
    uint32_t type;
    const struct llmh_chain *next;
} llmh_chain;

typedef struct llmh_request {
    uint32_t struct_size;
    const char *model;                     /* NULL: the provider's configured model */
    const llmh_message *const *messages;   /* chat; or NULL and use prompt */
    size_t n_messages;
    const char *prompt;                    /* raw completion prompt when messages == NULL */
    const llmh_params *params;             /* never NULL when the host calls */
    llmh_event_fn on_event;                /* may be NULL */
    llmh_cancel_fn should_cancel;          /* may be NULL */
    void *user;                            /* passed to every callback */

    /* The fields below are set only for a plugin that advertises the matching capability; the
     * host refuses (LLMH_ERR_UNSUPPORTED, naming the plugin and the field) a request that needs
     * one the plugin lacks, so a plugin never silently ignores them. */
    int32_t logprobs;                      /* LLMH_CAP_LOGPROBS: nonzero = LOGPROB events */
    int32_t top_logprobs;                  /* 0..LLMH_TOP_LOGPROBS_MAX alternatives per token */
    const llmh_tool *const *tools;         /* LLMH_CAP_TOOLS */
    size_t n_tools;
    int32_t tool_choice;                   /* an llmh_tool_choice */
    const char *tool_choice_name;          /* LLMH_TOOL_CHOICE_FUNCTION: the function */
    int32_t parallel_tool_calls;           /* < 0: default (allowed); 0: at most one; > 0: allowed */
    const llmh_response_format *response_format; /* LLMH_CAP_STRUCTURED_OUTPUT; NULL: text */
    int32_t reasoning;                     /* LLMH_CAP_REASONING: an llmh_reasoning */
    const char *reasoning_effort;          /* "low", "medium", "high" or NULL; implies ON */
    const llmh_chain *next;                /* extensions; NULL when none */

    /* ABI 2.1. LLMH_CAP_GRAMMAR: the output is constrained to a grammar. At most one of the two
     * is set, and neither with a JSON response_format or a forced tool call (the host refuses
     * such a request). Read them only when struct_size covers them (LLMH_HAS_FIELD): a 2.0
     * caller's struct ends at `next`. */
    const char *grammar;                   /* a llama.cpp GBNF grammar, root rule "root"; NULL: none */
    const char *regex;                     /* the whole output must match it; NULL: none */
} llmh_request;

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum llmh_finish_reason {
    LLMH_FINISH_NONE = 0,
    LLMH_FINISH_STOP = 1,      /* end-of-sequence token or a stop string */
    LLMH_FINISH_LENGTH = 2,    /* max_tokens or context reached */
    LLMH_FINISH_CANCELLED = 3,
    LLMH_FINISH_ERROR = 4,
    LLMH_FINISH_TOOL_CALLS = 5 /* the answer ends with tool calls for the caller to run */
} llmh_finish_reason;

/* Filled by the plugin; struct_size is set by the caller (host). */
typedef struct llmh_result {
    uint32_t struct_size;
    int32_t finish_reason; /* an llmh_finish_reason */
    uint32_t prompt_tokens;
    uint32_t completion_tokens; /* all generated tokens, reasoning included (OpenAI's rule) */
    uint32_t reasoning_tokens;  /* of completion_tokens, those spent reasoning */
    uint32_t cached_tokens;     /* of prompt_tokens, those served from a prefix cache */
    double time_to_first_token_ms;
    double total_ms;
} llmh_result;

/* Called once per model by list_models; strings are valid only during the call. */
typedef void (*llmh_model_fn)(void *user, const char *model_id, const char *description);

/* ------------------------------------------------------------------------------------------ */
/* Provider metrics (ABI 2.2)                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef enum llmh_metric_kind {
    LLMH_METRIC_GAUGE = 0,  /* a value that goes up and down (slots in use, bytes held) */
    LLMH_METRIC_COUNTER = 1 /* a total that only grows while the provider lives */
} llmh_metric_kind;

/*
 * One sample. The host shows it on /metrics as llmhost_provider_<name>{provider="...",
 * <label_key>="<label_value>"} <value>, with the provider's name added by the host. name:
 * [a-z_][a-z0-9_]*, at most 64 bytes, counters ending in _total; anything else is dropped by
 * the host with a warning. help: one line. label_key/label_value: one optional label (NULL: none),
 * e.g. "model". Strings are valid only during the call.
 */
typedef struct llmh_metric {
    uint32_t struct_size;
    const char *name;
    const char *help;
    int32_t kind; /* an llmh_metric_kind */
    const char *label_key;
    const char *label_value;
    double value;
} llmh_metric;

typedef void (*llmh_metric_fn)(void *user, const llmh_metric *metric);

/* ------------------------------------------------------------------------------------------ */
/* The plugin descriptor (plugin -> host)                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct llmh_provider llmh_provider; /* opaque: a provider instance */

#define LLMH_CAP_CHAT (1u << 0)
#define LLMH_CAP_COMPLETION (1u << 1)
#define LLMH_CAP_STREAMING (1u << 2)
#define LLMH_CAP_EMBEDDINGS (1u << 3) /* reserved */
#define LLMH_CAP_LIST_MODELS (1u << 4)
#define LLMH_CAP_LOGPROBS (1u << 5)          /* honours logprobs/top_logprobs */
#define LLMH_CAP_STRUCTURED_OUTPUT (1u << 6) /* honours response_format (json_object/json_schema) */
#define LLMH_CAP_TOOLS (1u << 7)             /* tools, tool_choice, tool calls and tool messages */
#define LLMH_CAP_REASONING (1u << 8)         /* honours reasoning / reasoning_effort */
#define LLMH_CAP_GRAMMAR (1u << 9)           /* honours grammar and regex (ABI 2.1) */

#define LLMH_PROVIDER_THREAD_SAFE (1u << 0) /* generate may run concurrently on one instance */

typedef struct llmh_plugin {
    uint32_t struct_size;
    uint32_t abi_major;      /* LLMH_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;      /* LLMH_ABI_MINOR the plugin was built with */
    const char *name;        /* short id used in configs: "huggingface", "openai", "echo" */
    const char *version;     /* plugin version, free-form ("1.2.0") */
    const char *description; /* one line */
    uint32_t capabilities;   /* LLMH_CAP_* */

    /*
     * Create an instance from its JSON config (the "config" object of this provider, ${VAR}s
     * already expanded; never contains secrets: ask get_secret). `host` stays valid until
     * destroy. On success stores the instance in *out and returns LLMH_OK.
     */
    llmh_status (*create)(const char *config_json, const llmh_host_services *host,
                          llmh_provider **out, llmh_error *err);

    /* Destroy an instance. Called once, after every generate on it has returned. */
    void (*destroy)(llmh_provider *provider);

    /* LLMH_PROVIDER_* flags of this instance. */
    uint32_t (*flags)(llmh_provider *provider);

    /*
     * Run one request to completion, streaming output events through request->on_event. Blocks.
     * `result` (caller-allocated, struct_size set) is filled on success and, as far as known,
     * on failure.
     */
    llmh_status (*generate)(llmh_provider *provider, const llmh_request *request,
                            llmh_result *result, llmh_error *err);

    /* List the models this instance can serve. May be NULL when LLMH_CAP_LIST_MODELS is unset. */
    llmh_status (*list_models)(llmh_provider *provider, llmh_model_fn fn, void *user,
                               llmh_error *err);

    /*
     * The plugin's manifest, a static JSON text valid until unload (docs/plugin-abi.md,
     * "Manifest"): the environment variables it reads and what each maps to, its secrets (which
     * one is expected, with a hint), its config keys and types, the host flags it accepts, and
     * whether its provider comes up from the environment alone. Data, not code: the host reads
     * it without creating an instance. NULL means no manifest: no environment bridge for the plugin.
     */
    const char *manifest_json;

    /*
     * ABI 2.2, may be NULL: report the instance's metrics, one emit() call per sample, now (the
     * host calls it on a scrape of /metrics, from any thread, concurrently with generate: it must
     * be cheap and must not block on a running request).
     */
    llmh_status (*metrics)(llmh_provider *provider, llmh_metric_fn emit, void *user,
                           llmh_error *err);
} llmh_plugin;

/*
 * The one exported symbol. The host passes its ABI version and library-wide services (valid
 * until unload). The plugin returns its descriptor, a static object valid until unload, or
 * an error (e.g. LLMH_ERR_ABI_MISMATCH when it cannot serve this host's major).
 */
typedef llmh_status (*llmh_plugin_entry_fn)(uint32_t host_abi_major, uint32_t host_abi_minor,
                                            const llmh_host_services *host,
                                            const llmh_plugin **out, llmh_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Small helpers (static inline, so the header stays dependency-free)                          */
/* ------------------------------------------------------------------------------------------ */

static inline const char *llmh_status_name(llmh_status s) {
    switch (s) {
    case LLMH_OK: return "ok";
    case LLMH_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case LLMH_ERR_AUTH_REQUIRED: return "auth_required";
    case LLMH_ERR_AUTH_INVALID: return "auth_invalid";
    case LLMH_ERR_GATED: return "gated";
    case LLMH_ERR_NOT_FOUND: return "not_found";
    case LLMH_ERR_RATE_LIMITED: return "rate_limited";
    case LLMH_ERR_NETWORK: return "network";
    case LLMH_ERR_TIMEOUT: return "timeout";
    case LLMH_ERR_UNSUPPORTED: return "unsupported";
    case LLMH_ERR_CANCELLED: return "cancelled";
    case LLMH_ERR_OUT_OF_MEMORY: return "out_of_memory";
    case LLMH_ERR_INTERNAL: return "internal";
    case LLMH_ERR_ABI_MISMATCH: return "abi_mismatch";
    case LLMH_ERR_CONTEXT_OVERFLOW: return "context_overflow";
    }
    return "unknown";
}

static inline const char *llmh_log_level_name(llmh_log_level level) {
    switch (level) {
    case LLMH_LOG_DEBUG: return "debug";
    case LLMH_LOG_INFO: return "info";
    case LLMH_LOG_WARN: return "warning";
    case LLMH_LOG_ERROR: return "error";
    }
    return "log";
}

/* Copy a NUL-terminated string into a fixed buffer, truncating on a UTF-8 boundary. */
static inline void llmh_copy_str(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    if (cap == 0) return;
    if (src != NULL) {
        while (src[n] != '\0' && n + 1 < cap) n++;
        if (src[n] != '\0') /* truncated: do not cut a multi-byte character in half */
            while (n > 0 && (((unsigned char)src[n]) & 0xC0) == 0x80) n--;
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
    dst[n] = '\0';
}

/* Fill an error object (ignores a NULL or too-small err). Returns `code` for tail calls. */
static inline llmh_status llmh_set_error(llmh_error *err, llmh_status code, const char *message,
                                         const char *hint) {
    if (err == NULL || err->struct_size < offsetof(llmh_error, hint) + LLMH_ERROR_HINT_MAX)
        return code;
    err->code = (int32_t)code;
    llmh_copy_str(err->message, sizeof err->message, message);
    llmh_copy_str(err->hint, sizeof err->hint, hint);
    return code;
}

static inline void llmh_error_init(llmh_error *err) {
    size_t i;
    unsigned char *p = (unsigned char *)err;
    for (i = 0; i < sizeof *err; i++) p[i] = 0;
    err->struct_size = (uint32_t)sizeof *err;
}

static inline llmh_params llmh_default_params(void) {
    llmh_params p;
    size_t i;
    unsigned char *b = (unsigned char *)&p;
    for (i = 0; i < sizeof p; i++) b[i] = 0;
    p.struct_size = (uint32_t)sizeof p;
    p.max_tokens = 0;
    p.temperature = -1.0f;
    p.top_p = 0.0f;
    p.top_k = 0;
    p.min_p = 0.0f;
    p.repetition_penalty = 0.0f;
    return p;
}

/* ------------------------------------------------------------------------------------------ */
/* The layout table                                                                            */
/* ------------------------------------------------------------------------------------------ */
/*
 * Every struct's sizeof and every field's offset and size, pinned at compile time on the 64-bit
 * data models: LP64 (Linux, macOS: x86_64, aarch64) and LLP64 (Windows x64). A change that moves a
 * field, or that grows a struct other than by appending, stops every build that includes this
 * header, host and plugins alike, on either platform. Appending fields (a new minor) is the one
 * legitimate change: regenerate the table (docs/plugin-abi.md, "The layout table"); the abi.*
 * ctests compare it with what the compiler lays out, so it cannot drift.
 *
 * 32-bit targets are not supported: nothing is pinned there (pointers and size_t are 4 bytes,
 * so every offset after the first pointer differs), the header still compiles, and no host or
 * plugin of this project is built or tested for them.
 */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define LLMH_ABI_STATIC_ASSERT(cond, what) static_assert(cond, what)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define LLMH_ABI_STATIC_ASSERT(cond, what) _Static_assert(cond, what)
#else /* C99, C++98: an array of negative size stops the compiler; one name per line */
#define LLMH_ABI_CAT2(a, b) a##b
#define LLMH_ABI_CAT(a, b) LLMH_ABI_CAT2(a, b)
#define LLMH_ABI_STATIC_ASSERT(cond, what)                                                         \
    typedef char LLMH_ABI_CAT(llmh_abi_layout_pin_, __LINE__)[(cond) ? 1 : -1]
#endif
#define LLMH_ABI_PIN_SIZE(type, size)                                                              \
    LLMH_ABI_STATIC_ASSERT(sizeof(type) == (size), "llmhost ABI: sizeof(" #type ") moved")
/* One assert per line (the C99 form names its typedef after the line): offset and size at once. */
#define LLMH_ABI_PIN_FIELD(type, field, offset, size)                                              \
    LLMH_ABI_STATIC_ASSERT(offsetof(type, field) == (offset) &&                                    \
                               sizeof(((type *)0)->field) == (size),                               \
                           "llmhost ABI: " #type "." #field " moved or changed size")

/* LLMH_ABI_LAYOUT_UNPINNED: tools/abi_layout.c only, which must compile to say what moved. */
#if !defined(LLMH_ABI_LAYOUT_UNPINNED) && defined(UINTPTR_MAX) &&                                  \
    UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
/* LLMH_ABI_LAYOUT_BEGIN: generated by tools/abi_layout.py update; do not edit by hand. */
/* The same on LP64 and LLP64: every field is a fixed-width type, size_t, a pointer,
 * float or double. */
LLMH_ABI_PIN_SIZE(llmh_error, 2072);
LLMH_ABI_PIN_FIELD(llmh_error, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_error, code, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_error, http_status, 8, 4);
LLMH_ABI_PIN_FIELD(llmh_error, retry_after_s, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_error, message, 24, 1024);
LLMH_ABI_PIN_FIELD(llmh_error, hint, 1048, 1024);
LLMH_ABI_PIN_SIZE(llmh_host_services, 48);
LLMH_ABI_PIN_FIELD(llmh_host_services, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_host_services, ctx, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_host_services, get_secret, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_host_services, get_config, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_host_services, log, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_host_services, progress, 40, 8);
LLMH_ABI_PIN_SIZE(llmh_tool_call, 32);
LLMH_ABI_PIN_FIELD(llmh_tool_call, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_tool_call, id, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_tool_call, name, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_tool_call, arguments, 24, 8);
LLMH_ABI_PIN_SIZE(llmh_message, 64);
LLMH_ABI_PIN_FIELD(llmh_message, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_message, role, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_message, content, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_message, name, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_message, tool_call_id, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_message, tool_calls, 40, 8);
LLMH_ABI_PIN_FIELD(llmh_message, n_tool_calls, 48, 8);
LLMH_ABI_PIN_FIELD(llmh_message, reasoning, 56, 8);
LLMH_ABI_PIN_SIZE(llmh_tool, 48);
LLMH_ABI_PIN_FIELD(llmh_tool, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_tool, type, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_tool, name, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_tool, description, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_tool, parameters_json, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_tool, strict, 40, 4);
LLMH_ABI_PIN_SIZE(llmh_response_format, 32);
LLMH_ABI_PIN_FIELD(llmh_response_format, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_response_format, type, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_response_format, name, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_response_format, schema_json, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_response_format, strict, 24, 4);
LLMH_ABI_PIN_SIZE(llmh_params, 72);
LLMH_ABI_PIN_FIELD(llmh_params, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_params, max_tokens, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_params, temperature, 8, 4);
LLMH_ABI_PIN_FIELD(llmh_params, top_p, 12, 4);
LLMH_ABI_PIN_FIELD(llmh_params, top_k, 16, 4);
LLMH_ABI_PIN_FIELD(llmh_params, min_p, 20, 4);
LLMH_ABI_PIN_FIELD(llmh_params, repetition_penalty, 24, 4);
LLMH_ABI_PIN_FIELD(llmh_params, presence_penalty, 28, 4);
LLMH_ABI_PIN_FIELD(llmh_params, frequency_penalty, 32, 4);
LLMH_ABI_PIN_FIELD(llmh_params, has_seed, 36, 4);
LLMH_ABI_PIN_FIELD(llmh_params, seed, 40, 8);
LLMH_ABI_PIN_FIELD(llmh_params, stop, 48, 8);
LLMH_ABI_PIN_FIELD(llmh_params, n_stop, 56, 8);
LLMH_ABI_PIN_FIELD(llmh_params, stream, 64, 4);
LLMH_ABI_PIN_SIZE(llmh_token_logprob, 32);
LLMH_ABI_PIN_FIELD(llmh_token_logprob, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_token_logprob, token, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_token_logprob, token_len, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_token_logprob, logprob, 24, 4);
LLMH_ABI_PIN_SIZE(llmh_event, 72);
LLMH_ABI_PIN_FIELD(llmh_event, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_event, type, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_event, text, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_event, text_len, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_event, n_tokens, 24, 4);
LLMH_ABI_PIN_FIELD(llmh_event, tool_index, 28, 4);
LLMH_ABI_PIN_FIELD(llmh_event, tool_call_id, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_event, tool_name, 40, 8);
LLMH_ABI_PIN_FIELD(llmh_event, logprob, 48, 8);
LLMH_ABI_PIN_FIELD(llmh_event, top, 56, 8);
LLMH_ABI_PIN_FIELD(llmh_event, n_top, 64, 8);
LLMH_ABI_PIN_SIZE(llmh_chain, 16);
LLMH_ABI_PIN_FIELD(llmh_chain, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_chain, type, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_chain, next, 8, 8);
LLMH_ABI_PIN_SIZE(llmh_request, 168);
LLMH_ABI_PIN_FIELD(llmh_request, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_request, model, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_request, messages, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_request, n_messages, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_request, prompt, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_request, params, 40, 8);
LLMH_ABI_PIN_FIELD(llmh_request, on_event, 48, 8);
LLMH_ABI_PIN_FIELD(llmh_request, should_cancel, 56, 8);
LLMH_ABI_PIN_FIELD(llmh_request, user, 64, 8);
LLMH_ABI_PIN_FIELD(llmh_request, logprobs, 72, 4);
LLMH_ABI_PIN_FIELD(llmh_request, top_logprobs, 76, 4);
LLMH_ABI_PIN_FIELD(llmh_request, tools, 80, 8);
LLMH_ABI_PIN_FIELD(llmh_request, n_tools, 88, 8);
LLMH_ABI_PIN_FIELD(llmh_request, tool_choice, 96, 4);
LLMH_ABI_PIN_FIELD(llmh_request, tool_choice_name, 104, 8);
LLMH_ABI_PIN_FIELD(llmh_request, parallel_tool_calls, 112, 4);
LLMH_ABI_PIN_FIELD(llmh_request, response_format, 120, 8);
LLMH_ABI_PIN_FIELD(llmh_request, reasoning, 128, 4);
LLMH_ABI_PIN_FIELD(llmh_request, reasoning_effort, 136, 8);
LLMH_ABI_PIN_FIELD(llmh_request, next, 144, 8);
LLMH_ABI_PIN_FIELD(llmh_request, grammar, 152, 8);
LLMH_ABI_PIN_FIELD(llmh_request, regex, 160, 8);
LLMH_ABI_PIN_SIZE(llmh_result, 40);
LLMH_ABI_PIN_FIELD(llmh_result, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_result, finish_reason, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_result, prompt_tokens, 8, 4);
LLMH_ABI_PIN_FIELD(llmh_result, completion_tokens, 12, 4);
LLMH_ABI_PIN_FIELD(llmh_result, reasoning_tokens, 16, 4);
LLMH_ABI_PIN_FIELD(llmh_result, cached_tokens, 20, 4);
LLMH_ABI_PIN_FIELD(llmh_result, time_to_first_token_ms, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_result, total_ms, 32, 8);
LLMH_ABI_PIN_SIZE(llmh_metric, 56);
LLMH_ABI_PIN_FIELD(llmh_metric, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_metric, name, 8, 8);
LLMH_ABI_PIN_FIELD(llmh_metric, help, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_metric, kind, 24, 4);
LLMH_ABI_PIN_FIELD(llmh_metric, label_key, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_metric, label_value, 40, 8);
LLMH_ABI_PIN_FIELD(llmh_metric, value, 48, 8);
LLMH_ABI_PIN_SIZE(llmh_plugin, 104);
LLMH_ABI_PIN_FIELD(llmh_plugin, struct_size, 0, 4);
LLMH_ABI_PIN_FIELD(llmh_plugin, abi_major, 4, 4);
LLMH_ABI_PIN_FIELD(llmh_plugin, abi_minor, 8, 4);
LLMH_ABI_PIN_FIELD(llmh_plugin, name, 16, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, version, 24, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, description, 32, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, capabilities, 40, 4);
LLMH_ABI_PIN_FIELD(llmh_plugin, create, 48, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, destroy, 56, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, flags, 64, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, generate, 72, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, list_models, 80, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, manifest_json, 88, 8);
LLMH_ABI_PIN_FIELD(llmh_plugin, metrics, 96, 8);
/* LLMH_ABI_LAYOUT_END */
#endif

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_PLUGIN_H */
