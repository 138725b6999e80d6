/*
 * echo — a complete llmhost provider plugin in plain C99, written against plugin.h only.
 *
 * It streams the prompt (or the last user message) back, one token per whitespace-separated
 * word (the word plus the whitespace that follows it). Its config is read through the host's
 * get_config service, so the plugin needs no JSON parser:
 *
 *   "prefix":        string emitted first, as one token
 *   "loop":          true: cycle through the words until max_tokens (256 when unset)
 *   "delay_ms":      sleep between tokens (swap-under-load tests)
 *   "fail_create":   true: create fails with invalid_argument (failed-swap tests)
 *   "report_secret": "<name>": first emits "secret <name>: present fnv1a64=<16 hex>\n" or
 *                    "secret <name>: absent\n", so tests see the secret arrived without printing it
 *   "instance_id":   shown in list_models ("echo:<id>") and in the create/destroy debug logs
 *
 * Every emitted piece counts as one completion token; max_tokens bounds them (finish "length").
 * Stop strings end the generation (finish "stop") and are never emitted: text that could be the
 * start of a stop string is held back until it is known not to be.
 */
#define _POSIX_C_SOURCE 200809L
#include <llmhost/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ECHO_PLUGIN_NAME /* the test suite builds copies under other names */
#define ECHO_PLUGIN_NAME "echo"
#endif

/* The manifest (ABI 1.2, docs/plugin-abi.md "Manifest"): the host checks the types of these config
 * keys. echo reads no environment variable and has no secret; a plugin that does declares them
 * here ("env", "secrets") and gets the host's environment bridge. Test stand-ins built from this
 * file carry another plugin's manifest instead. */
#ifndef ECHO_PLUGIN_MANIFEST
#define ECHO_PLUGIN_MANIFEST                                                                       \
    "{\"config\": {\"prefix\": {\"type\": \"string\"}, \"loop\": {\"type\": \"bool\"},"             \
    " \"delay_ms\": {\"type\": \"number\"}, \"fail_create\": {\"type\": \"bool\"},"                \
    " \"report_secret\": {\"type\": \"string\"}, \"instance_id\": {}}}"
#endif

#define ECHO_LOOP_DEFAULT_MAX 256

typedef struct echo_instance {
    const llmh_host_services *host;
    char *prefix;
    char *report_secret;
    char instance_id[64];
    int loop;
    long delay_ms;
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
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
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

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* ---- the output stream: stop strings, token callback, cancellation ------------------------- */

typedef struct echo_stream {
    const llmh_request *req;
    const char *const *stop;
    size_t n_stop;
    char *pending; /* text held back because it may start a stop string */
    size_t pending_len;
    uint32_t n_tokens;
    int stopped;   /* a stop string was met */
    int cancelled;
    double t0, t_first;
} echo_stream;

static int stream_deliver(echo_stream *s, const char *text, size_t len) {
    if (len == 0) return 0;
    if (s->t_first == 0) s->t_first = now_ms();
    if (s->req->on_token && s->req->on_token(s->req->user, text, len, s->n_tokens) != 0) {
        s->cancelled = 1;
        return -1;
    }
    return 0;
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

/* The text to echo: the raw prompt, or the last user message (else the last message). */
static const char *input_text(const llmh_request *req) {
    size_t i;
    if (req->messages == NULL || req->n_messages == 0) return req->prompt ? req->prompt : "";
    for (i = req->n_messages; i > 0; i--) {
        const llmh_message *m = &req->messages[i - 1];
        if (m->role != NULL && strcmp(m->role, "user") == 0) return m->content ? m->content : "";
    }
    return req->messages[req->n_messages - 1].content ? req->messages[req->n_messages - 1].content : "";
}

static uint32_t count_words(const char *t) {
    uint32_t n = 0;
    while (*t) {
        while (*t && is_space(*t)) t++;
        if (*t) n++;
        while (*t && !is_space(*t)) t++;
    }
    return n;
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

static llmh_status echo_generate(llmh_provider *p, const llmh_request *req, llmh_result *res,
                                 llmh_error *err) {
    echo_instance *e = (echo_instance *)p;
    echo_stream s;
    const char *text, *w;
    int32_t max_tokens;
    int ended = 0;
    llmh_finish_reason finish = LLMH_FINISH_STOP;
    if (req == NULL || !LLMH_HAS_FIELD(req, llmh_request, user))
        return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "echo: request is NULL or too old", "");
    memset(&s, 0, sizeof s);
    s.req = req;
    s.t0 = now_ms();
    if (LLMH_HAS_FIELD(&req->params, llmh_params, n_stop) && req->params.stop) {
        s.stop = req->params.stop;
        s.n_stop = req->params.n_stop;
    }
    max_tokens = req->params.max_tokens;
    if (max_tokens <= 0) max_tokens = e->loop ? ECHO_LOOP_DEFAULT_MAX : INT32_MAX;
    text = input_text(req);

    if (should_cancel(req)) s.cancelled = 1, ended = 1;
    if (!ended && e->report_secret != NULL) {
        char line[256];
        secret_report(e, line, sizeof line);
        ended = stream_emit(&s, line, strlen(line)) != 0;
    }
    if (!ended && e->prefix != NULL && e->prefix[0] != '\0' && (int32_t)s.n_tokens < max_tokens)
        ended = stream_emit(&s, e->prefix, strlen(e->prefix)) != 0;

    w = text;
    while (!ended) {
        const char *end, *next;
        char *piece;
        size_t len;
        int join_space;
        while (*w && is_space(*w)) w++;
        if (*w == '\0') {
            if (!e->loop || count_words(text) == 0) break;
            w = text; /* loop: start over */
            continue;
        }
        if ((int32_t)s.n_tokens >= max_tokens) {
            finish = LLMH_FINISH_LENGTH;
            break;
        }
        if (s.n_tokens > 0 && e->delay_ms > 0) sleep_ms(e->delay_ms);
        if (should_cancel(req)) {
            s.cancelled = 1;
            break;
        }
        end = w;
        while (*end && !is_space(*end)) end++;
        next = end;
        while (*next && is_space(*next)) next++;
        /* when looping, the last word gets a space so it does not glue onto the first */
        join_space = e->loop && *next == '\0' && next == end;
        len = (size_t)(next - w);
        piece = (char *)malloc(len + 2);
        if (piece == NULL) {
            free(s.pending);
            return llmh_set_error(err, LLMH_ERR_OUT_OF_MEMORY, "echo: out of memory", "");
        }
        memcpy(piece, w, len);
        if (join_space) piece[len++] = ' ';
        piece[len] = '\0';
        ended = stream_emit(&s, piece, len) != 0;
        free(piece);
        w = next;
    }
    if (!ended && !s.cancelled) stream_flush(&s);
    free(s.pending);

    if (s.cancelled) finish = LLMH_FINISH_CANCELLED;
    if (res != NULL && LLMH_HAS_FIELD(res, llmh_result, total_ms)) {
        res->finish_reason = finish;
        res->prompt_tokens = count_words(text);
        res->completion_tokens = s.n_tokens;
        res->time_to_first_token_ms = s.t_first > 0 ? s.t_first - s.t0 : 0;
        res->total_ms = now_ms() - s.t0;
    }
    if (s.cancelled)
        return llmh_set_error(err, LLMH_ERR_CANCELLED, "echo: generation cancelled by the caller", "");
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

static llmh_status echo_list_models(llmh_provider *p, llmh_model_fn fn, void *user,
                                    llmh_error *err) {
    (void)err;
    if (fn != NULL) echo_list_one(fn, user, (const echo_instance *)p);
    return LLMH_OK;
}

static const llmh_plugin echo_descriptor = {
    sizeof(llmh_plugin), LLMH_ABI_MAJOR, LLMH_ABI_MINOR, ECHO_PLUGIN_NAME, "1.0.0",
    "Echoes the prompt back word by word (example plugin in C)",
    LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING | LLMH_CAP_LIST_MODELS,
    echo_create, echo_destroy, echo_flags, echo_generate, echo_list_models,
    ECHO_PLUGIN_MANIFEST};

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
