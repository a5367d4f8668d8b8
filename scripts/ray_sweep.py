#!/usr/bin/env python3
"""Ray driver of `mechanic sweep --ray ADDRESS` (not run by hand).

Reads the sweep's jobs (a JSON list of {fingerprint, arguments, shard, log}), submits each as a
Ray task that runs the `mechanic` binary on a worker with `--db SHARD --threads 1`, and prints one
JSON line per finished job: {"fingerprint", "status" (the exit status), "seconds", "attempts"}.
A task whose worker dies is retried by Ray (max_retries); a job that exits non-zero is reported
as it is, and rerunning the sweep retries it. Shards and logs are paths on storage every worker
shares (one machine, or a shared file system).

    pip install ray
    ray start --head            # or an existing cluster's address
"""
import argparse, json, os, subprocess, sys, time

import ray


@ray.remote(max_retries=3, num_cpus=1)
def run_job(mechanic, arguments, shard, log):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(shard + suffix)
        except FileNotFoundError:
            pass
    start = time.time()
    with open(log, "w") as out:
        status = subprocess.run([mechanic, *arguments, "--db", shard, "--threads", "1"], stdout=out, stderr=subprocess.STDOUT).returncode
    return status, time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--mechanic", required=True)
    args = parser.parse_args()
    jobs = json.load(open(args.jobs))
    ray.init(address=args.address, log_to_driver=False)
    pending = {run_job.remote(args.mechanic, job["arguments"], job["shard"], job["log"]): job for job in jobs}
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        try:
            status, seconds = ray.get(ready[0])
        except Exception as error:  # the task failed after Ray's retries
            print(f"job {job['fingerprint']}: {error}", file=sys.stderr)
            status, seconds = -1, 0.0
        done += 1
        print(json.dumps({"fingerprint": job["fingerprint"], "status": status, "seconds": seconds}), flush=True)
        print(f"ray sweep: {done}/{len(jobs)} jobs", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
