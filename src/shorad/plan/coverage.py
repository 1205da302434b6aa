"""Coverage of demand points by candidate sites, and the covering problem of each objective.

Site ``i`` *sees* demand point ``j`` when one of the unit type's sensors has a single-look Pd
of at least ``pd_min`` against the reference target there (its own range, elevation and
Pd model, :func:`shorad.sensors.sensor_pd`) and the segment between them is clear of
buildings; it *can engage* ``j`` when ``j`` lies inside one of its effectors' envelopes
(``min_range_m <= slant range <= max_range_m``, altitude ``<= max_alt_m``) in line of sight.
An optional planning range ``max_range_m`` caps both (e.g. 300 m for small drones in streets).
Line of sight is one batched :meth:`~shorad.geo.World.los` call per chunk of candidates.

Objectives (each becomes a weighted maximal-covering problem ``(A, w, beta)``):

* ``coverage``: ``A = S & E`` (seen and engageable by the same site; a unit type without
  sensors or without effectors uses the other alone); maximise the weight covered once.
* ``backup``: the same ``A``; a second covering site adds ``beta`` (default 0.5) of the weight.
* ``layered``: two layers per demand point: early warning ``S`` with 1/3 of its weight, and
  engagement ``S & E`` with 2/3 of its weight times an engagement-depth factor
  ``ring_m / max(ring_m)`` (an engagement farther out along the approach leaves time to look
  and shoot again), so the sites that both see and engage far out are preferred.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from shorad.c2.base import EffectorType
from shorad.errors import ConfigError
from shorad.geo import World
from shorad.plan.candidates import Candidates
from shorad.plan.demand import Demand
from shorad.sensors import SensorConfig, make_sensor, sensor_pd

__all__ = [
    "CoverProblem",
    "SiteCoverage",
    "UnitType",
    "compute_coverage",
    "cover_problem",
    "covered_weight",
]

Objective = Literal["coverage", "backup", "layered"]


@dataclass(frozen=True, slots=True)
class UnitType:
    """What one planned unit carries, and how coverage is judged.

    Attributes
    ----------
    name : str
    sensors : tuple of SensorConfig
    effectors : tuple of EffectorType
    rcs_dbsm : float
        Reference target's radar cross-section.
    emits : bool
        Whether the reference target emits (RF detection).
    pd_min : float
        Single-look Pd that counts as seen.
    max_range_m : float or None
        Planning range cap (m).
    """

    name: str
    sensors: tuple[SensorConfig, ...]
    effectors: tuple[EffectorType, ...]
    rcs_dbsm: float = -20.0
    emits: bool = True
    pd_min: float = 0.5
    max_range_m: float | None = None


@dataclass(frozen=True, slots=True)
class SiteCoverage:
    """Boolean coverage matrices, candidates x demand (``scipy.sparse.csr_array``).

    Attributes
    ----------
    seen : (n, m) csr bool
        Sensor coverage with line of sight.
    engage : (n, m) csr bool
        Effector coverage with line of sight.
    in_range_pairs, los_blocked_pairs : int
        Pairs tested for line of sight, and those blocked.
    """

    seen: sp.csr_array
    engage: sp.csr_array
    in_range_pairs: int
    los_blocked_pairs: int


@dataclass(frozen=True, slots=True)
class CoverProblem:
    """Weighted maximal covering: choose ``p`` rows of ``a`` to maximise
    ``sum_j w_j (min(c_j, 1) + beta [c_j >= 2])``, ``c_j`` the chosen rows covering ``j``.

    Attributes
    ----------
    a : (n, m) csr bool
    w : (m,) float64
    beta : float
        Weight of a second covering site, in [0, 1).
    """

    a: sp.csr_array
    w: NDArray[np.float64]
    beta: float = 0.0

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.a.shape[0])


def _reach(unit: UnitType) -> float:
    r = max(
        [s.max_range_m for s in unit.sensors] + [e.max_range_m for e in unit.effectors],
        default=0.0,
    )
    return r if unit.max_range_m is None else min(r, unit.max_range_m)


def compute_coverage(
    world: World,
    cand: Candidates,
    demand: Demand,
    unit: UnitType,
    *,
    chunk: int = 128,
    progress: Callable[[int, int], None] | None = None,
) -> SiteCoverage:
    """Sensor and effector coverage of every demand point by every candidate (module doc).

    Parameters
    ----------
    world : World
    cand : Candidates
    demand : Demand
    unit : UnitType
    chunk : int, default 128
        Candidates per batched line-of-sight call.
    progress : callable, optional
        Called with ``(done, total)`` candidates after each chunk.

    Returns
    -------
    SiteCoverage
    """
    if not unit.sensors and not unit.effectors:
        raise ConfigError(f"unit type {unit.name!r} has neither a sensor nor an effector")
    n, m = len(cand), len(demand)
    cap = _reach(unit)
    d = demand.pos_m
    rows_s: list[NDArray[np.int64]] = []
    cols_s: list[NDArray[np.int64]] = []
    rows_e: list[NDArray[np.int64]] = []
    cols_e: list[NDArray[np.int64]] = []
    tested = blocked = 0
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        c = cand.pos_m[start:stop]
        diff = d[None, :, :] - c[:, None, :]
        slant = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        ii, jj = np.nonzero(slant <= cap)
        s_ok = np.zeros(ii.size, bool)
        s_los = np.zeros(ii.size, bool)  # seen only if in LOS
        if unit.sensors and ii.size:
            bounds = np.searchsorted(ii, np.arange(stop - start + 1))
            for k in range(stop - start):
                lo, hi = int(bounds[k]), int(bounds[k + 1])
                if lo == hi:
                    continue
                sensors = [make_sensor(cfg, 0, c[k]) for cfg in unit.sensors]
                pd = sensor_pd(sensors, world, d[jj[lo:hi]], unit.rcs_dbsm, unit.emits, los=False)
                ok = pd >= unit.pd_min
                need = np.array([getattr(s, "requires_los", True) for s in sensors], bool)
                s_los[lo:hi] = (ok & need[:, None]).any(axis=0)
                s_ok[lo:hi] = (ok & ~need[:, None]).any(axis=0)
        e_ok = np.zeros(ii.size, bool)
        for e in unit.effectors:
            r = slant[ii, jj]
            e_ok |= (r >= e.min_range_m) & (r <= e.max_range_m) & (d[jj, 2] <= e.max_alt_m)
        need = s_los | e_ok
        idx = np.flatnonzero(need)
        clear = np.zeros(ii.size, bool)
        if idx.size:
            clear[idx] = world.los(c[ii[idx]], d[jj[idx]])
        tested += int(idx.size)
        blocked += int(idx.size - clear[idx].sum())
        seen = s_ok | (s_los & clear)
        eng = e_ok & clear
        rows_s.append(ii[seen] + start)
        cols_s.append(jj[seen])
        rows_e.append(ii[eng] + start)
        cols_e.append(jj[eng])
        if progress is not None:
            progress(stop, n)

    def mat(r: list[NDArray[np.int64]], cc: list[NDArray[np.int64]]) -> sp.csr_array:
        rr = np.concatenate(r) if r else np.zeros(0, np.int64)
        col = np.concatenate(cc) if cc else np.zeros(0, np.int64)
        return sp.csr_array((np.ones(rr.size, bool), (rr, col)), shape=(n, m))

    return SiteCoverage(mat(rows_s, cols_s), mat(rows_e, cols_e), tested, blocked)


def cover_problem(
    cov: SiteCoverage,
    demand: Demand,
    unit: UnitType,
    objective: Objective = "coverage",
    *,
    backup_weight: float = 0.5,
) -> CoverProblem:
    """The covering problem of an objective (see the module docstring)."""
    if unit.sensors and unit.effectors:
        both = (cov.seen.multiply(cov.engage)).astype(bool).tocsr()
    elif unit.sensors:
        both = cov.seen
    else:
        both = cov.engage
    if objective == "coverage":
        return CoverProblem(sp.csr_array(both), demand.weight.copy(), 0.0)
    if objective == "backup":
        if not 0.0 <= backup_weight < 1.0:
            raise ConfigError(f"must be in [0, 1), got {backup_weight}", field="backup_weight")
        return CoverProblem(sp.csr_array(both), demand.weight.copy(), float(backup_weight))
    if objective == "layered":
        depth = demand.ring_m / max(float(demand.ring_m.max(initial=0.0)), 1e-9)
        warn = cov.seen if unit.sensors else cov.engage
        a = sp.hstack([warn, both], format="csr").astype(bool)
        w = np.concatenate([demand.weight / 3.0, demand.weight * (2.0 / 3.0) * depth])
        return CoverProblem(sp.csr_array(a), w, 0.0)
    raise ConfigError(
        f"unknown objective {objective!r}; expected coverage, backup or layered",
        field="--objective",
    )


def covered_weight(problem: CoverProblem, sites: Sequence[int]) -> float:
    """Objective value of a set of sites."""
    x = np.zeros(problem.n_sites)
    x[list(sites)] = 1.0
    c = problem.a.T.astype(np.float64) @ x
    return float(problem.w @ (np.minimum(c, 1.0) + problem.beta * (c >= 2.0)))
