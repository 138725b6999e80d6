#!/bin/bash
# `llmhost mirror` end to end: prints HF_ENDPOINT, serves, logs one line per request without the
# token value, and exits 0 on SIGTERM. Usage: cli_mirror_test.sh <path to llmhost>
set -u
LLMHOST=$1
DIR=$(mktemp -d /tmp/llmhost-cli-mirror-XXXXXX)
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
fail() { echo "FAIL: $*"; echo "--- stderr:"; cat "$DIR/err"; exit 1; }

mkdir -p "$DIR/root/org/m"
printf '{"a": 1}' > "$DIR/root/org/m/config.json"
printf '{"access": "private"}' > "$DIR/root/org/m/.mirror.json"
SECRET=hf_cli_test_secret_value_31337
printf '{"tokens": [{"name": "ops", "token": "%s", "repos": ["org/*"]}]}' "$SECRET" > "$DIR/tokens.json"

"$LLMHOST" mirror --root "$DIR/root" --port 0 --tokens "$DIR/tokens.json" > "$DIR/out" 2> "$DIR/err" &
PID=$!
for _ in $(seq 1 100); do grep -q HF_ENDPOINT "$DIR/out" && break; sleep 0.1; done
EP=$(sed -n 's/^export HF_ENDPOINT=//p' "$DIR/out")
[[ $EP =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "no 'export HF_ENDPOINT=http://127.0.0.1:PORT' line on stdout"

code=$(curl -s -o /dev/null -w '%{http_code}' "$EP/org/m/resolve/main/config.json")
[[ $code == 401 ]] || fail "private repo without token: expected 401, got $code"
body=$(curl -s -H "Authorization: Bearer $SECRET" "$EP/org/m/resolve/main/config.json")
[[ $body == '{"a": 1}' ]] || fail "private repo with token: got '$body'"

kill -TERM $PID
wait $PID
rc=$?
[[ $rc == 0 ]] || fail "exit status $rc after SIGTERM"
grep -q 'GET /org/m/resolve/main/config.json 200 8 B .*\[token ops\]' "$DIR/err" || fail "no request log line"
grep -q "$SECRET" "$DIR/err" "$DIR/out" && fail "the token value appears in the output"
echo "llmhost mirror CLI: 1 passed, 0 failed"
