"""Siting benchmark: plain HiGHS model vs shorad exact vs shorad fast (issue 7).

The bundled demo district, its three defended buildings, roof candidates on a 20 m grid within
700 m of them (~1,600), ~1,150 weighted demand points, a 300 m planning range with line of
sight, the demo's first unit type (radar + gun), p = 5, 10, 15, 20.

    PYTHONPATH=src python bench/plan.py [--time-limit S] [--repeat R] [--p P ...]

Each (p, method) is solved ``R`` times; the row shows the last objective and bound (every
method is deterministic; a time-limited HiGHS run may differ between repeats, which is
flagged) and the wall and CPU (``time.process_time``) seconds as median [min, max]. The exact
row names the LPs its region-count branch and bound solved (:mod:`shorad.plan.regions`) where
it ran; its bound is the proven one (the incumbent once every node is closed). The fast row
gives its objective as a share of the exact one and, where the exact method stopped at the
time limit, the share of the optimum that is proven (objective / exact bound).
"""

from __future__ import annotations

import argparse
import statistics
import time

from shorad.plan import (
    approach_demand,
    compute_coverage,
    cover_problem,
    reduce_problem,
    roof_candidates,
    solve_exact,
    solve_fast,
    solve_plain,
)
from shorad.plan.layout import template_unit, unit_type
from shorad.scenario import demo_scenario_path, load_scenario
from shorad.scenario.load import read_scenario_data


def main() -> None:
    """Print one table row per (p, method)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--p", type=int, nargs="*", default=[5, 10, 15, 20])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    path = demo_scenario_path()
    spec = load_scenario(path)
    data = read_scenario_data(path)
    utype = unit_type(data, template_unit(data, None), spec, max_range_m=300.0)
    t0 = time.perf_counter()
    cand = roof_candidates(spec.world, spec.assets.aim_m[:, :2], within_m=700.0, grid_m=20.0)
    demand = approach_demand(spec)
    cov = compute_coverage(spec.world, cand, demand, utype)
    problem = cover_problem(cov, demand, utype, "coverage")
    t1 = time.perf_counter()
    red = reduce_problem(problem)
    solve_fast(problem, 2, lp_bound=False)  # load the numba kernel before timing
    print(
        f"{len(cand)} candidates, {len(demand)} demand points, {problem.a.nnz} covering pairs "
        f"({cov.los_blocked_pairs} of {cov.in_range_pairs} in-range pairs blocked by buildings); "
        f"candidates+coverage {t1 - t0:.2f} s; reduced model {red.problem.a.shape}"
    )
    print(
        f"{'p':>3} {'method':>6} {'objective':>10} {'bound':>10} {'gap %':>7} "
        f"{'wall s: median [min, max]':>27} {'CPU s: median [min, max]':>27} status"
    )
    for p in args.p:
        best = None
        for name, fn in (
            ("plain", lambda p=p: solve_plain(problem, p, time_limit_s=args.time_limit)),
            ("exact", lambda p=p: solve_exact(problem, p, time_limit_s=args.time_limit)),
            ("fast", lambda p=p: solve_fast(problem, p, lp_bound=False)),
        ):
            walls, cpus, objs = [], [], []
            for _ in range(args.repeat):
                c0 = time.process_time()
                s = fn()
                cpus.append(time.process_time() - c0)
                walls.append(s.seconds)
                objs.append(s.objective)
            if name == "fast":  # the LP bound, once, timed apart
                s = solve_fast(problem, p)
            if name == "exact":
                best = s
            extra = f" (LP bound {s.bound_seconds:.2f} s)" if name == "fast" else ""
            if name == "exact" and s.nodes:
                extra += f" ({s.nodes} LPs, region-count branch and bound)"
            if max(objs) - min(objs) > 1e-9:
                extra += f" objectives vary {min(objs):.3f}-{max(objs):.3f}"
            if name == "fast" and best is not None and best.objective > 0:
                extra += f" {100 * s.objective / best.objective:.2f} % of exact"
                if best.status != "optimal" and best.bound > 0:  # what is proven
                    extra += f", >= {100 * s.objective / best.bound:.2f} % of the optimum"
            print(
                f"{p:>3} {name:>6} {s.objective:>10.3f} {s.bound:>10.3f} {100 * s.gap:>7.2f} "
                f"{_spread(walls):>27} {_spread(cpus):>27} {s.status}{extra}",
                flush=True,
            )


def _spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} [{min(xs):.3f}, {max(xs):.3f}]"


if __name__ == "__main__":
    main()
