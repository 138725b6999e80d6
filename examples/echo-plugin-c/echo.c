/*
 * echo — a complete llmhost provider plugin in plain C99, written against plugin.h only (ABI 2).
 * It is also the deterministic provider every tool-calling test drives, so its rules are exact.
 *
 * Plain echo: it streams the prompt (or the last user message) back, one TEXT event per
 * whitespace-separated word (the word plus the whitespace that follows it). Its config is read
 * through the host's get_config service, so the plugin needs no JSON parser:
 *
 *   "prefix":        string emitted first, as one token (text answers only)
 *   "loop":          true: cycle through the words until max_tokens (256 when unset)
 *   "delay_ms":      sleep between tokens (swap-under-load tests)
 *   "fail_create":   true: create fails with invalid_argument (failed-swap tests)
 *   "report_secret": "<name>": first emits "secret <name>: present fnv1a64=<16 hex>\n" or
 *                    "secret <name>: absent\n", so tests see the secret arrived without printing it
 *   "instance_id":   shown in list_models ("echo:<id>") and in the create/destroy debug logs
 *
 * Every emitted piece counts as one completion token; max_tokens bounds them (finish "length").
 * Stop strings end the text (finish "stop") and are never emitted: text that could be the start
 * of a stop string is held back until it is known not to be.
 *
 * Agent rules (capabilities TOOLS, REASONING, STRUCTURED_OUTPUT):
 *  1. Tool result turn: when the LAST message has role "tool", the answer is
 *     "The tool <fn> returned: <content>", fn being the name of the earlier assistant tool call
 *     whose id equals the message's tool_call_id ("The tool returned: <content>" when none
 *     matches); several trailing tool messages give one sentence each, in order, joined by a
 *     space. Streamed word by word, finish "stop".
 *  2. Tool call turn: otherwise, when the request has tools and tool_choice is not "none", the
 *     last user message is scanned for the tools' names (whole words, in order of first
 *     appearance; a tool_choice naming a function: only that one). A name's arguments are the
 *     balanced JSON object "{...}" right after it (whitespace allowed; braces inside strings do
 *     not count; unbalanced or over 64 KiB: "{}"), else "{}". parallel_tool_calls == 0: only the
 *     first call. No name found: tool_choice "required" calls the first tool with "{}", a named
 *     tool_choice calls that one with "{}", "auto" falls through to plain echo. Each call is
 *     TOOL_CALL_START (index i, id "call_<n_messages>_<i>", name), then its arguments in TWO
 *     TOOL_CALL_ARGS fragments split at the middle (never inside a UTF-8 character; one
 *     fragment when shorter than 2 bytes), one completion token per fragment. No text at all
 *     (neither the words before the first name, nor the prefix); finish "tool_calls".
 *  3. Reasoning: reasoning ON or a reasoning_effort set: before anything else, REASONING events
 *     "Thinking about: <last user message>" word by word, one token each, counted in both
 *     reasoning_tokens and completion_tokens. OFF or DEFAULT: none.
 *  4. response_format json_object: the answer text is {"echo": "<the text it would have
 *     echoed, JSON-escaped>"} (prefix and secret report included), streamed in pieces; "loop"
 *     does not apply (a JSON document must end). json_schema: LLMH_ERR_UNSUPPORTED.
 *  5. Hostile input: a NULL message, tool call or tool pointer, or a tool without a name, is
 *     LLMH_ERR_INVALID_ARGUMENT naming its index. Every struct is read through LLMH_HAS_FIELD,
 *     so a request, message or tool of an older, smaller struct_size works.
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/plugin.h>

#include "echo_agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ECHO_PLUGIN_NAME /* the test suite builds copies under other names */
#define ECHO_PLUGIN_NAME "echo"
#endif

/* The manifest (docs/plugin-abi.md "Manifest"): the host checks the types of these config keys.
 * echo reads no environment variable and has no secret; a plugin that does declares them here
 * ("env", "secrets") and gets the host's environment bridge. Test stand-ins built from this file
 * carry another plugin's manifest instead. */
#ifndef ECHO_PLUGIN_MANIFEST
#define ECHO_PLUGIN_MANIFEST                                                                       \
    "{\"config\": {\"prefix\": {\"type\": \"string\"}, \"loop\": {\"type\": \"bool\"},"            \
    " \"delay_ms\": {\"type\": \"number\"}, \"fail_create\": {\"type\": \"bool\"},"                \
    " \"report_secret\": {\"type\": \"string\"}, \"instance_id\": {}}}"
#endif

/* The tests build a copy without the agent capabilities, to see the host refuse those fields. */
#ifndef ECHO_PLUGIN_CAPS
#define ECHO_PLUGIN_CAPS                                                                           \
    (LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING | LLMH_CAP_LIST_MODELS |             \
     LLMH_CAP_TOOLS | LLMH_CAP_REASONING | LLMH_CAP_STRUCTURED_OUTPUT)
#endif

#define ECHO_LOOP_DEFAULT_MAX 256

typedef struct echo_instance {
    const llmh_host_services *host;
    char *prefix;
    char *report_secret;
    char instance_id[64];
    int loop;
    long delay_ms;
    long requests;  /* answered so far (metrics), updated atomically */
    long in_flight; /* running now (metrics) */
} echo_instance;

/* ---- small helpers ------------------------------------------------------------------------ */

static char *config_string(const llmh_host_services *host, const char *pointer) {
    char small[256];
    int64_t n;
    char *buf;
    if (host == NULL || !LLMH_HAS_FIELD(host, llmh_host_services, get_config) || !host->get_config)
        return NULL;
    n = host->get_config(host->ctx, pointer, small, sizeof small);
    if (n < 0) return NULL;
    buf = (char *)malloc((size_t)n + 1);
    if (buf == NULL) return NULL;
    if ((size_t)n < sizeof small) {
        memcpy(buf, small, (size_t)n + 1);
    } else if (host->get_config(host->ctx, pointer, buf, (size_t)n + 1) != n) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int config_bool(const llmh_host_services *host, const char *pointer) {
    char *v = config_string(host, pointer);
    int on = v != NULL && strcmp(v, "true") == 0;
    free(v);
    return on;
}

static void host_log(const llmh_host_services *host, llmh_log_level level, const char *msg) {
    if (host != NULL && LLMH_HAS_FIELD(host, llmh_host_services, log) && host->log)
        host->log(host->ctx, level, msg);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static uint64_t fnv1a64(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- the output stream: events, stop strings, cancellation -------------------------------- */

typedef struct echo_stream {
    const llmh_request *req;
    const char *const *stop;
    size_t n_stop;
    char *pending; /* text held back because it may start a stop string */
    size_t pending_len;
    uint32_t n_tokens, reasoning_tokens;
    int stopped; /* a stop string was met */
    int cancelled;
    double t0, t_first;
} echo_stream;

static int send_event(echo_stream *s, llmh_event_type type, const char *text, size_t len,
                      uint32_t index, const char *id, const char *name) {
    llmh_event ev;
    if (s->t_first == 0) s->t_first = now_ms();
    if (s->req->on_event == NULL) return 0;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = (uint32_t)sizeof ev;
    ev.type = type;
    ev.text = text;
    ev.text_len = len;
    ev.n_tokens = s->n_tokens;
    ev.tool_index = index;
    ev.tool_call_id = id;
    ev.tool_name = name;
    if (s->req->on_event(s->req->user, &ev) != 0) {
        s->cancelled = 1;
        return -1;
    }
    return 0;
}

static int stream_deliver(echo_stream *s, const char *text, size_t len) {
    return len == 0 ? 0 : send_event(s, LLMH_EVENT_TEXT, text, len, 0, NULL, NULL);
}

/* Length of the longest suffix of buf that is a proper prefix of some stop string. */
static size_t stop_prefix_suffix(const echo_stream *s, const char *buf, size_t len) {
    size_t best = 0, i, k;
    for (i = 0; i < s->n_stop; i++) {
        size_t sl = s->stop[i] ? strlen(s->stop[i]) : 0;
        for (k = (sl - 1 < len ? sl - 1 : len); k > best && sl > 0; k--)
            if (memcmp(buf + len - k, s->stop[i], k) == 0) {
                best = k;
                break;
            }
    }
    return best;
}

/* Emits one token's text. Returns 0 to go on, -1 when the generation ends (stop or cancel). */
static int stream_emit(echo_stream *s, const char *piece, size_t len) {
    size_t i, total, keep, cut = (size_t)-1;
    char *buf;
    s->n_tokens++;
    if (s->n_stop == 0) return stream_deliver(s, piece, len);
    total = s->pending_len + len;
    buf = (char *)realloc(s->pending, total + 1);
    if (buf == NULL) return -1;
    memcpy(buf + s->pending_len, piece, len);
    buf[total] = '\0';
    s->pending = buf;
    s->pending_len = total;
    for (i = 0; i < s->n_stop; i++) { /* the earliest complete stop string wins */
        const char *hit;
        if (s->stop[i] == NULL || s->stop[i][0] == '\0') continue;
        hit = strstr(buf, s->stop[i]);
        if (hit != NULL && (size_t)(hit - buf) < cut) cut = (size_t)(hit - buf);
    }
    if (cut != (size_t)-1) {
        s->stopped = 1;
        s->pending_len = 0;
        stream_deliver(s, buf, cut);
        return -1;
    }
    keep = stop_prefix_suffix(s, buf, total);
    if (stream_deliver(s, buf, total - keep) != 0) return -1;
    memmove(buf, buf + total - keep, keep);
    s->pending_len = keep;
    return 0;
}

static int stream_flush(echo_stream *s) {
    int rc = s->stopped ? 0 : stream_deliver(s, s->pending, s->pending_len);
    s->pending_len = 0;
    return rc;
}

static int should_cancel(const llmh_request *req) {
    return req->should_cancel != NULL && req->should_cancel(req->user) != 0;
}

/* ---- the provider --------------------------------------------------------------------------- */

static llmh_status echo_create(const char *config_json, const llmh_host_services *host,
                               llmh_provider **out, llmh_error *err) {
    echo_instance *e;
    char *s;
    char msg[160];
    (void)config_json; /* read key by key through get_config instead */
    if (out == NULL) return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "echo: out is NULL", "");
    if (config_bool(host, "/fail_create"))
        return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT,
                              "echo: refusing to create an instance (\"fail_create\": true)",
                              "remove \"fail_create\" from the echo provider's config");
    e = (echo_instance *)calloc(1, sizeof *e);
    if (e == NULL) return llmh_set_error(err, LLMH_ERR_OUT_OF_MEMORY, "echo: out of memory", "");
    e->host = host;
    e->prefix = config_string(host, "/prefix");
    e->report_secret = config_string(host, "/report_secret");
    e->loop = config_bool(host, "/loop");
    s = config_string(host, "/delay_ms");
    e->delay_ms = s ? strtol(s, NULL, 10) : 0;
    free(s);
    s = config_string(host, "/instance_id");
    llmh_copy_str(e->instance_id, sizeof e->instance_id, s ? s : "");
    free(s);
    snprintf(msg, sizeof msg, "echo: created instance '%s'", e->instance_id);
    host_log(host, LLMH_LOG_DEBUG, msg);
    *out = (llmh_provider *)e;
    return LLMH_OK;
}

static void echo_destroy(llmh_provider *p) {
    echo_instance *e = (echo_instance *)p;
    char msg[160];
    if (e == NULL) return;
    snprintf(msg, sizeof msg, "echo: destroying instance '%s'", e->instance_id);
    host_log(e->host, LLMH_LOG_DEBUG, msg);
    free(e->prefix);
    free(e->report_secret);
    free(e);
}

static uint32_t echo_flags(llmh_provider *p) {
    (void)p;
    return LLMH_PROVIDER_THREAD_SAFE;
}

static void secret_report(echo_instance *e, char *out, size_t cap) {
    const llmh_host_services *h = e->host;
    char buf[4096];
    int64_t n = -1;
    if (h && LLMH_HAS_FIELD(h, llmh_host_services, get_secret) && h->get_secret)
        n = h->get_secret(h->ctx, e->report_secret, buf, sizeof buf);
    if (n < 0 || (size_t)n >= sizeof buf)
        snprintf(out, cap, "secret %s: absent\n", e->report_secret);
    else
        snprintf(out, cap, "secret %s: present fnv1a64=%016llx\n", e->report_secret,
                 (unsigned long long)fnv1a64(buf, (size_t)n));
    memset(buf, 0, sizeof buf);
}

/* Emits the calls; returns -1 when cancelled. */
static int emit_tool_calls(echo_stream *s, const echo_call *calls, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        char id[48];
        size_t half = calls[i].args_len / 2;
        while (half > 0 && (((unsigned char)calls[i].args[half]) & 0xC0) == 0x80) half--;
        snprintf(id, sizeof id, "call_%zu_%zu", s->req->messages ? s->req->n_messages : (size_t)0,
                 i);
        if (send_event(s, LLMH_EVENT_TOOL_CALL_START, NULL, 0, (uint32_t)i, id, calls[i].name) != 0)
            return -1;
        if (half > 0) {
            s->n_tokens++;
            if (send_event(s, LLMH_EVENT_TOOL_CALL_ARGS, calls[i].args, half, (uint32_t)i, NULL,
                           NULL))
                return -1;
        }
        s->n_tokens++;
        if (send_event(s, LLMH_EVENT_TOOL_CALL_ARGS, calls[i].args + half, calls[i].args_len - half,
                       (uint32_t)i, NULL, NULL))
            return -1;
    }
    return 0;
}

/* Rule 3. Returns -1 when the generation ends (cancel or max_tokens: *finish is set). */
static int emit_reasoning(echo_stream *s, const char *about, int32_t max_tokens,
                          llmh_finish_reason *finish) {
    strbuf b = {0};
    const char *w;
    int rc = 0;
    sb_puts(&b, "Thinking about: ");
    sb_puts(&b, about);
    if (b.failed) return -1;
    for (w = b.data; *w && rc == 0;) {
        const char *next = w;
        while (*next && !is_space(*next)) next++;
        while (*next && is_space(*next)) next++;
        if ((int32_t)s->n_tokens >= max_tokens) {
            *finish = LLMH_FINISH_LENGTH;
            rc = -1;
            break;
        }
        s->n_tokens++;
        s->reasoning_tokens++;
        rc = send_event(s, LLMH_EVENT_REASONING, w, (size_t)(next - w), 0, NULL, NULL);
        w = next;
    }
    free(b.data);
    return rc;
}

/* Streams text word by word (the word plus its trailing whitespace per token). Returns -1 when
 * the generation ended early (stop string, cancel, max_tokens: *finish set). */
static int emit_words(echo_stream *s, echo_instance *e, const char *text, int loop,
                      int32_t max_tokens, llmh_finish_reason *finish) {
    const char *w = text;
    char piece_buf[256];
    for (;;) {
        const char *end, *next;
        char *piece;
        size_t len;
        int rc;
        while (*w && is_space(*w)) w++;
        if (*w == '\0') {
            if (!loop || count_words(text) == 0) return 0;
            w = text; /* loop: start over */
            continue;
        }
        if ((int32_t)s->n_tokens >= max_tokens) {
            *finish = LLMH_FINISH_LENGTH;
            return -1;
        }
        if (s->n_tokens > 0 && e->delay_ms > 0) sleep_ms(e->delay_ms);
        if (should_cancel(s->req)) {
            s->cancelled = 1;
            return -1;
        }
        end = w;
        while (*end && !is_space(*end)) end++;
        next = end;
        while (*next && is_space(*next)) next++;
        len = (size_t)(next - w);
        piece = len + 2 <= sizeof piece_buf ? piece_buf : (char *)malloc(len + 2);
        if (piece == NULL) return -1;
        memcpy(piece, w, len);
        /* when looping, the last word gets a space so it does not glue onto the first */
        if (loop && *next == '\0' && next == end) piece[len++] = ' ';
        rc = stream_emit(s, piece, len);
        if (piece != piece_buf) free(piece);
        if (rc != 0) return -1;
        w = next;
    }
}

static llmh_status echo_run(llmh_provider *p, const llmh_request *req, llmh_result *res,
                            llmh_error *err) {
    echo_instance *e = (echo_instance *)p;
    const llmh_params *params;
    echo_stream s;
    strbuf answer = {0}, doc = {0};
    echo_call *calls = NULL;
    size_t n_calls = 0, n_tools;
    const char *text, *effort = NULL, *only = NULL;
    int32_t max_tokens = 0, choice;
    int ended = 0, json_mode = 0;
    llmh_finish_reason finish = LLMH_FINISH_STOP;
    llmh_status st;
    if (req == NULL || !LLMH_HAS_FIELD(req, llmh_request, user))
        return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "echo: request is NULL or too old",
                              "");
    if ((st = validate_request(req, err)) != LLMH_OK) return st;
    memset(&s, 0, sizeof s);
    s.req = req;
    s.t0 = now_ms();
    params = req->params;
    if (LLMH_HAS_FIELD(params, llmh_params, n_stop) && params->stop) {
        s.stop = params->stop;
        s.n_stop = params->n_stop;
    }
    if (LLMH_HAS_FIELD(params, llmh_params, max_tokens)) max_tokens = params->max_tokens;
    if (LLMH_HAS_FIELD(req, llmh_request, reasoning_effort)) effort = req->reasoning_effort;
    if (LLMH_HAS_FIELD(req, llmh_request, response_format) && req->response_format != NULL &&
        LLMH_HAS_FIELD(req->response_format, llmh_response_format, type))
        json_mode = req->response_format->type == LLMH_RESPONSE_JSON_OBJECT;
    choice = REQ_FIELD(req, tool_choice, LLMH_TOOL_CHOICE_AUTO);
    if (choice == LLMH_TOOL_CHOICE_FUNCTION) {
        only = LLMH_HAS_FIELD(req, llmh_request, tool_choice_name) ? req->tool_choice_name : NULL;
        if (only == NULL)
            return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT,
                                  "echo: tool_choice names a function but tool_choice_name is NULL",
                                  "");
    }
    text = input_text(req);
    n_tools = req_n_tools(req);

    /* Decide what the answer is before anything streams: text (rule 1 or plain) or calls. */
    if (req->messages != NULL && req->n_messages > 0 &&
        strcmp(msg_role(msg_at(req, req->n_messages - 1)), "tool") == 0) {
        tool_result_text(req, &answer);
    } else if (n_tools > 0 && choice != LLMH_TOOL_CHOICE_NONE) {
        size_t i;
        calls = (echo_call *)calloc(n_tools, sizeof *calls);
        if (calls == NULL)
            return llmh_set_error(err, LLMH_ERR_OUT_OF_MEMORY, "echo: out of memory", "");
        n_calls = find_tool_calls(req, only, calls, n_tools);
        if (n_calls == 0 && choice != LLMH_TOOL_CHOICE_AUTO) {
            calls[0].name = only != NULL ? only : req->tools[0]->name;
            for (i = 0; only != NULL && i < n_tools && strcmp(req->tools[i]->name, only) != 0;
                 i++) {}
            if (i == n_tools) {
                free(calls);
                return llmh_set_error(
                    err, LLMH_ERR_INVALID_ARGUMENT,
                    "echo: tool_choice names a function that is not among the tools", "");
            }
            calls[0].args = "{}";
            calls[0].args_len = 2;
            n_calls = 1;
        }
        if (n_calls > 1 && REQ_FIELD(req, parallel_tool_calls, -1) == 0) n_calls = 1;
    }
    if (n_calls == 0 && answer.len == 0) sb_puts(&answer, text);
    if (max_tokens <= 0)
        max_tokens = e->loop && !json_mode && n_calls == 0 ? ECHO_LOOP_DEFAULT_MAX : INT32_MAX;

    if (should_cancel(req)) s.cancelled = 1, ended = 1;
    if (!ended &&
        (REQ_FIELD(req, reasoning, LLMH_REASONING_DEFAULT) == LLMH_REASONING_ON || effort != NULL))
        ended = emit_reasoning(&s, text, max_tokens, &finish) != 0;
    if (!ended && n_calls > 0) {
        ended = emit_tool_calls(&s, calls, n_calls) != 0;
        finish = LLMH_FINISH_TOOL_CALLS;
    } else if (!ended) {
        char line[256] = "";
        if (e->report_secret != NULL) secret_report(e, line, sizeof line);
        if (json_mode) { /* one document: everything that would have been echoed, escaped */
            sb_puts(&doc, "{\"echo\": \"");
            sb_json_escape(&doc, line);
            if (e->prefix != NULL) sb_json_escape(&doc, e->prefix);
            sb_json_escape(&doc, answer.data ? answer.data : "");
            sb_puts(&doc, "\"}");
            if (!doc.failed) ended = emit_words(&s, e, doc.data, 0, max_tokens, &finish) != 0;
        } else {
            if (line[0] != '\0') ended = stream_emit(&s, line, strlen(line)) != 0;
            if (!ended && e->prefix != NULL && e->prefix[0] != '\0' &&
                (int32_t)s.n_tokens < max_tokens)
                ended = stream_emit(&s, e->prefix, strlen(e->prefix)) != 0;
            if (!ended)
                ended = emit_words(&s, e, answer.data ? answer.data : "", e->loop, max_tokens,
                                   &finish) != 0;
        }
    }
    if (!ended && !s.cancelled) stream_flush(&s);
    free(s.pending);
    free(calls);
    free(doc.data);
    st = answer.failed || doc.failed ? LLMH_ERR_OUT_OF_MEMORY : LLMH_OK;
    free(answer.data);

    if (s.cancelled) finish = LLMH_FINISH_CANCELLED;
    if (res != NULL && LLMH_HAS_FIELD(res, llmh_result, total_ms)) {
        res->finish_reason = finish;
        res->prompt_tokens = count_words(text);
        res->completion_tokens = s.n_tokens;
        res->time_to_first_token_ms = s.t_first > 0 ? s.t_first - s.t0 : 0;
        res->total_ms = now_ms() - s.t0;
        if (LLMH_HAS_FIELD(res, llmh_result, reasoning_tokens))
            res->reasoning_tokens = s.reasoning_tokens;
    }
    if (st != LLMH_OK) return llmh_set_error(err, st, "echo: out of memory", "");
    if (s.cancelled)
        return llmh_set_error(err, LLMH_ERR_CANCELLED, "echo: generation cancelled by the caller",
                              "");
    return LLMH_OK;
}

static void echo_list_one(llmh_model_fn fn, void *user, const echo_instance *e) {
    char id[96];
    if (e->instance_id[0] != '\0')
        snprintf(id, sizeof id, "echo:%s", e->instance_id);
    else
        snprintf(id, sizeof id, "echo");
    fn(user, id, "echoes the prompt back, word by word");
}

/* Counts around echo_run for metrics. GCC/Clang builtins: requests may run concurrently
 * (LLMH_PROVIDER_THREAD_SAFE) and C99 has no atomics. */
static llmh_status echo_generate(llmh_provider *p, const llmh_request *req, llmh_result *res,
                                 llmh_error *err) {
    echo_instance *e = (echo_instance *)p;
    llmh_status st;
    __atomic_add_fetch(&e->in_flight, 1, __ATOMIC_RELAXED);
    st = echo_run(p, req, res, err);
    __atomic_sub_fetch(&e->in_flight, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&e->requests, 1, __ATOMIC_RELAXED);
    return st;
}

/* ABI 2.2: what the host shows on /metrics as llmhost_provider_<name>{provider="..."}. */
static void echo_metric(llmh_metric_fn emit, void *user, const char *name, const char *help,
                        llmh_metric_kind kind, double value) {
    llmh_metric m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.name = name;
    m.help = help;
    m.kind = kind;
    m.value = value;
    emit(user, &m);
}

static llmh_status echo_metrics(llmh_provider *p, llmh_metric_fn emit, void *user,
                                llmh_error *err) {
    echo_instance *e = (echo_instance *)p;
    (void)err;
    if (emit == NULL) return LLMH_OK;
    echo_metric(emit, user, "echo_requests_total", "Requests the echo provider answered.",
                LLMH_METRIC_COUNTER, (double)__atomic_load_n(&e->requests, __ATOMIC_RELAXED));
    echo_metric(emit, user, "echo_requests_running", "Requests the echo provider runs now.",
                LLMH_METRIC_GAUGE, (double)__atomic_load_n(&e->in_flight, __ATOMIC_RELAXED));
    return LLMH_OK;
}

static llmh_status echo_list_models(llmh_provider *p, llmh_model_fn fn, void *user,
                                    llmh_error *err) {
    (void)err;
    if (fn != NULL) echo_list_one(fn, user, (const echo_instance *)p);
    return LLMH_OK;
}

static const llmh_plugin echo_descriptor = {
    sizeof(llmh_plugin),
    LLMH_ABI_MAJOR,
    LLMH_ABI_MINOR,
    ECHO_PLUGIN_NAME,
    "2.0.0",
    "Echoes the prompt back word by word; calls the tools the prompt names (example plugin in C)",
    ECHO_PLUGIN_CAPS,
    echo_create,
    echo_destroy,
    echo_flags,
    echo_generate,
    echo_list_models,
    ECHO_PLUGIN_MANIFEST,
    echo_metrics};

LLMH_PLUGIN_EXPORT llmh_status llmh_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor,
                                                 const llmh_host_services *host,
                                                 const llmh_plugin **out, llmh_error *err) {
    char msg[160];
    (void)host_abi_minor; /* any minor of our major works: fields are only appended */
    (void)host;
    if (host_abi_major != LLMH_ABI_MAJOR) {
        snprintf(msg, sizeof msg, "plugin '%s' was built for llmhost ABI %d.x, host speaks %u.x",
                 ECHO_PLUGIN_NAME, LLMH_ABI_MAJOR, (unsigned)host_abi_major);
        return llmh_set_error(err, LLMH_ERR_ABI_MISMATCH, msg,
                              "rebuild the plugin against this host's plugin.h");
    }
    if (out == NULL) return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "out is NULL", "");
    *out = &echo_descriptor;
    return LLMH_OK;
}
