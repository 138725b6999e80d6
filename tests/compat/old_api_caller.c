/*
 * An embedder compiled against the FROZEN ABI 2.0 plugin.h (tests/compat/abi-2.0) and the
 * current host.h: its llmh_request, from llmhost_request_init, is 2.0-sized and ends at `next`.
 * It calls the CURRENT libllmhost (ABI 2.1, which reads grammar and regex when struct_size
 * covers them) with bytes past that struct_size filled with garbage, and checks that the host
 * reads none of it: the recording plugin (LLMH_CAP_GRAMMAR, current header) answers with the
 * request it received, and grammar and regex must be null there. A host that read the garbage
 * as pointers would crash or record junk.
 * Usage: old_api_caller <directory of libllmhost_recording.so>. Exit 0 when every check passes.
 */
#include <llmhost/host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LLMH_ABI_MAJOR != 2 || LLMH_ABI_MINOR != 0
#error "old_api_caller.c must be compiled against tests/compat/abi-2.0/llmhost/plugin.h"
#endif

#define JUNK 0xA5

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int contains(const char *text, const char *needle) {
    return text != NULL && strstr(text, needle) != NULL;
}

int main(int argc, char **argv) {
    const char *dirs[1];
    llmhost_open_params op;
    llmhost_host *h;
    /* The 2.0 request at the start of a larger buffer: the tail is what a 2.1 reader would take
     * for grammar and regex if it ignored struct_size. */
    union {
        llmh_request r;
        unsigned char bytes[sizeof(llmh_request) + 64];
    } buf;
    llmh_params params;
    llmh_result res;
    char *text = NULL;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: old_api_caller <plugin dir>\n");
        return 2;
    }
    /* No config file (a temporary file is POSIX- or Windows-specific): the provider is added by
     * a swap, which creates it exactly as a config entry would. */
    op = llmhost_open_default_params();
    op.use_config_file = 0;
    dirs[0] = argv[1];
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    h = llmhost_open_ext(&op);
    if (h == NULL) {
        fprintf(stderr, "open: %s\n", llmhost_last_error());
        return 1;
    }
    if (llmhost_swap(h, "rec", "{\"plugin\": \"recording\", \"config\": {}}") != LLMH_OK) {
        fprintf(stderr, "swap: %s\n", llmhost_last_error());
        return 1;
    }

    memset(&buf, JUNK, sizeof buf);
    llmhost_request_init(&buf.r, &params);
    CHECK(buf.r.struct_size == sizeof(llmh_request)); /* 2.0's size, from the frozen header */
    CHECK(buf.bytes[sizeof(llmh_request)] == JUNK);   /* init touched nothing past it */
    buf.r.prompt = "hello from 2.0";
    memset(&res, 0, sizeof res);
    rc = llmhost_generate(h, "rec", &buf.r, &res, &text);
    if (rc != LLMH_OK) fprintf(stderr, "generate: %s\n", llmhost_last_error());
    CHECK(rc == LLMH_OK);
    CHECK(contains(text, "\"prompt\": \"hello from 2.0\""));
    CHECK(contains(text, "\"grammar\": null"));
    CHECK(contains(text, "\"regex\": null"));
    if (failures) fprintf(stderr, "recorded: %s\n", text ? text : "(none)");
    llmhost_free(text);
    llmhost_close(h);
    if (failures) return 1;
    printf("a 2.0-sized llmh_request through the 2.1 C API: grammar and regex unread, ok\n");
    return 0;
}
