"""JPDA, IMM-GNN and IMM-JPDA trackers for the simulation's polar (and partial) detections.

:class:`PolarImmTracker` satisfies the simulation's :class:`~shorad.tracking.factory.Tracker`
protocol, with the detections, track management and class belief of
:class:`shorad.tracking.gnn.GnnTracker`, and every track an interacting multiple model (IMM)
estimator over ``r`` nearly-constant-velocity (NCV) models that differ in their process noise
(the "two-level" NCV pair that won on the real quadcopter flights, ``docs/tracking.md``;
Bar-Shalom, Li & Kirubarajan (2001) §11.6.7). Plain JPDA is the one-model case (no mixing;
the model is the NCV of ``TrackerConfig.q_mps2``). One :meth:`PolarImmTracker.step` per scan:

1. **IMM mixing and prediction** (Blom & Bar-Shalom (1988); Bar-Shalom et al. (2001) §11.6.6):
   ``c_j = sum_i PI_ij mu_i``, mixed moments (:func:`shorad.tracking.imm.imm_mix`), each model
   predicts its mixed estimate with its own NCV noise. ``PI`` is the switching matrix over the
   scan interval of a continuous-time Markov chain with expected sojourn times ``tau_i`` (leaving
   rate ``1 / tau_i`` spread evenly over the other models): ``PI(T) = expm(Lambda T)``, so it
   follows the asynchronous scan intervals of several sensors (``PI(0) = I``).
2. **Gating on the combined prediction** (moment-matched ``x``, ``P`` of the predicted models):
   the polar chi-square gate (3 dof) of :func:`shorad.tracking.gnn.gate_distances` on the
   detections with a full 3-D position.
3. **Association.**
   *GNN* (``imm-gnn``): every track, as in :class:`~shorad.tracking.gnn.GnnTracker`
   (:func:`scipy.optimize.linear_sum_assignment` on ``d2 + ln det S``, most in-gate pairs
   first); each model then takes the EKF update with the assigned detection
   (mode-matched), and ``mu_j = c_j L_j / sum_l c_l L_l`` with ``L_j = N(nu_j; 0, S_j)`` of
   model ``j``'s own innovation.
   *JPDA* (``jpda``, ``imm-jpda``): the confirmed tracks share the scan through JPDA
   marginals ``beta`` computed on the combined prediction (:mod:`shorad.tracking.polar_jpda`:
   nonparametric clutter density per cluster, ``P_D`` from :class:`PolarTrackerConfig`, exact
   per cluster up to ``jpda_max_events`` joint events, belief propagation above); each model
   takes the PDA update with those marginals (mixture of its per-detection EKF updates, spread
   of the means included), and ``mu_j = c_j (beta_0 + sum_k beta_k L_jk / Lbar_k)``,
   ``Lbar_k = sum_l c_l L_lk``: the model posterior averaged over the association events (as
   the Cartesian :class:`shorad.tracking.imm.ImmCartesianTracker`). Tentative tracks then take
   the detections left over (total marginal below ``used_probability``) by GNN, as in the
   Cartesian benchmark tracker: the JPDA is for established tracks, initiation stays
   one-point / M-of-N.
4. **Range rate** of a position detection, where measured, is a sequential scalar EKF update
   after the position update of the same hypothesis, in every model, and its likelihood enters
   the model probabilities. Gating and the JPDA weights use the position only (as GnnTracker).
5. **Partial detections** (angle-only, bearing-only, with or without range rate) update the
   tracks that existed before the scan, as in GnnTracker: one GNN per (sensor, measured
   components) group, ascending, gated on the combined estimate
   (:func:`shorad.tracking.partial.assign_partial`); the update itself is mode-matched (every
   model updated with its own linearisation, model probabilities from the partial
   measurement's likelihood). They never start tracks.
6. **Class belief** (:func:`shorad.tracking.gnn.classify_by_speed` on the combined estimate,
   uniform until a second hit), **initiation** (one-point, :func:`shorad.tracking.kalman.
   initiate`, every model alike, model probabilities ``imm_prior``) from the full-position
   detections that no track took, and **management**
   (:func:`shorad.tracking.gnn.track_management`: M-of-N in time, deletion), exactly as
   GnnTracker. A JPDA track counts a hit (and renews ``last_update_t_s``) when its probability
   of having been detected, ``1 - beta_0``, is at least ``used_probability``.

The picture handed to C2 holds the combined moments (``Tracks.x``, ``Tracks.P``, 6-D), so the
rest of the chain is unchanged; with several models the tracker returns
:class:`ImmPolarTracks`, a :class:`~shorad.tracking.base.Tracks` that also carries the model
probabilities and model-matched moments from one scan to the next. Given a plain ``Tracks``
(e.g. one rebuilt by a caller) it restarts every track's models from the combined moments and
``imm_prior``.

Plain numpy, deterministic (no random numbers; ties broken by row order).

References
----------
.. [1] H. A. P. Blom, Y. Bar-Shalom, "The interacting multiple model algorithm for systems with
   Markovian switching coefficients", IEEE Trans. Automatic Control 33(8), 780-783, 1988.
.. [2] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001 (ch. 10 EKF, §11.6.6 IMM, §11.6.7 two-level NCV design).
.. [3] Y. Bar-Shalom, P. Willett, X. Tian, *Tracking and Data Fusion*, YBS Publishing, 2011
   (ch. 6 JPDA, §6.4 and ch. 7 IMM-JPDA).
.. [4] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech House,
   1999 (ch. 4 IMM in practice, ch. 6 gating and association).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaincinv

from shorad._contract import check_array
from shorad.errors import ConfigError
from shorad.sensors.base import AZ, Detections
from shorad.tracking._kernels import classify_kernel, gate_kernel, predict_kernel
from shorad.tracking.base import CONFIRMED, TENTATIVE, Tracks
from shorad.tracking.gnn import (
    TrackerConfig,
    TrackerStep,
    class_speed_arrays,
    gated_cost,
    scan_interval,
    track_management,
)
from shorad.tracking.imm import imm_combine, imm_mix
from shorad.tracking.kalman import initiate
from shorad.tracking.partial import assign_partial
from shorad.tracking.polar_jpda import ekf_update, pda_combine, polar_jpda_marginals
from shorad.tracking.polar_jpda import update_with_detections as _update_full

__all__ = [
    "POLAR_METHODS",
    "ImmPolarTracks",
    "PolarImmTracker",
    "PolarTrackerConfig",
    "sojourn_switching",
]

POLAR_METHODS = ("jpda", "imm-gnn", "imm-jpda")
"""Methods :class:`PolarImmTracker` implements."""
_OUT_OF_GATE_COST = 1e9


@dataclass(frozen=True, slots=True)
class PolarTrackerConfig:
    """Settings of :class:`PolarImmTracker` beyond :class:`~shorad.tracking.gnn.TrackerConfig`.

    Attributes
    ----------
    pd : float
        Detection probability ``P_D`` assumed by the JPDA weights, in (0, 1]. Illustrative
        (a radar's Pd varies with range and RCS; the tracker does not see it).
    used_probability : float
        A detection whose summed JPDA marginal over the confirmed tracks is below this is free
        for a tentative track or a new one; a JPDA track counts a hit when ``1 - beta_0`` is at
        least this. In (0, 1).
    jpda_max_events : int
        Exact JPDA enumeration for clusters of at most this many joint events (upper bound
        ``prod (1 + gated detections)``); loopy belief propagation above.
    imm_q_mps2 : tuple of float
        Acceleration noise level (m/s^2, spectral density ``q**2`` m^2/s^3, as
        ``TrackerConfig.q_mps2``) of each NCV model of the IMM variants; at least two. The
        default pairs a quiet model (0.25 m/s^2: the quiet NCV of the quadcopter study,
        q = 0.05-0.1 m^2/s^3) with a loud one for turns and dives (3 m/s^2).
    imm_sojourn_s : tuple of float
        Expected sojourn time (s) in each model (10 s: the quadcopter study's choice).
    imm_prior : tuple of float or None
        Model probabilities of a new track; None: uniform.
    """

    pd: float = 0.9
    used_probability: float = 0.5
    jpda_max_events: int = 10_000
    imm_q_mps2: tuple[float, ...] = (0.25, 3.0)
    imm_sojourn_s: tuple[float, ...] = (10.0, 10.0)
    imm_prior: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        r = len(self.imm_q_mps2)
        prior_ok = self.imm_prior is None or (
            len(self.imm_prior) == r
            and all(p >= 0.0 for p in self.imm_prior)
            and math.isclose(sum(self.imm_prior), 1.0, abs_tol=1e-9)
        )
        checks = (
            ("pd", 0.0 < self.pd <= 1.0, "in (0, 1]"),
            ("used_probability", 0.0 < self.used_probability < 1.0, "in (0, 1)"),
            ("jpda_max_events", self.jpda_max_events >= 1, ">= 1"),
            (
                "imm_q_mps2",
                r >= 2 and all(q >= 0.0 for q in self.imm_q_mps2),
                "at least two levels, each >= 0 m/s^2",
            ),
            (
                "imm_sojourn_s",
                len(self.imm_sojourn_s) == r and all(s > 0.0 for s in self.imm_sojourn_s),
                f"{r} sojourn times (one per model), each > 0 s",
            ),
            ("imm_prior", prior_ok, f"None or {r} probabilities summing to 1"),
        )
        for name, ok, want in checks:
            if not ok:
                raise ConfigError(
                    f"must be {want}, got {getattr(self, name)!r}",
                    field=f"PolarTrackerConfig.{name}",
                )


def sojourn_switching(sojourn_s: Sequence[float], dt_s: float) -> NDArray[np.float64]:
    """Markov switching matrix over ``dt_s`` from expected sojourn times.

    ``PI(T) = expm(Lambda T)`` with generator ``Lambda_ii = -1 / tau_i`` and
    ``Lambda_ij = 1 / (tau_i (r - 1))`` (leaving model ``i`` at rate ``1 / tau_i``, to any other
    alike): a continuous-time chain, so ``PI(a + b) = PI(a) PI(b)`` and ``PI(0) = I``.

    Parameters
    ----------
    sojourn_s : sequence of float, length r >= 2
        Expected sojourn times ``tau_i`` (s), > 0.
    dt_s : float
        Interval (s), >= 0.

    Returns
    -------
    (r, r) float64
        ``PI[i, j] = P(model j at t + dt | model i at t)``, rows sum to 1.
    """
    rate = 1.0 / np.asarray(sojourn_s, dtype=np.float64)
    r = rate.size
    gen = np.repeat((rate / (r - 1))[:, None], r, axis=1)
    np.fill_diagonal(gen, -rate)
    out = np.maximum(np.asarray(expm(gen * dt_s), dtype=np.float64), 0.0)
    norm: NDArray[np.float64] = out / out.sum(axis=1, keepdims=True)
    return norm


@dataclass(frozen=True, slots=True, kw_only=True)
class ImmPolarTracks(Tracks):
    """:class:`~shorad.tracking.base.Tracks` plus each track's IMM models.

    ``x`` and ``P`` are the combined (moment-matched) estimate; C2 reads only those.

    Attributes
    ----------
    mu : (m, r) float64
        Model probabilities (rows sum to 1).
    xm : (m, r, 6) float64
        Model-matched states (m, m/s).
    Pm : (m, r, 6, 6) float64
        Model-matched covariances.
    """

    mu: NDArray[np.float64]
    xm: NDArray[np.float64]
    Pm: NDArray[np.float64]

    def __post_init__(self) -> None:
        Tracks.__post_init__(self)
        m = len(self)
        check_array("ImmPolarTracks", "mu", self.mu, np.float64, (m, None))
        r = self.mu.shape[1]
        check_array("ImmPolarTracks", "xm", self.xm, np.float64, (m, r, 6))
        check_array("ImmPolarTracks", "Pm", self.Pm, np.float64, (m, r, 6, 6))

    @classmethod
    def from_tracks(
        cls,
        tracks: Tracks,
        mu: NDArray[np.float64],
        xm: NDArray[np.float64],
        Pm: NDArray[np.float64],
    ) -> ImmPolarTracks:
        """``tracks``' fields (the combined estimate and bookkeeping) with these models."""
        base = {f.name: getattr(tracks, f.name) for f in fields(Tracks)}
        return cls(**base, mu=mu, xm=xm, Pm=Pm)

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> ImmPolarTracks:
        """Subset of rows (index or boolean mask), same time and id counter."""
        return ImmPolarTracks.from_tracks(
            Tracks.take(self, idx), self.mu[idx], self.xm[idx], self.Pm[idx]
        )


@dataclass(slots=True)
class _Scan:
    """Working arrays of one step (local to :meth:`PolarImmTracker.step`, never returned)."""

    t_s: float
    track_id: NDArray[np.int64]
    c: NDArray[np.float64]  # predicted model probabilities (m, r)
    mu: NDArray[np.float64]  # model probabilities, updated in place (m, r)
    xm: NDArray[np.float64]
    pm: NDArray[np.float64]
    hits: NDArray[np.int32]
    last_update: NDArray[np.float64]
    z: NDArray[np.float64]  # full-position detections (n, 4)
    R: NDArray[np.float64]
    spos: NDArray[np.float64]
    det_track_id: NDArray[np.int64]  # (n,)
    free: NDArray[np.bool_]  # (n,) not taken by any track


class PolarImmTracker:
    """JPDA, IMM-GNN or IMM-JPDA tracker on polar detections (see the module docstring).

    Configuration is fixed at construction; :meth:`step` is a pure function of its inputs.

    Parameters
    ----------
    method : str
        ``jpda``, ``imm-gnn`` or ``imm-jpda``.
    config : TrackerConfig
        Gate, initiation and management settings shared with GnnTracker (``q_mps2`` is the
        single model of ``jpda``).
    class_speed_mps, class_speed_sigma_mps : sequence of float, length C
        Typical speed and its spread (m/s) of each threat class.
    polar : PolarTrackerConfig, optional
        Detection probability, JPDA and IMM settings (defaults if omitted).
    """

    __slots__ = (
        "_class_sigma",
        "_class_speed",
        "_config",
        "_gate_d2",
        "_jpda",
        "_method",
        "_polar",
        "_prior",
        "_q",
        "_switch_cache",
    )

    def __init__(
        self,
        method: str,
        config: TrackerConfig,
        class_speed_mps: Sequence[float],
        class_speed_sigma_mps: Sequence[float],
        polar: PolarTrackerConfig | None = None,
    ) -> None:
        if method not in POLAR_METHODS:
            raise ConfigError(
                f"must be one of {POLAR_METHODS}, got {method!r}", field="tracker.method"
            )
        self._class_speed, self._class_sigma = class_speed_arrays(
            "PolarImmTracker", class_speed_mps, class_speed_sigma_mps
        )
        polar = PolarTrackerConfig() if polar is None else polar
        self._method = method
        self._config = config
        self._polar = polar
        self._jpda = method in ("jpda", "imm-jpda")
        self._q = (config.q_mps2,) if method == "jpda" else tuple(polar.imm_q_mps2)
        r = len(self._q)
        prior = polar.imm_prior if (polar.imm_prior is not None and r > 1) else None
        self._prior = np.full(r, 1.0 / r) if prior is None else np.array(prior, np.float64)
        self._gate_d2 = float(2.0 * gammaincinv(1.5, config.gate_probability))
        self._switch_cache: dict[float, NDArray[np.float64]] = {}

    @property
    def config(self) -> TrackerConfig:
        """Gate, initiation and management settings."""
        return self._config

    @property
    def polar_config(self) -> PolarTrackerConfig:
        """JPDA and IMM settings."""
        return self._polar

    @property
    def method(self) -> str:
        """``jpda``, ``imm-gnn`` or ``imm-jpda``."""
        return self._method

    @property
    def n_models(self) -> int:
        """Number of motion models ``r`` (1 for ``jpda``)."""
        return len(self._q)

    @property
    def n_classes(self) -> int:
        """Number of threat classes ``C``."""
        return int(self._class_speed.size)

    @property
    def gate_d2(self) -> float:
        """Gate threshold on the squared Mahalanobis distance (chi-square 3 dof quantile)."""
        return self._gate_d2

    def initial(self, t_s: float = 0.0) -> Tracks:
        """An empty picture at ``t_s`` (s)."""
        empty = Tracks.empty(self.n_classes, t_s=t_s)
        return self._wrap(
            empty,
            np.zeros((0, self.n_models)),
            np.zeros((0, self.n_models, 6)),
            np.zeros((0, self.n_models, 6, 6)),
        )

    def _wrap(
        self,
        tracks: Tracks,
        mu: NDArray[np.float64],
        xm: NDArray[np.float64],
        pm: NDArray[np.float64],
    ) -> Tracks:
        """``tracks`` as :class:`ImmPolarTracks` with the models (plain Tracks for one model)."""
        if self.n_models == 1:
            return tracks
        return ImmPolarTracks.from_tracks(tracks, mu, xm, pm)

    def _models(
        self, tracks: Tracks
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Model probabilities and moments of ``tracks`` (restarted if it carries none)."""
        r = self.n_models
        if isinstance(tracks, ImmPolarTracks) and tracks.mu.shape[1] == r:
            return tracks.mu, tracks.xm, tracks.Pm
        m = len(tracks)
        return (
            np.tile(self._prior, (m, 1)),
            np.repeat(tracks.x[:, None], r, axis=1),
            np.repeat(tracks.P[:, None], r, axis=1),
        )

    def _switching(self, dt_s: float) -> NDArray[np.float64]:
        """Switching matrix over ``dt_s`` (cached per interval; a pure function of it)."""
        out = self._switch_cache.get(dt_s)
        if out is None:
            out = sojourn_switching(self._polar.imm_sojourn_s, dt_s)
            self._switch_cache[dt_s] = out
        return out

    def _combine(
        self, mu: NDArray[np.float64], xm: NDArray[np.float64], pm: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Combined moments (m, 6), (m, 6, 6)."""
        if self.n_models == 1:
            return xm[:, 0], pm[:, 0]
        return imm_combine(mu, xm, pm)

    def step(self, tracks: Tracks, dets: Detections, t_s: float) -> TrackerStep:
        """Process one sensor scan.

        Parameters
        ----------
        tracks : Tracks
            Picture from the previous step (at ``tracks.t_s <= t_s``); with several models,
            normally the :class:`ImmPolarTracks` this tracker returned.
        dets : Detections
            One scan's detections (possibly empty), taken at ``t_s``; ``truth_id`` is never
            read.
        t_s : float
            Scan time (s).

        Returns
        -------
        TrackerStep
            ``tracks`` at ``t_s`` (:class:`ImmPolarTracks` with several models), the track each
            detection updated most probably or started (``-1``: a partial detection in no
            gate), and the ids confirmed and deleted in this step.

        Raises
        ------
        SimulationError
            If ``t_s`` is earlier than ``tracks.t_s`` or ``tracks`` has another class count.
        """
        cfg = self._config
        t_s = float(t_s)
        dt_s = scan_interval("PolarImmTracker", tracks, t_s, self.n_classes)
        m = len(tracks)
        mu, xm, pm = self._models(tracks)
        if m and dt_s > 0.0:
            if self.n_models > 1:
                mu, xm, pm = imm_mix(mu, xm, pm, self._switching(dt_s))
            preds = [
                predict_kernel(xm[:, j], pm[:, j], dt_s, q) for j, q in enumerate(self._q)
            ]  # compiled kalman.predict (tested against it)
            xm = np.stack([p[0] for p in preds], axis=1)
            pm = np.stack([p[1] for p in preds], axis=1)
        finite = np.isfinite(dets.z)
        has_pos = finite[:, 0] & finite[:, 1] & finite[:, 2]
        use = np.flatnonzero(has_pos)
        n = use.size
        sc = _Scan(
            t_s=t_s,
            track_id=tracks.track_id,
            c=mu,
            mu=mu.copy(),
            xm=xm.copy(),
            pm=pm.copy(),
            hits=tracks.hits.copy(),
            last_update=tracks.last_update_t_s.copy(),
            z=dets.z[use],
            R=dets.R[use],
            spos=dets.sensor_pos_m[use],
            det_track_id=np.full(n, -1, np.int64),
            free=np.ones(n, np.bool_),
        )
        if m and n:
            if dt_s == 0.0:  # no prediction: tracks.x, P already combine these models
                xc, pc = tracks.x, tracks.P
            else:
                xc, pc = self._combine(mu, xm, pm)
            d2, log_det = gate_kernel(
                np.ascontiguousarray(xc),
                np.ascontiguousarray(pc),
                np.ascontiguousarray(sc.z[:, :3]),
                np.ascontiguousarray(sc.R[:, :3, :3]),
                np.ascontiguousarray(sc.spos),
                self._gate_d2,
            )
            cols = np.arange(n)
            if self._jpda:
                conf = np.flatnonzero(tracks.status == CONFIRMED)
                self._associate_jpda(sc, conf, d2[conf], log_det[conf])
                tent = np.flatnonzero(tracks.status != CONFIRMED)
                left = cols[sc.free]
                self._associate_gnn(sc, tent, left, d2[tent][:, left], log_det[tent][:, left])
            else:
                self._associate_gnn(sc, np.arange(m), cols, d2, log_det)
        det_track_all = np.full(len(dets), -1, np.int64)
        if m and n < len(dets):
            self._update_partial(sc, dets, ~has_pos & finite[:, AZ], det_track_all)
        xc, pc = self._combine(sc.mu, sc.xm, sc.pm)
        n_classes = self.n_classes
        class_prob = tracks.class_prob
        if m:
            class_prob = classify_kernel(  # compiled gnn.classify_by_speed
                np.ascontiguousarray(xc),
                np.ascontiguousarray(pc),
                self._class_speed,
                self._class_sigma,
            )
            class_prob[sc.hits < 2] = 1.0 / n_classes

        # One-point initiation from the full-position detections no track took.
        new_j = np.flatnonzero(sc.free)
        k = new_j.size
        sc.det_track_id[new_j] = tracks.next_track_id + np.arange(k, dtype=np.int64)
        if k:
            x0, p0 = initiate(
                sc.z[new_j, :3], sc.R[new_j, :3, :3], sc.spos[new_j], cfg.init_speed_sigma_mps
            )
        else:
            x0, p0 = np.zeros((0, 6)), np.zeros((0, 6, 6))
        det_track_all[use] = sc.det_track_id
        r = self.n_models
        t_new = np.full(k, t_s)
        both = Tracks(
            t_s,
            np.concatenate([tracks.track_id, tracks.next_track_id + np.arange(k, dtype=np.int64)]),
            np.concatenate([xc, x0]),
            np.concatenate([pc, p0]),
            np.concatenate([tracks.status, np.full(k, TENTATIVE, np.int8)]),
            np.concatenate([class_prob, np.full((k, n_classes), 1.0 / n_classes)]),
            np.concatenate([sc.hits, np.ones(k, np.int32)]),
            np.concatenate([tracks.born_t_s, t_new]),
            np.concatenate([sc.last_update, t_new]),
            np.concatenate([tracks.confirmed_t_s, np.full(k, np.nan)]),
            next_track_id=tracks.next_track_id + k,
        )
        confirm, delete = track_management(both, t_s, cfg)
        status = both.status.copy()
        status[confirm] = CONFIRMED
        confirmed_t = both.confirmed_t_s.copy()
        confirmed_t[confirm] = t_s
        keep = ~delete
        out = Tracks(
            t_s,
            both.track_id[keep],
            both.x[keep],
            both.P[keep],
            status[keep],
            both.class_prob[keep],
            both.hits[keep],
            both.born_t_s[keep],
            both.last_update_t_s[keep],
            confirmed_t[keep],
            next_track_id=both.next_track_id,
        )
        mu_all = np.concatenate([sc.mu, np.tile(self._prior, (k, 1))])
        xm_all = np.concatenate([sc.xm, np.repeat(x0[:, None], r, axis=1)])
        pm_all = np.concatenate([sc.pm, np.repeat(p0[:, None], r, axis=1)])
        return TrackerStep(
            tracks=self._wrap(out, mu_all[keep], xm_all[keep], pm_all[keep]),
            det_track_id=det_track_all,
            confirmed_ids=both.track_id[confirm],
            deleted_ids=both.track_id[delete],
        )

    def _update_models(
        self,
        sc: _Scan,
        ti: NDArray[np.int64],
        z: NDArray[np.float64],
        R: NDArray[np.float64],
        spos: NDArray[np.float64],
        comps: NDArray[np.intp] | None,
    ) -> None:
        """Mode-matched EKF update of tracks ``ti`` (unique) with one detection each.

        ``comps`` None: full-position detections (position, then range rate where measured);
        otherwise the measured columns of partial detections. Model probabilities follow the
        likelihoods: ``mu_j ∝ mu_j L_j`` (``mu`` holds the predicted ``c`` before the first
        update of the scan).
        """
        r = self.n_models
        k = ti.size
        xf = sc.xm[ti].reshape(k * r, 6)
        pf = sc.pm[ti].reshape(k * r, 6, 6)
        zr, rr, sr = np.repeat(z, r, 0), np.repeat(R, r, 0), np.repeat(spos, r, 0)
        if comps is None:
            xu, pu, ll = _update_full(xf, pf, zr, rr, sr)
        else:
            xu, pu, ll = ekf_update(xf, pf, zr, rr, sr, comps)
        sc.xm[ti] = xu.reshape(k, r, 6)
        sc.pm[ti] = pu.reshape(k, r, 6, 6)
        if r > 1:
            lw = np.log(np.maximum(sc.mu[ti], 1e-300)) + ll.reshape(k, r)
            w = np.exp(lw - lw.max(axis=1, keepdims=True))
            sc.mu[ti] = w / w.sum(axis=1, keepdims=True)
        sc.hits[ti] += 1
        sc.last_update[ti] = sc.t_s

    def _associate_gnn(
        self,
        sc: _Scan,
        rows: NDArray[np.int64],
        cols: NDArray[np.int64],
        d2: NDArray[np.float64],
        log_det: NDArray[np.float64],
    ) -> None:
        """GNN of tracks ``rows`` and detections ``cols`` (GnnTracker's cost), then updates."""
        if rows.size == 0 or cols.size == 0:
            return
        cost, rr, cc = gated_cost(d2, log_det, self._gate_d2, _OUT_OF_GATE_COST)
        if rr.size == 0:
            return
        ri, ci = linear_sum_assignment(cost)
        ok = cost[ri, ci] < 0.5 * _OUT_OF_GATE_COST
        ti, dj = rows[rr[ri[ok]]], cols[cc[ci[ok]]]
        self._update_models(sc, ti, sc.z[dj], sc.R[dj], sc.spos[dj], None)
        sc.det_track_id[dj] = sc.track_id[ti]
        sc.free[dj] = False

    def _associate_jpda(
        self,
        sc: _Scan,
        rows: NDArray[np.int64],
        d2: NDArray[np.float64],
        log_det: NDArray[np.float64],
    ) -> None:
        """JPDA of tracks ``rows`` with all full-position detections; PDA update per model."""
        if rows.size == 0:
            return
        pol = self._polar
        pt, pj, beta, beta0, _ = polar_jpda_marginals(
            d2, log_det, self._gate_d2, pol.pd, pol.jpda_max_events
        )
        if pt.size == 0:
            return
        r = self.n_models
        mr = rows.size
        tr = rows[pt]  # (p,) track row of each pair
        p = pt.size
        # Every (pair, model) hypothesis: the model's EKF update with the pair's detection.
        xu, pu, ll = _update_full(
            sc.xm[tr].reshape(p * r, 6),
            sc.pm[tr].reshape(p * r, 6, 6),
            np.repeat(sc.z[pj], r, 0),
            np.repeat(sc.R[pj], r, 0),
            np.repeat(sc.spos[pj], r, 0),
        )
        flat_t = (pt[:, None] * r + np.arange(r)).ravel()
        xn, pn = pda_combine(
            sc.xm[rows].reshape(mr * r, 6),
            sc.pm[rows].reshape(mr * r, 6, 6),
            xu,
            pu,
            flat_t,
            np.repeat(beta, r),
            np.repeat(beta0, r),
        )
        sc.xm[rows] = xn.reshape(mr, r, 6)
        sc.pm[rows] = pn.reshape(mr, r, 6, 6)
        if r > 1:
            # mu_j ∝ c_j (beta_0 + sum_k beta_k L_jk / Lbar_k), Lbar_k = sum_l c_l L_lk.
            lc = np.log(np.maximum(sc.c[tr], 1e-300)) + ll.reshape(p, r)
            post = np.exp(lc - lc.max(axis=1, keepdims=True))
            post /= post.sum(axis=1, keepdims=True)
            mix = np.zeros((mr, r))
            np.add.at(mix, pt, beta[:, None] * post)
            mu_t = beta0[:, None] * sc.c[rows] + mix
            sc.mu[rows] = mu_t / mu_t.sum(axis=1, keepdims=True)
        thr = pol.used_probability
        detected = rows[(1.0 - beta0) >= thr]
        sc.hits[detected] += 1
        sc.last_update[detected] = sc.t_s
        n = sc.z.shape[0]
        taken = np.bincount(pj, beta, minlength=n) >= thr
        order = np.lexsort((-beta, pj))  # per detection, most probable track first
        first = np.ones(order.size, np.bool_)
        first[1:] = pj[order[1:]] != pj[order[:-1]]
        best = order[first]
        best = best[taken[pj[best]]]
        sc.det_track_id[pj[best]] = sc.track_id[tr[best]]
        sc.free[taken] = False

    def _update_partial(
        self,
        sc: _Scan,
        dets: Detections,
        part_mask: NDArray[np.bool_],
        det_track_all: NDArray[np.int64],
    ) -> None:
        """Partial detections (angle/bearing, ± range rate): GNN per group, mode-matched EKF."""
        part = np.flatnonzero(part_mask)
        if part.size == 0:
            return
        mask = np.isfinite(dets.z[part])
        code = mask @ (1 << np.arange(4))
        sid = dets.sensor_id[part]
        keys = sorted({(int(s), int(c)) for s, c in zip(sid, code, strict=True)})
        for s_key, c_key in keys:
            g = part[(sid == s_key) & (code == c_key)]
            xc, pc = self._combine(sc.mu, sc.xm, sc.pm)
            _, _, row = assign_partial(
                xc,
                pc,
                dets.z[g],
                dets.R[g],
                dets.sensor_id[g],
                dets.sensor_pos_m[g],
                self._config.gate_probability,
            )
            ok = row >= 0
            if not ok.any():
                continue
            ti, gj = row[ok], g[ok]
            comps = np.flatnonzero((c_key >> np.arange(4)) & 1).astype(np.intp)
            zc = dets.z[gj][:, comps]
            rc = dets.R[gj][:, comps][:, :, comps]
            self._update_models(sc, ti, zc, rc, dets.sensor_pos_m[gj], comps)
            det_track_all[gj] = sc.track_id[ti]
