#!/usr/bin/env python3
"""Can any per-head positive-vs-negative method find the circuit? A check of the SAE method's premise.

The discrete-SAE method (O'Neill & Bui 2024) scores a head by the codes its output takes on
positive prompts and never on negative ones. That can rank the circuit's heads first only if the
circuit's heads are the heads whose outputs differ between positives and negatives. This script
measures that directly, with supervision the SAE does not have: for every head it trains a
classifier to tell positives from negatives from that head's output alone (the very vectors the SAE
codes, written by `mechanic sae capture`) and reports its cross-validated accuracy. 50% means the
head's output carries no sign of whether the prompt is a positive.

For every model folder under --models with ground-truth circuits (circuits/<task>.json), it writes
a table to --out: the mean accuracy of the circuit's heads and of the other heads, for a linear
classifier (logistic regression) and a non-linear one (random forest), and the node ROC AUC of
using that accuracy as the head score, next to the SAE's own AUC from artifacts/results.json.

Needs numpy, safetensors and scikit-learn (pip install numpy safetensors scikit-learn), and a
release build of mechanic (swift build -c release). Deterministic for a seed.

    python3 scripts/sae_premise_check.py                      # writes artifacts/sae-premise.md
    python3 scripts/sae_premise_check.py --models ~/my-models --out /tmp/premise.md
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def roc_auc(scores, truth):
    """ROC AUC of scores against a boolean ground truth; ties count one half."""
    scores = np.asarray(scores, float)
    pos, neg = scores[truth], scores[~truth]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def head_accuracies(positive, negative, classifier, seed):
    """Cross-validated accuracy of telling positives from negatives from each head's output."""
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return np.array([cross_val_score(classifier(), np.concatenate([positive[:, h], negative[:, h]]), labels, cv=folds).mean()
                     for h in range(positive.shape[1])])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="artifacts/models", help="folder of model folders with circuits/<task>.json")
    parser.add_argument("--mechanic", default=".build/release/mechanic", help="the mechanic binary")
    parser.add_argument("--out", default="artifacts/sae-premise.md", help="markdown table to write")
    parser.add_argument("--results", default="artifacts/results.json", help="results.json with the SAE's AUCs (optional)")
    parser.add_argument("--count", type=int, default=250, help="positive and negative prompts each")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sae_auc = {}
    results = pathlib.Path(args.results)
    if results.exists():
        for row in json.loads(results.read_text()):
            for key in ["sae", "sae@minimal"]:
                # Undefined trials (a one-head model has no AUC) are stored as the string "nan".
                trials = [t for t in (row.get("saeTrials") or {}).get(key) or [] if isinstance(t, (int, float))]
                if len(trials) > 1:
                    sae_auc[(row["model"], row["report"]["task"], key)] = (np.mean(trials), np.std(trials, ddof=1))

    classifiers = {
        "linear": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)),
        "forest": lambda: RandomForestClassifier(100, random_state=args.seed, n_jobs=-1),
    }
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        for folder in sorted(pathlib.Path(args.models).iterdir()):
            circuits = folder / "circuits"
            if not circuits.is_dir() or (folder / "tracr-io.json").exists():
                continue  # compiled (tracr) models list their circuits in another format, and have no training labels to check
            config = json.loads((folder / "config.json").read_text())
            heads_per_layer = config["n_head"]
            for truth_file in sorted(f for f in circuits.glob("*.json") if not f.name.endswith(".minimal.json")):
                task = truth_file.stem
                capture = pathlib.Path(scratch) / f"{folder.name}-{task}.safetensors"
                # A task can also be the folder's own prompt file, as `mechanic results` reads it.
                task_file = folder / "tasks" / f"{task}.jsonl"
                task_argument = str(task_file) if task_file.exists() else task
                done = subprocess.run([args.mechanic, "sae", "capture", "--model", str(folder), "--task", task_argument, "--count", str(args.count),
                                       "--seed", str(args.seed), "--out", str(capture)], capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"mechanic sae capture failed on {folder.name} × {task}: {done.stderr.strip()}")
                tensors = load_file(str(capture))
                positive, negative = tensors["positive"], tensors["negative"]
                accuracies = {name: head_accuracies(positive, negative, classifier, args.seed) for name, classifier in classifiers.items()}
                # Both ground truths: role-based (<task>.json) and greedy minimal (<task>.minimal.json) when present.
                minimal_file = circuits / f"{task}.minimal.json"
                for label, path, sae_key in [("role", truth_file, "sae"), ("minimal", minimal_file, "sae@minimal")]:
                    if not path.exists():
                        continue
                    truth = np.zeros(positive.shape[1], bool)
                    for entry in json.loads(path.read_text())["heads"]:
                        truth[entry["head"]["layer"] * heads_per_layer + entry["head"]["head"]] = True
                    if truth.all() or not truth.any():
                        continue
                    row = [folder.name, task, label, str(int(truth.sum()))]
                    for name, accuracy in accuracies.items():
                        row += [f"{accuracy[truth].mean():.2f}", f"{accuracy[~truth].mean():.2f}", f"{roc_auc(accuracy, truth):.3f}"]
                        print(f"{folder.name} {task} {label} {name}: circuit {accuracy[truth].mean():.2f}, others {accuracy[~truth].mean():.2f}, "
                              f"AUC {roc_auc(accuracy, truth):.3f}", file=sys.stderr, flush=True)
                    mean_sd = sae_auc.get((folder.name, task, sae_key))
                    row.append(f"{mean_sd[0]:.3f} ± {mean_sd[1]:.3f}" if mean_sd else "-")
                    lines.append("| " + " | ".join(row) + " |")

    text = f"""# Do the circuit's heads behave differently on positives? (the SAE method's premise)

The discrete-SAE method scores a head by the codes its output takes only on positive prompts, so it
can rank a circuit's heads first only if their outputs differ between positives and negatives more
than other heads' outputs do. Here a classifier, trained *with* the labels the SAE never sees, tries
to tell positives from negatives from one head's output alone (each head's hook_result averaged over
positions: the SAE's input, from `mechanic sae capture`); the columns give its 5-fold
cross-validated accuracy, averaged over the circuit's heads and over the other heads (50% = the
head's output carries no sign of the label), and the node ROC AUC of ranking heads by that accuracy.
A per-head code-counting method has no more to go on than these classifiers, so where they cannot
separate the circuit from the rest, a high SAE AUC would be luck or a side effect (for example of
how varied a head's outputs are), not the premise at work.

{args.count} positives and {args.count} negatives per task, seed {args.seed}; linear = standardised
logistic regression (C 1), forest = random forest (100 trees). Regenerate with
`python3 scripts/sae_premise_check.py` after `swift build -c release`.

Each task is scored against both ground truths: the role-based circuit (`circuits/<task>.json`) and
the greedy minimal set (`circuits/<task>.minimal.json`).

| model | task | ground truth | circuit | linear: circuit acc | linear: other acc | linear AUC | forest: circuit acc | forest: other acc | forest AUC | SAE node AUC (10 trials) |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
""" + "\n".join(lines) + "\n"
    out = pathlib.Path(args.out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
