#!/bin/sh
# `llmhost plugins` over the compat plugins: the ABI 2.0 one is listed as loaded, the ABI 1.2
# ones as FAILED [abi_mismatch] with both versions named, and the exit code says a plugin failed.
# Usage: plugins_listing.sh <llmhost> <compat plugin dir>
llmhost=$1
dir=$2
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
out=$(LLMHOST_CACHE_DIR=$cache "$llmhost" --plugin-dir "$dir" --no-default-plugin-dirs plugins 2>&1)
rc=$?
printf '%s\n' "$out"
fail() { echo "FAIL: $1"; exit 1; }
[ "$rc" -eq 7 ] || fail "exit code $rc, expected 7 (a plugin failed to load)"
printf '%s\n' "$out" | grep -Eq '^v20 +2\.0\.0 +2\.0 ' || fail "the ABI 2.0 plugin is not listed as loaded"
printf '%s\n' "$out" | grep -q "FAILED .*/libllmhost_legacy.so \[abi_mismatch\]" || fail "legacy not FAILED [abi_mismatch]"
printf '%s\n' "$out" | grep -q "FAILED .*/libllmhost_legacy_strict.so \[abi_mismatch\]" || fail "legacy_strict not FAILED [abi_mismatch]"
printf '%s\n' "$out" | grep -Eq "ABI 1\.2, but this host speaks ABI 2\.[0-9]+ " || fail "both versions are not named"
echo "ok"
