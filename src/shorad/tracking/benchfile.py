"""Multi-target tracking benchmark files (``mtt-bench-*/1`` JSON Lines): read, write, generate.

The exchange format is specified in ``benchmarks/mtt/FORMAT.md`` of the shared folder: line 1 a
header object, then one object per scan in time order. Measurements (``.meas.jsonl``) are
the only input a tracker reads; truth (``.truth.jsonl``) is for the scorer; tracker output
(``.tracks.jsonl``) has the confirmed tracks after each scan and the scan's wall-clock latency.

Reading validates everything a tracker or scorer relies on and raises
:class:`~shorad.errors.ConfigError` naming the file, the line, the field, the value and what
was expected.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shorad.errors import ConfigError
from shorad.tracking.imm import build_cartesian_tracker
from shorad.tracking.linear import cv_process_noise, cv_transition
from shorad.tracking.mtt import METHODS, MttConfig

__all__ = [
    "MEAS_FORMAT",
    "TRACKER_METHODS",
    "TRACKS_FORMAT",
    "TRUTH_FORMAT",
    "BenchScan",
    "config_from_header",
    "generate_scenario",
    "read_meas",
    "read_tracks",
    "read_truth",
    "track_file",
    "write_jsonl",
]

MEAS_FORMAT = "mtt-bench-meas/1"
TRUTH_FORMAT = "mtt-bench-truth/1"
TRACKS_FORMAT = "mtt-bench-tracks/1"
TRACKER_METHODS = METHODS
"""Trackers ``track_file`` runs (the IMM variants are not available yet)."""


@dataclass(frozen=True, slots=True)
class BenchScan:
    """One scan of a benchmark file.

    Attributes
    ----------
    k : int
        Scan index.
    t_s : float
        Scan time (s).
    pos : (n, dim) float64
        Measurements, truth positions or track positions (m).
    ids : (n,) int64
        Truth or track ids (empty for measurements).
    vel : (n, dim) float64
        Truth velocities (m/s), zeros when the file has none.
    """

    k: int
    t_s: float
    pos: NDArray[np.float64]
    ids: NDArray[np.int64]
    vel: NDArray[np.float64]


def _err(path: Path, line: int, fld: str, msg: str) -> ConfigError:
    return ConfigError(msg, field=f"{path}:{line}: {fld}")


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot open: {exc.strerror}", field=str(path)) from None
    with fh:
        for i, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise _err(path, i, "line", f"not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise _err(path, i, "line", f"must be a JSON object, got {type(obj).__name__}")
            yield i, obj


def _number(path: Path, line: int, obj: dict[str, Any], key: str, cond: str = "") -> float:
    if key not in obj:
        raise _err(path, line, key, "missing")
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _err(path, line, key, f"must be a finite number, got {v!r}")
    if cond == ">0" and not v > 0:
        raise _err(path, line, key, f"must be > 0, got {v!r}")
    if cond == ">=0" and not v >= 0:
        raise _err(path, line, key, f"must be >= 0, got {v!r}")
    return float(v)


def _matrix(
    path: Path, line: int, key: str, v: Any, cols: int, rows: int | None = None
) -> NDArray[np.float64]:
    """A finite float matrix (r, cols) from a list of lists, or a clear error."""
    if not isinstance(v, list):
        raise _err(path, line, key, f"must be a list of rows, got {type(v).__name__}")
    for r, row in enumerate(v):
        if not isinstance(row, list) or len(row) != cols:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise _err(path, line, f"{key}[{r}]", f"must have {cols} numbers, got {got}")
        for c, e in enumerate(row):
            if isinstance(e, bool) or not isinstance(e, int | float):
                raise _err(path, line, f"{key}[{r}][{c}]", f"must be a number, got {e!r}")
            if not math.isfinite(e):
                raise _err(path, line, f"{key}[{r}][{c}]", f"must be finite, got {e!r}")
    if rows is not None and len(v) != rows:
        raise _err(path, line, key, f"must have {rows} rows, got {len(v)}")
    return np.array(v, dtype=np.float64).reshape(len(v), cols)


def _header(path: Path, expected_format: str) -> tuple[Iterator[tuple[int, Any]], dict[str, Any]]:
    it = _lines(path)
    first = next(it, None)
    if first is None:
        raise _err(path, 1, "header", "file is empty, expected a header line")
    line, head = first
    fmt = head.get("format")
    if fmt != expected_format:
        raise _err(path, line, "format", f"must be {expected_format!r}, got {fmt!r}")
    dim = head.get("dim")
    if dim not in (2, 3) or isinstance(dim, bool):
        raise _err(path, line, "dim", f"must be 2 or 3, got {dim!r}")
    return it, head


def _scans(
    path: Path, it: Iterator[tuple[int, Any]], key: str, cols: int, dim: int, ids: bool
) -> list[BenchScan]:
    out: list[BenchScan] = []
    last_t = -math.inf
    for line, obj in it:
        k = obj.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise _err(path, line, "k", f"must be an integer >= 0, got {k!r}")
        t = _number(path, line, obj, "t")
        if t < last_t:
            raise _err(path, line, "t", f"scans must be in time order, got {t} after {last_t}")
        last_t = t
        if key not in obj:
            raise _err(path, line, key, "missing")
        a = _matrix(path, line, key, obj[key], cols)
        if ids:
            idv = a[:, 0]
            if not np.all(idv == np.round(idv)):
                raise _err(path, line, key, "ids (first column) must be integers")
            out.append(
                BenchScan(
                    k,
                    t,
                    a[:, 1 : 1 + dim],
                    idv.astype(np.int64),
                    a[:, 1 + dim : 1 + 2 * dim]
                    if cols >= 1 + 2 * dim
                    else np.zeros((len(a), dim)),
                )
            )
        else:
            out.append(BenchScan(k, t, a, np.zeros(0, np.int64), np.zeros((0, dim))))
    return out


def read_meas(path: Path) -> tuple[dict[str, Any], list[BenchScan]]:
    """Read and validate a measurement file: its header and scans (``pos`` = measurements)."""
    it, head = _header(path, MEAS_FORMAT)
    return head, _scans(path, it, "z", int(head["dim"]), int(head["dim"]), ids=False)


def read_truth(path: Path) -> tuple[dict[str, Any], list[BenchScan]]:
    """Read and validate a truth file (rows ``[id, position..., velocity...]``)."""
    it, head = _header(path, TRUTH_FORMAT)
    d = int(head["dim"])
    return head, _scans(path, it, "truth", 1 + 2 * d, d, ids=True)


def read_tracks(path: Path) -> tuple[dict[str, Any], list[BenchScan]]:
    """Read and validate tracker output; a row has an id, ``dim`` positions and maybe more."""
    it, head = _header(path, TRACKS_FORMAT)
    d = int(head["dim"])
    out: list[BenchScan] = []
    last_t = -math.inf
    for line, obj in it:
        k = obj.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise _err(path, line, "k", f"must be an integer >= 0, got {k!r}")
        t = _number(path, line, obj, "t")
        if t < last_t:
            raise _err(path, line, "t", f"scans must be in time order, got {t} after {last_t}")
        last_t = t
        rows = obj.get("tracks")
        if not isinstance(rows, list):
            raise _err(path, line, "tracks", f"must be a list of rows, got {rows!r}")
        cut = []
        for r, row in enumerate(rows):
            if not isinstance(row, list) or len(row) < 1 + d:
                raise _err(path, line, f"tracks[{r}]", f"must have an id and {d} numbers")
            cut.append(row[: 1 + d])
        a = _matrix(path, line, "tracks", cut, 1 + d)
        if not np.all(a[:, 0] == np.round(a[:, 0])):
            raise _err(path, line, "tracks", "ids (first column) must be integers")
        out.append(BenchScan(k, t, a[:, 1:], a[:, 0].astype(np.int64), np.zeros((len(a), d))))
    return head, out


def config_from_header(
    head: dict[str, Any], method: str, path: Path = Path("<header>")
) -> MttConfig:
    """Tracker settings from a measurement header's model parameters (defaults where absent).

    ``q``, ``R`` (or ``sigma``), ``pd`` and the clutter density ``clutter_rate / volume(region)``
    are used when present.
    """
    d = int(head["dim"])
    kw: dict[str, Any] = {"dim": d, "method": method, "R_m2": 9.0 * np.eye(d)}
    if "q" in head:
        kw["q_m2ps3"] = _number(path, 1, head, "q", ">=0")
    if "R" in head:
        kw["R_m2"] = _matrix(path, 1, "R", head["R"], d, rows=d)
    elif "sigma" in head:
        kw["R_m2"] = _number(path, 1, head, "sigma", ">0") ** 2 * np.eye(d)
    if "pd" in head:
        kw["pd"] = _number(path, 1, head, "pd", ">0")
    if "clutter_rate" in head and "region" in head:
        rate = _number(path, 1, head, "clutter_rate", ">=0")
        region = _matrix(path, 1, "region", head["region"], 2, rows=d)
        vol = float(np.prod(region[:, 1] - region[:, 0]))
        if vol <= 0.0:
            raise _err(path, 1, "region", "each [low, high] must have high > low")
        kw["clutter_density"] = max(rate, 1e-3) / vol
    try:
        return MttConfig(**kw)
    except ConfigError as exc:
        raise _err(path, 1, "header", str(exc)) from None


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> None:
    """Write objects as JSON Lines (to a temporary file first, then renamed into place)."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for obj in lines:
            fh.write(json.dumps(obj, separators=(",", ":")))
            fh.write("\n")
    tmp.replace(path)


def track_file(
    meas_path: Path, out_path: Path, method: str = "gnn", **overrides: Any
) -> dict[str, Any]:
    """Run the tracker on a measurement file and write the tracks file.

    Parameters
    ----------
    meas_path : Path
        ``*.meas.jsonl``.
    out_path : Path
        ``*.tracks.jsonl`` to write.
    method : str
        ``gnn``, ``jpda``, ``imm-gnn`` or ``imm-jpda``.
    **overrides
        :class:`MttConfig` fields overriding the header's values.

    Returns
    -------
    dict
        ``scans``, ``wall_s`` (sum of per-scan latencies) and latency percentiles (s).
    """
    from dataclasses import replace

    from shorad._version import __version__

    if method not in TRACKER_METHODS:
        raise ConfigError(f"must be one of {TRACKER_METHODS}, got {method!r}", field="--tracker")
    head, scans = read_meas(meas_path)
    cfg = replace(config_from_header(head, method, meas_path), **overrides)
    tracker = build_cartesian_tracker(cfg)
    d = cfg.dim
    lines: list[dict[str, Any]] = [
        {
            "format": TRACKS_FORMAT,
            "tracker": f"shorad-{method}",
            "dim": d,
            "shorad_version": __version__,
            "meas": meas_path.name,
        }
    ]
    t0 = scans[0].t_s if scans else 0.0
    tracks: Any = tracker.initial(t0)  # MttTracks or ImmTracks (same track fields)
    lat = np.zeros(len(scans))
    for i, sc in enumerate(scans):
        c0 = time.perf_counter()
        tracks = tracker.step(tracks, sc.pos, sc.t_s)
        conf = tracks.confirmed
        rows = np.concatenate([tracks.track_id[conf, None], tracks.x[conf]], axis=1)
        lat[i] = time.perf_counter() - c0
        out_rows = [[int(r[0]), *(round(float(v), 4) for v in r[1:])] for r in rows]
        lines.append(
            {"k": sc.k, "t": sc.t_s, "tracks": out_rows, "latency_s": round(float(lat[i]), 7)}
        )
    write_jsonl(out_path, lines)
    return {
        "scans": len(scans),
        "wall_s": float(lat.sum()),
        "latency_p50_s": float(np.percentile(lat, 50)) if lat.size else 0.0,
        "latency_p95_s": float(np.percentile(lat, 95)) if lat.size else 0.0,
        "latency_max_s": float(lat.max(initial=0.0)),
    }


def generate_scenario(
    n_targets: int,
    *,
    rng: np.random.Generator,
    seed: int,
    dim: int = 2,
    scans: int = 100,
    dt_s: float = 1.0,
    q_m2ps3: float = 0.5,
    sigma_m: float = 3.0,
    pd: float = 0.9,
    clutter_rate: float = 10.0,
    half_width_m: float = 1000.0,
    speed_mps: tuple[float, float] = (5.0, 15.0),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The reference scenario family of FORMAT.md: measurement and truth lines.

    ``n_targets`` born at scan 0 uniformly inside the inner 80 % of the region
    ``[-half_width_m, half_width_m]^dim``, speed uniform in ``speed_mps`` with a uniformly random
    heading (3-D: uniformly random direction), moving with the NCV model of spectral density
    ``q_m2ps3``; each detected with probability ``pd``, measured with Gaussian noise
    ``sigma_m`` per axis; Poisson(``clutter_rate``) false measurements per scan uniform over the
    region; measurements shuffled. All targets live for all scans.

    Returns
    -------
    meas_lines, truth_lines : list of dict
        The JSON objects of the two files, headers first.
    """
    d = dim
    lo = 0.8 * half_width_m
    pos = rng.uniform(-lo, lo, (n_targets, d))
    speed = rng.uniform(speed_mps[0], speed_mps[1], n_targets)
    direc = rng.normal(size=(n_targets, d))
    if d == 2:
        ang = rng.uniform(0.0, 2.0 * np.pi, n_targets)
        direc = np.stack([np.cos(ang), np.sin(ang)], 1)
    else:
        direc /= np.linalg.norm(direc, axis=1, keepdims=True)
    x = np.concatenate([pos, speed[:, None] * direc], 1)
    f = cv_transition(d, dt_s)
    chol_q = np.linalg.cholesky(cv_process_noise(d, dt_s, q_m2ps3) + 1e-12 * np.eye(2 * d))
    names = ["x", "y", "z"][:d]
    state_order = [s for a in names for s in (a, "v" + a)]
    region = [[-half_width_m, half_width_m]] * d
    r = (sigma_m**2 * np.eye(d)).tolist()
    common = {
        "dim": d,
        "dt": dt_s,
        "scans": scans,
        "t0": 0.0,
        "state_order": state_order,
        "q": q_m2ps3,
        "R": r,
        "sigma": sigma_m,
        "pd": pd,
        "clutter_rate": clutter_rate,
        "region": region,
        "seed": seed,
    }
    meas: list[dict[str, Any]] = [{"format": MEAS_FORMAT, **common}]
    truth: list[dict[str, Any]] = [
        {
            "format": TRUTH_FORMAT,
            **common,
            "n_targets": n_targets,
            "truth_row": ["id", *names, *("v" + a for a in names)],
        }
    ]
    ids = np.arange(1, n_targets + 1)
    for k in range(scans):
        t = k * dt_s
        if k:
            x = x @ f.T + rng.normal(size=x.shape) @ chol_q.T
        det = rng.random(n_targets) < pd
        zt = x[det, :d] + sigma_m * rng.normal(size=(int(det.sum()), d))
        nc = int(rng.poisson(clutter_rate))
        zc = rng.uniform(-half_width_m, half_width_m, (nc, d))
        z = np.concatenate([zt, zc])
        origin = np.concatenate([ids[det], -np.ones(nc, np.int64)])
        perm = rng.permutation(z.shape[0])
        z, origin = z[perm], origin[perm]
        meas.append({"k": k, "t": t, "z": np.round(z, 4).tolist()})
        rows = np.concatenate([ids[:, None], np.round(x, 4)], 1).tolist()
        truth.append(
            {
                "k": k,
                "t": t,
                "truth": [[int(rw[0]), *rw[1:]] for rw in rows],
                "origin": origin.tolist(),
            }
        )
    return meas, truth
