/*
 * An ABI 1 plugin: compiled against the FROZEN ABI 1.2 header (tests/compat/abi-1.2), the last
 * ABI 1 release. The ABI 2 host must refuse it cleanly, naming both versions, and keep going.
 * Built twice:
 *   - "legacy": its entry point returns its descriptor whatever the host's major (the host must
 *     read abi_major and refuse);
 *   - "legacy_strict" (STRICT_ENTRY): its entry point refuses a host of another major itself,
 *     as the ABI 1 echo plugin did.
 * Nothing past the entry point may ever be called: every function fails loudly.
 */
#include <llmhost/plugin.h>

#include <stdio.h>

#if LLMH_ABI_MAJOR != 1 || LLMH_ABI_MINOR != 2
#error "v12_plugin.c must be compiled against tests/compat/abi-1.2/llmhost/plugin.h"
#endif

#ifdef STRICT_ENTRY
#define V12_NAME "legacy_strict"
#else
#define V12_NAME "legacy"
#endif

static llmh_status l_create(const char *c, const llmh_host_services *h, llmh_provider **o,
                            llmh_error *e) {
    (void)c;
    (void)h;
    (void)o;
    return llmh_set_error(e, LLMH_ERR_INTERNAL, V12_NAME ": create must never be called", "");
}
static void l_destroy(llmh_provider *p) { (void)p; }
static uint32_t l_flags(llmh_provider *p) {
    (void)p;
    return 0;
}
static llmh_status l_generate(llmh_provider *p, const llmh_request *r, llmh_result *res,
                              llmh_error *e) {
    (void)p;
    (void)r;
    (void)res;
    return llmh_set_error(e, LLMH_ERR_INTERNAL, V12_NAME ": generate must never be called", "");
}

static const llmh_plugin descriptor = {sizeof(llmh_plugin),
                                       LLMH_ABI_MAJOR,
                                       LLMH_ABI_MINOR,
                                       V12_NAME,
                                       "1.2.0",
                                       "an ABI 1.2 plugin (compat test fixture)",
                                       LLMH_CAP_CHAT | LLMH_CAP_COMPLETION,
                                       l_create,
                                       l_destroy,
                                       l_flags,
                                       l_generate,
                                       NULL,
                                       NULL};

LLMH_PLUGIN_EXPORT llmh_status llmh_plugin_entry(uint32_t host_major, uint32_t host_minor,
                                                 const llmh_host_services *host,
                                                 const llmh_plugin **out, llmh_error *err) {
    (void)host_minor;
    (void)host;
#ifdef STRICT_ENTRY
    if (host_major != LLMH_ABI_MAJOR) {
        char msg[160];
        snprintf(msg, sizeof msg, "plugin '%s' was built for llmhost ABI %d.%d, host speaks %u.x",
                 V12_NAME, LLMH_ABI_MAJOR, LLMH_ABI_MINOR, (unsigned)host_major);
        return llmh_set_error(err, LLMH_ERR_ABI_MISMATCH, msg,
                              "rebuild the plugin against this host's plugin.h");
    }
#else
    (void)host_major;
    (void)err;
#endif
    *out = &descriptor;
    return LLMH_OK;
}
