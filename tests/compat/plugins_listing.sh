#!/bin/sh
# `llmhost plugins` over the compat plugins: the ABI 2.0 one is listed as loaded, the ABI 1.2
# ones as FAILED [abi_mismatch] with both versions named, and the exit code says a plugin failed.
# Usage: plugins_listing.sh <llmhost> <compat plugin dir> [<file prefix> <file suffix>]
# The prefix and suffix default to Linux's lib and .so; on Windows ("" and .dll) $LLMHOST_RUNNER
# is wine, which runs llmhost.exe.
llmhost=$1
dir=$2
prefix=${3-lib}
suffix=${4-.so}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
# Under wine a path without a drive letter is on the current drive: name Z:, the Unix root.
[ -n "$LLMHOST_RUNNER" ] && cache_arg=Z:$cache || cache_arg=$cache
out=$(LLMHOST_CACHE_DIR=$cache_arg $LLMHOST_RUNNER "$llmhost" --plugin-dir "$dir" --no-default-plugin-dirs plugins 2>&1)
rc=$?
printf '%s\n' "$out"
fail() { echo "FAIL: $1"; exit 1; }
[ "$rc" -eq 7 ] || fail "exit code $rc, expected 7 (a plugin failed to load)"
printf '%s\n' "$out" | grep -Eq '^v20 +2\.0\.0 +2\.0 ' || fail "the ABI 2.0 plugin is not listed as loaded"
for name in legacy legacy_strict; do
  printf '%s\n' "$out" | grep -Eq "FAILED .*[/\\]${prefix}llmhost_${name}\\${suffix} \[abi_mismatch\]" ||
    fail "$name not FAILED [abi_mismatch]"
done
printf '%s\n' "$out" | grep -Eq "ABI 1\.2, but this host speaks ABI 2\.[0-9]+ " || fail "both versions are not named"
echo "ok"
