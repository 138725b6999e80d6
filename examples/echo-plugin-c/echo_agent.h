/*
 * echo's reading of an ABI 2 request and its agent rules (see the header comment of echo.c):
 * every part read through LLMH_HAS_FIELD, pointer validation, the tool-result sentences and the
 * tool calls found in the user's text. Plain C99, plugin.h only.
 */
#ifndef LLMHOST_ECHO_AGENT_H
#define LLMHOST_ECHO_AGENT_H

#include <llmhost/plugin.h>

#define ECHO_ARGS_MAX (64 * 1024) /* longer "arguments" after a tool name become "{}" */

/* A growable string; on allocation failure `failed` is set and appends do nothing. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
    int failed;
} strbuf;

typedef struct echo_call {
    const char *name;
    const char *args; /* points into the user message, or "{}" */
    size_t args_len;
} echo_call;

#define REQ_FIELD(req, field, dflt)                                                                \
    (LLMH_HAS_FIELD(req, llmh_request, field) ? (req)->field : (dflt))

void sb_append(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_json_escape(strbuf *b, const char *s); /* appends s as the inside of a JSON string */

int is_space(char c);
const llmh_message *msg_at(const llmh_request *req, size_t i);
const char *msg_role(const llmh_message *m);    /* "" when absent */
const char *msg_content(const llmh_message *m); /* "" when absent */
size_t req_n_tools(const llmh_request *req);
uint32_t count_words(const char *t);

/* Checks every pointer of the request; fills err naming the index of the first bad one. */
llmh_status validate_request(const llmh_request *req, llmh_error *err);
/* The last user message (else the last message), or the raw prompt. */
const char *input_text(const llmh_request *req);
/* Rule 1: the sentences answering the trailing tool messages. */
void tool_result_text(const llmh_request *req, strbuf *out);
/* Rule 2: the calls named in the user's text, in order of first appearance (at most cap); only:
 * NULL or the one function tool_choice names. */
size_t find_tool_calls(const llmh_request *req, const char *only, echo_call *calls, size_t cap);

#endif
