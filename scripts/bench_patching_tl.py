#!/usr/bin/env python3
"""TransformerLens side of `mechanic bench circuits --only patching`: resample activation patching
of every head's hook_z (144 heads of a GPT-2-small-shaped model with random weights) on 8 prompts
× 16 tokens, one patched forward pass per head, logit difference at the last position.

Needs TransformerLens 3.x (`pip install "transformer_lens<4"`: 4.0 removed HookedTransformer) and
PyTorch. Run it next to `swift run -c release mechanic bench circuits --only patching`.

    python3 scripts/bench_patching_tl.py            # prints seconds for the 144-head loop
"""
import time

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

torch.manual_seed(0)
torch.set_num_threads(2)
cfg = HookedTransformerConfig(n_layers=12, n_heads=12, d_model=768, d_head=64, d_mlp=3072, n_ctx=1024, d_vocab=50257,
                              act_fn="gelu_new", normalization_type="LN", seed=0)
model = HookedTransformer(cfg).eval()
clean = torch.randint(0, 50257, (8, 16))
corrupted = torch.randint(0, 50257, (8, 16))
answer, wrong = 11, 12

with torch.inference_mode():
    _, cache = model.run_with_cache(corrupted, names_filter=lambda name: name.endswith("hook_z"))
    start = time.perf_counter()
    effects = []
    for layer in range(12):
        for head in range(12):
            def patch(z, hook, head=head):
                z[:, :, head] = cache[hook.name][:, :, head]
                return z
            logits = model.run_with_hooks(clean, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", patch)])
            effects.append((logits[:, -1, answer] - logits[:, -1, wrong]).mean().item())
    seconds = time.perf_counter() - start
print(f"TransformerLens activation patching (144 heads, 8 prompts × 16 tokens): {seconds:.2f} s")
