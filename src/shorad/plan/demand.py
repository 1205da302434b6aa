"""Demand: the airspace threats must cross to reach the defended assets.

Two kinds, both a :class:`Demand` feeding the same coverage and solvers.

Approach volumes (:func:`approach_demand`)
------------------------------------------
Around each asset, points on ``rings_m`` (horizontal distance) x ``n_bearings`` (evenly
spaced, clockwise from north) x ``altitudes_m`` (above ground). Points inside a building
taller than the point are dropped. Weights:

* each asset's points share its ``value``;
* a point whose bearing (from the asset) lies in a raid group's approach sector that can
  target the asset weighs 1, any other ``off_axis_weight`` (default 0.2);
* a point within the raid classes' altitude band (lowest cruise altitude to highest dive
  start) weighs 1, any other 0.5.

The weights are normalised so that an asset's points sum to its value.

Sampled raids (:func:`raid_demand`)
-----------------------------------
``samples`` raids are planned with the threats stage's own planner
(:func:`shorad.threats.plan_raid`); raid ``k`` is the raid the simulation flies with seed
``seed + k`` (the ``"threats"`` stream of :class:`shorad.rng.RunStreams`). Along every
threat's path, points every ``spacing_m`` (measured along the path, so equally spaced in
time: the path is flown at constant speed) within ``within_m`` horizontally of the threat's
aim point are kept, except those inside a building. Each threat carries its target asset's
value divided by ``samples``, spread evenly over its kept points (its time in the volume), so
the total weight is the expected value attacked by one raid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad.errors import ConfigError
from shorad.rng import RunStreams
from shorad.sim.spec import ScenarioSpec
from shorad.threats import plan_raid

__all__ = ["Demand", "approach_demand", "raid_demand"]


@dataclass(frozen=True, slots=True)
class Demand:
    """Weighted demand points (one row per point).

    Attributes
    ----------
    pos_m : (m, 3) float64
        ENU metres.
    weight : (m,) float64
    asset : (m,) int64
        Asset the point approaches.
    ring_m : (m,) float64
        Horizontal distance from that asset (m).
    """

    pos_m: NDArray[np.float64]
    weight: NDArray[np.float64]
    asset: NDArray[np.int64]
    ring_m: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.pos_m.shape[0])


def _in_sector(bearing: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.bool_]:
    span = (hi - lo) % (2 * math.pi) if not math.isclose(hi - lo, 2 * math.pi) else 2 * math.pi
    return np.asarray(((bearing - lo) % (2 * math.pi)) <= span + 1e-12)


def approach_demand(
    spec: ScenarioSpec,
    *,
    rings_m: Sequence[float] = (75.0, 150.0, 250.0, 400.0),
    n_bearings: int = 24,
    altitudes_m: Sequence[float] | None = None,
    off_axis_weight: float = 0.2,
) -> Demand:
    """Demand points on the approaches to every asset (see the module docstring).

    Parameters
    ----------
    spec : ScenarioSpec
    rings_m : sequence of float
        Horizontal distances from each asset (m).
    n_bearings : int, default 24
    altitudes_m : sequence of float, optional
        Heights above ground (m); default four levels from 30 m to the raid's highest cruise
        altitude (at least 120 m).
    off_axis_weight : float, default 0.2

    Returns
    -------
    Demand
    """
    classes = [spec.classes[g.cls] for g in spec.raid]
    lo_band = min((c.cruise_alt_m for c in classes), default=30.0)
    hi_band = max((max(c.cruise_alt_m, c.dive_start_m) for c in classes), default=150.0)
    if altitudes_m is None:
        top = max(120.0, max((c.cruise_alt_m for c in classes), default=120.0))
        altitudes_m = tuple(np.linspace(30.0, top, 4).tolist())
    rings = np.asarray(rings_m, np.float64)
    alts = np.asarray(altitudes_m, np.float64)
    bearings = np.arange(n_bearings) * (2 * math.pi / n_bearings)
    rr, bb, hh = np.meshgrid(rings, bearings, alts, indexing="ij")
    rr, bb, hh = rr.ravel(), bb.ravel(), hh.ravel()
    heights = np.append(spec.world.buildings.height_m, -np.inf)
    pos, wt, ast, ring = [], [], [], []
    for a in range(len(spec.assets)):
        c = spec.assets.aim_m[a]
        xy = np.column_stack([c[0] + rr * np.sin(bb), c[1] + rr * np.cos(bb)])
        free = heights[spec.world.buildings.at(xy)] < hh
        on_axis = np.zeros(bb.size, bool)
        for g in spec.raid:
            if g.target in (-1, a):
                on_axis |= _in_sector(bb, g.bearing_rad[0], g.bearing_rad[1])
        w = np.where(on_axis, 1.0, off_axis_weight)
        w *= np.where((hh >= lo_band - 1e-9) & (hh <= hi_band + 1e-9), 1.0, 0.5)
        w = w[free]
        if w.size == 0:
            continue
        w *= float(spec.assets.value[a]) / w.sum()
        pos.append(np.column_stack([xy[free], hh[free]]))
        wt.append(w)
        ast.append(np.full(w.size, a, np.int64))
        ring.append(rr[free])
    if not pos:
        return Demand(np.zeros((0, 3)), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))
    return Demand(
        np.concatenate(pos), np.concatenate(wt), np.concatenate(ast), np.concatenate(ring)
    )


def _path_points(
    vert_m: NDArray[np.float64], spacing_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``spacing_m`` along a polyline (from its first vertex, the last vertex
    included), and the arc length of each (m)."""
    seg = np.linalg.norm(np.diff(vert_m, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    s = np.arange(0.0, total, spacing_m) if total > 0 else np.zeros(0)
    s = np.append(s, total)
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, max(len(seg) - 1, 0))
    frac = np.where(seg[k] > 0, (s - cum[k]) / np.where(seg[k] > 0, seg[k], 1.0), 0.0)
    pts = vert_m[k] + frac[:, None] * (vert_m[k + 1] - vert_m[k])
    return pts, s


def raid_demand(
    spec: ScenarioSpec,
    *,
    samples: int = 8,
    seed: int | None = None,
    spacing_m: float = 25.0,
    within_m: float = 400.0,
) -> Demand:
    """Demand points along the trajectories of sampled raids (see the module docstring).

    Parameters
    ----------
    spec : ScenarioSpec
    samples : int, default 8
        Number of raids sampled.
    seed : int, optional
        Seed of the first raid (raid ``k`` uses ``seed + k``); default the scenario's seed.
    spacing_m : float, default 25
        Distance between points along a path (m).
    within_m : float, default 400
        Keep points within this horizontal distance of the threat's aim point (m).

    Returns
    -------
    Demand
        ``asset`` is the threat's target, ``ring_m`` the point's horizontal distance from
        that asset's aim point.

    Raises
    ------
    ConfigError
        If ``samples`` < 1, ``spacing_m`` <= 0 or ``within_m`` <= 0.
    """
    if samples < 1:
        raise ConfigError(f"must be >= 1, got {samples}", field="--raid-samples")
    if not spacing_m > 0:
        raise ConfigError(f"must be > 0 m, got {spacing_m}", field="spacing_m")
    if not within_m > 0:
        raise ConfigError(f"must be > 0 m, got {within_m}", field="within_m")
    base = spec.seed if seed is None else int(seed)
    if base < 0:
        raise ConfigError(f"must be >= 0, got {base}", field="--seed")
    heights = np.append(spec.world.buildings.height_m, -np.inf)
    pos, wt, ast, ring = [], [], [], []
    for k in range(samples):
        rng = RunStreams(base + k).generator("threats")
        plan = plan_raid(spec.raid, spec.classes, spec.assets, rng=rng)
        for i in range(len(plan)):
            a = int(plan.target[i])
            pts, _ = _path_points(plan.vert_m[i], spacing_m)
            centre = spec.assets.aim_m[a]
            dist = np.hypot(pts[:, 0] - centre[0], pts[:, 1] - centre[1])
            keep = dist <= within_m
            keep &= heights[spec.world.buildings.at(pts[:, :2])] < pts[:, 2]
            if not keep.any():
                continue
            n_kept = int(keep.sum())
            pos.append(pts[keep])
            wt.append(np.full(n_kept, float(spec.assets.value[a]) / samples / n_kept))
            ast.append(np.full(n_kept, a, np.int64))
            ring.append(dist[keep])
    if not pos:
        return Demand(np.zeros((0, 3)), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))
    return Demand(
        np.concatenate(pos), np.concatenate(wt), np.concatenate(ast), np.concatenate(ring)
    )
