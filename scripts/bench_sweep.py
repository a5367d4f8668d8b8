#!/usr/bin/env python3
"""Benchmark of `mechanic sweep`: the local process pool against a local Ray cluster.

Runs one plan (default: the results sweep, both reference models x 4 tasks x every head-level
method) with the local pool and on a Ray cluster started here on 127.0.0.1 (a head with no CPUs
and W worker nodes of one CPU each), for each W in --workers, and prints per configuration:

  wall        seconds from start to merged store (mechanic's own summary)
  job-sum     the jobs' own seconds (each `mechanic discover` process, as the pool or the Ray task
              measured it)
  idle/job    (wall * W - job-sum) / jobs: worker-seconds per job spent outside a job (start-up,
              dispatch, the merge at the end), the per-job overhead of that path
  ray - local (ray wall - local wall) * W / jobs at the same W: what Ray adds per job

    swift build -c release --product mechanic
    pip install ray
    python3 scripts/bench_sweep.py [--workers 1,2] [--methods all] [--count 100] [--json out.json]

Every configuration runs in a fresh folder (no job is skipped as done). Needs `ray` on PATH.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ["sae", "sae-edges", "sae-z", "patching", "attribution", "hisp", "acdc"]


def plan_text(methods, count, patching_prompts):
    models = [os.path.join(ROOT, "artifacts/models", m) for m in ("mechanic-mini", "mechanic-attn-only-4l")]
    return "\n".join([
        "command: discover",
        f"models: [{', '.join(models)}]",
        "tasks: [ioi, greater-than, docstring, induction]",
        f"methods: [{', '.join(methods)}]",
        "seeds: [0]",
        f"options: {{count: {count}, patching-prompts: {patching_prompts}}}",
        "",
    ])


def run_sweep(mechanic, plan, out, extra):
    start = time.time()
    result = subprocess.run([mechanic, "sweep", plan, "--out", out, "--json", *extra], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"sweep failed ({result.returncode}): {result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    summary["outer_seconds"] = time.time() - start
    return summary


def ray_cluster(workers, port):
    subprocess.run(["ray", "stop", "--force"], capture_output=True)
    subprocess.run(["ray", "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "0",
                    "--disable-usage-stats", "--include-dashboard=false"], check=True, capture_output=True)
    for _ in range(workers):
        subprocess.run(["ray", "start", "--address", f"127.0.0.1:{port}", "--num-cpus", "1", "--disable-usage-stats"],
                       check=True, capture_output=True)
    # Wait until the cluster reports the workers' CPUs.
    for _ in range(60):
        status = subprocess.run(["ray", "status", "--address", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
        if f"0.0/{workers}.0 CPU" in status:
            return
        time.sleep(1)
    sys.exit(f"the Ray cluster did not come up with {workers} CPUs:\n{status}")


def row(mode, workers, summary):
    jobs = summary["jobs"]
    job_sum = sum(o["seconds"] for o in summary["outcomes"])
    return {"mode": mode, "workers": workers, "jobs": jobs, "done": summary["done"], "wall": summary["seconds"],
            "job_sum": job_sum, "idle_per_job": (summary["seconds"] * workers - job_sum) / jobs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mechanic", default=os.path.join(ROOT, ".build/release/mechanic"))
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--methods", default="all")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--patching-prompts", type=int, default=16)
    parser.add_argument("--port", type=int, default=6391)
    parser.add_argument("--json")
    args = parser.parse_args()
    methods = METHODS if args.methods == "all" else args.methods.split(",")
    widths = [int(w) for w in args.workers.split(",")]
    if shutil.which("ray") is None:
        sys.exit("ray is not on PATH (pip install ray)")
    work = tempfile.mkdtemp(prefix="bench-sweep-")
    plan = os.path.join(work, "plan.yaml")
    with open(plan, "w") as f:
        f.write(plan_text(methods, args.count, args.patching_prompts))
    rows = []
    try:
        for w in widths:
            print(f"local pool, {w} at a time…", file=sys.stderr, flush=True)
            rows.append(row("local", w, run_sweep(args.mechanic, plan, os.path.join(work, f"local-{w}"), ["--jobs", str(w)])))
            print(f"Ray, {w} worker node(s)…", file=sys.stderr, flush=True)
            ray_cluster(w, args.port)
            try:
                rows.append(row("ray", w, run_sweep(args.mechanic, plan, os.path.join(work, f"ray-{w}"),
                                                    ["--ray", f"127.0.0.1:{args.port}"])))
            finally:
                subprocess.run(["ray", "stop", "--force"], capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'mode':6} {'workers':>7} {'jobs':>5} {'wall s':>8} {'job-sum s':>10} {'idle/job s':>11} {'ray-local/job s':>16}")
    for r in rows:
        extra = ""
        if r["mode"] == "ray":
            local = next(x for x in rows if x["mode"] == "local" and x["workers"] == r["workers"])
            r["ray_minus_local_per_job"] = (r["wall"] - local["wall"]) * r["workers"] / r["jobs"]
            extra = f"{r['ray_minus_local_per_job']:16.2f}"
        print(f"{r['mode']:6} {r['workers']:7d} {r['jobs']:5d} {r['wall']:8.1f} {r['job_sum']:10.1f} {r['idle_per_job']:11.2f} {extra}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"methods": methods, "count": args.count, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
