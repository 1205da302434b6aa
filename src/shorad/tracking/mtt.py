"""Multi-target tracker for Cartesian position measurements (2-D or 3-D): GNN or JPDA.

This is the tracker of the benchmark interface (``shorad track``, ``bench/``), where a scan is
an unlabelled set of position measurements with known noise, detection probability and clutter
density. One :meth:`CartesianTracker.step` processes one scan:

1. predict every track with the nearly-constant-velocity model (:mod:`shorad.tracking.linear`);
2. gate all confirmed tracks against all measurements at once on a uniform grid and the
   chi-square test (:func:`shorad.tracking.cluster.gate_pairs`);
3. associate the confirmed tracks: GNN (:func:`shorad.tracking.cluster.assign_gnn_sparse`, cost
   ``-ln(w_ij / w_i0)`` with ``w_ij = P_D N(nu; 0, S) / lambda`` and ``w_i0 = 1 - P_D P_G``,
   unpaired cost 0: the most likely joint event) and a Kalman update, or JPDA
   (:func:`shorad.tracking.jpda.jpda_marginals`, exact per small cluster) and the PDA update
   (:func:`shorad.tracking.jpda.pda_update`);
4. associate the tentative tracks with the measurements left (GNN, cost
   :attr:`MttConfig.tentative_cost`), then start a tentative
   track on every measurement still unused (one-point initiation: position from the
   measurement, zero velocity with ``init_speed_sigma_mps`` per axis);
5. management: a tentative track with ``confirm_hits`` updates is confirmed; a confirmed track
   missed ``delete_misses`` scans in a row, or a tentative one missed
   ``tentative_delete_misses`` in a row, is deleted. Track ids are 1, 2, ... in order of birth
   (measurement order within a scan), never reused.

A JPDA track counts as detected on a scan when its probability of detection
``1 - beta_0`` is at least one half; a measurement is used by the confirmed tracks (and starts
no new track) when it is the most likely measurement of a detected track or the sum of its
marginals is at least one half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm
from scipy.special import gammainc, gammaincinv

from shorad.errors import ConfigError, SimulationError
from shorad.tracking.cluster import assign_gnn_sparse, gate_pairs
from shorad.tracking.jpda import jpda_marginals, pda_update
from shorad.tracking.linear import cv_process_noise, cv_transition, kf_predict, kf_update

__all__ = [
    "IMM_MODES",
    "METHODS",
    "TENTATIVE_COSTS",
    "CartesianTracker",
    "MttConfig",
    "MttTracks",
    "inv_logdet_lmax",
]

METHODS = ("gnn", "jpda", "imm-gnn", "imm-jpda")
"""Tracker methods: ``gnn``/``jpda`` run :class:`CartesianTracker`, ``imm-*``
:class:`shorad.tracking.imm.ImmCartesianTracker` (see ``build_cartesian_tracker`` there)."""
TENTATIVE_COSTS = ("likelihood", "mahalanobis")
"""GNN costs for the tentative tracks (:attr:`MttConfig.tentative_cost`)."""
IMM_MODES = ("ncv", "nca", "ct", "ncvh")
"""Motion models an IMM may mix (:mod:`shorad.tracking.motion`)."""


@dataclass(frozen=True, slots=True)
class MttConfig:
    """Settings of :class:`CartesianTracker` (model parameters as in the benchmark header).

    Attributes
    ----------
    dim : int
        Spatial dimension, 2 or 3.
    q_m2ps3 : float
        White acceleration noise spectral density per axis (m^2/s^3).
    R_m2 : (dim, dim) float64
        Measurement covariance (m^2).
    pd : float
        Detection probability, in (0, 1].
    clutter_density : float
        Clutter spatial density (false measurements per m^dim per scan), > 0.
    method : str
        ``"gnn"`` or ``"jpda"`` for the confirmed tracks.
    gate_probability : float
        Chi-square gate mass (dim degrees of freedom).
    init_speed_sigma_mps : float
        Velocity prior (m/s, one sigma per axis, zero mean) of a new track.
    confirm_hits : int
        Updates (first one included) that confirm a tentative track.
    delete_misses : int
        Consecutive missed scans that delete a confirmed track.
    tentative_delete_misses : int
        Consecutive missed scans that delete a tentative track.
    jpda_max_events : int
        Largest cluster (in joint events) enumerated exactly by JPDA.
    tentative_cost : str
        GNN cost of the tentative tracks (:class:`CartesianTracker` only). ``"likelihood"``
        (default): ``-ln(w_ij / w_i0)``, the most likely joint event under the model.
        ``"mahalanobis"``: the Mahalanobis distance ``d_ij`` with a missed track costing the
        gate distance ``sqrt(gate_d2)``, i.e. Stone Soup's ``MultiMeasurementInitiator`` with
        ``GNNWith2DAssignment`` on a ``DistanceHypothesiser`` (for like-for-like comparisons).
    imm_modes : tuple of str
        Models of the IMM (``imm-*`` methods), a non-empty subset of :data:`IMM_MODES`
        (``ncvh``: a second, high-noise NCV with ``imm_ncvh_q_m2ps3``); the
        ``ncv`` model uses ``q_m2ps3``.
    imm_switch : tuple of tuples of float or None
        Markov switching matrix per scan ``PI[i, j]`` (rows sum to 1), in ``imm_modes`` order;
        ``None``: ``imm_p_stay`` on the diagonal, the rest spread evenly.
    imm_p_stay : float
        Probability of staying in a model from one scan to the next (when ``imm_switch`` and
        ``imm_sojourn_s`` are None).
    imm_sojourn_s : tuple of float or None
        Expected sojourn time (s) in each model, in ``imm_modes`` order; when given (and
        ``imm_switch`` is None) the switching matrix of a scan of ``T`` s is that of a
        continuous-time Markov chain, ``PI(T) = expm(Lambda T)`` with leaving rate
        ``1 / sojourn`` spread evenly over the other models, so it follows the scan period.
    imm_ncvh_q_m2ps3 : float
        Acceleration spectral density of the ``ncvh`` model (m^2/s^3).
    imm_unequal_mixing : bool
        Mix the components a model does not carry (NCV: acceleration and turn rate; NCA: turn
        rate; CT: acceleration) with the receiving model's own estimate instead of the zero a
        model resets them to (see :func:`shorad.tracking.imm.imm_mix`).
    imm_mixture_likelihood : bool
        Score (GNN cost, JPDA weight) an IMM track's pairs with the IMM's own predictive
        density, the mixture ``sum_j c_j N(z; H x_j, S_j)`` of the model-matched predictions,
        instead of one Gaussian moment-matched to it (the gate stays on the moment-matched
        prediction).
    imm_nca_q_m2ps5 : float
        Jerk spectral density of the ``nca`` model (m^2/s^5).
    imm_ct_q_m2ps3 : float
        Acceleration spectral density of the ``ct`` model (m^2/s^3).
    imm_ct_turn_q_rad2ps3 : float
        Turn-rate random-walk density of the ``ct`` model (rad^2/s^3).
    imm_init_accel_sigma_mps2 : float
        Acceleration prior (m/s^2 per axis, zero mean) of a new IMM track.
    imm_init_turn_sigma_radps : float
        Turn-rate prior (rad/s, zero mean) of a new IMM track.
    """

    dim: int = 2
    q_m2ps3: float = 0.5
    R_m2: NDArray[np.float64] = field(default_factory=lambda: 9.0 * np.eye(2))
    pd: float = 0.9
    clutter_density: float = 2.5e-6
    method: str = "gnn"
    gate_probability: float = 0.9999
    init_speed_sigma_mps: float = 10.0
    confirm_hits: int = 3
    delete_misses: int = 4
    tentative_delete_misses: int = 2
    jpda_max_events: int = 10_000
    tentative_cost: str = "likelihood"
    imm_modes: tuple[str, ...] = ("ncv", "nca", "ct")
    imm_switch: tuple[tuple[float, ...], ...] | None = None
    imm_p_stay: float = 0.9
    imm_sojourn_s: tuple[float, ...] | None = None
    imm_ncvh_q_m2ps3: float = 8.0
    imm_unequal_mixing: bool = False
    imm_mixture_likelihood: bool = False
    imm_nca_q_m2ps5: float = 1.0
    imm_ct_q_m2ps3: float = 0.5
    imm_ct_turn_q_rad2ps3: float = 0.01
    imm_init_accel_sigma_mps2: float = 2.0
    imm_init_turn_sigma_radps: float = 0.3

    def switching(self, dt_s: float | None = None) -> NDArray[np.float64]:
        """The IMM's Markov switching matrix (r, r), ``r = len(imm_modes)``, for one scan.

        ``dt_s`` (s) is the scan period, used (and needed) only with ``imm_sojourn_s``; without
        it the matrix is that of a 1 s period.
        """
        r = len(self.imm_modes)
        if self.imm_switch is not None:
            return np.asarray(self.imm_switch, dtype=np.float64)
        if r == 1:
            return np.ones((1, 1))
        if self.imm_sojourn_s is not None:
            rate = 1.0 / np.asarray(self.imm_sojourn_s, dtype=np.float64)
            gen = np.repeat((rate / (r - 1))[:, None], r, axis=1)
            np.fill_diagonal(gen, -rate)
            out = np.asarray(expm(gen * (1.0 if dt_s is None else dt_s)), dtype=np.float64)
            out = np.maximum(out, 0.0)
            norm: NDArray[np.float64] = out / out.sum(axis=1, keepdims=True)
            return norm
        out = np.full((r, r), (1.0 - self.imm_p_stay) / (r - 1))
        np.fill_diagonal(out, self.imm_p_stay)
        return out

    def __post_init__(self) -> None:
        r = np.asarray(self.R_m2, dtype=np.float64)
        checks = (
            ("dim", self.dim in (2, 3), "2 or 3"),
            ("q_m2ps3", self.q_m2ps3 >= 0.0, ">= 0 m^2/s^3"),
            ("pd", 0.0 < self.pd <= 1.0, "in (0, 1]"),
            ("clutter_density", self.clutter_density > 0.0, "> 0 per m^dim"),
            ("method", self.method in METHODS, f"one of {METHODS}"),
            ("gate_probability", 0.0 < self.gate_probability < 1.0, "in (0, 1)"),
            ("init_speed_sigma_mps", self.init_speed_sigma_mps > 0.0, "> 0 m/s"),
            ("confirm_hits", self.confirm_hits >= 1, ">= 1"),
            ("delete_misses", self.delete_misses >= 1, ">= 1"),
            ("tentative_delete_misses", self.tentative_delete_misses >= 1, ">= 1"),
            ("jpda_max_events", self.jpda_max_events >= 1, ">= 1"),
            (
                "tentative_cost",
                self.tentative_cost in TENTATIVE_COSTS,
                f"one of {TENTATIVE_COSTS}",
            ),
            (
                "imm_modes",
                len(self.imm_modes) >= 1
                and len(set(self.imm_modes)) == len(self.imm_modes)
                and set(self.imm_modes) <= set(IMM_MODES),
                f"distinct names from {IMM_MODES}",
            ),
            ("imm_p_stay", 0.0 <= self.imm_p_stay <= 1.0, "in [0, 1]"),
            ("imm_nca_q_m2ps5", self.imm_nca_q_m2ps5 >= 0.0, ">= 0 m^2/s^5"),
            ("imm_ct_q_m2ps3", self.imm_ct_q_m2ps3 >= 0.0, ">= 0 m^2/s^3"),
            ("imm_ncvh_q_m2ps3", self.imm_ncvh_q_m2ps3 >= 0.0, ">= 0 m^2/s^3"),
            (
                "imm_sojourn_s",
                self.imm_sojourn_s is None
                or (
                    len(self.imm_sojourn_s) == len(self.imm_modes)
                    and all(v > 0.0 for v in self.imm_sojourn_s)
                ),
                "None or one sojourn time > 0 s per model",
            ),
            ("imm_ct_turn_q_rad2ps3", self.imm_ct_turn_q_rad2ps3 >= 0.0, ">= 0 rad^2/s^3"),
            ("imm_init_accel_sigma_mps2", self.imm_init_accel_sigma_mps2 > 0.0, "> 0 m/s^2"),
            ("imm_init_turn_sigma_radps", self.imm_init_turn_sigma_radps > 0.0, "> 0 rad/s"),
        )
        for name, ok, want in checks:
            if not ok:
                raise ConfigError(
                    f"must be {want}, got {getattr(self, name)!r}", field=f"MttConfig.{name}"
                )
        if r.shape != (self.dim, self.dim) or not np.all(np.isfinite(r)):
            raise ConfigError(
                f"must be a finite {self.dim}x{self.dim} matrix, got shape {r.shape}",
                field="MttConfig.R_m2",
            )
        if not np.allclose(r, r.T) or np.linalg.eigvalsh(r).min() <= 0.0:
            raise ConfigError("must be symmetric positive definite", field="MttConfig.R_m2")
        k = len(self.imm_modes)
        pi = self.switching()
        if pi.shape != (k, k) or not np.all(pi >= 0.0) or not np.allclose(pi.sum(axis=1), 1.0):
            raise ConfigError(
                f"must be a {k}x{k} matrix of probabilities with rows summing to 1, got "
                f"{pi.tolist()}",
                field="MttConfig.imm_switch",
            )


@dataclass(frozen=True, slots=True)
class MttTracks:
    """All live tracks of :class:`CartesianTracker` at ``t_s`` (one row per track).

    Attributes
    ----------
    t_s : float
        Time of the estimates (s).
    track_id : (m,) int64
        Ids, 1, 2, ... in order of birth.
    x : (m, 2 dim) float64
        ``[positions (m), velocities (m/s)]``.
    P : (m, 2 dim, 2 dim) float64
        Covariances.
    confirmed : (m,) bool
        Confirmed (else tentative).
    hits : (m,) int32
        Updates so far.
    misses : (m,) int32
        Consecutive missed scans.
    born_t_s : (m,) float64
        Time of the first measurement.
    next_track_id : int
        Id of the next new track.
    """

    t_s: float
    track_id: NDArray[np.int64]
    x: NDArray[np.float64]
    P: NDArray[np.float64]
    confirmed: NDArray[np.bool_]
    hits: NDArray[np.int32]
    misses: NDArray[np.int32]
    born_t_s: NDArray[np.float64]
    next_track_id: int = 1

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    @classmethod
    def empty(cls, dim: int, t_s: float = 0.0) -> MttTracks:
        """No tracks."""
        k = 2 * dim
        return cls(
            t_s,
            np.zeros(0, np.int64),
            np.zeros((0, k)),
            np.zeros((0, k, k)),
            np.zeros(0, np.bool_),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
        )


def inv_logdet_lmax(
    S: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Inverse, ``ln det`` and largest eigenvalue of SPD ``S`` (m, d, d)."""
    if S.shape[1] == 2:
        a, b, c = S[:, 0, 0], S[:, 0, 1], S[:, 1, 1]
        det = a * c - b * b
        inv = np.empty_like(S)
        inv[:, 0, 0] = c / det
        inv[:, 1, 1] = a / det
        inv[:, 0, 1] = inv[:, 1, 0] = -b / det
        half_tr = 0.5 * (a + c)
        lmax = half_tr + np.sqrt(np.maximum(half_tr * half_tr - det, 0.0))
        return inv, np.log(det), lmax
    inv3 = np.asarray(np.linalg.inv(S), dtype=np.float64)
    logdet = np.asarray(np.linalg.slogdet(S)[1], dtype=np.float64)
    lmax3 = np.asarray(np.linalg.eigvalsh(S)[:, -1], dtype=np.float64)
    return inv3, logdet, lmax3


class CartesianTracker:
    """GNN or JPDA multi-target tracker on Cartesian positions (see the module docstring).

    Configuration is fixed at construction; :meth:`step` is a pure function of its inputs.

    Parameters
    ----------
    config : MttConfig
        Model, gate, association and track management settings.
    """

    __slots__ = ("_R", "_cfg", "_gate_d2", "_log_norm", "_pg")

    def __init__(self, config: MttConfig) -> None:
        if config.method not in ("gnn", "jpda"):
            raise ConfigError(
                f"CartesianTracker runs 'gnn' or 'jpda', got {config.method!r} (IMM methods: "
                "shorad.tracking.imm.build_cartesian_tracker)",
                field="MttConfig.method",
            )
        self._cfg = config
        d = config.dim
        self._R = np.asarray(config.R_m2, dtype=np.float64)
        self._gate_d2 = float(2.0 * gammaincinv(0.5 * d, config.gate_probability))
        self._pg = float(gammainc(0.5 * d, 0.5 * self._gate_d2))
        # ln of P_D / ((2 pi)^(d/2) lambda): the pair weight is this * exp(-d2/2) / sqrt(det S).
        self._log_norm = math.log(config.pd) - 0.5 * d * math.log(2.0 * math.pi)
        self._log_norm -= math.log(config.clutter_density)

    @property
    def config(self) -> MttConfig:
        """The tracker's settings."""
        return self._cfg

    def initial(self, t_s: float = 0.0) -> MttTracks:
        """An empty picture at ``t_s`` (s)."""
        return MttTracks.empty(self._cfg.dim, t_s)

    def step(self, tracks: MttTracks, z: NDArray[np.float64], t_s: float) -> MttTracks:
        """Process one scan of position measurements ``z`` (n, dim) taken at ``t_s`` (s).

        Raises
        ------
        SimulationError
            If ``t_s`` is before ``tracks.t_s``.
        """
        cfg = self._cfg
        d = cfg.dim
        dt_s = float(t_s) - tracks.t_s
        if dt_s < 0.0:
            raise SimulationError(
                f"CartesianTracker.step: scan time {t_s} s is before the tracks' {tracks.t_s} s"
            )
        n = z.shape[0]
        x, p = tracks.x, tracks.P
        if len(tracks) and dt_s > 0.0:
            x, p = kf_predict(x, p, cv_transition(d, dt_s), cv_process_noise(d, dt_s, cfg.q_m2ps3))
        hits = tracks.hits.copy()
        misses = tracks.misses + 1
        used = np.zeros(n, np.bool_)
        if len(tracks) and n:
            s = p[:, :d, :d] + self._R
            s_inv, log_det, lmax = inv_logdet_lmax(s)
            radius = np.sqrt(self._gate_d2 * lmax)
            conf = np.flatnonzero(tracks.confirmed)
            x, p = self._associate(conf, x, p, z, s, s_inv, log_det, radius, used, hits, misses)
            tent = np.flatnonzero(~tracks.confirmed)
            free = np.flatnonzero(~used)
            if tent.size and free.size:
                sub_used = np.zeros(free.size, np.bool_)
                x, p = self._associate(
                    tent, x, p, z[free], s, s_inv, log_det, radius, sub_used, hits, misses, True
                )
                used[free[sub_used]] = True
        # Births: a tentative track on every measurement still unused.
        new_j = np.flatnonzero(~used)
        k = new_j.size
        x0 = np.zeros((k, 2 * d))
        x0[:, :d] = z[new_j]
        p0 = np.zeros((k, 2 * d, 2 * d))
        p0[:, :d, :d] = self._R
        p0[:, np.arange(d, 2 * d), np.arange(d, 2 * d)] = cfg.init_speed_sigma_mps**2
        track_id = np.concatenate(
            [tracks.track_id, tracks.next_track_id + np.arange(k, dtype=np.int64)]
        )
        x = np.concatenate([x, x0])
        p = np.concatenate([p, p0])
        hits = np.concatenate([hits, np.ones(k, np.int32)])
        misses = np.concatenate([misses, np.zeros(k, np.int32)])
        born = np.concatenate([tracks.born_t_s, np.full(k, float(t_s))])
        confirmed = np.concatenate([tracks.confirmed, np.zeros(k, np.bool_)])
        # Management.
        confirmed = confirmed | (hits >= cfg.confirm_hits)
        limit = np.where(confirmed, cfg.delete_misses, cfg.tentative_delete_misses)
        keep = misses < limit
        return MttTracks(
            float(t_s),
            track_id[keep],
            x[keep],
            p[keep],
            confirmed[keep],
            hits[keep],
            misses[keep],
            born[keep],
            tracks.next_track_id + k,
        )

    def _associate(
        self,
        rows: NDArray[np.int64],
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        z: NDArray[np.float64],
        s: NDArray[np.float64],
        s_inv: NDArray[np.float64],
        log_det: NDArray[np.float64],
        radius: NDArray[np.float64],
        used: NDArray[np.bool_],
        hits: NDArray[np.int32],
        misses: NDArray[np.int32],
        force_gnn: bool = False,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Associate tracks ``rows`` with ``z`` and update them; marks ``used``, hits, misses."""
        d = self._cfg.dim
        n = z.shape[0]
        if rows.size == 0 or n == 0:
            return x, p
        pt, pm, d2, nu = gate_pairs(x[rows, :d], s_inv[rows], radius[rows], z, self._gate_d2)
        if pt.size == 0:
            return x, p
        if force_gnn or self._cfg.method == "gnn":
            if force_gnn and self._cfg.tentative_cost == "mahalanobis":
                # sum of distances, a miss costing the gate distance (unpaired costs 0).
                cost = np.sqrt(d2) - math.sqrt(self._gate_d2)
            else:
                # -ln(w_ij / w_i0): the most likely joint event (unpaired costs 0).
                miss_w = 1.0 - self._cfg.pd * self._pg
                cost = 0.5 * (d2 + log_det[rows[pt]]) - self._log_norm + math.log(miss_w)
            sel = assign_gnn_sparse(pt, pm, cost, rows.size, n, 0.0)
            ti = rows[pt[sel]]
            x = x.copy()
            p = p.copy()
            x[ti], p[ti] = kf_update(x[ti], p[ti], z[pm[sel]], self._R)
            hits[ti] += 1
            misses[ti] = 0
            used[pm[sel]] = True
            return x, p
        # JPDA.
        m_r = rows.size
        w = np.exp(self._log_norm - 0.5 * d2 - 0.5 * log_det[rows[pt]])
        w0 = np.full(m_r, 1.0 - self._cfg.pd * self._pg)
        beta, beta0, _ = jpda_marginals(pt, pm, w, w0, n, self._cfg.jpda_max_events)
        detected = (1.0 - beta0) >= 0.5
        # PDA update of the tracks with pairs (Bar-Shalom, Willett & Tian (2011) §6.4).
        x, p = pda_update(x, p, s, s_inv, rows, pt, nu, beta, beta0)
        det_rows = rows[detected]
        hits[det_rows] += 1
        misses[det_rows] = 0
        # Measurements used: best of a detected track, or total marginal >= 0.5.
        order = np.lexsort((-beta, pt))
        first = np.ones(order.size, np.bool_)
        first[1:] = pt[order[1:]] != pt[order[:-1]]
        best = order[first]
        best = best[detected[pt[best]]]
        used[pm[best]] = True
        used |= np.bincount(pm, beta, minlength=n) >= 0.5
        return x, p
