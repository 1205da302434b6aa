"""Demand: the airspace threats must cross to reach the defended assets.

Around each asset, points on ``rings_m`` (horizontal distance) x ``n_bearings`` (evenly
spaced, clockwise from north) x ``altitudes_m`` (above ground). Points inside a building
taller than the point are dropped. Weights:

* each asset's points share its ``value``;
* a point whose bearing (from the asset) lies in a raid group's approach sector that can
  target the asset weighs 1, any other ``off_axis_weight`` (default 0.2);
* a point within the raid classes' altitude band (lowest cruise altitude to highest dive
  start) weighs 1, any other 0.5.

The weights are normalised so that an asset's points sum to its value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad.sim.spec import ScenarioSpec

__all__ = ["Demand", "approach_demand"]


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
