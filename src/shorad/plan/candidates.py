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

__all__ = ["Candidates", "filter_candidates", "read_candidates", "roof_candidates"]


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


_MAX_FROM_ORIGIN_M = 20_000.0
"""A user candidate farther than this from the scenario origin is refused (swapped lat/lon?)."""


def _number(text: object, what: str, lo: float, hi: float, where: str) -> float:
    """``text`` as a float in [lo, hi], else a ConfigError naming ``where`` and ``what``."""
    try:
        v = float(str(text).strip()) if not isinstance(text, int | float) else float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ConfigError(
            f"{where}: {what} must be a number in [{lo:g}, {hi:g}] degrees, got {text!r}",
            field="--candidates",
        )
    return v


def _read_geojson(p: Path) -> tuple[list[float], list[float]]:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{p}: expected a GeoJSON FeatureCollection of Points, got invalid JSON ({exc})",
            field="--candidates",
        ) from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection":
        raise ConfigError(
            f"{p}: type must be 'FeatureCollection' (of Point features), got {kind!r}",
            field="--candidates",
        )
    lat: list[float] = []
    lon: list[float] = []
    feats = data.get("features")
    if not isinstance(feats, list):
        raise ConfigError(
            f"{p}: features must be a list of Point features, got {type(feats).__name__}",
            field="--candidates",
        )
    for k, f in enumerate(feats):
        g = f.get("geometry") if isinstance(f, dict) else None
        gtype = g.get("type") if isinstance(g, dict) else None
        coords = g.get("coordinates") if isinstance(g, dict) else None
        if gtype != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise ConfigError(
                f"{p}: features[{k}].geometry must be a Point with coordinates [lon, lat], "
                f"got {g!r}",
                field="--candidates",
            )
        where = f"{p}: features[{k}].geometry.coordinates"
        lon.append(_number(coords[0], "lon", -180.0, 180.0, where))
        lat.append(_number(coords[1], "lat", -90.0, 90.0, where))
    return lat, lon


def _read_csv(p: Path) -> tuple[list[float], list[float]]:
    lat: list[float] = []
    lon: list[float] = []
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = [c.strip() for c in (reader.fieldnames or [])]
            pick = next(
                (
                    (a, b)
                    for a, b in (("lat", "lon"), ("lat_deg", "lon_deg"))
                    if {a, b} <= set(cols)
                ),
                None,
            )
            if pick is None:
                raise ConfigError(
                    f"{p}: expected a header with columns lat,lon (or lat_deg,lon_deg), "
                    f"got columns {cols}",
                    field="--candidates",
                )
            reader.fieldnames = cols
            for row in reader:
                where = f"{p}: line {reader.line_num}"
                lat.append(_number(row.get(pick[0]), pick[0], -90.0, 90.0, where))
                lon.append(_number(row.get(pick[1]), pick[1], -180.0, 180.0, where))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{p}: expected a UTF-8 CSV with lat/lon columns, got undecodable bytes ({exc})",
            field="--candidates",
        ) from None
    return lat, lon


def read_candidates(path: str | Path, world: World, *, mast_m: float = 3.0) -> Candidates:
    """Candidate sites from a user file; each stands ``mast_m`` above the roof under it (or the
    ground).

    Parameters
    ----------
    path : str or Path
        A CSV with a header naming columns ``lat`` and ``lon`` (or ``lat_deg`` and
        ``lon_deg``), one site per row, or a GeoJSON FeatureCollection of Points
        (``[lon, lat]``; suffix ``.geojson`` or ``.json``). Degrees, WGS 84.
    world : World
    mast_m : float, default 3

    Returns
    -------
    Candidates

    Raises
    ------
    ConfigError
        (field ``--candidates``) if the file is missing, malformed, has no point, a
        coordinate that is not a number in range (the message names the line or feature), or
        a point more than 20 km from the scenario origin.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"expected 'roofs' or an existing CSV/GeoJSON file, got {str(p)!r} (no such file)",
            field="--candidates",
        )
    lat, lon = _read_geojson(p) if p.suffix.lower() in (".geojson", ".json") else _read_csv(p)
    la, lo = np.array(lat, np.float64), np.array(lon, np.float64)
    if la.size == 0:
        raise ConfigError(f"{p}: expected at least one point, got none", field="--candidates")
    enu = world.frame.enu_from_geodetic(la, lo, np.zeros(la.size))
    far = np.hypot(enu[:, 0], enu[:, 1])
    bad = np.flatnonzero(far > _MAX_FROM_ORIGIN_M)
    if bad.size:
        k = int(bad[0])
        raise ConfigError(
            f"{p}: point {k + 1} (lat {la[k]:g}, lon {lo[k]:g}) is {far[k] / 1000:.1f} km from "
            f"the scenario origin; expected within {_MAX_FROM_ORIGIN_M / 1000:g} km "
            "(lat and lon swapped?)",
            field="--candidates",
        )
    bld = world.buildings.at(enu[:, :2])
    heights = np.append(world.buildings.height_m, 0.0)
    pos = np.column_stack([enu[:, :2], heights[bld] + mast_m])
    return Candidates(pos, bld, np.zeros(la.size, bool), mast_m)


def filter_candidates(
    cand: Candidates, *, exclude: Sequence[int] = (), min_spacing_m: float = 0.0
) -> Candidates:
    """Drop candidates on no-go buildings, then thin to a minimum spacing (tallest first, the
    rule of :func:`roof_candidates`; ties keep the file order).

    Parameters
    ----------
    cand : Candidates
    exclude : sequence of int
        No-go buildings (rows).
    min_spacing_m : float, default 0
        Smallest horizontal distance between two kept candidates (m).

    Returns
    -------
    Candidates
    """
    if min_spacing_m < 0:
        raise ConfigError(f"must be >= 0 m, got {min_spacing_m}", field="--min-spacing")
    ok = ~np.isin(cand.building, np.asarray(list(exclude), np.int64))
    sub = cand.take(np.flatnonzero(ok))
    order = np.lexsort((np.arange(len(sub)), -sub.pos_m[:, 2])).astype(np.int64)
    keep = _thin(sub.pos_m, order, min_spacing_m, max(len(sub), 1))
    return sub.take(keep)
