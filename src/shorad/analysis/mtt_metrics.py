"""Multi-target tracking metrics: GOSPA and OSPA with components, and track continuity.

GOSPA (Rahmathullah, García-Fernández & Svensson (2017)) between truth positions ``X`` (n) and
estimates ``Y`` (m), cut-off ``c``, order ``p``, ``alpha = 2``::

    d = ( min_assignment  sum_assigned min(d(x, y), c)^p  +  c^p / 2 (n + m - 2 |assigned|) )^(1/p)

solved exactly with :func:`scipy.optimize.linear_sum_assignment` on ``min(d, c)^p``; an assigned
pair at ``d >= c`` counts as one missed and one false (``c^p / 2`` each, which equals ``c^p``),
so the components are: localisation = ``sum d^p`` over assigned pairs with ``d < c``,
missed = ``c^p / 2`` per truth without such a pair, false = ``c^p / 2`` per estimate without
one. OSPA (Schuhmacher, Vo & Vo (2008)) is
``( (min sum min(d, c)^p + c^p |m - n|) / max(m, n) )^(1/p)``.

Continuity is scored on the GOSPA assignment (pairs closer than ``c``): for each truth, the
sequence of track ids it is paired with over time gives id switches (the paired id changes),
fragmentations (the truth becomes unpaired and is paired again) and the time from its first
appearance to its first pairing (time to confirm, for a tracker that reports confirmed tracks).

References
----------
.. [1] A. S. Rahmathullah, Á. F. García-Fernández, L. Svensson, "Generalized optimal
   sub-pattern assignment metric", FUSION 2017.
.. [2] D. Schuhmacher, B.-T. Vo, B.-N. Vo, "A consistent metric for performance evaluation of
   multi-object filters", IEEE Trans. Signal Processing 56(8), 2008.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from shorad.errors import ConfigError
from shorad.tracking.benchfile import read_tracks, read_truth

__all__ = ["GospaScan", "MttScore", "gospa", "ospa", "score_files", "score_scans"]


@dataclass(frozen=True, slots=True)
class GospaScan:
    """GOSPA of one scan and its components (``gospa^p = localisation + missed + false``).

    Attributes
    ----------
    gospa : float
        GOSPA distance (m for p = 1).
    localisation : float
        Sum of ``d^p`` of the assigned pairs with ``d < c``.
    missed : float
        ``c^p / 2`` per unassigned truth.
    false : float
        ``c^p / 2`` per unassigned estimate.
    n_missed, n_false : int
        Counts behind the components.
    truth_idx, est_idx : (a,) int64
        The assigned pairs (``d < c``), indices into the truth and estimate rows.
    """

    gospa: float
    localisation: float
    missed: float
    false: float
    n_missed: int
    n_false: int
    truth_idx: NDArray[np.int64]
    est_idx: NDArray[np.int64]


def _assign(
    x: NDArray[np.float64], y: NDArray[np.float64], c: float, p: float
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    if x.shape[0] == 0 or y.shape[0] == 0:
        e = np.zeros(0, np.int64)
        return np.zeros(0), e, e
    diff = x[:, None, :] - y[None, :, :]
    d = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    cost = np.minimum(d, c) ** p
    ri, ci = linear_sum_assignment(cost)
    dd = d[ri, ci]
    return dd, ri.astype(np.int64), ci.astype(np.int64)


def gospa(
    x: NDArray[np.float64], y: NDArray[np.float64], c: float = 10.0, p: float = 1.0
) -> GospaScan:
    """GOSPA (``alpha = 2``) between truth ``x`` (n, d) and estimates ``y`` (m, d) (m).

    Parameters
    ----------
    x : (n, d) float64
        Truth positions.
    y : (m, d) float64
        Estimated positions.
    c : float
        Cut-off distance (m), > 0.
    p : float
        Order, >= 1.

    Returns
    -------
    GospaScan
    """
    dd, ri, ci = _assign(x, y, c, p)
    ok = dd < c
    n_pairs = int(ok.sum())
    loc = float(np.sum(dd[ok] ** p))
    n_missed = x.shape[0] - n_pairs
    n_false = y.shape[0] - n_pairs
    half = c**p / 2.0
    total = loc + half * (n_missed + n_false)
    return GospaScan(
        total ** (1.0 / p),
        loc,
        half * n_missed,
        half * n_false,
        n_missed,
        n_false,
        ri[ok],
        ci[ok],
    )


def ospa(x: NDArray[np.float64], y: NDArray[np.float64], c: float = 10.0, p: float = 1.0) -> float:
    """OSPA distance between ``x`` (n, d) and ``y`` (m, d) (m); 0 when both are empty."""
    n, m = x.shape[0], y.shape[0]
    if max(n, m) == 0:
        return 0.0
    dd, _, _ = _assign(x, y, c, p)
    total = float(np.sum(np.minimum(dd, c) ** p)) + c**p * abs(m - n)
    return float((total / max(m, n)) ** (1.0 / p))


@dataclass(frozen=True, slots=True)
class MttScore:
    """Scores of a tracker run over all scans (means over scans, start-up included).

    Attributes
    ----------
    scans : int
    gospa, localisation, missed, false, ospa : float
        Means over scans.
    n_missed, n_false : float
        Mean counts per scan.
    id_switches : int
        Total changes of the track id paired with a truth.
    fragmentations : int
        Total returns of a truth to being tracked after a gap.
    mean_time_to_confirm_s : float
        Mean over truths ever tracked of (first paired time - first appearance time), s.
    never_tracked : int
        Truths never paired with a track.
    """

    scans: int
    gospa: float
    localisation: float
    missed: float
    false: float
    ospa: float
    n_missed: float
    n_false: float
    id_switches: int
    fragmentations: int
    mean_time_to_confirm_s: float
    never_tracked: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON-serialisable dict in field order."""
        return {k: getattr(self, k) for k in self.__slots__}


def score_scans(
    t_s: Sequence[float],
    truth_ids: Sequence[NDArray[np.int64]],
    truth_pos: Sequence[NDArray[np.float64]],
    track_ids: Sequence[NDArray[np.int64]],
    track_pos: Sequence[NDArray[np.float64]],
    c: float = 10.0,
    p: float = 1.0,
) -> MttScore:
    """GOSPA, OSPA and continuity over a run, one entry per scan in time order.

    Parameters
    ----------
    t_s : sequence of float
        Scan times (s).
    truth_ids, truth_pos : sequences of (n_k,) int64 and (n_k, d) float64
        Truth ids and positions per scan.
    track_ids, track_pos : sequences of (m_k,) int64 and (m_k, d) float64
        Track ids and positions per scan (empty arrays for a scan without tracks).
    c, p : float
        GOSPA cut-off (m) and order.

    Returns
    -------
    MttScore
    """
    k = len(t_s)
    g = np.zeros((k, 4))
    o = np.zeros(k)
    cnt = np.zeros((k, 2))
    last_id: dict[int, int] = {}
    tracked_prev: dict[int, bool] = {}
    first_seen: dict[int, float] = {}
    first_tracked: dict[int, float] = {}
    switches = frags = 0
    for s in range(k):
        gs = gospa(truth_pos[s], track_pos[s], c, p)
        g[s] = gs.gospa, gs.localisation, gs.missed, gs.false
        cnt[s] = gs.n_missed, gs.n_false
        o[s] = ospa(truth_pos[s], track_pos[s], c, p)
        paired = dict(
            zip(
                truth_ids[s][gs.truth_idx].tolist(),
                track_ids[s][gs.est_idx].tolist(),
                strict=True,
            )
        )
        for tid in truth_ids[s].tolist():
            first_seen.setdefault(tid, float(t_s[s]))
            trk = paired.get(tid)
            if trk is None:
                tracked_prev[tid] = False
                continue
            if tid not in first_tracked:
                first_tracked[tid] = float(t_s[s])
            else:
                if not tracked_prev.get(tid, False):
                    frags += 1
                if last_id.get(tid, trk) != trk:
                    switches += 1
            last_id[tid] = trk
            tracked_prev[tid] = True
    ttc = [first_tracked[t] - first_seen[t] for t in first_tracked]
    mean = g.mean(axis=0) if k else np.zeros(4)
    return MttScore(
        scans=k,
        gospa=float(mean[0]),
        localisation=float(mean[1]),
        missed=float(mean[2]),
        false=float(mean[3]),
        ospa=float(o.mean()) if k else 0.0,
        n_missed=float(cnt[:, 0].mean()) if k else 0.0,
        n_false=float(cnt[:, 1].mean()) if k else 0.0,
        id_switches=switches,
        fragmentations=frags,
        mean_time_to_confirm_s=float(np.mean(ttc)) if ttc else float("nan"),
        never_tracked=len(first_seen) - len(first_tracked),
    )


def score_files(
    truth_path: Path, tracks_path: Path, c: float = 10.0, p: float = 1.0
) -> dict[str, Any]:
    """Score a ``.tracks.jsonl`` file against its ``.truth.jsonl`` (FORMAT.md's GOSPA).

    Scans are those of the truth file; a scan index missing from the tracks file counts as no
    tracks. Returns :meth:`MttScore.as_dict` plus the settings (``c``, ``p``, ``alpha``), the
    tracker's name and the summed ``latency_s`` when the tracks file has them.

    Raises
    ------
    ConfigError
        If a file is malformed or the two files' dimensions differ.
    """
    th, truth = read_truth(truth_path)
    kh, tracks = read_tracks(tracks_path)
    if th["dim"] != kh["dim"]:
        raise ConfigError(
            f"dim {kh['dim']} differs from the truth file's dim {th['dim']}",
            field=f"{tracks_path}:1: dim",
        )
    by_k = {sc.k: sc for sc in tracks}
    d = int(th["dim"])
    empty_ids = np.zeros(0, np.int64)
    empty_pos = np.zeros((0, d))
    trk = [by_k.get(sc.k) for sc in truth]
    score = score_scans(
        [sc.t_s for sc in truth],
        [sc.ids for sc in truth],
        [sc.pos for sc in truth],
        [empty_ids if s is None else s.ids for s in trk],
        [empty_pos if s is None else s.pos for s in trk],
        c,
        p,
    )
    out: dict[str, Any] = {"tracker": kh.get("tracker", "?"), **score.as_dict()}
    out.update({"c": c, "p": p, "alpha": 2})
    return out
