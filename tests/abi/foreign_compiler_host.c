/*
 * The plugin ABI across compilers: this program is built by the project's compiler (g++'s gcc on
 * Linux, mingw-w64 gcc for Windows) and links libllmhost built by the same; the plugins in the
 * directory it is given were built by ANOTHER compiler (clang: tests/abi/CMakeLists.txt). Every
 * struct of plugin.h crosses between the two:
 *  - the echo plugin (as "clang_echo") streams an answer word by word (llmh_event TEXT,
 *    REASONING, TOOL_CALL_START/ARGS), honours max_tokens and stop strings (llmh_params), fills
 *    llmh_result, and reports a refusal through llmh_error;
 *  - the recording plugin answers with a JSON dump of every field of the llmh_request it read,
 *    which must be every value set here.
 * A field at a different offset on the two sides shows up as a wrong value, a crash or junk.
 * Usage: foreign_compiler_host <plugin dir>. Exit 0 when every check passes.
 */
#include <llmhost/host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* What the events of one answer said. */
typedef struct seen {
    char text[4096];
    char reasoning[1024];
    char tool_name[64];
    char tool_call_id[64];
    char tool_args[256];
    unsigned n_text, n_reasoning, n_tool_start, last_n_tokens;
} seen;

static void append(char *dst, size_t cap, const char *src, size_t n) {
    size_t len = strlen(dst);
    if (len + n + 1 > cap) n = cap - len - 1;
    memcpy(dst + len, src, n);
    dst[len + n] = '\0';
}

static int on_event(void *user, const llmh_event *e) {
    seen *s = (seen *)user;
    if (!LLMH_HAS_FIELD(e, llmh_event, n_top)) return 0; /* a 2.2 plugin sends the whole event */
    s->last_n_tokens = e->n_tokens;
    switch (e->type) {
    case LLMH_EVENT_TEXT:
        s->n_text++;
        append(s->text, sizeof s->text, e->text, e->text_len);
        break;
    case LLMH_EVENT_REASONING:
        s->n_reasoning++;
        append(s->reasoning, sizeof s->reasoning, e->text, e->text_len);
        break;
    case LLMH_EVENT_TOOL_CALL_START:
        s->n_tool_start++;
        llmh_copy_str(s->tool_name, sizeof s->tool_name, e->tool_name);
        llmh_copy_str(s->tool_call_id, sizeof s->tool_call_id, e->tool_call_id);
        break;
    case LLMH_EVENT_TOOL_CALL_ARGS:
        append(s->tool_args, sizeof s->tool_args, e->text, e->text_len);
        break;
    }
    return 0;
}

static int contains(const char *text, const char *needle) {
    if (text == NULL || strstr(text, needle) == NULL) {
        fprintf(stderr, "  missing %s\n", needle);
        return 0;
    }
    return 1;
}

/* Runs one request; says why when its status is not `expect`. */
static int run(llmhost_host *h, const char *provider, llmh_request *r, llmh_result *res, seen *s,
               char **text, int expect) {
    int rc;
    memset(s, 0, sizeof *s);
    memset(res, 0, sizeof *res);
    r->on_event = on_event;
    r->user = s;
    rc = llmhost_generate(h, provider, r, res, text);
    if (rc != expect)
        fprintf(stderr, "generate %s: status %d, expected %d: %s\n", provider, rc, expect,
                rc == LLMH_OK ? "" : llmhost_last_error());
    return rc == expect;
}

static void echo_checks(llmhost_host *h) {
    llmh_request r;
    llmh_params p;
    llmh_result res;
    seen s;
    char *text = NULL;
    const char *stops[1] = {"gamma"};
    llmh_message user = {0};
    const llmh_message *msgs[1];
    llmh_tool tool = {0};
    const llmh_tool *tools[1];
    llmh_response_format schema = {0};

    CHECK(llmhost_swap(h, "e", "{\"plugin\": \"clang_echo\"}") == LLMH_OK);

    /* Streamed word by word; llmh_result's uint32 and double fields come back. */
    llmhost_request_init(&r, &p);
    r.prompt = "alpha beta gamma delta";
    CHECK(run(h, "e", &r, &res, &s, &text, LLMH_OK));
    CHECK(s.n_text == 4);
    CHECK(strcmp(s.text, "alpha beta gamma delta") == 0);
    CHECK(text != NULL && strcmp(text, s.text) == 0);
    CHECK(s.last_n_tokens == 4);
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    CHECK(res.prompt_tokens == 4 && res.completion_tokens == 4);
    CHECK(res.total_ms >= 0 && res.total_ms < 60000 && res.time_to_first_token_ms <= res.total_ms);
    llmhost_free(text);
    text = NULL;

    /* llmh_params: max_tokens, then a stop string (a pointer array and its count). */
    p.max_tokens = 2;
    CHECK(run(h, "e", &r, &res, &s, NULL, LLMH_OK));
    CHECK(strcmp(s.text, "alpha beta ") == 0);
    CHECK(res.finish_reason == LLMH_FINISH_LENGTH);
    p.max_tokens = 0;
    p.stop = stops;
    p.n_stop = 1;
    CHECK(run(h, "e", &r, &res, &s, NULL, LLMH_OK));
    CHECK(strcmp(s.text, "alpha beta ") == 0);
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    p.stop = NULL;
    p.n_stop = 0;

    /* Messages, tools, reasoning: REASONING events, then a tool call's START and ARGS. */
    user.struct_size = sizeof user;
    user.role = "user";
    user.content = "please lookup {\"q\": 7} now";
    msgs[0] = &user;
    tool.struct_size = sizeof tool;
    tool.type = "function";
    tool.name = "lookup";
    tools[0] = &tool;
    r.prompt = NULL;
    r.messages = msgs;
    r.n_messages = 1;
    r.tools = tools;
    r.n_tools = 1;
    r.reasoning = LLMH_REASONING_ON;
    CHECK(run(h, "e", &r, &res, &s, NULL, LLMH_OK));
    CHECK(s.n_reasoning >= 2);
    CHECK(strncmp(s.reasoning, "Thinking about: please lookup", 29) == 0);
    CHECK(s.n_tool_start == 1);
    CHECK(strcmp(s.tool_name, "lookup") == 0);
    CHECK(strcmp(s.tool_call_id, "call_1_0") == 0);
    CHECK(strcmp(s.tool_args, "{\"q\": 7}") == 0);
    CHECK(s.n_text == 0);
    CHECK(res.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(res.reasoning_tokens >= 2 && res.completion_tokens > res.reasoning_tokens);

    /* A refusal: llmh_error's code and message, written by the plugin, read by the host. */
    r.tools = NULL;
    r.n_tools = 0;
    r.reasoning = LLMH_REASONING_DEFAULT;
    schema.struct_size = sizeof schema;
    schema.type = LLMH_RESPONSE_JSON_SCHEMA;
    schema.name = "answer";
    schema.schema_json = "{\"type\": \"object\"}";
    r.response_format = &schema;
    CHECK(run(h, "e", &r, &res, &s, NULL, LLMH_ERR_UNSUPPORTED));
    CHECK(llmhost_last_error_code() == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "echo: response_format json_schema is not supported"));
}

static void recording_checks(llmhost_host *h) {
    llmh_request r;
    llmh_params p;
    llmh_result res;
    seen s;
    char *text = NULL;
    const char *stops[2] = {"END", "STOP"};
    llmh_message sys = {0}, user = {0};
    const llmh_message *msgs[2];
    llmh_tool tool = {0};
    const llmh_tool *tools[1];
    static const char *expect[] = {
        "\"model\": \"model-x\"",
        "{\"role\": \"system\", \"content\": \"be brief\"",
        "{\"role\": \"user\", \"content\": \"hi there\", \"name\": \"ann\"",
        "\"max_tokens\": 77",
        "\"temperature\": 0.25",
        "\"top_p\": 0.5",
        "\"top_k\": 9",
        "\"min_p\": 0.125",
        "\"repetition_penalty\": 1.5",
        "\"presence_penalty\": -0.75",
        "\"frequency_penalty\": 0.375",
        "\"has_seed\": 1",
        "\"seed\": 12345678901234",
        "\"stop\": [\"END\", \"STOP\"]",
        "\"logprobs\": 1",
        "\"top_logprobs\": 3",
        "{\"type\": \"function\", \"name\": \"lookup\", \"description\": \"finds\", "
        "\"parameters_json\": \"{\\\"type\\\": \\\"object\\\"}\", \"strict\": 1}",
        "\"tool_choice\": 3",
        "\"tool_choice_name\": \"lookup\"",
        "\"parallel_tool_calls\": 0",
        "\"reasoning\": 2",
        "\"reasoning_effort\": \"high\"",
        "\"grammar\": null",
    };
    size_t i;

    CHECK(llmhost_swap(h, "r", "{\"plugin\": \"recording\"}") == LLMH_OK);
    llmhost_request_init(&r, &p);
    sys.struct_size = user.struct_size = sizeof user;
    sys.role = "system";
    sys.content = "be brief";
    user.role = "user";
    user.content = "hi there";
    user.name = "ann";
    msgs[0] = &sys;
    msgs[1] = &user;
    tool.struct_size = sizeof tool;
    tool.type = "function";
    tool.name = "lookup";
    tool.description = "finds";
    tool.parameters_json = "{\"type\": \"object\"}";
    tool.strict = 1;
    tools[0] = &tool;
    r.model = "model-x";
    r.messages = msgs;
    r.n_messages = 2;
    p.max_tokens = 77;
    p.temperature = 0.25f;
    p.top_p = 0.5f;
    p.top_k = 9;
    p.min_p = 0.125f;
    p.repetition_penalty = 1.5f;
    p.presence_penalty = -0.75f;
    p.frequency_penalty = 0.375f;
    p.has_seed = 1;
    p.seed = 12345678901234u;
    p.stop = stops;
    p.n_stop = 2;
    r.logprobs = 1;
    r.top_logprobs = 3;
    r.tools = tools;
    r.n_tools = 1;
    r.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
    r.tool_choice_name = "lookup";
    r.parallel_tool_calls = 0;
    r.reasoning = LLMH_REASONING_ON;
    r.reasoning_effort = "high";
    CHECK(run(h, "r", &r, &res, &s, &text, LLMH_OK));
    for (i = 0; i < sizeof expect / sizeof expect[0]; i++) CHECK(contains(text, expect[i]));
    CHECK(res.finish_reason == LLMH_FINISH_STOP);
    if (failures) fprintf(stderr, "recorded: %s\n", text ? text : "(none)");
    llmhost_free(text);
    text = NULL;

    /* The 2.1 fields at the end of llmh_request (a regex excludes a forced tool call). */
    r.tool_choice = LLMH_TOOL_CHOICE_AUTO;
    r.tool_choice_name = NULL;
    r.regex = "[a-z]+";
    CHECK(run(h, "r", &r, &res, &s, &text, LLMH_OK));
    CHECK(contains(text, "\"grammar\": null, \"regex\": \"[a-z]+\""));
    llmhost_free(text);
}

int main(int argc, char **argv) {
    const char *dirs[1];
    llmhost_open_params op;
    llmhost_host *h;
    char *plugins;

    if (argc != 2) {
        fprintf(stderr, "usage: foreign_compiler_host <plugin dir>\n");
        return 2;
    }
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
    plugins = llmhost_plugins_json(h);
    CHECK(contains(plugins, "clang_echo"));
    CHECK(contains(plugins, "recording"));
    if (failures) fprintf(stderr, "plugins: %s\n", plugins ? plugins : "(none)");
    llmhost_free(plugins);

    echo_checks(h);
    recording_checks(h);
    llmhost_close(h);
    if (failures) return 1;
    printf("plugins built by another compiler, driven through every plugin.h struct: ok\n");
    return 0;
}
