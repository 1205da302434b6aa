"""EKF updates with partial polar measurements: angle-only, bearing-only, range rate.

A detection measures a subset ``c`` of ``[range_m, az_rad, el_rad, range_rate_mps]`` (NaN for
the rest, see :mod:`shorad.sensors.base`). Its measurement function is the rows ``c`` of::

    h(x) = [r, az, el, rdot],   rdot = (d . v) / r,   d = position - sensor_pos_m

with Jacobian rows ``c`` of ``H``; the range-rate row is
``d rdot / d p = v / r - (d . v) d / r^3``, ``d rdot / d v = d / r``. The EKF on the measured
sub-vector (Bar-Shalom, Li & Kirubarajan (2001) ch. 10) then gives ``nu_c = z_c - h_c(x)``
(azimuth wrapped), ``S_c = H_c P H_c^T + R_cc``, gate ``nu_c^T S_c^-1 nu_c`` against the
chi-square quantile with ``len(c)`` degrees of freedom, Joseph-form update.

:class:`shorad.tracking.gnn.GnnTracker` uses these for detections without a full 3-D position
(they update existing tracks, never start one; one GNN per sensor and component set) and, after
the position update, for the range rate of full detections (sequential update: exact when
``R`` has no cross-covariance between range rate and the position components, which the
sensors of the contract satisfy).

Plain numpy (these detections are few next to the radars'; profile before compiling).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaincinv

from shorad.tracking.kalman import polar_measurement, wrap_angle

__all__ = ["assign_partial", "partial_gate", "partial_update", "polar_rr_measurement"]

_AZ = 1
_OUT_OF_GATE = 1e9


def polar_rr_measurement(
    x: NDArray[np.float64], sensor_pos_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``h(x) = [range, az, el, range_rate]`` and its Jacobian.

    Parameters
    ----------
    x : (m, 6) float64
        States (m, m/s), ENU.
    sensor_pos_m : (3,) or (m, 3) float64
        Sensor position(s) (m).

    Returns
    -------
    zhat : (m, 4) float64
        ``[range_m, az_rad, el_rad, range_rate_mps]``.
    H : (m, 4, 6) float64
        ``dh/dx``.
    """
    zhat3, h3 = polar_measurement(x, sensor_pos_m)
    d = x[:, :3] - sensor_pos_m
    v = x[:, 3:]
    r = np.maximum(zhat3[:, 0], 1e-9)
    dv = np.einsum("ij,ij->i", d, v)
    zhat = np.empty((x.shape[0], 4))
    zhat[:, :3] = zhat3
    zhat[:, 3] = dv / r
    h = np.zeros((x.shape[0], 4, 6))
    h[:, :3] = h3
    h[:, 3, :3] = v / r[:, None] - (dv / r**3)[:, None] * d
    h[:, 3, 3:] = d / r[:, None]
    return zhat, h


def _innovation(
    zhat: NDArray[np.float64], z: NDArray[np.float64], comps: NDArray[np.intp]
) -> NDArray[np.float64]:
    """``z_c - zhat_c`` with the azimuth component wrapped (broadcasting leading axes)."""
    nu = z - zhat[..., comps]
    az = np.flatnonzero(comps == _AZ)
    if az.size:
        nu[..., az] = wrap_angle(nu[..., az])
    return nu


def partial_gate(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    comps: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Squared Mahalanobis distance and ``ln det S`` of every track-detection pair.

    Parameters
    ----------
    x : (m, 6) float64
        Predicted states.
    P : (m, 6, 6) float64
        Predicted covariances.
    z : (n, k) float64
        Measured components ``comps`` of each detection.
    R : (n, k, k) float64
        Their covariances.
    sensor_pos_m : (n, 3) float64
        Sensor of each detection (m).
    comps : (k,) intp
        Measured columns of ``[range, az, el, range_rate]``, the same for all detections.

    Returns
    -------
    d2 : (m, n) float64
    log_det_s : (m, n) float64
    """
    m, n = x.shape[0], z.shape[0]
    xr = np.repeat(x, n, axis=0)
    zhat, h = polar_rr_measurement(xr, np.tile(sensor_pos_m, (m, 1)))
    hc = h[:, comps]  # (m n, k, 6)
    s = hc @ np.repeat(P, n, axis=0) @ np.swapaxes(hc, -1, -2) + np.tile(R, (m, 1, 1))
    s = 0.5 * (s + np.swapaxes(s, -1, -2))
    nu = _innovation(zhat, np.tile(z, (m, 1)), comps)
    sign, logdet = np.linalg.slogdet(s)
    ok = sign > 0.0
    s_safe = np.where(ok[:, None, None], s, np.eye(comps.size))
    d2 = np.einsum("pi,pi->p", nu, np.linalg.solve(s_safe, nu[..., None])[..., 0])
    d2 = np.where(ok, d2, np.inf)
    return d2.reshape(m, n), np.where(ok, logdet, np.inf).reshape(m, n)


def partial_update(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    comps: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EKF update of each track with its partial measurement (Joseph form, symmetrised).

    Parameters
    ----------
    x : (m, 6) float64
        Predicted states.
    P : (m, 6, 6) float64
        Predicted covariances.
    z : (m, k) float64
        Measured components ``comps`` paired with each track.
    R : (m, k, k) float64
        Their covariances.
    sensor_pos_m : (m, 3) float64
        Sensor of each measurement (m).
    comps : (k,) intp
        Measured columns of ``[range, az, el, range_rate]``.

    Returns
    -------
    x : (m, 6) float64
    P : (m, 6, 6) float64
    """
    zhat, h = polar_rr_measurement(x, sensor_pos_m)
    hc = h[:, comps]
    nu = _innovation(zhat, z, comps)
    pht = P @ np.swapaxes(hc, -1, -2)
    s = hc @ pht + R
    k_gain = np.swapaxes(np.linalg.solve(s, np.swapaxes(pht, -1, -2)), -1, -2)
    x_new = x + np.einsum("mij,mj->mi", k_gain, nu)
    a = np.eye(6) - k_gain @ hc
    p_new = a @ P @ np.swapaxes(a, -1, -2) + k_gain @ R @ np.swapaxes(k_gain, -1, -2)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))


def assign_partial(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_id: NDArray[np.int32],
    sensor_pos_m: NDArray[np.float64],
    gate_probability: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Associate partial detections with tracks and update them, one GNN per group.

    A group is the detections of one sensor with one set of measured components (groups in
    ascending ``(sensor_id, components)`` order, updated sequentially). In each, the gate is the
    chi-square quantile of ``gate_probability`` with ``k`` (measured components) degrees of
    freedom and the cost ``d2 + ln det S``; :func:`scipy.optimize.linear_sum_assignment` on
    the gated pairs; each track takes at most one detection of the group.

    Parameters
    ----------
    x : (m, 6) float64
        Track states at the scan time.
    P : (m, 6, 6) float64
        Covariances.
    z : (n, 4) float64
        Detections, NaN where unmeasured (each must measure at least one component).
    R : (n, 4, 4) float64
        Their covariances (zero rows/columns where unmeasured).
    sensor_id : (n,) int32
        Sensor of each detection.
    sensor_pos_m : (n, 3) float64
        Sensor positions (m).
    gate_probability : float
        Gate mass in (0, 1).

    Returns
    -------
    x : (m, 6) float64
    P : (m, 6, 6) float64
    track_of_det : (n,) int64
        Row of the track each detection updated, -1 if none.
    """
    n = z.shape[0]
    out = np.full(n, -1, np.int64)
    if x.shape[0] == 0 or n == 0:
        return x, P, out
    mask = np.isfinite(z)
    code = mask @ (1 << np.arange(4))
    keys = sorted({(int(s), int(c)) for s, c in zip(sensor_id, code, strict=True)})
    for sid, cde in keys:
        idx = np.flatnonzero((sensor_id == sid) & (code == cde))
        comps = np.flatnonzero((cde >> np.arange(4)) & 1).astype(np.intp)
        k = comps.size
        zc = z[idx][:, comps]
        rc = R[idx][:, comps][:, :, comps]
        spos = sensor_pos_m[idx]
        d2, log_det = partial_gate(x, P, zc, rc, spos, comps)
        gate_d2 = float(2.0 * gammaincinv(0.5 * k, gate_probability))
        in_gate = d2 <= gate_d2
        rows = np.flatnonzero(in_gate.any(axis=1))
        cols = np.flatnonzero(in_gate.any(axis=0))
        if rows.size == 0:
            continue
        with np.errstate(invalid="ignore"):
            cost = np.where(in_gate, d2 + log_det, _OUT_OF_GATE)[rows[:, None], cols]
        ri, ci = linear_sum_assignment(cost)
        ok = cost[ri, ci] < 0.5 * _OUT_OF_GATE
        ti, dj = rows[ri[ok]], cols[ci[ok]]
        x = x.copy()
        P = P.copy()
        x[ti], P[ti] = partial_update(x[ti], P[ti], zc[dj], rc[dj], spos[dj], comps)
        out[idx[dj]] = ti
    return x, P, out
