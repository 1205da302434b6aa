"""Exact line of sight through a 2.5-D city of building prisms.

Model
-----
Building k is the prism ``P_k x (-inf, height_m[k])``: its footprint polygon ``P_k`` (holes
included) extruded up to the roof. Prisms extend below ground so that a segment passing under
z = 0 is still blocked where it is inside a footprint; the ground itself is not an occluder
here (terrain is a later issue).

Convention (tolerance ``LOS_TOL_M`` = 1e-6 m)
---------------------------------------------
A segment ``a -> b`` is *blocked* iff it really passes through the inside of a prism:

* its horizontal path runs through the **open interior** of a footprint over a stretch longer
  than ``LOS_TOL_M`` (footprint vertices within ``LOS_TOL_M`` of the path count as on it), and
* somewhere on that stretch it is **more than** ``LOS_TOL_M`` **below the roof**.

Consequences: grazing along a wall, touching a corner or running exactly along a roof edge or
over a roof at roof height is *clear*; an end point strictly inside a prism is *blocked*; a
sensor at roof height (``mast_m = 0``) on its own roof sees everything that the segment reaches
without dipping below the roof line, and a segment from such a sensor down over the roof edge
is blocked. A *vertical* segment (horizontal extent <= ``LOS_TOL_M``) is blocked iff its xy is
inside a footprint, more than ``LOS_TOL_M`` from its boundary, and its lower end is more than
``LOS_TOL_M`` below that roof.

Algorithm
---------
Along the segment's 2-D line ``a + t (b - a)``, the crossings with footprint edges split the
line into inside and outside intervals (crossing parity; two symbolic perturbations of the line
settle vertices lying on it, and the interior is where both agree). ``z`` is linear in ``t``,
so on an inside interval ``[u, v]`` (clipped to [0, 1]) the lowest point is an end:
blocked iff ``min(z(u), z(v)) < height - LOS_TOL_M``. The numba kernel
(:func:`shorad.geo._kernels.segment_hits`) clips each segment to ``z <= max roof``, walks a
uniform grid of cells (:class:`LosIndex`) along it, prunes cells and buildings by height,
bounding box and oriented box, and applies the same interval test;
:func:`_segment_hits_reference` is the vectorised numpy reference.

Every shortcut of the kernel is conservative, so its answers equal the reference's:

* buildings in a cell come tallest first, and the walk stops reading a cell at the first roof
  below the segment's lowest point there;
* for the line of sight alone, the walk runs towards higher z (from ``b`` when the segment
  descends), so the segment only rises; it stops, clear, on entering a cell whose *horizon*
  for the segment's direction sector and slope it is above (the highest
  ``roof - slope x distance`` of the buildings ahead of the cell in that sector, see
  :func:`shorad.geo._kernels.horizon_table`);
* for the line of sight alone, a segment that runs more than 1 cm through a box lying inside
  a footprint (1 cm clear of its boundary), more than 1 mm below the roof, is blocked without
  the exact test.

The horizon table and the inner boxes take about 0.5 s to build for the 1,296 Monaco prisms,
so they live in an accelerated copy of the index that :func:`line_of_sight` builds once a
city has been asked about :data:`_ACCELERATE_AFTER_SEGMENTS` segments.

Origin grouping: a sensor's segments all start at its mount. The kernel counts the
non-vertical, non-descending segments per start point ``a`` (a small hash table on the
point's bits); once :data:`_ORIGIN_GROUP_MIN` have left one point, it computes that point's
*horizon* (:func:`shorad.geo._kernels.origin_horizon`: per direction sector, a slope above
which a segment rising from the point is clear, from the buildings around it edge by edge
and the cells and blocks of cells farther away at their tallest roof) and *sure blockers*
(:func:`shorad.geo._kernels.origin_blockers`: per sector, a disc inside a nearby taller
footprint that every direction of the sector crosses: a segment below the slope to its
entry and long enough is blocked). Later segments from the point above the horizon are
clear, and (line of sight alone) those under a sure blocker are blocked, with no walk.
Both are conservative by margins, so the answers are the same with or without them
(``_segment_hits(..., group=False)``). :func:`line_of_sight` keeps the table with the city
between calls (the horizons depend only on the buildings and the point), used by one
caller at a time; a batch of mostly distinct start points stops hashing after 16,384
segments.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from shorad.errors import ConfigError, GeometryError
from shorad.geo.buildings import Buildings

__all__ = [
    "LOS_TOL_M",
    "LosIndex",
    "LosKernelArgs",
    "build_los_index",
    "first_hit_distance",
    "line_of_sight",
    "los_kernel_args",
]

LOS_TOL_M = 1e-6
"""Geometric tolerance of the line-of-sight test (m), see the module docstring."""

_MARGIN_M = 0.01
"""Conservative margin (m) of the pruning tests: bounding boxes are grown by it."""

_HORIZON_SECTORS = 8
"""Direction sectors of the horizon table (equal steps of the diamond angle)."""
_HORIZON_SLOPES = 16
"""Slopes of the horizon table: ``j**2 / _HORIZON_SLOPE_SCALE`` for j < 16 (0 ... 3.5)."""
_HORIZON_SLOPE_SCALE = 64.0
_HORIZON_MAX_PAIRS = 30_000_000
"""Largest (cells x buildings) for which the horizon table is built (about 1 s); above
it the accelerated index has no horizon table (``S = 0``)."""
_ACCELERATE_AFTER_SEGMENTS = 1_000_000
"""Segments asked about one city (all calls together) after which :func:`line_of_sight`
builds and caches the accelerated index (horizon table, inner boxes): about 0.5 s for
Monaco, the time the plain index takes for some 2 million segments."""
_ORIGIN_SECTORS = 128
"""Direction sectors of a per-origin horizon (see :func:`shorad.geo._kernels.origin_horizon`)."""
_ORIGIN_GROUP_MIN = 1024
"""Segments rising from one point (all calls together while the city keeps its table) after
which that point gets its own horizon and sure blockers: their build (≈ 30-60 µs) pays for
itself after about as many segments (≈ 35-45 ns saved on each), so a call with a few hundred
segments per point runs as fast as without grouping, and a sensor's later scans from its
mount get them."""
_ORIGIN_NEAR_CELLS = 2
"""Half-width (cells) of the block around an origin whose buildings its horizon reads edge
by edge (farther cells count as boxes at their tallest roof)."""
_ORIGIN_BLOCKER_CELLS = 3
"""Half-width (cells) of the block around an origin whose buildings' discs and inner boxes
give its sure blockers (see :func:`shorad.geo._kernels.origin_blockers`)."""
_ORIGIN_SLOTS = 4096
"""Slots of the per-city origin hash table (a power of 2; at most half of them take points,
and a full table is started afresh at the next call)."""
_ORIGIN_CACHE_KEY = "los_origin_horizons"
_ORIGIN_LOCK_KEY = "los_origin_lock"
_ORIGIN_BLOCK = 4
"""Side (cells) of the blocks that a per-origin horizon reads as boxes when they are far."""
_ORIGIN_SPLIT_CELLS = 8.0
"""Blocks nearer than this many cell sides to an origin are read cell by cell."""
_NO_HORIZON = np.zeros((0, 1, 1), dtype=np.uint8)
"""Horizon table of an index without one (no sectors: the walk never stops early)."""


def _quantised_horizon(
    bbox: NDArray[np.float64],
    height: NDArray[np.float64],
    origin: tuple[float, float],
    cell_m: float,
    nx: int,
    ny: int,
) -> tuple[NDArray[np.uint8], float, float]:
    """Horizon table of a grid quantised up to uint8 levels: ``(table, slope_scale, step_m)``.

    Level ``q`` stands for ``q * step_m`` with ``step_m = max roof / 254``; each entry is the
    smallest level at or above the exact value (``-inf`` and values <= 0 give level 0).
    """
    from shorad.geo._kernels import horizon_table

    step_m = max(float(height.max()), 1e-9) / 254.0
    if nx * ny * height.shape[0] > _HORIZON_MAX_PAIRS:
        return _NO_HORIZON, _HORIZON_SLOPE_SCALE, step_m
    slopes = np.arange(_HORIZON_SLOPES, dtype=np.float64) ** 2 / _HORIZON_SLOPE_SCALE
    exact = horizon_table(
        bbox, height, _MARGIN_M, origin[0], origin[1], cell_m, nx, ny, _HORIZON_SECTORS, slopes
    )
    table = np.ascontiguousarray(_quantise_up(exact, step_m).transpose(1, 2, 0))
    return table, _HORIZON_SLOPE_SCALE, step_m


def _block_max(cell_hmax: NDArray[np.float64], nx: int, ny: int) -> NDArray[np.float64]:
    """Tallest roof (nby, nbx) of each block of ``_ORIGIN_BLOCK`` x ``_ORIGIN_BLOCK`` cells."""
    bs = _ORIGIN_BLOCK
    nbx, nby = -(-nx // bs), -(-ny // bs)
    pad = np.full((nby * bs, nbx * bs), -np.inf)
    pad[:ny, :nx] = cell_hmax.reshape(ny, nx)
    return np.ascontiguousarray(pad.reshape(nby, bs, nbx, bs).max(axis=(1, 3)))


def _oriented_boxes(
    buildings: Buildings, edges: NDArray[np.float64], edge_start: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Oriented boxes ``[ux, uy, u0, u1, v0, v1]`` (b, 6) around the footprints, grown by
    ``_MARGIN_M``: axis from the minimum rotated rectangle, extents from the edges' ends."""
    nb = len(buildings)
    out = np.zeros((nb, 6), dtype=np.float64)
    if nb == 0:
        return out
    env = shapely.oriented_envelope(np.asarray(buildings.polygons, dtype=object))
    axis = np.tile([1.0, 0.0], (nb, 1))
    poly = shapely.get_type_id(env) == 3
    if np.any(poly):
        ring = shapely.get_coordinates(shapely.get_exterior_ring(env[poly])).reshape(-1, 5, 2)
        side = ring[:, 1] - ring[:, 0]
        length = np.hypot(side[:, 0], side[:, 1])
        ok = length > 0.0
        axis[np.flatnonzero(poly)[ok]] = side[ok] / length[ok, None]
    owner = np.repeat(np.arange(nb), np.diff(edge_start))
    ux, uy = axis[owner, 0], axis[owner, 1]
    su = np.concatenate([edges[:, 0] * ux + edges[:, 1] * uy, edges[:, 2] * ux + edges[:, 3] * uy])
    sv = np.concatenate([edges[:, 1] * ux - edges[:, 0] * uy, edges[:, 3] * ux - edges[:, 2] * uy])
    own2 = np.concatenate([owner, owner])
    out[:, :2] = axis
    for col, vals, fill, ufunc in (
        (2, su, np.inf, np.minimum),
        (3, su, -np.inf, np.maximum),
        (4, sv, np.inf, np.minimum),
        (5, sv, -np.inf, np.maximum),
    ):
        acc = np.full(nb, fill)
        ufunc.at(acc, own2, vals)
        out[:, col] = acc
    out[:, [2, 4]] -= _MARGIN_M
    out[:, [3, 5]] += _MARGIN_M
    return out


def _inner_boxes(buildings: Buildings, obb: NDArray[np.float64]) -> NDArray[np.float64]:
    """Oriented boxes inside the footprints (b, 6), same layout as ``obb``.

    Candidates: the outer box shrunk about its centre by factors in u and v, and the square
    inscribed in the largest inscribed circle; kept: the largest one that the footprint
    properly contains even when grown by ``2 * _MARGIN_M``. ``u0 = 1 > u1 = -1`` where none
    fits.
    """
    nb = len(buildings)
    out = _no_inner_boxes(obb)
    if nb == 0:
        return out
    polys = np.asarray(buildings.polygons, dtype=object)
    ux, uy = obb[:, 0], obb[:, 1]
    cu, cv = 0.5 * (obb[:, 2] + obb[:, 3]), 0.5 * (obb[:, 4] + obb[:, 5])
    hu = 0.5 * (obb[:, 3] - obb[:, 2]) - _MARGIN_M
    hv = 0.5 * (obb[:, 5] - obb[:, 4]) - _MARGIN_M
    factors = (0.98, 0.9, 0.8, 0.65, 0.5, 0.35, 0.2)
    candidates = [(cu, cv, fu * hu, fv * hv) for fu in factors for fv in factors]
    if hasattr(shapely, "maximum_inscribed_circle"):  # shapely >= 2.1
        circle = shapely.maximum_inscribed_circle(polys, tolerance=0.05)
        centre = shapely.get_coordinates(shapely.get_point(circle, 0))
        half_sq = shapely.length(circle) / math.sqrt(2.0)
        ccu = centre[:, 0] * ux + centre[:, 1] * uy
        ccv = centre[:, 1] * ux - centre[:, 0] * uy
        candidates.insert(0, (ccu, ccv, half_sq, half_sq))
    best_area = np.zeros(nb)
    for mu, mv, au, av in candidates:
        u0, u1, v0, v1 = mu - au, mu + au, mv - av, mv + av
        area = 4.0 * au * av
        try_ = (area > best_area) & (au > 0.0) & (av > 0.0)
        if not np.any(try_):
            continue
        corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
        ring = np.stack(
            [np.column_stack([a * ux - b * uy, a * uy + b * ux]) for a, b in corners], 1
        )
        boxes = shapely.polygons(ring[try_])
        grown = shapely.buffer(boxes, 2 * _MARGIN_M, join_style="mitre")
        ok = np.zeros(nb, dtype=bool)
        ok[try_] = shapely.contains_properly(polys[try_], grown)
        out[ok, 2:] = np.column_stack([u0, u1, v0, v1])[ok]
        best_area[ok] = area[ok]
    return out


def _inner_discs(buildings: Buildings) -> NDArray[np.float64]:
    """Discs ``[cx, cy, rho]`` (b, 3) inside the footprints: each footprint's largest
    inscribed circle (shapely, 5 cm tolerance) shrunk by 1 % and 10 cm, kept where the
    footprint properly contains the disc grown by ``2 * _MARGIN_M`` (checked on a 128-gon
    around the grown circle, 0.5 % larger); ``rho = 0`` elsewhere."""
    nb = len(buildings)
    out = np.zeros((nb, 3), dtype=np.float64)
    if nb == 0 or not hasattr(shapely, "maximum_inscribed_circle"):  # shapely >= 2.1
        return out
    polys = np.asarray(buildings.polygons, dtype=object)
    circle = shapely.maximum_inscribed_circle(polys, tolerance=0.05)
    centre = shapely.get_coordinates(shapely.get_point(circle, 0))
    rho = 0.99 * shapely.length(circle) - 0.1  # it touches the boundary (to 5 cm)
    grown = shapely.buffer(shapely.points(centre), rho * 1.005 + 2 * _MARGIN_M, quad_segs=32)
    ok = (rho > 0.0) & shapely.contains_properly(polys, grown)
    out[ok, :2] = centre[ok]
    out[ok, 2] = rho[ok]
    return out


def _no_inner_boxes(obb: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inner boxes of an index without them: every one empty (``u0 = 1 > u1 = -1``)."""
    out = np.zeros_like(obb)
    out[:, :2] = obb[:, :2]
    out[:, 2], out[:, 3] = 1.0, -1.0
    return out


def _quantise_up(values: NDArray[np.float64], step_m: float) -> NDArray[np.uint8]:
    """Smallest levels ``q`` in [0, 255] with ``q * step_m >= values`` (values <= 255 steps)."""
    with np.errstate(invalid="ignore"):
        q = np.clip(np.ceil(np.maximum(values, 0.0) / step_m), 0.0, 255.0)
    q += (q * step_m < values) & (q < 255.0)  # float rounding of the division
    return q.astype(np.uint8)


@dataclass(frozen=True, slots=True, eq=False)
class LosIndex:
    """Flat arrays for the line-of-sight kernel: edges by building and a uniform cell grid.

    Attributes
    ----------
    edges_m : (E, 4) float64
        ``[x0, y0, x1, y1]`` of every footprint ring edge (m), grouped by building.
    edge_start : (b + 1,) int64
        Edges of building k are rows ``edge_start[k]:edge_start[k + 1]``.
    height_m : (b,) float64
        Roof heights (m).
    bbox_m : (b, 4) float64
        Footprint boxes ``[xmin, ymin, xmax, ymax]`` (m).
    grid_origin_m : tuple of 2 float
        Lower-left corner of cell (0, 0) (m).
    cell_m : float
        Side of the square cells (m).
    nx, ny : int
        Number of cells east and north; cell ``(ix, iy)`` has flat index ``iy * nx + ix``.
    cell_start : (nx * ny + 1,) int64
        Buildings of cell c are ``cell_items[cell_start[c]:cell_start[c + 1]]``.
    cell_items : (m,) int32
        Rows of the buildings whose bounding box (grown by 1 cm) overlaps each cell, tallest
        roof first within a cell.
    cell_max_height_m : (nx * ny,) float64
        Tallest roof registered in each cell (m), ``-inf`` for an empty cell.
    max_edges : int
        Largest number of edges of one building.
    horizon : (S, K, nx * ny) uint8
        Quantised horizon heights (see :func:`shorad.geo._kernels.horizon_table`) per
        direction sector, slope ``j**2 / horizon_slope_scale`` and cell (one contiguous map
        of the grid per sector and slope): level ``q`` stands for ``q * horizon_step_m`` m,
        rounded up. A segment walked upwards stops as soon as it enters a cell above the
        horizon of its sector. Shape ``(0, 1, 1)`` when the table
        would be too costly to build (more than :data:`_HORIZON_MAX_PAIRS` cell-building
        pairs): no early stop.
    horizon_slope_scale : float
        Slope ``j`` of the horizon table is ``j**2 / horizon_slope_scale``.
    horizon_step_m : float
        Height of one quantisation level of the horizon table (m).
    obb_m : (b, 6) float64
        Oriented boxes around the footprints, grown by 1 cm: ``[ux, uy, u0, u1, v0, v1]``,
        the box ``u0 <= p . u <= u1``, ``v0 <= p . v <= v1`` with ``u`` the unit axis of the
        footprint's minimum rotated rectangle and ``v = (-uy, ux)`` (m).
    inner_m : (b, 6) float64
        Oriented boxes inside the footprints, same axes and layout, properly inside even when
        grown by 2 cm (``u0 > u1`` where none was found): a segment through one is inside
        the footprint there.
    disc_m : (b, 3) float64
        Discs ``[cx, cy, rho]`` properly inside the footprints even when grown by 2 cm (m;
        ``rho = 0`` where none was found), for the per-origin sure blockers (see
        :func:`shorad.geo._kernels.origin_blockers`); all ``rho = 0`` in the plain index.
    block_hmax_m : (nby, nbx) float64
        Tallest roof of each block of :data:`_ORIGIN_BLOCK` x :data:`_ORIGIN_BLOCK` cells (m),
        ``-inf`` where empty (read by the per-origin horizons, see
        :func:`shorad.geo._kernels.origin_horizon`).
    """

    edges_m: NDArray[np.float64]
    edge_start: NDArray[np.int64]
    height_m: NDArray[np.float64]
    bbox_m: NDArray[np.float64]
    grid_origin_m: tuple[float, float]
    cell_m: float
    nx: int
    ny: int
    cell_start: NDArray[np.int64]
    cell_items: NDArray[np.int32]
    cell_max_height_m: NDArray[np.float64]
    max_edges: int
    horizon: NDArray[np.uint8]
    horizon_slope_scale: float
    horizon_step_m: float
    obb_m: NDArray[np.float64]
    inner_m: NDArray[np.float64]
    disc_m: NDArray[np.float64]
    block_hmax_m: NDArray[np.float64]


def build_los_index(
    buildings: Buildings, cell_m: float | None = None, *, accelerated: bool = False
) -> LosIndex:
    """Build the :class:`LosIndex` of a city (usually via ``buildings.los_index``).

    Parameters
    ----------
    buildings : Buildings
        The city.
    cell_m : float, optional
        Grid cell size (m). Default: 1.5 x the median footprint size, clipped to [10, 100] m,
        and enlarged so that the grid has at most 4 million cells.
    accelerated : bool, default False
        Also build the horizon table and the inner boxes (about 0.5 s for the 1,296 Monaco
        prisms against 10 ms without, so :func:`line_of_sight` switches to an accelerated
        copy of the city's cached index only once the city has been asked about
        :data:`_ACCELERATE_AFTER_SEGMENTS` segments). Results do not depend on it, only
        speed.

    Returns
    -------
    LosIndex
    """
    nb = len(buildings)
    order = np.argsort(buildings.edge_building, kind="stable")
    edges = np.ascontiguousarray(
        np.hstack([buildings.edge_a_m[order], buildings.edge_b_m[order]]), dtype=np.float64
    ).reshape(-1, 4)
    counts = np.bincount(buildings.edge_building, minlength=nb).astype(np.int64)
    edge_start = np.zeros(nb + 1, dtype=np.int64)
    np.cumsum(counts, out=edge_start[1:])
    bbox = np.ascontiguousarray(buildings.bbox_m, dtype=np.float64)
    height = np.ascontiguousarray(buildings.height_m, dtype=np.float64)
    if nb == 0:
        return LosIndex(
            edges,
            edge_start,
            height,
            bbox,
            (0.0, 0.0),
            1.0,
            1,
            1,
            np.zeros(2, np.int64),
            np.zeros(0, np.int32),
            np.full(1, -np.inf),
            0,
            _NO_HORIZON,
            _HORIZON_SLOPE_SCALE,
            1.0,
            np.zeros((0, 6), dtype=np.float64),
            np.zeros((0, 6), dtype=np.float64),
            np.zeros((0, 3), dtype=np.float64),
            np.full((1, 1), -np.inf),
        )
    xmin, ymin = bbox[:, 0].min() - 2 * _MARGIN_M, bbox[:, 1].min() - 2 * _MARGIN_M
    xmax, ymax = bbox[:, 2].max() + 2 * _MARGIN_M, bbox[:, 3].max() + 2 * _MARGIN_M
    if cell_m is None:
        size = np.maximum(bbox[:, 2] - bbox[:, 0], bbox[:, 3] - bbox[:, 1])
        cell_m = float(np.clip(1.5 * np.median(size), 10.0, 100.0))
        cell_m = max(cell_m, math.sqrt((xmax - xmin) * (ymax - ymin) / 4e6))
    if not (math.isfinite(cell_m) and cell_m > 0.0):
        raise ConfigError(f"must be finite and > 0 m, got {cell_m!r}", field="cell_m")
    nx = max(1, math.ceil((xmax - xmin) / cell_m))
    ny = max(1, math.ceil((ymax - ymin) / cell_m))

    def cell_range(
        lo: NDArray[np.float64], hi: NDArray[np.float64], origin: float, n: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        i0 = np.clip(np.floor((lo - _MARGIN_M - origin) / cell_m), 0, n - 1).astype(np.int64)
        i1 = np.clip(np.floor((hi + _MARGIN_M - origin) / cell_m), 0, n - 1).astype(np.int64)
        return i0, i1

    ix0, ix1 = cell_range(bbox[:, 0], bbox[:, 2], xmin, nx)
    iy0, iy1 = cell_range(bbox[:, 1], bbox[:, 3], ymin, ny)
    wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
    per = wx * wy
    owner = np.repeat(np.arange(nb, dtype=np.int64), per)
    local = np.arange(owner.size, dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    cx = ix0[owner] + local % wx[owner]
    cy = iy0[owner] + local // wx[owner]
    cell = cy * nx + cx
    srt = np.lexsort((-height[owner], cell))  # by cell, tallest roof first in each
    cell, owner = cell[srt], owner[srt]
    ncell = nx * ny
    cell_start = np.zeros(ncell + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=ncell), out=cell_start[1:])
    cell_hmax = np.full(ncell, -np.inf)
    np.maximum.at(cell_hmax, cell, height[owner])
    obb = _oriented_boxes(buildings, edges, edge_start)
    if accelerated:
        table, slope_scale, step_m = _quantised_horizon(
            bbox, height, (float(xmin), float(ymin)), float(cell_m), int(nx), int(ny)
        )
        inner = _inner_boxes(buildings, obb)
        disc = _inner_discs(buildings)
    else:
        disc = np.zeros((nb, 3), dtype=np.float64)
        table, slope_scale, step_m = _NO_HORIZON, _HORIZON_SLOPE_SCALE, 1.0
        inner = _no_inner_boxes(obb)
    return LosIndex(
        edges_m=edges,
        edge_start=edge_start,
        height_m=height,
        bbox_m=bbox,
        grid_origin_m=(float(xmin), float(ymin)),
        cell_m=float(cell_m),
        nx=int(nx),
        ny=int(ny),
        cell_start=cell_start,
        cell_items=owner.astype(np.int32),
        cell_max_height_m=cell_hmax,
        max_edges=int(counts.max()),
        horizon=table,
        horizon_slope_scale=slope_scale,
        horizon_step_m=step_m,
        obb_m=obb,
        inner_m=inner,
        disc_m=disc,
        block_hmax_m=_block_max(cell_hmax, int(nx), int(ny)),
    )


def _segments(a_m: ArrayLike, b_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate and broadcast segment end points to two C-contiguous (n, 3) float64 arrays."""
    a = np.asarray(a_m, dtype=np.float64)
    b = np.asarray(b_m, dtype=np.float64)
    for name, arr in (("a_m", a), ("b_m", b)):
        if arr.ndim not in (1, 2) or arr.shape[-1] != 3:
            raise ValueError(f"{name}: expected shape (n, 3) or (3,), got {arr.shape}")
    a2, b2 = np.broadcast_arrays(a.reshape(-1, 3), b.reshape(-1, 3))
    if not (np.all(np.isfinite(a2)) and np.all(np.isfinite(b2))):
        raise GeometryError("line of sight: segment end points must be finite")
    return np.ascontiguousarray(a2), np.ascontiguousarray(b2)


def _index_for(buildings: Buildings, n: int) -> LosIndex:
    """The city's cached :class:`LosIndex`, accelerated once enough segments were asked.

    Counts the segments asked about ``buildings`` (in its cache, like the index itself);
    past :data:`_ACCELERATE_AFTER_SEGMENTS` the accelerated copy (horizon table and inner
    boxes) is built once and used from then on. Results are the same either way.
    """
    cache = buildings._cache
    fast: LosIndex | None = cache.get("los_index_accelerated")
    if fast is not None:
        return fast
    asked = int(cache.get("los_segments_asked", 0)) + n
    cache["los_segments_asked"] = asked
    if asked < _ACCELERATE_AFTER_SEGMENTS:
        return buildings.los_index
    return _accelerated_index(buildings)


def _accelerated_index(buildings: Buildings) -> LosIndex:
    """The city's accelerated :class:`LosIndex` (horizon table, inner boxes), built once and
    cached with the city."""
    cache = buildings._cache
    fast: LosIndex | None = cache.get("los_index_accelerated")
    if fast is not None:
        return fast
    base = buildings.los_index
    table, slope_scale, step_m = _quantised_horizon(
        base.bbox_m, base.height_m, base.grid_origin_m, base.cell_m, base.nx, base.ny
    )
    fast = replace(
        base,
        horizon=table,
        horizon_slope_scale=slope_scale,
        horizon_step_m=step_m,
        inner_m=_inner_boxes(buildings, base.obb_m),
        disc_m=_inner_discs(buildings),
    )
    cache["los_index_accelerated"] = fast
    return fast


def _origin_tables(
    n: int,
) -> tuple[NDArray[np.float64], NDArray[np.uint8], NDArray[np.int64]]:
    """Empty origin hash table, horizon rows and state for :func:`_segment_hits`."""
    n_slots = 16
    while n_slots < _ORIGIN_SLOTS and n_slots < 4 * n:
        n_slots *= 2
    return (
        np.zeros((n_slots, 4), dtype=np.float64),
        np.zeros((n_slots // 2, _ORIGIN_SECTORS, 3), dtype=np.uint8),
        np.zeros(2, dtype=np.int64),
    )


def _segment_hits(
    buildings: Buildings,
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    first_only: bool,
    index: LosIndex | None = None,
    *,
    group: bool = True,
) -> NDArray[np.float64]:
    """Run the numba kernel (see :func:`shorad.geo._kernels.segment_hits`) on checked input.

    ``group=False`` turns the per-origin horizons off (results are the same).
    """
    idx = _index_for(buildings, a.shape[0]) if index is None else index
    out = np.empty(a.shape[0], dtype=np.float64)
    # per-origin horizons: kept with the city between calls (they depend only on the
    # buildings and the point) by one caller at a time; fresh per call when an index is
    # given or another thread holds the city's tables
    lock = buildings._cache.setdefault(_ORIGIN_LOCK_KEY, threading.Lock())
    shared = index is None and group and lock.acquire(blocking=False)
    try:
        cache: dict[str, Any] = buildings._cache if shared else {}
        tables: tuple[NDArray[np.float64], NDArray[np.uint8], NDArray[np.int64]] = cache.get(
            _ORIGIN_CACHE_KEY
        ) or _origin_tables(_ORIGIN_SLOTS if shared else (a.shape[0] if group else 0))
        slots, maps, state = tables
        _run_segment_hits(a, b, first_only, idx, group, slots, maps, state, out)
        if shared:
            cache[_ORIGIN_CACHE_KEY] = tables
            if tables[2][0] * 2 >= tables[0].shape[0]:
                del cache[_ORIGIN_CACHE_KEY]  # filling up: start afresh next time
    finally:
        if shared:
            lock.release()
    return out


LosKernelArgs = tuple[Any, ...]
"""The arguments of :func:`shorad.geo._kernels.los_clear` after the segments (see
:func:`los_kernel_args`)."""


def _index_args(idx: LosIndex, group: bool) -> tuple[Any, ...]:
    """The index's arrays and settings in :func:`shorad.geo._kernels.segment_hits`'s order
    (from ``edges`` to ``group_min``)."""
    return (
        idx.edges_m,
        idx.edge_start,
        idx.height_m,
        idx.bbox_m,
        float(idx.grid_origin_m[0]),
        float(idx.grid_origin_m[1]),
        float(idx.cell_m),
        int(idx.nx),
        int(idx.ny),
        idx.cell_start,
        idx.cell_items,
        idx.cell_max_height_m,
        _MARGIN_M,
        int(idx.max_edges),
        idx.horizon,
        float(idx.horizon_slope_scale),
        float(idx.horizon_step_m),
        idx.obb_m,
        idx.inner_m,
        idx.disc_m,
        idx.block_hmax_m,
        _ORIGIN_BLOCK,
        _ORIGIN_SPLIT_CELLS * idx.cell_m,
        _ORIGIN_NEAR_CELLS,
        _ORIGIN_BLOCKER_CELLS,
        _ORIGIN_GROUP_MIN if group else 0,
    )


def los_kernel_args(buildings: Buildings) -> LosKernelArgs:
    """The city's accelerated index and a fresh per-origin table, packed for compiled callers.

    :func:`shorad.geo._kernels.los_clear` takes this tuple and answers exactly what
    :func:`line_of_sight` answers (the index and grouping change the speed, never the answer).
    The origin table belongs to the caller (one per simulation run): it fills as segments
    leave fixed points, such as sensor and effector mounts.
    """
    slots, maps, state = _origin_tables(_ORIGIN_SLOTS)
    index = _index_args(_accelerated_index(buildings), group=True)
    return (LOS_TOL_M, *index, slots, maps, state)


def _run_segment_hits(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    first_only: bool,
    idx: LosIndex,
    group: bool,
    slots: NDArray[np.float64],
    maps: NDArray[np.uint8],
    state: NDArray[np.int64],
    out: NDArray[np.float64],
) -> None:
    """Call :func:`shorad.geo._kernels.segment_hits` with the index's arrays."""
    from shorad.geo._kernels import segment_hits

    index = _index_args(idx, group)
    segment_hits(a, b, LOS_TOL_M, first_only, *index, slots, maps, state, out)  # type: ignore[call-arg]


def line_of_sight(buildings: Buildings, a_m: ArrayLike, b_m: ArrayLike) -> NDArray[np.bool_]:
    """Whether each segment ``a_m -> b_m`` is clear of every building prism.

    Parameters
    ----------
    buildings : Buildings
        The city (its :class:`LosIndex` is built on first use and cached).
    a_m, b_m : (n, 3) or (3,) float64
        Segment end points, ENU metres; a (3,) point is broadcast against the other's rows.

    Returns
    -------
    (n,) bool
        True where the segment is clear (see the module docstring for the exact convention:
        grazing and touching are clear, an end point strictly inside a prism is blocked).

    Raises
    ------
    ValueError
        If a shape is not (n, 3) or (3,) or the two cannot be broadcast.
    GeometryError
        If an end point is not finite.
    """
    a, b = _segments(a_m, b_m)
    return np.isinf(_segment_hits(buildings, a, b, first_only=True))


def first_hit_distance(
    buildings: Buildings, a_m: ArrayLike, b_m: ArrayLike
) -> NDArray[np.float64]:
    """Distance from ``a_m`` along each segment to its first point inside a building prism.

    Parameters
    ----------
    buildings : Buildings
        The city.
    a_m, b_m : (n, 3) or (3,) float64
        Segment end points, ENU metres.

    Returns
    -------
    (n,) float64
        Distance (m, in ``[0, |b - a|]``) from ``a`` to the first point of the segment that
        is inside a prism by more than ``LOS_TOL_M`` (inside the footprint and at least
        ``LOS_TOL_M`` below the roof), ``inf`` exactly where :func:`line_of_sight` is True.
    """
    a, b = _segments(a_m, b_m)
    return _distance(_segment_hits(buildings, a, b, first_only=False), a, b)


def _distance(
    t: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Segment parameter -> distance from ``a`` (m); ``inf`` stays ``inf`` (even if a == b)."""
    clear = np.isinf(t)
    return np.where(clear, np.inf, np.where(clear, 0.0, t) * np.linalg.norm(b - a, axis=1))


# ---------------------------------------------------------------------------------------
# numpy reference of the kernel (tests compare the two)
# ---------------------------------------------------------------------------------------


def _slab_reference(
    a: NDArray[np.float64], d: NDArray[np.float64], box: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Parameter range within [0, 1] of segments (m, 1) in boxes (1, b): ``(t0, t1)``."""
    t0 = np.zeros((a.shape[0], box.shape[0]))
    t1 = np.ones((a.shape[0], box.shape[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in (0, 1):
            p, v = a[:, axis : axis + 1], d[:, axis : axis + 1]
            lo, hi = box[None, :, axis], box[None, :, axis + 2]
            ta, tb = (lo - p) / v, (hi - p) / v
            moving = v != 0.0
            t0 = np.where(moving, np.maximum(t0, np.minimum(ta, tb)), t0)
            t1 = np.where(moving, np.minimum(t1, np.maximum(ta, tb)), t1)
            outside = ~moving & ((p < lo) | (p > hi))
            t1 = np.where(outside, -1.0, t1)
    return t0, t1


def _segment_hits_reference(
    buildings: Buildings,
    a_m: ArrayLike,
    b_m: ArrayLike,
    *,
    chunk: int = 1024,
) -> NDArray[np.float64]:
    """Numpy reference of :func:`shorad.geo._kernels.segment_hits` (``first_only=False``).

    Vectorised over (segment, building, edge) triples; no grid. Candidate (segment, building)
    pairs are those whose segment meets the building's box (grown by 1 cm) and goes below its
    roof; then the exact interval test of the module docstring is applied to every pair.

    Returns
    -------
    (n,) float64
        Segment parameter of the first point inside a prism by more than ``LOS_TOL_M``, ``inf``
        where clear.
    """
    a_all, b_all = _segments(a_m, b_m)
    tol = LOS_TOL_M
    n = a_all.shape[0]
    out = np.full(n, np.inf)
    nb = len(buildings)
    if nb == 0 or n == 0:
        return out
    idx = build_los_index(buildings)
    edges, edge_start, height = idx.edges_m, idx.edge_start, idx.height_m
    box = idx.bbox_m + np.array([-_MARGIN_M, -_MARGIN_M, _MARGIN_M, _MARGIN_M])
    for s0 in range(0, n, chunk):
        a = a_all[s0 : s0 + chunk]
        b = b_all[s0 : s0 + chunk]
        d = b - a
        dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
        len_xy = np.sqrt(dx * dx + dy * dy)
        zmin = np.minimum(a[:, 2], b[:, 2])
        # candidate pairs (conservative)
        t0, t1 = _slab_reference(a, d, box)
        z0 = a[:, 2:3] + t0 * dz[:, None]
        z1 = a[:, 2:3] + t1 * dz[:, None]
        hk = height[None, :] - 0.5 * tol
        cand = (t0 <= t1) & (zmin[:, None] < hk) & (np.minimum(z0, z1) < hk)
        seg, bld = np.nonzero(cand)
        vert = len_xy[seg] <= tol
        th = np.full(seg.size, np.inf)
        if np.any(vert):
            th[vert] = _vertical_reference(
                a[seg[vert]],
                dz[seg[vert]],
                zmin[seg[vert]],
                bld[vert],
                edges,
                edge_start,
                height,
                tol,
            )
        if np.any(~vert):
            sel = ~vert
            th[sel] = _pairs_reference(
                a[seg[sel]],
                d[seg[sel]],
                len_xy[seg[sel]],
                bld[sel],
                edges,
                edge_start,
                height,
                tol,
            )
        np.minimum.at(out, s0 + seg, th)
    return out


def _expand_pairs(
    bld: NDArray[np.int64], edge_start: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For pairs with building ``bld``: ``(pair_of_row, edge_of_row)`` over all their edges."""
    cnt = edge_start[bld + 1] - edge_start[bld]
    pair = np.repeat(np.arange(bld.size), cnt)
    first = np.repeat(np.cumsum(cnt) - cnt, cnt)
    edge = edge_start[bld][pair] + (np.arange(pair.size) - first)
    return pair, edge


def _pairs_reference(
    a: NDArray[np.float64],
    d: NDArray[np.float64],
    len_xy: NDArray[np.float64],
    bld: NDArray[np.int64],
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    tol: float,
) -> NDArray[np.float64]:
    """Blocking parameter of each non-vertical (segment, building) pair, vectorised."""
    pair, edge = _expand_pairs(bld, edge_start)
    ax, ay = a[pair, 0], a[pair, 1]
    dx, dy = d[pair, 0], d[pair, 1]
    px = edges[edge, 0] - ax
    py = edges[edge, 1] - ay
    qx = edges[edge, 2] - ax
    qy = edges[edge, 3] - ay
    sp = dx * py - dy * px
    sq = dx * qy - dy * qx
    tol_s = tol * len_xy[pair]
    sp = np.where(np.abs(sp) <= tol_s, 0.0, sp)
    sq = np.where(np.abs(sq) <= tol_s, 0.0, sq)
    c1 = (sp > 0.0) != (sq > 0.0)
    c2 = (sp >= 0.0) != (sq >= 0.0)
    dd = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = (px * dx + py * dy) / dd
        tq = (qx * dx + qy * dy) / dd
        t = np.where(sp == 0.0, tp, np.where(sq == 0.0, tq, tp + (tq - tp) * (sp / (sp - sq))))
    # per rule: sort crossings within each pair; even rank opens, odd rank closes an interval
    ev_pair, ev_t, ev_d = [], [], []
    for rule in (c1, c2):
        p, tt = pair[rule], t[rule]
        o = np.lexsort((tt, p))
        p, tt = p[o], tt[o]
        new = np.ones(p.size, dtype=bool)
        new[1:] = p[1:] != p[:-1]
        first = np.maximum.accumulate(np.where(new, np.arange(p.size), 0))
        rank = np.arange(p.size) - first
        ev_pair.append(p)
        ev_t.append(tt)
        ev_d.append(np.where(rank % 2 == 0, 1, -1))
    p = np.concatenate(ev_pair)
    tt = np.concatenate(ev_t)
    delta = np.concatenate(ev_d)
    # sort events by (pair, t, starts before ends) and sweep: inside both rules = count >= 2
    o = np.lexsort((-delta, tt, p))
    p, tt, delta = p[o], tt[o], delta[o]
    count = np.cumsum(delta)  # every pair's events sum to 0, so counts restart at each pair
    prev = count - delta
    starts = np.flatnonzero((prev < 2) & (count >= 2))
    ends = np.flatnonzero((prev >= 2) & (count < 2))
    ip = p[starts]
    u = np.maximum(tt[starts], 0.0)
    v = np.minimum(tt[ends], 1.0)
    az = a[ip, 2]
    dz = d[ip, 2]
    zu = az + u * dz
    zv = az + v * dz
    hcut = height[bld[ip]] - tol
    ok = (v - u) * len_xy[ip] > tol
    with np.errstate(divide="ignore", invalid="ignore"):
        th_desc = np.minimum(np.maximum((hcut - az) / dz, u), v)
    th = np.where(zu < hcut, u, np.where(zv < hcut, th_desc, np.inf))
    th = np.where(ok, th, np.inf)
    res = np.full(bld.size, np.inf)
    np.minimum.at(res, ip, th)
    return res


def _vertical_reference(
    a: NDArray[np.float64],
    dz: NDArray[np.float64],
    zmin: NDArray[np.float64],
    bld: NDArray[np.int64],
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    tol: float,
) -> NDArray[np.float64]:
    """Blocking parameter of each vertical (segment, building) pair, vectorised."""
    pair, edge = _expand_pairs(bld, edge_start)
    x, y = a[pair, 0], a[pair, 1]
    px, py, qx, qy = edges[edge, 0], edges[edge, 1], edges[edge, 2], edges[edge, 3]
    vx, vy = qx - px, qy - py
    wx, wy = x - px, y - py
    l2 = vx * vx + vy * vy
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(l2 > 0.0, np.minimum(np.maximum((wx * vx + wy * vy) / l2, 0.0), 1.0), 0.0)
        ex, ey = wx - s * vx, wy - s * vy
        near = ex * ex + ey * ey <= tol * tol
        straddle = (py > y) != (qy > y)
        xi = px + (y - py) * (qx - px) / (qy - py)
    flips = straddle & (xi > x)
    inside = (np.bincount(pair, weights=flips, minlength=bld.size) % 2 == 1) & (
        np.bincount(pair, weights=near, minlength=bld.size) == 0
    )
    az = a[:, 2]
    hcut = height[bld] - tol
    with np.errstate(divide="ignore", invalid="ignore"):
        th_desc = np.minimum(np.maximum((hcut - az) / dz, 0.0), 1.0)
    th = np.where(az < hcut, 0.0, th_desc)
    return np.where(inside & (zmin < hcut), th, np.inf)


def _line_of_sight_reference(
    buildings: Buildings, a_m: ArrayLike, b_m: ArrayLike
) -> NDArray[np.bool_]:
    """Numpy reference of :func:`line_of_sight` (slow; for tests)."""
    return np.isinf(_segment_hits_reference(buildings, a_m, b_m))


def _first_hit_distance_reference(
    buildings: Buildings, a_m: ArrayLike, b_m: ArrayLike
) -> NDArray[np.float64]:
    """Numpy reference of :func:`first_hit_distance` (slow; for tests)."""
    a, b = _segments(a_m, b_m)
    return _distance(_segment_hits_reference(buildings, a, b), a, b)


def _pseudo_angle_reference(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numpy reference of :func:`shorad.geo._kernels._pseudo_angle` (diamond angle in [0, 4))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.abs(x) + np.abs(y)
        out: NDArray[np.float64] = np.where(
            y >= 0.0,
            np.where(x >= 0.0, y / s, 1.0 - x / s),
            np.where(x < 0.0, 2.0 - y / s, 3.0 + x / s),
        )
    return out


def _horizon_table_reference(
    index: LosIndex, n_sectors: int, slopes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Numpy reference of :func:`shorad.geo._kernels.horizon_table` on ``index``'s grid.

    Vectorised over (cell, building) pairs: ``(nx * ny, S, K)`` float64, the same values.
    """
    nx, ny, cell_m = index.nx, index.ny, index.cell_m
    gx0, gy0 = index.grid_origin_m
    ix, iy = np.arange(nx * ny) % nx, np.arange(nx * ny) // nx
    cx0 = (gx0 + ix * cell_m)[:, None]
    cx1 = cx0 + cell_m
    cy0 = (gy0 + iy * cell_m)[:, None]
    cy1 = cy0 + cell_m
    box = index.bbox_m
    x0 = box[None, :, 0] - _MARGIN_M - cx1
    x1 = box[None, :, 2] + _MARGIN_M - cx0
    y0 = box[None, :, 1] - _MARGIN_M - cy1
    y1 = box[None, :, 3] + _MARGIN_M - cy0
    ddx = np.maximum(0.0, np.maximum(x0, -x1))
    ddy = np.maximum(0.0, np.maximum(y0, -y1))
    dist = np.maximum(np.sqrt(ddx * ddx + ddy * ddy) * (1.0 - 1e-9) - 1e-6, 0.0)
    p = [_pseudo_angle_reference(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    eps, q = 1e-6, n_sectors / 4.0
    wrap = (x0 > 0.0) & (y0 < 0.0) & (y1 >= 0.0)
    lo = np.where(wrap, np.minimum(p[0], p[1]), np.minimum.reduce(p))
    hi = np.where(wrap, np.where(y1 == 0.0, 0.0, np.maximum(p[2], p[3])), np.maximum.reduce(p))
    s0 = np.floor((lo - eps) * q)
    s1 = np.floor((hi + eps) * q) + np.where(wrap, n_sectors, 0)
    s1 = np.where(~wrap & (s1 < s0), s1 + n_sectors, s1)
    s1 = np.minimum(s1, s0 + n_sectors - 1)
    inside = (x0 <= 0.0) & (x1 >= 0.0) & (y0 <= 0.0) & (y1 >= 0.0)
    s0 = np.where(inside, 0.0, s0)
    s1 = np.where(inside, n_sectors - 1.0, s1)
    out = np.full((nx * ny, n_sectors, slopes.size), -np.inf)
    for s in range(n_sectors):
        member = (s - s0) % n_sectors <= s1 - s0
        for j, slope in enumerate(slopes):
            v = np.where(member, index.height_m[None, :] - slope * dist, -np.inf)
            out[:, s, j] = v.max(axis=1, initial=-np.inf)
    return out


def _sector_members(
    lo: NDArray[np.float64], hi: NDArray[np.float64], n_sectors: int
) -> NDArray[np.bool_]:
    """(m, S) membership of sectors in diamond-angle ranges ``[lo, hi]`` widened by 1e-6,
    as :func:`shorad.geo._kernels._raise_sectors` walks them."""
    q = n_sectors / 4.0
    s0 = np.floor((lo - 1e-6) * q)
    s1 = np.minimum(np.floor((hi + 1e-6) * q), s0 + n_sectors - 1)
    s = np.arange(n_sectors)[None, :]
    out: NDArray[np.bool_] = (s - s0[:, None]) % n_sectors <= (s1 - s0)[:, None]
    return out


def _box_items_reference(
    x0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y0: NDArray[np.float64],
    y1: NDArray[np.float64],
    rise: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], bool]:
    """Sector ranges and slopes of boxes of offsets: ``(lo, hi, value, any_too_near)``."""
    ddx = np.maximum(0.0, np.maximum(x0, -x1))
    ddy = np.maximum(0.0, np.maximum(y0, -y1))
    r = np.sqrt(ddx * ddx + ddy * ddy) * (1.0 - 1e-9) - 1e-6
    p = [_pseudo_angle_reference(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    wrap = (x0 > 0.0) & (y0 < 0.0) & (y1 >= 0.0)
    lo = np.where(wrap, np.minimum(p[0], p[1]), np.minimum.reduce(p))
    hi = np.where(
        wrap, np.where(y1 == 0.0, 0.0, np.maximum(p[2], p[3])) + 4.0, np.maximum.reduce(p)
    )
    with np.errstate(divide="ignore"):
        value = rise / r
    return lo, hi, value, bool(np.any(r <= 0.0))


def _origin_horizon_reference(
    index: LosIndex, origin: ArrayLike, n_sectors: int, near: int, split_m: float
) -> tuple[NDArray[np.float64], bool]:
    """Numpy reference of :func:`shorad.geo._kernels.origin_horizon` on ``index``:
    ``(out, has_horizon)``, the same values."""
    ox, oy, oz = (float(v) for v in np.asarray(origin, dtype=np.float64))
    gx0, gy0 = index.grid_origin_m
    cell_m, nx, ny, bs = index.cell_m, index.nx, index.ny, _ORIGIN_BLOCK
    rise_m = 1e-3
    none = np.full(n_sectors, np.inf)
    fx = math.floor((ox - gx0) / cell_m)
    fy = math.floor((oy - gy0) / cell_m)
    bh = index.block_hmax_m
    by, bx = np.nonzero(bh - oz + rise_m > 0.0)
    span = bs * cell_m
    bx0 = gx0 + bx * span - ox
    by0 = gy0 + by * span - oy
    ddx = np.maximum(0.0, np.maximum(bx0, -(bx0 + span)))
    ddy = np.maximum(0.0, np.maximum(by0, -(by0 + span)))
    far = ddx * ddx + ddy * ddy > split_m * split_m
    items = [
        _box_items_reference(
            bx0[far],
            bx0[far] + span,
            by0[far],
            by0[far] + span,
            bh[by[far], bx[far]] - oz + rise_m,
        )
    ]
    # cells of the near blocks
    nbk = int(np.count_nonzero(~far))
    sub = np.arange(bs)
    ix = np.broadcast_to(bx[~far, None, None] * bs + sub[None, None, :], (nbk, bs, bs)).ravel()
    iy = np.broadcast_to(by[~far, None, None] * bs + sub[None, :, None], (nbk, bs, bs)).ravel()
    keep = (ix < nx) & (iy < ny)
    ix, iy = ix[keep], iy[keep]
    c = iy * nx + ix
    crise = index.cell_max_height_m[c] - oz + rise_m
    up = crise > 0.0
    ix, iy, c, crise = ix[up], iy[up], c[up], crise[up]
    is_near = (np.abs(ix - fx) <= near) & (np.abs(iy - fy) <= near)
    x0 = gx0 + ix[~is_near] * cell_m - ox
    y0 = gy0 + iy[~is_near] * cell_m - oy
    items.append(_box_items_reference(x0, x0 + cell_m, y0, y0 + cell_m, crise[~is_near]))
    if any(item[3] for item in items):
        return none, False
    # near buildings, edge by edge
    starts, ends = index.cell_start[c[is_near]], index.cell_start[c[is_near] + 1]
    parts = [index.cell_items[s:e] for s, e in zip(starts, ends, strict=True)]
    near_b = np.unique(np.concatenate([np.zeros(0, np.int32), *parts])).astype(np.int64)
    rk = index.height_m[near_b] - oz + rise_m
    near_b, rk = near_b[rk > 0.0], rk[rk > 0.0]
    pair, edge = _expand_pairs(near_b, index.edge_start)
    e = index.edges_m[edge]
    px, py, qx, qy = e[:, 0] - ox, e[:, 1] - oy, e[:, 2] - ox, e[:, 3] - oy
    vx, vy = qx - px, qy - py
    l2 = vx * vx + vy * vy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(l2 > 0.0, np.minimum(np.maximum(-(px * vx + py * vy) / l2, 0.0), 1.0), 0.0)
        ex, ey = px + t * vx, py + t * vy
        r = np.sqrt(ex * ex + ey * ey) * (1.0 - 1e-9) - 1e-6
        flips = ((py > 0.0) != (qy > 0.0)) & (px - py * vx / vy > 0.0)
    inside = np.bincount(pair, weights=flips, minlength=near_b.size) % 2 == 1
    if np.any(r <= _MARGIN_M) or np.any(inside):
        return none, False
    pp, pq = _pseudo_angle_reference(px, py), _pseudo_angle_reference(qx, qy)
    ccw = px * qy - py * qx >= 0.0
    lo, hi = np.where(ccw, pp, pq), np.where(ccw, pq, pp)
    hi = np.where(hi < lo, hi + 4.0, hi)
    items.append((lo, hi, rk[pair] / r, False))
    out = np.full(n_sectors, -np.inf)
    for lo_i, hi_i, val, _ in items:
        if lo_i.size:
            member = _sector_members(lo_i, hi_i, n_sectors)
            out = np.maximum(out, np.where(member, val[:, None], -np.inf).max(axis=0))
    return out, True


def _slope_levels_reference() -> NDArray[np.float64]:
    """Numpy reference of :func:`shorad.geo._kernels._slope_levels`."""
    dec = 2.0 ** ((np.arange(256) - 128) / 16.0)
    dec[0], dec[255] = -np.inf, np.inf
    return dec


def _origin_blockers_reference(
    index: LosIndex, origin: ArrayLike, sector_angle: NDArray[np.float64], near: int
) -> NDArray[np.float64]:
    """Numpy reference of :func:`shorad.geo._kernels.origin_blockers` on ``index``: the
    same ``(S, 2)`` values (``sector_angle`` from :func:`shorad.geo._kernels.sector_angles`).
    """
    ox, oy, oz = (float(v) for v in np.asarray(origin, dtype=np.float64))
    n_sectors = sector_angle.shape[0]
    out = np.tile([-np.inf, np.inf], (n_sectors, 1))
    gx0, gy0 = index.grid_origin_m
    fx = math.floor((ox - gx0) / index.cell_m)
    fy = math.floor((oy - gy0) / index.cell_m)
    iy, ix = np.meshgrid(
        np.arange(max(fy - near, 0), min(fy + near, index.ny - 1) + 1),
        np.arange(max(fx - near, 0), min(fx + near, index.nx - 1) + 1),
        indexing="ij",
    )
    c = (iy * index.nx + ix).ravel()
    parts = [index.cell_items[index.cell_start[k] : index.cell_start[k + 1]] for k in c]
    k = np.unique(np.concatenate([np.zeros(0, np.int32), *parts])).astype(np.int64)
    rise = index.height_m[k] - (LOS_TOL_M + 0.1 * _MARGIN_M + 1e-4) - oz
    k, rise = k[rise > 0.0], rise[rise > 0.0]
    rise_all = rise
    rho = index.disc_m[k, 2]
    cx, cy = index.disc_m[k, 0] - ox, index.disc_m[k, 1] - oy
    dist = np.sqrt(cx * cx + cy * cy)
    ok = (rise > 0.0) & (rho > 0.0) & (dist > rho * (1.0 + 1e-9) + 1e-6)
    rise, rho, cx, cy, dist = rise[ok], rho[ok], cx[ok], cy[ok], dist[ok]
    centre = np.arctan2(cy, cx)[:, None]
    half = (np.arcsin(rho / dist) * (1.0 - 1e-9) - 1e-9)[:, None]
    d0 = np.mod(sector_angle[None, :, 0] - centre + np.pi, 2 * np.pi) - np.pi
    d1 = np.mod(sector_angle[None, :, 1] - centre + np.pi, 2 * np.pi) - np.pi
    dm = np.maximum(-d0, d1)
    side = dist[:, None] * np.sin(dm)
    q = rho[:, None] ** 2 - side * side
    with np.errstate(invalid="ignore"):
        r_in = (dist[:, None] * np.cos(dm) - np.sqrt(q)) * (1.0 + 1e-9) + 1e-6
    good = (
        (-half < d0)
        & (d0 < d1)
        & (d1 < half)
        & (q > 4.0 * _MARGIN_M**2 * (1.0 + 1e-6))
        & (r_in > 0.0)
    )
    slope = np.where(good, rise[:, None] / np.where(good, r_in, 1.0), -np.inf)
    bs, br = _box_blockers_reference(index, ox, oy, k, rise_all, sector_angle)
    slope = np.vstack([bs, slope])
    r_in = np.vstack([br, r_in])
    if slope.shape[0]:
        best = np.argmax(slope, axis=0)
        s = np.arange(n_sectors)
        has = slope[best, s] > -np.inf
        out[has, 0] = slope[best, s][has]
        out[has, 1] = r_in[best, s][has] + 2.0 * _MARGIN_M
    return out


def _box_blockers_reference(
    index: LosIndex,
    ox: float,
    oy: float,
    k: NDArray[np.int64],
    rise: NDArray[np.float64],
    sector_angle: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inner-box part of :func:`_origin_blockers_reference`: (slope, r_in), (len(k), S)."""
    w = 2.0 * _MARGIN_M
    box = index.inner_m[k]
    ux, uy = box[:, 0:1], box[:, 1:2]
    u0, u1, v0, v1 = box[:, 2:3] + w, box[:, 3:4] - w, box[:, 4:5] + w, box[:, 5:6] - w
    ou, ov = ox * ux + oy * uy, oy * ux - ox * uy
    ok = (u0 < u1) & (v0 < v1) & ~((u0 <= ou) & (ou <= u1) & (v0 <= ov) & (ov <= v1))
    cu, cv = 0.5 * (u0 + u1) - ou, 0.5 * (v0 + v1) - ov
    centre = np.arctan2(cu * uy + cv * ux, cu * ux - cv * uy)

    def wrap(x: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.mod(x + np.pi, 2 * np.pi) - np.pi
        return out

    pu = np.hstack([u0, u1, u1, u0]) - ou
    pv = np.hstack([v0, v0, v1, v1]) - ov
    cx, cy = pu * ux - pv * uy, pu * uy + pv * ux
    ang = wrap(np.arctan2(cy, cx) - centre)  # (m, 4)
    dist = np.sqrt(cx * cx + cy * cy)
    t0, t1 = sector_angle[None, :, 0], sector_angle[None, :, 1]
    d0, d1 = wrap(t0 - centre), wrap(t1 - centre)

    def entry(t: NDArray[np.float64]) -> NDArray[np.float64]:
        du = np.cos(t) * ux + np.sin(t) * uy
        dv = np.sin(t) * ux - np.cos(t) * uy
        with np.errstate(divide="ignore", invalid="ignore"):
            t_in = np.full(np.broadcast_shapes(du.shape, ou.shape), -np.inf)
            t_out = np.full_like(t_in, np.inf)
            miss = np.zeros(t_in.shape, dtype=bool)
            for d, o, lo, hi in ((du, ou, u0, u1), (dv, ov, v0, v1)):
                ta, tb = (lo - o) / d, (hi - o) / d
                moving = d != 0.0
                t_in = np.where(moving, np.maximum(t_in, np.minimum(ta, tb)), t_in)
                t_out = np.where(moving, np.minimum(t_out, np.maximum(ta, tb)), t_out)
                miss |= ~moving & ((o < lo) | (o > hi))
        return np.where(miss | (t_in > t_out) | (t_in <= 0.0), np.inf, t_in)

    r0, r1 = entry(t0), entry(t1)
    r = np.maximum(r0, r1)
    for j in range(4):
        seen = (d0 <= ang[:, j : j + 1]) & (ang[:, j : j + 1] <= d1)
        r = np.where(seen, np.maximum(r, dist[:, j : j + 1]), r)
    r_in = r * (1.0 + 1e-9) + 1e-6
    good = ok & (d0 < d1) & np.isfinite(r0) & np.isfinite(r1)
    slope = np.where(good, rise[:, None] / np.where(good, r_in, 1.0), -np.inf)
    return slope, np.where(good, r_in, np.inf)
