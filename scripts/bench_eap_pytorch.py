#!/usr/bin/env python3
"""PyTorch reference timings for edge attribution: EAP-IG's `attribute()` (github.com/hannamw/EAP-IG,
the library the MIB benchmark's circuit track uses) on a GPT-2-small-shaped TransformerLens model
with random weights, 8 prompts × 16 tokens, each with a corrupted twin of the same length.

Methods timed: `EAP`, `EAP-IG-inputs` (ig_steps 5) and `EAP-IG-activations` (ig_steps 5). Each
gets --warmup untimed calls (1 by default), then the median of --runs calls (3 by default) is
printed as `method seconds`, or as JSON with --json. EAP-IG-activations makes
(1 + 2·12)·ig_steps = 125 forward+backward passes per call, so on a small CPU one call takes tens
of minutes; `--methods EAP-IG-activations --warmup 0 --runs 1` gives a single-call figure.

Setup (CPU is enough; no hub access is needed, the weights are random):

    pip install torch "transformer_lens<4"     # 4.0 removed HookedTransformer, which EAP-IG imports
    pip install einops matplotlib              # EAP-IG's own imports (transformer_lens brings einops)
    # EAP-IG is not on PyPI: take its src/ folder from a clone of github.com/hannamw/EAP-IG, e.g.
    git clone https://github.com/hannamw/EAP-IG /tmp/EAP-IG && mkdir -p /tmp/eapig && cp -r /tmp/EAP-IG/src /tmp/eapig/
    # (or, from a bare mirror: git -C MIRROR archive HEAD src | tar -x -C /tmp/eapig)

    python3 scripts/bench_eap_pytorch.py --threads 2 [--eap-src /tmp/eapig/src] [--json]

Two runtime patches, applied to the imported `eap.attribute` module only (the library's files are
not edited):

1. Device. `get_scores_eap` / `get_scores_eap_ig` / `get_scores_ig_activations` allocate the score
   matrix with `torch.zeros(..., device='cuda')` hard-coded, which fails on a machine without CUDA.
   The module's global name `torch` is swapped for a thin proxy whose `zeros` maps `device='cuda'`
   to the model's device (CPU here); every other attribute is torch's own.
2. Tokenisation. `attribute()` expects batches of strings and tokenises them with
   `eap.utils.tokenize_plus` (model.to_tokens with the model's tokenizer, BOS prepended, right
   padding). A random-weight model built from a config has no tokenizer, and random token ids
   would not survive a detokenise/retokenise round trip, so `eap.attribute.tokenize_plus` is
   replaced by a pass-through that takes the batch's token tensor as is and returns an all-ones
   attention mask, lengths = 16 and n_pos = 16 — what the original returns for unpadded prompts.
   Each prompt starts with GPT-2's BOS id (50256) followed by 15 random ids, as if prepended.

Everything else — the hooks, the per-run score einsums, the backward passes — is the library's
code. Parameters keep requires_grad=True as in the library's examples, so every backward pass also
computes (and accumulates) weight gradients, including the 50257 × 768 unembedding's (and, for EAP,
the embedding's); `--freeze-params` turns that off to show what it costs. Most of the time goes to
TransformerLens's `use_attn_result` path, which EAP-IG requires: it forms each layer's per-head
output as `(z[..., None] * W_O).sum(-2)`, a [batch, pos, 12, 64, 768] temporary (~300 MB here),
forward and backward; one forward+backward of this model is ~5× slower with it on than off. `.grad` is cleared
between calls, outside the timed region.
"""
import argparse
import json
import os
import statistics
import sys
import time
import types

import torch


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eap-src", default="/tmp/eapig/src", help="folder holding EAP-IG's `eap` package (default /tmp/eapig/src)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls per method before the timed ones (default 1)")
    p.add_argument("--runs", type=int, default=3, help="timed calls per method; the median is reported (default 3)")
    p.add_argument("--ig-steps", type=int, default=5, help="ig_steps for the EAP-IG methods (default 5)")
    p.add_argument("--methods", default="EAP,EAP-IG-inputs,EAP-IG-activations",
                   help="comma-separated attribute() methods to time")
    p.add_argument("--freeze-params", action="store_true",
                   help="set requires_grad=False on the weights (the library's examples leave it on)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of `method seconds` lines")
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.eap_src)

    import transformer_lens
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    import eap.attribute as eap_attribute
    from eap.graph import Graph

    torch.manual_seed(0)
    cfg = HookedTransformerConfig(n_layers=12, n_heads=12, d_model=768, d_head=64, d_mlp=3072, n_ctx=1024,
                                  d_vocab=50257, act_fn="gelu_new", normalization_type="LN", device="cpu", seed=0)
    model = HookedTransformer(cfg).eval()
    # What EAP-IG's attribute() asserts (the library's examples set them after loading).
    model.cfg.use_attn_result = True
    model.cfg.use_split_qkv_input = True
    model.cfg.use_hook_mlp_in = True
    if args.freeze_params:
        model.requires_grad_(False)
    device = torch.device(model.cfg.device)

    # Workaround 1: score matrices are allocated on 'cuda' unconditionally.
    class _TorchOnModelDevice(types.ModuleType):
        def __getattr__(self, name):
            return getattr(torch, name)

        @staticmethod
        def zeros(*size, device=None, **kwargs):
            if device is not None and str(device).startswith("cuda") and not torch.cuda.is_available():
                device = model.cfg.device
            return torch.zeros(*size, device=device, **kwargs)

    eap_attribute.torch = _TorchOnModelDevice("torch")

    # Workaround 2: batches carry token tensors, not strings (no tokenizer for a random model).
    def tokenize_passthrough(model, tokens, max_length=None):
        attention_mask = torch.ones_like(tokens)
        input_lengths = attention_mask.sum(1)
        return tokens, attention_mask, input_lengths, tokens.size(1)

    eap_attribute.tokenize_plus = tokenize_passthrough

    # Workload: 8 prompts × 16 tokens (BOS + 15 random ids), random corrupted twins, random answer/wrong.
    n_prompts, n_tokens, bos = 8, 16, 50256
    gen = torch.Generator().manual_seed(1)
    body = lambda: torch.randint(0, 50000, (n_prompts, n_tokens - 1), generator=gen)
    clean = torch.cat([torch.full((n_prompts, 1), bos), body()], dim=1).to(device)
    corrupted = torch.cat([torch.full((n_prompts, 1), bos), body()], dim=1).to(device)
    labels = torch.randint(0, 50000, (n_prompts, 2), generator=gen).to(device)  # [:, 0] answer, [:, 1] wrong
    dataloader = [(clean, corrupted, labels)]  # one batch, iterated as `for clean, corrupted, label in dataloader`

    def logit_diff(logits, clean_logits, input_lengths, labels, mean=True, loss=True):
        # As in EAP-IG's notebooks: logit(answer) − logit(wrong) at the last real position, negated as a loss.
        last = logits[torch.arange(logits.size(0), device=logits.device), input_lengths - 1]
        good_bad = torch.gather(last, -1, labels.to(logits.device))
        result = good_bad[:, 0] - good_bad[:, 1]
        if loss:
            result = -result
        return result.mean() if mean else result

    graph = Graph.from_model(model)
    n_edges = int(graph.real_edge_mask.sum().item())
    if not args.json:
        print(f"EAP-IG graph: {graph.n_forward} senders, {graph.n_backward} receivers, {n_edges} edges "
              f"(len(graph.edges) = {len(graph.edges)})")
    assert n_edges == 32491 and len(graph.edges) == 32491, n_edges

    def call(method):
        model.zero_grad(set_to_none=True)
        graph.scores.zero_()
        kwargs = {} if method == "EAP" else {"ig_steps": args.ig_steps}
        start, cpu_start = time.perf_counter(), time.process_time()
        eap_attribute.attribute(model, graph, dataloader, logit_diff, method=method, quiet=True, **kwargs)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        scores = graph.scores[graph.real_edge_mask]
        assert torch.isfinite(scores).all() and scores.abs().sum() > 0, f"{method}: scores not finite or all zero"
        return seconds, cpu_seconds, float(scores.abs().sum())

    results = {}
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        for _ in range(args.warmup):
            call(method)
        timed = [call(method) for _ in range(args.runs)]
        seconds = statistics.median(t for t, _, _ in timed)
        results[method] = {"median_seconds": seconds, "runs": [t for t, _, _ in timed],
                           "cpu_seconds": [c for _, c, _ in timed],  # process CPU time (all threads) per run
                           "abs_score_sum": timed[-1][2]}
        if not args.json:
            print(f"{method} {seconds:.3f}", flush=True)

    if args.json:
        import importlib.metadata as md
        print(json.dumps({
            "threads": args.threads, "runs": args.runs, "ig_steps": args.ig_steps,
            "warmup": args.warmup, "load_average_at_end": os.getloadavg(), "prompts": n_prompts, "tokens": n_tokens, "edges": n_edges, "freeze_params": args.freeze_params,
            "torch": torch.__version__, "transformer_lens": md.version("transformer_lens"),
            "methods": results,
        }, indent=2))


if __name__ == "__main__":
    main()
