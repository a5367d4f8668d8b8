#!/usr/bin/env python3
"""Writes notebooks/*.ipynb (without outputs) from the cell sources below.

The notebooks read Mechanic's SQLite results store (MECHANIC_DB, default ../mechanic.sqlite)
read-only, so they work while a run writes. CI executes them with nbconvert against a store
made in the same run (Tests/MechanicNotebookTests). Edit the cells here, then run
`python3 scripts/make_notebooks.py`.
"""
import pathlib
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parent.parent / "notebooks"

SETUP = '''import os, json, sqlite3, pathlib
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

DB = os.environ.get("MECHANIC_DB", "../mechanic.sqlite")
FIGURES = pathlib.Path(os.environ.get("MECHANIC_FIGURES", "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
if not pathlib.Path(DB).exists():
    raise SystemExit(f"no results store at {DB}: run `mechanic discover` first, or set MECHANIC_DB")
# Read-only: a notebook never changes the store, and works while a run is writing (WAL).
db = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
def sql(query, *args):
    return pd.read_sql_query(query, db, params=args)'''

CIRCUITS = [
    new_markdown_cell("""# Circuit discovery results

Reads the runs that `mechanic discover` recorded in the results store and reproduces:

1. the results table (ROC AUC, precision, recall, faithfulness and runtime of every method, per model and task),
2. ROC curves of each method against the ground-truth circuit,
3. a layer × head heat map of each method's scores, ground-truth heads outlined,
4. the faithfulness curves of edge-level runs (`mechanic discover --level edges`), with CPR and CMD.

Set `MECHANIC_DB` to the store (default `../mechanic.sqlite`, where `mechanic discover` writes when run from the repository root)."""),
    new_code_cell(SETUP),
    new_markdown_cell("## Runs in the store"),
    new_code_cell('''runs = sql("""
    SELECT r.id AS run, r.command, r.status, r.model_path, t.name AS task, t.positives, t.negatives,
           t.dropped_positives, r.started_at, r.finished_at
    FROM runs r LEFT JOIN tasks t ON t.run_id = r.id
    ORDER BY r.id""")
runs'''),
    new_markdown_cell("## Results table\n\nThe latest completed head-level run of each model × task, one row per method. `kept` is the share of the full model's task metric that the method's top-|ground truth| heads keep alone (others mean-ablated)."),
    new_code_cell('''table = sql("""
    SELECT r.model_path, t.name AS task, m.method, e.auc, e.precision, e.recall, e.f1,
           e.faithfulness_circuit / e.faithfulness_full AS kept, e.faithfulness_random_mean AS random_mean,
           m.seconds, r.id AS run
    FROM methods m
    JOIN runs r ON r.id = m.run_id
    JOIN tasks t ON t.run_id = r.id
    LEFT JOIN evaluations e ON e.run_id = m.run_id AND e.method = m.method
    WHERE r.status = 'completed' AND r.id = (
        SELECT max(r2.id) FROM runs r2 JOIN tasks t2 ON t2.run_id = r2.id
        WHERE r2.status = 'completed' AND r2.model_path IS r.model_path AND t2.name = t.name
          AND EXISTS (SELECT 1 FROM methods m2 WHERE m2.run_id = r2.id))
    ORDER BY r.model_path, t.name, m.id""")
table["model"] = table["model_path"].map(lambda p: pathlib.Path(p).name if p else "?")
shown = table[["model", "task", "method", "auc", "precision", "recall", "kept", "seconds"]]
print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
shown'''),
    new_markdown_cell("Next to the committed table in `artifacts/results.json` (written by `mechanic results`), where the same model, task and method appear:"),
    new_code_cell('''committed_path = pathlib.Path(os.environ.get("MECHANIC_RESULTS", "../artifacts/results.json"))
if committed_path.exists():
    rows = []
    for row in json.loads(committed_path.read_text()):
        for result in row["report"]["methods"]:
            rows.append({"model": row["model"], "task": row["report"]["task"],
                         "method": result["scores"]["method"], "committed_auc": result.get("auc")})
    committed = pd.DataFrame(rows)
    both = shown.merge(committed, on=["model", "task", "method"], how="inner")
    print(both.to_string(index=False, float_format=lambda v: f"{v:.3f}") if len(both) else "no overlap with the committed table")
else:
    print(f"{committed_path} not found")'''),
    new_markdown_cell("## ROC curves\n\nEach method's head scores swept as a threshold against the ground truth (the same computation as `CircuitEvaluation.rocCurve`; ties are taken together)."),
    new_code_cell('''def roc(scores, labels):
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    positives, negatives = labels.sum(), (~labels).sum()
    fpr, tpr, tp, fp, i = [0.0], [0.0], 0, 0, 0
    while i < len(scores):
        j = i
        while j < len(scores) and scores[j] == scores[i]:
            tp += labels[j]; fp += not labels[j]; j += 1
        fpr.append(fp / negatives); tpr.append(tp / positives); i = j
    return np.array(fpr), np.array(tpr)

latest = table.groupby(["model", "task"])["run"].max().reset_index()
fig, axes = plt.subplots(1, len(latest), figsize=(4.5 * len(latest), 4.2), squeeze=False)
for ax, (_, key) in zip(axes[0], latest.iterrows()):
    truth = sql("SELECT layer, head FROM ground_truth WHERE run_id = ?", int(key.run))
    truth = set(zip(truth.layer, truth["head"]))
    scores = sql("SELECT method, layer, head, score FROM head_scores WHERE run_id = ? ORDER BY method, ordinal", int(key.run))
    for method, group in scores.groupby("method", sort=False):
        labels = np.array([(l, h) in truth for l, h in zip(group.layer, group["head"])])
        if labels.all() or not labels.any():
            continue
        fpr, tpr = roc(group.score.fillna(-np.inf).to_numpy(), labels)
        auc = np.trapz(tpr, fpr) if hasattr(np, "trapz") else np.trapezoid(tpr, fpr)
        ax.plot(fpr, tpr, label=f"{method} ({auc:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(title=f"{key.model} · {key.task}", xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()
fig.savefig(FIGURES / "roc-curves.png", dpi=120)'''),
    new_markdown_cell("## Head scores, layer × head\n\nEach method's scores scaled to [0, 1] per method; ground-truth heads are outlined."),
    new_code_cell('''run = int(latest.run.max())
scores = sql("SELECT method, layer, head, score FROM head_scores WHERE run_id = ? ORDER BY method, ordinal", run)
truth = sql("SELECT layer, head FROM ground_truth WHERE run_id = ?", run)
methods = list(dict.fromkeys(scores.method))
layers, heads = scores.layer.max() + 1, scores["head"].max() + 1
fig, axes = plt.subplots(1, len(methods), figsize=(2.6 * len(methods), 0.45 * layers + 1.6), squeeze=False)
for ax, method in zip(axes[0], methods):
    grid = np.full((layers, heads), np.nan)
    group = scores[scores.method == method]
    values = group.score.to_numpy(dtype=float)
    span = np.nanmax(values) - np.nanmin(values)
    grid[group.layer, group["head"]] = (values - np.nanmin(values)) / span if span > 0 else 0
    ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for l, h in zip(truth.layer, truth["head"]):
        ax.add_patch(plt.Rectangle((h - 0.5, l - 0.5), 1, 1, fill=False, ec="red", lw=1.5))
    ax.set(title=method, xlabel="head", ylabel="layer", xticks=range(heads), yticks=range(layers))
fig.suptitle(f"run {run}: head scores (red: ground truth)")
fig.tight_layout()
fig.savefig(FIGURES / "head-scores.png", dpi=120)'''),
    new_markdown_cell("## Edge-level faithfulness curves\n\nFor runs of `mechanic discover --level edges`: f = (m(C) − m(∅)) / (m(N) − m(∅)) of each method's top-n edges at 0.1 … 100% of the edges, x on a log scale. CPR (area under f) and CMD (area under |1 − f|) are over the raw fractions, as MIB integrates them."),
    new_code_cell('''points = sql("""
    SELECT p.run_id AS run, p.method, p.ablation, p.fraction, p.edges, p.faithfulness, c.cpr, c.cmd, t.name AS task, r.model_path
    FROM faithfulness_points p
    JOIN faithfulness_curves c ON c.run_id = p.run_id AND c.method = p.method AND c.ablation = p.ablation
    JOIN runs r ON r.id = p.run_id LEFT JOIN tasks t ON t.run_id = p.run_id
    WHERE r.status = 'completed' ORDER BY p.run_id, p.method, p.ordinal""")
if points.empty:
    print("no edge-level runs in the store: mechanic discover --level edges makes them")
else:
    runs_with_curves = list(dict.fromkeys(points.run))
    fig, axes = plt.subplots(1, len(runs_with_curves), figsize=(5 * len(runs_with_curves), 4), squeeze=False)
    for ax, run in zip(axes[0], runs_with_curves):
        part = points[points.run == run]
        for (method, ablation), curve in part.groupby(["method", "ablation"], sort=False):
            ax.plot(curve.fraction * 100, curve.faithfulness, marker="o", ms=3,
                    label=f"{method} (CPR {curve.cpr.iloc[0]:.2f}, CMD {curve.cmd.iloc[0]:.2f})")
        ax.axhline(1, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        model = pathlib.Path(part.model_path.iloc[0] or "?").name
        ax.set(title=f"run {run}: {model} · {part.task.iloc[0]} · {part.ablation.iloc[0]}", xlabel="edges kept (%)", ylabel="faithfulness f")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "faithfulness-curves.png", dpi=120)
    print(points.groupby(["run", "method", "ablation"])[["cpr", "cmd"]].first().to_string(float_format=lambda v: f"{v:.3f}"))
'''),
]

SINKS = [
    new_markdown_cell("""# Attention sinks

Reads the sink analyses that `mechanic sinks --db …` recorded and draws, for each BOS setting, the first-token attention mass of every head (layer × head), next to the hidden-sink counts. Set `MECHANIC_DB` to the store."""),
    new_code_cell(SETUP),
    new_code_cell('''analyses = sql("""
    SELECT a.id AS analysis, a.run_id AS run, r.model_path, a.layers, a.heads, a.prompts, a.recorded_at
    FROM sink_analyses a JOIN runs r ON r.id = a.run_id ORDER BY a.id""")
analyses'''),
    new_markdown_cell("## First-token mass and hidden sinks per head\n\nThe latest analysis; with BOS prepended, first-token mass is attention to `<|endoftext|>`; without, to the first real token."),
    new_code_cell('''latest = analyses.iloc[-1]
heads = sql("SELECT * FROM sink_heads WHERE analysis_id = ? ORDER BY bos_prepended DESC, layer, head", int(latest.analysis))
settings = list(dict.fromkeys(heads.bos_prepended))
fig, axes = plt.subplots(len(settings), 2, figsize=(9, 2.2 * len(settings) + 1.2), squeeze=False)
for row, bos in zip(axes, settings):
    part = heads[heads.bos_prepended == bos]
    for ax, column, cmap in ((row[0], "first_token_mass", "magma"), (row[1], "hidden_sinks", "Blues")):
        grid = np.zeros((int(latest.layers), int(latest.heads)))
        grid[part.layer, part["head"]] = part[column].fillna(0)
        image = ax.imshow(grid, cmap=cmap, aspect="auto", vmin=0, vmax=1 if column == "first_token_mass" else None)
        fig.colorbar(image, ax=ax, fraction=0.046)
        ax.set(title=f"{column.replace('_', ' ')} ({'with' if bos else 'without'} BOS)", xlabel="head", ylabel="layer")
fig.suptitle(f"{pathlib.Path(latest.model_path or '?').name}: {int(latest.prompts)} prompts")
fig.tight_layout()
fig.savefig(FIGURES / "sinks.png", dpi=120)
summary = heads.groupby("bos_prepended")[["first_token_mass", "first_token_sink_rate", "entropy", "hidden_sinks"]].mean()
summary'''),
    new_markdown_cell("Heads that put most of their attention on the first token:"),
    new_code_cell('''heads.sort_values("first_token_mass", ascending=False).head(8)[["bos_prepended", "layer", "head", "first_token_mass", "first_token_sink_rate", "hidden_sinks"]]'''),
]

for name, cells in (("circuits", CIRCUITS), ("sinks", SINKS)):
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    for i, cell in enumerate(notebook.cells):
        cell["id"] = f"{name}-{i}"
    nbformat.write(notebook, ROOT / f"{name}.ipynb")
    print(f"wrote notebooks/{name}.ipynb")
