/*
 * Embedding llmhost from C99 through its C API (<llmhost/host.h>): open a host from a config file,
 * stream an answer through a callback, swap the provider's configuration while the host is live,
 * and read the error of a request that cannot be served.
 *
 *   c_api_example <config.json> <swap entry JSON>
 *   c_api_example examples/c-api/echo.json '{"plugin": "echo", "config": {"prefix": "[swapped] "}}'
 *
 * It checks what it shows and exits 1 when the host did not behave as described, so the same
 * program is the test of the C API on Linux and (under wine) on Windows.
 */
#include <llmhost/host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the callback collects while the answer streams. */
typedef struct stream_state {
    char text[1024];
    size_t len;
    int pieces;
} stream_state;

/* Called for every event of the answer, on the thread that called llmhost_generate. */
static int on_event(void *user, const llmh_event *event) {
    stream_state *s = (stream_state *)user;
    if (event->type != LLMH_EVENT_TEXT) return 0;
    printf("[%.*s]", (int)event->text_len, event->text);
    fflush(stdout);
    if (s->len + event->text_len < sizeof s->text) {
        memcpy(s->text + s->len, event->text, event->text_len);
        s->len += event->text_len;
        s->text[s->len] = '\0';
    }
    s->pieces++;
    return 0; /* nonzero would cancel the request */
}

static int failures = 0;

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "c_api_example: FAILED: %s\n", what);
        failures++;
    }
}

/* One streamed generate on the default provider; the whole text is returned by the host too. */
static int stream(llmhost_host *h, const char *prompt, stream_state *s) {
    llmh_request req;
    llmh_params params;
    llmh_result result;
    char *whole = NULL;
    int rc;
    memset(s, 0, sizeof *s);
    llmhost_request_init(&req, &params);
    req.prompt = prompt;
    params.max_tokens = 64;
    req.on_event = on_event;
    req.user = s;
    rc = llmhost_generate(h, NULL, &req, &result, &whole);
    if (rc != LLMH_OK) {
        fprintf(stderr, "generate: %s (%s)\n", llmhost_last_error(), llmhost_last_error_hint());
        return rc;
    }
    printf("\n  %d pieces, finish: %s, served by: %s\n", s->pieces,
           llmhost_finish_reason_name(result.finish_reason), llmhost_last_served_by());
    expect(strcmp(whole, s->text) == 0, "the streamed pieces add up to the returned text");
    expect(result.finish_reason == LLMH_FINISH_STOP, "the answer finished with 'stop'");
    llmhost_free(whole);
    return rc;
}

int main(int argc, char **argv) {
    llmhost_host *h;
    stream_state s;
    char *provider;
    const char *prompt = "Say hello from C";
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <config.json> <swap entry JSON>\n", argv[0]);
        return 2;
    }
    printf("llmhost %s\n", llmhost_version());

    /* 1. Open: the config names the providers; plugins are found in the usual directories
     *    ($LLMHOST_PLUGIN_PATH, next to the executable and the library). */
    h = llmhost_open(argv[1]);
    if (h == NULL) {
        fprintf(stderr, "open: %s (%s)\n", llmhost_last_error(), llmhost_last_error_hint());
        return 1;
    }
    provider = llmhost_default_provider(h);
    printf("default provider: %s\n", provider);
    llmhost_free(provider);

    /* 2. Stream an answer through the callback. */
    rc = stream(h, prompt, &s);
    expect(rc == LLMH_OK, "the first generate succeeds");
    expect(s.pieces > 1, "the answer arrives in several pieces");

    /* 3. Swap the default provider live: the next request is served by the new instance. */
    rc = llmhost_swap(h, "echo", argv[2]);
    if (rc != LLMH_OK) fprintf(stderr, "swap: %s\n", llmhost_last_error());
    expect(rc == LLMH_OK, "the swap succeeds");
    printf("swapped 'echo' to %s\n", argv[2]);
    rc = stream(h, prompt, &s);
    expect(rc == LLMH_OK, "the generate after the swap succeeds");
    expect(strstr(s.text, "[swapped] ") == s.text, "the swapped configuration answers");

    /* 4. A request that cannot be served fails with a status and a message, never silently. */
    {
        llmh_request req;
        llmh_params params;
        llmhost_request_init(&req, &params);
        req.prompt = "x";
        rc = llmhost_generate(h, "no-such-provider", &req, NULL, NULL);
        printf("bad request: %s: %s\n", llmhost_status_name(rc), llmhost_last_error());
        expect(rc == LLMHOST_ERR_NO_PROVIDER, "an unknown provider is refused with no_provider");
        expect(strstr(llmhost_last_error(), "no-such-provider") != NULL,
               "the error names the unknown provider");
    }

    /* 5. A failed swap keeps the instance that was serving. */
    rc = llmhost_swap(h, "echo", "{\"plugin\": \"no-such-plugin\"}");
    printf("bad swap: %s: %s\n", llmhost_status_name(rc), llmhost_last_error());
    expect(rc == LLMHOST_ERR_PLUGIN, "a swap to a missing plugin is refused");
    rc = stream(h, prompt, &s);
    expect(rc == LLMH_OK && strstr(s.text, "[swapped] ") == s.text,
           "the provider still answers after a failed swap");

    llmhost_close(h);
    if (failures) return 1;
    printf("ok\n");
    return 0;
}
