"""Global nearest neighbour (GNN) multi-target tracker with an EKF per track.

One :meth:`GnnTracker.step` processes one sensor scan (centralised sequential fusion: the
simulation feeds the scans of every sensor in time order into one picture):

1. predict every track to the scan time with the NCV model (:mod:`shorad.tracking.kalman`);
2. gate: the squared Mahalanobis distance ``d2[i, j] = nu^T S^-1 nu`` of every track ``i`` and
   detection ``j`` is built for the whole scan at once; pairs with ``d2`` above the chi-square
   quantile of ``gate_probability`` (3 degrees of freedom) are impossible ([2]_ ch. 6);
3. assign: :func:`scipy.optimize.linear_sum_assignment` on the gated cost
   ``d2 + ln det S`` (the negative log-likelihood of the pair up to a constant, the "generalised
   statistical distance" of [2]_ ch. 6) with a prohibitive cost on out-of-gate pairs, so that the
   assignment first maximises the number of in-gate pairs and then minimises the summed cost.
   The ``ln det S`` term keeps a fresh tentative track, whose ``S`` is large, from taking a
   detection that fits an established track almost as well;
4. EKF-update assigned tracks (Joseph form), start a tentative track from every unassigned
   detection (one-point initiation);
5. track management: a tentative track with ``confirm_hits`` updates within
   ``confirm_window_s`` of its birth is confirmed, otherwise deleted when the window closes (the
   time-based form of the "M of N" rule, [2]_); any track with no update for more than
   ``delete_after_s`` or whose position uncertainty exceeds ``max_position_sigma_m`` is deleted.

Detections without a full 3-D position (angle-only, bearing-only) only update existing tracks,
after the above, through an EKF on their measured components (:mod:`shorad.tracking.partial`);
the range rate of a position detection, where measured, is applied after its position update.

The tracker never reads :attr:`Detections.truth_id`.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001.
.. [2] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech House,
   1999. Cited in the function docstrings as "Blackman & Popoli (1999)".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaincinv

from shorad.errors import ConfigError, SimulationError
from shorad.sensors.base import AZ, RANGE_RATE, Detections
from shorad.tracking._fused import gnn_scan_kernel
from shorad.tracking._kernels import (
    append_manage_kernel,
    classify_kernel,
    gate_kernel,
    gated_cost_kernel,
    initiate_kernel,
    predict_kernel,
    update_kernel,
)
from shorad.tracking.base import CONFIRMED, TENTATIVE, Tracks
from shorad.tracking.kalman import polar_measurement, wrap_angle
from shorad.tracking.partial import assign_partial, partial_update

__all__ = [
    "GnnTracker",
    "TrackerConfig",
    "TrackerStep",
    "append_and_manage",
    "class_speed_arrays",
    "classify_by_speed",
    "gate_distances",
    "gated_cost",
    "scan_interval",
    "track_management",
]

_EPS_T_S = 1e-9
"""Tolerance (s) on time comparisons of the management rules (scan times are sums of floats)."""
_OUT_OF_GATE_COST = 1e9
_NO_IDS = np.zeros(0, np.int64)
_NO_IDS.flags.writeable = False
_NO_X = np.zeros((0, 6))  # no new tracks (kernel inputs: writeable, never modified)
_NO_P = np.zeros((0, 6, 6))
"""Cost of an out-of-gate pair: larger than any sum of in-gate costs (each ``d2 + ln det S`` is
at most a few hundred in magnitude), so an out-of-gate pair is never preferred."""


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Settings of :class:`GnnTracker`.

    Attributes
    ----------
    q_mps2 : float
        Acceleration noise level of the NCV model (m/s^2); spectral density ``q_mps2**2``
        m^2/s^3 (see :func:`shorad.tracking.kalman.ncv_process_noise`).
    gate_probability : float
        Probability mass of the chi-square (3 dof) gate on the squared Mahalanobis distance.
    init_speed_sigma_mps : float
        One-sigma prior (m/s) on each velocity component of a one-point initiation (zero mean).
    confirm_hits : int
        ``M``: updates (the first detection included) needed for confirmation.
    confirm_window_s : float
        A tentative track must get ``M`` hits within this time (s) from its birth to be
        confirmed; otherwise it is deleted when the window closes. Time-based "M of N"
        because several asynchronous sensors feed one picture.
    delete_after_s : float
        A track (tentative or confirmed) with no update for longer than this (s) is deleted.
    tentative_delete_after_s : float
        A tentative track with no update for longer than this (s) is deleted: a one-hit track
        that no sensor renews within a couple of revisits is almost surely clutter, and
        keeping it for the whole window makes every scan gate against it.
    max_position_sigma_m : float
        A track with ``sqrt(trace(P_position))`` above this (m) is deleted. The trace bounds
        the largest position standard deviation from above.
    method : str
        Tracker the simulation builds (:func:`shorad.tracking.factory.build_tracker`): one of
        ``gnn``, ``jpda``, ``imm-gnn``, ``imm-jpda``.
    """

    q_mps2: float = 1.0
    gate_probability: float = 0.9999
    init_speed_sigma_mps: float = 40.0
    confirm_hits: int = 3
    confirm_window_s: float = 5.0
    delete_after_s: float = 4.0
    tentative_delete_after_s: float = 2.5
    max_position_sigma_m: float = 500.0
    method: str = "gnn"

    def __post_init__(self) -> None:
        checks = (
            ("method", self.method in ("gnn", "jpda", "imm-gnn", "imm-jpda"), "a tracker name"),
            ("q_mps2", self.q_mps2 >= 0.0, ">= 0 m/s^2"),
            ("gate_probability", 0.0 < self.gate_probability < 1.0, "in (0, 1)"),
            ("init_speed_sigma_mps", self.init_speed_sigma_mps > 0.0, "> 0 m/s"),
            ("confirm_hits", self.confirm_hits >= 1, ">= 1"),
            ("confirm_window_s", self.confirm_window_s >= 0.0, ">= 0 s"),
            ("delete_after_s", self.delete_after_s > 0.0, "> 0 s"),
            ("tentative_delete_after_s", self.tentative_delete_after_s > 0.0, "> 0 s"),
            ("max_position_sigma_m", self.max_position_sigma_m > 0.0, "> 0 m"),
        )
        for name, ok, want in checks:
            if not ok:
                raise ConfigError(
                    f"must be {want}, got {getattr(self, name)!r}", field=f"TrackerConfig.{name}"
                )


@dataclass(frozen=True, slots=True)
class TrackerStep:
    """Result of one :meth:`GnnTracker.step`.

    Attributes
    ----------
    tracks : Tracks
        Live tracks after the update, at the scan time.
    det_track_id : (n,) int64
        Id of the track each detection updated or started, in detection order. A detection
        without a full 3-D position (angle- or bearing-only) never starts a track: it has the
        id of the track it updated, or -1 if it fell in no track's gate.
    confirmed_ids : (k,) int64
        Ids of the tracks confirmed in this step.
    deleted_ids : (d,) int64
        Ids of the tracks deleted in this step (they are absent from ``tracks``).
    """

    tracks: Tracks
    det_track_id: NDArray[np.int64]
    confirmed_ids: NDArray[np.int64]
    deleted_ids: NDArray[np.int64]


def classify_by_speed(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    class_speed_mps: NDArray[np.float64],
    class_speed_sigma_mps: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Simple speed classifier: class probabilities from the estimated speed alone.

    With ``s = |v|`` the estimated speed and ``u = v / s`` its direction, the speed variance of
    the estimate is ``var_s = u^T P_vv u`` (``trace(P_vv) / 3`` when ``s`` is ~0). Each class
    ``c`` gets the Gaussian likelihood ``N(s; mu_c, sigma_c^2 + var_s)``; the probabilities are
    the likelihoods normalised (equal priors). The belief is memoryless: recomputed from the
    current estimate each time, not accumulated, since successive estimates are correlated.

    Parameters
    ----------
    x : (m, 6) float64
        States (m, m/s).
    P : (m, 6, 6) float64
        State covariances.
    class_speed_mps : (C,) float64
        Typical speed of each class (m/s).
    class_speed_sigma_mps : (C,) float64
        Spread of each class's speed (m/s), > 0.

    Returns
    -------
    (m, C) float64
        Class probabilities, rows sum to 1.
    """
    v = x[:, 3:]
    s = np.sqrt(np.einsum("ij,ij->i", v, v))
    pvv = P[:, 3:, 3:]
    moving = s > 1e-9
    u = v / np.where(moving, s, 1.0)[:, None]
    var_dir = np.einsum("ij,ijk,ik->i", u, pvv, u)
    var_s = np.where(moving, var_dir, np.trace(pvv, axis1=1, axis2=2) / 3.0)
    var = class_speed_sigma_mps**2 + var_s[:, None]  # (m, C)
    log_l = -0.5 * (s[:, None] - class_speed_mps) ** 2 / var - 0.5 * np.log(var)
    w = np.exp(log_l - log_l.max(axis=1, keepdims=True))
    prob: NDArray[np.float64] = w / w.sum(axis=1, keepdims=True)
    return prob


def _mahalanobis_sym3(
    S: NDArray[np.float64], nu: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``nu^T S^-1 nu`` and ``ln det S`` for symmetric 3x3 ``S`` (..., 3, 3) via the adjugate.

    Both are ``inf`` where ``S`` is not positive definite (``det S <= 0``).
    """
    s00, s01, s02 = S[..., 0, 0], S[..., 0, 1], S[..., 0, 2]
    s11, s12, s22 = S[..., 1, 1], S[..., 1, 2], S[..., 2, 2]
    c00 = s11 * s22 - s12 * s12
    c01 = s02 * s12 - s01 * s22
    c02 = s01 * s12 - s02 * s11
    c11 = s00 * s22 - s02 * s02
    c12 = s01 * s02 - s00 * s12
    c22 = s00 * s11 - s01 * s01
    det = s00 * c00 + s01 * c01 + s02 * c02
    a, b, c = nu[..., 0], nu[..., 1], nu[..., 2]
    q = c00 * a * a + c11 * b * b + c22 * c * c + 2.0 * (c01 * a * b + c02 * a * c + c12 * b * c)
    ok = det > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        d2 = np.where(ok, q / det, np.inf)
        log_det = np.where(ok, np.log(np.where(ok, det, 1.0)), np.inf)
    return d2, log_det


def gate_distances(
    x: NDArray[np.float64], P: NDArray[np.float64], dets: Detections
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Squared Mahalanobis distance and innovation log-determinant of every track-detection pair.

    ``d2[i, j] = nu_ij^T S_ij^-1 nu_ij`` with ``nu_ij = z_j - h_j(x_i)`` (azimuth wrapped),
    ``S_ij = H_ij P_i H_ij^T + R_j``, ``H_ij`` the Jacobian of ``h_j`` at ``x_i``, and ``h_j``
    the polar measurement function about detection ``j``'s sensor (Blackman & Popoli (1999)
    ch. 6).
    Built for the whole scan at once with numpy; this is the reference of the compiled
    :func:`shorad.tracking._kernels.gate_kernel` that the tracker runs.

    Parameters
    ----------
    x : (m, 6) float64
        Predicted track states (m, m/s).
    P : (m, 6, 6) float64
        Predicted covariances.
    dets : Detections
        ``n`` detections (``z``, ``R`` and ``sensor_pos_m`` are read).

    Returns
    -------
    d2 : (m, n) float64
        Squared Mahalanobis distance (dimensionless); ``inf`` where ``S`` is singular.
    log_det_s : (m, n) float64
        ``ln det S_ij`` (``S`` in m^2 rad^4); ``inf`` where ``S`` is singular.
    """
    m, n = x.shape[0], len(dets)
    if m == 0 or n == 0:
        return np.zeros((m, n)), np.zeros((m, n))
    pos = dets.sensor_pos_m
    if (pos == pos[0]).all():  # one sensor scan: h(x) and H once per track
        upos = pos[:1]
        key = np.zeros(n, np.intp)
    else:  # mixed sensors: h(x) and H per (track, detection)
        upos = pos
        key = np.arange(n)
    k = upos.shape[0]
    zhat, h = polar_measurement(np.repeat(x, k, axis=0), np.tile(upos, (m, 1)))
    hp = h.reshape(m, k, 3, 6)[..., :3]  # velocity columns of H are zero
    hpht = hp @ P[:, None, :3, :3] @ np.swapaxes(hp, -1, -2)  # (m, k, 3, 3)
    s = hpht[:, key] + dets.R[None, :, :3, :3]
    s = 0.5 * (s + np.swapaxes(s, -1, -2))
    nu = dets.z[None, :, :3] - zhat.reshape(m, k, 3)[:, key]
    nu[..., 1] = wrap_angle(nu[..., 1])
    return _mahalanobis_sym3(s, nu)


def gated_cost(
    d2: NDArray[np.float64],
    log_det_s: NDArray[np.float64],
    gate_d2: float,
    out_of_gate_cost: float = _OUT_OF_GATE_COST,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Reduced assignment problem: the rows and columns of ``d2`` that have an in-gate pair.

    The reference of the compiled :func:`shorad.tracking._kernels.gated_cost_kernel`.

    Parameters
    ----------
    d2 : (m, n) float64
        Squared Mahalanobis distances (see :func:`gate_distances`).
    log_det_s : (m, n) float64
        ``ln det S`` of each pair (read only where in gate).
    gate_d2 : float
        Gate threshold on ``d2``; pairs with ``d2 <= gate_d2`` are in the gate.
    out_of_gate_cost : float
        Cost put on out-of-gate pairs of the reduced problem; larger than any sum of in-gate
        costs, so that an assignment maximises the number of in-gate pairs first.

    Returns
    -------
    cost : (r, c) float64
        ``(d2 + log_det_s)[rows][:, cols]``, out-of-gate entries set to ``out_of_gate_cost``.
    rows : (r,) int64
        Tracks with at least one detection in their gate.
    cols : (c,) int64
        Detections in the gate of at least one track.
    """
    in_gate = d2 <= gate_d2
    rows = np.flatnonzero(in_gate.any(axis=1)).astype(np.int64)
    cols = np.flatnonzero(in_gate.any(axis=0)).astype(np.int64)
    with np.errstate(invalid="ignore"):
        cost = np.where(in_gate, d2 + log_det_s, out_of_gate_cost)[rows[:, None], cols]
    return cost, rows, cols


def track_management(
    tracks: Tracks, t_s: float, config: TrackerConfig
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which tracks the management rules confirm and delete at time ``t_s``.

    A tentative track is confirmed when it has ``confirm_hits`` updates within
    ``confirm_window_s`` of its birth ("M of N" in time, Blackman & Popoli (1999)). A track is
    deleted when it had no update for longer than ``delete_after_s`` (``tentative_delete_after_s``
    while tentative), when
    ``sqrt(trace(P_position))`` exceeds ``max_position_sigma_m``, or when it is tentative and its
    window has closed without confirmation. A track deleted in this step is not also confirmed.
    Time comparisons allow 1e-9 s of rounding. The rules the compiled
    :func:`shorad.tracking._kernels.append_manage_kernel` applies (tested through
    :func:`append_and_manage`).

    Parameters
    ----------
    tracks : Tracks
        Tracks after this step's updates and initiations (``status``, ``hits``, ``born_t_s``,
        ``last_update_t_s`` and ``P`` are read).
    t_s : float
        Current time (s).
    config : TrackerConfig
        The rules' settings.

    Returns
    -------
    confirm : (m,) bool
        Tracks confirmed now.
    delete : (m,) bool
        Tracks deleted now.
    """
    tentative = tracks.status == TENTATIVE
    in_window = (t_s - tracks.born_t_s) <= config.confirm_window_s + _EPS_T_S
    confirm = tentative & in_window & (tracks.hits >= config.confirm_hits)
    pos_var = np.trace(tracks.P[:, :3, :3], axis1=1, axis2=2)
    stale_after = np.where(tentative, config.tentative_delete_after_s, config.delete_after_s)
    delete = (
        ((t_s - tracks.last_update_t_s) > stale_after + _EPS_T_S)
        | (pos_var > config.max_position_sigma_m**2)
        | (tentative & ~confirm & ~in_window)
    )
    return confirm & ~delete, delete


_A = TypeVar("_A", bound=np.ndarray[Any, Any])


def append_and_manage(
    tracks: Tracks,
    x_new: NDArray[np.float64],
    P_new: NDArray[np.float64],
    t_s: float,
    config: TrackerConfig,
) -> tuple[Tracks, NDArray[np.int64], NDArray[np.int64]]:
    """Append new tentative tracks, apply :func:`track_management`, drop the deleted rows.

    The reference of the compiled :func:`shorad.tracking._kernels.append_manage_kernel`.

    Parameters
    ----------
    tracks : Tracks
        Existing tracks after this step's updates (at ``t_s``).
    x_new, P_new : (k, 6), (k, 6, 6) float64
        New tracks: ids from ``tracks.next_track_id`` on, one hit, born and updated at
        ``t_s``, uniform class belief.
    t_s : float
        Current time (s).
    config : TrackerConfig

    Returns
    -------
    tracks : Tracks
        The kept rows (confirmed ones with status ``CONFIRMED`` and confirmation time
        ``t_s``); ``next_track_id`` advanced by ``k``.
    confirmed_ids, deleted_ids : int64
        Ids confirmed and deleted now, in row order.
    """
    k = x_new.shape[0]
    nc = tracks.class_prob.shape[1]
    t_new = np.full(k, float(t_s))
    both = Tracks(
        t_s,
        np.concatenate([tracks.track_id, tracks.next_track_id + np.arange(k, dtype=np.int64)]),
        np.concatenate([tracks.x, x_new]),
        np.concatenate([tracks.P, P_new]),
        np.concatenate([tracks.status, np.full(k, TENTATIVE, np.int8)]),
        np.concatenate([tracks.class_prob, np.full((k, nc), 1.0 / nc)]),
        np.concatenate([tracks.hits, np.ones(k, np.int32)]),
        np.concatenate([tracks.born_t_s, t_new]),
        np.concatenate([tracks.last_update_t_s, t_new]),
        np.concatenate([tracks.confirmed_t_s, np.full(k, np.nan)]),
        next_track_id=tracks.next_track_id + k,
    )
    confirm, delete = track_management(both, t_s, config)
    status = both.status.copy()
    status[confirm] = CONFIRMED
    confirmed_t = both.confirmed_t_s.copy()
    confirmed_t[confirm] = t_s
    both = Tracks(
        t_s,
        both.track_id,
        both.x,
        both.P,
        status,
        both.class_prob,
        both.hits,
        both.born_t_s,
        both.last_update_t_s,
        confirmed_t,
        next_track_id=both.next_track_id,
    )
    return both.take(~delete), both.track_id[confirm], both.track_id[delete]


def class_speed_arrays(
    tracker: str, class_speed_mps: Sequence[float], class_speed_sigma_mps: Sequence[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The class speeds and spreads as checked float64 arrays (C,).

    Raises
    ------
    ConfigError
        Naming ``{tracker}.class_speed_mps`` / ``.class_speed_sigma_mps`` if the speeds are
        not a non-empty sequence, the spreads do not match them or are not all > 0.
    """
    speed = np.array(class_speed_mps, dtype=np.float64)
    sigma = np.array(class_speed_sigma_mps, dtype=np.float64)
    if speed.ndim != 1 or speed.size == 0:
        raise ConfigError(
            f"must be a non-empty sequence, got shape {speed.shape}",
            field=f"{tracker}.class_speed_mps",
        )
    if sigma.shape != speed.shape:
        raise ConfigError(
            f"must have {speed.size} entries like class_speed_mps, got shape {sigma.shape}",
            field=f"{tracker}.class_speed_sigma_mps",
        )
    if not (sigma > 0.0).all():
        raise ConfigError(
            f"must be > 0 m/s, got {sigma.tolist()}", field=f"{tracker}.class_speed_sigma_mps"
        )
    return speed, sigma


def scan_interval(tracker: str, tracks: Tracks, t_s: float, n_classes: int) -> float:
    """Time (s) from the picture ``tracks`` to the scan at ``t_s``, after checking both.

    Raises
    ------
    SimulationError
        If ``t_s`` is earlier than ``tracks.t_s`` (scans must come in time order) or the
        tracks carry another number of classes than ``n_classes``.
    """
    dt_s = t_s - tracks.t_s
    if dt_s < 0.0:
        raise SimulationError(
            f"{tracker}.step: scan time t_s={t_s} s is before the tracks' time "
            f"{tracks.t_s} s; scans must come in time order"
        )
    if tracks.class_prob.shape[1] != n_classes:
        raise SimulationError(
            f"{tracker}.step: tracks have {tracks.class_prob.shape[1]} classes, "
            f"the tracker {n_classes}"
        )
    return dt_s


def _writeable(a: _A) -> _A:
    """``a`` itself, or a copy if it is read-only (the compiled kernels take writeable arrays)."""
    return a if a.flags.writeable else a.copy()


class GnnTracker:
    """Global nearest neighbour tracker (see the module docstring for the algorithm).

    Configuration is fixed at construction; :meth:`step` is a pure function of its inputs.

    Parameters
    ----------
    config : TrackerConfig
        Filter, gate and track management settings.
    class_speed_mps : sequence of float, length C
        Typical speed (m/s) of each threat class, in the scenario's class order.
    class_speed_sigma_mps : sequence of float, length C
        Spread of each class's speed (m/s), > 0.
    """

    __slots__ = (
        "_class_sigma",
        "_class_speed",
        "_config",
        "_fused_args",
        "_gate_d2",
        "_max_pos_var",
        "fused",
    )

    def __init__(
        self,
        config: TrackerConfig,
        class_speed_mps: Sequence[float],
        class_speed_sigma_mps: Sequence[float],
    ) -> None:
        speed, sigma = class_speed_arrays("GnnTracker", class_speed_mps, class_speed_sigma_mps)
        self._config = config
        self._class_speed = speed
        self._class_sigma = sigma
        # chi-square quantile with 3 dof: F^-1(p) = 2 P^-1(3/2, p) (regularised gamma).
        self._gate_d2 = float(2.0 * gammaincinv(1.5, config.gate_probability))
        self._max_pos_var = config.max_position_sigma_m**2
        self._fused_args = (
            float(config.q_mps2),
            self._gate_d2,
            float(_OUT_OF_GATE_COST),
            speed,
            sigma,
            float(config.init_speed_sigma_mps),
            int(config.confirm_hits),
            float(config.confirm_window_s),
            float(config.delete_after_s),
            float(config.tentative_delete_after_s),
            float(self._max_pos_var),
        )
        self.fused = True
        """Run full-position scans without range rate as one compiled call (the default);
        ``False`` takes the general path, the fused call's reference (same pictures)."""

    @property
    def config(self) -> TrackerConfig:
        """The tracker's settings."""
        return self._config

    @staticmethod
    def _update_range_rate(
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        dets: Detections,
        ti: NDArray[np.int64],
        dj: NDArray[np.int64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Sequential EKF update with the range rate of position detections ``dj`` (if any)."""
        has_rr = np.isfinite(dets.z[dj, RANGE_RATE])
        if not has_rr.any():
            return x, p
        ti, dj = ti[has_rr], dj[has_rr]
        rr = np.array([RANGE_RATE], np.intp)
        x, p = x.copy(), p.copy()
        x[ti], p[ti] = partial_update(
            x[ti],
            p[ti],
            dets.z[dj][:, rr],
            dets.R[dj][:, rr][:, :, rr],
            dets.sensor_pos_m[dj],
            rr,
        )
        return x, p

    def _update_partial(
        self,
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        hits: NDArray[np.int32],
        last_update: NDArray[np.float64],
        track_id: NDArray[np.int64],
        dets: Detections,
        det_track_id_all: NDArray[np.int64],
        t_s: float,
        part: NDArray[np.intp] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32], NDArray[np.float64]]:
        """Update existing tracks with the detections that lack a full 3-D position.

        Detections measuring no angle are ignored (range rate alone is not associable here).
        Each update counts as a hit and renews ``last_update``; ``det_track_id_all`` is
        filled in place with the id of the track updated. ``part`` (the indices of the
        partial detections measuring an angle) is computed from ``dets`` when not given.
        """
        if part is None:
            part = np.flatnonzero(~dets.has_position & np.isfinite(dets.z[:, AZ]))
        if part.size == 0:
            return x, p, hits, last_update
        x, p, row = assign_partial(
            x,
            p,
            dets.z[part],
            dets.R[part],
            dets.sensor_id[part],
            dets.sensor_pos_m[part],
            self._config.gate_probability,
        )
        ok = row >= 0
        if ok.any():
            ti = row[ok]
            hits = hits.copy()
            np.add.at(hits, ti, 1)
            last_update = last_update.copy()
            last_update[ti] = t_s
            det_track_id_all[part[ok]] = track_id[ti]
        return x, p, hits, last_update

    @property
    def gate_d2(self) -> float:
        """Gate threshold on the squared Mahalanobis distance (chi-square 3 dof quantile)."""
        return self._gate_d2

    @property
    def n_classes(self) -> int:
        """Number of threat classes ``C``."""
        return int(self._class_speed.size)

    def initial(self, t_s: float = 0.0) -> Tracks:
        """An empty picture at time ``t_s`` (s)."""
        return Tracks.empty(self.n_classes, t_s=t_s)

    def fused_args(
        self,
    ) -> tuple[
        float,
        float,
        float,
        NDArray[np.float64],
        NDArray[np.float64],
        float,
        int,
        float,
        float,
        float,
        float,
    ]:
        """The settings :func:`shorad.tracking._fused.gnn_scan_kernel` takes after ``t_s``:
        ``(q, gate d2, out-of-gate cost, class speeds, their spreads, initial speed sigma,
        confirm hits, confirm window, delete after, tentative delete after, max position
        variance)``; computed once (the configuration is frozen), not at every scan."""
        return self._fused_args

    def _step_fused(
        self,
        tracks: Tracks,
        z3: NDArray[np.float64],
        r3: NDArray[np.float64],
        spos3: NDArray[np.float64],
        t_s: float,
        dt_s: float,
    ) -> TrackerStep:
        """:meth:`step` for a scan whose detections all have a 3-D position and no range rate.

        One compiled call (:func:`shorad.tracking._fused.gnn_scan_kernel`) runs the same
        kernels in the same order as the general path below, with the compiled port of SciPy's
        assignment; the pictures are identical (tested).
        """
        if len(tracks) == 0 and z3.shape[0] == 0:
            return TrackerStep(
                tracks=replace(tracks, t_s=t_s),
                det_track_id=_NO_IDS,
                confirmed_ids=_NO_IDS,
                deleted_ids=_NO_IDS,
            )
        res = gnn_scan_kernel(
            _writeable(tracks.track_id),
            _writeable(tracks.x),
            _writeable(tracks.P),
            _writeable(tracks.status),
            _writeable(tracks.class_prob),
            _writeable(tracks.hits),
            _writeable(tracks.born_t_s),
            _writeable(tracks.last_update_t_s),
            _writeable(tracks.confirmed_t_s),
            tracks.next_track_id,
            dt_s,
            z3,
            r3,
            spos3,
            t_s,
            *self.fused_args(),
        )
        det_track_id, confirmed_ids, deleted_ids = res[9], res[10], res[11]
        n_new = int(np.count_nonzero(det_track_id >= tracks.next_track_id))
        out = Tracks(t_s, *res[:9], next_track_id=tracks.next_track_id + n_new)
        return TrackerStep(
            tracks=out,
            det_track_id=det_track_id,
            confirmed_ids=confirmed_ids,
            deleted_ids=deleted_ids,
        )

    def step(self, tracks: Tracks, dets: Detections, t_s: float) -> TrackerStep:
        """Process one sensor scan.

        Parameters
        ----------
        tracks : Tracks
            Picture from the previous step (at ``tracks.t_s <= t_s``).
        dets : Detections
            One scan's detections (possibly empty), all taken at ``t_s``; ``z``, ``R`` and
            ``sensor_pos_m`` are read, ``truth_id`` never.
        t_s : float
            Scan time (s).

        Returns
        -------
        TrackerStep
            New picture at ``t_s`` plus the association and management outcome of the step.
            Arrays of fields that did not change (e.g. ``track_id`` when no track was born or
            deleted) may be shared with ``tracks``: treat both as read-only.

        Raises
        ------
        SimulationError
            If ``t_s`` is earlier than ``tracks.t_s`` or ``tracks`` has another class count.
        """
        cfg = self._config
        t_s = float(t_s)
        dt_s = scan_interval("GnnTracker", tracks, t_s, self.n_classes)
        m, n_all = len(tracks), len(dets)
        n_classes = self._class_speed.shape[0]
        track_id = tracks.track_id
        hits = tracks.hits
        last_update = tracks.last_update_t_s
        # Detections with a full 3-D position (range, azimuth, elevation) are associated,
        # update tracks and start new ones; partial ones (angle-only, bearing-only) only update
        # existing tracks, after them (see _update_partial).
        dz = dets.z
        finite = np.isfinite(dz)
        has_pos = finite[:, 0] & finite[:, 1] & finite[:, 2]
        use = np.flatnonzero(has_pos)
        n = use.size
        all_pos = n == n_all
        if all_pos:  # the common case: no gather needed, one copy of each slice
            z3 = dz[:, :3].copy()
            r3 = dets.R[:, :3, :3].copy()
            spos3 = dets.sensor_pos_m.copy()
        else:
            z3 = np.ascontiguousarray(dz[use, :3])
            r3 = np.ascontiguousarray(dets.R[use][:, :3, :3])
            spos3 = np.ascontiguousarray(dets.sensor_pos_m[use])
        if self.fused and all_pos and not finite[:, RANGE_RATE].any():
            return self._step_fused(tracks, z3, r3, spos3, t_s, dt_s)
        det_track_id = np.empty(n, np.int64)
        unassigned = np.ones(n, np.bool_)

        x, p = tracks.x, tracks.P
        if m:
            x, p = predict_kernel(_writeable(x), _writeable(p), dt_s, cfg.q_mps2)
        if m and n:
            z, r_cov, spos = z3, r3, spos3
            d2, log_det_s = gate_kernel(x, p, z, r_cov, spos, self._gate_d2)
            cost, rows, cols = gated_cost_kernel(d2, log_det_s, self._gate_d2, _OUT_OF_GATE_COST)
            if rows.size:
                ri, ci = linear_sum_assignment(cost)
                ok = cost[ri, ci] < 0.5 * _OUT_OF_GATE_COST
                ti, dj = rows[ri[ok]], cols[ci[ok]]
                x, p = update_kernel(x, p, z, r_cov, spos, ti, dj)
                hits = hits.copy()
                hits[ti] += 1
                last_update = last_update.copy()
                last_update[ti] = t_s
                det_track_id[dj] = track_id[ti]
                unassigned[dj] = False
                if finite[:, RANGE_RATE].any():
                    x, p = self._update_range_rate(x, p, dets, ti, use[dj])
        if not all_pos:
            det_track_id_all = np.full(n_all, -1, np.int64)
            if m:
                # partial detections measuring an angle (range rate alone is not associable)
                part = np.flatnonzero(~has_pos & finite[:, AZ])
                x, p, hits, last_update = self._update_partial(
                    x, p, hits, last_update, track_id, dets, det_track_id_all, t_s, part
                )

        # Class belief of the existing tracks from their speed (uniform until a second hit).
        if m:
            class_prob = classify_kernel(x, p, self._class_speed, self._class_sigma)
            class_prob[hits < 2] = 1.0 / n_classes
        else:
            class_prob = tracks.class_prob

        # New tentative tracks from the unassigned detections, numbered in detection order.
        new_j = np.flatnonzero(unassigned)
        n_new = new_j.size
        if n_new:
            det_track_id[new_j] = tracks.next_track_id + np.arange(n_new, dtype=np.int64)
            x0, p0 = initiate_kernel(
                z3,
                r3,
                spos3,
                new_j,
                cfg.init_speed_sigma_mps,
            )
        else:
            x0, p0 = _NO_X, _NO_P

        # Track management: confirm (M hits within the window), delete (stale, too uncertain,
        # tentative with the window closed); one compiled pass appends the new tracks, applies
        # the rules and drops the deleted rows (reference: append_and_manage).
        next_id = tracks.next_track_id + n_new
        if m + n_new:
            (
                track_id,
                x,
                p,
                status,
                class_prob,
                hits,
                born,
                last_update,
                confirmed_t,
                confirmed_ids,
                deleted_ids,
            ) = append_manage_kernel(
                _writeable(tracks.track_id),
                _writeable(x),
                _writeable(p),
                _writeable(tracks.status),
                _writeable(class_prob),
                _writeable(hits),
                _writeable(tracks.born_t_s),
                _writeable(last_update),
                _writeable(tracks.confirmed_t_s),
                tracks.next_track_id,
                x0,
                p0,
                t_s,
                cfg.confirm_hits,
                cfg.confirm_window_s,
                cfg.delete_after_s,
                cfg.tentative_delete_after_s,
                self._max_pos_var,
            )
            out = Tracks(
                t_s,
                track_id,
                x,
                p,
                status,
                class_prob,
                hits,
                born,
                last_update,
                confirmed_t,
                next_track_id=next_id,
            )
        else:  # no tracks before or after: the picture is unchanged but for its time
            out = Tracks(
                t_s,
                tracks.track_id,
                x,
                p,
                tracks.status,
                class_prob,
                hits,
                tracks.born_t_s,
                last_update,
                tracks.confirmed_t_s,
                next_track_id=next_id,
            )
            confirmed_ids = deleted_ids = _NO_IDS
        if all_pos:
            det_track_id_all = det_track_id
        else:
            det_track_id_all[use] = det_track_id
        return TrackerStep(
            tracks=out,
            det_track_id=det_track_id_all,
            confirmed_ids=confirmed_ids,
            deleted_ids=deleted_ids,
        )
