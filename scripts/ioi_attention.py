#!/usr/bin/env python3
"""Where given heads attend from the last token of held-out ioi-story prompts.

For each head, counts the position each prompt's END row attends to most, by its role in the
prompt: IO, S1, S2, the token after each (IO+1, S1+1, S2+1), END itself, BOS, or another token,
with the mean attention to each role. The card scores heads by their attention to IO, S1 and S2
only; this shows where a head that carries IOI without attending to names looks instead.

    python3 scripts/ioi_attention.py artifacts/models/mechanic-attn-only-v2-drill-constant a5.5 a4.2
    python3 scripts/ioi_attention.py MODEL a5.5 --count 200 --seed 4242

Uses the NumPy forward pass of ioi_breakdown.py and the prompts of `mechanic tasks show ioi-story`.
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ioi_breakdown import GPT2, held_out_examples  # noqa: E402

ROLES = ["IO", "IO+1", "S1", "S1+1", "S2", "S2+1", "END", "BOS", "other"]


def roles(tokens, io, s):
    """Role of each position of a prompt (first match in ROLES order wins)."""
    io_pos, s1 = tokens.index(io), tokens.index(s)
    s2 = len(tokens) - 1 - tokens[::-1].index(s)
    named = {io_pos: "IO", io_pos + 1: "IO+1", s1: "S1", s1 + 1: "S1+1", s2: "S2", s2 + 1: "S2+1"}
    out = []
    for j in range(len(tokens)):
        if j in named and not (named[j].endswith("+1") and j == len(tokens) - 1):
            out.append(named[j])
        elif j == len(tokens) - 1:
            out.append("END")
        elif j == 0:
            out.append("BOS")
        else:
            out.append("other")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("heads", nargs="+", help="heads as aL.H, e.g. a5.5")
    parser.add_argument("--count", type=int, default=60, help="prompts")
    parser.add_argument("--seed", type=int, default=4242, help="prompt seed (the card's held-out seed)")
    args = parser.parse_args()
    heads = []
    for h in args.heads:
        try:
            layer, head = h.lstrip("a").split(".")
            heads.append((int(layer), int(head)))
        except ValueError:
            raise SystemExit(f"head {h!r} is not aL.H (e.g. a5.5)")

    examples = held_out_examples(args.model, args.count, args.seed)
    model = GPT2(args.model)
    layers, per_layer = model.config["n_layer"], model.config["n_head"]
    for layer, head in heads:
        if not (0 <= layer < layers and 0 <= head < per_layer):
            raise SystemExit(f"a{layer}.{head} is not a head of a {layers}-layer, {per_layer}-head model")

    top = {h: Counter() for h in heads}
    mass = {h: Counter() for h in heads}
    for e in examples:
        patterns = {}
        model.logits(np.array(e["tokens"]), patterns)
        labels = roles(e["tokens"], e["answers"][0], e["wrongAnswers"][0])
        for layer, head in heads:
            row = patterns[layer][head][-1]
            top[(layer, head)][labels[int(row.argmax())]] += 1
            for j, label in enumerate(labels):
                mass[(layer, head)][label] += row[j]
    n = len(examples)
    print(f"{args.model}: {n} held-out ioi-story prompts (seed {args.seed}); END row of each head")
    print("head   " + "".join(f"{r:>12}" for r in ROLES))
    for h in heads:
        print(f"a{h[0]}.{h[1]:<4}" + "".join(f"{top[h][r]:>5} {mass[h][r] / n:5.2f} " for r in ROLES))
    print("each cell: prompts where the role gets the most attention, mean attention to it")


if __name__ == "__main__":
    main()
