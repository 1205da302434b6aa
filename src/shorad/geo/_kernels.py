"""Numba kernels for :mod:`shorad.geo.los` (segment vs. building-prism intersection).

The kernels take plain arrays, assume valid SI input and trust their caller
(:mod:`shorad.geo.los` validates). Their numpy reference is
:func:`shorad.geo.los._segment_hits_reference`; ``tests/geo`` checks that both give identical
results. Both evaluate the same floating-point expressions in the same order for the decisive
steps (edge sides, crossing parameters, interval sweep, heights), so they agree bit for bit;
only the pruning differs, and every pruning test here is conservative by a margin.

See :func:`shorad.geo.los.line_of_sight` for the geometry and the tolerance convention.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["segment_hits"]


@njit(cache=True, nogil=True)
def _sort_values(buf: NDArray[np.float64], n: int) -> None:  # pragma: no cover - numba
    """Insertion sort of ``buf[:n]`` in place (n is small: crossings of one building)."""
    for i in range(1, n):
        v = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v


@njit(cache=True, nogil=True)
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
    xmin: float,
    ymin: float,
    xmax: float,
    ymax: float,
) -> tuple[float, float]:  # pragma: no cover - numba
    """Range ``[t0, t1]`` within [0, 1] where ``a + t d`` is in the box (empty if t0 > t1)."""
    t0 = 0.0
    t1 = 1.0
    if dx != 0.0:
        ta = (xmin - ax) / dx
        tb = (xmax - ax) / dx
        if ta > tb:
            ta, tb = tb, ta
        t0 = max(t0, ta)
        t1 = min(t1, tb)
    elif ax < xmin or ax > xmax:
        return 1.0, 0.0
    if dy != 0.0:
        ta = (ymin - ay) / dy
        tb = (ymax - ay) / dy
        if ta > tb:
            ta, tb = tb, ta
        t0 = max(t0, ta)
        t1 = min(t1, tb)
    elif ay < ymin or ay > ymax:
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


@njit(
    "void(float64[:, ::1], float64[:, ::1], float64, boolean, float64[:, ::1], int64[::1],"
    " float64[::1], float64[:, ::1], float64, float64, float64, int64, int64, int64[::1],"
    " int32[::1], float64[::1], float64, int64, float64[::1])",
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
        Building rows registered in each cell (bbox grown by ``margin``).
    cell_hmax : (nx * ny,) float64
        Tallest roof registered in each cell (m).
    margin : float
        Registration margin of buildings in cells (m).
    max_edges : int
        Largest edge count of one building.
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
        # clip to the grid box
        if dx != 0.0:
            ta = (gx0 - ax) / dx
            tb = (gx1 - ax) / dx
            if ta > tb:
                ta, tb = tb, ta
            t_lo = max(t_lo, ta)
            t_hi = min(t_hi, tb)
        elif ax < gx0 or ax > gx1:
            continue
        if dy != 0.0:
            ta = (gy0 - ay) / dy
            tb = (gy1 - ay) / dy
            if ta > tb:
                ta, tb = tb, ta
            t_lo = max(t_lo, ta)
            t_hi = min(t_hi, tb)
        elif ay < gy0 or ay > gy1:
            continue
        if t_lo > t_hi:
            continue
        # 2-D DDA (Amanatides & Woo 1987) over the cells met between t_lo and t_hi
        ix = min(max(math.floor((ax + t_lo * dx - gx0) / cell_m), 0), nx - 1)
        iy = min(max(math.floor((ay + t_lo * dy - gy0) / cell_m), 0), ny - 1)
        ix_end = min(max(math.floor((ax + t_hi * dx - gx0) / cell_m), 0), nx - 1)
        iy_end = min(max(math.floor((ay + t_hi * dy - gy0) / cell_m), 0), ny - 1)
        if dx > 0.0:
            step_x = 1
            tmax_x = (gx0 + (ix + 1) * cell_m - ax) / dx
            tdelta_x = cell_m / dx
        elif dx < 0.0:
            step_x = -1
            tmax_x = (gx0 + ix * cell_m - ax) / dx
            tdelta_x = -cell_m / dx
        else:
            step_x = 0
            tmax_x = math.inf
            tdelta_x = math.inf
        if dy > 0.0:
            step_y = 1
            tmax_y = (gy0 + (iy + 1) * cell_m - ay) / dy
            tdelta_y = cell_m / dy
        elif dy < 0.0:
            step_y = -1
            tmax_y = (gy0 + iy * cell_m - ay) / dy
            tdelta_y = -cell_m / dy
        else:
            step_y = 0
            tmax_y = math.inf
            tdelta_y = math.inf
        n_x = abs(ix_end - ix)
        n_y = abs(iy_end - iy)
        t_enter = t_lo
        best = math.inf
        while True:
            t_exit = t_hi if n_x == 0 and n_y == 0 else min(min(tmax_x, tmax_y), t_hi)
            te = max(t_enter, t_lo)
            tx = max(t_exit, te)
            zc = min(az + te * dz, az + tx * dz)
            c = iy * nx + ix
            if zc < cell_hmax[c] - 0.5 * tol:
                for j in range(cell_start[c], cell_start[c + 1]):
                    k = cell_items[j]
                    if stamp[k] == i:
                        continue
                    stamp[k] = i
                    hk = height[k] - 0.5 * tol
                    if zmin >= hk:
                        continue
                    t0, t1 = _slab(
                        ax,
                        ay,
                        dx,
                        dy,
                        bbox[k, 0] - margin,
                        bbox[k, 1] - margin,
                        bbox[k, 2] + margin,
                        bbox[k, 3] + margin,
                    )
                    if t0 > t1 or min(az + t0 * dz, az + t1 * dz) >= hk:
                        continue
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
            if (t_enter - best) * len_xy > margin:
                break
        out[i] = best
