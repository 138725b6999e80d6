#!/usr/bin/env python3
"""The Python binding's ctypes mirror of plugin.h (host/python/llmhost_abi.py) has the C layout:
every field it declares sits at the offset and has the size that the C compiler measured
(tools/abi_layout.c's output, the layout.txt given). A mirror may stop early (an older minor:
struct_size tells the library how far it reaches), but never skip or reorder a field.
Usage: ctypes_layout_test.py <host/python dir> <layout.txt>
"""
import ctypes
import re
import sys

# ctypes class -> C struct
MIRRORS = {"_ToolCall": "llmh_tool_call", "_Message": "llmh_message", "_Tool": "llmh_tool",
           "_ResponseFormat": "llmh_response_format", "_Params": "llmh_params",
           "_TokenLogprob": "llmh_token_logprob", "_Event": "llmh_event",
           "_Request": "llmh_request", "_Result": "llmh_result"}


def read_layout(path):
    sizes, fields = {}, {}
    for line in open(path):
        m = re.match(r"LLMH_ABI_PIN_SIZE\((\w+), (\d+)\);", line)
        if m:
            sizes[m.group(1)] = int(m.group(2))
            fields[m.group(1)] = []
        m = re.match(r"LLMH_ABI_PIN_FIELD\((\w+), (\w+), (\d+), (\d+)\);", line)
        if m:
            fields[m.group(1)].append((m.group(2), int(m.group(3)), int(m.group(4))))
    return sizes, fields


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    sys.path.insert(0, argv[1])
    import llmhost_abi
    sizes, fields = read_layout(argv[2])
    failures = 0
    for cls_name, struct in MIRRORS.items():
        cls = getattr(llmhost_abi, cls_name, None)
        if cls is None:
            print("FAIL  llmhost_abi.%s (%s) is gone: update MIRRORS" % (cls_name, struct))
            failures += 1
            continue
        c_fields = fields[struct]
        py_fields = [f[0] for f in cls._fields_]
        for i, name in enumerate(py_fields):
            got = (name, getattr(cls, name).offset, getattr(cls, name).size)
            want = c_fields[i] if i < len(c_fields) else None
            if got != want:
                print("FAIL  %s field %d: ctypes has %s at %d (%d bytes), C has %s" %
                      (struct, i, name, got[1], got[2], want))
                failures += 1
        if len(py_fields) == len(c_fields) and ctypes.sizeof(cls) != sizes[struct]:
            print("FAIL  sizeof %s: ctypes %d, C %d" % (struct, ctypes.sizeof(cls), sizes[struct]))
            failures += 1
        missing = [f[0] for f in c_fields[len(py_fields):]]
        print("ok    %s: %d fields as in C%s" % (struct, len(py_fields),
              "; not mirrored (newer): " + ", ".join(missing) if missing else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
