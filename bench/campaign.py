"""Campaign throughput: demo runs per second on 1 and 2 local Dask workers vs a plain loop.

Usage: ``python bench/campaign.py [--loop N] [--per-worker N]``. The plain loop calls
``shorad.api.run`` on one core after a warm-up run. Each campaign starts a LocalCluster of K
single-threaded worker processes, warms every worker (imports), then times ``run_campaign``
end to end (submission, Dask, row transfer, DuckDB commits) over ``per-worker x K`` runs.
Overhead per run = campaign seconds per run on one worker / loop seconds per run - 1; the
mean simulation time inside the tasks (the rows' ``wall_s``) separates Dask's and the
store's cost ("vs task sim") from the simulation itself running slower in a worker process
than in the loop (CPU contention, cache effects); the client process's CPU time (Dask
scheduler, result rows, DuckDB commits, progress bar) shows what the client takes from the
workers' cores. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", type=int, default=5, help="runs in the plain loop")
    ap.add_argument("--per-worker", type=int, default=6, help="campaign runs per worker")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    from shorad.api import run
    from shorad.campaign import (
        DaskBackend,
        ResultStore,
        dask_client,
        plan_campaign,
        run_campaign,
    )
    from shorad.campaign.task import run_seed, warm_up
    from shorad.scenario import demo_scenario_path, load_scenario

    path = demo_scenario_path()
    spec = load_scenario(path)
    run(spec, 0)  # warm-up: numba cache, first-touch imports
    loop = []
    for r in range(args.loop):
        t0 = time.perf_counter()
        run(spec, run_seed(1, r))
        loop.append(time.perf_counter() - t0)
    loop_s = statistics.mean(loop)
    results = {"cpus": os.cpu_count(), "loop_s_per_run": loop_s, "loop_runs": args.loop}
    rows = [("plain loop, 1 core", args.loop, loop_s, 1 / loop_s, loop_s, "-", "-")]
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.workers:
            n = args.per_worker * k
            plan = plan_campaign(path, runs=n, seed=1)
            store = Path(tmp) / f"w{k}.duckdb"
            t_start = time.perf_counter()
            with dask_client(workers=k) as client:
                t_up = time.perf_counter() - t_start
                client.run(warm_up)
                client.run(run, spec, 0)  # one-off per worker: numba cache, city, imports
                c0 = time.process_time()
                out = run_campaign(plan, store, backend=DaskBackend(client))
                client_cpu = time.process_time() - c0
            with ResultStore(store, read_only=True) as st:
                sim = statistics.mean(r["wall_s"] for r in st.rows(plan.campaign_id))
            per_run = out.wall_s / n
            over = per_run * k / loop_s - 1.0
            dask_over = per_run * k / sim - 1.0
            results[f"workers_{k}"] = {
                "runs": n,
                "wall_s": out.wall_s,
                "runs_per_s": n / out.wall_s,
                "cluster_start_s": t_up,
                "mean_task_sim_s": sim,
                "overhead_vs_loop": over,
                "overhead_vs_task_sim": dask_over,
                "client_cpu_share": client_cpu / out.wall_s,
                "failed": out.failed,
            }
            rows.append(
                (
                    f"campaign, {k} worker(s)",
                    n,
                    per_run,
                    n / out.wall_s,
                    sim,
                    f"{over:+.1%}",
                    f"{dask_over:+.1%}",
                )
            )
    best = max(v["runs_per_s"] for k, v in results.items() if k.startswith("workers_"))
    results["projected_10000_runs_min"] = 10000 / best / 60
    head = ("", "runs", "s/run", "runs/s", "sim s/task", "vs loop", "vs task sim")
    print(f"{head[0]:26s} " + " ".join(f"{h:>11s}" for h in head[1:]))
    for name, n, s, rate, sim, over, dover in rows:
        print(f"{name:26s} {n:11d} {s:11.3f} {rate:11.3f} {sim:11.3f} {over:>11s} {dover:>11s}")
    proj = results["projected_10000_runs_min"]
    for k in args.workers:
        share = results[f"workers_{k}"]["client_cpu_share"]
        print(f"client + scheduler process CPU, {k} worker(s): {share:.0%} of one core")
    print(f"projected 10,000 demo runs at the best rate: {proj:.0f} min")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
