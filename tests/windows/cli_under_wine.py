#!/usr/bin/env python3
"""The Windows CLI (llmhost.exe) driven under wine from the Linux side: one case per ctest test.

    cli_under_wine.py CASE --wine WINE --exe LLMHOST_EXE --plugins DIR --work DIR [--legacy DLL]

Every path given is a Unix path; the program sees it as Z:<path> (wine maps / to Z:). Each case
runs in a fresh directory under --work, passes --config explicitly (except the case that checks
the %APPDATA% search), and exits 0 (pass), 1 (fail, saying what differed) or 77 (skip, saying why).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

# Not ASCII, not in any single ANSI code page: a path that survives only if every step (argv,
# environment, JSON config, LoadLibrary, output) keeps it in UTF-16/UTF-8.
UNICODE_DIR = "plugins-Ünïcødé-日本語"


class Failure(Exception):
    pass


def check(cond, what, output=""):
    if not cond:
        raise Failure(what + ("\n--- output ---\n" + output if output else ""))


def text(data):
    """Output as text: UTF-8, and the C runtime's text mode writes "\r\n" for "\n" on Windows."""
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def win(path):
    """The Windows program's view of a Unix path."""
    return "Z:" + os.path.abspath(path)


class Cli:
    def __init__(self, args, work):
        self.wine, self.exe, self.work = args.wine, args.exe, work
        self.env = dict(os.environ)
        # Nothing from the caller's environment may choose a config or plugin directory.
        for v in ("LLMHOST_CONFIG", "LLMHOST_PLUGIN_PATH", "LLM_PROVIDER", "HF_TOKEN",
                  "OPENAI_API_KEY"):
            self.env.pop(v, None)
        # Wine converts Unix argv, environment and file names with the Unix locale's code set.
        self.env["LANG"] = "C.UTF-8"

    def run(self, *argv, env=None, stdin=None, timeout=90):
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.run([self.wine, self.exe, *argv], cwd=self.work, env=e, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, text(p.stdout), text(p.stderr)

    def popen(self, *argv):
        return subprocess.Popen([self.wine, self.exe, *argv], cwd=self.work, env=self.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def host_abi(self):
        rc, out, err = self.run("--version")
        m = re.search(r"plugin ABI (\d+)\.(\d+)", out)
        check(rc == 0 and m, "llmhost --version names the plugin ABI", out + err)
        return m.group(0)[len("plugin ABI "):]


def write_config(path, entry, default="e", plugin_dirs=None):
    doc = {"default_provider": default, "providers": {default: entry}}
    if plugin_dirs is not None:
        doc["plugin_dirs"] = plugin_dirs
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return path


def loaded_echo(listing):
    """The echo entry that `plugins --json` reports as loaded and not shadowed."""
    for p in listing:
        if p.get("name") == "echo" and p.get("loaded") and not p.get("shadowed_by"):
            return p
    return None


def case_plugins(cli, args):
    """`llmhost plugins` lists the echo plugin as llmhost_echo.dll, with its ABI and path."""
    abi = cli.host_abi()
    common = ("--no-default-plugin-dirs", "--plugin-dir", win(args.plugins))
    rc, out, err = cli.run(*common, "plugins")
    check(rc == 0, f"plugins exits 0 (got {rc})", out + err)
    row = [l for l in out.splitlines() if l.startswith("echo ")]
    check(len(row) == 1, "one table row for echo", out)
    check(row[0].rstrip().endswith("\\llmhost_echo.dll"), "the row's path ends in \\llmhost_echo.dll", out)
    check(f" {abi} " in row[0], f"the row shows ABI {abi}", out)
    check("searched: " + win(args.plugins).replace("/", "\\") in err.replace("/", "\\"),
          "the directories searched go to stderr", err)
    rc, out, err = cli.run(*common, "plugins", "--json")
    check(rc == 0, f"plugins --json exits 0 (got {rc})", out + err)
    echo = loaded_echo(json.loads(out))
    check(echo is not None, "plugins --json has echo, loaded", out)
    check(os.path.basename(echo["path"].replace("\\", "/")) == "llmhost_echo.dll",
          "the file is llmhost_echo.dll", out)
    check(echo["abi"] == abi, f"its ABI is the host's ({abi})", out)
    print(out)


def case_generate(cli, args):
    """`llmhost generate` streams: pieces reach stdout one by one while the answer is made."""
    cfg = write_config(os.path.join(cli.work, "llmhost.json"),
                       {"plugin": "echo", "config": {"delay_ms": 150}})
    words = "streamed from a Windows program under wine"
    argv = ("--config", win(cfg), "--no-default-plugin-dirs", "--plugin-dir", win(args.plugins),
            "generate", words)
    p = cli.popen(*argv)
    p.stdin.close()
    start, arrivals, out = time.monotonic(), [], b""
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        arrivals.append(time.monotonic() - start)
        out += chunk
    err = text(p.stderr.read())
    rc = p.wait(timeout=60)
    answer = text(out)
    check(rc == 0, f"generate exits 0 (got {rc})", answer + err)
    check(answer == words + "\n", "stdout is the answer and a newline", answer + err)
    # 7 words, 150 ms apart: a program that printed only at the end would deliver one chunk.
    check(len(arrivals) >= 3, f"the answer arrives in pieces (got {len(arrivals)} reads)", answer)
    check(arrivals[-1] - arrivals[0] >= 0.45,
          f"the first piece arrives well before the last ({arrivals[0]:.2f} s vs {arrivals[-1]:.2f} s)")
    print(f"{len(arrivals)} reads between {arrivals[0]:.2f} s and {arrivals[-1]:.2f} s: {answer!r}")


def case_abi_mismatch(cli, args):
    """A plugin built for ABI 1.2 is refused by name, both ABIs named; the host keeps working."""
    if not args.legacy:
        print("skipped: the ABI 1.2 fixture (tests/compat) is not part of this build")
        sys.exit(77)
    abi = cli.host_abi()
    legacy_dir = os.path.join(cli.work, "abi12")
    os.makedirs(legacy_dir)
    shutil.copy(args.legacy, os.path.join(legacy_dir, "llmhost_legacy.dll"))
    rc, out, err = cli.run("--no-default-plugin-dirs", "--plugin-dir", win(legacy_dir),
                           "--plugin-dir", win(args.plugins), "plugins")
    both = out + err
    check(rc == 7, f"plugins exits 7 when a file failed (got {rc})", both)
    check(re.search(r"FAILED .*llmhost_legacy\.dll", both), "the file is listed as FAILED", both)
    check("ABI 1.2" in both and f"ABI {abi}" in both, f"the error names ABI 1.2 and ABI {abi}", both)
    check(re.search(r"^echo ", out, re.M), "echo is still listed, loaded", out)
    # Used as a provider: the same refusal, exit 7 (plugin).
    cfg = write_config(os.path.join(cli.work, "llmhost.json"), {"plugin": "legacy"})
    rc, out, err = cli.run("--config", win(cfg), "--no-default-plugin-dirs", "--plugin-dir",
                           win(legacy_dir), "generate", "hello")
    check(rc == 7, f"generate through it exits 7 (got {rc})", out + err)
    check("legacy" in err and "ABI 1.2" in err, "the error names the plugin and its ABI", err)
    print(both)


def case_chat_reload(cli, args):
    """Live swap in `llmhost chat`: /reload re-reads the changed config between turns."""
    cfg = os.path.join(cli.work, "llmhost.json")
    write_config(cfg, {"plugin": "echo", "config": {"prefix": "[one] "}})
    p = cli.popen("--config", win(cfg), "--no-default-plugin-dirs", "--plugin-dir",
                  win(args.plugins), "chat")
    p.stdin.write(b"first turn\n")
    p.stdin.flush()
    # Wait for the first answer before changing the file: the swap happens between turns.
    seen, deadline = b"", time.monotonic() + 60
    while b"first turn" not in seen and time.monotonic() < deadline:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    check(b"[one] " in seen, "the first answer comes from the first config", seen.decode())
    write_config(cfg, {"plugin": "echo", "config": {"prefix": "[two] "}})
    rest, err = p.communicate(b"/reload\nsecond turn\n/exit\n", timeout=60)
    out, err = text(seen + rest), text(err)
    check(p.returncode == 0, f"chat exits 0 after /exit (got {p.returncode})", out + err)
    check("configuration reloaded" in err, "stderr says the configuration was reloaded", err)
    check(re.search(r"\[two\] .*second turn", out), "the second answer comes from the new config", out)
    print(out)


def case_config(cli, args):
    """`config` shows the file it read from %APPDATA%\\llmhost\\config.json, and `--config`."""
    # Wine sets %APPDATA% itself (the prefix's user folder); ask it where that is.
    rc, out, err = cli.run("config", "show")
    check(rc == 0, f"config show exits 0 without a file (got {rc})", out + err)
    prefix = os.environ.get("WINEPREFIX")
    check(prefix, "WINEPREFIX is set (tests/fixtures/wine.cmake)")
    appdata = os.path.join(prefix, "drive_c", "users", os.environ.get("USER") or
                           __import__("getpass").getuser(), "AppData", "Roaming")
    check(os.path.isdir(appdata), f"wine's %APPDATA% is {appdata}")
    target = os.path.join(appdata, "llmhost", "config.json")
    check(not os.path.exists(target), f"no config is left over in {target}")
    try:
        # No plugin_dirs: echo is found next to llmhost.exe (../lib/llmhost/plugins), and other
        # programs started meanwhile (tests outside this lock) see no extra directory.
        write_config(target, {"plugin": "echo", "config": {"prefix": "appdata "}}, default="fromappdata")
        rc, out, err = cli.run("config", "show")
        check(rc == 0, f"config show exits 0 (got {rc})", out + err)
        check("fromappdata" in out, "the provider of %APPDATA%\\llmhost\\config.json is shown", out + err)
        check(re.search(r"AppData\\Roaming\\llmhost\\config\.json", out + err),
              "the file is named by its Windows path", out + err)
        rc, out, err = cli.run("generate", "from", "appdata")
        check(rc == 0 and out == "appdata from appdata\n",
              "generate uses the %APPDATA% config", out + err)
        print(out)
    finally:
        if os.path.exists(target):
            os.remove(target)
    cfg = write_config(os.path.join(cli.work, "given.json"), {"plugin": "echo"}, default="given")
    rc, out, err = cli.run("--config", win(cfg), "config", "show")
    check(rc == 0 and "given" in out, "--config is shown instead", out + err)


def case_doctor(cli, args):
    """`doctor` runs on Windows: config, plugins, the HF cache under %USERPROFILE%, exit 0."""
    cfg = write_config(os.path.join(cli.work, "llmhost.json"), {"plugin": "echo"})
    rc, out, err = cli.run("--config", win(cfg), "--no-default-plugin-dirs", "--plugin-dir",
                           win(args.plugins), "doctor")
    both = out + err
    check(rc == 0, f"doctor exits 0 with a good config (got {rc})", both)
    check(re.search(r"ok +echo .*llmhost_echo\.dll", both), "doctor lists the echo plugin as ok", both)
    check(re.search(r"\\\.cache\\huggingface\\hub", both),
          "the Hugging Face cache is %USERPROFILE%\\.cache\\huggingface\\hub", both)
    check("llmhost.json" in both, "doctor names the config file it read", both)
    # A broken config is a problem, named with its line and column; exit 1 (a finding).
    bad = os.path.join(cli.work, "bad.json")
    with open(bad, "w") as f:
        f.write('{"providers": {"e": {"plugin": "echo",}}}')
    rc, out, err = cli.run("--config", win(bad), "doctor")
    check(rc != 0, f"doctor fails on a broken config (got {rc})", out + err)
    check(re.search(r"bad\.json:1:\d+", out + err), "the error points at bad.json:line:column", out + err)
    print(both)


def case_unicode_dir(cli, args):
    """A plugin in a directory whose name is not ASCII loads, by every way of naming it."""
    d = os.path.join(cli.work, UNICODE_DIR)
    os.makedirs(d)
    shutil.copy(os.path.join(args.plugins, "llmhost_echo.dll"), d)
    # The config file sits in that directory too.
    cfg = write_config(os.path.join(d, "llmhost.json"), {"plugin": "echo", "config": {"prefix": "ü "}})
    ways = {
        "--plugin-dir": (("--no-default-plugin-dirs", "--plugin-dir", win(d)), {}),
        "$LLMHOST_PLUGIN_PATH": ((), {"LLMHOST_PLUGIN_PATH": win(d)}),
        "config plugin_dirs": (("--no-default-plugin-dirs",), {}),
    }
    for way, (extra, env) in ways.items():
        config = cfg
        if way == "config plugin_dirs":
            config = write_config(os.path.join(d, "with_dirs.json"),
                                  {"plugin": "echo", "config": {"prefix": "ü "}}, plugin_dirs=[win(d)])
        rc, out, err = cli.run("--config", win(config), *extra, "plugins", "--json", env=env)
        check(rc == 0, f"{way}: plugins exits 0 (got {rc})", out + err)
        echo = loaded_echo(json.loads(out))
        check(echo is not None and UNICODE_DIR in echo["path"],
              f"{way}: echo is loaded from {UNICODE_DIR}", out)
        rc, out, err = cli.run("--config", win(config), *extra, "generate", "héllo wörld", env=env)
        check(rc == 0 and out == "ü héllo wörld\n", f"{way}: generate answers through it", out + err)
        print(f"{way}: {echo['path']} -> {out.strip()}")


CASES = {
    "plugins": case_plugins,
    "generate": case_generate,
    "abi_mismatch": case_abi_mismatch,
    "chat_reload": case_chat_reload,
    "config": case_config,
    "doctor": case_doctor,
    "unicode_dir": case_unicode_dir,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--wine", required=True)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--legacy", default="")
    args = ap.parse_args()
    if not args.wine or not shutil.which(args.wine):
        print("skipped: wine64 is not installed (bash scripts/deps.sh installs it)")
        return 77
    work = os.path.join(args.work, args.case)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        CASES[args.case](Cli(args, work), args)
    except Failure as e:
        print(f"FAILED ({args.case}): {e}")
        return 1
    print(f"ok ({args.case})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
