/*
 * llmhost — the embeddable C API of the host library (libllmhost.so).
 *
 * Any language with a C FFI (ctypes, cgo, Rust, Node-API) can embed llmhost with it:
 *
 *   llmhost_host *h = llmhost_open(NULL);                 // config search + env bridge
 *   if (!h) { fprintf(stderr, "%s\n", llmhost_last_error()); return 1; }
 *   llmhost_generate_params p = llmhost_generate_default_params();
 *   p.prompt = "Hello";
 *   p.params.max_tokens = 64;
 *   llmh_result r;
 *   if (llmhost_generate(h, &p, print_piece, NULL, &r, NULL) != LLMH_OK)
 *       fprintf(stderr, "%s (%s)\n", llmhost_last_error(), llmhost_last_error_hint());
 *   llmhost_close(h);
 *
 * Conventions (llama.h style):
 *   - one prefix, opaque handle, explicit close/free;
 *   - functions that can fail return an int status (LLMH_OK = 0, an llmh_status or LLMHOST_ERR_*)
 *     or NULL; the reason is in llmhost_last_error*(), which are thread-local and describe the
 *     last failed call on this thread (a successful call clears them);
 *   - strings returned as `char *` are malloc'd by the library: free them with llmhost_free();
 *   - every message returned has every known secret redacted;
 *   - every function is thread-safe; one handle may be used from several threads at once.
 */
#ifndef LLMHOST_HOST_H
#define LLMHOST_HOST_H

#include <llmhost/plugin.h>

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(LLMHOST_BUILDING)
#define LLMHOST_API __declspec(dllexport)
#else
#define LLMHOST_API __declspec(dllimport)
#endif
#else
#define LLMHOST_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Host error codes beyond llmh_status (which they never overlap). */
#define LLMHOST_ERR_CONFIG 100      /* configuration file or environment invalid */
#define LLMHOST_ERR_PLUGIN 101      /* a plugin could not be found or loaded */
#define LLMHOST_ERR_NO_PROVIDER 102 /* no such provider configured / no default provider */

typedef struct llmhost_host llmhost_host; /* opaque */

typedef struct llmhost_open_params {
    uint32_t struct_size;
    const char *config_path;         /* NULL: the default search */
    int use_config_file;             /* 0: environment bridge only (llmhost_open_from_env) */
    const char *const *plugin_dirs;  /* searched first; may be NULL */
    size_t n_plugin_dirs;
    int search_default_plugin_dirs;  /* 0: only plugin_dirs and the config's */
    const char *default_provider;    /* override; NULL: none */
    int log_level;                   /* llmh_log_level: minimum level reaching the log callback */
} llmhost_open_params;

LLMHOST_API llmhost_open_params llmhost_open_default_params(void);

/* Open with a config file (NULL = $LLMHOST_CONFIG, ./llmhost.json, $XDG_CONFIG_HOME/llmhost/config.json). */
LLMHOST_API llmhost_host *llmhost_open(const char *config_path);
LLMHOST_API llmhost_host *llmhost_open_ext(const llmhost_open_params *params);
/* The environment bridge only (LLM_PROVIDER, HF_TOKEN, OPENAI_API_KEY, ...): initialize_from_env. */
LLMHOST_API llmhost_host *llmhost_open_from_env(void);
/* Waits for nothing: call it after every llmhost_generate on this handle has returned. */
LLMHOST_API void llmhost_close(llmhost_host *host);

typedef struct llmhost_generate_params {
    uint32_t struct_size;
    const char *provider;          /* NULL: the default provider */
    const char *model;             /* NULL: the provider's model */
    const char *prompt;            /* raw prompt, used when messages == NULL */
    const llmh_message *messages;  /* chat */
    size_t n_messages;
    llmh_params params;            /* llmh_default_params() */
} llmhost_generate_params;

LLMHOST_API llmhost_generate_params llmhost_generate_default_params(void);

/*
 * Run one request, calling on_token(user, piece, len, n_tokens) for each piece (may be NULL;
 * return nonzero to cancel: that is not an error, result->finish_reason is LLMH_FINISH_CANCELLED).
 * result (may be NULL): filled when LLMH_OK is returned; the caller need not set struct_size.
 * text (may be NULL): receives the whole generated text (free with llmhost_free).
 */
LLMHOST_API int llmhost_generate(llmhost_host *host, const llmhost_generate_params *params,
                                 llmh_token_fn on_token, void *user, llmh_result *result,
                                 char **text);

/*
 * Plugin ABI 1.1 request options, in a struct of their own so that llmhost_generate_params (which
 * llmhost_generate_default_params returns by value) keeps its size for programs built against
 * older headers. Zero it and set struct_size = sizeof(llmhost_generate_options).
 */
typedef struct llmhost_generate_options {
    uint32_t struct_size;
    int32_t logprobs;                 /* nonzero: report every generated token to on_logprob */
    int32_t top_logprobs;             /* 0..LLMH_TOP_LOGPROBS_MAX alternatives per token */
    llmh_logprob_fn on_logprob;       /* called with llmhost_generate_ext's `user`; may be NULL */
    const char *response_format_json; /* NULL: free text; else OpenAI's response_format object */
} llmhost_generate_options;

/*
 * llmhost_generate with options (may be NULL: then exactly llmhost_generate). A provider whose
 * plugin lacks the capability (LLMH_CAP_LOGPROBS, LLMH_CAP_RESPONSE_FORMAT) refuses the request
 * with LLMH_ERR_UNSUPPORTED naming the provider and the field; it never ignores it.
 */
LLMHOST_API int llmhost_generate_ext(llmhost_host *host, const llmhost_generate_params *params,
                                     const llmhost_generate_options *options,
                                     llmh_token_fn on_token, void *user, llmh_result *result,
                                     char **text);

/* JSON arrays (free with llmhost_free); NULL on failure. */
LLMHOST_API char *llmhost_providers_json(llmhost_host *host);
LLMHOST_API char *llmhost_plugins_json(llmhost_host *host);
LLMHOST_API char *llmhost_models_json(llmhost_host *host, const char *provider);
/* The resolved configuration, secrets shown as "hf_…(set, from HF_TOKEN)". */
LLMHOST_API char *llmhost_config_json(llmhost_host *host);
/* The default provider's name ("" when none); free with llmhost_free. */
LLMHOST_API char *llmhost_default_provider(llmhost_host *host);

/* Replace or add provider `name` from a JSON entry {"plugin": ..., "config": {...}}. */
LLMHOST_API int llmhost_swap(llmhost_host *host, const char *name, const char *entry_json);
/* Re-read the configuration file and swap every changed provider. */
LLMHOST_API int llmhost_reload(llmhost_host *host);

/* `text` with every known secret redacted (free with llmhost_free). */
LLMHOST_API char *llmhost_redact(llmhost_host *host, const char *text);

/* Receive log lines (redacted). fn NULL restores the default (warnings+ to stderr). */
typedef void (*llmhost_log_fn)(void *user, int level, const char *message);
LLMHOST_API void llmhost_set_log_callback(llmhost_host *host, llmhost_log_fn fn, void *user);

LLMHOST_API void llmhost_free(void *ptr);

/* The last failure on this thread: message, hint, code (0 when the last call succeeded). */
LLMHOST_API const char *llmhost_last_error(void);
LLMHOST_API const char *llmhost_last_error_hint(void);
LLMHOST_API int llmhost_last_error_code(void);

LLMHOST_API const char *llmhost_version(void);
/* "invalid_argument", "config", "plugin", "no_provider", ... */
LLMHOST_API const char *llmhost_status_name(int code);
/* "none", "stop", "length", "cancelled", "error" */
LLMHOST_API const char *llmhost_finish_reason_name(int reason);

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_HOST_H */
