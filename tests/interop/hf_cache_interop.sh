#!/bin/bash
# Cache interop with Python huggingface_hub, both ways, against `llmhost mirror` on 127.0.0.1:
#   1. `llmhost download` fills cache A; huggingface_hub reads it offline (snapshot_download,
#      hf_hub_download, scan_cache_dir) and gets the same paths, bytes, sizes and revisions.
#   2. huggingface_hub fills cache B; `HF_HUB_OFFLINE=1 llmhost download` resolves the same snapshot
#      paths and bytes without one request to the mirror.
#   3. Caches A and B have the same shape: files, symlink targets, refs, blob names, trees, locks.
# Usage: hf_cache_interop.sh <path to llmhost>. Exit 77 (skipped) when python3 cannot import
# huggingface_hub; LLMHOST_HF_PYTHONPATH is prepended to PYTHONPATH for it.
set -u
LLMHOST=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${LLMHOST_HF_PYTHON:-python3}
export PYTHONPATH="${LLMHOST_HF_PYTHONPATH:+$LLMHOST_HF_PYTHONPATH${PYTHONPATH:+:}}${PYTHONPATH:-}"
if ! "$PY" -c 'import huggingface_hub' >/dev/null 2>&1; then
    echo "SKIPPED: $PY cannot import huggingface_hub (install it, or set LLMHOST_HF_PYTHONPATH to its src/ folder)"
    exit 77
fi

DIR=$(mktemp -d /tmp/llmhost-interop-XXXXXX)
MIRROR_PID=
cleanup() { [[ -n $MIRROR_PID ]] && kill "$MIRROR_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$DIR"/*.err; do [[ -s $f ]] && { echo "--- $(basename "$f"):"; tail -20 "$f"; }; done
    exit 1
}

# Nothing of this machine's configuration leaks in: own HOME, config and cache folders.
export HOME=$DIR/home XDG_CONFIG_HOME=$DIR/home/.config XDG_CACHE_HOME=$DIR/home/.cache
mkdir -p "$HOME"
unset HF_HOME HF_HUB_CACHE HUGGINGFACE_HUB_CACHE HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_TOKEN_PATH HF_HUB_OFFLINE \
      TRANSFORMERS_OFFLINE HF_HUB_DISABLE_SYMLINKS HF_ENDPOINT LLMHOST_CONFIG
export HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_XET=1 NO_PROXY='*' no_proxy='*'

# The repos: a public one and a private one, each with a regular file, an LFS *.safetensors
# (sha256 etag, served through the 302) and files in nested folders.
ROOT=$DIR/repos
for repo in org/public org/private; do
    mkdir -p "$ROOT/$repo/nested/deeper"
    printf '{"model_type": "interop", "repo": "%s"}' "$repo" > "$ROOT/$repo/config.json"
    head -c $((3 * 1024 * 1024 + 17)) /dev/urandom > "$ROOT/$repo/model.safetensors"
    printf 'first level\n' > "$ROOT/$repo/nested/notes.txt"
    head -c 4099 /dev/urandom > "$ROOT/$repo/nested/deeper/weights.safetensors"
    printf 'same bytes in both repos\n' > "$ROOT/$repo/nested/deeper/shared.txt"
done
printf '{"access": "private"}' > "$ROOT/org/private/.mirror.json"
SECRET=hf_interop_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '{"tokens": [{"name": "interop", "token": "%s", "repos": ["org/private"]}]}' "$SECRET" > "$DIR/tokens.json"
chmod 600 "$DIR/tokens.json"

"$LLMHOST" mirror --root "$ROOT" --host 127.0.0.1 --port 0 --tokens "$DIR/tokens.json" \
    > "$DIR/mirror.out" 2> "$DIR/mirror.err" &
MIRROR_PID=$!
for _ in $(seq 1 100); do grep -q HF_ENDPOINT "$DIR/mirror.out" && break; sleep 0.1; done
EP=$(sed -n 's/^export HF_ENDPOINT=//p' "$DIR/mirror.out")
[[ $EP =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "the mirror printed no 'export HF_ENDPOINT=http://127.0.0.1:PORT'"
export HF_ENDPOINT=$EP
requests() { grep -c '^mirror: ' "$DIR/mirror.err"; }

# The token reaches children through the environment only, never argv.
with_token() { HF_TOKEN=$SECRET "$@"; }

check() { # check <cache> <mode> [args...]: the Python side (hf_cache_check.py)
    local cache=$1; shift
    HF_HUB_CACHE=$cache "$PY" "$HERE/hf_cache_check.py" "$@" "$ROOT" 2> "$DIR/python.err" ||
        fail "python: $(tail -3 "$DIR/python.err")"
}

# --- 1. our client writes, huggingface_hub reads offline -----------------------------------------
OURS=$DIR/cache-ours
for repo in org/public org/private; do
    path=$(with_token env HF_HUB_CACHE="$OURS" "$LLMHOST" download "$repo" 2> "$DIR/download.err") ||
        fail "llmhost download $repo"
    echo "$repo $path" >> "$DIR/ours.paths"
done
before=$(requests)
HF_HUB_OFFLINE=1 check "$OURS" read "$DIR/ours.paths"
[[ $(requests) == "$before" ]] || fail "huggingface_hub made requests while reading our cache offline"
echo "ok 1: huggingface_hub read llmhost's cache offline (snapshot_download, hf_hub_download, scan_cache_dir)"

# --- 2. huggingface_hub writes, our client reads offline -----------------------------------------
THEIRS=$DIR/cache-theirs
with_token check "$THEIRS" download "$DIR/theirs.paths" org/public org/private
before=$(requests)
while read -r repo expected; do
    got=$(HF_HUB_OFFLINE=1 HF_HUB_CACHE=$THEIRS "$LLMHOST" download "$repo" 2> "$DIR/offline.err") ||
        fail "HF_HUB_OFFLINE=1 llmhost download $repo on huggingface_hub's cache"
    [[ $got == "$expected" ]] || fail "$repo: llmhost resolved $got, huggingface_hub wrote $expected"
    for f in config.json model.safetensors nested/notes.txt nested/deeper/weights.safetensors nested/deeper/shared.txt; do
        cmp -s "$got/$f" "$ROOT/$repo/$f" || fail "$repo: $f read through llmhost differs from the source"
    done
    # A subset by pattern, as `--include` resolves it offline.
    got=$(HF_HUB_OFFLINE=1 HF_HUB_CACHE=$THEIRS "$LLMHOST" download "$repo" --include 'nested/*' 2> "$DIR/offline.err") ||
        fail "HF_HUB_OFFLINE=1 llmhost download $repo --include 'nested/*'"
    [[ $got == "$expected" ]] || fail "$repo --include: llmhost resolved $got, expected $expected"
done < "$DIR/theirs.paths"
[[ $(requests) == "$before" ]] || fail "llmhost made requests in offline mode"
# huggingface_hub's trees/<commit>.json marks a snapshot complete: a missing file must be reported.
cp -a "$THEIRS" "$DIR/cache-broken"
read -r _ snap < "$DIR/theirs.paths"
rm "${snap/$THEIRS/$DIR/cache-broken}/nested/notes.txt"
if HF_HUB_OFFLINE=1 HF_HUB_CACHE=$DIR/cache-broken "$LLMHOST" download org/public > /dev/null 2> "$DIR/broken.err"; then
    fail "llmhost accepted huggingface_hub's snapshot with nested/notes.txt missing"
fi
grep -q 'nested/notes.txt' "$DIR/broken.err" || fail "the incomplete-snapshot error does not name nested/notes.txt"
: > "$DIR/broken.err"
ls_out=$(HF_HUB_CACHE=$THEIRS "$LLMHOST" cache ls --revisions 2> "$DIR/cachels.err") || fail "llmhost cache ls"
for repo in org/public org/private; do
    grep -q "^$repo .*main" <<< "$ls_out" || fail "llmhost cache ls does not list $repo at main: $ls_out"
done
echo "ok 2: llmhost read huggingface_hub's cache offline (same snapshot paths and bytes, no request)"

# --- 3. same shape ---------------------------------------------------------------------------------
check "$OURS" compare "$THEIRS"
echo "ok 3: both cache trees have the same files, modes, symlink targets, refs, blobs and locks"

if grep -rqF "$SECRET" "$DIR"/*.err "$DIR"/*.out "$DIR"/*.paths 2>/dev/null; then fail "the token appears in some output"; fi
echo "huggingface_hub cache interop: 3 passed, 0 failed"
