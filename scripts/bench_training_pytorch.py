#!/usr/bin/env python3
"""Time a GPT-2 training step (forward, loss, loss.backward()) in PyTorch, as a baseline for Mechanic.

A benchmark, not a test (STYLE.md, principle 12): it prints figures to compare
side by side with Mechanic's `TrainingBenchmark.run` (MechanicBackward) on the
same machine and shape. Default shape: 4 layers, 8 heads, d_model 256, vocab
2000, context 64, batch 16 x 64 tokens, random ids, seeded random weights (no
download), dropout off, `attn_implementation="eager"` (the same arithmetic as
Mechanic: materialised pattern). `--sdpa` also times PyTorch's fused attention.

Each step is `zero_grad(set_to_none=True)`, `model(ids, labels=ids).loss`,
`loss.backward()`: every parameter gradient, no optimiser step (as on the
Swift side). 2 warm-up steps, then steps until --budget seconds (at least 3);
the median is reported.

Prints a JSON object to stdout and a human-readable line per engine to stderr.

The shape can be set to match a reference recipe, e.g. mechanic-6l
(`--layers 6 --context 256 --vocab 2048 --batch 8 --seq 256`) or, with
`--attn-only`, mechanic-attn-only-6l (every block's MLP and its LayerNorm
replaced by nothing, as Mechanic's attention-only blocks have none). `--mlp-width N` sets GPT-2's
n_inner, e.g. 128 for mechanic-v2-drill-constant-narrow (`--layers 6 --d-model 128 --mlp-width 128
--vocab 2048 --context 256`).

Usage:
    python3 scripts/bench_training_pytorch.py [--threads 2] [--budget 6] [--batch 16] [--seq 64] [--sdpa]
        [--layers 4] [--heads 8] [--d-model 256] [--vocab 2000] [--context 64] [--attn-only | --mlp-width N]
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

SHAPE = dict(n_layer=4, n_head=8, n_embd=256, vocab_size=2000, n_positions=64)
WARMUP, MIN_STEPS = 2, 3


class NoMLP(torch.nn.Module):
    """An attention-only block's missing MLP: adds nothing to the residual stream."""

    def forward(self, x):
        return torch.zeros_like(x)


def build(attn, seed, attn_only=False):
    torch.manual_seed(seed)
    cfg = GPT2Config(**SHAPE, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, attn_implementation=attn)
    model = GPT2LMHeadModel(cfg)
    if attn_only:
        for block in model.transformer.h:
            block.ln_2 = torch.nn.Identity()
            block.mlp = NoMLP()
    return model.train()


def time_steps(model, ids, budget):
    def step():
        model.zero_grad(set_to_none=True)
        loss = model(ids, labels=ids, use_cache=False).loss
        loss.backward()
        return loss.item()

    for _ in range(WARMUP):
        loss = step()
    times, start = [], time.perf_counter()
    while len(times) < MIN_STEPS or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {"steps": len(times), "median_s": round(median, 6), "min_s": round(min(times), 6),
            "tokens_per_s": round(ids.numel() / median, 1), "loss": round(loss, 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--budget", type=float, default=6.0, help="seconds of timed steps per engine (default 6)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--sdpa", action="store_true", help="also time attn_implementation='sdpa'")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--attn-only", action="store_true", help="no MLPs (and no LayerNorm before them)")
    parser.add_argument("--mlp-width", type=int, default=None, help="MLP hidden width, GPT-2's n_inner (default 4 x d_model)")
    args = parser.parse_args()
    if args.mlp_width is not None and (args.attn_only or args.mlp_width < 1):
        parser.error("--mlp-width must be positive and cannot go with --attn-only")
    SHAPE.update(n_layer=args.layers, n_head=args.heads, n_embd=args.d_model, vocab_size=args.vocab, n_positions=args.context,
                 n_inner=args.mlp_width)
    assert args.seq <= SHAPE["n_positions"], f"--seq must fit the context ({SHAPE['n_positions']})"

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, SHAPE["vocab_size"], (args.batch, args.seq), generator=gen)
    report = {"loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
              "torch": torch.__version__, "transformers": transformers.__version__,
              "threads": args.threads, "model": dict(SHAPE, attn_only=args.attn_only), "batch": args.batch, "seq": args.seq,
              "results": {}}
    for attn in ["eager"] + (["sdpa"] if args.sdpa else []):
        r = time_steps(build(attn, seed=0, attn_only=args.attn_only), ids, args.budget)
        report["results"][f"pytorch-{attn}"] = r
        print(f"pytorch-{attn:6s} {args.batch} x {args.seq}: {r['median_s'] * 1e3:8.2f} ms/step "
              f"{r['tokens_per_s']:10.0f} tok/s ({r['steps']} steps, loss {r['loss']})", file=sys.stderr)
    report["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    json.dump(report, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
