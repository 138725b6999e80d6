#!/usr/bin/env python3
"""bench_gpu's peer: Hugging Face transformers' generate() on the same model directory.

    python3 bench/gpu/transformers_peer.py --dir DIR [--device cuda] [--dtype bfloat16]
                                           [--prompt 16] [--decode 128] [--reps 3]

Loads DIR with AutoModelForCausalLM (eager attention, the given dtype, on the device), feeds the
same prompt ids as bench_gpu ((i * 7919 + 13) % 32000), and times greedy generate() of 1 token
(the prefill) and of --decode tokens (min_new_tokens = max_new_tokens: eos cannot end it early),
best of --reps each, the device synchronized around each call. Decode tok/s = (decode - 1) /
(t(decode) - t(1)). Prints one JSON line; exit 77 (with the reason on stderr) when torch or
transformers is missing.
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32", "float16"])
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.prompt < 1 or a.decode < 2 or a.reps < 1:
        sys.exit("transformers_peer: --prompt >= 1, --decode >= 2 and --reps >= 1")
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        sys.exit(77)
    dtype = getattr(torch, a.dtype)
    # transformers 4.56 renamed from_pretrained's torch_dtype to dtype (the old name warns in 5.x).
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kw = {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}
    model = AutoModelForCausalLM.from_pretrained(a.dir, attn_implementation="eager", **kw)
    model = model.to(a.device).eval()
    ids = torch.tensor([[(i * 7919 + 13) % 32000 for i in range(a.prompt)]], device=a.device)
    mask = torch.ones_like(ids)

    def sync():
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()

    def run(n):
        sync()
        t = time.perf_counter()
        with torch.no_grad():
            out = model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, pad_token_id=0)
        sync()
        return time.perf_counter() - t, out.shape[1] - ids.shape[1]

    run(2)  # warm-up: kernels, allocator
    t1 = min(run(1)[0] for _ in range(a.reps))
    tn, got = min(run(a.decode) for _ in range(a.reps))
    print(json.dumps({
        "transformers": transformers.__version__, "torch": torch.__version__,
        "device": a.device, "dtype": a.dtype, "prompt": a.prompt, "new_tokens": got,
        "prefill_ms": t1 * 1e3, "decode_tok_s": (got - 1) / (tn - t1),
    }))


if __name__ == "__main__":
    main()
