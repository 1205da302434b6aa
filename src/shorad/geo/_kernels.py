"""Numba kernels for :mod:`shorad.geo.los` (segment vs. building-prism intersection).

The kernels take plain arrays, assume valid SI input and trust their caller
(:mod:`shorad.geo.los` validates). Their numpy reference is
:func:`shorad.geo.los._segment_hits_reference`; ``tests/geo`` checks that both give identical
results. Both evaluate the same floating-point expressions in the same order for the decisive
steps (edge sides, crossing parameters, interval sweep, heights), so they agree bit for bit;
only the pruning differs, and every pruning test here is conservative by a margin (boxes
grown by 1 cm, the horizon table rounded up, the inner-box shortcut 1 cm / 1 mm inside).
:func:`horizon_table` has its own numpy reference,
:func:`shorad.geo.los._horizon_table_reference`, equal bit for bit; so do
:func:`origin_horizon` (:func:`shorad.geo.los._origin_horizon_reference`, bit for bit) and
:func:`origin_blockers` (:func:`shorad.geo.los._origin_blockers_reference`, to 1e-12
relative: numpy's and libm's trigonometric functions differ in the last bits).

See :func:`shorad.geo.los.line_of_sight` for the geometry and the tolerance convention.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit

__all__ = [
    "horizon_table",
    "los_clear",
    "origin_blockers",
    "origin_horizon",
    "sector_angles",
    "segment_hits",
]


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


@njit(cache=True, nogil=True, inline="always")
def _raise_sectors(
    out: NDArray[np.float64], lo: float, hi: float, value: float
) -> None:  # pragma: no cover - numba
    """``out[s] = max(out[s], value)`` over the sectors meeting diamond angles [lo, hi].

    ``hi`` may exceed 4 (the range wraps through +x); both ends are widened by 1e-6.
    """
    n_sectors = out.shape[0]
    q = n_sectors / 4.0
    s0 = math.floor((lo - 1e-6) * q)
    s1 = min(math.floor((hi + 1e-6) * q), s0 + n_sectors - 1)
    for sr in range(s0, s1 + 1):
        s = (sr + n_sectors) % n_sectors
        if value > out[s]:
            out[s] = value


@njit(cache=True, nogil=True)
def _slope_levels() -> NDArray[np.float64]:  # pragma: no cover - numba
    """Slopes of the 256 uint8 levels of a per-origin horizon: level 0 is ``-inf``, 255
    ``+inf``, level q in 1..254 is ``2 ** ((q - 128) / 16)`` (0.004 to 240, steps of 4.4 %)."""
    dec = np.empty(256, dtype=np.float64)
    dec[0] = -math.inf
    dec[255] = math.inf
    for q in range(1, 255):
        dec[q] = 2.0 ** ((q - 128) / 16.0)
    return dec


@njit(cache=True, nogil=True)
def _level_up(v: float, dec: NDArray[np.float64]) -> int:  # pragma: no cover - numba
    """The lowest level ``q`` of ``dec`` with ``dec[q] >= v``."""
    if v == -math.inf:
        return 0
    if not v <= dec[254]:
        return 255
    q = min(max(math.ceil(16.0 * math.log2(max(v, 1e-300)) + 128.0), 1), 254)
    while q > 1 and dec[q - 1] >= v:
        q -= 1
    while dec[q] < v:
        q += 1
    return q


@njit(cache=True, nogil=True)
def _level_down(v: float, dec: NDArray[np.float64]) -> int:  # pragma: no cover - numba
    """The highest level ``q`` of ``dec`` with ``dec[q] <= v``."""
    if v == math.inf:
        return 255
    if not v >= dec[1]:
        return 0
    q = min(max(math.floor(16.0 * math.log2(v) + 128.0), 1), 254)
    while q < 254 and dec[q + 1] <= v:
        q += 1
    while dec[q] > v:
        q -= 1
    return q


@njit(cache=True, nogil=True)
def _quantise_levels(
    horizon: NDArray[np.float64],
    blockers: NDArray[np.float64],
    dec: NDArray[np.float64],
    out: NDArray[np.uint8],
) -> None:  # pragma: no cover - numba
    """``out[s] = [horizon up, blocker slope down, blocker length up]`` as levels of ``dec``."""
    for s in range(horizon.shape[0]):
        out[s, 0] = _level_up(horizon[s], dec)
        out[s, 1] = _level_down(blockers[s, 0], dec)
        out[s, 2] = _level_up(blockers[s, 1], dec)


@njit(cache=True, nogil=True, inline="always")
def _raise_box(
    out: NDArray[np.float64], x0: float, x1: float, y0: float, y1: float, rise: float
) -> bool:  # pragma: no cover - numba
    """Raise ``out`` by ``rise / distance`` over the sectors of the box of offsets
    ``[x0, x1] x [y0, y1]`` from the origin; False if the box (nearly) holds the origin."""
    ddx = max(0.0, max(x0, -x1))
    ddy = max(0.0, max(y0, -y1))
    r = math.sqrt(ddx * ddx + ddy * ddy) * (1.0 - 1e-9) - 1e-6
    if r <= 0.0:
        return False
    p00 = _pseudo_angle(x0, y0)
    p10 = _pseudo_angle(x1, y0)
    p01 = _pseudo_angle(x0, y1)
    p11 = _pseudo_angle(x1, y1)
    if x0 > 0.0 and y0 < 0.0 <= y1:
        # the box straddles the +x direction, where the angle wraps
        lo = min(p00, p10)
        hi = (0.0 if y1 == 0.0 else max(p01, p11)) + 4.0
    else:
        lo = min(min(p00, p10), min(p01, p11))
        hi = max(max(p00, p10), max(p01, p11))
    _raise_sectors(out, lo, hi, rise / r)
    return True


@njit(
    "boolean(float64, float64, float64, float64, float64[:, ::1], int64[::1], float64[::1],"
    " float64, float64, float64, int64, int64, int64[::1], int32[::1], float64[::1],"
    " float64[:, ::1], int64, float64, int64, int64[::1], int64, float64[::1])",
    cache=True,
    nogil=True,
)
def origin_horizon(
    ox: float,
    oy: float,
    oz: float,
    margin: float,
    edges: NDArray[np.float64],
    edge_start: NDArray[np.int64],
    height: NDArray[np.float64],
    gx0: float,
    gy0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: NDArray[np.int64],
    cell_items: NDArray[np.int32],
    cell_hmax: NDArray[np.float64],
    block_hmax: NDArray[np.float64],
    block: int,
    split_m: float,
    near: int,
    stamp: NDArray[np.int64],
    stamp_value: int,
    out: NDArray[np.float64],
) -> bool:  # pragma: no cover - numba
    """Horizon slopes of one origin point per direction sector, for rays rising from it.

    Writes ``out[s]`` (S sectors, :func:`_pseudo_angle` in ``[4 s / S, 4 (s + 1) / S]``) so
    that a segment leaving ``o`` upwards in a direction of sector ``s`` with slope ``dz /
    horizontal length > out[s]`` is clear of every prism (``-inf``: any rising segment).
    Every footprint point lies in a cell, and the cell's tallest roof bounds its height;
    the grid is read at three levels, each skipped where its tallest roof is not above
    ``oz - 1 mm`` (a rising segment cannot pass below it):

    * blocks of ``block x block`` cells farther than ``split_m`` from ``o``: the block's
      box at its tallest roof bounds ``(roof - oz + 1 mm) / r`` over the footprint points
      at horizontal distance ``r`` in its directions;
    * the cells of the nearer blocks, each as a box at its tallest roof, except
    * the cells within ``near`` cells (in x and y) of the origin's cell, whose buildings are
      read edge by edge: a footprint point seen from ``o`` lies beyond an edge in its
      direction, at least as far away as that edge. ``o`` inside such a footprint or within
      ``margin`` of it: no horizon.

    Distances are shrunk by 1e-9 relative and 1e-6 m, sector ranges widened by 1e-6.

    Parameters
    ----------
    ox, oy, oz : float
        Origin (ENU m).
    margin : float
        Nearest distance (m) of a building edge below which the origin gets no horizon.
    edges, edge_start, height, gx0, gy0, cell_m, nx, ny, cell_start, cell_items, cell_hmax
        The index, see :func:`segment_hits`.
    block_hmax : (nby, nbx) float64
        Tallest roof of each block of ``block x block`` cells (``-inf``: empty).
    block : int
        Block side (cells).
    split_m : float
        Blocks nearer than this (m) are read cell by cell.
    near : int
        Half-width (cells) of the block of cells read building by building.
    stamp : (nb,) int64
        Scratch: a building whose entry equals ``stamp_value`` is skipped (already read);
        read buildings are set to ``stamp_value``.
    stamp_value : int
        See ``stamp``.
    out : (S,) float64
        Written: the horizon slope per sector.

    Returns
    -------
    bool
        False if the origin has no horizon (``out`` is then all ``+inf``).
    """
    out[:] = -math.inf
    rise_m = 1e-3
    fx = math.floor((ox - gx0) / cell_m)
    fy = math.floor((oy - gy0) / cell_m)
    span = block * cell_m
    for by in range(block_hmax.shape[0]):
        for bx in range(block_hmax.shape[1]):
            rise = block_hmax[by, bx] - oz + rise_m
            if rise <= 0.0:
                continue
            x0 = gx0 + bx * span - ox
            y0 = gy0 + by * span - oy
            ddx = max(0.0, max(x0, -(x0 + span)))
            ddy = max(0.0, max(y0, -(y0 + span)))
            if ddx * ddx + ddy * ddy > split_m * split_m:
                if not _raise_box(out, x0, x0 + span, y0, y0 + span, rise):
                    out[:] = math.inf
                    return False
                continue
            for iy in range(by * block, min((by + 1) * block, ny)):
                for ix in range(bx * block, min((bx + 1) * block, nx)):
                    c = iy * nx + ix
                    rise = cell_hmax[c] - oz + rise_m
                    if rise <= 0.0:
                        continue
                    if abs(ix - fx) > near or abs(iy - fy) > near:
                        cx0 = gx0 + ix * cell_m - ox
                        cy0 = gy0 + iy * cell_m - oy
                        if not _raise_box(out, cx0, cx0 + cell_m, cy0, cy0 + cell_m, rise):
                            out[:] = math.inf
                            return False
                        continue
                    for jj in range(cell_start[c], cell_start[c + 1]):
                        k = cell_items[jj]
                        rk = height[k] - oz + rise_m
                        if rk <= 0.0:
                            break
                        if stamp[k] == stamp_value:
                            continue
                        stamp[k] = stamp_value
                        inside = False
                        for e in range(edge_start[k], edge_start[k + 1]):
                            px = edges[e, 0] - ox
                            py = edges[e, 1] - oy
                            qx = edges[e, 2] - ox
                            qy = edges[e, 3] - oy
                            vx = qx - px
                            vy = qy - py
                            l2 = vx * vx + vy * vy
                            t = 0.0
                            if l2 > 0.0:
                                t = min(max(-(px * vx + py * vy) / l2, 0.0), 1.0)
                            ex = px + t * vx
                            ey = py + t * vy
                            r = math.sqrt(ex * ex + ey * ey) * (1.0 - 1e-9) - 1e-6
                            if r <= margin:
                                out[:] = math.inf
                                return False
                            if (py > 0.0) != (qy > 0.0) and px - py * vx / vy > 0.0:
                                inside = not inside
                            pp = _pseudo_angle(px, py)
                            pq = _pseudo_angle(qx, qy)
                            if px * qy - py * qx >= 0.0:
                                lo = pp
                                hi = pq
                            else:
                                lo = pq
                                hi = pp
                            if hi < lo:
                                hi += 4.0
                            _raise_sectors(out, lo, hi, rk / r)
                        if inside:
                            out[:] = math.inf
                            return False
    return True


@njit(cache=True, nogil=True)
def _angle_of_pseudo(p: float) -> float:  # pragma: no cover - numba
    """True angle (rad, in (-pi, pi]) of the direction with diamond angle ``p`` (mod 4)."""
    if p < 0.0:
        p += 4.0
    elif p >= 4.0:
        p -= 4.0
    if p < 1.0:
        return math.atan2(p, 1.0 - p)
    if p < 2.0:
        return math.atan2(2.0 - p, 1.0 - p)
    if p < 3.0:
        return math.atan2(2.0 - p, p - 3.0)
    return math.atan2(p - 4.0, p - 3.0)


@njit("float64[:, ::1](int64)", cache=True, nogil=True)
def sector_angles(n_sectors: int) -> NDArray[np.float64]:  # pragma: no cover - numba
    """True angles (rad) of the ends of S direction sectors widened by 1e-6 (diamond angle):
    row s is ``[angle(4 s / S - 1e-6), angle(4 (s + 1) / S + 1e-6)]``."""
    out = np.empty((n_sectors, 2), dtype=np.float64)
    for s in range(n_sectors):
        out[s, 0] = _angle_of_pseudo(4.0 * s / n_sectors - 1e-6)
        out[s, 1] = _angle_of_pseudo(4.0 * (s + 1) / n_sectors + 1e-6)
    return out


@njit(cache=True, nogil=True)
def _wrap_angle(x: float) -> float:  # pragma: no cover - numba
    """``x`` (rad) moved into (-pi, pi]."""
    while x > math.pi:
        x -= 2.0 * math.pi
    while x <= -math.pi:
        x += 2.0 * math.pi
    return x


@njit(cache=True, nogil=True)
def _box_entry(
    ou: float,
    ov: float,
    cos_t: float,
    sin_t: float,
    ux: float,
    uy: float,
    u0: float,
    u1: float,
    v0: float,
    v1: float,
) -> float:  # pragma: no cover - numba
    """Distance along direction ``(cos_t, sin_t)`` from the point ``(ou, ov)`` (box frame)
    at which the ray enters the box ``[u0, u1] x [v0, v1]`` of axis ``(ux, uy)``; ``inf`` if
    it misses it or starts inside it."""
    du = cos_t * ux + sin_t * uy
    dv = sin_t * ux - cos_t * uy
    t_in = -math.inf
    t_out = math.inf
    if du != 0.0:
        ta = (u0 - ou) / du
        tb = (u1 - ou) / du
        t_in = max(t_in, min(ta, tb))
        t_out = min(t_out, max(ta, tb))
    elif ou < u0 or ou > u1:
        return math.inf
    if dv != 0.0:
        ta = (v0 - ov) / dv
        tb = (v1 - ov) / dv
        t_in = max(t_in, min(ta, tb))
        t_out = min(t_out, max(ta, tb))
    elif ov < v0 or ov > v1:
        return math.inf
    if t_in > t_out or t_in <= 0.0:
        return math.inf
    return t_in


@njit(cache=True, nogil=True)
def _box_blockers(
    ox: float,
    oy: float,
    rise: float,
    margin: float,
    inner: NDArray[np.float64],
    k: int,
    sector_angle: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - numba
    """The inner-box part of :func:`origin_blockers` for building ``k``."""
    n_sectors = out.shape[0]
    w = 2.0 * margin
    ux = inner[k, 0]
    uy = inner[k, 1]
    u0 = inner[k, 2] + w
    u1 = inner[k, 3] - w
    v0 = inner[k, 4] + w
    v1 = inner[k, 5] - w
    if not (u0 < u1 and v0 < v1):
        return
    ou = ox * ux + oy * uy
    ov = oy * ux - ox * uy
    if u0 <= ou <= u1 and v0 <= ov <= v1:
        return
    cu = 0.5 * (u0 + u1) - ou
    cv = 0.5 * (v0 + v1) - ov
    centre = math.atan2(cu * uy + cv * ux, cu * ux - cv * uy)
    amin = math.inf
    amax = -math.inf
    ang = np.empty(4, dtype=np.float64)
    dist = np.empty(4, dtype=np.float64)
    for j in range(4):
        pu = (u0 if j == 0 or j == 3 else u1) - ou
        pv = (v0 if j < 2 else v1) - ov
        x = pu * ux - pv * uy
        y = pu * uy + pv * ux
        ang[j] = _wrap_angle(math.atan2(y, x) - centre)
        dist[j] = math.sqrt(x * x + y * y)
        amin = min(amin, ang[j])
        amax = max(amax, ang[j])
    p0 = _pseudo_angle(math.cos(centre + amin), math.sin(centre + amin))
    p1 = _pseudo_angle(math.cos(centre + amax), math.sin(centre + amax))
    if p1 < p0:
        p1 += 4.0
    s0 = int(p0 * n_sectors / 4.0)
    s1 = min(int(p1 * n_sectors / 4.0), s0 + n_sectors - 1)
    for sr in range(s0, s1 + 1):
        s = sr % n_sectors
        t0 = sector_angle[s, 0]
        t1 = sector_angle[s, 1]
        d0 = _wrap_angle(t0 - centre)
        d1 = _wrap_angle(t1 - centre)
        if not (d0 < d1):
            continue
        r0 = _box_entry(ou, ov, math.cos(t0), math.sin(t0), ux, uy, u0, u1, v0, v1)
        r1 = _box_entry(ou, ov, math.cos(t1), math.sin(t1), ux, uy, u0, u1, v0, v1)
        if r0 == math.inf or r1 == math.inf:
            continue
        r = max(r0, r1)
        for j in range(4):
            if d0 <= ang[j] <= d1:
                r = max(r, dist[j])
        r_in = r * (1.0 + 1e-9) + 1e-6
        slope = rise / r_in
        if slope > out[s, 0]:
            out[s, 0] = slope
            out[s, 1] = r_in + 2.0 * margin


@njit(
    "void(float64, float64, float64, float64, float64, float64, float64, float64, int64,"
    " int64, int64[::1], int32[::1], float64[::1], float64[:, ::1], float64[:, ::1], int64,"
    " float64[:, ::1], float64[:, ::1])",
    cache=True,
    nogil=True,
)
def origin_blockers(
    ox: float,
    oy: float,
    oz: float,
    tol: float,
    margin: float,
    gx0: float,
    gy0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: NDArray[np.int64],
    cell_items: NDArray[np.int32],
    height: NDArray[np.float64],
    disc: NDArray[np.float64],
    inner: NDArray[np.float64],
    near: int,
    sector_angle: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - numba
    """Sure blockers of the segments rising from one point, per direction sector.

    Writes ``out[s] = [slope, length]`` (S sectors as in :func:`origin_horizon`): a segment
    that leaves ``o`` in a direction of sector ``s``, rising with a slope below ``slope``,
    with a horizontal length above ``length`` (m), is blocked. ``[-inf, inf]``: none known.

    For each building registered in a cell within ``near`` cells of the origin's cell, with a
    disc ``disc[k] = [cx, cy, rho]`` inside its footprint (``rho > 0``; properly inside even
    when grown by 2 cm): where every direction of sector ``s`` meets the disc over a chord
    longer than ``4 * margin``, such a segment enters the disc at a horizontal distance of at
    most ``r_in`` (taken at the sector's edge farthest from the disc's centre line), at a
    height below ``roof - tol - 0.1 * margin - 0.1 mm`` if its slope is below
    ``(roof - tol - 0.1 * margin - 0.1 mm - oz) / r_in``, and runs inside it for more than
    ``2 * margin`` if its horizontal length is above ``r_in + 2 * margin``: it passes
    through the footprint's interior below the roof. The building with the steepest such
    slope is kept per sector. The same with the building's inner box (see
    :func:`segment_hits`) shrunk by ``2 * margin`` on every side: where both edges of the
    sector meet it (then every direction between does), ``r_in`` is the largest of their
    entry distances and of the distances of the corners seen inside the sector; a point of
    the shrunk box is ``2 * margin`` inside the inner box, so the segment runs inside that
    over ``2 * margin`` after entering the shrunk box. Sector ends widened by 1e-6 (diamond
    angle), ``r_in`` rounded up by 1e-9 relative and 1e-6 m.

    Parameters
    ----------
    ox, oy, oz : float
        Origin (ENU m).
    tol, margin : float
        See :func:`segment_hits`.
    gx0, gy0, cell_m, nx, ny, cell_start, cell_items, height
        The index, see :func:`segment_hits`.
    disc : (nb, 3) float64
        Discs ``[cx, cy, rho]`` inside the footprints (m; ``rho = 0``: none).
    inner : (nb, 6) float64
        Inner boxes, see :func:`segment_hits` (``u0 > u1``: none).
    near : int
        Half-width (cells) of the block of cells read.
    sector_angle : (S, 2) float64
        :func:`sector_angles` of S sectors.
    out : (S, 2) float64
        Written, see above.
    """
    n_sectors = out.shape[0]
    for s in range(n_sectors):
        out[s, 0] = -math.inf
        out[s, 1] = math.inf
    drop = tol + 0.1 * margin + 1e-4
    fx = math.floor((ox - gx0) / cell_m)
    fy = math.floor((oy - gy0) / cell_m)
    for iy in range(max(fy - near, 0), min(fy + near, ny - 1) + 1):
        for ix in range(max(fx - near, 0), min(fx + near, nx - 1) + 1):
            c = iy * nx + ix
            for jj in range(cell_start[c], cell_start[c + 1]):
                k = cell_items[jj]
                rise = height[k] - drop - oz
                if rise <= 0.0:
                    break
                _box_blockers(ox, oy, rise, margin, inner, k, sector_angle, out)
                rho = disc[k, 2]
                if rho <= 0.0:
                    continue
                cx = disc[k, 0] - ox
                cy = disc[k, 1] - oy
                dist = math.sqrt(cx * cx + cy * cy)
                if dist <= rho * (1.0 + 1e-9) + 1e-6:
                    continue
                centre = math.atan2(cy, cx)
                half = math.asin(rho / dist) * (1.0 - 1e-9) - 1e-9
                # the sectors between the tangent directions (a sector outside is rejected
                # by the test below anyway)
                p0 = _pseudo_angle(math.cos(centre - half), math.sin(centre - half))
                p1 = _pseudo_angle(math.cos(centre + half), math.sin(centre + half))
                if p1 < p0:
                    p1 += 4.0
                s0 = int(p0 * n_sectors / 4.0)
                s1 = min(int(p1 * n_sectors / 4.0), s0 + n_sectors - 1)
                for sr in range(s0, s1 + 1):
                    s = sr % n_sectors
                    d0 = _wrap_angle(sector_angle[s, 0] - centre)
                    d1 = _wrap_angle(sector_angle[s, 1] - centre)
                    if not (-half < d0 < d1 < half):
                        continue
                    dm = max(-d0, d1)
                    side = dist * math.sin(dm)
                    q = rho * rho - side * side
                    if q <= 4.0 * margin * margin * (1.0 + 1e-6):
                        continue
                    r_in = (dist * math.cos(dm) - math.sqrt(q)) * (1.0 + 1e-9) + 1e-6
                    if r_in <= 0.0:
                        continue
                    slope = rise / r_in
                    if slope > out[s, 0]:
                        out[s, 0] = slope
                        out[s, 1] = r_in + 2.0 * margin


_SECTOR_ANGLES_128 = sector_angles(128)
"""``sector_angles(128)`` (the per-origin horizons' sectors), computed once at import."""
_SLOPE_LEVELS = _slope_levels()
"""``_slope_levels()``, computed once at import."""


@njit(
    "void(float64[:, ::1], float64[:, ::1], float64, boolean, float64[:, ::1], int64[::1],"
    " float64[::1], float64[:, ::1], float64, float64, float64, int64, int64, int64[::1],"
    " int32[::1], float64[::1], float64, int64, uint8[:, :, ::1], float64, float64,"
    " float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[:, ::1], int64, float64,"
    " int64, int64, int64, float64[:, ::1], uint8[:, :, ::1], int64[::1], float64[::1])",
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
    disc: NDArray[np.float64],
    block_hmax: NDArray[np.float64],
    block: int,
    split_m: float,
    near: int,
    near_blockers: int,
    group_min: int,
    slots: NDArray[np.float64],
    maps: NDArray[np.uint8],
    state: NDArray[np.int64],
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
    disc : (nb, 3) float64
        Discs inside the footprints for :func:`origin_blockers` (``rho = 0``: none).
    block_hmax, block, split_m, near
        See :func:`origin_horizon`.
    near_blockers : int
        ``near`` of :func:`origin_blockers`.
    group_min : int
        Origin grouping: the non-vertical segments that do not descend are grouped by their
        start point ``a`` in the hash table ``slots``; once ``group_min`` of them have left
        one point, its :func:`origin_horizon` is computed into ``maps``, and every later
        segment rising from it above the horizon of its sector is clear with no further
        work; with ``first_only``, one under the sure blocker of its sector
        (:func:`origin_blockers`) is blocked. 0: no
        grouping. After 16,384 segments with fewer than half of them from a point already
        in the table, the rest of the batch is not hashed.
    slots : (T, 4) float64
        Hash table (T a power of 2, open addressing on the bits of the point, linear
        probing), read and updated: row ``[x, y, z, info]``, info 0: empty, >= 1: segments
        seen, -1: no horizon, <= -2: the horizon is row ``-info - 2`` of ``maps``. At most
        ``T / 2`` points are entered. The caller may keep it between calls on one city.
    maps : (M, S, 3) uint8
        Per origin and sector (as :func:`origin_horizon`), levels of :func:`_slope_levels`:
        the horizon slope (rounded up), and the slope (rounded down) and horizontal length
        (rounded up) of :func:`origin_blockers`; with ``first_only``, a segment rising from
        the point below that slope and longer than that length is blocked with no further
        work. Rows ``state[1]:`` are written.
    state : (2,) int64
        ``[points in slots, rows of maps used]``, read and updated.
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
    # origin grouping: open addressing (linear probing) on the bits of a, in the
    # caller's table (it may persist between calls)
    n_slots = slots.shape[0]
    max_keys = maps.shape[0]
    origin_sectors = maps.shape[1]
    grouping = group_min > 0 and n_slots >= 2 and max_keys >= 1 and nb > 0
    hz_tmp = np.empty(origin_sectors, dtype=np.float64)
    blk_tmp = np.empty((origin_sectors, 2), dtype=np.float64)
    # the per-call tables (~5 µs to compute, more than 40 rays cost) come precomputed
    if origin_sectors == _SECTOR_ANGLES_128.shape[0]:
        sector_angle = _SECTOR_ANGLES_128.copy()
    else:
        sector_angle = sector_angles(origin_sectors)
    dec = _SLOPE_LEVELS.copy()
    o_stamp = np.full(nb, -1, dtype=np.int64)
    n_keys = state[0]
    n_maps = state[1]
    n_hits = 0
    n_builds = 0
    bits_a = a.view(np.int64)
    mask = n_slots - 1
    o_scale = origin_sectors / 4.0
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
        if grouping and i == 16384 and 2 * n_hits < i:
            grouping = False  # mostly distinct start points: not worth hashing
        if grouping and dz >= 0.0:
            kx = ax
            ky = ay
            kz = az
            hh = (
                bits_a[i, 0] * -7046029254386353131
                ^ bits_a[i, 1] * -4658895280553007687
                ^ bits_a[i, 2] * 7640891576956012809
            )
            slot = (hh ^ (hh >> 29)) & mask
            info = slots[slot, 3]
            while info != 0.0 and not (
                slots[slot, 0] == kx and slots[slot, 1] == ky and slots[slot, 2] == kz
            ):
                slot = (slot + 1) & mask
                info = slots[slot, 3]
            if info <= -2.0:
                # rises from a point with a horizon: clear if above it in its sector
                m = int(-info) - 2
                n_hits += 1
                sec = min(int(_pseudo_angle(dx, dy) * o_scale), origin_sectors - 1)
                if dz > dec[maps[m, sec, 0]] * len_xy:
                    continue
                if (
                    first_only
                    and dz < dec[maps[m, sec, 1]] * len_xy
                    and len_xy > dec[maps[m, sec, 2]]
                ):
                    out[i] = 0.0  # through a disc inside a footprint, below its roof
                    continue
            elif info > 0.0:
                n_hits += 1
                slots[slot, 3] = info + 1.0
                if info + 1.0 >= group_min:
                    slots[slot, 3] = -1.0
                    n_builds += 1
                    if n_maps < max_keys and origin_horizon(
                        kx,
                        ky,
                        kz,
                        margin,
                        edges,
                        edge_start,
                        height,
                        gx0,
                        gy0,
                        cell_m,
                        nx,
                        ny,
                        cell_start,
                        cell_items,
                        cell_hmax,
                        block_hmax,
                        block,
                        split_m,
                        near,
                        o_stamp,
                        n_builds,
                        hz_tmp,
                    ):
                        origin_blockers(
                            kx,
                            ky,
                            kz,
                            tol,
                            margin,
                            gx0,
                            gy0,
                            cell_m,
                            nx,
                            ny,
                            cell_start,
                            cell_items,
                            height,
                            disc,
                            inner,
                            near_blockers,
                            sector_angle,
                            blk_tmp,
                        )
                        _quantise_levels(hz_tmp, blk_tmp, dec, maps[n_maps])
                        slots[slot, 3] = -2.0 - n_maps
                        n_maps += 1
            elif info == 0.0 and 2 * n_keys < n_slots:
                slots[slot, 0] = kx
                slots[slot, 1] = ky
                slots[slot, 2] = kz
                slots[slot, 3] = 1.0
                n_keys += 1
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
    state[0] = n_keys
    state[1] = n_maps


@njit(cache=True, nogil=True)
def los_clear(a: NDArray[np.float64], b: NDArray[np.float64], args: tuple) -> NDArray[np.bool_]:  # type: ignore[type-arg]  # pragma: no cover - numba
    """Line of sight of segments ``a[i] -> b[i]`` ((n, 3) each) for compiled callers.

    ``args`` is :func:`shorad.geo.los.los_kernel_args`; the answer is
    :func:`shorad.geo.los.line_of_sight`'s. A full per-origin table is emptied first (as
    the Python entry does between calls).
    """
    slots = args[27]
    state = args[29]
    if state[0] * 2 >= slots.shape[0]:
        slots[:] = 0.0
        state[:] = 0
    out = np.empty(a.shape[0], dtype=np.float64)
    segment_hits(
        a,
        b,
        args[0],
        True,
        args[1],
        args[2],
        args[3],
        args[4],
        args[5],
        args[6],
        args[7],
        args[8],
        args[9],
        args[10],
        args[11],
        args[12],
        args[13],
        args[14],
        args[15],
        args[16],
        args[17],
        args[18],
        args[19],
        args[20],
        args[21],
        args[22],
        args[23],
        args[24],
        args[25],
        args[26],
        slots,
        args[28],
        state,
        out,
    )
    return np.isinf(out)
