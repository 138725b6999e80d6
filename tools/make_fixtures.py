#!/usr/bin/env python3
"""Reference fixtures from Hugging Face transformers for every architecture the engine supports.

Run where transformers + torch are installed (the GPU machine has both; CPU is used, fp32):

    python3 tools/make_fixtures.py --tool build/bin/llmhost-tiny-model --out tests/engine/fixtures

For each architecture it writes a tiny random-weight model with our generator (bit-exact, the
spec is stored in the fixture so the C++ test regenerates the same weights), loads it with
transformers' AutoModelForCausalLM (fp32, CPU, eager attention), and records:
  - the logits of a few positions of prompt + continuation (one full forward pass),
  - 32 greedy tokens (argmax of each step, eos ignored, so the engine is compared on all 32).
Output: <out>/transformers_<arch>.json, the same schema as llama2c_llama.json; tests/engine
(llama2c_test.cpp, "reference fixtures") picks up every such file and checks max-abs-diff < 1e-4
and identical tokens. Keep them small: vocab 512, hidden 64. Exit 77 when torch or transformers
is missing (tools/gpu/run-all.sh then reports the step skipped). One architecture that fails (a
transformers version that reads a config differently, say) is reported and the others still run;
the exit status is then 1.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback

SPECS = {
    "llama": {"num_kv_heads": 2},
    "llama3_rope": {"arch": "llama", "num_kv_heads": 2, "rope_scaling": "llama3"},
    "mistral": {"num_kv_heads": 2, "sliding_window": 8},
    "qwen2": {"num_kv_heads": 2},
    "qwen3": {"num_kv_heads": 2, "head_dim": 32},
    "gpt2": {"num_kv_heads": 4},
    "llama_tied": {"arch": "llama", "num_kv_heads": 4, "tie_word_embeddings": True},
}
BASE = {"seed": 20251125, "vocab_size": 512, "hidden_size": 64, "intermediate_size": 172,
        "num_layers": 3, "num_heads": 4, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "dtype": "F32", "eos_token_ids": [2], "bos_token_id": 1}
PROMPT = [1, 45, 300, 7, 128, 9, 511, 64, 3, 250]
POSITIONS = [0, 4, 9, 20, 41]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool", required=True, help="path to the built llmhost-tiny-model")
    ap.add_argument("--out", required=True, help="fixture directory (tests/engine/fixtures)")
    ap.add_argument("--only", nargs="*", help="subset of: " + " ".join(SPECS))
    args = ap.parse_args()
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:  # nothing to compare with: skipped, never an empty success
        print(f"skipped: {e} (make_fixtures.py needs torch and transformers)", file=sys.stderr)
        sys.exit(77)
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(0)
    failed = []
    for name, extra in SPECS.items():
        if args.only and name not in args.only:
            continue
        try:
            write_fixture(name, extra, args, torch, transformers, AutoModelForCausalLM)
        except Exception:  # noqa: BLE001 - report it, go on with the next architecture
            traceback.print_exc()
            print(f"FAILED: {name}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"make_fixtures.py: no fixture for {' '.join(failed)} (tracebacks above)", file=sys.stderr)
        sys.exit(1)


def dtype_kwarg(transformers, dtype):
    # transformers 4.56 renamed from_pretrained's torch_dtype to dtype (the old name warns in 5.x).
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def write_fixture(name, extra, args, torch, transformers, AutoModelForCausalLM):
    spec = dict(BASE)
    spec["arch"] = name
    spec.update(extra)
    with tempfile.TemporaryDirectory() as d:
        res = subprocess.run([args.tool, "--spec", json.dumps(spec), "--out", d],
                             check=True, capture_output=True, text=True)
        resolved = json.loads(res.stdout.strip().splitlines()[-1])
        model = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager",
                                                     **dtype_kwarg(transformers, torch.float32))
        model.eval()
        ids = list(PROMPT)
        with torch.no_grad():
            for _ in range(32):  # greedy, eos ignored, full re-forward each step (no cache)
                logits = model(torch.tensor([ids])).logits[0, -1]
                ids.append(int(torch.argmax(logits)))
            full = model(torch.tensor([ids])).logits[0]
    fx = {
        "source": f"transformers {transformers.__version__}, torch {torch.__version__}, fp32 CPU, eager",
        "how": "tools/make_fixtures.py",
        "spec": resolved,
        "prompt": PROMPT,
        "greedy": ids[len(PROMPT):],
        "logits": {str(p): [float(x) for x in full[p].tolist()] for p in POSITIONS},
    }
    path = os.path.join(args.out, f"transformers_{name}.json")
    with open(path, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
