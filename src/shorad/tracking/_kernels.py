"""Numba kernels of the tracker's hot loops: predict, gate, assign, update, initiate, manage.

Each kernel is a loop version of a numpy reference and is tested against it:

============================  =======================================================
kernel                        numpy reference
============================  =======================================================
:func:`predict_kernel`      :func:`shorad.tracking.kalman.predict`
:func:`gate_kernel`         :func:`shorad.tracking.gnn.gate_distances`
:func:`gated_cost_kernel`   :func:`shorad.tracking.gnn.gated_cost`
:func:`update_kernel`       :func:`shorad.tracking.kalman.update`
:func:`classify_kernel`     :func:`shorad.tracking.gnn.classify_by_speed`
:func:`initiate_kernel`     :func:`shorad.tracking.kalman.initiate`
:func:`append_manage_kernel` :func:`shorad.tracking.gnn.append_and_manage`
:func:`jpda_exact_kernel`   :func:`shorad.tracking.jpda.jpda_marginals_bruteforce`
:func:`gnn_assign_kernel`   :func:`shorad.tracking.cluster.assign_gnn_sparse_reference`
:func:`gate_grid_kernel`    :func:`shorad.tracking.cluster.gate_pairs_reference`
============================  =======================================================

The kernels exploit the structure of the NCV model (``F`` is block ``[[I, dt I], [0, I]]``) and
of the polar measurement (``H`` is zero in its velocity columns), which the references do not,
and invert the 3x3 innovation covariance through its adjugate. They assume valid SI input
(finite values, positive definite covariances) and allocate their outputs: inputs are never
modified. Their loops live in private cores that write into given arrays (``_predict_into``,
``_gate_into``, ``_gated_cost``, ``_update_inplace``, ``_classify_into``, ``_initiate_into``,
``_new_rows``, ``_manage_inplace``), which :func:`shorad.tracking._fused.gnn_scan_kernel`
calls on its own buffers: one copy of the arithmetic for both paths. The maths and sources
are documented on the references.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.tracking._lsa import lsa_col4row
from shorad.tracking.base import CONFIRMED, TENTATIVE
from shorad.tracking.kalman import _MIN_GROUND_M

__all__ = [
    "append_manage_kernel",
    "classify_kernel",
    "gate_grid_kernel",
    "gate_kernel",
    "gated_cost_kernel",
    "gnn_assign_kernel",
    "initiate_kernel",
    "jpda_exact_kernel",
    "predict_kernel",
    "update_kernel",
]

_TWO_PI = 2.0 * math.pi
_TENTATIVE = int(TENTATIVE)
_CONFIRMED = int(CONFIRMED)
_EPS_T_S = 1e-9


@njit(cache=True, nogil=True)
def _predict_into(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    dt_s: float,
    q_mps2: float,
    xo: NDArray[np.float64],
    po: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    """:func:`predict_kernel` of the rows of ``x``, ``P`` into the first rows of ``xo``, ``po``."""
    m = x.shape[0]
    q = q_mps2 * q_mps2
    qa = q * dt_s**3 / 3.0
    qb = q * dt_s**2 / 2.0
    qc = q * dt_s
    dt2 = dt_s * dt_s
    for i in range(m):
        for r in range(3):
            xo[i, r] = x[i, r] + dt_s * x[i, r + 3]
            xo[i, r + 3] = x[i, r + 3]
            for s in range(3):
                a = P[i, r, s]
                b = P[i, r, s + 3]
                c = P[i, r + 3, s]
                d = P[i, r + 3, s + 3]
                po[i, r, s] = a + dt_s * (b + c) + dt2 * d
                po[i, r, s + 3] = b + dt_s * d
                po[i, r + 3, s] = c + dt_s * d
                po[i, r + 3, s + 3] = d
            po[i, r, r] += qa
            po[i, r, r + 3] += qb
            po[i, r + 3, r] += qb
            po[i, r + 3, r + 3] += qc
        for r in range(6):
            for s in range(r + 1, 6):
                v = 0.5 * (po[i, r, s] + po[i, s, r])
                po[i, r, s] = v
                po[i, s, r] = v


@njit(
    "Tuple((float64[:, ::1], float64[:, :, ::1]))(float64[:, :], float64[:, :, :], float64, "
    "float64)",
    cache=True,
    nogil=True,
)
def predict_kernel(
    x: NDArray[np.float64], P: NDArray[np.float64], dt_s: float, q_mps2: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - compiled
    """NCV prediction ``x' = F x``, ``P' = F P F^T + Q`` of (m, 6) states, (m, 6, 6) covs."""
    m = x.shape[0]
    xo = np.empty((m, 6))
    po = np.empty((m, 6, 6))
    _predict_into(x, P, dt_s, q_mps2, xo, po)
    return xo, po


@njit(cache=True, nogil=True, inline="always")
def _polar(
    x: NDArray[np.float64],
    i: int,
    sp: NDArray[np.float64],
    j: int,
    zhat: NDArray[np.float64],
    hp: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    """Write ``h(x[i])`` about ``sp[j]`` into ``zhat`` (3,) and its position Jacobian to ``hp``."""
    dx = x[i, 0] - sp[j, 0]
    dy = x[i, 1] - sp[j, 1]
    dz = x[i, 2] - sp[j, 2]
    g2 = max(dx * dx + dy * dy, _MIN_GROUND_M * _MIN_GROUND_M)
    g = math.sqrt(g2)
    r2 = g2 + dz * dz
    r = math.sqrt(r2)
    zhat[0] = r
    az = math.atan2(dx, dy)
    zhat[1] = az + _TWO_PI if az < 0.0 else az
    zhat[2] = math.atan2(dz, g)
    hp[0, 0] = dx / r
    hp[0, 1] = dy / r
    hp[0, 2] = dz / r
    hp[1, 0] = dy / g2
    hp[1, 1] = -dx / g2
    hp[1, 2] = 0.0
    k = dz / (g * r2)
    hp[2, 0] = -dx * k
    hp[2, 1] = -dy * k
    hp[2, 2] = g / r2


@njit(cache=True, nogil=True)
def _wrap(a: float) -> float:  # pragma: no cover - compiled
    """Wrap an angle (rad) to [-pi, pi); branches for the usual one-turn case, fmod otherwise."""
    if a >= math.pi:
        a -= _TWO_PI
    elif a < -math.pi:
        a += _TWO_PI
    if -math.pi <= a < math.pi:
        return a
    return (a + math.pi) % _TWO_PI - math.pi


@njit(cache=True, nogil=True, inline="always")
def _hpht(
    hp: NDArray[np.float64], P: NDArray[np.float64], i: int, out: NDArray[np.float64]
) -> None:  # pragma: no cover - compiled
    """``out = Hp P[i, :3, :3] Hp^T`` (3, 3) (``T = Hp P``, then ``T Hp^T``)."""
    for r in range(3):
        h0, h1, h2 = hp[r, 0], hp[r, 1], hp[r, 2]
        t0 = h0 * P[i, 0, 0] + h1 * P[i, 1, 0] + h2 * P[i, 2, 0]
        t1 = h0 * P[i, 0, 1] + h1 * P[i, 1, 1] + h2 * P[i, 2, 1]
        t2 = h0 * P[i, 0, 2] + h1 * P[i, 1, 2] + h2 * P[i, 2, 2]
        for c in range(3):
            out[r, c] = t0 * hp[c, 0] + t1 * hp[c, 1] + t2 * hp[c, 2]


@njit(cache=True, nogil=True, inline="always")
def _range_row(
    x: NDArray[np.float64], i: int, sp: NDArray[np.float64], j: int, P: NDArray[np.float64]
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Range of ``x[i]`` from ``sp[j]`` and ``(Hp P[i, :3, :3] Hp^T)[0, 0]``, as :func:`_polar`
    and :func:`_hpht` compute them (the same operations in the same order: the same bits)."""
    dx = x[i, 0] - sp[j, 0]
    dy = x[i, 1] - sp[j, 1]
    dz = x[i, 2] - sp[j, 2]
    g2 = max(dx * dx + dy * dy, _MIN_GROUND_M * _MIN_GROUND_M)
    r2 = g2 + dz * dz
    r = math.sqrt(r2)
    h0 = dx / r
    h1 = dy / r
    h2 = dz / r
    t0 = h0 * P[i, 0, 0] + h1 * P[i, 1, 0] + h2 * P[i, 2, 0]
    t1 = h0 * P[i, 0, 1] + h1 * P[i, 1, 1] + h2 * P[i, 2, 1]
    t2 = h0 * P[i, 0, 2] + h1 * P[i, 1, 2] + h2 * P[i, 2, 2]
    return r, t0 * h0 + t1 * h1 + t2 * h2


@njit(cache=True, nogil=True)
def _gate_into(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    gate_d2: float,
    d2: NDArray[np.float64],
    log_det: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    """:func:`gate_kernel` of the first ``d2.shape[0]`` tracks into ``d2`` and ``log_det``
    (zero on entry), which have a row per track and a column per detection."""
    m, n = d2.shape
    zhat = np.empty(3)
    hp = np.empty((3, 3))
    hpht = np.empty((3, 3))
    for i in range(m):
        j0 = 0
        r0 = 0.0
        h00 = 0.0
        full = False
        for j in range(n):
            if (
                j == 0
                or sensor_pos_m[j, 0] != sensor_pos_m[j - 1, 0]
                or sensor_pos_m[j, 1] != sensor_pos_m[j - 1, 1]
                or sensor_pos_m[j, 2] != sensor_pos_m[j - 1, 2]
            ):
                j0 = j
                r0, h00 = _range_row(x, i, sensor_pos_m, j, P)
                full = False
            s00 = h00 + R[j, 0, 0]
            a = z[j, 0] - r0
            if a * a > gate_d2 * s00:
                d2[i, j] = np.inf
                continue
            if not full:
                _polar(x, i, sensor_pos_m, j0, zhat, hp)
                _hpht(hp, P, i, hpht)
                full = True
            s11 = hpht[1, 1] + R[j, 1, 1]
            b = _wrap(z[j, 1] - zhat[1])
            if b * b > gate_d2 * s11:
                d2[i, j] = np.inf
                continue
            s01 = 0.5 * (hpht[0, 1] + hpht[1, 0] + R[j, 0, 1] + R[j, 1, 0])
            s02 = 0.5 * (hpht[0, 2] + hpht[2, 0] + R[j, 0, 2] + R[j, 2, 0])
            s12 = 0.5 * (hpht[1, 2] + hpht[2, 1] + R[j, 1, 2] + R[j, 2, 1])
            s22 = hpht[2, 2] + R[j, 2, 2]
            c00 = s11 * s22 - s12 * s12
            c01 = s02 * s12 - s01 * s22
            c02 = s01 * s12 - s02 * s11
            c11 = s00 * s22 - s02 * s02
            c12 = s01 * s02 - s00 * s12
            c22 = s00 * s11 - s01 * s01
            det = s00 * c00 + s01 * c01 + s02 * c02
            c = z[j, 2] - zhat[2]
            if det > 0.0:
                q = (
                    c00 * a * a
                    + c11 * b * b
                    + c22 * c * c
                    + 2.0 * (c01 * a * b + c02 * a * c + c12 * b * c)
                )
                d2[i, j] = q / det
                log_det[i, j] = math.log(det)
            else:
                d2[i, j] = np.inf
                log_det[i, j] = np.inf


@njit(
    "Tuple((float64[:, ::1], float64[:, ::1]))(float64[:, :], float64[:, :, :], float64[:, :], "
    "float64[:, :, :], float64[:, :], float64)",
    cache=True,
    nogil=True,
)
def gate_kernel(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    gate_d2: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - compiled
    """Squared Mahalanobis distance and ``ln det S`` (m, n) of every pair, exact where in gate.

    ``h(x_i)`` and ``H P H^T`` are recomputed only when the sensor position changes from one
    detection to the next, so a one-sensor scan costs one polar conversion per track. A pair
    whose range or azimuth innovation alone puts it outside the gate (``nu_k^2 > gate_d2 S_kk``;
    ``nu_k^2 / S_kk`` is a lower bound of ``d2`` for a positive definite ``S``) gets ``d2 = inf``
    and ``ln det S = 0`` without the full quadratic form; a singular ``S`` gives ``inf`` for both.
    The range test needs only the range and the range row of ``H``, so the angles (two
    ``atan2``) and the rest of ``H P H^T`` are computed only for a track with a detection
    inside it.
    """
    m = x.shape[0]
    n = z.shape[0]
    d2 = np.empty((m, n))
    log_det = np.zeros((m, n))
    _gate_into(x, P, z, R, sensor_pos_m, gate_d2, d2, log_det)
    return d2, log_det


@njit(cache=True, nogil=True)
def _gated_cost(
    d2: NDArray[np.float64],
    log_det_s: NDArray[np.float64],
    gate_d2: float,
    out_of_gate_cost: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover
    """:func:`gated_cost_kernel` (compiled for the caller's array layouts)."""
    m, n = d2.shape
    row_in = np.zeros(m, np.bool_)
    col_in = np.zeros(n, np.bool_)
    n_rows = 0
    for i in range(m):
        for j in range(n):
            if d2[i, j] <= gate_d2:
                row_in[i] = True
                col_in[j] = True
        n_rows += row_in[i]
    n_cols = 0
    for j in range(n):
        n_cols += col_in[j]
    rows = np.empty(n_rows, np.int64)
    cols = np.empty(n_cols, np.int64)
    a = 0
    for i in range(m):
        if row_in[i]:
            rows[a] = i
            a += 1
    b = 0
    for j in range(n):
        if col_in[j]:
            cols[b] = j
            b += 1
    cost = np.empty((n_rows, n_cols))
    for a in range(n_rows):
        for b in range(n_cols):
            v = d2[rows[a], cols[b]]
            if v <= gate_d2:
                cost[a, b] = v + log_det_s[rows[a], cols[b]]
            else:
                cost[a, b] = out_of_gate_cost
    return cost, rows, cols


@njit(
    "Tuple((float64[:, ::1], int64[::1], int64[::1]))(float64[:, :], float64[:, :], float64, "
    "float64)",
    cache=True,
    nogil=True,
)
def gated_cost_kernel(
    d2: NDArray[np.float64],
    log_det_s: NDArray[np.float64],
    gate_d2: float,
    out_of_gate_cost: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover
    """Assignment problem of the rows and columns of ``d2`` (m, n) with an in-gate pair.

    Returns ``cost`` (r, c), ``rows`` (r,) and ``cols`` (c,): ``cost = (d2 + log_det_s)[rows]
    [:, cols]`` with entries whose ``d2`` exceeds ``gate_d2`` (or is NaN) set to
    ``out_of_gate_cost``.
    """
    return _gated_cost(d2, log_det_s, gate_d2, out_of_gate_cost)


@njit(cache=True, nogil=True)
def _update_inplace(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    track_idx: NDArray[np.int64],
    det_idx: NDArray[np.int64],
) -> None:  # pragma: no cover - compiled
    """:func:`update_kernel` in place: each updated row is read in full before it is written."""
    zhat = np.empty(3)
    hp = np.empty((3, 3))
    s = np.empty((3, 3))
    si = np.empty((3, 3))
    pht = np.empty((6, 3))
    k = np.empty((6, 3))
    a = np.empty((6, 6))
    ap = np.empty((6, 6))
    kr = np.empty((6, 3))
    nu = np.empty(3)
    for kk in range(track_idx.shape[0]):
        i = track_idx[kk]
        jd = det_idx[kk]
        _polar(x, i, sensor_pos_m, jd, zhat, hp)
        _hpht(hp, P, i, s)
        for r in range(3):
            for c in range(3):
                s[r, c] += R[jd, r, c]
        # Inverse of S through its adjugate (S symmetrised first).
        s01 = 0.5 * (s[0, 1] + s[1, 0])
        s02 = 0.5 * (s[0, 2] + s[2, 0])
        s12 = 0.5 * (s[1, 2] + s[2, 1])
        s00, s11, s22 = s[0, 0], s[1, 1], s[2, 2]
        c00 = s11 * s22 - s12 * s12
        c01 = s02 * s12 - s01 * s22
        c02 = s01 * s12 - s02 * s11
        c11 = s00 * s22 - s02 * s02
        c12 = s01 * s02 - s00 * s12
        c22 = s00 * s11 - s01 * s01
        inv_det = 1.0 / (s00 * c00 + s01 * c01 + s02 * c02)
        si[0, 0] = c00 * inv_det
        si[1, 1] = c11 * inv_det
        si[2, 2] = c22 * inv_det
        si[0, 1] = si[1, 0] = c01 * inv_det
        si[0, 2] = si[2, 0] = c02 * inv_det
        si[1, 2] = si[2, 1] = c12 * inv_det
        # P H^T (6, 3): H is zero in its velocity columns.
        for r in range(6):
            for c in range(3):
                pht[r, c] = P[i, r, 0] * hp[c, 0] + P[i, r, 1] * hp[c, 1] + P[i, r, 2] * hp[c, 2]
        for r in range(6):
            for c in range(3):
                k[r, c] = pht[r, 0] * si[0, c] + pht[r, 1] * si[1, c] + pht[r, 2] * si[2, c]
        nu[0] = z[jd, 0] - zhat[0]
        nu[1] = _wrap(z[jd, 1] - zhat[1])
        nu[2] = z[jd, 2] - zhat[2]
        for r in range(6):
            x[i, r] = x[i, r] + k[r, 0] * nu[0] + k[r, 1] * nu[1] + k[r, 2] * nu[2]
        # Joseph form: A = I - K H, P' = A P A^T + K R K^T.
        for r in range(6):
            for c in range(6):
                a[r, c] = 1.0 if r == c else 0.0
            for c in range(3):
                a[r, c] -= k[r, 0] * hp[0, c] + k[r, 1] * hp[1, c] + k[r, 2] * hp[2, c]
        for r in range(6):
            for c in range(6):
                acc = 0.0
                for t in range(6):
                    acc += a[r, t] * P[i, t, c]
                ap[r, c] = acc
        for r in range(6):
            for c in range(3):
                kr[r, c] = k[r, 0] * R[jd, 0, c] + k[r, 1] * R[jd, 1, c] + k[r, 2] * R[jd, 2, c]
        for r in range(6):
            for c in range(r, 6):
                acc = 0.0
                for t in range(6):
                    acc += ap[r, t] * a[c, t]
                acc2 = 0.0
                for t in range(3):
                    acc2 += kr[r, t] * k[c, t]
                P[i, r, c] = acc + acc2
        # Symmetric by construction from the upper triangle (r <= c) computed above; the lower
        # triangle of A P A^T + K R K^T equals it up to rounding.
        for r in range(6):
            for c in range(r + 1, 6):
                P[i, c, r] = P[i, r, c]


@njit(
    "Tuple((float64[:, ::1], float64[:, :, ::1]))(float64[:, :], float64[:, :, :], "
    "float64[:, :], float64[:, :, :], float64[:, :], int64[:], int64[:])",
    cache=True,
    nogil=True,
)
def update_kernel(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    track_idx: NDArray[np.int64],
    det_idx: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - compiled
    """EKF update of tracks ``track_idx`` with detections ``det_idx`` (see ``kalman.update``).

    Returns copies of ``x`` (m, 6) and ``P`` (m, 6, 6) in which row ``track_idx[k]`` is updated
    with detection ``det_idx[k]`` (Joseph form, symmetric); the other rows are unchanged.
    ``track_idx`` must not repeat (one measurement per track).
    """
    xo = np.empty((x.shape[0], 6))
    xo[:] = x
    po = np.empty((P.shape[0], 6, 6))
    po[:] = P
    _update_inplace(xo, po, z, R, sensor_pos_m, track_idx, det_idx)
    return xo, po


@njit(cache=True, nogil=True)
def _classify_into(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    m: int,
    class_speed_mps: NDArray[np.float64],
    class_speed_sigma_mps: NDArray[np.float64],
    hits: NDArray[np.int32],
    min_hits: int,
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    """:func:`classify_kernel` of the first ``m`` tracks into ``out``; with ``min_hits > 0``
    a track with fewer ``hits`` gets the uniform belief instead (and is not classified)."""
    nc = class_speed_mps.shape[0]
    logl = np.empty(nc)
    for i in range(m):
        if min_hits > 0 and hits[i] < min_hits:
            for c in range(nc):
                out[i, c] = 1.0 / nc
            continue
        vx, vy, vz = x[i, 3], x[i, 4], x[i, 5]
        s = math.sqrt(vx * vx + vy * vy + vz * vz)
        if s > 1e-9:
            u0, u1, u2 = vx / s, vy / s, vz / s
            var_s = (
                u0 * (P[i, 3, 3] * u0 + P[i, 3, 4] * u1 + P[i, 3, 5] * u2)
                + u1 * (P[i, 4, 3] * u0 + P[i, 4, 4] * u1 + P[i, 4, 5] * u2)
                + u2 * (P[i, 5, 3] * u0 + P[i, 5, 4] * u1 + P[i, 5, 5] * u2)
            )
        else:
            var_s = (P[i, 3, 3] + P[i, 4, 4] + P[i, 5, 5]) / 3.0
        best = -np.inf
        for c in range(nc):
            var = class_speed_sigma_mps[c] ** 2 + var_s
            e = s - class_speed_mps[c]
            logl[c] = -0.5 * e * e / var - 0.5 * math.log(var)
            best = max(best, logl[c])
        tot = 0.0
        for c in range(nc):
            logl[c] = math.exp(logl[c] - best)
            tot += logl[c]
        for c in range(nc):
            out[i, c] = logl[c] / tot


@njit(
    "float64[:, ::1](float64[:, :], float64[:, :, :], float64[:], float64[:])",
    cache=True,
    nogil=True,
)
def classify_kernel(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    class_speed_mps: NDArray[np.float64],
    class_speed_sigma_mps: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Speed-classifier probabilities (m, C) (see ``gnn.classify_by_speed``)."""
    m = x.shape[0]
    out = np.empty((m, class_speed_mps.shape[0]))
    _classify_into(x, P, m, class_speed_mps, class_speed_sigma_mps, np.zeros(0, np.int32), 0, out)
    return out


@njit(cache=True, nogil=True)
def _initiate_into(
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    det_idx: NDArray[np.int64],
    speed_sigma_mps: float,
    xo: NDArray[np.float64],
    po: NDArray[np.float64],
    row0: int,
) -> None:  # pragma: no cover - compiled
    """:func:`initiate_kernel` into rows ``row0 ..`` of ``xo`` and ``po`` (all their entries)."""
    n = det_idx.shape[0]
    for i in range(n):
        for a in range(6):
            xo[row0 + i, a] = 0.0
            for b in range(6):
                po[row0 + i, a, b] = 0.0
    j = np.empty((3, 3))
    jr = np.empty((3, 3))
    v = speed_sigma_mps * speed_sigma_mps
    for i in range(n):
        d = det_idx[i]
        r, az, el = z[d, 0], z[d, 1], z[d, 2]
        sa, ca, se, ce = math.sin(az), math.cos(az), math.sin(el), math.cos(el)
        xo[row0 + i, 0] = r * ce * sa + sensor_pos_m[d, 0]
        xo[row0 + i, 1] = r * ce * ca + sensor_pos_m[d, 1]
        xo[row0 + i, 2] = r * se + sensor_pos_m[d, 2]
        j[0, 0] = ce * sa
        j[1, 0] = ce * ca
        j[2, 0] = se
        j[0, 1] = r * ce * ca
        j[1, 1] = -r * ce * sa
        j[2, 1] = 0.0
        j[0, 2] = -r * se * sa
        j[1, 2] = -r * se * ca
        j[2, 2] = r * ce
        for a in range(3):
            for b in range(3):
                jr[a, b] = j[a, 0] * R[d, 0, b] + j[a, 1] * R[d, 1, b] + j[a, 2] * R[d, 2, b]
        for a in range(3):
            for b in range(a, 3):
                val = jr[a, 0] * j[b, 0] + jr[a, 1] * j[b, 1] + jr[a, 2] * j[b, 2]
                po[row0 + i, a, b] = val
                po[row0 + i, b, a] = val
            po[row0 + i, a + 3, a + 3] = v


@njit(
    "Tuple((float64[:, ::1], float64[:, :, ::1]))(float64[:, :], float64[:, :, :], "
    "float64[:, :], int64[:], float64)",
    cache=True,
    nogil=True,
)
def initiate_kernel(
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    det_idx: NDArray[np.int64],
    speed_sigma_mps: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - compiled
    """One-point initiation from detections ``det_idx`` (k,) (see ``kalman.initiate``)."""
    n = det_idx.shape[0]
    xo = np.empty((n, 6))
    po = np.empty((n, 6, 6))
    _initiate_into(z, R, sensor_pos_m, det_idx, speed_sigma_mps, xo, po, 0)
    return xo, po


@njit(
    "Tuple((float64[::1], float64[::1], int64[::1]))(int64[:], int64[:], float64[:], "
    "float64[:], int64[:], int64[:], int64)",
    cache=True,
    nogil=True,
)
def jpda_exact_kernel(
    track_ptr: NDArray[np.int64],
    pair_meas: NDArray[np.int64],
    pair_w: NDArray[np.float64],
    miss_w: NDArray[np.float64],
    comp_ptr: NDArray[np.int64],
    comps: NDArray[np.int64],
    n_meas: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover
    """Exact JPDA marginals of the clusters ``comps`` by enumerating every joint event.

    Tracks ``0 .. m-1`` are grouped by cluster: cluster ``c`` holds tracks
    ``comp_ptr[c] .. comp_ptr[c + 1] - 1``; track ``t`` has the gated pairs
    ``track_ptr[t] .. track_ptr[t + 1] - 1`` with measurement ``pair_meas`` and weight ``pair_w``;
    ``miss_w[t]`` is its missed-detection weight. A joint event gives each track of the cluster
    either a miss or one of its pairs, no measurement twice; its weight is the product of the
    chosen weights. Returns ``beta`` (pairs,) and ``beta0`` (m,) (zero outside ``comps``),
    normalised per cluster, and the number of events enumerated per cluster in ``comps``.
    The reference is ``jpda.jpda_marginals_bruteforce``.
    """
    m = miss_w.shape[0]
    beta = np.zeros(pair_w.shape[0])
    beta0 = np.zeros(m)
    n_events = np.zeros(comps.shape[0], np.int64)
    used = np.zeros(n_meas, np.bool_)
    for ci in range(comps.shape[0]):
        c = comps[ci]
        t0 = comp_ptr[c]
        nt = comp_ptr[c + 1] - t0
        opt = np.full(nt, -2, np.int64)
        wprod = np.ones(nt + 1)
        total = 0.0
        lvl = 0
        while lvl >= 0:
            t = t0 + lvl
            base = track_ptr[t]
            deg = track_ptr[t + 1] - base
            o = opt[lvl]
            if o >= 0:
                used[pair_meas[base + o]] = False
            o += 1
            while 0 <= o < deg and used[pair_meas[base + o]]:
                o += 1
            if o >= deg:
                opt[lvl] = -2
                lvl -= 1
                continue
            if o == -1:
                w = miss_w[t]
            else:
                w = pair_w[base + o]
                used[pair_meas[base + o]] = True
            opt[lvl] = o
            wprod[lvl + 1] = wprod[lvl] * w
            if lvl == nt - 1:
                wt = wprod[nt]
                total += wt
                n_events[ci] += 1
                for ll in range(nt):
                    tt = t0 + ll
                    oo = opt[ll]
                    if oo == -1:
                        beta0[tt] += wt
                    else:
                        beta[track_ptr[tt] + oo] += wt
            else:
                lvl += 1
        if total > 0.0:
            for t in range(t0, t0 + nt):
                beta0[t] /= total
                for k in range(track_ptr[t], track_ptr[t + 1]):
                    beta[k] /= total
    return beta, beta0, n_events


@njit(cache=True, nogil=True)
def _manage_row(
    st: int,
    h: int,
    born: float,
    last: float,
    trace: float,
    t_s: float,
    confirm_hits: int,
    confirm_window_s: float,
    delete_after_s: float,
    tentative_delete_after_s: float,
    max_position_var_m2: float,
) -> tuple[bool, bool]:  # pragma: no cover - compiled
    """``(confirm, delete)`` of one track at ``t_s`` by the rules of
    :func:`shorad.tracking.gnn.track_management` (status ``st``, ``h`` hits, born and last
    updated at ``born``/``last``, position covariance trace ``trace``)."""
    tentative = st == _TENTATIVE
    in_window = (t_s - born) <= confirm_window_s + _EPS_T_S
    c = tentative and in_window and h >= confirm_hits
    stale_after = tentative_delete_after_s if tentative else delete_after_s
    d = (
        (t_s - last) > stale_after + _EPS_T_S
        or trace > max_position_var_m2
        or (tentative and not c and not in_window)
    )
    return c and not d, d


@njit(cache=True, nogil=True)
def _new_rows(
    o_id: NDArray[np.int64],
    o_st: NDArray[np.int8],
    o_cp: NDArray[np.float64],
    o_h: NDArray[np.int32],
    o_born: NDArray[np.float64],
    o_last: NDArray[np.float64],
    o_conf: NDArray[np.float64],
    m: int,
    n_new: int,
    next_track_id: int,
    t_s: float,
) -> None:  # pragma: no cover - compiled
    """Rows ``m .. m + n_new``: new tentative tracks (ids from ``next_track_id``, one hit,
    born and updated at ``t_s``, uniform class belief); their state is the caller's."""
    nc = o_cp.shape[1]
    uniform = 1.0 / nc
    for a in range(n_new):
        r = m + a
        o_id[r] = next_track_id + a
        o_st[r] = _TENTATIVE
        for c in range(nc):
            o_cp[r, c] = uniform
        o_h[r] = 1
        o_born[r] = t_s
        o_last[r] = t_s
        o_conf[r] = np.nan


@njit(cache=True, nogil=True)
def _manage_inplace(
    o_id: NDArray[np.int64],
    o_x: NDArray[np.float64],
    o_p: NDArray[np.float64],
    o_st: NDArray[np.int8],
    o_cp: NDArray[np.float64],
    o_h: NDArray[np.int32],
    o_born: NDArray[np.float64],
    o_last: NDArray[np.float64],
    o_conf: NDArray[np.float64],
    total: int,
    t_s: float,
    confirm_hits: int,
    confirm_window_s: float,
    delete_after_s: float,
    tentative_delete_after_s: float,
    max_position_var_m2: float,
) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """The management rules on rows ``:total``, kept rows moved up in place (confirmed ones
    get status ``CONFIRMED`` and confirmation time ``t_s``); returns the number kept, the
    confirmed ids and the deleted ids."""
    nc = o_cp.shape[1]
    confirm = np.zeros(total, np.bool_)
    delete = np.zeros(total, np.bool_)
    n_conf = 0
    n_del = 0
    for i in range(total):
        cf, dl = _manage_row(
            o_st[i],
            o_h[i],
            o_born[i],
            o_last[i],
            o_p[i, 0, 0] + o_p[i, 1, 1] + o_p[i, 2, 2],
            t_s,
            confirm_hits,
            confirm_window_s,
            delete_after_s,
            tentative_delete_after_s,
            max_position_var_m2,
        )
        confirm[i] = cf
        delete[i] = dl
        n_conf += cf
        n_del += dl
    confirmed_ids = np.empty(n_conf, np.int64)
    deleted_ids = np.empty(n_del, np.int64)
    r = 0
    ic = 0
    idl = 0
    for i in range(total):
        if delete[i]:
            deleted_ids[idl] = o_id[i]
            idl += 1
            continue
        if r != i:
            o_id[r] = o_id[i]
            for a in range(6):
                o_x[r, a] = o_x[i, a]
                for b in range(6):
                    o_p[r, a, b] = o_p[i, a, b]
            o_st[r] = o_st[i]
            for c in range(nc):
                o_cp[r, c] = o_cp[i, c]
            o_h[r] = o_h[i]
            o_born[r] = o_born[i]
            o_last[r] = o_last[i]
            o_conf[r] = o_conf[i]
        if confirm[i]:
            o_st[r] = _CONFIRMED
            o_conf[r] = t_s
            confirmed_ids[ic] = o_id[r]
            ic += 1
        r += 1
    return r, confirmed_ids, deleted_ids


@njit(
    "Tuple((int64[::1], float64[:, ::1], float64[:, :, ::1], int8[::1], float64[:, ::1], "
    "int32[::1], float64[::1], float64[::1], float64[::1], int64[::1], int64[::1]))("
    "int64[:], float64[:, :], float64[:, :, :], int8[:], float64[:, :], int32[:], float64[:], "
    "float64[:], float64[:], int64, float64[:, :], float64[:, :, :], float64, int64, float64, "
    "float64, float64, float64)",
    cache=True,
    nogil=True,
)
def append_manage_kernel(
    track_id: NDArray[np.int64],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    status: NDArray[np.int8],
    class_prob: NDArray[np.float64],
    hits: NDArray[np.int32],
    born_t_s: NDArray[np.float64],
    last_update_t_s: NDArray[np.float64],
    confirmed_t_s: NDArray[np.float64],
    next_track_id: int,
    x_new: NDArray[np.float64],
    P_new: NDArray[np.float64],
    t_s: float,
    confirm_hits: int,
    confirm_window_s: float,
    delete_after_s: float,
    tentative_delete_after_s: float,
    max_position_var_m2: float,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int8],
    NDArray[np.float64],
    NDArray[np.int32],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
]:  # pragma: no cover - compiled
    """Append new tentative tracks (``x_new``, ``P_new``: ids from ``next_track_id``, one hit,
    born and updated at ``t_s``, uniform class belief), apply the management rules of
    :func:`shorad.tracking.gnn.track_management` to all rows, and return the kept rows'
    fields (confirmed ones with status ``CONFIRMED`` and confirmation time ``t_s``), then the
    confirmed and deleted ids.
    """
    m = track_id.shape[0]
    n_new = x_new.shape[0]
    total = m + n_new
    nc = class_prob.shape[1]
    o_id = np.empty(total, np.int64)
    o_x = np.empty((total, 6))
    o_p = np.empty((total, 6, 6))
    o_st = np.empty(total, np.int8)
    o_cp = np.empty((total, nc))
    o_h = np.empty(total, np.int32)
    o_born = np.empty(total)
    o_last = np.empty(total)
    o_conf = np.empty(total)
    o_id[:m] = track_id
    o_x[:m] = x
    o_x[m:] = x_new
    o_p[:m] = P
    o_p[m:] = P_new
    o_st[:m] = status
    o_cp[:m] = class_prob
    o_h[:m] = hits
    o_born[:m] = born_t_s
    o_last[:m] = last_update_t_s
    o_conf[:m] = confirmed_t_s
    _new_rows(o_id, o_st, o_cp, o_h, o_born, o_last, o_conf, m, n_new, next_track_id, t_s)
    r, confirmed_ids, deleted_ids = _manage_inplace(
        o_id,
        o_x,
        o_p,
        o_st,
        o_cp,
        o_h,
        o_born,
        o_last,
        o_conf,
        total,
        t_s,
        confirm_hits,
        confirm_window_s,
        delete_after_s,
        tentative_delete_after_s,
        max_position_var_m2,
    )
    return (
        o_id[:r].copy(),
        o_x[:r].copy(),
        o_p[:r].copy(),
        o_st[:r].copy(),
        o_cp[:r].copy(),
        o_h[:r].copy(),
        o_born[:r].copy(),
        o_last[:r].copy(),
        o_conf[:r].copy(),
        confirmed_ids,
        deleted_ids,
    )


@njit(
    "int64[::1](int64[:], int64[:], float64[:], int64, int64, float64)",
    cache=True,
    nogil=True,
)
def gnn_assign_kernel(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    cost: NDArray[np.float64],
    m: int,
    n: int,
    no_pair_cost: float,
) -> NDArray[np.int64]:  # pragma: no cover
    """Global nearest neighbour on gated pairs, all clusters in one call.

    Pairs costing ``>= no_pair_cost`` are dropped first (leaving both unpaired is never worse).
    Clusters are the connected components of the bipartite graph of the pairs (union-find).
    A cluster with one track or one measurement takes its cheapest pair (the first one on a
    tie); a larger one is solved densely, rows = its tracks ascending, columns = its
    measurements ascending, non-gated entries ``no_pair_cost``, by
    :func:`shorad.tracking._lsa.lsa_col4row` (on the transpose when it has more tracks than
    measurements, as SciPy does). Chosen entries that are not gated are dropped. Returns the
    chosen pair indices, ascending. The reference is
    :func:`shorad.tracking.cluster.assign_gnn_sparse_reference`.
    """
    p = pt.shape[0]
    nodes = m + n
    parent = np.arange(nodes)
    for k in range(p):
        if cost[k] >= no_pair_cost:
            continue
        a = pt[k]
        b = m + pm[k]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    root = np.empty(nodes, np.int64)
    for v in range(nodes):
        a = v
        while parent[a] != a:
            a = parent[a]
        root[v] = a
    # Pairs grouped by cluster (counting sort on the root, stable in pair order).
    start = np.zeros(nodes + 1, np.int64)
    for k in range(p):
        if cost[k] < no_pair_cost:
            start[root[pt[k]] + 1] += 1
    for v in range(nodes):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    grouped = np.empty(p, np.int64)
    for k in range(p):
        if cost[k] < no_pair_cost:
            c = root[pt[k]]
            grouped[fill[c]] = k
            fill[c] += 1
    out = np.empty(p, np.int64)
    n_out = 0
    row_loc = np.full(m, -1, np.int64)
    col_loc = np.full(n, -1, np.int64)
    for c in range(nodes):
        lo = start[c]
        hi = start[c + 1]
        if hi == lo:
            continue
        grp = grouped[lo:hi]
        rows = np.empty(hi - lo, np.int64)
        cols = np.empty(hi - lo, np.int64)
        nr = 0
        ncl = 0
        for k in grp:
            if row_loc[pt[k]] < 0:
                row_loc[pt[k]] = 0
                rows[nr] = pt[k]
                nr += 1
            if col_loc[pm[k]] < 0:
                col_loc[pm[k]] = 0
                cols[ncl] = pm[k]
                ncl += 1
        if nr == 1 or ncl == 1:
            best = grp[0]
            for k in grp:
                if cost[k] < cost[best]:
                    best = k
            out[n_out] = best
            n_out += 1
            for i in range(nr):
                row_loc[rows[i]] = -1
            for j in range(ncl):
                col_loc[cols[j]] = -1
            continue
        rows_s = np.sort(rows[:nr])
        cols_s = np.sort(cols[:ncl])
        for i in range(nr):
            row_loc[rows_s[i]] = i
        for j in range(ncl):
            col_loc[cols_s[j]] = j
        transpose = ncl < nr
        if transpose:
            dense = np.full((ncl, nr), no_pair_cost)
            pidx = np.full((ncl, nr), -1, np.int64)
            for k in grp:
                dense[col_loc[pm[k]], row_loc[pt[k]]] = cost[k]
                pidx[col_loc[pm[k]], row_loc[pt[k]]] = k
        else:
            dense = np.full((nr, ncl), no_pair_cost)
            pidx = np.full((nr, ncl), -1, np.int64)
            for k in grp:
                dense[row_loc[pt[k]], col_loc[pm[k]]] = cost[k]
                pidx[row_loc[pt[k]], col_loc[pm[k]]] = k
        col4row = lsa_col4row(dense)
        for i in range(col4row.shape[0]):
            k = pidx[i, col4row[i]]
            if k >= 0:
                out[n_out] = k
                n_out += 1
        for i in range(nr):
            row_loc[rows_s[i]] = -1
        for j in range(ncl):
            col_loc[cols_s[j]] = -1
    res = out[:n_out].copy()
    res.sort()
    return res


@njit(
    "Tuple((int64[::1], int64[::1], float64[::1]))(float64[:, :], float64[:, :, :], "
    "float64[:], float64[:, :], float64, float64)",
    cache=True,
    nogil=True,
)
def gate_grid_kernel(
    pos: NDArray[np.float64],
    s_inv: NDArray[np.float64],
    radius_m: NDArray[np.float64],
    z: NDArray[np.float64],
    gate_d2: float,
    cell_m: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover
    """All (track, measurement) pairs with ``nu^T S^-1 nu <= gate_d2``, through a uniform grid.

    The measurements are binned on a grid of ``cell_m`` square cells over their first two
    coordinates; track ``i`` tests the measurements of the cells that its square of half-side
    ``radius_m[i]`` (an outer bound of its gate ellipse) touches, with the exact chi-square test.
    Returns ``pt`` (ascending), ``pm`` (ascending within a track) and ``d2`` of the pairs. The
    reference is :func:`shorad.tracking.cluster.gate_pairs_reference` (k-d trees).
    """
    m = pos.shape[0]
    n = z.shape[0]
    d = z.shape[1]
    x0 = z[0, 0]
    x1 = z[0, 0]
    y0 = z[0, 1]
    y1 = z[0, 1]
    for j in range(n):
        x0 = min(x0, z[j, 0])
        x1 = max(x1, z[j, 0])
        y0 = min(y0, z[j, 1])
        y1 = max(y1, z[j, 1])
    h = cell_m
    # at most ~4 cells per measurement (sizes in floating point: no integer overflow)
    while ((x1 - x0) / h + 1.0) * ((y1 - y0) / h + 1.0) > 4.0 * n + 64.0:
        h *= 2.0
    nx = int((x1 - x0) / h) + 1
    ny = int((y1 - y0) / h) + 1
    cell_of = np.empty(n, np.int64)
    start = np.zeros(nx * ny + 1, np.int64)
    for j in range(n):
        cx = min(int((z[j, 0] - x0) / h), nx - 1)
        cy = min(int((z[j, 1] - y0) / h), ny - 1)
        c = cx * ny + cy
        cell_of[j] = c
        start[c + 1] += 1
    for c in range(nx * ny):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    items = np.empty(n, np.int64)
    for j in range(n):  # ascending j within each cell
        items[fill[cell_of[j]]] = j
        fill[cell_of[j]] += 1
    cap = 8 * m + 16
    pt = np.empty(cap, np.int64)
    pm = np.empty(cap, np.int64)
    d2o = np.empty(cap)
    k = 0
    nu = np.empty(d)
    for i in range(m):
        r = radius_m[i]
        px = pos[i, 0]
        py = pos[i, 1]
        if px + r < x0 or px - r > x1 or py + r < y0 or py - r > y1:
            continue
        ax = max(int((px - r - x0) / h), 0) if px - r > x0 else 0
        bx = min(int((px + r - x0) / h), nx - 1)
        ay = max(int((py - r - y0) / h), 0) if py - r > y0 else 0
        by = min(int((py + r - y0) / h), ny - 1)
        k_first = k
        for cx in range(ax, bx + 1):
            for cy in range(ay, by + 1):
                c = cx * ny + cy
                for q in range(start[c], start[c + 1]):
                    j = items[q]
                    for a in range(d):
                        nu[a] = z[j, a] - pos[i, a]
                    acc = 0.0
                    for a in range(d):
                        row = 0.0
                        for b in range(d):
                            row += s_inv[i, a, b] * nu[b]
                        acc += nu[a] * row
                    if acc <= gate_d2:
                        if k == cap:
                            cap *= 2
                            pt2 = np.empty(cap, np.int64)
                            pm2 = np.empty(cap, np.int64)
                            d22 = np.empty(cap)
                            pt2[:k] = pt[:k]
                            pm2[:k] = pm[:k]
                            d22[:k] = d2o[:k]
                            pt, pm, d2o = pt2, pm2, d22
                        pt[k] = i
                        pm[k] = j
                        d2o[k] = acc
                        k += 1
        # measurements ascending within the track
        if k - k_first > 32:
            order = np.argsort(pm[k_first:k])
            pm[k_first:k] = pm[k_first:k][order]
            d2o[k_first:k] = d2o[k_first:k][order]
            continue
        for q in range(k_first + 1, k):
            vj = pm[q]
            vd = d2o[q]
            s = q - 1
            while s >= k_first and pm[s] > vj:
                pm[s + 1] = pm[s]
                d2o[s + 1] = d2o[s]
                s -= 1
            pm[s + 1] = vj
            d2o[s + 1] = vd
    return pt[:k].copy(), pm[:k].copy(), d2o[:k].copy()


@njit(
    "Tuple((float64[:, ::1], float64[:, :, ::1]))(float64[:, :], float64[:, :, :], "
    "float64[:, :, :], float64[:, :, :], int64[:], int64[:], float64[:, :], float64[:], "
    "float64[:])",
    cache=True,
    nogil=True,
)
def pda_update_kernel(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    S: NDArray[np.float64],
    S_inv: NDArray[np.float64],
    rows: NDArray[np.int64],
    pt: NDArray[np.int64],
    nu: NDArray[np.float64],
    beta: NDArray[np.float64],
    beta0: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover
    """PDA update (JPDA marginals) of the tracks ``rows[pt]`` with position measurements.

    For track ``i = rows[t]`` with pairs ``q`` (``pt[q] == t``): ``nu_bar = sum beta_q nu_q``,
    ``x' = x + K nu_bar``, ``P' = P - (1 - beta0_t) K S K^T + K (sum beta_q nu_q nu_q^T -
    nu_bar nu_bar^T) K^T`` with ``K = P H^T S^-1`` (``H`` selects the first ``d`` state
    components), symmetrised. Returns updated copies of ``x`` and ``P``; tracks without pairs
    are unchanged. The reference is :func:`shorad.tracking.jpda.pda_update_reference`.
    """
    m_r = rows.shape[0]
    d = nu.shape[1]
    k = x.shape[1]
    xo = np.ascontiguousarray(x).copy()
    po = np.ascontiguousarray(P).copy()
    has = np.zeros(m_r, np.bool_)
    nb = np.zeros((m_r, d))
    sp = np.zeros((m_r, d, d))
    for q in range(pt.shape[0]):
        t = pt[q]
        has[t] = True
        b = beta[q]
        for a in range(d):
            nb[t, a] += b * nu[q, a]
            for c in range(d):
                sp[t, a, c] += b * nu[q, a] * nu[q, c]
    kg = np.empty((k, d))
    ks = np.empty((k, d))
    ksp = np.empty((k, d))
    corr = np.empty((k, k))
    for t in range(m_r):
        if not has[t]:
            continue
        i = rows[t]
        for a in range(d):
            for c in range(d):
                sp[t, a, c] -= nb[t, a] * nb[t, c]
        for r in range(k):
            for a in range(d):
                acc = 0.0
                for b in range(d):
                    acc += P[i, r, b] * S_inv[i, b, a]
                kg[r, a] = acc
        for r in range(k):
            acc = 0.0
            for a in range(d):
                acc += kg[r, a] * nb[t, a]
            xo[i, r] = x[i, r] + acc
            for a in range(d):
                acc_s = 0.0
                acc_p = 0.0
                for b in range(d):
                    acc_s += kg[r, b] * S[i, b, a]
                    acc_p += kg[r, b] * sp[t, b, a]
                ks[r, a] = acc_s
                ksp[r, a] = acc_p
        w = 1.0 - beta0[t]
        for r in range(k):
            for c in range(k):
                acc = 0.0
                for a in range(d):
                    acc += -w * ks[r, a] * kg[c, a] + ksp[r, a] * kg[c, a]
                corr[r, c] = P[i, r, c] + acc
        for r in range(k):
            for c in range(k):
                po[i, r, c] = 0.5 * (corr[r, c] + corr[c, r])
    return xo, po


@njit("int64[::1](int64[:], int64[:], int64, int64)", cache=True, nogil=True)
def cluster_labels_kernel(
    pt: NDArray[np.int64], pm: NDArray[np.int64], m: int, n: int
) -> NDArray[np.int64]:  # pragma: no cover
    """Connected components of the bipartite gating graph by union-find.

    Nodes are the ``m`` tracks then the ``n`` measurements; components are numbered in the
    order of their smallest node, as :func:`scipy.sparse.csgraph.connected_components` does.
    Returns the label of each node (m + n,). The reference is
    :func:`shorad.tracking.cluster.clusters_reference`.
    """
    nodes = m + n
    parent = np.arange(nodes)
    for q in range(pt.shape[0]):
        a = pt[q]
        b = m + pm[q]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    labels = np.empty(nodes, np.int64)
    for v in range(nodes):
        a = v
        while parent[a] != a:
            a = parent[a]
        if a == v:
            labels[v] = -1
        else:
            labels[v] = a
    nxt = 0
    for v in range(nodes):
        if labels[v] == -1:
            labels[v] = nxt
            nxt += 1
        else:
            labels[v] = labels[labels[v]]
    return labels
