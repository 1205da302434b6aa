"""JPDA for polar (and partial) detections: EKF updates, polar likelihoods, PDA update.

The simulation's detections are ``z = [range_m, az_rad, el_rad, range_rate_mps]`` about each
detection's sensor (NaN where not measured, :mod:`shorad.sensors.base`). The measurement
function and its Jacobian are those of :func:`shorad.tracking.partial.polar_rr_measurement`
(the EKF linearisation at the predicted state, Bar-Shalom, Li & Kirubarajan (2001) ch. 10).

Joint probabilistic data association (Fortmann, Bar-Shalom & Scheffe (1983); Bar-Shalom,
Willett & Tian (2011) ch. 6) for tracks ``i`` and full-position detections ``j`` in the
chi-square gate (3 dof, mass ``P_G``):

* pair weight ``w_ij = P_D N(nu_ij; 0, S_ij) / lambda_c`` with ``nu_ij``, ``S_ij`` the polar
  innovation and its covariance on ``[range, az, el]`` (range in m, angles in rad, so ``N`` is a
  density per m rad^2 and so is ``lambda_c``), and miss weight ``w_i0 = 1 - P_D P_G``;
* the clutter density ``lambda_c`` of a cluster ``c`` (connected component of the gating graph)
  is **nonparametric** ([2]_ §3.4, the "diffuse prior" of the PDAF): the number of detections
  in the cluster over the volume of the tracks' gates, ``lambda_c = m_c / sum_i V_i`` with
  ``V_i = (4 pi / 3) gamma^(3/2) sqrt(det S_i)`` the volume of track ``i``'s gate ellipsoid
  (``det S_i``: the geometric mean of ``det S_ij`` over its gated detections, all equal in a
  one-sensor scan with one ``R``). The sum bounds the union of overlapping gates from above,
  so ``lambda_c`` errs low (confident association) where gates overlap. It needs no knowledge
  of the sensors' false alarm rates, which the tracker does not get, and it adapts to a
  cluttered scan; in a one-track, one-detection cluster ``w_i1 / w_i0`` becomes
  ``P_D (4 pi / 3) gamma^(3/2) e^(-d2/2) / ((2 pi)^(3/2) (1 - P_D P_G))``;
* the marginals ``beta_ij`` (and ``beta_i0``, the track undetected) come from
  :func:`shorad.tracking.jpda.jpda_marginals`: exact enumeration per cluster with at most
  ``max_events`` joint events, loopy belief propagation (Williams & Lau 2014) above that. A
  scan in which no detection falls in two gates (the common case) has one-track clusters only,
  whose marginals are the PDAF's closed form ``beta_j = w_j / (w_0 + sum_l w_l)``;
* the PDA update of a track is the moment-matched mixture of its hypotheses ([2]_ §6.4):
  ``x = beta_0 x_pred + sum_j beta_j x_j``, ``P = beta_0 (P_pred + dx_0 dx_0^T) + sum_j
  beta_j (P_j + dx_j dx_j^T)``, where ``(x_j, P_j)`` is the EKF update with detection ``j``
  and ``dx_j = x_j - x``. The ``dx dx^T`` terms are the spread of the means. With one gain
  ``K`` for all ``j`` (one sensor, one ``R``) this is exactly the textbook PDAF form
  ``P = beta_0 P_pred + (1 - beta_0) P^c + K (sum_j beta_j nu_j nu_j^T - nu nu^T) K^T``
  (tested); per-detection gains also handle mixed sensors and the range rate, which is applied
  to each hypothesis (sequential scalar EKF update after the position update) where measured.

Plain numpy: the clusters of the simulation are small, and the marginals run compiled
(:func:`shorad.tracking._kernels.jpda_exact_kernel`).

References
----------
.. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001 (ch. 5 Kalman filter, Joseph form; ch. 10 extended KF).
.. [2] Y. Bar-Shalom, P. Willett, X. Tian, *Tracking and Data Fusion*, YBS Publishing, 2011
   (§3.4 nonparametric PDAF, ch. 6 JPDA).
.. [3] T. E. Fortmann, Y. Bar-Shalom, M. Scheffe, "Sonar tracking of multiple targets using
   joint probabilistic data association", IEEE J. Oceanic Eng. 8(3), 1983.
.. [4] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech House,
   1999, ch. 6 (gating, JPDA in practice).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammainc

from shorad.tracking.cluster import clusters
from shorad.tracking.jpda import jpda_marginals
from shorad.tracking.kalman import wrap_angle
from shorad.tracking.partial import polar_rr_measurement

__all__ = [
    "POSITION",
    "ekf_update",
    "gate_probability_mass",
    "nonparametric_clutter_density",
    "pda_combine",
    "polar_jpda_marginals",
    "polar_jpda_weights",
    "update_with_detections",
]

POSITION = np.array([0, 1, 2], np.intp)
"""Columns ``[range, az, el]`` of the detection contract."""
_RANGE_RATE = np.array([3], np.intp)
_AZ = 1
_LOG_2PI = math.log(2.0 * math.pi)


def gate_probability_mass(gate_d2: float, dof: int = 3) -> float:
    """``P_G``: probability that a chi-square(``dof``) variable is at most ``gate_d2``."""
    return float(gammainc(0.5 * dof, 0.5 * gate_d2))


def ekf_update(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    comps: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """EKF update of each row with its measured components, and the measurement likelihood.

    The update of :func:`shorad.tracking.partial.partial_update` (for ``comps = [0, 1, 2]`` that
    of :func:`shorad.tracking.kalman.update`; both tested): ``nu = z_c - h_c(x)`` (azimuth
    wrapped), ``S = H_c P H_c^T + R_cc``, ``K = P H_c^T S^-1``, Joseph form (Bar-Shalom et al.
    (2001) §5.2, ch. 10), plus ``ln N(nu; 0, S)``, the likelihood the IMM's model
    probabilities use.

    Parameters
    ----------
    x : (m, 6) float64
        Predicted states (m, m/s).
    P : (m, 6, 6) float64
        Predicted covariances.
    z : (m, k) float64
        Measured components ``comps`` paired with each row (m, rad, m/s).
    R : (m, k, k) float64
        Their covariances.
    sensor_pos_m : (m, 3) float64
        Sensor of each measurement (m).
    comps : (k,) intp
        Columns of ``[range, az, el, range_rate]`` measured.

    Returns
    -------
    x : (m, 6) float64
    P : (m, 6, 6) float64
        Updated, symmetrised.
    loglik : (m,) float64
        ``ln N(nu; 0, S)`` (``S`` in the units of ``z``).
    """
    zhat, h = polar_rr_measurement(x, sensor_pos_m)
    hc = h[:, comps]
    nu = z - zhat[:, comps]
    az = np.flatnonzero(comps == _AZ)
    if az.size:
        nu[:, az] = wrap_angle(nu[:, az])
    pht = P @ np.swapaxes(hc, -1, -2)
    s = hc @ pht + R
    s = 0.5 * (s + np.swapaxes(s, -1, -2))
    sol = np.linalg.solve(s, np.concatenate([nu[:, :, None], np.swapaxes(pht, -1, -2)], axis=2))
    k_gain = np.swapaxes(sol[:, :, 1:], -1, -2)  # (m, 6, k)
    x_new = x + np.einsum("mij,mj->mi", k_gain, nu)
    a = np.eye(6) - k_gain @ hc
    p_new = a @ P @ np.swapaxes(a, -1, -2) + k_gain @ R @ np.swapaxes(k_gain, -1, -2)
    logdet = np.linalg.slogdet(s)[1]
    loglik = -0.5 * (np.einsum("mi,mi->m", nu, sol[:, :, 0]) + logdet + comps.size * _LOG_2PI)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2)), loglik


def update_with_detections(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """EKF update of each row with a full-position detection, then its range rate if measured.

    The sequential order of :class:`shorad.tracking.gnn.GnnTracker` (exact for an ``R``
    without position/range-rate cross-covariance, which the sensor contract has). The returned
    log-likelihood is the sum of the two updates', i.e. ``ln p(z_pos) + ln p(z_rr | z_pos)``.

    Parameters
    ----------
    x : (m, 6) float64
    P : (m, 6, 6) float64
    z : (m, 4) float64
        Detection paired with each row (``[r, az, el]`` finite, range rate finite or NaN).
    R : (m, 4, 4) float64
    sensor_pos_m : (m, 3) float64

    Returns
    -------
    x, P, loglik : (m, 6), (m, 6, 6), (m,) float64
    """
    x, P, ll = ekf_update(x, P, z[:, :3], R[:, :3, :3], sensor_pos_m, POSITION)
    rr = np.flatnonzero(np.isfinite(z[:, 3]))
    if rr.size:
        x, P, ll = x.copy(), P.copy(), ll.copy()
        xr, pr, lr = ekf_update(
            x[rr], P[rr], z[rr, 3:], R[rr, 3:, 3:], sensor_pos_m[rr], _RANGE_RATE
        )
        x[rr], P[rr] = xr, pr
        ll[rr] += lr
    return x, P, ll


def nonparametric_clutter_density(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    log_det_s: NDArray[np.float64],
    m: int,
    n: int,
    gate_d2: float,
) -> NDArray[np.float64]:
    """Nonparametric clutter density of each gated pair's cluster (see the module docstring).

    Parameters
    ----------
    pt, pm : (p,) int64
        Track and detection of each gated pair.
    log_det_s : (p,) float64
        ``ln det S`` of each pair (``S`` in m^2 rad^4).
    m, n : int
        Numbers of tracks and detections.
    gate_d2 : float
        Gate threshold ``gamma`` on the squared Mahalanobis distance (3 dof).

    Returns
    -------
    (p,) float64
        ``lambda_c`` (per m rad^2) of the cluster of each pair.
    """
    if pt.size == 0:
        return np.zeros(0)
    deg = np.bincount(pt, minlength=m)
    mean_log_det = np.bincount(pt, log_det_s, minlength=m) / np.maximum(deg, 1)
    log_unit = math.log(4.0 * math.pi / 3.0) + 1.5 * math.log(gate_d2)
    vol = np.where(deg > 0, np.exp(log_unit + 0.5 * mean_log_det), 0.0)
    if np.bincount(pm, minlength=n).max() <= 1:
        # no detection in two gates: each cluster is one track and its own detections
        lam_t: NDArray[np.float64] = deg[pt] / vol[pt]
        return lam_t
    _, labels = clusters(pt, pm, m, n)
    k = int(labels.max()) + 1
    vol_c = np.bincount(labels[:m], vol, minlength=k)
    meas_c = np.bincount(labels[m:][np.unique(pm)], minlength=k).astype(np.float64)
    lam: NDArray[np.float64] = meas_c[labels[pt]] / vol_c[labels[pt]]
    return lam


def polar_jpda_weights(
    d2: NDArray[np.float64],
    log_det_s: NDArray[np.float64],
    lam: NDArray[np.float64],
    pd: float,
) -> NDArray[np.float64]:
    """Pair weights ``w = P_D N(nu; 0, S) / lambda`` from ``d2 = nu^T S^-1 nu`` and ``ln det S``.

    Parameters
    ----------
    d2, log_det_s, lam : (p,) float64
        Squared Mahalanobis distance, ``ln det S`` and clutter density of each pair.
    pd : float
        Detection probability ``P_D``.

    Returns
    -------
    (p,) float64
    """
    log_w = math.log(pd) - 1.5 * _LOG_2PI - 0.5 * (d2 + log_det_s) - np.log(lam)
    out: NDArray[np.float64] = np.exp(log_w)
    return out


def polar_jpda_marginals(
    d2: NDArray[np.float64],
    log_det_s: NDArray[np.float64],
    gate_d2: float,
    pd: float,
    max_events: int = 10_000,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
]:
    """JPDA marginals of a scan from its polar gate matrices.

    Parameters
    ----------
    d2 : (m, n) float64
        Squared Mahalanobis distance of every track-detection pair
        (:func:`shorad.tracking.gnn.gate_distances`); pairs above ``gate_d2`` are not gated.
    log_det_s : (m, n) float64
        ``ln det S`` of each pair (read where gated).
    gate_d2 : float
        Gate threshold (chi-square, 3 dof).
    pd : float
        Detection probability in (0, 1].
    max_events : int
        Exact enumeration up to this many joint events per cluster, belief propagation above.

    Returns
    -------
    pt, pm : (p,) int64
        Track and detection of each gated pair, sorted by track then detection.
    beta : (p,) float64
        ``P(detection pm is track pt's)``.
    beta0 : (m,) float64
        ``P(track undetected)``; ``beta0 + sum of its beta == 1``.
    exact : (m,) bool
        Whether the track's cluster was enumerated exactly.
    """
    m, n = d2.shape
    pt_i, pm_i = np.nonzero(d2 <= gate_d2)
    pt, pm = pt_i.astype(np.int64), pm_i.astype(np.int64)
    ld = log_det_s[pt, pm]
    lam = nonparametric_clutter_density(pt, pm, ld, m, n, gate_d2)
    w = polar_jpda_weights(d2[pt, pm], ld, lam, pd)
    w0 = np.full(m, 1.0 - pd * gate_probability_mass(gate_d2))
    if pt.size and np.bincount(pm, minlength=n).max() <= 1:
        # No detection shared by two tracks: every cluster is one track (the PDAF), whose
        # marginals are in closed form, beta_j = w_j / (w_0 + sum_l w_l): exact.
        tot = w0 + np.bincount(pt, w, minlength=m)
        return pt, pm, w / tot[pt], w0 / tot, np.ones(m, np.bool_)
    beta, beta0, exact = jpda_marginals(pt, pm, w, w0, n, max_events)
    return pt, pm, beta, beta0, exact


def pda_combine(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    x_upd: NDArray[np.float64],
    P_upd: NDArray[np.float64],
    pt: NDArray[np.int64],
    beta: NDArray[np.float64],
    beta0: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """PDA update: moment-matched mixture of the miss and per-detection hypotheses.

    ``x' = beta_0 x + sum_j beta_j x_j`` and ``P' = beta_0 (P + dx_0 dx_0^T) + sum_j beta_j
    (P_j + dx_j dx_j^T)``, ``dx = (hypothesis mean) - x'`` (Bar-Shalom, Willett & Tian (2011)
    §6.4; the ``dx dx^T`` terms are the spread of the means).

    Parameters
    ----------
    x : (m, 6) float64
        Predicted states (the miss hypothesis).
    P : (m, 6, 6) float64
        Predicted covariances.
    x_upd : (p, 6) float64
        EKF update of track ``pt[k]`` with its ``k``-th gated detection.
    P_upd : (p, 6, 6) float64
        Its covariance.
    pt : (p,) int64
        Track of each hypothesis.
    beta : (p,) float64
        Marginal of each hypothesis.
    beta0 : (m,) float64
        Miss marginal of each track (``beta0 + sum beta == 1`` per track).

    Returns
    -------
    x : (m, 6) float64
    P : (m, 6, 6) float64
        Symmetric positive (semi-)definite: a positive combination of such matrices.
    """
    x_new = beta0[:, None] * x
    np.add.at(x_new, pt, beta[:, None] * x_upd)
    d0 = x - x_new
    dp = x_upd - x_new[pt]
    p_new = beta0[:, None, None] * (P + d0[:, :, None] * d0[:, None, :])
    np.add.at(p_new, pt, beta[:, None, None] * (P_upd + dp[:, :, None] * dp[:, None, :]))
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))
