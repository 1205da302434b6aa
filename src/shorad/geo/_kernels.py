"""Numba kernels for :mod:`shorad.geo.los` (segment vs. building-prism intersection).

The kernels take plain arrays, assume valid SI input and trust their caller
(:mod:`shorad.geo.los` validates). Their numpy reference is
:func:`shorad.geo.los._segment_hits_reference`; ``tests/geo`` checks that both give identical
results. Both evaluate the same floating-point expressions in the same order for the decisive
steps (edge sides, crossing parameters, interval sweep, heights), so they agree bit for bit;
only the pruning differs, and every pruning test here is conservative by a margin (boxes
grown by 1 cm, the horizon table rounded up, the inner-box shortcut 1 cm / 1 mm inside).
:func:`horizon_table` has its own numpy reference,
:func:`shorad.geo.los._horizon_table_reference`, equal bit for bit.

See :func:`shorad.geo.los.line_of_sight` for the geometry and the tolerance convention.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["horizon_table", "segment_hits"]


@njit(cache=True, nogil=True, inline="always")
def _sort_values(buf: NDArray[np.float64], n: int) -> None:  # pragma: no cover - numba
    """Insertion sort of ``buf[:n]`` in place (n is small: crossings of one building)."""
    for i in range(1, n):
        v = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v


@njit(cache=True, nogil=True, inline="always")
def _building_hit(
    k: int,
    ax: float,
    ay: float,
    az: float,
    dx: float,
    dy: float,
    dz: float,
    len_xy: float,
    tol: float,
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    buf1: NDArray[np.float64],
    buf2: NDArray[np.float64],
    ev_t: NDArray[np.float64],
    ev_d: NDArray[np.int64],
) -> float:  # pragma: no cover - numba
    """First blocking parameter of segment ``a + t d`` (t in [0, 1]) in prism ``k``, or inf.

    ``len_xy`` must be > ``tol`` (non-vertical segment). Crossings of the infinite 2-D line
    with the footprint edges are classified by two symbolic perturbations of the line
    (a vertex within ``tol`` of the line counts as on it; rule 1 puts it on the negative side,
    rule 2 on the positive side); each rule's sorted crossings pair up into inside intervals,
    and the footprint's open interior along the line is where both rules say inside.
    """
    hcut = height[k] - tol
    dd = dx * dx + dy * dy
    tol_s = tol * len_xy
    n1 = 0
    n2 = 0
    degenerate = False
    for e in range(edge_start[k], edge_start[k + 1]):
        px = edges[e, 0] - ax
        py = edges[e, 1] - ay
        qx = edges[e, 2] - ax
        qy = edges[e, 3] - ay
        sp = dx * py - dy * px
        sq = dx * qy - dy * qx
        if abs(sp) <= tol_s:
            sp = 0.0
            degenerate = True
        if abs(sq) <= tol_s:
            sq = 0.0
            degenerate = True
        c1 = (sp > 0.0) != (sq > 0.0)
        c2 = (sp >= 0.0) != (sq >= 0.0)
        if c1 or c2:
            if sp == 0.0:
                t = (px * dx + py * dy) / dd
            elif sq == 0.0:
                t = (qx * dx + qy * dy) / dd
            else:
                tp = (px * dx + py * dy) / dd
                tq = (qx * dx + qy * dy) / dd
                t = tp + (tq - tp) * (sp / (sp - sq))
            if c1:
                buf1[n1] = t
                n1 += 1
            if c2:
                buf2[n2] = t
                n2 += 1
    if n1 == 0 or n2 == 0:
        return math.inf
    _sort_values(buf1, n1)
    if not degenerate:
        # no vertex on the line: both rules give the same crossings (buf1 == buf2), and the
        # event sweep below reduces to the pairs (buf1[2i], buf1[2i + 1]), merged where one
        # pair ends exactly where the next starts (starts sort before ends at equal t)
        i = 0
        while i + 1 < n1:
            s0: float = buf1[i]
            s1: float = buf1[i + 1]
            i += 2
            while i + 1 < n1 and buf1[i] == s1:
                s1 = buf1[i + 1]
                i += 2
            u = max(s0, 0.0)
            v = min(s1, 1.0)
            if (v - u) * len_xy > tol:
                zu = az + u * dz
                zv = az + v * dz
                if zu < hcut:
                    return u
                if zv < hcut:
                    th = (hcut - az) / dz
                    return float(min(max(th, u), v))
        return math.inf
    _sort_values(buf2, n2)
    m = 0
    for i in range(n1):
        ev_t[m] = buf1[i]
        ev_d[m] = 1 if i % 2 == 0 else -1
        m += 1
    for i in range(n2):
        ev_t[m] = buf2[i]
        ev_d[m] = 1 if i % 2 == 0 else -1
        m += 1
    # sort events by (t ascending, delta descending): starts before ends at equal t
    for i in range(1, m):
        vt = ev_t[i]
        vd = ev_d[i]
        j = i - 1
        while j >= 0 and (ev_t[j] > vt or (ev_t[j] == vt and ev_d[j] < vd)):
            ev_t[j + 1] = ev_t[j]
            ev_d[j + 1] = ev_d[j]
            j -= 1
        ev_t[j + 1] = vt
        ev_d[j + 1] = vd
    count = 0
    start = 0.0
    for j in range(m):
        prev = count
        count += ev_d[j]
        if prev < 2 and count >= 2:
            start = ev_t[j]
        elif prev >= 2 and count < 2:
            u = max(start, 0.0)
            v = min(ev_t[j], 1.0)
            if (v - u) * len_xy > tol:
                zu = az + u * dz
                zv = az + v * dz
                if zu < hcut:
                    return u
                if zv < hcut:
                    th = (hcut - az) / dz
                    return float(min(max(th, u), v))
    return math.inf


@njit(cache=True, nogil=True)
def _point_inside(
    k: int,
    x: float,
    y: float,
    tol: float,
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
) -> bool:  # pragma: no cover - numba
    """True if ``(x, y)`` is inside footprint ``k`` and more than ``tol`` from its boundary."""
    inside = False
    tol2 = tol * tol
    for e in range(edge_start[k], edge_start[k + 1]):
        px = edges[e, 0]
        py = edges[e, 1]
        qx = edges[e, 2]
        qy = edges[e, 3]
        vx = qx - px
        vy = qy - py
        wx = x - px
        wy = y - py
        l2 = vx * vx + vy * vy
        s = 0.0
        if l2 > 0.0:
            s = min(max((wx * vx + wy * vy) / l2, 0.0), 1.0)
        ex = wx - s * vx
        ey = wy - s * vy
        if ex * ex + ey * ey <= tol2:
            return False
        if (py > y) != (qy > y):
            xi = px + (y - py) * (qx - px) / (qy - py)
            if xi > x:
                inside = not inside
    return inside


@njit(cache=True, nogil=True)
def _slab(
    ax: float,
    ay: float,
    dx: float,
    dy: float,
    inv_dx: float,
    inv_dy: float,
    xmin: float,
    ymin: float,
    xmax: float,
    ymax: float,
) -> tuple[float, float]:  # pragma: no cover - numba
    """Range ``[t0, t1]`` within [0, 1] where ``a + t d`` is in the box (empty if t0 > t1).

    ``inv_dx``, ``inv_dy`` are ``1 / dx``, ``1 / dy`` (used where those are not 0); the
    result is rounded like any product, so callers grow the box by a margin.
    """
    t0 = 0.0
    t1 = 1.0
    if dx != 0.0:
        ta = (xmin - ax) * inv_dx
        tb = (xmax - ax) * inv_dx
        if ta > tb:
            ta, tb = tb, ta
        t0 = max(t0, ta)
        t1 = min(t1, tb)
    elif ax < xmin or ax > xmax:
        return 1.0, 0.0
    if dy != 0.0:
        ta = (ymin - ay) * inv_dy
        tb = (ymax - ay) * inv_dy
        if ta > tb:
            ta, tb = tb, ta
        t0 = max(t0, ta)
        t1 = min(t1, tb)
    elif ay < ymin or ay > ymax:
        return 1.0, 0.0
    return t0, t1


@njit(cache=True, nogil=True)
def _oriented_slab(
    ax: float,
    ay: float,
    dx: float,
    dy: float,
    box: NDArray[np.float64],
    k: int,
    t0: float,
    t1: float,
) -> tuple[float, float]:  # pragma: no cover - numba
    """``[t0, t1]`` clipped to where ``a + t d`` is in oriented box ``k`` (empty if t0 > t1).

    ``box[k] = [ux, uy, u0, u1, v0, v1]``: unit axis ``u = (ux, uy)``, ``v = (-uy, ux)``, and
    the box is ``u0 <= p . u <= u1``, ``v0 <= p . v <= v1``.
    """
    ux = box[k, 0]
    uy = box[k, 1]
    for axis in range(2):
        if axis == 0:
            pa = ax * ux + ay * uy
            pd = dx * ux + dy * uy
            lo = box[k, 2]
            hi = box[k, 3]
        else:
            pa = ay * ux - ax * uy
            pd = dy * ux - dx * uy
            lo = box[k, 4]
            hi = box[k, 5]
        if pd != 0.0:
            ta = (lo - pa) / pd
            tb = (hi - pa) / pd
            if ta > tb:
                ta, tb = tb, ta
            t0 = max(t0, ta)
            t1 = min(t1, tb)
        elif pa < lo or pa > hi:
            return 1.0, 0.0
    return t0, t1


@njit(cache=True, nogil=True)
def _vertical_hit(
    ax: float,
    ay: float,
    az: float,
    dz: float,
    zmin: float,
    tol: float,
    margin: float,
    first_only: bool,
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    bbox: NDArray[np.float64],
    gx0: float,
    gy0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: NDArray[np.int64],
    cell_items: NDArray[np.int32],
    cell_hmax: NDArray[np.float64],
) -> float:  # pragma: no cover - numba
    """First blocking parameter of a vertical segment (horizontal extent <= tol), or inf."""
    fx = math.floor((ax - gx0) / cell_m)
    fy = math.floor((ay - gy0) / cell_m)
    if fx < 0 or fy < 0 or fx >= nx or fy >= ny:
        return math.inf
    c = fy * nx + fx
    if zmin >= cell_hmax[c] - 0.5 * tol:
        return math.inf
    best = math.inf
    for j in range(cell_start[c], cell_start[c + 1]):
        k = cell_items[j]
        hcut = height[k] - tol
        if zmin >= height[k] - 0.5 * tol:
            continue
        if (
            ax < bbox[k, 0] - margin
            or ax > bbox[k, 2] + margin
            or ay < bbox[k, 1] - margin
            or ay > bbox[k, 3] + margin
        ):
            continue
        if zmin < hcut and _point_inside(k, ax, ay, tol, edges, edge_start):
            th = 0.0 if az < hcut else min(max((hcut - az) / dz, 0.0), 1.0)
            if th < best:
                best = th
                if first_only:
                    return best
    return best


@njit(cache=True, nogil=True)
def _pseudo_angle(x: float, y: float) -> float:  # pragma: no cover - numba
    """Diamond angle of direction ``(x, y)`` in [0, 4): monotone in the true angle.

    0 on +x, 1 on +y, 2 on -x, 3 on -y, counter-clockwise; ``(0, 0)`` gives nan.
    """
    s = abs(x) + abs(y)
    if y >= 0.0:
        if x >= 0.0:
            return y / s
        return 1.0 - x / s
    if x < 0.0:
        return 2.0 - y / s
    return 3.0 + x / s


@njit(
    "float64[:, :, ::1](float64[:, ::1], float64[::1], float64, float64, float64, float64,"
    " int64, int64, int64, float64[::1])",
    cache=True,
    nogil=True,
)
def horizon_table(
    bbox: NDArray[np.float64],
    height: NDArray[np.float64],
    margin: float,
    gx0: float,
    gy0: float,
    cell_m: float,
    nx: int,
    ny: int,
    n_sectors: int,
    slopes: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - numba
    """Horizon heights ``F[c, s, j]`` of every grid cell, direction sector and slope.

    ``F[c, s, j] = max_k (height[k] - slopes[j] * D(c, k))`` over the buildings ``k`` whose
    box (grown by ``margin``) meets the region swept from cell ``c`` in the directions of
    sector ``s``, with ``D(c, k)`` the horizontal distance between the cell and that box
    (shrunk by 1e-6 m and 1e-9 relative); ``-inf`` where no building is met. Sector ``s``
    holds the directions whose :func:`_pseudo_angle` lies in ``[4 s / S, 4 (s + 1) / S]``
    (widened by 1e-6). A segment point inside cell ``c`` at height ``z``, going on in a
    direction of sector ``s`` and rising with slope ``>= slopes[j]`` (height gained per
    horizontal metre), never goes below a roof again if ``z >= F[c, s, j]``.

    Parameters
    ----------
    bbox : (nb, 4) float64
        Footprint boxes ``[xmin, ymin, xmax, ymax]`` (m).
    height : (nb,) float64
        Roof heights (m).
    margin : float
        Growth of the boxes (m).
    gx0, gy0, cell_m : float
        Grid origin and cell size (m).
    nx, ny : int
        Grid shape (cell ``(ix, iy)`` is row ``iy * nx + ix``).
    n_sectors : int
        Number of direction sectors ``S``.
    slopes : (K,) float64
        Non-negative slopes, increasing.

    Returns
    -------
    (nx * ny, S, K) float64
    """
    nb = height.shape[0]
    nk = slopes.shape[0]
    out = np.full((nx * ny, n_sectors, nk), -np.inf)
    eps = 1e-6
    q = n_sectors / 4.0
    for iy in range(ny):
        cy0 = gy0 + iy * cell_m
        cy1 = cy0 + cell_m
        for ix in range(nx):
            cx0 = gx0 + ix * cell_m
            cx1 = cx0 + cell_m
            c = iy * nx + ix
            for k in range(nb):
                # box of the offsets (point of the box) - (point of the cell)
                x0 = bbox[k, 0] - margin - cx1
                x1 = bbox[k, 2] + margin - cx0
                y0 = bbox[k, 1] - margin - cy1
                y1 = bbox[k, 3] + margin - cy0
                ddx = max(0.0, max(x0, -x1))
                ddy = max(0.0, max(y0, -y1))
                dist = max(math.sqrt(ddx * ddx + ddy * ddy) * (1.0 - 1e-9) - 1e-6, 0.0)
                if x0 <= 0.0 <= x1 and y0 <= 0.0 <= y1:
                    s0 = 0
                    s1 = n_sectors - 1
                else:
                    p00 = _pseudo_angle(x0, y0)
                    p10 = _pseudo_angle(x1, y0)
                    p01 = _pseudo_angle(x0, y1)
                    p11 = _pseudo_angle(x1, y1)
                    if x0 > 0.0 and y0 < 0.0 <= y1:
                        # the offsets straddle the +x direction, where the angle wraps
                        lo = min(p00, p10)
                        hi = 0.0 if y1 == 0.0 else max(p01, p11)
                        s0 = math.floor((lo - eps) * q)
                        s1 = math.floor((hi + eps) * q) + n_sectors
                    else:
                        lo = min(min(p00, p10), min(p01, p11))
                        hi = max(max(p00, p10), max(p01, p11))
                        s0 = math.floor((lo - eps) * q)
                        s1 = math.floor((hi + eps) * q)
                        if s1 < s0:
                            s1 += n_sectors
                    s1 = min(s1, s0 + n_sectors - 1)
                hk = height[k]
                for sr in range(s0, s1 + 1):
                    s = sr % n_sectors
                    for j in range(nk):
                        v = hk - slopes[j] * dist
                        if v > out[c, s, j]:
                            out[c, s, j] = v
    return out


@njit(
    "void(float64[:, ::1], float64[:, ::1], float64, boolean, float64[:, ::1], int64[::1],"
    " float64[::1], float64[:, ::1], float64, float64, float64, int64, int64, int64[::1],"
    " int32[::1], float64[::1], float64, int64, uint8[:, :, ::1], float64, float64,"
    " float64[:, ::1], float64[:, ::1], float64[::1])",
    cache=True,
    nogil=True,
)
def segment_hits(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    tol: float,
    first_only: bool,
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    bbox: NDArray[np.float64],
    gx0: float,
    gy0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: NDArray[np.int64],
    cell_items: NDArray[np.int32],
    cell_hmax: NDArray[np.float64],
    margin: float,
    max_edges: int,
    horizon: NDArray[np.uint8],
    slope_scale: float,
    horizon_step_m: float,
    obb: NDArray[np.float64],
    inner: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - numba
    """Blocking parameter of each segment ``a[i] -> b[i]`` against all prisms.

    Parameters
    ----------
    a, b : (n, 3) float64
        Segment end points (ENU m).
    tol : float
        Tolerance (m), see :data:`shorad.geo.los.LOS_TOL_M`.
    first_only : bool
        True: stop at the first blocking building found (line of sight only: ``out`` is then
        finite exactly where the segment is blocked, with an arbitrary blocking value).
        False: ``out`` is the smallest blocking parameter over all buildings.
    edges : (E, 4) float64
        ``[x0, y0, x1, y1]`` of every footprint edge, grouped by building.
    edge_start : (nb + 1,) int64
        Edges of building k are ``edges[edge_start[k]:edge_start[k + 1]]``.
    height : (nb,) float64
        Roof heights (m).
    bbox : (nb, 4) float64
        Footprint boxes ``[xmin, ymin, xmax, ymax]`` (m).
    gx0, gy0, cell_m : float
        Grid origin (m) and square cell size (m).
    nx, ny : int
        Grid shape; cell ``(ix, iy)`` has flat index ``iy * nx + ix``.
    cell_start : (nx * ny + 1,) int64
        Buildings of cell c are ``cell_items[cell_start[c]:cell_start[c + 1]]``.
    cell_items : (m,) int32
        Building rows registered in each cell (bbox grown by ``margin``), tallest roof first
        within a cell (the walk stops reading a cell at the first roof below the segment).
    cell_hmax : (nx * ny,) float64
        Tallest roof registered in each cell (m).
    margin : float
        Registration margin of buildings in cells (m).
    max_edges : int
        Largest edge count of one building.
    horizon : (S, K, nx * ny) uint8
        Quantised :func:`horizon_table`, transposed so that one sector and slope is one
        contiguous map of the grid (a walk reads neighbouring bytes), for the slopes
        ``j**2 / slope_scale``: level ``q`` stands for the height ``q * horizon_step_m``,
        which is >= the table's value. A walk that rises (towards higher z) stops, clear, on
        entering a cell at a height >= that level for its sector and slope. ``S = 0`` (shape
        ``(0, 1, 1)``): no early stop.
    slope_scale, horizon_step_m : float
        See ``horizon``.
    obb : (nb, 6) float64
        Oriented boxes around the footprints, grown by ``margin``: ``[ux, uy, u0, u1, v0,
        v1]`` (see :func:`_oriented_slab`); a second, tighter pruning test after ``bbox``.
    inner : (nb, 6) float64
        Oriented boxes inside the footprints, at least ``margin`` from their boundary, same
        layout (``u0 > u1``: none); with ``first_only``, a segment through one over more than
        ``margin``, more than ``tol + margin / 10`` below the roof, is blocked without the
        exact test.
    out : (n,) float64
        Written: segment parameter in [0, 1] of the first point that is inside a prism by
        more than ``tol``, ``inf`` if the segment is clear.
    """
    nb = height.shape[0]
    n = a.shape[0]
    hmax = -math.inf
    for k in range(nb):
        hmax = max(hmax, height[k])
    stamp = np.full(nb, -1, dtype=np.int64)
    buf1 = np.empty(max_edges + 1, dtype=np.float64)
    buf2 = np.empty(max_edges + 1, dtype=np.float64)
    ev_t = np.empty(2 * max_edges + 2, dtype=np.float64)
    ev_d = np.empty(2 * max_edges + 2, dtype=np.int64)
    gx1 = gx0 + nx * cell_m
    gy1 = gy0 + ny * cell_m
    n_sectors = horizon.shape[0]
    n_slopes = horizon.shape[1]
    sector_scale = n_sectors / 4.0
    ncell = nx * ny
    hz_flat = horizon.reshape(-1)
    inv_cell = 1.0 / cell_m
    for i in range(n):
        out[i] = math.inf
        ax = a[i, 0]
        ay = a[i, 1]
        az = a[i, 2]
        dx = b[i, 0] - ax
        dy = b[i, 1] - ay
        dz = b[i, 2] - az
        zmin = min(az, b[i, 2])
        if nb == 0 or zmin >= hmax - 0.5 * tol:
            continue
        len_xy = math.sqrt(dx * dx + dy * dy)
        if len_xy <= tol:
            out[i] = _vertical_hit(
                ax,
                ay,
                az,
                dz,
                zmin,
                tol,
                margin,
                first_only,
                edges,
                edge_start,
                height,
                bbox,
                gx0,
                gy0,
                cell_m,
                nx,
                ny,
                cell_start,
                cell_items,
                cell_hmax,
            )
            continue
        # part of the segment low enough to be blocked at all: z <= hmax
        t_lo = 0.0
        t_hi = 1.0
        if dz > 0.0:
            t_hi = min(1.0, (hmax - az) / dz + 1e-9)
        elif dz < 0.0:
            t_lo = max(0.0, (hmax - az) / dz - 1e-9)
        # clip to the grid box (which has a margin around every box: products of
        # reciprocals, rounded, are close enough here and below)
        inv_dx = 1.0 / dx if dx != 0.0 else 0.0
        inv_dy = 1.0 / dy if dy != 0.0 else 0.0
        if dx != 0.0:
            ta = (gx0 - ax) * inv_dx
            tb = (gx1 - ax) * inv_dx
            if ta > tb:
                ta, tb = tb, ta
            t_lo = max(t_lo, ta)
            t_hi = min(t_hi, tb)
        elif ax < gx0 or ax > gx1:
            continue
        if dy != 0.0:
            ta = (gy0 - ay) * inv_dy
            tb = (gy1 - ay) * inv_dy
            if ta > tb:
                ta, tb = tb, ta
            t_lo = max(t_lo, ta)
            t_hi = min(t_hi, tb)
        elif ay < gy0 or ay > gy1:
            continue
        if t_lo > t_hi:
            continue
        # 2-D DDA (Amanatides & Woo 1987) over the cells met between t_lo and t_hi, walked
        # towards higher z when only the line of sight is asked (any blocking building
        # settles it), so that the horizon table can stop the walk; the building tests
        # below always use a and d. The walk runs along o + s w, s in [s_lo, s_hi].
        backward = first_only and dz < 0.0
        if backward:
            ox = ax + dx
            oy = ay + dy
            oz = az + dz
            wx = -dx
            wy = -dy
            wz = -dz
            inv_wx = -inv_dx
            inv_wy = -inv_dy
            s_lo = 1.0 - t_hi
            s_hi = 1.0 - t_lo
        else:
            ox = ax
            oy = ay
            oz = az
            wx = dx
            wy = dy
            wz = dz
            inv_wx = inv_dx
            inv_wy = inv_dy
            s_lo = t_lo
            s_hi = t_hi
        hz_base = -1  # start of this ray's map in `hz_flat`, -1: no early stop
        if n_sectors > 0 and wz >= 0.0:
            row = min(int(math.sqrt(wz / len_xy * slope_scale)), n_slopes - 1)
            sector = min(int(_pseudo_angle(wx, wy) * sector_scale), n_sectors - 1)
            hz_base = (sector * n_slopes + row) * ncell
        ix = min(max(math.floor((ox + s_lo * wx - gx0) * inv_cell), 0), nx - 1)
        iy = min(max(math.floor((oy + s_lo * wy - gy0) * inv_cell), 0), ny - 1)
        ix_end = min(max(math.floor((ox + s_hi * wx - gx0) * inv_cell), 0), nx - 1)
        iy_end = min(max(math.floor((oy + s_hi * wy - gy0) * inv_cell), 0), ny - 1)
        if wx > 0.0:
            step_x = 1
            tmax_x = (gx0 + (ix + 1) * cell_m - ox) * inv_wx
            tdelta_x = cell_m * inv_wx
        elif wx < 0.0:
            step_x = -1
            tmax_x = (gx0 + ix * cell_m - ox) * inv_wx
            tdelta_x = -cell_m * inv_wx
        else:
            step_x = 0
            tmax_x = math.inf
            tdelta_x = math.inf
        if wy > 0.0:
            step_y = 1
            tmax_y = (gy0 + (iy + 1) * cell_m - oy) * inv_wy
            tdelta_y = cell_m * inv_wy
        elif wy < 0.0:
            step_y = -1
            tmax_y = (gy0 + iy * cell_m - oy) * inv_wy
            tdelta_y = -cell_m * inv_wy
        else:
            step_y = 0
            tmax_y = math.inf
            tdelta_y = math.inf
        n_x = abs(ix_end - ix)
        n_y = abs(iy_end - iy)
        t_enter = s_lo
        best = math.inf
        while True:
            t_exit = s_hi if n_x == 0 and n_y == 0 else min(min(tmax_x, tmax_y), s_hi)
            te = max(t_enter, s_lo)
            tx = max(t_exit, te)
            zc = min(oz + te * wz, oz + tx * wz)
            c = iy * nx + ix
            if hz_base >= 0 and zc >= hz_flat[hz_base + c] * horizon_step_m:
                break  # rising, and above the horizon of everything ahead
            if zc < cell_hmax[c] - 0.5 * tol:
                # walked upwards, the segment is at or above zc from here on, and a
                # building is first met in the first walked cell that it overlaps; items
                # come tallest first, so the first one below z_low ends the cell
                z_low = zc if wz >= 0.0 else zmin
                for j in range(cell_start[c], cell_start[c + 1]):
                    k = cell_items[j]
                    hk = height[k] - 0.5 * tol
                    if z_low >= hk:
                        break
                    if stamp[k] == i:
                        continue
                    stamp[k] = i
                    t0, t1 = _slab(
                        ax,
                        ay,
                        dx,
                        dy,
                        inv_dx,
                        inv_dy,
                        bbox[k, 0] - margin,
                        bbox[k, 1] - margin,
                        bbox[k, 2] + margin,
                        bbox[k, 3] + margin,
                    )
                    if t0 > t1 or min(az + t0 * dz, az + t1 * dz) >= hk:
                        continue
                    t0, t1 = _oriented_slab(ax, ay, dx, dy, obb, k, t0, t1)
                    if t0 > t1 or min(az + t0 * dz, az + t1 * dz) >= hk:
                        continue
                    if first_only and inner[k, 2] <= inner[k, 3]:
                        # through a box inside the footprint (1 cm clear of its boundary)
                        # over > 1 cm, > 1 mm below the roof line: blocked, whatever the
                        # rounding of the exact test
                        i0, i1 = _oriented_slab(ax, ay, dx, dy, inner, k, 0.0, 1.0)
                        if (i1 - i0) * len_xy > margin and min(
                            az + i0 * dz, az + i1 * dz
                        ) < height[k] - tol - 0.1 * margin:
                            best = i0
                            break
                    th = _building_hit(
                        k,
                        ax,
                        ay,
                        az,
                        dx,
                        dy,
                        dz,
                        len_xy,
                        tol,
                        edges,
                        edge_start,
                        height,
                        buf1,
                        buf2,
                        ev_t,
                        ev_d,
                    )
                    if th < best:
                        best = th
                if first_only and best < math.inf:
                    break
            if n_x == 0 and n_y == 0:
                break
            if n_x > 0 and (n_y == 0 or tmax_x < tmax_y):
                t_enter = tmax_x
                ix += step_x
                tmax_x += tdelta_x
                n_x -= 1
            else:
                t_enter = tmax_y
                iy += step_y
                tmax_y += tdelta_y
                n_y -= 1
            # cells are met in order of t: nothing later can block before `best`
            if not backward and (t_enter - best) * len_xy > margin:
                break
        out[i] = best
