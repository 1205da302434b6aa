"""Candidate sites for rooftop units: thinned roof points, or a user list.

Thinning rule (roofs)
---------------------
Every building whose roof is at least ``min_height_m`` high and whose footprint lies within
``within_m`` of a defended asset offers its representative roof point
(:meth:`~shorad.geo.Buildings.roof_point`, written to a scenario as ``on: <building>``) plus
the points of a square grid of pitch ``grid_m`` that fall inside its footprint (written as a
``position``). All points stand ``mast_m`` above the roof. Excluded buildings offer nothing.
Points are then kept greedily, tallest roof first, so that no two kept points are closer than
``min_spacing_m`` (horizontal), and at most ``max_count`` are kept (the tallest).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray

from shorad.errors import ConfigError
from shorad.geo import World

__all__ = ["Candidates", "read_candidates", "roof_candidates"]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate unit sites (one row per site).

    Attributes
    ----------
    pos_m : (n, 3) float64
        Mount position (roof + mast), ENU metres.
    building : (n,) int64
        Building the site stands on, -1 for none.
    on_roof_point : (n,) bool
        True where the site is its building's representative roof point (``on:`` in a
        scenario file); False for other grid points and user positions (``position:``).
    mast_m : float
        Mast height above the roof (m).
    """

    pos_m: NDArray[np.float64]
    building: NDArray[np.int64]
    on_roof_point: NDArray[np.bool_]
    mast_m: float

    def __len__(self) -> int:
        return int(self.pos_m.shape[0])

    def take(self, idx: NDArray[np.int64]) -> Candidates:
        """The rows ``idx``."""
        return Candidates(
            self.pos_m[idx], self.building[idx], self.on_roof_point[idx], self.mast_m
        )


def _thin(
    pos_m: NDArray[np.float64], order: NDArray[np.int64], min_spacing_m: float, max_count: int
) -> NDArray[np.int64]:
    """Greedy spacing filter in ``order``; returns kept rows (at most ``max_count``)."""
    if min_spacing_m <= 0.0:
        return np.sort(order[:max_count])
    cell = min_spacing_m
    grid: dict[tuple[int, int], list[int]] = {}
    kept: list[int] = []
    for r in order.tolist():
        x, y = float(pos_m[r, 0]), float(pos_m[r, 1])
        gx, gy = math.floor(x / cell), math.floor(y / cell)
        ok = True
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for k in grid.get((gx + dx, gy + dy), ()):
                    if math.hypot(pos_m[k, 0] - x, pos_m[k, 1] - y) < min_spacing_m:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                break
        if ok:
            kept.append(r)
            grid.setdefault((gx, gy), []).append(r)
            if len(kept) >= max_count:
                break
    return np.sort(np.array(kept, np.int64))


def roof_candidates(
    world: World,
    near_xy_m: NDArray[np.float64],
    *,
    within_m: float = 600.0,
    mast_m: float = 3.0,
    min_height_m: float = 0.0,
    grid_m: float | None = 25.0,
    min_spacing_m: float = 0.0,
    max_count: int = 2000,
    exclude: Sequence[int] = (),
) -> Candidates:
    """Thinned roof points near the defended assets (see the module docstring).

    Parameters
    ----------
    world : World
    near_xy_m : (A, 2) float64
        Defended assets' positions (m).
    within_m : float, default 600
        Keep buildings whose footprint is within this distance of an asset (m).
    mast_m : float, default 3
    min_height_m : float, default 0
        Lowest usable roof (m).
    grid_m : float or None, default 25
        Pitch of the extra grid points on each roof (m); None for one point per building.
    min_spacing_m : float, default 0
        Smallest horizontal distance between two candidates (m).
    max_count : int, default 2000
    exclude : sequence of int
        No-go buildings (rows).

    Returns
    -------
    Candidates
    """
    if max_count < 1:
        raise ConfigError(f"must be >= 1, got {max_count}", field="max_count")
    if grid_m is not None and grid_m <= 0:
        raise ConfigError(f"must be > 0 m, got {grid_m}", field="grid_m")
    b = world.buildings
    near = np.asarray(near_xy_m, np.float64).reshape(-1, 2)
    rows = set()
    for c in near:
        rows.update(b.within(c, within_m).tolist())
    rows -= {int(e) for e in exclude}
    sel = np.array(sorted(r for r in rows if b.height_m[r] >= min_height_m), np.int64)
    pos: list[NDArray[np.float64]] = []
    bld: list[NDArray[np.int64]] = []
    rep: list[NDArray[np.bool_]] = []
    for r in sel.tolist():
        p = b.roof_point(r, mast_m)
        pts = [p[None, :]]
        if grid_m is not None:
            x0, y0, x1, y1 = b.polygons[r].bounds
            gx = np.arange(math.ceil(x0 / grid_m), math.floor(x1 / grid_m) + 1) * grid_m
            gy = np.arange(math.ceil(y0 / grid_m), math.floor(y1 / grid_m) + 1) * grid_m
            if gx.size and gy.size:
                xx, yy = np.meshgrid(gx, gy)
                xy = np.column_stack([xx.ravel(), yy.ravel()])
                inside = shapely.contains_xy(b.polygons[r], xy[:, 0], xy[:, 1])
                xy = xy[inside]
                far = np.hypot(xy[:, 0] - p[0], xy[:, 1] - p[1]) >= grid_m / 2
                xy = xy[far]
                if xy.size:
                    pts.append(np.column_stack([xy, np.full(len(xy), p[2])]))
        block = np.concatenate(pts)
        pos.append(block)
        bld.append(np.full(len(block), r, np.int64))
        flag = np.zeros(len(block), bool)
        flag[0] = True
        rep.append(flag)
    if not pos:
        return Candidates(np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0, bool), mast_m)
    all_pos = np.concatenate(pos)
    all_b = np.concatenate(bld)
    all_rep = np.concatenate(rep)
    # tallest first; a building's representative point before its grid points
    order = np.lexsort((~all_rep, -all_pos[:, 2])).astype(np.int64)
    keep = _thin(all_pos, order, min_spacing_m, max_count)
    return Candidates(all_pos[keep], all_b[keep], all_rep[keep], mast_m)


def read_candidates(path: str | Path, world: World, *, mast_m: float = 3.0) -> Candidates:
    """Candidate sites from a CSV (columns ``lat``/``lon``, or ``lat_deg``/``lon_deg``) or a
    GeoJSON file of Points (``[lon, lat]``); each stands ``mast_m`` above the roof under it (or
    the ground)."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"candidate file {str(p)!r} does not exist", field="--candidates")
    lat: list[float] = []
    lon: list[float] = []
    try:
        if p.suffix.lower() in (".geojson", ".json"):
            data = json.loads(p.read_text(encoding="utf-8"))
            feats = data.get("features", []) if data.get("type") == "FeatureCollection" else []
            for f in feats:
                g = f.get("geometry") or {}
                if g.get("type") == "Point":
                    lon.append(float(g["coordinates"][0]))
                    lat.append(float(g["coordinates"][1]))
        else:
            with p.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    lat.append(float(row.get("lat_deg", row.get("lat", "nan"))))
                    lon.append(float(row.get("lon_deg", row.get("lon", "nan"))))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{p}: expected a CSV with lat/lon columns or GeoJSON Points, failed with {exc}",
            field="--candidates",
        ) from None
    la, lo = np.array(lat, np.float64), np.array(lon, np.float64)
    if la.size == 0 or not (np.all(np.isfinite(la)) and np.all(np.isfinite(lo))):
        raise ConfigError(
            f"{p}: expected at least one point with finite lat/lon, got {la.size} points",
            field="--candidates",
        )
    enu = world.frame.enu_from_geodetic(la, lo, np.zeros(la.size))
    bld = world.buildings.at(enu[:, :2])
    heights = np.append(world.buildings.height_m, 0.0)
    pos = np.column_stack([enu[:, :2], heights[bld] + mast_m])
    return Candidates(pos, bld, np.zeros(la.size, bool), mast_m)
