#!/usr/bin/env python3
"""Checks tests/fixtures/maskbench/subset.jsonl against what make_subset.py promises.

- 300 schemas, the per-split quotas of make_subset.py, unique ids, each with at least one test;
- every instance `text` is exactly Python's json.dumps(data, indent=None, ensure_ascii=False) of
  itself (catches a fixture written with another serializer, e.g. compact separators or \\u
  escapes, which would change the token sequences);
- with MASKBENCH_SOURCE set to a MaskBench data/ directory: make_subset.py regenerates the file
  byte for byte (determinism). Without it that part is skipped, the rest still runs.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
fixture_dir = os.path.join(here, "..", "fixtures", "maskbench")

# Load the selection script by path (it is not a package), to share its QUOTAS and split_of.
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("maskbench_select", os.path.join(fixture_dir, "make_subset.py"))
selector = importlib.util.module_from_spec(spec)
spec.loader.exec_module(selector)


def main() -> int:
    path = os.path.join(fixture_dir, "subset.jsonl")
    errors = []
    counts = collections.Counter()
    ids = set()
    instances = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            if rec["id"] in ids:
                errors.append(f"line {n}: duplicate id {rec['id']}")
            ids.add(rec["id"])
            if selector.split_of(rec["id"]) != rec["split"]:
                errors.append(f"line {n}: split {rec['split']} does not match id {rec['id']}")
            counts[rec["split"]] += 1
            if not rec["tests"]:
                errors.append(f"line {n}: no tests")
            for i, t in enumerate(rec["tests"]):
                instances += 1
                again = json.dumps(json.loads(t["text"]), indent=None, ensure_ascii=False)
                if again != t["text"]:
                    errors.append(f"line {n} test {i}: text is not json.dumps(..., ensure_ascii=False) output")
    if dict(counts) != selector.QUOTAS:
        errors.append(f"split counts {dict(counts)} != quotas {selector.QUOTAS}")
    source = os.environ.get("MASKBENCH_SOURCE")
    if source:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "subset.jsonl")
            subprocess.run([sys.executable, os.path.join(fixture_dir, "make_subset.py"), "--source", source,
                            "--out", out], check=True)
            if open(out, "rb").read() != open(path, "rb").read():
                errors.append("make_subset.py does not regenerate subset.jsonl byte for byte")
        print("regenerated from", source, "and compared")
    else:
        print("MASKBENCH_SOURCE not set: regeneration not checked")
    for e in errors[:20]:
        print("FAIL:", e)
    print(f"{len(ids)} schemas, {instances} instances, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
