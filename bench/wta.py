"""Static weapon-target assignment: shorad's exact and fast solvers against published optima.

Usage::

    python bench/wta.py [--data DIR] [--exact-limit 60] [--fast-limit 1.0] [--seeds 0,1,2]
                        [--sweep] [--fast-only]

1. Exact (HiGHS outer approximation) on wta_50x100x1 and wta_50x100x2 of Andersen, Pavlikov &
   Toffolo (2022); with ``--sweep``, every instance in size order with the time limit, to find
   the largest proven within it.
2. Fast (assignment construction + VLNS + local search) on every instance and seed against
   the best known value, with the wall and CPU (process) time of each solve.
3. Ahuja-style n x n instances (seeded): fast at a 15 ms budget (``--ahuja-limit``; the
   goal is under 20 ms in all) against the exact bound.

Instances are read from ``../shared/benchmarks/wta/andersen2022/data`` (or ``--data``); the
script skips that part with a message when they are absent. Prints tables and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from shorad.c2.wta import ahuja_instance, read_wta, solve_exact, solve_fast

BEST_KNOWN = {  # Andersen et al. (2022), CPLEX 12.10 logs; True = proven optimal
    "50x100x1": (1734.302278, True, 3.1),
    "50x100x2": (123.838458, True, 18.6),
    "50x100x3": (20.590016, True, 356.0),
    "100x200x1": (2862.302798, True, 14.7),
    "100x200x2": (116.057435, True, 203.0),
    "100x200x3": (14.579133, False, None),
    "150x300x1": (3740.417477, True, 35.7),
    "150x300x2": (103.151031, True, 421.0),
    "150x300x3": (11.429016, False, None),
    "200x400x1": (4970.363583, True, 86.3),
    "200x400x2": (115.447473, False, None),
    "200x400x3": (10.577367, False, None),
    "250x500x1": (6689.831917, True, 392.0),
    "250x500x2": (114.350685, False, None),
    "250x500x3": (10.959830, False, None),
    "300x600x1": (8136.879137, True, 359.0),
    "300x600x2": (118.543307, False, None),
    "300x600x3": (13.100070, False, None),
}


def _key(name: str) -> tuple[int, int]:
    w, _, mu = (int(v) for v in re.findall(r"\d+", name))
    return (w, mu)


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--data",
        type=Path,
        default=here.parent.parent / "shared" / "benchmarks" / "wta" / "andersen2022" / "data",
    )
    ap.add_argument("--exact-limit", type=float, default=60.0)
    ap.add_argument("--fast-limit", type=float, default=1.0)
    ap.add_argument("--sweep", action="store_true", help="exact on every instance")
    ap.add_argument("--seeds", default="0,1,2", help="seeds of the fast method's runs")
    ap.add_argument("--fast-only", action="store_true", help="skip the exact runs")
    ap.add_argument(
        "--cpu-budget",
        action="store_true",
        help="count the fast method's budget in CPU (process) time, not wall time",
    )
    ap.add_argument("--ahuja", default="10,20,50,100,200")
    ap.add_argument(
        "--ahuja-limit",
        type=float,
        default=0.015,
        help="fast budget (s) on the Ahuja instances; the goal is < 20 ms in all",
    )
    args = ap.parse_args()
    result: dict[str, object] = {}

    if args.data.exists():
        names = sorted(BEST_KNOWN, key=_key)
        exact_names = names if args.sweep else ["50x100x1", "50x100x2"]
        if args.fast_only:
            exact_names = []
        print(f"Exact (HiGHS outer approximation, {args.exact_limit:g} s limit)")
        print(
            f"{'instance':>10} {'value':>13} {'bound':>13} {'gap':>9} {'status':>10} "
            f"{'s':>7} {'best known':>12} {'CPLEX s':>8}"
        )
        exact_rows = []
        for name in exact_names:
            inst = read_wta(args.data / f"wta_{name}.txt")
            sol = solve_exact(inst, time_limit_s=args.exact_limit)
            bk, _, cplex_s = BEST_KNOWN[name]
            gap = sol.gap if sol.gap is not None else float("nan")
            print(
                f"{name:>10} {sol.surviving_value:13.6f} {sol.bound or float('nan'):13.6f} "
                f"{gap:9.2e} {sol.status:>10} {sol.seconds:7.2f} {bk:12.6f} "
                f"{cplex_s if cplex_s else '-':>8}"
            )
            exact_rows.append(
                {
                    "instance": name,
                    "value": sol.surviving_value,
                    "bound": sol.bound,
                    "status": sol.status,
                    "seconds": round(sol.seconds, 3),
                }
            )
        result["exact"] = exact_rows

        seeds = [int(v) for v in args.seeds.split(",")]
        clock = time.process_time if args.cpu_budget else time.perf_counter
        print(
            f"\nFast (construction + VLNS + local search, {args.fast_limit:g} s "
            f"{'CPU' if args.cpu_budget else 'wall'} budget, "
            f"seeds {args.seeds}; cpu = process time of the solve)"
        )
        print(
            f"{'instance':>10} {'seed':>4} {'value':>13} {'best known':>13} {'above':>8} "
            f"{'wall s':>7} {'cpu s':>6} {'rounds':>6}"
        )
        fast_rows = []
        for name in names:
            inst = read_wta(args.data / f"wta_{name}.txt")
            bk = BEST_KNOWN[name][0]
            for seed in seeds:
                c0 = time.process_time()
                sol = solve_fast(
                    inst,
                    time_limit_s=args.fast_limit,
                    rng=np.random.default_rng(seed),
                    clock=clock,
                )
                cpu = time.process_time() - c0
                above = 100.0 * (sol.surviving_value / bk - 1.0)
                print(
                    f"{name:>10} {seed:4d} {sol.surviving_value:13.6f} {bk:13.6f} {above:7.3f}% "
                    f"{sol.seconds:7.2f} {cpu:6.2f} {sol.iterations:6d}"
                )
                fast_rows.append(
                    {
                        "instance": name,
                        "seed": seed,
                        "value": sol.surviving_value,
                        "above_best_pct": round(above, 4),
                        "seconds": round(sol.seconds, 3),
                        "cpu_seconds": round(cpu, 3),
                        "rounds": sol.iterations,
                    }
                )
        result["fast"] = fast_rows
    else:
        print(f"skip Andersen instances: {args.data} not found")

    print(
        f"\nAhuja n x n (V ~ U[25,100], p ~ U[0.6,0.9], seed n): fast at "
        f"{args.ahuja_limit * 1e3:.0f} ms budget vs exact bound"
    )
    print(
        f"{'n':>5} {'fast value':>12} {'fast s':>8} {'cpu s':>6} {'exact value':>12} "
        f"{'bound':>12} {'above bound':>12} {'exact s':>8}"
    )
    ahuja_rows = []
    for n in (int(v) for v in args.ahuja.split(",")):
        inst = ahuja_instance(n, rng=np.random.default_rng(n))
        t0, c0 = time.perf_counter(), time.process_time()
        fast = solve_fast(inst, time_limit_s=args.ahuja_limit, rng=np.random.default_rng(0))
        fast_s, fast_cpu = time.perf_counter() - t0, time.process_time() - c0
        exact = solve_exact(inst, time_limit_s=args.exact_limit)
        bound = exact.bound if exact.bound is not None else float("nan")
        above = 100.0 * (fast.surviving_value / bound - 1.0)
        print(
            f"{n:5d} {fast.surviving_value:12.4f} {fast_s:8.4f} {fast_cpu:6.3f} "
            f"{exact.surviving_value:12.4f} "
            f"{bound:12.4f} {above:11.4f}% {exact.seconds:8.2f}"
        )
        ahuja_rows.append(
            {
                "n": n,
                "fast_value": fast.surviving_value,
                "fast_seconds": round(fast_s, 4),
                "fast_cpu_seconds": round(fast_cpu, 4),
                "bound": exact.bound,
                "exact_status": exact.status,
                "above_bound_pct": round(above, 5),
            }
        )
    result["ahuja"] = ahuja_rows
    print(json.dumps(result))


if __name__ == "__main__":
    main()
