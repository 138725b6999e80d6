#!/usr/bin/env bash
# The main job end to end, narrated: build llmhost, configure a provider in a config file,
# generate through it, then swap the provider live (rewrite the config, SIGHUP the running
# `llmhost chat`) and show the new instance answering in the same session.
# For now the provider is the echo example plugin; later issues extend this to real models.
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "dependencies (scripts/deps.sh)"
bash scripts/deps.sh
# BUILD_DIR: where to build (default build/, shared with scripts/test.sh). Only what the demo runs
# is built, so it is quick even on a fresh machine.
build=${BUILD_DIR:-build}
say "build ($build/: the llmhost CLI and the echo plugin)"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target llmhost_cli llmhost_plugin_echo | tail -n 1

llmhost=$PWD/$build/bin/llmhost
tmp=$(mktemp -d)
chat_pid=""
cleanup() {
  [ -n "$chat_pid" ] && kill "$chat_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cfg=$tmp/llmhost.json
write_config() { # $1 = the echo provider's prefix
  cat >"$cfg" <<JSON
{
  "default_provider": "echo",
  "providers": {
    "echo": { "plugin": "echo", "config": { "prefix": "$1" } }
  }
}
JSON
}

say "a config file naming one provider (echo plugin, prefix 'v1: ')"
write_config "v1: "
cat "$cfg"

say "plugins found next to the executable"
run "$llmhost" --config "$cfg" plugins
say "providers configured"
run "$llmhost" --config "$cfg" providers
say "generate: tokens stream to stdout"
run "$llmhost" --config "$cfg" generate "Hello from llmhost"
say "generate from stdin"
echo "piped prompt works too" | { printf '$ echo "piped prompt works too" | llmhost generate\n'; "$llmhost" --config "$cfg" generate; }

say "live swap: one chat session, the provider is replaced between two turns"
mkfifo "$tmp/in"
"$llmhost" --config "$cfg" chat <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
chat_pid=$!
exec 3>"$tmp/in" # keep the chat's stdin open between turns
wait_for() { # $1 = file, $2 = text; up to 10 s
  for _ in $(seq 100); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: timed out waiting for '$2' in $1" >&2; cat "$tmp/err" >&2; exit 1
}
echo "user> first question"
echo "first question" >&3
wait_for "$tmp/out" "v1: "
echo "assistant> $(tail -n 1 "$tmp/out")"

say "rewrite the config (prefix 'v2: ') and send SIGHUP to the running chat (pid $chat_pid)"
write_config "v2: "
kill -HUP "$chat_pid"
wait_for "$tmp/err" "reloaded"
echo "chat said on stderr: $(grep -F reloaded "$tmp/err" | tail -n 1)"
echo "user> second question"
echo "second question" >&3
wait_for "$tmp/out" "v2: "
echo "assistant> $(tail -n 1 "$tmp/out")"
echo "/exit" >&3
exec 3>&-
wait "$chat_pid"
chat_pid=""

say "done: the same session answered first with the old provider instance, then with the new one"
