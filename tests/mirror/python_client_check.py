"""Python huggingface_hub against a running llmhost mirror (run by test_python_interop.cpp).

argv: <mirror root> <cache dir>; HF_ENDPOINT points at the mirror, HF_TOKEN holds the token granted
org/private (never on the command line). Exits non-zero with a message on the first mismatch.
"""
import os
import sys

from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, EntryNotFoundError

root, cache = sys.argv[1], sys.argv[2]


def same_tree(snapshot, source):
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name == ".mirror.json":
                continue
            src = os.path.join(dirpath, name)
            rel = os.path.relpath(src, source)
            got = os.path.join(snapshot, rel)
            with open(src, "rb") as a, open(got, "rb") as b:
                if a.read() != b.read():
                    sys.exit(f"content differs: {rel}")


snap = snapshot_download("org/tiny", cache_dir=cache)
same_tree(snap, os.path.join(root, "org", "tiny"))
snap = snapshot_download("org/private", cache_dir=cache)  # HF_TOKEN grants it
same_tree(snap, os.path.join(root, "org", "private"))
snap = snapshot_download("org/data", repo_type="dataset", cache_dir=cache)
same_tree(snap, os.path.join(root, "datasets", "org", "data"))

# A fresh cache: with the file cached, hf_hub_download would fall back to it instead of raising.
fresh = cache + "-fresh"
for call, expected in [
    (lambda: hf_hub_download("org/gated", "config.json", cache_dir=fresh), GatedRepoError),
    (lambda: hf_hub_download("org/private", "config.json", cache_dir=fresh, token=False), RepositoryNotFoundError),
    (lambda: hf_hub_download("org/tiny", "missing.txt", cache_dir=fresh), EntryNotFoundError),
]:
    try:
        call()
        sys.exit(f"expected {expected.__name__}")
    except expected:
        pass
# The LFS file went through the 302 to the blob URL and is stored under its sha256.
blobs = os.listdir(os.path.join(cache, "models--org--tiny", "blobs"))
if not any(len(b) == 64 for b in blobs):
    sys.exit(f"no sha256-named blob in {blobs}")
print("huggingface_hub downloaded from the mirror and raised the Hub's errors")
