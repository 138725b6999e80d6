#!/usr/bin/env python3
"""What torch itself reaches on a batch-1 decode step's weight reads (tools/gpu/run-all.sh).

    python3 tools/gpu/matvec_ceiling.py [--layers 16] [--reps 50]

The matrix-vector products of one decode step of Llama-3.2-1B's shapes (bf16, per layer q, k, v,
o, gate, up, down, then the 128256-row head), nothing else: no attention, norms or sampling. Run
eagerly and as one CUDA graph, timed over --reps replays, and printed as GB/s of weight bytes
next to a device-to-device copy's bandwidth (read + written). It says how much of the copy
bandwidth cuBLAS's batch-1 products allow, which bench_gpu's "% of the bound" is measured
against. Prints one JSON line; exit 77 without torch or CUDA.
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    if a.layers < 1 or a.reps < 1:
        sys.exit("matvec_ceiling: --layers and --reps must be >= 1")
    try:
        import torch
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        sys.exit(77)
    if not torch.cuda.is_available():
        print("skipped: no CUDA device", file=sys.stderr)
        sys.exit(77)
    dev, bf = "cuda", torch.bfloat16
    h, kv, inter, vocab = 2048, 512, 8192, 128256
    shapes = [(h, h), (kv, h), (kv, h), (h, h), (inter, h), (inter, h), (h, inter)] * a.layers
    shapes.append((vocab, h))
    ws = [torch.randn(o, i, device=dev, dtype=bf) * 0.02 for o, i in shapes]
    weight_bytes = sum(w.numel() * 2 for w in ws)
    x_h = torch.randn(1, h, device=dev, dtype=bf)
    x_i = torch.randn(1, inter, device=dev, dtype=bf)
    outs = [None] * len(ws)

    def step():
        for n, w in enumerate(ws):
            outs[n] = torch.nn.functional.linear(x_i if w.shape[1] == inter else x_h, w)

    def timed(fn):
        fn()
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(a.reps):
            fn()
        torch.cuda.synchronize()
        return (time.perf_counter() - t) / a.reps

    eager = timed(step)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        step()  # warm-up on a side stream before capture, as torch's docs do
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        step()
    graph = timed(g.replay)

    src = torch.empty(1 << 30, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    copy = min(timed(lambda: dst.copy_(src)) for _ in range(3))
    copy_gbs = 2 * src.numel() / copy / 1e9
    print(json.dumps({
        "gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
        "weight_bytes": weight_bytes, "products": len(ws),
        "eager_ms": eager * 1e3, "graph_ms": graph * 1e3,
        "eager_gbs": weight_bytes / eager / 1e9, "graph_gbs": weight_bytes / graph / 1e9,
        "copy_gbs": copy_gbs, "graph_fraction_of_copy": weight_bytes / graph / 1e9 / copy_gbs,
    }))


if __name__ == "__main__":
    main()
