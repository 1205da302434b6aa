"""Demo outcome and wall time of each simulation tracker (``tracker.method``).

Usage: ``python bench/sim_tracker_methods.py [--seeds 1 2 3] [--methods gnn jpda ...]``.
Runs ``examples/demo.yaml`` once per (method, seed) after one warm-up run per method (numba
compilation / cache loading), the methods interleaved per seed so that load from other jobs on
a shared machine spreads over all of them. Prints a Markdown table (kills, leakers, shots,
wall seconds per seed, then the totals and median time) and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--methods", nargs="+", default=["gnn", "jpda", "imm-gnn", "imm-jpda"])
    args = ap.parse_args()

    from shorad.api import run
    from shorad.scenario import demo_scenario_path, load_scenario

    base = load_scenario(demo_scenario_path())
    specs = {m: replace(base, tracker=replace(base.tracker, method=m)) for m in args.methods}
    for spec in specs.values():
        run(spec, args.seeds[0])  # warm-up
    rows: dict[str, list[tuple[int, int, int, int, float]]] = {m: [] for m in args.methods}
    for seed in args.seeds:
        for m, spec in specs.items():
            t0 = time.perf_counter()
            s = run(spec, seed)
            dt = time.perf_counter() - t0
            tot = s.totals
            rows[m].append((seed, tot["kills"], tot["leakers"], tot["shots"], dt))
    print("| method | seed | kills | leakers | shots | wall s |")
    print("|---|---|---|---|---|---|")
    for m, rs in rows.items():
        for seed, k, leak, shots, dt in rs:
            print(f"| {m} | {seed} | {k} | {leak} | {shots} | {dt:.2f} |")
    print()
    print("| method | kills | leakers | shots | median wall s |")
    print("|---|---|---|---|---|")
    out = {}
    for m, rs in rows.items():
        k = sum(r[1] for r in rs)
        leak = sum(r[2] for r in rs)
        shots = sum(r[3] for r in rs)
        med = statistics.median(r[4] for r in rs)
        print(f"| {m} | {k} | {leak} | {shots} | {med:.2f} |")
        out[m] = {"kills": k, "leakers": leak, "shots": shots, "median_wall_s": round(med, 3)}
    print(json.dumps({"seeds": args.seeds, "methods": out}))


if __name__ == "__main__":
    main()
