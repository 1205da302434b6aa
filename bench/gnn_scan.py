"""GNN tracker scan: replay every fused scan of a demo run through ``gnn_scan_kernel``.

Records the inputs of every :meth:`shorad.tracking.gnn.GnnTracker._step_fused` call of one
demo run (``engine="reference"``, seed 1), then replays them from inside one ``@njit`` loop
(no Python dispatch, as the compiled engine calls the kernel) and prints CPU microseconds
(``time.process_time``) per scan of

* ``scan``: the whole :func:`shorad.tracking._fused.gnn_scan_kernel`;
* its components, each replayed on its own recorded inputs: ``predict``, ``gate``,
  ``gated_cost``, ``lsa``, ``update``, ``classify``, ``initiate``, ``append_manage``, and the
  glue (``scan`` minus their sum);

for the working tree's kernels and, with ``--baseline REV`` (default ``HEAD``), for the
kernels of that git revision, loaded from ``git show`` into a scratch package: both in the
same process, timed alternately (``--repeats`` rounds, minimum and median reported). The
replayed outputs of both are compared with the recorded ones (bit for bit).

Usage: ``PYTHONPATH=src python bench/gnn_scan.py [--repeats 7] [--baseline HEAD|none]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numba import njit
from numba.typed import List

_ROOT = Path(__file__).resolve().parent.parent
_FILES = ("_lsa.py", "_kernels.py", "_fused.py")
COMPONENTS = (
    "predict",
    "gate",
    "gated_cost",
    "lsa",
    "update",
    "classify",
    "initiate",
    "append_manage",
)


def record() -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """Inputs of every fused scan of one demo run, and the tracker's fused settings."""
    from shorad.api import run
    from shorad.scenario import demo_scenario_path, load_scenario
    from shorad.tracking import gnn

    spec = load_scenario(demo_scenario_path())
    calls: list[tuple[Any, ...]] = []
    settings: list[tuple[Any, ...]] = []
    original = gnn.GnnTracker._step_fused

    def recording(
        self: Any, tracks: Any, z3: Any, r3: Any, spos3: Any, t_s: Any, dt_s: Any
    ) -> Any:
        if not settings:
            settings.append(self.fused_args())
        if len(tracks) or z3.shape[0]:
            fields = [
                np.array(getattr(tracks, f), order="C")
                for f in (
                    "track_id",
                    "x",
                    "P",
                    "status",
                    "class_prob",
                    "hits",
                    "born_t_s",
                    "last_update_t_s",
                    "confirmed_t_s",
                )
            ]
            calls.append(
                (
                    *fields,
                    int(tracks.next_track_id),
                    float(dt_s),
                    z3.copy(),
                    r3.copy(),
                    spos3.copy(),
                    float(t_s),
                )
            )
        return original(self, tracks, z3, r3, spos3, t_s, dt_s)

    gnn.GnnTracker._step_fused = recording  # type: ignore[method-assign]
    try:
        run(spec, 1, engine="reference")
    finally:
        gnn.GnnTracker._step_fused = original  # type: ignore[method-assign]
    return calls, settings[0]


def load_baseline(rev: str) -> ModuleType:
    """The tracker kernels of git revision ``rev`` as a scratch package (its ``_fused``)."""
    texts = {}
    for name in _FILES:
        texts[name] = subprocess.run(
            ["git", "show", f"{rev}:src/shorad/tracking/{name}"],
            cwd=_ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    digest = hashlib.sha256("".join(texts.values()).encode()).hexdigest()[:12]
    pkg = f"gnnbase_{digest}"
    root = Path(tempfile.gettempdir()) / "shorad_gnn_baseline"
    (root / pkg).mkdir(parents=True, exist_ok=True)
    (root / pkg / "__init__.py").write_text("")
    for name, text in texts.items():
        text = text.replace("shorad.tracking._lsa", f"{pkg}._lsa")
        text = text.replace("shorad.tracking._kernels", f"{pkg}._kernels")
        path = root / pkg / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{pkg}._fused")


def _typed(items: list[Any]) -> Any:
    out = List()
    for a in items:
        out.append(a)
    return out


def build_inputs(calls: list[tuple[Any, ...]], settings: tuple[Any, ...]) -> dict[str, Any]:
    """Per-stage inputs of every scan, from the working tree's kernels called one by one."""
    from shorad.tracking import _kernels as k
    from shorad.tracking._lsa import lsa_kernel

    q, gate_d2, oog, cs, css, init_sig = settings[:6]
    cols: dict[str, list[Any]] = {name: [] for name in ("scan", *COMPONENTS)}
    for c in calls:
        tid, x, P, st, cp, hits, born, last, conf, nid, dt, z, R, sp, t = c
        m, n = x.shape[0], z.shape[0]
        cols["scan"].append(c)
        if m:
            cols["predict"].append((x, P, dt))
            x, P = k.predict_kernel(x, P, dt, q)
        unassigned = np.ones(n, np.bool_)
        if m and n:
            cols["gate"].append((x, P, z, R, sp))
            d2, ld = k.gate_kernel(x, P, z, R, sp, gate_d2)
            cols["gated_cost"].append((d2, ld))
            cost, rows, cl = k.gated_cost_kernel(d2, ld, gate_d2, oog)
            if rows.size:
                cols["lsa"].append((cost,))
                ri, ci = lsa_kernel(cost)
                ok = cost[ri, ci] < 0.5 * oog
                ti, dj = rows[ri[ok]], cl[ci[ok]]
                cols["update"].append((x, P, z, R, sp, ti, dj))
                x, P = k.update_kernel(x, P, z, R, sp, ti, dj)
                hits = hits.copy()
                hits[ti] += 1
                last = last.copy()
                last[ti] = t
                unassigned[dj] = False
        if m:
            cols["classify"].append((x, P))
            cp = k.classify_kernel(x, P, cs, css)
            cp[hits < 2] = 1.0 / cs.shape[0]
        new_j = np.flatnonzero(unassigned)
        cols["initiate"].append((z, R, sp, new_j))
        x0, p0 = k.initiate_kernel(z, R, sp, new_j, init_sig)
        cols["append_manage"].append((tid, x, P, st, cp, hits, born, last, conf, nid, x0, p0, t))
    return {
        name: tuple(_typed([row[i] for row in rows]) for i in range(len(rows[0])))
        for name, rows in cols.items()
    }


def make_loops(fused: ModuleType) -> dict[str, Any]:
    """``@njit`` replay loops over the recorded inputs, for one implementation's kernels.

    Each takes the stage's recorded inputs, the tracker settings ``cfg`` and ``reps``, the
    number of calls per scan: the calls after the first find their inputs in cache, as the
    stage does inside a scan, so ``(t(1 + r) - t(1)) / r`` is the in-cache cost of a call.
    ``chain`` feeds each scan's output tracks to the next scan, as the compiled engine does.
    """
    pkg = fused.__name__.rsplit(".", 1)[0]
    kern = importlib.import_module(f"{pkg}._kernels")
    lsa = importlib.import_module(f"{pkg}._lsa")
    scan_k = fused.gnn_scan_kernel
    predict_k, gate_k, cost_k = kern.predict_kernel, kern.gate_kernel, kern.gated_cost_kernel
    lsa_k, update_k, classify_k = lsa.lsa_kernel, kern.update_kernel, kern.classify_kernel
    init_k, manage_k = kern.initiate_kernel, kern.append_manage_kernel

    @njit
    def scan(tid, x, P, st, cp, hits, born, last, conf, nid, dt, z, R, sp, t, cfg, reps):  # type: ignore[no-untyped-def]
        q, gate_d2, oog, cs, css, init_sig, c_hits, c_win, d_after, t_after, max_var = cfg
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                res = scan_k(
                    tid[s],
                    x[s],
                    P[s],
                    st[s],
                    cp[s],
                    hits[s],
                    born[s],
                    last[s],
                    conf[s],
                    nid[s],
                    dt[s],
                    z[s],
                    R[s],
                    sp[s],
                    t[s],
                    q,
                    gate_d2,
                    oog,
                    cs,
                    css,
                    init_sig,
                    c_hits,
                    c_win,
                    d_after,
                    t_after,
                    max_var,
                )
                acc += res[0].shape[0]
        return acc

    @njit
    def chain(tid, x, P, st, cp, hits, born, last, conf, nid, dt, z, R, sp, t, cfg, reps):  # type: ignore[no-untyped-def]
        q, gate_d2, oog, cs, css, init_sig, c_hits, c_win, d_after, t_after, max_var = cfg
        acc = 0
        for _ in range(reps):
            a_id, a_x, a_p, a_st, a_cp = tid[0], x[0], P[0], st[0], cp[0]
            a_h, a_born, a_last, a_conf, a_nid = hits[0], born[0], last[0], conf[0], nid[0]
            for s in range(len(x)):
                res = scan_k(
                    a_id,
                    a_x,
                    a_p,
                    a_st,
                    a_cp,
                    a_h,
                    a_born,
                    a_last,
                    a_conf,
                    a_nid,
                    dt[s],
                    z[s],
                    R[s],
                    sp[s],
                    t[s],
                    q,
                    gate_d2,
                    oog,
                    cs,
                    css,
                    init_sig,
                    c_hits,
                    c_win,
                    d_after,
                    t_after,
                    max_var,
                )
                a_id, a_x, a_p, a_st, a_cp = res[0], res[1], res[2], res[3], res[4]
                a_h, a_born, a_last, a_conf = res[5], res[6], res[7], res[8]
                for r in range(res[9].shape[0]):
                    if res[9][r] >= a_nid:
                        a_nid += 1
                acc += a_id.shape[0]
        return acc

    @njit
    def predict(x, P, dt, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                acc += predict_k(x[s], P[s], dt[s], cfg[0])[0].shape[0]
        return acc

    @njit
    def gate(x, P, z, R, sp, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                acc += gate_k(x[s], P[s], z[s], R[s], sp[s], cfg[1])[0].shape[0]
        return acc

    @njit
    def gated_cost(d2, ld, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(d2)):
            for _ in range(reps):
                acc += cost_k(d2[s], ld[s], cfg[1], cfg[2])[1].shape[0]
        return acc

    @njit
    def lsa_loop(cost, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(cost)):
            for _ in range(reps):
                acc += lsa_k(cost[s])[0].shape[0]
        return acc

    @njit
    def update(x, P, z, R, sp, ti, dj, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                acc += update_k(x[s], P[s], z[s], R[s], sp[s], ti[s], dj[s])[0].shape[0]
        return acc

    @njit
    def classify(x, P, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                acc += classify_k(x[s], P[s], cfg[3], cfg[4]).shape[0]
        return acc

    @njit
    def initiate(z, R, sp, new_j, cfg, reps):  # type: ignore[no-untyped-def]
        acc = 0
        for s in range(len(z)):
            for _ in range(reps):
                acc += init_k(z[s], R[s], sp[s], new_j[s], cfg[5])[0].shape[0]
        return acc

    @njit
    def append_manage(tid, x, P, st, cp, hits, born, last, conf, nid, x0, p0, t, cfg, reps):  # type: ignore[no-untyped-def]
        c_hits, c_win, d_after, t_after, max_var = cfg[6], cfg[7], cfg[8], cfg[9], cfg[10]
        acc = 0
        for s in range(len(x)):
            for _ in range(reps):
                res = manage_k(
                    tid[s],
                    x[s],
                    P[s],
                    st[s],
                    cp[s],
                    hits[s],
                    born[s],
                    last[s],
                    conf[s],
                    nid[s],
                    x0[s],
                    p0[s],
                    t[s],
                    c_hits,
                    c_win,
                    d_after,
                    t_after,
                    max_var,
                )
                acc += res[0].shape[0]
        return acc

    return {
        "chain": chain,
        "scan": scan,
        "predict": predict,
        "gate": gate,
        "gated_cost": gated_cost,
        "lsa": lsa_loop,
        "update": update,
        "classify": classify,
        "initiate": initiate,
        "append_manage": append_manage,
    }


def check(fused: ModuleType, calls: list[tuple[Any, ...]], settings: tuple[Any, ...]) -> bool:
    """Replay every scan through ``fused.gnn_scan_kernel``: the same outputs as the working
    tree's kernel. Returns whether each scan's input tracks are the previous scan's output
    (so that the ``chain`` replay replays the run)."""
    from shorad.tracking._fused import gnn_scan_kernel

    chained = True
    for k, c in enumerate(calls):
        want = gnn_scan_kernel(*c, *settings)
        got = fused.gnn_scan_kernel(*c, *settings)
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a, b)
        if k + 1 < len(calls):
            nxt = calls[k + 1]
            n_new = int(np.count_nonzero(want[9] >= c[9]))
            chained &= nxt[9] == c[9] + n_new and all(
                a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
                for a, b in zip(want[:9], nxt[:9], strict=True)
            )
    return chained


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--baseline", default="HEAD", help="git revision, or 'none'")
    args = ap.parse_args()

    t0 = time.perf_counter()
    calls, settings = record()
    inputs = build_inputs(calls, settings)
    inputs["chain"] = inputs["scan"]
    n_scans = len(calls)
    print(
        f"recorded {n_scans} scans in {time.perf_counter() - t0:.1f} s; "
        f"mean tracks {np.mean([c[1].shape[0] for c in calls]):.1f}, "
        f"mean detections {np.mean([c[11].shape[0] for c in calls]):.1f}"
    )

    from shorad.tracking import _fused

    impls = {"current": _fused}
    if args.baseline != "none":
        impls = {"baseline": load_baseline(args.baseline), "current": _fused}
    loops = {}
    for name, mod in impls.items():
        t0 = time.perf_counter()
        chained = check(mod, calls, settings)
        loops[name] = make_loops(mod)
        for stage, fn in loops[name].items():
            fn(*inputs[stage], settings, 1)  # compile, warm up
        print(
            f"{name}: outputs equal the working tree's; compiled in "
            f"{time.perf_counter() - t0:.1f} s"
        )
    if not chained:
        print("warning: scans are not chained; 'chain' replays another run")

    stages = ("chain", "scan", *COMPONENTS)
    cold: dict[str, dict[str, list[float]]] = {n: {s: [] for s in stages} for n in impls}
    hot: dict[str, dict[str, list[float]]] = {n: {s: [] for s in stages} for n in impls}
    extra = 2
    for _ in range(args.repeats):
        for stage in stages:
            for name in impls:
                fn = loops[name][stage]
                c0 = time.process_time()
                fn(*inputs[stage], settings, 1)
                c1 = time.process_time()
                if stage != "chain":
                    fn(*inputs[stage], settings, 1 + extra)
                c2 = time.process_time()
                cold[name][stage].append((c1 - c0) / n_scans * 1e6)
                hot[name][stage].append(((c2 - c1) - (c1 - c0)) / extra / n_scans * 1e6)

    result: dict[str, Any] = {"scans": n_scans, "load_avg_1min": _load()}
    print(
        f"\nCPU us per scan, {n_scans} scans, median of {args.repeats} rounds (min in "
        "brackets); chain: tracks passed on from scan to scan as in the engine; scan cold: "
        "each scan on its recorded inputs; the rest: in-cache cost (see make_loops)"
    )
    print(f"{'':>14}" + "".join(f"{name:>20}" for name in impls))
    rows = [("chain", cold, "chain"), ("scan cold", cold, "scan"), ("scan", hot, "scan")]
    rows += [(c, hot, c) for c in COMPONENTS]
    for label, table, stage in [*rows, ("glue", hot, "glue")]:
        line = f"{label:>14}"
        for name in impls:
            if stage == "glue":
                med = statistics.median(table[name]["scan"]) - sum(
                    statistics.median(table[name][c]) for c in COMPONENTS
                )
                lo = float("nan")
            else:
                med = statistics.median(table[name][stage])
                lo = min(table[name][stage])
            line += f"{med:10.2f} ({lo:6.2f})"
            result.setdefault(name, {})[label] = round(med, 3)
        print(line)
    print(json.dumps(result))


def _load() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:  # pragma: no cover
        return float("nan")


if __name__ == "__main__":
    main()
