/* echo's request reading and agent rules (echo_agent.h). */
#include "echo_agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

void sb_append(strbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *d = (char *)realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}
void sb_puts(strbuf *b, const char *s) { sb_append(b, s, strlen(s)); }

/* Appends s as the inside of a JSON string. */
void sb_json_escape(strbuf *b, const char *s) {
    char u[8];
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            u[0] = '\\', u[1] = (char)c;
            sb_append(b, u, 2);
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c < 0x20) {
            snprintf(u, sizeof u, "\\u%04x", c);
            sb_puts(b, u);
        } else {
            sb_append(b, s, 1);
        }
    }
}

/* ---- reading the request (every part through LLMH_HAS_FIELD) ------------------------------ */

const llmh_message *msg_at(const llmh_request *req, size_t i) { return req->messages[i]; }
const char *msg_role(const llmh_message *m) {
    return LLMH_HAS_FIELD(m, llmh_message, role) && m->role ? m->role : "";
}
const char *msg_content(const llmh_message *m) {
    return LLMH_HAS_FIELD(m, llmh_message, content) && m->content ? m->content : "";
}
static const char *msg_tool_call_id(const llmh_message *m) {
    return LLMH_HAS_FIELD(m, llmh_message, tool_call_id) && m->tool_call_id ? m->tool_call_id : "";
}
static size_t msg_n_tool_calls(const llmh_message *m) {
    return LLMH_HAS_FIELD(m, llmh_message, n_tool_calls) && m->tool_calls ? m->n_tool_calls : 0;
}
size_t req_n_tools(const llmh_request *req) {
    return LLMH_HAS_FIELD(req, llmh_request, n_tools) && req->tools ? req->n_tools : 0;
}
/* Checks every pointer of the request; fills err naming the index of the first bad one. */
llmh_status validate_request(const llmh_request *req, llmh_error *err) {
    char msg[160];
    size_t i, j;
    if (req->messages != NULL)
        for (i = 0; i < req->n_messages; i++) {
            const llmh_message *m = msg_at(req, i);
            if (m == NULL) {
                snprintf(msg, sizeof msg, "echo: messages[%zu] is NULL", i);
                return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, msg, "");
            }
            for (j = 0; j < msg_n_tool_calls(m); j++) {
                const llmh_tool_call *c = m->tool_calls[j];
                if (c == NULL || !LLMH_HAS_FIELD(c, llmh_tool_call, name) || c->name == NULL) {
                    snprintf(msg, sizeof msg,
                             "echo: messages[%zu].tool_calls[%zu] is NULL or has no name", i, j);
                    return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, msg, "");
                }
            }
        }
    for (i = 0; i < req_n_tools(req); i++) {
        const llmh_tool *t = req->tools[i];
        if (t == NULL || !LLMH_HAS_FIELD(t, llmh_tool, name) || t->name == NULL ||
            t->name[0] == '\0') {
            snprintf(msg, sizeof msg, "echo: tools[%zu] is NULL or has no name", i);
            return llmh_set_error(err, LLMH_ERR_INVALID_ARGUMENT, msg, "");
        }
    }
    if (LLMH_HAS_FIELD(req, llmh_request, response_format) && req->response_format != NULL &&
        LLMH_HAS_FIELD(req->response_format, llmh_response_format, type) &&
        req->response_format->type == LLMH_RESPONSE_JSON_SCHEMA)
        return llmh_set_error(err, LLMH_ERR_UNSUPPORTED,
                              "echo: response_format json_schema is not supported (json_object is)",
                              "ask for {\"type\": \"json_object\"} instead");
    return LLMH_OK;
}

/* The last user message (else the last message), or the raw prompt. */
const char *input_text(const llmh_request *req) {
    size_t i;
    if (req->messages == NULL || req->n_messages == 0) return req->prompt ? req->prompt : "";
    for (i = req->n_messages; i > 0; i--)
        if (strcmp(msg_role(msg_at(req, i - 1)), "user") == 0)
            return msg_content(msg_at(req, i - 1));
    return msg_content(msg_at(req, req->n_messages - 1));
}

uint32_t count_words(const char *t) {
    uint32_t n = 0;
    while (*t) {
        while (*t && is_space(*t)) t++;
        if (*t) n++;
        while (*t && !is_space(*t)) t++;
    }
    return n;
}

/* Rule 1: the sentences answering the trailing tool messages ("" when the last is no tool). */
void tool_result_text(const llmh_request *req, strbuf *out) {
    size_t first = req->n_messages, i, k, j;
    if (req->messages == NULL) return;
    while (first > 0 && strcmp(msg_role(msg_at(req, first - 1)), "tool") == 0) first--;
    for (i = first; i < req->n_messages; i++) {
        const char *id = msg_tool_call_id(msg_at(req, i)), *fn = NULL;
        for (k = first; k > 0 && fn == NULL && id[0] != '\0'; k--) {
            const llmh_message *m = msg_at(req, k - 1);
            for (j = 0; j < msg_n_tool_calls(m) && fn == NULL; j++)
                if (LLMH_HAS_FIELD(m->tool_calls[j], llmh_tool_call, id) && m->tool_calls[j]->id &&
                    strcmp(m->tool_calls[j]->id, id) == 0)
                    fn = m->tool_calls[j]->name;
        }
        if (i > first) sb_puts(out, " ");
        sb_puts(out, "The tool ");
        if (fn != NULL) sb_puts(out, fn), sb_puts(out, " ");
        sb_puts(out, "returned: ");
        sb_puts(out, msg_content(msg_at(req, i)));
    }
}

/* The end (exclusive) of the balanced JSON object starting at p ('{'), or NULL. */
static const char *json_object_end(const char *p) {
    int depth = 0, in_str = 0;
    const char *start = p;
    for (; *p && p - start < ECHO_ARGS_MAX; p++) {
        if (in_str) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

/* Rule 2: finds the calls in the user's text. Returns how many (at most cap). */
size_t find_tool_calls(const llmh_request *req, const char *only, echo_call *calls, size_t cap) {
    const char *text = input_text(req), *p = text;
    size_t n = 0, i, k, n_tools = req_n_tools(req);
    while (*p && n < cap) {
        const char *hit = NULL;
        if (p > text && is_name_char(p[-1])) {
            p++;
            continue;
        }
        for (i = 0; i < n_tools && hit == NULL; i++) {
            const char *name = req->tools[i]->name;
            size_t len = strlen(name);
            int seen = 0;
            if (only != NULL && strcmp(only, name) != 0) continue;
            if (strncmp(p, name, len) != 0 || is_name_char(p[len])) continue;
            for (k = 0; k < n; k++) seen |= strcmp(calls[k].name, name) == 0;
            if (seen) continue;
            hit = p + len;
            calls[n].name = name;
            calls[n].args = "{}";
            calls[n].args_len = 2;
        }
        if (hit == NULL) {
            p++;
            continue;
        }
        p = hit;
        while (is_space(*p)) p++;
        if (*p == '{') {
            const char *end = json_object_end(p);
            if (end != NULL) {
                calls[n].args = p;
                calls[n].args_len = (size_t)(end - p);
                p = end; /* a name inside the arguments is no call */
            }
        }
        n++;
    }
    return n;
}
