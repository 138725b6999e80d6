/*
 * A plugin compiled against the FROZEN ABI 2.0 header (tests/compat/abi-2.0), never the current
 * one: as long as the host loads it and the test passes, a 2.0 plugin binary keeps working with
 * this host (tools, events, reasoning). Every part of the request is read through
 * LLMH_HAS_FIELD, as the ABI asks of every plugin.
 *
 * Rules (deterministic, for tests/compat/compat_tests.cpp):
 *   - reasoning ON (or an effort): REASONING "v20 considers" then " it" (2 tokens);
 *   - last message role "tool": TEXT "v20 got <content> for <tool_call_id>";
 *   - tools given and tool_choice not none: calls the LAST tool with {"from": "v20"}, id
 *     "v20_call", arguments in two TOOL_CALL_ARGS pieces, finish tool_calls;
 *   - otherwise: TEXT "v20 says <last message content or prompt>".
 */
#include <llmhost/plugin.h>

#include <stdio.h>
#include <string.h>

#if LLMH_ABI_MAJOR != 2 || LLMH_ABI_MINOR != 0
#error "v20_plugin.c must be compiled against tests/compat/abi-2.0/llmhost/plugin.h"
#endif

static int instance;

static llmh_status v_create(const char *config_json, const llmh_host_services *host,
                            llmh_provider **out, llmh_error *err) {
    (void)config_json;
    (void)host;
    (void)err;
    *out = (llmh_provider *)&instance;
    return LLMH_OK;
}
static void v_destroy(llmh_provider *p) { (void)p; }
static uint32_t v_flags(llmh_provider *p) {
    (void)p;
    return LLMH_PROVIDER_THREAD_SAFE;
}

static int send(const llmh_request *r, int32_t type, const char *text, uint32_t n, uint32_t index,
                const char *id, const char *name) {
    llmh_event e;
    memset(&e, 0, sizeof e);
    e.struct_size = (uint32_t)sizeof e;
    e.type = type;
    e.text = text;
    e.text_len = text ? strlen(text) : 0;
    e.n_tokens = n;
    e.tool_index = index;
    e.tool_call_id = id;
    e.tool_name = name;
    return r->on_event ? r->on_event(r->user, &e) : 0;
}

static const llmh_message *last_message(const llmh_request *r) {
    const llmh_message *m;
    if (!LLMH_HAS_FIELD(r, llmh_request, n_messages) || r->messages == NULL || r->n_messages == 0)
        return NULL;
    m = r->messages[r->n_messages - 1];
    return LLMH_HAS_FIELD(m, llmh_message, content) ? m : NULL;
}

static llmh_status v_generate(llmh_provider *p, const llmh_request *r, llmh_result *res,
                              llmh_error *err) {
    char text[512];
    uint32_t n = 0, reasoning_tokens = 0;
    int32_t finish = LLMH_FINISH_STOP;
    const llmh_message *last;
    int reasoning = 0, tools = 0;
    (void)p;
    if (r == NULL || !LLMH_HAS_FIELD(r, llmh_request, user))
        return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "v20: request too small", "");
    if (LLMH_HAS_FIELD(r, llmh_request, reasoning_effort))
        reasoning = r->reasoning == LLMH_REASONING_ON || r->reasoning_effort != NULL;
    if (LLMH_HAS_FIELD(r, llmh_request, tool_choice) && r->tools != NULL && r->n_tools > 0)
        tools = r->tool_choice != LLMH_TOOL_CHOICE_NONE;
    last = last_message(r);

    if (reasoning) {
        if (send(r, LLMH_EVENT_REASONING, "v20 considers", ++n, 0, NULL, NULL) ||
            send(r, LLMH_EVENT_REASONING, " it", ++n, 0, NULL, NULL))
            return llmh_set_error(err, LLMH_ERR_CANCELLED, "cancelled", "");
        reasoning_tokens = n;
    }
    if (last && last->role && strcmp(last->role, "tool") == 0) {
        const char *id = LLMH_HAS_FIELD(last, llmh_message, tool_call_id) && last->tool_call_id
                             ? last->tool_call_id
                             : "?";
        snprintf(text, sizeof text, "v20 got %s for %s", last->content ? last->content : "", id);
        send(r, LLMH_EVENT_TEXT, text, ++n, 0, NULL, NULL);
    } else if (tools) {
        const llmh_tool *t = r->tools[r->n_tools - 1];
        if (t == NULL || !LLMH_HAS_FIELD(t, llmh_tool, name) || t->name == NULL)
            return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, "v20: a tool has no name", "");
        send(r, LLMH_EVENT_TOOL_CALL_START, NULL, n, 0, "v20_call", t->name);
        send(r, LLMH_EVENT_TOOL_CALL_ARGS, "{\"from\":", ++n, 0, NULL, NULL);
        send(r, LLMH_EVENT_TOOL_CALL_ARGS, " \"v20\"}", ++n, 0, NULL, NULL);
        finish = LLMH_FINISH_TOOL_CALLS;
    } else {
        snprintf(text, sizeof text, "v20 says %s",
                 last && last->content ? last->content : (r->prompt ? r->prompt : ""));
        send(r, LLMH_EVENT_TEXT, text, ++n, 0, NULL, NULL);
    }
    if (LLMH_HAS_FIELD(res, llmh_result, finish_reason)) res->finish_reason = finish;
    if (LLMH_HAS_FIELD(res, llmh_result, completion_tokens)) res->completion_tokens = n;
    if (LLMH_HAS_FIELD(res, llmh_result, reasoning_tokens))
        res->reasoning_tokens = reasoning_tokens;
    return LLMH_OK;
}

static const llmh_plugin descriptor = {
    sizeof(llmh_plugin),
    LLMH_ABI_MAJOR,
    LLMH_ABI_MINOR,
    "v20",
    "2.0.0",
    "compiled against the frozen ABI 2.0 header (compat test fixture)",
    LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING | LLMH_CAP_TOOLS | LLMH_CAP_REASONING,
    v_create,
    v_destroy,
    v_flags,
    v_generate,
    NULL,
    NULL};

LLMH_PLUGIN_EXPORT llmh_status llmh_plugin_entry(uint32_t major, uint32_t minor,
                                                 const llmh_host_services *host,
                                                 const llmh_plugin **out, llmh_error *err) {
    (void)minor; /* any 2.x host: fields are only appended */
    (void)host;
    if (major != LLMH_ABI_MAJOR)
        return llmh_set_error(err, LLMH_ERR_ABI_MISMATCH, "v20: built for ABI 2.x", "");
    *out = &descriptor;
    return LLMH_OK;
}
