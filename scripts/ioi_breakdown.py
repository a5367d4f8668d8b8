#!/usr/bin/env python3
"""Which name a GPT-2-architecture model puts first on held-out IOI story prompts.

    python3 scripts/ioi_breakdown.py MODEL_FOLDER [--max-tokens 64] [--count 400] [--seed 4242]

`mechanic card` reports IO top-1 among all names; this splits the misses: is the top name S (the
repeated one), another name in the prompt, or a name the prompt does not hold? A model that copies
names but cannot tell IO from S puts them first about equally often.

Prompts come from `mechanic tasks show ioi-story --json` (build it first: `swift build -c release`),
so they are the task's own held-out episodes; --max-tokens keeps the short ones (for a model
trained on short windows). The forward pass is NumPy in float64 (GPT-2 blocks, tied or untied
unembedding), reading model.safetensors; it needs numpy and safetensors.
"""
import argparse
import json
import re
import subprocess
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent


def lexicon_names():
    """The corpus's names (Lexicon.names), read from the Swift source."""
    source = (ROOT / "Sources/MechanicCorpus/Lexicon/Lexicon+Names.swift").read_text()
    start = source.index("names: [String] = [")
    return re.findall(r'"([^"]+)"', source[start:source.index("]", start + 20)])


class GPT2:
    """GPT-2 forward pass; tensors [T, d_model], logits [T, vocab]."""

    def __init__(self, folder):
        self.config = json.loads((folder / "config.json").read_text())
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "transformer." if "transformer.wte.weight" in weights else ""
        self.w = {k[len(prefix):] if k.startswith(prefix) else k: v.astype(np.float64) for k, v in weights.items()}
        self.eps = self.config.get("layer_norm_epsilon", 1e-5)

    def norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def logits(self, ids, patterns=None):
        """Logits [T, vocab]; each layer's attention pattern [heads, T, T] goes into `patterns` if given."""
        w, heads, d = self.w, self.config["n_head"], self.config["n_embd"]
        T, dh = len(ids), d // heads
        x = w["wte.weight"][ids] + w["wpe.weight"][:T]
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for layer in range(self.config["n_layer"]):
            p = f"h.{layer}."
            qkv = self.norm(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
            q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(T, heads, dh).transpose(1, 0, 2) for i in range(3))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(dh) + mask
            pattern = np.exp(scores - scores.max(-1, keepdims=True))
            pattern /= pattern.sum(-1, keepdims=True)
            if patterns is not None:
                patterns[layer] = pattern
            z = (pattern @ v).transpose(1, 0, 2).reshape(T, d)
            x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            if p + "mlp.c_fc.weight" in w:
                h = self.norm(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
                h = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))
                x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        unembed = w.get("lm_head.weight", w["wte.weight"])
        return self.norm(x, "ln_f") @ unembed.T


def held_out_examples(model, count, seed):
    """`count` ioi-story prompts drawn by `mechanic tasks show` for `model` (tokens, answers, wrongAnswers)."""
    shown = subprocess.run([str(ROOT / ".build/release/mechanic"), "tasks", "show", "ioi-story", "--model", str(model),
                            "--count", str(count), "--examples", str(count), "--seed", str(seed), "--json"],
                           capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)["examples"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--max-tokens", type=int, default=None, help="keep prompts of at most this many tokens")
    parser.add_argument("--count", type=int, default=400, help="prompts to draw (before --max-tokens)")
    parser.add_argument("--seed", type=int, default=4242, help="prompt seed (the card's held-out seed)")
    args = parser.parse_args()

    examples = held_out_examples(args.model, args.count, args.seed)
    if args.max_tokens:
        examples = [e for e in examples if len(e["tokens"]) <= args.max_tokens]
    if not examples:
        raise SystemExit("no prompt is that short")
    vocab = json.loads((args.model / "vocab.json").read_text())
    name_ids = [vocab["Ġ" + n] for n in lexicon_names() if "Ġ" + n in vocab]
    model = GPT2(args.model)

    counts = {"IO": 0, "S": 0, "other name in the prompt": 0, "name not in the prompt": 0}
    margins = []
    for e in examples:
        final = model.logits(np.array(e["tokens"]))[-1]
        io, s = e["answers"][0], e["wrongAnswers"][0]
        top = max(name_ids, key=lambda i: final[i])
        key = "IO" if top == io else "S" if top == s else "other name in the prompt" if top in e["tokens"] else "name not in the prompt"
        counts[key] += 1
        margins.append(final[io] - final[s])
    n = len(examples)
    print(f"{args.model}: {n} prompts" + (f" of at most {args.max_tokens} tokens" if args.max_tokens else ""))
    for key, value in counts.items():
        print(f"  top name is {key}: {value / n:.3f}")
    margins = np.array(margins)
    print(f"  mean IO − S logit: {margins.mean():.3f}; IO above S in {np.mean(margins > 0):.3f}")


if __name__ == "__main__":
    main()
