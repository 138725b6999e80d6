#!/bin/sh
# `llmhost grammar check` with the real Llama-3.1 tokenizer (128k vocabulary, the one MaskBench
# uses): two valid instances and one invalid, walked as written. Skips (77) when the tokenizer
# package is not installed (tests/node: npm ci).
# Usage: grammar_check_llama.sh <llmhost binary> <tokenizer.json>
set -u
llmhost=$1 tokenizer=$2
[ -f "$tokenizer" ] || { echo "skip: $tokenizer not found (tests/node: npm ci)"; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $1"; printf '%s\n' "$out"; exit 1; }

cat > "$dir/person.json" <<'JSON'
{"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
 "age": {"type": "integer", "minimum": 0, "maximum": 150},
 "email": {"type": "string", "format": "email"}},
 "required": ["name", "age"], "additionalProperties": false}
JSON
out=$(printf '%s\n' \
  '{"name": "Ada Lovelace", "age": 36, "email": "ada@example.org"}' \
  '{"name":"Linus","age":54}' \
  '{"name": "Grace", "age": 200}' |
  HOME="$dir" "$llmhost" --no-default-plugin-dirs grammar check --schema "$dir/person.json" --tokenizer "$tokenizer")
rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc, expected 1 (one instance rejected)"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || fail "expected a compile line and 3 instance lines"
printf '%s\n' "$out" | sed -n 1p | grep -q '"vocab_size":128256' || fail "compile line"
printf '%s\n' "$out" | sed -n 2p | grep -q '^{"accepted":true,"rejected_at_token":null,' || fail "line 1 not accepted"
printf '%s\n' "$out" | sed -n 3p | grep -q '^{"accepted":true,"rejected_at_token":null,' || fail "line 2 not accepted"
printf '%s\n' "$out" | sed -n 4p | grep -q '^{"accepted":false,"rejected_at_token":[0-9]' || fail "line 3 not rejected"
printf '%s\n' "$out"
echo "ok: 2 valid accepted, 1 invalid rejected with the Llama-3.1 tokenizer"
