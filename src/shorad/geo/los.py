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
uniform grid of cells (:class:`LosIndex`) along it, prunes cells and buildings by height and
bounding box, and applies the same interval test; :func:`_segment_hits_reference` is the
vectorised numpy reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shorad.errors import ConfigError, GeometryError
from shorad.geo.buildings import Buildings

__all__ = [
    "LOS_TOL_M",
    "LosIndex",
    "build_los_index",
    "first_hit_distance",
    "line_of_sight",
]

LOS_TOL_M = 1e-6
"""Geometric tolerance of the line-of-sight test (m), see the module docstring."""

_MARGIN_M = 0.01
"""Conservative margin (m) of the pruning tests: bounding boxes are grown by it."""


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
        Rows of the buildings whose bounding box (grown by 1 cm) overlaps each cell.
    cell_max_height_m : (nx * ny,) float64
        Tallest roof registered in each cell (m), ``-inf`` for an empty cell.
    max_edges : int
        Largest number of edges of one building.
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


def build_los_index(buildings: Buildings, cell_m: float | None = None) -> LosIndex:
    """Build the :class:`LosIndex` of a city (usually via ``buildings.los_index``).

    Parameters
    ----------
    buildings : Buildings
        The city.
    cell_m : float, optional
        Grid cell size (m). Default: 1.5 x the median footprint size, clipped to [10, 100] m,
        and enlarged so that the grid has at most 4 million cells.

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
    srt = np.argsort(cell, kind="stable")
    cell, owner = cell[srt], owner[srt]
    ncell = nx * ny
    cell_start = np.zeros(ncell + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=ncell), out=cell_start[1:])
    cell_hmax = np.full(ncell, -np.inf)
    np.maximum.at(cell_hmax, cell, height[owner])
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


def _segment_hits(
    buildings: Buildings,
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    first_only: bool,
    index: LosIndex | None = None,
) -> NDArray[np.float64]:
    """Run the numba kernel (see :func:`shorad.geo._kernels.segment_hits`) on checked input."""
    from shorad.geo._kernels import segment_hits

    idx = buildings.los_index if index is None else index
    out = np.empty(a.shape[0], dtype=np.float64)
    segment_hits(
        a,
        b,
        LOS_TOL_M,
        first_only,
        idx.edges_m,
        idx.edge_start,
        idx.height_m,
        idx.bbox_m,
        idx.grid_origin_m[0],
        idx.grid_origin_m[1],
        idx.cell_m,
        idx.nx,
        idx.ny,
        idx.cell_start,
        idx.cell_items,
        idx.cell_max_height_m,
        _MARGIN_M,
        idx.max_edges,
        out,
    )
    return out


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
