"""The Python huggingface_hub side of hf_cache_interop.sh. The cache is HF_HUB_CACHE; the last
argument is the mirror's source folder of repos (<root>/<org>/<name>/...), the ground truth.

  read <paths file> <root>           offline: snapshot_download / hf_hub_download / scan_cache_dir
                                     on a cache llmhost wrote; <paths file>: "repo snapshot-path" lines
  download <paths file> REPO... <root>  online (HF_ENDPOINT, HF_TOKEN): fill the cache, write the paths
  compare <other cache> <root>       the two cache trees must have the same shape

Exits non-zero with the first mismatch on stderr (never a token value: none is printed).
"""
import hashlib
import os
import stat
import sys

from huggingface_hub import hf_hub_download, scan_cache_dir, snapshot_download

CACHE = os.environ["HF_HUB_CACHE"]


def die(message):
    sys.exit(f"{message}")


def source_files(root, repo):
    """{relative path: bytes} of a repo's source folder (the mirror hides dot files)."""
    base = os.path.join(root, repo)
    files = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, base)] = f.read()
    return files


def expected_etag(path, data):
    """The blob name: sha256 for an LFS file (the mirror serves *.safetensors as LFS), else the git blob sha1."""
    if path.endswith(".safetensors"):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def read_paths(paths_file):
    with open(paths_file) as f:
        return [tuple(line.split(" ", 1)) for line in f.read().splitlines() if line]


def read_ours(paths_file, root):
    """Our cache, read offline by huggingface_hub."""
    pairs = [(repo, path.strip()) for repo, path in read_paths(paths_file)]
    scan = scan_cache_dir()
    if scan.warnings:
        die(f"scan_cache_dir warnings: {[str(w) for w in scan.warnings]}")
    scanned = {r.repo_id: r for r in scan.repos}
    for repo, our_path in pairs:
        files = source_files(root, repo)
        snap = snapshot_download(repo, local_files_only=True)
        if snap != our_path:
            die(f"{repo}: snapshot_download returned {snap}, llmhost printed {our_path}")
        commit = os.path.basename(snap)
        with open(os.path.join(CACHE, "models--" + repo.replace("/", "--"), "refs", "main"), "rb") as f:
            if f.read() != commit.encode():
                die(f"{repo}: refs/main is not exactly the 40 hex characters of {commit}")
        for rel, data in files.items():
            for where, got in [
                ("snapshot_download", os.path.join(snap, rel)),
                ("hf_hub_download", hf_hub_download(repo, rel, local_files_only=True)),
                ("hf_hub_download(revision=commit)", hf_hub_download(repo, rel, revision=commit, local_files_only=True)),
            ]:
                if got != os.path.join(snap, rel):
                    die(f"{repo}: {where} gave {got} for {rel}")
                with open(got, "rb") as f:
                    if f.read() != data:
                        die(f"{repo}: {rel} read through {where} differs from the source")
        # A subset by pattern goes through the same trees/<commit>.json completeness check.
        if snapshot_download(repo, allow_patterns=["nested/*"], local_files_only=True) != snap:
            die(f"{repo}: snapshot_download(allow_patterns) differs")

        info = scanned.get(repo)
        if info is None:
            die(f"scan_cache_dir does not list {repo}: {sorted(scanned)}")
        if info.repo_type != "model" or info.nb_files != len(files):
            die(f"{repo}: scan_cache_dir type {info.repo_type}, {info.nb_files} files; expected model, {len(files)}")
        blobs = {expected_etag(rel, data): len(data) for rel, data in files.items()}
        if info.size_on_disk != sum(blobs.values()):
            die(f"{repo}: scan_cache_dir size_on_disk {info.size_on_disk}, expected {sum(blobs.values())}")
        if len(info.revisions) != 1:
            die(f"{repo}: {len(info.revisions)} revisions cached, expected 1")
        rev = next(iter(info.revisions))
        if rev.commit_hash != commit or set(rev.refs) != {"main"} or str(rev.snapshot_path) != snap:
            die(f"{repo}: scan_cache_dir revision {rev.commit_hash} refs {set(rev.refs)} at {rev.snapshot_path}")
        for cf in rev.files:
            rel = os.path.relpath(cf.file_path, snap)
            data = files.get(rel)
            if data is None:
                die(f"{repo}: scan_cache_dir lists {rel}, which the repo does not have")
            if cf.size_on_disk != len(data) or cf.blob_path.name != expected_etag(rel, data):
                die(f"{repo}: {rel} scanned as {cf.size_on_disk} B blob {cf.blob_path.name}")
    print(f"huggingface_hub read {len(pairs)} repos from llmhost's cache offline")


def download(paths_file, repos, root):
    """huggingface_hub fills the cache from the mirror."""
    with open(paths_file, "w") as out:
        for repo in repos:
            snap = snapshot_download(repo)
            for rel, data in source_files(root, repo).items():
                with open(os.path.join(snap, rel), "rb") as f:
                    if f.read() != data:
                        die(f"{repo}: huggingface_hub downloaded a different {rel}")
            out.write(f"{repo} {snap}\n")


def shape(cache):
    """{relative path: description} of every entry of a cache tree."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(cache):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, cache)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = ("symlink", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                entries[rel] = ("dir",)
            else:
                with open(full, "rb") as f:
                    data = f.read()
                if rel.startswith(".locks" + os.sep):
                    # Only presence and emptiness: huggingface_hub asks filelock for mode 0o664, which
                    # filelock < 3.10 (Debian's 3.9, with the source patched to run on it) cannot apply.
                    entries[rel] = ("lock", len(data))
                else:
                    entries[rel] = ("file", oct(stat.S_IMODE(st.st_mode)), len(data), hashlib.sha256(data).hexdigest())
    return entries


def compare(other, root):
    mine, theirs = shape(CACHE), shape(other)
    differences, untracked_trees = [], []
    for rel in sorted(set(mine) | set(theirs)):
        a, b = mine.get(rel), theirs.get(rel)
        if a == b:
            continue
        # huggingface_hub >= 1.29 also caches the file list in <repo>/trees/<commit>.json; a client
        # that does not write it still yields a readable cache (huggingface_hub then skips its
        # completeness check). Tolerated only when absent on our side: if written, it must match.
        if a is None and rel.split(os.sep)[1:2] == ["trees"]:
            untracked_trees.append(rel)
            continue
        differences.append(f"  {rel}: llmhost {a or 'absent'} / huggingface_hub {b or 'absent'}")
    if untracked_trees:
        print("note: llmhost wrote no trees/ listing: " + ", ".join(untracked_trees))
    if differences:
        die("the caches differ:\n" + "\n".join(differences))
    for rel, e in mine.items():
        mode = stat.S_IMODE(os.lstat(os.path.join(CACHE, rel)).st_mode)
        if e[0] == "lock" and mode != 0o664:
            die(f"{rel}: mode {oct(mode)}, huggingface_hub's locks are 0o664 (filelock >= 3.10)")
    links = [rel for rel, e in mine.items() if e[0] == "symlink"]
    for rel in links:
        target = mine[rel][1]
        if os.path.isabs(target) or not os.path.isfile(os.path.join(CACHE, rel)):
            die(f"{rel} -> {target} is not a relative link to a blob")
    print(f"the caches have the same {len(mine)} entries ({len(links)} symlinks)")


def main():
    mode, args, root = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
    if mode == "read":
        read_ours(args[0], root)
    elif mode == "download":
        download(args[0], args[1:], root)
    elif mode == "compare":
        compare(args[0], root)
    else:
        die(f"unknown mode {mode}")


main()
