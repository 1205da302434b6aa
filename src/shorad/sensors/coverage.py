"""Coverage maps and warning times of a set of sensors against a reference target class.

For each altitude layer (height above ground) and each grid cell, :func:`analyse_coverage`
computes the probability that at least one sensor detects the reference target in one scan
(one look of each sensor at it),

    P = 1 - prod_s (1 - Pd_s),   Pd_s = single-look Pd x [in coverage] x [line of sight],

with each sensor's own model (radar equation with Swerling fluctuation and horizon loss,
EO/IR range curve, RF emitter test) and elevation/range limits; line of sight from each sensor
to every point of a layer is one batched query. Cells inside a building taller than the layer
are NaN.

Warning time, per defended asset, layer and approach bearing: a target flies level at the
layer's height, straight towards the asset at the class's speed ``v``. Its first likely
detection is the farthest point on that line where

* ``mode="single"``: one scan detects it with ``P >= threshold``; or
* ``mode="cumulative"``: the probability of at least one detection accumulated over the
  scans so far reaches ``threshold``, with sensor ``s`` taking ``ds / (v revisit_s)`` looks
  per path step ``ds`` (a continuous-time approximation of independent looks):
  ``P_cum(d) = 1 - exp(sum_{d' >= d} sum_s ds/(v T_s) ln(1 - Pd_s(d')))``.

The warning time is that distance over ``v`` (0 if never detected); the shortest over the
bearings is the asset's warning time for the layer. The line starts at the farthest range at
which any sensor could see it (its distance plus its range) unless ``max_distance_m`` is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from shorad.geo import World
from shorad.sensors.base import Sensor, polar_from_cartesian

__all__ = ["Coverage", "analyse_coverage", "grid_axes", "sensor_pd"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Coverage maps and warning times of one analysis.

    Attributes
    ----------
    x_m : (nx,) float64
        Cell centres, east (m).
    y_m : (ny,) float64
        Cell centres, north (m).
    alt_m : (L,) float64
        Layer heights above ground (m).
    pd : (L, ny, nx) float64
        Probability that at least one sensor detects the target in one scan; NaN inside
        buildings taller than the layer.
    bearing_rad : (B,) float64
        Approach bearings (from the asset, clockwise from north).
    detect_distance_m : (A, L, B) float64
        Horizontal distance from each asset at first likely detection (0 if never).
    warning_s : (A, L, B) float64
        ``detect_distance_m / speed_mps``.
    speed_mps : float
    mode : str
        ``"single"`` or ``"cumulative"``.
    threshold : float
    """

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    pd: NDArray[np.float64]
    bearing_rad: NDArray[np.float64]
    detect_distance_m: NDArray[np.float64]
    warning_s: NDArray[np.float64]
    speed_mps: float
    mode: str
    threshold: float

    @property
    def min_warning_s(self) -> NDArray[np.float64]:
        """(A, L) shortest warning time over the bearings."""
        out: NDArray[np.float64] = np.min(self.warning_s, axis=2)
        return out

    @property
    def worst_bearing_rad(self) -> NDArray[np.float64]:
        """(A, L) bearing of the shortest warning time."""
        out: NDArray[np.float64] = self.bearing_rad[np.argmin(self.warning_s, axis=2)]
        return out


def grid_axes(
    box_m: tuple[float, float, float, float], cell_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cell-centre axes of a grid over ``box_m = (xmin, ymin, xmax, ymax)`` with ``cell_m``."""
    xmin, ymin, xmax, ymax = box_m
    nx = max(1, math.ceil((xmax - xmin) / cell_m - 1e-9))
    ny = max(1, math.ceil((ymax - ymin) / cell_m - 1e-9))
    x = xmin + cell_m * (np.arange(nx, dtype=np.float64) + 0.5)
    y = ymin + cell_m * (np.arange(ny, dtype=np.float64) + 0.5)
    return x, y


def sensor_pd(
    sensors: Sequence[Sensor],
    world: World,
    pts_m: NDArray[np.float64],
    rcs_dbsm: float,
    emits: bool,
    *,
    los: bool = True,
) -> NDArray[np.float64]:
    """Single-look Pd (S, n) of each sensor at points ``pts_m`` (n, 3), coverage and LOS applied.

    One batched line-of-sight query per sensor (for the points in its coverage); with
    ``los=False`` none (the caller batches its own, e.g. the siting planner).
    """
    n = pts_m.shape[0]
    out = np.zeros((len(sensors), n))
    rcs = np.full(n, float(rcs_dbsm))
    em = np.full(n, bool(emits))
    for i, s in enumerate(sensors):
        z = polar_from_cartesian(pts_m - s.pos_m)
        ok = s.in_coverage(z)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            continue
        pd = s.single_look_pd(z[idx], rcs[idx], em[idx])
        live = pd > 0.0
        idx, pd = idx[live], pd[live]
        if los and idx.size and getattr(s, "requires_los", True):
            clear = world.los(np.broadcast_to(s.pos_m, (idx.size, 3)), pts_m[idx])
            idx, pd = idx[clear], pd[clear]
        out[i, idx] = pd
    return out


def analyse_coverage(
    world: World,
    sensors: Sequence[Sensor],
    x_m: NDArray[np.float64],
    y_m: NDArray[np.float64],
    alt_m: Sequence[float],
    *,
    rcs_dbsm: float,
    emits: bool,
    speed_mps: float,
    asset_xy_m: NDArray[np.float64],
    n_bearings: int = 36,
    step_m: float = 10.0,
    max_distance_m: float | None = None,
    mode: Literal["single", "cumulative"] = "single",
    threshold: float = 0.5,
) -> Coverage:
    """Coverage maps over a grid and warning times per asset (see the module docstring).

    Parameters
    ----------
    world : World
    sensors : sequence of Sensor
    x_m, y_m : (nx,), (ny,) float64
        Grid cell centres (m), e.g. from :func:`grid_axes`.
    alt_m : sequence of float
        Layer heights above ground (m).
    rcs_dbsm : float
        Reference target's radar cross-section.
    emits : bool
        Whether the reference target emits a control link (RF detection).
    speed_mps : float
        Reference target's speed (warning times).
    asset_xy_m : (A, 2) float64
        Defended assets' positions (m).
    n_bearings : int, default 36
    step_m : float, default 10.0
        Sampling step along each approach line (m).
    max_distance_m : float, optional
        Start of the approach lines (m from the asset).
    mode : {"single", "cumulative"}
    threshold : float, default 0.5

    Returns
    -------
    Coverage
    """
    if speed_mps <= 0 or step_m <= 0 or n_bearings < 1:
        raise ValueError(
            f"speed_mps, step_m must be > 0 and n_bearings >= 1, got {speed_mps}, {step_m}, "
            f"{n_bearings}"
        )
    alts = np.asarray(alt_m, np.float64).reshape(-1)
    xx, yy = np.meshgrid(x_m, y_m)
    cell_xy = np.column_stack([xx.ravel(), yy.ravel()])
    n_cells = cell_xy.shape[0]
    bld = world.buildings.at(cell_xy)
    heights = np.append(world.buildings.height_m, -np.inf)  # row -1: no building
    roof = heights[bld]

    assets = np.asarray(asset_xy_m, np.float64).reshape(-1, 2)
    n_a = assets.shape[0]
    bearings = np.arange(n_bearings, dtype=np.float64) * (2.0 * math.pi / n_bearings)
    if max_distance_m is None:
        reach = [
            float(np.hypot(*(s.pos_m[:2] - a)) + s.max_range_m) for s in sensors for a in assets
        ]
        max_distance_m = max(reach, default=step_m)
    n_d = max(1, math.ceil(max_distance_m / step_m))
    dist = step_m * np.arange(n_d + 1)  # 0 (at the asset) .. max
    dirs = np.column_stack([np.sin(bearings), np.cos(bearings)])  # (B, 2)
    ray_xy = assets[:, None, None, :] + dist[None, None, :, None] * dirs[None, :, None, :]
    ray_xy = ray_xy.reshape(-1, 2)  # (A * B * D, 2)
    n_ray = ray_xy.shape[0]
    period = np.array([s.revisit_s for s in sensors], np.float64)

    pd_map = np.empty((alts.size, n_cells))
    det_d = np.zeros((n_a, alts.size, n_bearings))
    for k, h in enumerate(alts):
        pts = np.empty((n_cells + n_ray, 3))
        pts[:n_cells, :2] = cell_xy
        pts[n_cells:, :2] = ray_xy
        pts[:, 2] = h
        per = sensor_pd(sensors, world, pts, rcs_dbsm, emits)  # (S, n)
        miss = np.clip(1.0 - per, 1e-300, 1.0)
        p_any = 1.0 - np.prod(miss, axis=0)
        pd_map[k] = np.where(roof > h, np.nan, p_any[:n_cells])
        shape = (n_a, n_bearings, n_d + 1)
        if mode == "single":
            p_line = p_any[n_cells:].reshape(shape)
        else:
            looks = (step_m / (speed_mps * period))[:, None]  # (S, 1)
            log_miss = (looks * np.log(miss[:, n_cells:])).sum(axis=0).reshape(shape)
            # accumulate from the far end inwards
            cum = np.cumsum(log_miss[..., ::-1], axis=-1)[..., ::-1]
            p_line = 1.0 - np.exp(cum)
        ok = p_line >= threshold
        far = np.where(ok.any(axis=-1), n_d - np.argmax(ok[..., ::-1], axis=-1), 0)
        det_d[:, k, :] = dist[far]
    return Coverage(
        x_m=np.asarray(x_m, np.float64),
        y_m=np.asarray(y_m, np.float64),
        alt_m=alts,
        pd=pd_map.reshape(alts.size, y_m.size, x_m.size),
        bearing_rad=bearings,
        detect_distance_m=det_d,
        warning_s=det_d / speed_mps,
        speed_mps=float(speed_mps),
        mode=mode,
        threshold=float(threshold),
    )
