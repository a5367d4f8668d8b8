#!/usr/bin/env bash
# Forward-pass benchmark of Mechanic against PyTorch eager on the GPT-2, Llama and Pythia-160M
# shapes, alternating the two engines round by round so that drifting machine speed (shared
# cores, noisy neighbours) hits both alike. Prints each round's medians and the median ratio.
#
# Needs a release build (swift build -c release --product mechanic) and torch + transformers.
# Usage: scripts/bench_families.sh [rounds=3] [shapes=8x16,32x16,1x1024] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; shapes=${2:-8x16,32x16,1x1024}; threads=${3:-2}
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
    for arch in gpt2 llama pythia; do
        .build/release/mechanic bench forward --architecture "$arch" --shapes "$shapes" --threads "$threads" \
            --no-capture --seconds 3 --json > "$out/mechanic-$arch-$round.json" 2>/dev/null
        python3 scripts/bench_pytorch.py --architecture "$arch" --shapes "$shapes" --threads "$threads" \
            --budget 3 > "$out/torch-$arch-$round.json" 2>/dev/null
    done
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
print(f"{'architecture':12s} {'shape':>8s} {'mechanic ms':>12s} {'pytorch ms':>11s} {'ratio':>6s}  (rounds' ratios)")
for arch in ["gpt2", "llama", "pythia"]:
    rows = {}
    for r in range(1, rounds + 1):
        m = json.load(open(f"{out}/mechanic-{arch}-{r}.json"))["results"]
        t = json.load(open(f"{out}/torch-{arch}-{r}.json"))["results"]
        for a, b in zip(m, t):
            rows.setdefault((a["batch"], a["seq"]), []).append((a["medianSeconds"] * 1e3, b["median_s"] * 1e3))
    for (batch, seq), pairs in rows.items():
        ratios = [t / m for m, t in pairs]
        print(f"{arch:12s} {f'{batch}x{seq}':>8s} {statistics.median(m for m, _ in pairs):12.1f} "
              f"{statistics.median(t for _, t in pairs):11.1f} {statistics.median(ratios):6.2f}  "
              f"({', '.join(f'{x:.2f}' for x in ratios)})")
PY
