/*
 * llmhost — the embeddable C API of the host library (libllmhost.so).
 *
 * Any language with a C FFI (ctypes, cgo, Rust, Node-API) can embed llmhost with it:
 *
 *   llmhost_host *h = llmhost_open(NULL);                 // config search + env bridge
 *   if (!h) { fprintf(stderr, "%s\n", llmhost_last_error()); return 1; }
 *   llmh_request req; llmh_params params;
 *   llmhost_request_init(&req, &params);
 *   req.prompt = "Hello";
 *   params.max_tokens = 64;
 *   req.on_event = print_event;                          // TEXT events carry the answer
 *   llmh_result r;
 *   if (llmhost_generate(h, NULL, &req, &r, NULL) != LLMH_OK)
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

/*
 * Run one request. The request is the plugin ABI's own llmh_request (plugin.h): the struct a
 * provider receives, with the same pointer-reached parts (params, messages, tools,
 * response_format) and the same output events, so an embedder and a plugin speak one language.
 * Build it with llmhost_request_init; set struct_size on every part you fill.
 *
 * provider: NULL or "" for the default provider.
 * request->on_event(request->user, event) receives every event (TEXT, REASONING,
 *   TOOL_CALL_START, TOOL_CALL_ARGS, LOGPROB when request->logprobs); return nonzero to cancel:
 *   that is not an error, result->finish_reason is LLMH_FINISH_CANCELLED.
 * result (may be NULL): filled when LLMH_OK is returned; the caller need not set struct_size.
 * text (may be NULL): receives the whole answer text (free with llmhost_free).
 * A field the provider's plugin cannot honour (tools, response_format, reasoning, logprobs) is
 * refused with LLMH_ERR_UNSUPPORTED naming the provider and the field; never ignored.
 */
LLMHOST_API int llmhost_generate(llmhost_host *host, const char *provider,
                                 const llmh_request *request, llmh_result *result, char **text);

/*
 * The same, and the assistant message as JSON in *message_json (may be NULL; free with
 * llmhost_free): {"role":"assistant","content":...,"reasoning_content":...,"tool_calls":[{"id",
 * "type":"function","function":{"name","arguments"}}]} as OpenAI's chat completion writes it,
 * ready to append to the conversation.
 */
LLMHOST_API int llmhost_generate_message(llmhost_host *host, const char *provider,
                                         const llmh_request *request, llmh_result *result,
                                         char **message_json);

/* Zero a request, set its struct_size, and point params at `params` filled with
 * llmh_default_params() (stream on). */
static inline void llmhost_request_init(llmh_request *request, llmh_params *params) {
    size_t i;
    unsigned char *b = (unsigned char *)request;
    for (i = 0; i < sizeof *request; i++) b[i] = 0;
    request->struct_size = (uint32_t)sizeof *request;
    request->parallel_tool_calls = -1;
    *params = llmh_default_params();
    params->stream = 1;
    request->params = params;
}

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
/* Which provider served this thread's last successful llmhost_generate* : "provider", or for a
 * route its target "provider" / "provider/model" (llmh_result is the plugin ABI's struct, so
 * this is an accessor rather than a field). "" after a failed call. Valid until the next
 * llmhost_generate* on this thread. */
LLMHOST_API const char *llmhost_last_served_by(void);

LLMHOST_API const char *llmhost_version(void);
/* "invalid_argument", "config", "plugin", "no_provider", ... */
LLMHOST_API const char *llmhost_status_name(int code);
/* "none", "stop", "length", "cancelled", "error" */
LLMHOST_API const char *llmhost_finish_reason_name(int reason);

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_HOST_H */
