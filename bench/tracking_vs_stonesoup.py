"""shorad's trackers against Stone Soup's on the reference scenario family of the MTT benchmark.

Usage::

    python bench/tracking_vs_stonesoup.py [--n 10 50 200] [--seed 1] [--out build/bench_mtt]
        [--no-stonesoup-jpda] [--big] [--big-repeats 5]

Generates the reference files (2-D, +-1000 m, N targets, q = 0.5, sigma = 3 m, pd = 0.9,
10 clutter per scan, 100 scans, seed ``--seed``; see ``../shared/benchmarks/mtt/FORMAT.md``), runs
shorad GNN and JPDA and Stone Soup GNN with k-d tree gating (``DetectionKDTreeGNN2D``) and JPDA
with EHM (``pyehm``'s ``JPDAWithEHM``), set up the same way (true NCV model, Kalman
predictor/updater, 3-hit initiation with ``MultiMeasurementInitiator``, deletion after 4 missed
scans, tentative tracks after 2, one-point initiation with zero velocity and 10 m/s per axis),
and prints wall seconds, scans per second and mean GOSPA with its components for each, and the
speed ratios. ``shorad-jpda-ssinit`` is shorad's JPDA with Stone Soup's rule for the tentative
tracks (``MttConfig.tentative_cost="mahalanobis"``: sum of Mahalanobis distances, a miss costing
the gate distance) instead of shorad's most-likely-event rule: it isolates the one place where
the two set-ups differ (with it the GOSPA equals Stone Soup JPDA-EHM's at N = 10, 50 and 200,
seed 1).

``--big`` adds the 1,000 targets + 100 clutter per scan latency run of shorad (GNN and JPDA):
one untimed warm-up pass first (numba kernels are loaded or compiled then, so compile time is
not in the latencies), then ``--big-repeats`` timed passes; it prints p50/p95/max per pass and
over all passes pooled. The garbage collector stays on.

Needs the bench extra (``pip install -e '.[bench]'``: stonesoup, pyehm) and the shared folder;
skips with a message if either is missing. Results go to ``<out>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from shorad.analysis.mtt_metrics import score_files
from shorad.tracking.benchfile import (
    TRACKS_FORMAT,
    generate_scenario,
    read_meas,
    track_file,
    write_jsonl,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
FORMAT_MD = SHARED / "benchmarks" / "mtt" / "FORMAT.md"
INIT_SPEED_SIGMA_MPS = 10.0
GATE_D2_2DOF = 18.420680743952367  # chi-square 2 dof, P = 0.9999


def _stonesoup_run(meas_path: Path, out_path: Path, method: str) -> float:
    """Run Stone Soup on a measurement file; write tracks; return the summed scan wall time."""
    import datetime

    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.hypothesiser.probability import PDAHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState, StateVectors
    from stonesoup.types.update import GaussianStateUpdate
    from stonesoup.updater.kalman import KalmanUpdater

    head, scans = read_meas(meas_path)
    d = int(head["dim"])
    q = float(head["q"])
    r = np.array(head["R"], dtype=float)
    pd = float(head["pd"])
    region = np.array(head["region"], dtype=float)
    lam = float(head["clutter_rate"]) / float(np.prod(region[:, 1] - region[:, 0]))
    tm = CombinedLinearGaussianTransitionModel([ConstantVelocity(q) for _ in range(d)])
    mm = LinearGaussian(ndim_state=2 * d, mapping=tuple(range(0, 2 * d, 2)), noise_covar=r)
    predictor = KalmanPredictor(tm)
    updater = KalmanUpdater(mm)
    gate = float(np.sqrt(GATE_D2_2DOF))
    dist_hyp = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=gate)
    prior_cov = np.zeros((2 * d, 2 * d))
    prior_cov[range(1, 2 * d, 2), range(1, 2 * d, 2)] = INIT_SPEED_SIGMA_MPS**2
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState(np.zeros((2 * d, 1)), prior_cov),
        deleter=UpdateTimeStepsDeleter(2),
        data_associator=GNNWith2DAssignment(dist_hyp),
        updater=updater,
        measurement_model=mm,
        min_points=3,
    )
    deleter = UpdateTimeStepsDeleter(4)
    if method == "gnn":
        assoc: Any = DetectionKDTreeGNN2D(
            hypothesiser=dist_hyp, predictor=predictor, updater=updater, max_distance=100.0
        )
    else:
        from pyehm.plugins.stonesoup import JPDAWithEHM

        assoc = JPDAWithEHM(
            PDAHypothesiser(
                predictor, updater, clutter_spatial_density=lam, prob_detect=pd, prob_gate=0.9999
            )
        )
    epoch = datetime.datetime(2024, 1, 1)
    tracks: set[Any] = set()
    lines: list[dict[str, Any]] = [
        {"format": TRACKS_FORMAT, "tracker": f"stonesoup-{method}", "dim": d}
    ]
    total = 0.0
    ids: dict[int, int] = {}
    for sc in scans:
        ts = epoch + datetime.timedelta(seconds=sc.t_s)
        dets = {Detection(zz.reshape(-1, 1), timestamp=ts, measurement_model=mm) for zz in sc.pos}
        c0 = time.perf_counter()
        hyps = assoc.associate(tracks, dets, ts)
        used = set()
        for track, hyp in hyps.items():
            if method == "gnn":
                if hyp:
                    track.append(updater.update(hyp))
                    used.add(hyp.measurement)
                else:
                    track.append(hyp.prediction)
                continue
            states, weights = [], []
            best, best_w, miss_w = None, -1.0, 0.0
            for h in hyp:
                w = float(h.probability)
                weights.append(w)
                if not h:
                    states.append(h.prediction)
                    miss_w = w
                else:
                    states.append(updater.update(h))
                    if w > best_w:
                        best, best_w = h, w
            from stonesoup.functions import gm_reduce_single

            means = StateVectors([s.state_vector for s in states])
            covs = np.stack([s.covar for s in states], axis=2)
            mean, cov = gm_reduce_single(means, covs, np.asarray(weights))
            if miss_w >= 0.5 or best is None:
                from stonesoup.types.prediction import GaussianStatePrediction

                track.append(GaussianStatePrediction(mean, cov, timestamp=ts))
            else:
                track.append(GaussianStateUpdate(mean, cov, hyp, ts))
                used.add(best.measurement)
        tracks -= deleter.delete_tracks(tracks)
        tracks |= initiator.initiate(dets - used, ts)
        total += time.perf_counter() - c0
        rows = []
        for tr in tracks:
            tid = ids.setdefault(id(tr), len(ids) + 1)
            sv = np.asarray(tr.state_vector, dtype=float).ravel()
            rows.append([tid, *sv[0 : 2 * d : 2].round(4).tolist()])
        lines.append({"k": sc.k, "t": sc.t_s, "tracks": rows})
    write_jsonl(out_path, lines)
    return total


def _latencies(tracks_path: Path) -> np.ndarray:
    """Per-scan ``latency_s`` (s) of a tracks file."""
    with tracks_path.open() as fh:
        rows = [json.loads(line) for line in fh][1:]
    return np.array([float(r["latency_s"]) for r in rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--out", type=Path, default=Path("build/bench_mtt"))
    ap.add_argument("--no-stonesoup-jpda", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big", action="store_true", help="1000 targets + 100 clutter latency run")
    ap.add_argument("--big-repeats", type=int, default=5)
    args = ap.parse_args()
    if not FORMAT_MD.exists():
        print(f"skipped: shared benchmark folder not found ({FORMAT_MD})")
        return 0
    try:
        import pyehm  # noqa: F401
        import stonesoup
    except ImportError as exc:
        print(f"skipped: {exc.name} is not installed (pip install -e '.[bench]')")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "stonesoup": stonesoup.__version__,
        "runs": [],
    }
    print(results["machine"], "python", results["python"], "stonesoup", results["stonesoup"])
    hdr = f"{'N':>5} {'tracker':<18} {'wall_s':>8} {'scans/s':>9} {'GOSPA':>8} "
    print(hdr + f"{'loc':>8} {'missed':>7} {'false':>6} {'idsw':>5} {'speedup':>8}")
    for n in args.n:
        stem = args.out / f"ref_n{n}"
        meas_lines, truth_lines = generate_scenario(
            n, rng=np.random.default_rng(args.seed), seed=args.seed
        )
        meas, truth = Path(f"{stem}.meas.jsonl"), Path(f"{stem}.truth.jsonl")
        write_jsonl(meas, meas_lines)
        write_jsonl(truth, truth_lines)
        walls: dict[str, float] = {}
        names = ("shorad-gnn", "stonesoup-gnn", "shorad-jpda", "shorad-jpda-ssinit")
        for name in (*names, "stonesoup-jpda"):
            lib, method = name.split("-")[:2]
            if name == "stonesoup-jpda" and args.no_stonesoup_jpda:
                continue
            out = Path(f"{stem}.{name}.tracks.jsonl")
            if name == "shorad-jpda-ssinit":
                wall = float(track_file(meas, out, method, tentative_cost="mahalanobis")["wall_s"])
            elif lib == "shorad":
                wall = float(track_file(meas, out, method)["wall_s"])
            else:
                wall = _stonesoup_run(meas, out, method)
            walls[name] = wall
            sc = score_files(truth, out)
            ratio = wall / walls[f"shorad-{method}"] if lib == "stonesoup" else None
            run = {"n": n, "tracker": name, "wall_s": wall, "scans_per_s": sc["scans"] / wall}
            run.update({k: sc[k] for k in ("gospa", "localisation", "missed", "false")})
            run["id_switches"] = sc["id_switches"]
            if ratio is not None:
                run["shorad_speedup"] = ratio
            results["runs"].append(run)
            print(
                f"{n:>5} {name:<18} {wall:>8.3f} {run['scans_per_s']:>9.1f} {sc['gospa']:>8.2f} "
                f"{sc['localisation']:>8.2f} {sc['missed']:>7.2f} {sc['false']:>6.2f} "
                f"{sc['id_switches']:>5} {'' if ratio is None else f'{ratio:>7.0f}x':>8}"
            )
    if args.big:
        stem = args.out / "big_n1000"
        meas_lines, truth_lines = generate_scenario(
            1000, rng=np.random.default_rng(1), seed=1, clutter_rate=100.0
        )
        meas, truth = Path(f"{stem}.meas.jsonl"), Path(f"{stem}.truth.jsonl")
        write_jsonl(meas, meas_lines)
        write_jsonl(truth, truth_lines)
        for method in ("gnn", "jpda"):
            out = Path(f"{stem}.shorad-{method}.tracks.jsonl")
            track_file(meas, out, method)  # warm-up: kernels loaded/compiled, not timed
            lat = []
            for rep in range(args.big_repeats):
                st = track_file(meas, out, method)
                lat.append(_latencies(out))
                print(
                    f"1000 targets + 100 clutter, shorad {method}, pass {rep + 1}: per scan p50 "
                    f"{1e3 * st['latency_p50_s']:.2f} ms, p95 {1e3 * st['latency_p95_s']:.2f} ms, "
                    f"max {1e3 * st['latency_max_s']:.2f} ms"
                )
            sc = score_files(truth, out)
            pooled = np.concatenate(lat)
            p50, p95, pmax = (float(v) for v in np.percentile(pooled, [50, 95, 100]))
            big = {"n": 1000, "clutter": 100, "tracker": f"shorad-{method}", "gospa": sc["gospa"]}
            big["passes"] = [
                {"p50_s": float(np.percentile(a, 50)), "p95_s": float(np.percentile(a, 95))}
                | {"max_s": float(a.max())}
                for a in lat
            ]
            big.update({"pooled_p50_s": p50, "pooled_p95_s": p95, "pooled_max_s": pmax})
            results[f"big_{method}"] = big
            print(
                f"1000 targets + 100 clutter, shorad {method}, {args.big_repeats} passes pooled: "
                f"p50 {1e3 * p50:.2f} ms, p95 {1e3 * p95:.2f} ms, max {1e3 * pmax:.2f} ms; "
                f"GOSPA {sc['gospa']:.1f}"
            )
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"results: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
