/*
 * Prints the plugin ABI's layout on the data model it was compiled for: "model LP64" or
 * "model LLP64", then one pin line per struct (its sizeof) and per field (its offsetof and
 * sizeof), to stdout or to the file named by its one argument, in the
 * form plugin.h's layout table uses. tools/abi_layout.py compares the output with the table
 * (check) or writes the table from the LP64 and the LLP64 outputs (update).
 *
 * The list of structs and fields is not written here: abi_layout_fields.h is generated from
 * plugin.h's source by `tools/abi_layout.py fields`, so a new field cannot be left out.
 * Build (the ctest in tests/abi does this for the build's own compiler):
 *   python3 tools/abi_layout.py fields plugin_api/include/llmhost/plugin.h /tmp/abi_layout_fields.h
 *   cc -std=c99 -Iplugin_api/include -I/tmp tools/abi_layout.c -o abi_layout && ./abi_layout
 */

/* The table in plugin.h may be the thing that is wrong: this program must compile anyway. */
#define LLMH_ABI_LAYOUT_UNPINNED 1
#include <llmhost/plugin.h>

#include <stdio.h>

int main(int argc, char **argv) {
    const char *model;
    FILE *out = stdout;
    if (sizeof(void *) != 8) {
        fprintf(stderr, "abi_layout: a %u-bit target; only 64-bit ones are pinned\n",
                (unsigned)(8 * sizeof(void *)));
        return 2;
    }
    if (argc > 2 || (argc == 2 && (out = fopen(argv[1], "w")) == NULL)) {
        if (argc > 2)
            fprintf(stderr, "usage: abi_layout [output file]\n");
        else
            fprintf(stderr, "abi_layout: cannot write %s\n", argv[1]);
        return 2;
    }
    model = sizeof(long) == 8 ? "LP64" : "LLP64";
    fprintf(out, "model %s\n", model);
#define LLMH_LAYOUT_STRUCT(type)                                                                   \
    fprintf(out, "LLMH_ABI_PIN_SIZE(%s, %u);\n", #type, (unsigned)sizeof(type));
#define LLMH_LAYOUT_FIELD(type, field)                                                             \
    fprintf(out, "LLMH_ABI_PIN_FIELD(%s, %s, %u, %u);\n", #type, #field,                           \
            (unsigned)offsetof(type, field), (unsigned)sizeof(((type *)0)->field));
#include "abi_layout_fields.h"
    return fclose(out) == 0 ? 0 : 2;
}
