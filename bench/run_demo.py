"""Wall time of one demo run: the first (cold) run in a fresh process, then warm runs, for
the compiled engine (what ``shorad run`` uses on the demo) and the reference engine.

Usage: ``python bench/run_demo.py [--repeats N] [--seed S]``. Cold includes numba compilation
(or cache loading) and first-touch imports inside the run; loading the scenario (city file,
presets) is timed separately. Warm runs alternate between the engines (same process, same
seed), wall and CPU time; both must give the same outcome. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from shorad.api import run
    from shorad.scenario import demo_scenario_path, load_scenario

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    spec = load_scenario(demo_scenario_path())
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    first = run(spec, args.seed)
    t_cold = time.perf_counter() - t0
    ref = run(spec, args.seed, engine="reference")
    assert first.meta["engine"] == "compiled", first.meta["engine"]
    assert first.to_dict()["threats"] == ref.to_dict()["threats"], "engines disagree"
    warm: dict[str, list[float]] = {"compiled": [], "reference": []}
    cpu: dict[str, list[float]] = {"compiled": [], "reference": []}
    for _ in range(args.repeats):
        for engine in ("compiled", "reference"):
            t0, c0 = time.perf_counter(), time.process_time()
            s = run(spec, args.seed, engine=engine)
            warm[engine].append(time.perf_counter() - t0)
            cpu[engine].append(time.process_time() - c0)
            want = first if engine == "compiled" else ref
            assert s.to_json() == want.to_json(), "non-deterministic run"

    tot = first.totals
    print(
        f"demo: {spec.n_threats} threats, {len(spec.units)} units, "
        f"{spec.duration_s:.0f} s scenario"
    )
    print(f"  simulated until t = {first.meta['end_t_s']} s, {first.meta['n_events']} events")
    print(f"  import {t_import:.2f} s, load scenario {t_load:.2f} s")
    print(f"  first (cold) run {t_cold:.3f} s (compiled engine)")
    for engine in ("compiled", "reference"):
        w, c = warm[engine], cpu[engine]
        print(
            f"  warm run, {engine:9s}: median {statistics.median(w):.3f} s, "
            f"min {min(w):.3f} s, max {max(w):.3f} s over {len(w)}; "
            f"CPU median {statistics.median(c):.3f} s"
        )
    speedup = statistics.median(cpu["reference"]) / statistics.median(cpu["compiled"])
    print(f"  compiled / reference: {speedup:.1f}x less CPU per run")
    print(f"  outcome: {tot['killed']} killed, {tot['leakers']} leaked, {tot['shots']} shots")
    print(
        json.dumps(
            {
                "import_s": round(t_import, 3),
                "load_s": round(t_load, 3),
                "cold_run_s": round(t_cold, 3),
                "warm_run_median_s": round(statistics.median(warm["compiled"]), 3),
                "warm_run_min_s": round(min(warm["compiled"]), 3),
                "warm_cpu_median_s": round(statistics.median(cpu["compiled"]), 3),
                "reference_warm_run_median_s": round(statistics.median(warm["reference"]), 3),
                "reference_warm_cpu_median_s": round(statistics.median(cpu["reference"]), 3),
                "cpu_speedup": round(speedup, 2),
                "n_threats": spec.n_threats,
                "n_units": len(spec.units),
                "scenario_s": spec.duration_s,
            }
        )
    )


if __name__ == "__main__":
    main()
