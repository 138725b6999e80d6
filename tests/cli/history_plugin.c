/*
 * A test provider for `llmhost chat`: instead of an answer it describes the conversation it was
 * given, so a test can check that the CLI keeps the history as messages:
 *
 *   n=3 roles=user,assistant,user prev=n=1 last=how are you
 *
 * n      number of messages received
 * roles  their roles, in order
 * prev   the first word of the last assistant message ("-" when none)
 * last   the content of the last message
 */
#include <llmhost/plugin.h>

#include "../fixtures/fixture_events.h"

#include <stdio.h>
#include <string.h>

static llmh_status hist_create(const char *config_json, const llmh_host_services *host,
                               llmh_provider **out, llmh_error *err) {
    static int instance;
    (void)config_json;
    (void)host;
    (void)err;
    *out = (llmh_provider *)&instance;
    return LLMH_OK;
}

static void hist_destroy(llmh_provider *p) { (void)p; }
static uint32_t hist_flags(llmh_provider *p) {
    (void)p;
    return LLMH_PROVIDER_THREAD_SAFE;
}

static llmh_status hist_generate(llmh_provider *p, const llmh_request *req, llmh_result *res,
                                 llmh_error *err) {
    char out[8192];
    char prev[64] = "-";
    size_t i, len = 0;
    const llmh_message *last;
    (void)p;
    if (req->messages == NULL)
        return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "history: expected chat messages",
                              "use llmhost chat");
    for (i = 0; i < req->n_messages; i++) {
        const llmh_message *m = req->messages[i];
        if (m == NULL || m->role == NULL)
            return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "history: a message is NULL", "");
        if (strcmp(m->role, "assistant") == 0) {
            const char *c = m->content ? m->content : "";
            size_t n = strcspn(c, " \n");
            if (n >= sizeof prev) n = sizeof prev - 1;
            memcpy(prev, c, n);
            prev[n] = '\0';
        }
    }
    last = req->n_messages ? req->messages[req->n_messages - 1] : NULL;
    len += (size_t)snprintf(out + len, sizeof out - len, "n=%u roles=", (unsigned)req->n_messages);
    for (i = 0; i < req->n_messages && len < sizeof out; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                                req->messages[i]->role);
    if (len < sizeof out)
        snprintf(out + len, sizeof out - len, " prev=%s last=%s\n", prev,
                 last && last->content ? last->content : "");
    fx_text(req, out, 1);
    if (res) {
        res->finish_reason = LLMH_FINISH_STOP;
        res->prompt_tokens = (uint32_t)req->n_messages;
        res->completion_tokens = 1;
    }
    return LLMH_OK;
}

static const llmh_plugin descriptor = {
    sizeof(llmh_plugin),
    LLMH_ABI_MAJOR,
    LLMH_ABI_MINOR,
    "history",
    "1.0.0",
    "Describes the conversation it receives (llmhost chat tests)",
    LLMH_CAP_CHAT | LLMH_CAP_STREAMING,
    hist_create,
    hist_destroy,
    hist_flags,
    hist_generate,
    NULL};

LLMH_PLUGIN_EXPORT llmh_status llmh_plugin_entry(uint32_t major, uint32_t minor,
                                                 const llmh_host_services *host,
                                                 const llmh_plugin **out, llmh_error *err) {
    (void)minor;
    (void)host;
    if (major != LLMH_ABI_MAJOR)
        return llmh_set_error(err, LLMH_ERR_ABI_MISMATCH, "history: ABI major mismatch", "");
    *out = &descriptor;
    return LLMH_OK;
}
