#!/usr/bin/env python3
"""plugin.h's layout table, tested from outside (tests/abi/CMakeLists.txt runs both modes):

  layout_guard_test.py targets <repo> <clang or ""> <mingw gcc or "">
      The header, pins included, compiles for every 64-bit target clang knows of here (Linux
      x86_64/aarch64, Windows x64 with the MSVC and the mingw ABI, macOS x86_64/arm64) as C99,
      C11 and C++17, and with mingw-w64's gcc; and for 32-bit targets, where nothing is pinned.
      Exit 77 when neither compiler is installed.
  layout_guard_test.py mutations <repo> <cc> <c++> <python>
      A copy of the header with a field moved, inserted, or widened fails to compile as C99
      (the negative-array form), C11 (_Static_assert) and C++ (static_assert), naming the
      field; a field appended into a struct's tail padding (no pin can see it) makes
      `abi_layout.py check` fail instead. So the table is shown to catch what it claims to.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TARGETS_64 = ["x86_64-linux-gnu", "aarch64-linux-gnu", "x86_64-pc-windows-msvc",
              "x86_64-w64-mingw32", "x86_64-apple-darwin", "arm64-apple-macos"]
TARGETS_32 = ["i686-linux-gnu", "i686-pc-windows-msvc"]
LANGS = [["-x", "c", "-std=c99"], ["-x", "c", "-std=c11"], ["-x", "c++", "-std=c++17"]]

failures = []


def compile_header(cmd, header_dir):
    """Compiles a file that includes <llmhost/plugin.h> from header_dir (written to a temporary
    directory: never into the source tree)."""
    with tempfile.TemporaryDirectory(prefix="llmhost-abi-") as tmp:
        src = os.path.join(tmp, "use_plugin_h.c")
        with open(src, "w") as f:
            f.write("#include <llmhost/plugin.h>\nint llmh_layout_probe;\n")
        p = subprocess.run(cmd + ["-fsyntax-only", "-I", header_dir, src],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def expect(ok, what, output=""):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)
        if output:
            print(output[-3000:])


def moved_copy(include, cache={}):
    """A copy of the header with llmh_request.messages moved by 8 bytes (made once)."""
    if include not in cache:
        tmp = tempfile.mkdtemp(prefix="llmhost-abi-")
        os.makedirs(os.path.join(tmp, "llmhost"))
        text = open(os.path.join(include, "llmhost", "plugin.h")).read()
        open(os.path.join(tmp, "llmhost", "plugin.h"), "w").write(
            mutate(text, "    const llmh_message *const *messages;",
                   "    int32_t inserted;\n    const llmh_message *const *messages;"))
        cache[include] = tmp
    return cache[include]


def targets(repo, clang, mingw):
    include = os.path.join(repo, "plugin_api", "include")
    if not clang and not mingw:
        print("skipped: neither clang nor x86_64-w64-mingw32-gcc is installed "
              "(scripts/deps.sh installs both)")
        return 77
    if clang:
        # -ffreestanding: clang's own stddef.h/stdint.h, so no target's C library is needed.
        for t in TARGETS_64 + TARGETS_32:
            for lang in LANGS:
                cmd = [clang, "--target=" + t, "-ffreestanding", "-Werror",
                       "-Wno-stdlibcxx-not-found"] + lang
                rc, out = compile_header(cmd, include)
                expect(rc == 0, "clang %s %s" % (t, lang[-1]), out)
                # The pins are live there (not skipped by the 64-bit test): a moved field fails.
                if t in TARGETS_64:
                    rc, out = compile_header(cmd, moved_copy(include))
                    named = "llmh_request.messages" in out or (
                        lang[-1] == "-std=c99" and "llmh_abi_layout_pin_" in out)
                    expect(rc != 0 and named,
                           "clang %s %s: a moved field fails" % (t, lang[-1]), out)
    else:
        print("note: clang is not installed: only mingw-w64 gcc checks the pins")
    if mingw:
        for std in ["-std=c99", "-std=c11"]:
            cmd = [mingw, "-x", "c", std, "-pedantic", "-Werror"]
            rc, out = compile_header(cmd, include)
            expect(rc == 0, "%s %s" % (os.path.basename(mingw), std), out)
            rc, out = compile_header(cmd, moved_copy(include))
            expect(rc != 0, "%s %s: a moved field fails" % (os.path.basename(mingw), std), out)
    for tmp in moved_copy.__defaults__[0].values():
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


def mutate(text, old, new):
    if text.count(old) != 1:
        raise SystemExit("layout_guard_test: the header no longer has exactly one %r" % old)
    return text.replace(old, new)


def mutations(repo, cc, cxx, python):
    header = open(os.path.join(repo, "plugin_api", "include", "llmhost", "plugin.h")).read()
    cases = [
        ("two fields swapped (llmh_params.top_p, top_k)", "llmh_params.top_",
         lambda t: mutate(t, "    float top_p;", "    int32_t top_k_;")
         .replace("    int32_t top_k;", "    float top_p;", 1).replace("top_k_;", "top_k;")),
        ("a field inserted (llmh_request, before messages)", "llmh_request.",
         lambda t: mutate(t, "    const llmh_message *const *messages;",
                          "    int32_t inserted;\n    const llmh_message *const *messages;")),
        ("a field widened in the tail padding (llmh_tool.strict: int64_t)", "llmh_tool.strict",
         lambda t: mutate(t, "    int32_t strict;              /* nonzero: arguments",
                          "    int64_t strict; /* nonzero: arguments")),
    ]
    tmp = tempfile.mkdtemp(prefix="llmhost-abi-")
    try:
        inc = os.path.join(tmp, "llmhost")
        os.makedirs(inc)
        path = os.path.join(inc, "plugin.h")
        langs = [("C99", [cc, "-x", "c", "-std=c99", "-pedantic"]),
                 ("C11", [cc, "-x", "c", "-std=c11"]),
                 ("C++20", [cxx, "-x", "c++", "-std=c++20"])]
        open(path, "w").write(header)
        for name, cmd in langs:
            rc, out = compile_header(cmd, tmp)
            expect(rc == 0, "the header as it is compiles as %s" % name, out)
        for what, names, change in cases:
            open(path, "w").write(change(header))
            for name, cmd in langs:
                rc, out = compile_header(cmd, tmp)
                # The C99 form's message is the negative array; C11/C++ name the field.
                named = name == "C99" or names in out
                expect(rc != 0 and named, "%s: %s fails to compile%s" %
                       (what, name, "" if name == "C99" else ", naming " + names + "*"), out)

        # Appended into tail padding: sizeof(llmh_tool) stays 48, no pin moves, the build passes;
        # the layout check sees a field the table does not have.
        strict = "    int32_t strict;              /* nonzero: arguments"
        open(path, "w").write(mutate(header, strict, "    int32_t strict;\n    int32_t extra; /*"))
        rc, out = compile_header(langs[0][1], tmp)
        expect(rc == 0, "a field appended into llmh_tool's tail padding still compiles", out)
        tool = os.path.join(repo, "tools", "abi_layout.py")
        fields = os.path.join(tmp, "abi_layout_fields.h")
        exe = os.path.join(tmp, "abi_layout")
        layout = os.path.join(tmp, "layout.txt")
        steps = [[python, tool, "fields", path, fields],
                 [cc, "-std=c99", "-I", tmp, "-o", exe,
                  os.path.join(repo, "tools", "abi_layout.c")],
                 [exe, layout]]
        for s in steps:
            p = subprocess.run(s, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if p.returncode != 0:
                expect(False, "step %s" % " ".join(s), p.stdout)
                return 1
        p = subprocess.run([python, tool, "check", path, layout], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        expect(p.returncode == 1 and "+LLMH_ABI_PIN_FIELD(llmh_tool, extra, 44, 4);" in p.stdout,
               "... but abi_layout.py check fails, showing the missing pin", p.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "targets":
        rc = targets(argv[2], argv[3], argv[4])
    elif len(argv) == 6 and argv[1] == "mutations":
        rc = mutations(argv[2], argv[3], argv[4], argv[5])
    else:
        sys.stderr.write(__doc__)
        return 2
    if failures:
        print("%d check(s) failed" % len(failures))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
