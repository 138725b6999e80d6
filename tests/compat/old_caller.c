/*
 * A minimal host program compiled against the FROZEN ABI 2.0 header (tests/compat/abi-2.0): it
 * dlopens the CURRENT echo plugin and drives it directly, as any third-party host written for
 * 2.0 would. It checks that echo honours struct_size on every part:
 *   - full 2.0 structs: a tool call comes back as events (start, two argument pieces);
 *   - LARGER structs (a newer caller: trailing bytes echo does not know, filled with garbage):
 *     the same answer;
 *   - SMALLER structs (an older caller: struct_size cut before fields, which hold garbage that
 *     must never be read): a request cut before its tool fields is a plain echo, a message cut
 *     before tool_call_id still answers, a tool cut after its name still gets called, a result
 *     cut before reasoning_tokens is not written past its end, params cut before the penalties
 *     keep max_tokens.
 * Usage: old_caller <path of libllmhost_echo.so (llmhost_echo.dll on Windows)>. Exit 0 when
 * every check passes.
 */
#include <llmhost/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one platform difference here: how a shared library is opened and searched. */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
typedef HMODULE library;
static library lib_open(const char *path) { return LoadLibraryA(path); }
static void *lib_symbol(library lib, const char *name) { return (void *)GetProcAddress(lib, name); }
static const char *lib_error(void) {
    static char buf[64];
    snprintf(buf, sizeof buf, "LoadLibrary error %lu", (unsigned long)GetLastError());
    return buf;
}
#else
#include <dlfcn.h>
typedef void *library;
static library lib_open(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void *lib_symbol(library lib, const char *name) { return dlsym(lib, name); }
static const char *lib_error(void) { return dlerror(); }
#endif

#if LLMH_ABI_MAJOR != 2 || LLMH_ABI_MINOR != 0
#error "old_caller.c must be compiled against tests/compat/abi-2.0/llmhost/plugin.h"
#endif

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Garbage that a reader past struct_size would trip on (an unmapped address, a huge count). */
#define JUNK_PTR ((const void *)(uintptr_t)0x10)
#define JUNK 0xA5

/* ---- the host services: nothing configured, nothing secret ---------------------------------- */

static int64_t svc_absent(void *ctx, const char *name, char *buf, size_t cap) {
    (void)ctx;
    (void)name;
    (void)buf;
    (void)cap;
    return -1;
}
static void svc_log(void *ctx, llmh_log_level level, const char *message) {
    (void)ctx;
    if (level >= LLMH_LOG_WARN) fprintf(stderr, "echo: %s\n", message);
}
static int svc_progress(void *ctx, const char *task, uint64_t done, uint64_t total) {
    (void)ctx;
    (void)task;
    (void)done;
    (void)total;
    return 0;
}

/* ---- what the plugin sent ------------------------------------------------------------------- */

typedef struct seen {
    char text[1024];
    char reasoning[1024];
    char args[1024];
    char id[64];
    char name[64];
    int starts, arg_pieces, bad_events;
} seen;

static void append(char *dst, size_t cap, const char *s, size_t n) {
    size_t len = strlen(dst);
    if (len + n >= cap) n = cap - len - 1;
    memcpy(dst + len, s, n);
    dst[len + n] = '\0';
}

static int on_event(void *user, const llmh_event *e) {
    seen *s = (seen *)user;
    if (e == NULL || e->struct_size < sizeof(llmh_event)) { /* echo speaks 2.0 at least */
        s->bad_events++;
        return 0;
    }
    switch (e->type) {
    case LLMH_EVENT_TEXT: append(s->text, sizeof s->text, e->text, e->text_len); break;
    case LLMH_EVENT_REASONING:
        append(s->reasoning, sizeof s->reasoning, e->text, e->text_len);
        break;
    case LLMH_EVENT_TOOL_CALL_START:
        s->starts++;
        if (e->tool_index != 0 || !e->tool_call_id || !e->tool_name) s->bad_events++;
        snprintf(s->id, sizeof s->id, "%s", e->tool_call_id ? e->tool_call_id : "");
        snprintf(s->name, sizeof s->name, "%s", e->tool_name ? e->tool_name : "");
        break;
    case LLMH_EVENT_TOOL_CALL_ARGS:
        s->arg_pieces++;
        if (s->starts == 0 || e->tool_index != 0) s->bad_events++;
        append(s->args, sizeof s->args, e->text, e->text_len);
        break;
    default: break; /* a newer event type: ignored, as plugin.h asks */
    }
    return 0;
}

/* ---- driving echo --------------------------------------------------------------------------- */

static const llmh_plugin *plugin;
static llmh_provider *provider;

static llmh_status run(llmh_request *req, llmh_result *res, seen *s, llmh_error *err) {
    memset(s, 0, sizeof *s);
    req->on_event = on_event;
    req->user = s;
    llmh_error_init(err);
    return plugin->generate(provider, req, res, err);
}

static const char *kUser = "Please lookup {\"q\": \"x\"} today";

static void expect_tool_call(const char *what, llmh_status st, const seen *s,
                             const llmh_result *res, const llmh_error *err) {
    if (st != LLMH_OK) fprintf(stderr, "%s: %s\n", what, err->message);
    CHECK(st == LLMH_OK);
    CHECK(s->starts == 1);
    CHECK(s->arg_pieces == 2);
    CHECK(s->bad_events == 0);
    CHECK(strcmp(s->name, "lookup") == 0);
    CHECK(strcmp(s->id, "call_1_0") == 0);
    CHECK(strcmp(s->args, "{\"q\": \"x\"}") == 0);
    CHECK(s->text[0] == '\0');
    CHECK(res->finish_reason == LLMH_FINISH_TOOL_CALLS);
    if (failures) fprintf(stderr, "  (in: %s)\n", what);
}

int main(int argc, char **argv) {
    library lib;
    llmh_plugin_entry_fn entry;
    llmh_host_services services;
    llmh_error err;
    llmh_status st;
    seen s;
    llmh_result res;

    if (argc != 2) {
        fprintf(stderr, "usage: old_caller <libllmhost_echo.so or llmhost_echo.dll>\n");
        return 2;
    }
    lib = lib_open(argv[1]);
    if (lib == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], lib_error());
        return 1;
    }
    *(void **)&entry = lib_symbol(lib, LLMH_PLUGIN_ENTRY_NAME);
    if (entry == NULL) {
        fprintf(stderr, "%s has no %s\n", argv[1], LLMH_PLUGIN_ENTRY_NAME);
        return 1;
    }
    memset(&services, 0, sizeof services);
    services.struct_size = sizeof services;
    services.get_secret = svc_absent;
    services.get_config = svc_absent;
    services.log = svc_log;
    services.progress = svc_progress;
    llmh_error_init(&err);
    st = entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, &services, &plugin, &err);
    if (st != LLMH_OK || plugin == NULL) {
        fprintf(stderr, "entry failed: %s\n", err.message);
        return 1;
    }
    CHECK(plugin->abi_major == 2);
    CHECK((plugin->capabilities & LLMH_CAP_TOOLS) != 0);
    st = plugin->create("{}", &services, &provider, &err);
    if (st != LLMH_OK) {
        fprintf(stderr, "create failed: %s\n", err.message);
        return 1;
    }

    { /* 1. Full 2.0 structs. */
        llmh_params params = llmh_default_params();
        llmh_message user;
        llmh_tool tool;
        const llmh_message *msgs[1];
        const llmh_tool *tools[1];
        llmh_request req;
        memset(&user, 0, sizeof user);
        user.struct_size = sizeof user;
        user.role = "user";
        user.content = kUser;
        memset(&tool, 0, sizeof tool);
        tool.struct_size = sizeof tool;
        tool.type = "function";
        tool.name = "lookup";
        tool.parameters_json = "{\"type\":\"object\"}";
        msgs[0] = &user;
        tools[0] = &tool;
        memset(&req, 0, sizeof req);
        req.struct_size = sizeof req;
        req.messages = msgs;
        req.n_messages = 1;
        req.params = &params;
        req.tools = tools;
        req.n_tools = 1;
        req.parallel_tool_calls = -1;
        memset(&res, 0, sizeof res);
        res.struct_size = sizeof res;
        st = run(&req, &res, &s, &err);
        expect_tool_call("2.0 structs", st, &s, &res, &err);
    }

    { /* 2. A newer caller: every part larger than 2.0's, the tail filled with garbage. */
        struct {
            llmh_params p;
            unsigned char tail[64];
        } params;
        struct {
            llmh_message m;
            unsigned char tail[64];
        } user;
        struct {
            llmh_tool t;
            unsigned char tail[64];
        } tool;
        struct {
            llmh_request r;
            unsigned char tail[128];
        } req;
        struct {
            llmh_result r;
            unsigned char tail[64];
        } big_res;
        const llmh_message *msgs[1];
        const llmh_tool *tools[1];
        memset(&params, JUNK, sizeof params);
        params.p = llmh_default_params();
        params.p.struct_size = sizeof params;
        memset(&user, JUNK, sizeof user);
        memset(&user.m, 0, sizeof user.m);
        user.m.struct_size = sizeof user;
        user.m.role = "user";
        user.m.content = kUser;
        memset(&tool, JUNK, sizeof tool);
        memset(&tool.t, 0, sizeof tool.t);
        tool.t.struct_size = sizeof tool;
        tool.t.type = "function";
        tool.t.name = "lookup";
        msgs[0] = &user.m;
        tools[0] = &tool.t;
        memset(&req, JUNK, sizeof req);
        memset(&req.r, 0, sizeof req.r);
        req.r.struct_size = sizeof req;
        req.r.messages = msgs;
        req.r.n_messages = 1;
        req.r.params = &params.p;
        req.r.tools = tools;
        req.r.n_tools = 1;
        req.r.parallel_tool_calls = -1;
        memset(&big_res, 0, sizeof big_res);
        big_res.r.struct_size = sizeof big_res;
        st = run(&req.r, &big_res.r, &s, &err);
        expect_tool_call("larger structs", st, &s, &big_res.r, &err);
    }

    { /* 3. An older caller: parts cut short, garbage past each struct_size. */
        llmh_params params = llmh_default_params();
        llmh_message user, assistant, result;
        llmh_tool_call call;
        llmh_tool tool;
        const llmh_message *msgs[3];
        const llmh_tool_call *calls[1];
        const llmh_tool *tools[1];
        llmh_request req;
        struct {
            llmh_result r;
            unsigned char canary[16];
        } small_res;
        size_t i;

        memset(&user, 0, sizeof user);
        user.struct_size = offsetof(llmh_message, name); /* role and content only */
        user.role = "user";
        user.content = kUser;
        user.name = (const char *)JUNK_PTR;
        user.tool_calls = (const llmh_tool_call *const *)JUNK_PTR;
        user.n_tool_calls = 1000;
        memset(&tool, 0, sizeof tool);
        tool.struct_size = offsetof(llmh_tool, description); /* type and name only */
        tool.type = "function";
        tool.name = "lookup";
        tool.description = (const char *)JUNK_PTR;
        tool.parameters_json = (const char *)JUNK_PTR;
        msgs[0] = &user;
        tools[0] = &tool;
        params.struct_size = offsetof(llmh_params, presence_penalty);
        params.presence_penalty = 1e9f;
        params.stop = (const char *const *)JUNK_PTR;
        params.n_stop = 1000;

        /* 3a. The request cut before its tool fields: tools are not there, a plain echo. */
        memset(&req, 0, sizeof req);
        req.struct_size = offsetof(llmh_request, logprobs);
        req.messages = msgs;
        req.n_messages = 1;
        req.params = &params;
        req.tools = (const llmh_tool *const *)JUNK_PTR;
        req.n_tools = 1000;
        req.tool_choice = 77;
        req.response_format = (const llmh_response_format *)JUNK_PTR;
        req.reasoning = LLMH_REASONING_ON;
        req.reasoning_effort = (const char *)JUNK_PTR;
        req.next = (const llmh_chain *)JUNK_PTR;
        memset(&res, 0, sizeof res);
        res.struct_size = sizeof res;
        st = run(&req, &res, &s, &err);
        if (st != LLMH_OK) fprintf(stderr, "3a: %s\n", err.message);
        CHECK(st == LLMH_OK);
        CHECK(strcmp(s.text, kUser) == 0);
        CHECK(s.starts == 0 && s.reasoning[0] == '\0');
        CHECK(res.finish_reason == LLMH_FINISH_STOP);

        /* 3b. The request with its tools (but cut before response_format), the tool and the
         *     message cut short: the call is still made. */
        req.struct_size = offsetof(llmh_request, response_format);
        req.tools = tools;
        req.n_tools = 1;
        req.tool_choice = LLMH_TOOL_CHOICE_AUTO;
        req.tool_choice_name = NULL;
        req.parallel_tool_calls = -1;
        req.logprobs = 0;
        req.top_logprobs = 0;
        st = run(&req, &res, &s, &err);
        expect_tool_call("smaller structs", st, &s, &res, &err);

        /* 3c. max_tokens of short params is honoured. */
        params.max_tokens = 1;
        req.struct_size = offsetof(llmh_request, logprobs);
        st = run(&req, &res, &s, &err);
        CHECK(st == LLMH_OK);
        CHECK(strcmp(s.text, "Please ") == 0);
        CHECK(res.finish_reason == LLMH_FINISH_LENGTH);
        params.max_tokens = 0;

        /* 3d. A tool result whose message is cut before tool_call_id: the id is not there, so
         *     echo cannot name the function, and says so. */
        memset(&call, 0, sizeof call);
        call.struct_size = sizeof call;
        call.id = "call_1_0";
        call.name = "lookup";
        call.arguments = "{}";
        calls[0] = &call;
        memset(&assistant, 0, sizeof assistant);
        assistant.struct_size = sizeof assistant;
        assistant.role = "assistant";
        assistant.tool_calls = calls;
        assistant.n_tool_calls = 1;
        memset(&result, 0, sizeof result);
        result.struct_size = offsetof(llmh_message, tool_call_id);
        result.role = "tool";
        result.content = "42";
        result.tool_call_id = (const char *)JUNK_PTR;
        msgs[1] = &assistant;
        msgs[2] = &result;
        req.struct_size = sizeof req;
        req.n_messages = 3;
        req.response_format = NULL;
        req.reasoning = LLMH_REASONING_DEFAULT;
        req.reasoning_effort = NULL;
        req.next = NULL;
        st = run(&req, &res, &s, &err);
        CHECK(st == LLMH_OK);
        CHECK(strcmp(s.text, "The tool returned: 42") == 0);
        result.struct_size = sizeof result; /* and with the id: the function is named */
        result.tool_call_id = "call_1_0";
        st = run(&req, &res, &s, &err);
        CHECK(st == LLMH_OK);
        CHECK(strcmp(s.text, "The tool lookup returned: 42") == 0);

        /* 3e. A result cut before reasoning_tokens: reasoning on, nothing written past it. */
        req.n_messages = 1;
        req.tools = NULL;
        req.n_tools = 0;
        req.reasoning = LLMH_REASONING_ON;
        memset(&small_res, JUNK, sizeof small_res);
        memset(&small_res.r, 0, offsetof(llmh_result, reasoning_tokens));
        small_res.r.struct_size = offsetof(llmh_result, reasoning_tokens);
        st = run(&req, &small_res.r, &s, &err);
        CHECK(st == LLMH_OK);
        CHECK(strncmp(s.reasoning, "Thinking about: Please", 22) == 0);
        for (i = offsetof(llmh_result, reasoning_tokens); i < sizeof small_res; i++)
            CHECK(((unsigned char *)&small_res)[i] == JUNK);
    }

    { /* 4. Hostile: a NULL message pointer is refused naming its index. */
        llmh_params params = llmh_default_params();
        llmh_message user;
        const llmh_message *msgs[2];
        llmh_request req;
        memset(&user, 0, sizeof user);
        user.struct_size = sizeof user;
        user.role = "user";
        user.content = "x";
        msgs[0] = &user;
        msgs[1] = NULL;
        memset(&req, 0, sizeof req);
        req.struct_size = sizeof req;
        req.messages = msgs;
        req.n_messages = 2;
        req.params = &params;
        req.parallel_tool_calls = -1;
        memset(&res, 0, sizeof res);
        res.struct_size = sizeof res;
        st = run(&req, &res, &s, &err);
        CHECK(st == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(strstr(err.message, "1") != NULL);
    }

    plugin->destroy(provider);
    if (failures == 0)
        printf("old_caller: echo honours ABI 2.0 struct sizes (smaller and larger)\n");
    return failures == 0 ? 0 : 1;
}
