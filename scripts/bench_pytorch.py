#!/usr/bin/env python3
"""Time a GPT-2-small-, Llama- or Pythia-160M-shaped forward pass in PyTorch, as a baseline for Mechanic.

A benchmark, not a test (STYLE.md, principle 12): it prints figures to compare
side by side with Mechanic's own benchmark command on the same machine. The
model is built from a config with seeded random weights (no download); timing
does not depend on the weights' values.

Each shape runs 2 warm-up passes, then N timed passes with N chosen so a shape
takes about --budget seconds (at least 3, at most 50 runs); the median is
reported. Every pass computes the full logits [batch, pos, dVocab].

Prints a JSON object to stdout and a human-readable table to stderr.

The Llama and Pythia shapes match `mechanic bench forward --architecture llama|pythia`.

Usage:
    python3 scripts/bench_pytorch.py [--architecture gpt2|llama|pythia] [--transformer-lens] [--threads 2] [--budget 6]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM,  # noqa: E402
                          LlamaConfig, LlamaForCausalLM)

SHAPES = [(1, 16), (8, 16), (32, 16), (8, 128), (1, 1024)]  # (batch, seq)
GPT2_SMALL = dict(n_layer=12, n_head=12, n_embd=768, vocab_size=50257, n_positions=1024)
# The same shapes as Mechanic's BenchArchitecture (Sources/MechanicCLI/BenchCommand.swift).
LLAMA = dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, num_key_value_heads=4,
             intermediate_size=2048, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
             tie_word_embeddings=False)
PYTHIA_160M = dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
                   vocab_size=50304, max_position_embeddings=2048, rotary_pct=0.25, use_parallel_residual=True,
                   tie_word_embeddings=False)
ARCHITECTURES = {"gpt2": (GPT2Config, GPT2LMHeadModel, GPT2_SMALL), "llama": (LlamaConfig, LlamaForCausalLM, LLAMA),
                 "pythia": (GPTNeoXConfig, GPTNeoXForCausalLM, PYTHIA_160M)}
WARMUP = 2
MIN_RUNS, MAX_RUNS = 3, 50


def peak_rss_mb():
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024 if sys.platform != "darwin" else kib / 2**20, 1)


def time_forward(forward, batch, seq, budget, vocab, gen):
    """Median wall time of `forward(ids)` for ids [batch, seq]; N adapts to `budget`."""
    ids = torch.randint(0, vocab, (batch, seq), generator=gen)
    with torch.inference_mode():
        t0 = time.perf_counter()
        for _ in range(WARMUP):
            logits = forward(ids)
        warm = (time.perf_counter() - t0) / WARMUP
        assert logits.shape == (batch, seq, vocab), tuple(logits.shape)
        runs = max(MIN_RUNS, min(MAX_RUNS, int(budget / max(warm, 1e-6))))
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            forward(ids)
            times.append(time.perf_counter() - t0)
    return {"batch": batch, "seq": seq, "median_s": round(statistics.median(times), 6),
            "min_s": round(min(times), 6), "runs": runs,
            "tokens_per_s": round(batch * seq / statistics.median(times), 1),
            "peak_rss_mb": peak_rss_mb()}


def run_shapes(label, forward, budget, vocab, shapes=SHAPES):
    gen = torch.Generator().manual_seed(0)
    results = []
    for batch, seq in shapes:
        r = time_forward(forward, batch, seq, budget, vocab, gen)
        print(f"{label:24s} {batch:5d} x {seq:<5d} {r['median_s'] * 1e3:10.2f} ms "
              f"{r['tokens_per_s']:12.0f} tok/s {r['runs']:5d} runs "
              f"{r['peak_rss_mb']:9.1f} MB", file=sys.stderr)
        results.append(r)
    return results


def build_hf_model(seed, architecture="gpt2"):
    torch.manual_seed(seed)
    config_class, model_class, shape = ARCHITECTURES[architecture]
    cfg = config_class(**shape, attn_implementation="eager")
    return model_class(cfg).eval()


def transformer_lens_forward(hf_model):
    """A plain (no cache) TransformerLens forward of the same shape, or None.

    TransformerLens < 4: a HookedTransformer from a HookedTransformerConfig with
    its own random init. TransformerLens 4 removed HookedTransformer; there the
    TransformerBridge wraps the same random HF model.
    """
    try:
        import transformer_lens
    except ImportError:
        return None, "transformer_lens is not installed"
    from importlib.metadata import version
    tl_version = version("transformer-lens")
    try:
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError:
        HookedTransformer = None
    if HookedTransformer is not None:
        cfg = HookedTransformerConfig(
            n_layers=12, n_heads=12, d_model=768, d_head=64, d_mlp=3072, d_vocab=50257,
            n_ctx=1024, act_fn="gelu_new", normalization_type="LN", seed=0, device="cpu")
        model = HookedTransformer(cfg).eval()
        return (lambda ids: model(ids)), f"transformer-lens-{tl_version}-hooked"
    from transformer_lens.model_bridge import TransformerBridge
    from transformers import GPT2Tokenizer
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "Tests", "Fixtures", "models", "tiny-f32")
    # Any GPT-2 tokenizer will do (ids are random); the fixture's avoids a download.
    tokenizer = GPT2Tokenizer.from_pretrained(fixture)
    bridge = TransformerBridge.boot_transformers("gpt2", hf_model=hf_model, tokenizer=tokenizer)
    bridge.eval()
    del transformer_lens
    return (lambda ids: bridge(ids)), f"transformer-lens-{tl_version}-bridge"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="gpt2",
                        help="model shape (default gpt2)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--budget", type=float, default=6.0,
                        help="target seconds of timed runs per shape (default 6)")
    parser.add_argument("--transformer-lens", action="store_true",
                        help="also time TransformerLens, if it is importable")
    parser.add_argument("--shapes", default=",".join(f"{b}x{s}" for b, s in SHAPES),
                        help="comma-separated batch x seq shapes (default: all five)")
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in item.lower().split("x")) for item in args.shapes.split(",")]

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    model = build_hf_model(seed=0, architecture=args.architecture)
    vocab = model.config.vocab_size
    print(f"{'engine':24s} {'batch x seq':13s} {'median':>13s} {'throughput':>18s} "
          f"{'runs':>10s} {'peak RSS':>12s}", file=sys.stderr)
    report = {
        # Other processes competing for the cores make the figures meaningless;
        # record the load so a noisy run can be recognised.
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "engine": "pytorch-eager",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": args.threads,
        "architecture": args.architecture,
        "model": dict(ARCHITECTURES[args.architecture][2]),
        "results": run_shapes("pytorch-eager", lambda ids: model(ids, use_cache=False).logits,
                              args.budget, vocab, shapes),
    }
    if args.transformer_lens and args.architecture == "gpt2":
        forward, engine = transformer_lens_forward(model)
        if forward is None:
            report["transformer_lens"] = {"skipped": engine}
            print(f"transformer-lens skipped: {engine}", file=sys.stderr)
        else:
            report["transformer_lens"] = {
                "engine": engine,
                "results": run_shapes(engine[:24], forward, args.budget, vocab, shapes),
            }
    report["peak_rss_mb"] = peak_rss_mb()
    report["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    json.dump(report, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
