"""Numba kernel of one greedy C2 cycle, for compiled callers (the compiled engine).

:func:`greedy_cycle_kernel` is what :mod:`shorad.sim.engine` does at a C2 cycle once the
picture is predicted to now::

    assessment = evaluate_threats(now, assets)
    orders = GreedyAssigner(doctrine, world).assign(now, assessment, effectors, state, held)

(:func:`shorad.c2.evaluate_threats`, :func:`shorad.c2.greedy.engagement_options`,
:func:`shorad.c2.greedy.greedy_rows`, :func:`shorad.c2.greedy.orders_from`), one track and
one (track, effector) pair at a time. Those numpy functions are its reference: the kernel
evaluates the same floating-point expressions in the same order, so the two agree bit for bit
(``tests/c2/test_greedy_kernel.py`` replays every C2 cycle of simulated runs through both).
The reference keeps the few operations whose rounding would otherwise depend on the CPU in an
order-defined form that this kernel repeats: the class-belief dot product as an explicit sum
(no BLAS), ``q**1.5`` as ``q * sqrt(q)`` and the proximity ``exp`` from the C library (numpy's
vectorised ``exp`` and ``pow`` round differently in the last bit on AVX-512 machines).

The kernel takes plain arrays and tuples, so it can be called from another ``@njit``
function, and trusts them as the scenario loader leaves them (``class_prob`` columns = the
types' ``pk_by_class`` classes, Pk tables >= 0, ``pk_range_m`` increasing). Line of sight is
checked only on the pairs that pass every other test (the reference checks it before the
``min_pk`` test); :func:`shorad.geo._kernels.los_clear` answers each segment on its own, so
the orders are the same.

Everything constant over a run is packed once by :func:`greedy_kernel_args`;
:func:`greedy_kernel_supports` says which doctrines it runs (no-fire zones are left to the
reference, whose point-in-polygon test is shapely's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.c2.base import Doctrine, Effectors
from shorad.c2.threat_eval import PROXIMITY_SLACK_M, URGENCY_S
from shorad.geo._kernels import los_clear
from shorad.threats.base import Assets
from shorad.tracking.base import CONFIRMED

__all__ = [
    "GreedyKernelArgs",
    "GreedyKernelOrders",
    "greedy_cycle_kernel",
    "greedy_kernel_args",
    "greedy_kernel_supports",
]

GreedyKernelArgs = tuple[Any, ...]
"""What :func:`greedy_kernel_args` packs (see there for the fields)."""

GreedyKernelOrders = tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
]
"""What :func:`greedy_cycle_kernel` returns (see there)."""

_CONFIRMED = int(CONFIRMED)
_SLACK_M = float(PROXIMITY_SLACK_M)
_URGENCY_S = float(URGENCY_S)


def greedy_kernel_supports(doctrine: Doctrine) -> str | None:
    """Why :func:`greedy_cycle_kernel` cannot run ``doctrine``, or None if it can.

    Parameters
    ----------
    doctrine : Doctrine

    Returns
    -------
    str or None
        A reason (for a message), None when the kernel gives the reference's orders.
    """
    if doctrine.assignment != "greedy":
        return f"doctrine.assignment is {doctrine.assignment!r} (compiled C2: 'greedy')"
    if doctrine.no_fire_zones:
        return "doctrine.no_fire_zones are set (compiled C2: none)"
    return None


def greedy_kernel_args(
    doctrine: Doctrine, effectors: Effectors, assets: Assets, *, check_los: bool = True
) -> GreedyKernelArgs:
    """Pack everything constant over a run for :func:`greedy_cycle_kernel`.

    Parameters
    ----------
    doctrine : Doctrine
        Must be supported (:func:`greedy_kernel_supports`); no-fire zones are ignored here.
    effectors : Effectors
        All deployed effectors; the kernel's effector rows are this table's rows.
    assets : Assets
    check_los : bool
        Check line of sight from mount to intercept point (the reference's ``world`` is not
        None). False: no check, and ``los_args`` is not read.

    Returns
    -------
    tuple
        In order (``e`` effectors, ``T`` types, ``C`` classes, ``a`` assets):

        0. ``pos_m`` (e, 3) float64 – mount positions.
        1. ``reaction_s`` (e,) float64.
        2. ``flyout_mps`` (e,) float64.
        3. ``min_range_m`` (e,) float64.
        4. ``max_range_m`` (e,) float64.
        5. ``max_alt_m`` (e,) float64.
        6. ``channels`` (e,) int64.
        7. ``rounds_per_shot`` (e,) int64.
        8. ``type_index`` (e,) int64 – row into the per-type tables.
        9. ``effector_id`` (e,) int64.
        10. ``tol2_m2`` (T,) float64 – ``aim_tolerance_m**2`` as the reference computes it.
        11. ``pk_by_class`` (T, C) float64.
        12. ``pk_range_m`` (n,) float64 – every type's table, concatenated.
        13. ``pk_range_factor`` (n,) float64 – likewise.
        14. ``pk_range_start`` (T + 1,) int64 – type ``k``'s table is ``[start[k]:start[k+1]]``.
        15. ``asset_aim_m`` (a, 3) float64.
        16. ``asset_radius_m`` (a,) float64.
        17. ``asset_value`` (a,) float64.
        18. ``shots_per_salvo`` int.
        19. ``engage_confirmed_only`` bool.
        20. ``stale_track_s`` float.
        21. ``min_threat_value`` float.
        22. ``min_pk`` float.
        23. ``check_los`` bool.
    """
    types = effectors.types
    n_cls = max((len(t.pk_by_class) for t in types), default=0)
    pk_by_class = np.zeros((len(types), n_cls))
    for k, t in enumerate(types):
        pk_by_class[k, : len(t.pk_by_class)] = t.pk_by_class
    start = np.zeros(len(types) + 1, np.int64)
    for k, t in enumerate(types):
        start[k + 1] = start[k] + len(t.pk_range_m)

    def col(attr: str) -> NDArray[np.float64]:
        return np.ascontiguousarray(effectors.column(attr), np.float64)

    def cat(attr: str) -> NDArray[np.float64]:
        parts = [np.asarray(getattr(t, attr), np.float64) for t in types]
        return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0))

    return (
        np.ascontiguousarray(effectors.pos_m, np.float64).reshape(-1, 3),
        col("reaction_s"),
        col("flyout_mps"),
        col("min_range_m"),
        col("max_range_m"),
        col("max_alt_m"),
        col("channels").astype(np.int64),
        col("rounds_per_shot").astype(np.int64),
        np.ascontiguousarray(effectors.type_index, np.int64),
        np.ascontiguousarray(effectors.effector_id, np.int64),
        np.array([t.aim_tolerance_m**2 for t in types], np.float64),
        pk_by_class,
        cat("pk_range_m"),
        cat("pk_range_factor"),
        start,
        np.ascontiguousarray(assets.aim_m, np.float64).reshape(-1, 3),
        np.ascontiguousarray(assets.radius_m, np.float64),
        np.ascontiguousarray(assets.value, np.float64),
        int(doctrine.shots_per_salvo),
        bool(doctrine.engage_confirmed_only),
        float(doctrine.stale_track_s),
        float(doctrine.min_threat_value),
        float(doctrine.min_pk),
        bool(check_los),
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _intercept_tau(
    px: float,
    py: float,
    pz: float,
    vx: float,
    vy: float,
    vz: float,
    ex: float,
    ey: float,
    ez: float,
    rho: float,
    flyout: float,
) -> float:  # pragma: no cover - numba
    """:func:`shorad.c2.intercept_time` of one (track, effector) pair (inf: no intercept)."""
    rx = px - ex
    ry = py - ey
    rz = pz - ez
    s2 = flyout * flyout
    a = (vx * vx + vy * vy) + vz * vz - s2
    b = 2.0 * ((rx * vx + ry * vy) + rz * vz + s2 * rho)
    c = (rx * rx + ry * ry) + rz * rz - s2 * (rho * rho)
    disc = b * b - 4.0 * a * c
    if disc < 0.0 and disc > -1e-12 * (b * b + abs(4.0 * a * c)):
        disc = 0.0
    sq = math.sqrt(disc) if disc >= 0.0 else math.nan
    r1 = (-b - sq) / (2.0 * a)
    r2 = (-b + sq) / (2.0 * a)
    r3 = math.nan
    if abs(a) < 1e-9 and b != 0.0:
        r3 = -c / b
    lo = rho - 1e-9
    tau = math.inf
    if r1 >= lo and r1 < tau:
        tau = r1
    if r2 >= lo and r2 < tau:
        tau = r2
    if r3 >= lo and r3 < tau:
        tau = r3
    return tau


@njit(cache=True, nogil=True)
def _interp(
    x: float, xp: NDArray[np.float64], fp: NDArray[np.float64], lo: int, hi: int
) -> float:  # pragma: no cover - numba
    """``np.interp(x, xp[lo:hi], fp[lo:hi])`` for one ``x``, as numpy's C loop computes it."""
    n = hi - lo
    if n == 1:
        return float(fp[lo])
    if math.isnan(x):
        return x
    if x > xp[hi - 1]:
        return float(fp[hi - 1])
    if x < xp[lo]:
        return float(fp[lo])
    j = lo
    while j + 1 < hi and x >= xp[j + 1]:
        j += 1
    if j == hi - 1 or xp[j] == x:
        return float(fp[j])
    slope: float = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    r: float = slope * (x - xp[j]) + fp[j]
    if math.isnan(r):
        r = slope * (x - xp[j + 1]) + fp[j + 1]
        if math.isnan(r) and fp[j] == fp[j + 1]:
            r = fp[j]
    return r


@njit(cache=True, nogil=True)
def _threats(
    x: NDArray[np.float64],
    asset_aim_m: NDArray[np.float64],
    asset_radius_m: NDArray[np.float64],
    asset_value: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - numba
    """Threat value (m,) and time to go to the most threatened asset (m,) of every track.

    :func:`shorad.c2.evaluate_threats`'s ``threat_value`` and
    ``time_to_go_s[i, asset[i]]`` (inf without assets).
    """
    m = x.shape[0]
    n_assets = asset_aim_m.shape[0]
    value = np.zeros(m)
    ttg_best = np.full(m, math.inf)
    for i in range(m):
        px = x[i, 0]
        py = x[i, 1]
        vx = x[i, 3]
        vy = x[i, 4]
        vv = vx * vx + vy * vy
        best_v = 0.0
        best_t = math.inf
        best_nan = False
        for j in range(n_assets):
            d0 = asset_aim_m[j, 0] - px
            d1 = asset_aim_m[j, 1] - py
            dv = d0 * vx + d1 * vy
            closing = dv > 0.0 and vv > 1e-6
            ttg = math.inf
            tt = 0.0
            urgency = 0.0
            if closing:
                ttg = dv / (vv if vv > 0.0 else 1.0)
                tt = ttg
                urgency = 1.0 / (1.0 + ttg / _URGENCY_S)
            cpa = math.hypot(d0 - vx * tt, d1 - vy * tt)
            y = cpa / (asset_radius_m[j] + _SLACK_M)
            prox = math.exp(-0.5 * (y * y))
            tv = asset_value[j] * prox * urgency
            # np.argmax: the first largest, or the first NaN
            if best_nan:
                continue
            if j == 0 or tv > best_v or math.isnan(tv):
                best_v = tv
                best_t = ttg
                best_nan = math.isnan(tv)
        value[i] = best_v
        ttg_best[i] = best_t
    return value, ttg_best


@njit(cache=True, nogil=True)
def greedy_cycle_kernel(
    c: GreedyKernelArgs,
    los_args: tuple[Any, ...],
    t_s: float,
    track_id: NDArray[np.int64],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    status: NDArray[np.int8],
    class_prob: NDArray[np.float64],
    last_update_t_s: NDArray[np.float64],
    shots_left: NDArray[np.int64],
    channels_busy: NDArray[np.int64],
    ready_t_s: NDArray[np.float64],
    held_track_ids: NDArray[np.int64],
) -> GreedyKernelOrders:  # pragma: no cover - numba
    """One greedy C2 cycle: threat evaluation and fire orders (see the module docstring).

    Parameters
    ----------
    c : tuple
        :func:`greedy_kernel_args`.
    los_args : tuple
        :func:`shorad.geo.los.los_kernel_args` of the world's buildings (not read when
        ``c`` was packed with ``check_los=False``).
    t_s : float
        Decision time; the picture is predicted to it.
    track_id : (m,) int64
    x : (m, 6) float64
        ENU position (m) and velocity (m/s) at ``t_s``.
    P : (m, 6, 6) float64
        Covariance at ``t_s``.
    status : (m,) int8
        ``TENTATIVE`` (0) or ``CONFIRMED`` (1).
    class_prob : (m, C) float64
    last_update_t_s : (m,) float64
    shots_left, channels_busy : (e,) int64
        Per effector row (not modified).
    ready_t_s : (e,) float64
        Earliest time each effector can fire again (reload).
    held_track_ids : (h,) int64
        Tracks not engaged now (a salvo in flight or in its look period).

    Returns
    -------
    eff_row : (k,) int64
        Row of the effectors table of each order (its ``effector_id`` is ``c[9][eff_row]``).
    track_id : (k,) int64
    fire_t_s : (k,) float64
    rounds : (k,) int64
    intercept_t_s : (k,) float64
    aim_m : (k, 3) float64
    pk_expected : (k,) float64
        The :class:`~shorad.c2.Assignments` fields, rows in the reference's order.
    threat_track_id : (m,) int64
    threat_value : (m,) float64
        The assessment's track ids and threat values (every track).
    """
    pos_m = c[0]
    reaction_s = c[1]
    flyout_mps = c[2]
    min_range_m = c[3]
    max_range_m = c[4]
    max_alt_m = c[5]
    channels = c[6]
    rounds_per_shot = c[7]
    type_index = c[8]
    tol2_m2 = c[10]
    pk_by_class = c[11]
    pk_range_m = c[12]
    pk_range_factor = c[13]
    pk_range_start = c[14]
    shots_per_salvo = c[18]
    confirmed_only = c[19]
    stale_track_s = c[20]
    min_threat_value = c[21]
    min_pk = c[22]
    check_los = c[23]

    m = track_id.shape[0]
    n_eff = pos_m.shape[0]
    n_cls = class_prob.shape[1]
    value, ttg_best = _threats(x, c[15], c[16], c[17])

    # candidate tracks (rows), in row order
    cand = np.empty(m, np.int64)
    k = 0
    for i in range(m):
        if not (value[i] > min_threat_value and t_s - last_update_t_s[i] <= stale_track_s):
            continue
        if confirmed_only and status[i] != _CONFIRMED:
            continue
        held = False
        for h in range(held_track_ids.shape[0]):
            if held_track_ids[h] == track_id[i]:
                held = True
                break
        if held:
            continue
        cand[k] = i
        k += 1
    # effectors able to fire now (columns), in row order
    fidx = np.empty(n_eff, np.int64)
    f = 0
    for e in range(n_eff):
        if shots_left[e] > 0 and channels_busy[e] < channels[e] and ready_t_s[e] <= t_s:
            fidx[f] = e
            f += 1

    n_cap = 0
    if k > 0 and f > 0:
        for jj in range(f):
            n_cap += channels[fidx[jj]] - channels_busy[fidx[jj]]
        n_cap = min(n_cap, k * max(shots_per_salvo, 0))
    o_row = np.empty(n_cap, np.int64)
    o_tid = np.empty(n_cap, np.int64)
    o_fire = np.empty(n_cap)
    o_rounds = np.empty(n_cap, np.int64)
    o_int = np.empty(n_cap)
    o_aim = np.empty((n_cap, 3))
    o_pk = np.empty(n_cap)
    n_out = 0
    if n_cap == 0:
        return (
            o_row,
            o_tid,
            o_fire,
            o_rounds,
            o_int,
            o_aim,
            o_pk,
            track_id.copy(),
            value,
        )

    # geometry and expected Pk of every (candidate, free effector) pair
    tau = np.empty((k, f))
    aim = np.empty((k, f, 3))
    pk = np.empty((k, f))
    feasible = np.zeros((k, f), np.bool_)
    n_feas = 0
    for ii in range(k):
        i = cand[ii]
        px = x[i, 0]
        py = x[i, 1]
        pz = x[i, 2]
        vx = x[i, 3]
        vy = x[i, 4]
        vz = x[i, 5]
        tr_pp = P[i, 0, 0] + P[i, 1, 1] + P[i, 2, 2]
        tr_pv = P[i, 0, 3] + P[i, 1, 4] + P[i, 2, 5]
        tr_vv = P[i, 3, 3] + P[i, 4, 4] + P[i, 5, 5]
        for jj in range(f):
            e = fidx[jj]
            ex = pos_m[e, 0]
            ey = pos_m[e, 1]
            ez = pos_m[e, 2]
            t = _intercept_tau(px, py, pz, vx, vy, vz, ex, ey, ez, reaction_s[e], flyout_mps[e])
            tau[ii, jj] = t
            finite = math.isfinite(t)
            tf = t if finite else 0.0
            ax = px + vx * tf
            ay = py + vy * tf
            az = pz + vz * tf
            aim[ii, jj, 0] = ax
            aim[ii, jj, 1] = ay
            aim[ii, jj, 2] = az
            dx = ax - ex
            dy = ay - ey
            dz = az - ez
            rng_m = math.sqrt(dx * dx + dy * dy + dz * dz)
            # expected Pk (greedy.expected_pk)
            s2 = (tr_pp + 2.0 * tf * tr_pv + tf * tf * tr_vv) / 3.0
            if s2 < 0.0:
                s2 = 0.0
            ty = type_index[e]
            pc = class_prob[i, 0] * pk_by_class[ty, 0]
            for cc in range(1, n_cls):
                pc = pc + class_prob[i, cc] * pk_by_class[ty, cc]
            factor = _interp(
                rng_m, pk_range_m, pk_range_factor, pk_range_start[ty], pk_range_start[ty + 1]
            )
            tol2 = tol2_m2[ty]
            q = tol2 / (tol2 + s2)
            p = pc * factor * (q * math.sqrt(q))
            pk[ii, jj] = p
            # envelope, before impact, Pk (line of sight below)
            if (
                finite
                and rng_m >= min_range_m[e]
                and rng_m <= max_range_m[e]
                and az <= max_alt_m[e]
                and az >= 0.0
                and t <= ttg_best[i]
                and p >= min_pk
            ):
                feasible[ii, jj] = True
                n_feas += 1
    if n_feas == 0:
        return (
            o_row[:0],
            o_tid[:0],
            o_fire[:0],
            o_rounds[:0],
            o_int[:0],
            o_aim[:0],
            o_pk[:0],
            track_id.copy(),
            value,
        )
    if check_los:
        seg_a = np.empty((n_feas, 3))
        seg_b = np.empty((n_feas, 3))
        n = 0
        for ii in range(k):
            for jj in range(f):
                if feasible[ii, jj]:
                    e = fidx[jj]
                    for d in range(3):
                        seg_a[n, d] = pos_m[e, d]
                        seg_b[n, d] = aim[ii, jj, d]
                    n += 1
        clear = los_clear(seg_a, seg_b, los_args)
        n = 0
        for ii in range(k):
            for jj in range(f):
                if feasible[ii, jj]:
                    feasible[ii, jj] = clear[n]
                    n += 1

    # greedy: tracks by threat value (then track id), each the best-Pk usable effector(s)
    order = np.empty(k, np.int64)
    for ii in range(k):
        # insertion sort, stable: np.lexsort((track_id, -threat_value))
        vi = -value[cand[ii]]
        ti = track_id[cand[ii]]
        p_ = ii - 1
        while p_ >= 0:
            o = cand[order[p_]]
            vo = -value[o]
            if vo < vi or (vo == vi and track_id[o] <= ti):
                break
            order[p_ + 1] = order[p_]
            p_ -= 1
        order[p_ + 1] = ii
    ch_left = np.empty(f, np.int64)
    sh_left = np.empty(f, np.int64)
    for jj in range(f):
        ch_left[jj] = channels[fidx[jj]] - channels_busy[fidx[jj]]
        sh_left[jj] = shots_left[fidx[jj]]
    for oi in range(k):
        ii = order[oi]
        i = cand[ii]
        for _ in range(shots_per_salvo):
            # best Pk, then earliest intercept, then first column
            best = -1
            best_pk = -1.0
            for jj in range(f):
                if feasible[ii, jj] and ch_left[jj] > 0 and sh_left[jj] > 0:
                    p = pk[ii, jj]
                    if best < 0 or p > best_pk or (p == best_pk and tau[ii, jj] < tau[ii, best]):
                        best = jj
                        best_pk = p
            if best < 0:
                break
            e = fidx[best]
            o_row[n_out] = e
            o_tid[n_out] = track_id[i]
            o_fire[n_out] = t_s + reaction_s[e]
            o_rounds[n_out] = rounds_per_shot[e]
            o_int[n_out] = t_s + tau[ii, best]
            o_aim[n_out, 0] = aim[ii, best, 0]
            o_aim[n_out, 1] = aim[ii, best, 1]
            o_aim[n_out, 2] = aim[ii, best, 2]
            o_pk[n_out] = pk[ii, best]
            n_out += 1
            ch_left[best] -= 1
            sh_left[best] -= 1
            feasible[ii, best] = False
    return (
        o_row[:n_out],
        o_tid[:n_out],
        o_fire[:n_out],
        o_rounds[:n_out],
        o_int[:n_out],
        o_aim[:n_out],
        o_pk[:n_out],
        track_id.copy(),
        value,
    )
