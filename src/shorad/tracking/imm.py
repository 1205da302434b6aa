"""Interacting multiple model (IMM) filter and the IMM-GNN / IMM-JPDA Cartesian tracker.

The IMM of Blom & Bar-Shalom (1988), in the notation of Bar-Shalom, Li & Kirubarajan (2001)
§11.6.6: ``r`` motion models (:mod:`shorad.tracking.motion`, all on one augmented state) and a
Markov chain on them with switching matrix ``PI[i, j] = P(model j at k | model i at k-1)``
(applied once per scan). One cycle, for every track at once:

1. mixing: ``c_j = sum_i PI_ij mu_i``, ``mu_{i|j} = PI_ij mu_i / c_j``,
   ``x0_j = sum_i mu_{i|j} x_i``, ``P0_j = sum_i mu_{i|j} (P_i + (x_i - x0_j)(x_i - x0_j)^T)``;
2. model-matched prediction of ``(x0_j, P0_j)`` with model ``j``;
3. model-matched update with the associated measurement, likelihood
   ``L_j = N(nu_j; 0, S_j)``, ``mu_j = c_j L_j / sum_l c_l L_l`` (no measurement: ``mu_j = c_j``);
4. output: the moment-matched combination ``x = sum_j mu_j x_j``,
   ``P = sum_j mu_j (P_j + (x_j - x)(x_j - x)^T)``.

Association (:class:`ImmCartesianTracker`) gates and scores on the combined prediction
(``c``-weighted moments of the predicted models). With JPDA, each model gets the PDA update with
the shared marginals ``beta`` (IMM-JPDA, Bar-Shalom, Willett & Tian (2011) §6.4 and ch. 7), and
``mu_j = c_j (beta_0 + sum_k beta_k L_jk / Lbar_k)`` with ``Lbar_k = sum_l c_l L_lk``: the
model posterior averaged over the association events (it sums to one by construction).

References
----------
.. [1] H. A. P. Blom, Y. Bar-Shalom, "The interacting multiple model algorithm for systems with
   Markovian switching coefficients", IEEE Trans. Automatic Control 33(8), 780-783, 1988.
.. [2] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001, ch. 11 (§11.6.6 the IMM estimator).
.. [3] Y. Bar-Shalom, P. Willett, X. Tian, *Tracking and Data Fusion*, YBS Publishing, 2011.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammainc, gammaincinv

from shorad.errors import ConfigError, SimulationError
from shorad.tracking.cluster import assign_gnn_sparse, gate_pairs
from shorad.tracking.jpda import jpda_marginals
from shorad.tracking.linear import kf_update
from shorad.tracking.motion import MotionModel, carried_components, predict_model, state_dim
from shorad.tracking.mtt import CartesianTracker, MttConfig, MttTracks, inv_logdet_lmax

__all__ = [
    "ImmCartesianTracker",
    "ImmTracks",
    "build_cartesian_tracker",
    "imm_combine",
    "imm_mix",
    "imm_models",
    "imm_predict",
    "imm_update",
]


def imm_mix(
    mu: NDArray[np.float64],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    switch: NDArray[np.float64],
    carried: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """IMM mixing (step 1 of the module docstring), for all tracks at once.

    With ``carried`` (r, n), the mask of the components each model estimates, the components
    model ``i`` does not carry (it only resets them to zero) are, when mixed into model ``j``,
    taken from model ``j``'s own estimate (value and covariance block, no cross-covariance):
    the "unbiased" mixing of unequal-dimension states (Granstrom, Willett & Bar-Shalom 2015).
    Without it the reset zeros are mixed in, which pulls e.g. the CT model's turn rate towards
    zero whenever the NCV model is likely.

    Parameters
    ----------
    mu : (m, r) float64
        Model probabilities (rows sum to 1).
    x : (m, r, n) float64
        Model-matched states.
    P : (m, r, n, n) float64
        Model-matched covariances.
    switch : (r, r) float64
        ``PI[i, j]``, rows sum to 1.
    carried : (r, n) bool or None
        Components each model estimates (:func:`shorad.tracking.motion.carried_components`);
        None: mix every component as it stands.

    Returns
    -------
    c : (m, r) float64
        Predicted model probabilities ``c_j``.
    x0 : (m, r, n) float64
        Mixed initial states.
    P0 : (m, r, n, n) float64
        Mixed initial covariances.
    """
    c = mu @ switch  # (m, r)
    w = mu[:, :, None] * switch[None, :, :]  # (m, i, j)
    w = w / np.where(c > 0.0, c, 1.0)[:, None, :]
    if carried is None:
        x0 = np.einsum("mij,min->mjn", w, x)
        dx = x[:, :, None, :] - x0[:, None, :, :]  # (m, i, j, n)
        p0 = np.einsum("mij,mikl->mjkl", w, P) + np.einsum("mij,mijk,mijl->mjkl", w, dx, dx)
        return c, x0, 0.5 * (p0 + np.swapaxes(p0, -1, -2))
    # x_ij, P_ij: model i's estimate as seen by model j (missing parts from model j).
    own = carried[:, None, :]  # (i, 1, n)
    xij = np.where(own[None], x[:, :, None, :], x[:, None, :, :])  # (m, i, j, n)
    blk = own[:, :, :, None] & own[:, :, None, :]  # (i, 1, n, n)
    miss = ~own[:, :, :, None] & ~own[:, :, None, :]
    pij = np.where(blk[None], P[:, :, None], 0.0) + np.where(miss[None], P[:, None, :], 0.0)
    x0 = np.einsum("mij,mijn->mjn", w, xij)
    dx = xij - x0[:, None, :, :]
    p0 = np.einsum("mij,mijkl->mjkl", w, pij) + np.einsum("mij,mijk,mijl->mjkl", w, dx, dx)
    return c, x0, 0.5 * (p0 + np.swapaxes(p0, -1, -2))


def imm_predict(
    models: Sequence[MotionModel],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    dim: int,
    dt_s: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Model-matched prediction: model ``j`` predicts ``x[:, j]``, ``P[:, j]`` over ``dt_s``."""
    xs, ps = [], []
    for j, model in enumerate(models):
        xj, pj = predict_model(model, x[:, j], P[:, j], dim, dt_s)
        xs.append(xj)
        ps.append(pj)
    return np.stack(xs, 1), np.stack(ps, 1)


def imm_combine(
    mu: NDArray[np.float64], x: NDArray[np.float64], P: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Moment-matched combination (m, n), (m, n, n) of model-matched estimates (step 4)."""
    xc = np.einsum("mj,mjn->mn", mu, x)
    dx = x - xc[:, None, :]
    pc = np.einsum("mj,mjkl->mkl", mu, P) + np.einsum("mj,mjk,mjl->mkl", mu, dx, dx)
    return xc, 0.5 * (pc + np.swapaxes(pc, -1, -2))


def _gauss_loglik(nu: NDArray[np.float64], S: NDArray[np.float64]) -> NDArray[np.float64]:
    """``ln N(nu; 0, S)`` for batches ``nu`` (..., d), ``S`` (..., d, d)."""
    d = nu.shape[-1]
    sol = np.linalg.solve(S, nu[..., None])[..., 0]
    logdet = np.linalg.slogdet(S)[1]
    out: NDArray[np.float64] = -0.5 * (
        np.einsum("...i,...i->...", nu, sol) + logdet + d * math.log(2.0 * math.pi)
    )
    return out


def imm_update(
    c: NDArray[np.float64],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Model-matched Kalman update with one position measurement per track (step 3).

    Parameters
    ----------
    c : (m, r) float64
        Predicted model probabilities.
    x : (m, r, n) float64
        Predicted model-matched states (positions first).
    P : (m, r, n, n) float64
        Predicted covariances.
    z : (m, d) float64
        Position measurement of each track (m).
    R : (d, d) float64
        Measurement covariance (m^2).

    Returns
    -------
    mu : (m, r) float64
        Updated model probabilities.
    x : (m, r, n) float64
    P : (m, r, n, n) float64
    """
    m, r, n = x.shape
    d = z.shape[1]
    nu = z[:, None, :] - x[:, :, :d]
    ll = _gauss_loglik(nu, P[:, :, :d, :d] + R)
    logw = np.log(np.maximum(c, 1e-300)) + ll
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    mu = w / w.sum(axis=1, keepdims=True)
    xu, pu = kf_update(x.reshape(m * r, n), P.reshape(m * r, n, n), np.repeat(z, r, 0), R)
    return mu, xu.reshape(m, r, n), pu.reshape(m, r, n, n)


def imm_models(cfg: MttConfig) -> tuple[MotionModel, ...]:
    """The IMM's models from an :class:`MttConfig` (``imm_modes`` and the noise levels)."""
    out = []
    for kind in cfg.imm_modes:
        if kind == "ncv":
            out.append(MotionModel("ncv", cfg.q_m2ps3))
        elif kind == "nca":
            out.append(MotionModel("nca", cfg.imm_nca_q_m2ps5))
        elif kind == "ncvh":
            out.append(MotionModel("ncv", cfg.imm_ncvh_q_m2ps3))
        else:
            out.append(MotionModel("ct", cfg.imm_ct_q_m2ps3, cfg.imm_ct_turn_q_rad2ps3))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImmTracks(MttTracks):
    """All live tracks of :class:`ImmCartesianTracker` at ``t_s`` (one row per track).

    The fields of :class:`shorad.tracking.mtt.MttTracks` (``x``, ``P`` are the combined
    ``[positions, velocities]`` estimate, (m, 2 dim) and (m, 2 dim, 2 dim)) plus the models'.

    Attributes
    ----------
    mu : (m, r) float64
        Model probabilities.
    xm : (m, r, 3 dim + 1) float64
        Model-matched augmented states (see :mod:`shorad.tracking.motion`).
    Pm : (m, r, 3 dim + 1, 3 dim + 1) float64
        Model-matched covariances.
    """

    mu: NDArray[np.float64]
    xm: NDArray[np.float64]
    Pm: NDArray[np.float64]


class ImmCartesianTracker:
    """IMM-GNN or IMM-JPDA multi-target tracker on Cartesian positions.

    The same gating, association and track management as
    :class:`shorad.tracking.mtt.CartesianTracker` (its module docstring), with each track an IMM
    over ``config.imm_modes`` (see the module docstring). ``config.method`` is ``imm-gnn`` or
    ``imm-jpda``.

    Parameters
    ----------
    config : MttConfig
        Settings; ``q_m2ps3`` is the NCV model's noise, ``imm_*`` the rest of the IMM's.
    """

    __slots__ = (
        "_R",
        "_carried",
        "_cfg",
        "_gate_d2",
        "_log_norm",
        "_models",
        "_pg",
        "_switch",
        "_switch_dt",
    )

    def __init__(self, config: MttConfig) -> None:
        if config.method not in ("imm-gnn", "imm-jpda"):
            raise ConfigError(
                f"must be 'imm-gnn' or 'imm-jpda', got {config.method!r}", field="MttConfig.method"
            )
        if config.tentative_cost != "likelihood":
            raise ConfigError(
                f"ImmCartesianTracker supports only 'likelihood', got {config.tentative_cost!r}",
                field="MttConfig.tentative_cost",
            )
        self._cfg = config
        d = config.dim
        self._R = np.asarray(config.R_m2, dtype=np.float64)
        self._models = imm_models(config)
        self._switch = config.switching()
        self._switch_dt = math.nan
        self._carried = (
            np.stack([carried_components(mo, d) for mo in self._models])
            if config.imm_unequal_mixing
            else None
        )
        self._gate_d2 = float(2.0 * gammaincinv(0.5 * d, config.gate_probability))
        self._pg = float(gammainc(0.5 * d, 0.5 * self._gate_d2))
        self._log_norm = math.log(config.pd) - 0.5 * d * math.log(2.0 * math.pi)
        self._log_norm -= math.log(config.clutter_density)

    @property
    def config(self) -> MttConfig:
        """The tracker's settings."""
        return self._cfg

    def initial(self, t_s: float = 0.0) -> ImmTracks:
        """An empty picture at ``t_s`` (s)."""
        d, r = self._cfg.dim, len(self._models)
        n = state_dim(d)
        return ImmTracks(
            float(t_s),
            np.zeros(0, np.int64),
            np.zeros((0, 2 * d)),
            np.zeros((0, 2 * d, 2 * d)),
            np.zeros(0, np.bool_),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
            mu=np.zeros((0, r)),
            xm=np.zeros((0, r, n)),
            Pm=np.zeros((0, r, n, n)),
        )

    def step(self, tracks: ImmTracks, z: NDArray[np.float64], t_s: float) -> ImmTracks:
        """Process one scan of position measurements ``z`` (n, dim) taken at ``t_s`` (s).

        Raises
        ------
        SimulationError
            If ``t_s`` is before ``tracks.t_s``.
        """
        cfg = self._cfg
        d = cfg.dim
        r = len(self._models)
        nx = state_dim(d)
        dt_s = float(t_s) - tracks.t_s
        if dt_s < 0.0:
            raise SimulationError(
                f"ImmCartesianTracker.step: scan time {t_s} s is before the tracks' {tracks.t_s} s"
            )
        n = z.shape[0]
        mu, xm, pm = tracks.mu, tracks.xm, tracks.Pm
        if len(tracks) and dt_s > 0.0:
            mu, xm, pm = imm_mix(mu, xm, pm, self._switching(dt_s), self._carried)
            xm, pm = imm_predict(self._models, xm, pm, d, dt_s)
        mu = mu.copy()
        hits = tracks.hits.copy()
        misses = tracks.misses + 1
        used = np.zeros(n, np.bool_)
        if len(tracks) and n:
            xc, pc = imm_combine(mu, xm, pm)
            s = pc[:, :d, :d] + self._R
            s_inv, log_det, lmax = inv_logdet_lmax(s)
            radius = np.sqrt(self._gate_d2 * lmax)
            conf = np.flatnonzero(tracks.confirmed)
            gate = (xc[:, :d], s_inv, log_det, radius)
            xm, pm = self._associate(conf, mu, xm, pm, z, gate, used, hits, misses, False)
            tent = np.flatnonzero(~tracks.confirmed)
            free = np.flatnonzero(~used)
            if tent.size and free.size:
                sub_used = np.zeros(free.size, np.bool_)
                xm, pm = self._associate(
                    tent, mu, xm, pm, z[free], gate, sub_used, hits, misses, True
                )
                used[free[sub_used]] = True
        # Births: a tentative track on every measurement still unused, every model alike.
        new_j = np.flatnonzero(~used)
        k = new_j.size
        x0 = np.zeros((k, r, nx))
        x0[:, :, :d] = z[new_j][:, None, :]
        p0 = np.zeros((k, r, nx, nx))
        p0[:, :, :d, :d] = self._R
        iv = np.arange(d, 2 * d)
        p0[:, :, iv, iv] = cfg.init_speed_sigma_mps**2
        ia = np.arange(2 * d, 3 * d)
        p0[:, :, ia, ia] = cfg.imm_init_accel_sigma_mps2**2
        p0[:, :, 3 * d, 3 * d] = cfg.imm_init_turn_sigma_radps**2
        mu = np.concatenate([mu, np.full((k, r), 1.0 / r)])
        xm = np.concatenate([xm, x0])
        pm = np.concatenate([pm, p0])
        track_id = np.concatenate(
            [tracks.track_id, tracks.next_track_id + np.arange(k, dtype=np.int64)]
        )
        hits = np.concatenate([hits, np.ones(k, np.int32)])
        misses = np.concatenate([misses, np.zeros(k, np.int32)])
        born = np.concatenate([tracks.born_t_s, np.full(k, float(t_s))])
        confirmed = np.concatenate([tracks.confirmed, np.zeros(k, np.bool_)])
        confirmed = confirmed | (hits >= cfg.confirm_hits)
        limit = np.where(confirmed, cfg.delete_misses, cfg.tentative_delete_misses)
        keep = misses < limit
        mu, xm, pm = mu[keep], xm[keep], pm[keep]
        xc, pc = imm_combine(mu, xm, pm)
        return ImmTracks(
            float(t_s),
            track_id[keep],
            xc[:, : 2 * d],
            pc[:, : 2 * d, : 2 * d],
            confirmed[keep],
            hits[keep],
            misses[keep],
            born[keep],
            next_track_id=tracks.next_track_id + k,
            mu=mu,
            xm=xm,
            Pm=pm,
        )

    def _switching(self, dt_s: float) -> NDArray[np.float64]:
        """Switching matrix of a ``dt_s`` scan (cached; constant without ``imm_sojourn_s``)."""
        if self._cfg.imm_sojourn_s is not None and dt_s != self._switch_dt:
            self._switch = self._cfg.switching(dt_s)
            self._switch_dt = dt_s
        return self._switch

    def _associate(
        self,
        rows: NDArray[np.int64],
        mu: NDArray[np.float64],
        xm: NDArray[np.float64],
        pm: NDArray[np.float64],
        z: NDArray[np.float64],
        gate: tuple[NDArray[np.float64], ...],
        used: NDArray[np.bool_],
        hits: NDArray[np.int32],
        misses: NDArray[np.int32],
        force_gnn: bool,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Associate tracks ``rows`` with ``z`` on the combined prediction; update the models.

        ``mu`` (the predicted ``c`` on entry), ``used``, ``hits`` and ``misses`` are updated in
        place for the rows that get measurements.
        """
        d = self._cfg.dim
        n = z.shape[0]
        pos, s_inv, log_det, radius = gate
        if rows.size == 0 or n == 0:
            return xm, pm
        pt, pmi, d2, _ = gate_pairs(pos[rows], s_inv[rows], radius[rows], z, self._gate_d2)
        if pt.size == 0:
            return xm, pm
        xm = xm.copy()
        pm = pm.copy()
        miss_w = 1.0 - self._cfg.pd * self._pg
        if self._cfg.imm_mixture_likelihood:
            # ln sum_j c_j N(z; H x_j, S_j): the IMM's predictive density of the measurement.
            ti_p = rows[pt]
            nu_p = z[pmi][:, None, :] - xm[ti_p, :, :d]
            lc = np.log(np.maximum(mu[ti_p], 1e-300)) + _gauss_loglik(
                nu_p, pm[ti_p, :, :d, :d] + self._R
            )
            top = lc.max(axis=1)
            ln_pred = top + np.log(np.exp(lc - top[:, None]).sum(axis=1))
            log_w = self._log_norm + 0.5 * d * math.log(2.0 * math.pi) + ln_pred
        else:
            log_w = self._log_norm - 0.5 * d2 - 0.5 * log_det[rows[pt]]
        if force_gnn or self._cfg.method == "imm-gnn":
            if self._cfg.imm_mixture_likelihood:
                cost = math.log(miss_w) - log_w
            else:
                cost = 0.5 * (d2 + log_det[rows[pt]]) - self._log_norm + math.log(miss_w)
            sel = assign_gnn_sparse(pt, pmi, cost, rows.size, n, 0.0)
            ti = rows[pt[sel]]
            mu[ti], xm[ti], pm[ti] = imm_update(mu[ti], xm[ti], pm[ti], z[pmi[sel]], self._R)
            hits[ti] += 1
            misses[ti] = 0
            used[pmi[sel]] = True
            return xm, pm
        # IMM-JPDA: marginals on the combined prediction, PDA update of every model.
        m_r = rows.size
        w = np.exp(log_w)
        beta, beta0, _ = jpda_marginals(
            pt, pmi, w, np.full(m_r, miss_w), n, self._cfg.jpda_max_events
        )
        tr = np.unique(pt)
        ti = rows[tr]
        zp = z[pmi]
        zbar = np.stack([np.bincount(pt, beta * zp[:, a], minlength=m_r) for a in range(d)], 1)
        zz = np.zeros((m_r, d, d))
        np.add.at(zz, pt, beta[:, None, None] * zp[:, :, None] * zp[:, None, :])
        zbar, zz = zbar[tr], zz[tr]
        b1 = (1.0 - beta0[tr])[:, None, None]  # (t, 1, 1)
        x_t, p_t = xm[ti], pm[ti]  # (t, r, nx), (t, r, nx, nx)
        hx = x_t[:, :, :d]
        nu_bar = zbar[:, None, :] - b1 * hx
        sum_nn = (
            zz[:, None]
            - zbar[:, None, :, None] * hx[:, :, None, :]
            - hx[:, :, :, None] * zbar[:, None, None, :]
            + b1[:, :, :, None] * hx[:, :, :, None] * hx[:, :, None, :]
        )
        spread = sum_nn - nu_bar[..., :, None] * nu_bar[..., None, :]
        s_m = p_t[:, :, :d, :d] + self._R
        k_gain = np.swapaxes(np.linalg.solve(s_m, np.swapaxes(p_t[:, :, :, :d], -1, -2)), -1, -2)
        ksk = k_gain @ s_m @ np.swapaxes(k_gain, -1, -2)
        kspk = k_gain @ spread @ np.swapaxes(k_gain, -1, -2)
        x_new = x_t + np.einsum("trij,trj->tri", k_gain, nu_bar)
        p_new = p_t - b1[:, :, :, None] * ksk + kspk
        # Model probabilities averaged over the association events.
        nu_p = zp[:, None, :] - xm[rows[pt], :, :d]  # (p, r, d), predicted models
        ll = _gauss_loglik(nu_p, pm[rows[pt], :, :d, :d] + self._R)  # (p, r)
        c_p = mu[rows[pt]]
        lc = np.log(np.maximum(c_p, 1e-300)) + ll
        lbar = lc.max(axis=1, keepdims=True)
        lbar = lbar + np.log(np.exp(lc - lbar).sum(axis=1, keepdims=True))
        post = np.exp(lc - lbar)  # c_j L_jk / Lbar_k, rows sum to 1
        mix = np.zeros((m_r, post.shape[1]))
        np.add.at(mix, pt, beta[:, None] * post)
        mu_t = beta0[tr][:, None] * mu[ti] + mix[tr]
        mu[ti] = mu_t / mu_t.sum(axis=1, keepdims=True)
        xm[ti] = x_new
        pm[ti] = 0.5 * (p_new + np.swapaxes(p_new, -1, -2))
        detected = (1.0 - beta0) >= 0.5
        det_rows = rows[detected]
        hits[det_rows] += 1
        misses[det_rows] = 0
        order = np.lexsort((-beta, pt))
        first = np.ones(order.size, np.bool_)
        first[1:] = pt[order[1:]] != pt[order[:-1]]
        best = order[first]
        best = best[detected[pt[best]]]
        used[pmi[best]] = True
        used |= np.bincount(pmi, beta, minlength=n) >= 0.5
        return xm, pm


def build_cartesian_tracker(config: MttConfig) -> CartesianTracker | ImmCartesianTracker:
    """The benchmark tracker ``config.method`` names (``gnn``, ``jpda``, ``imm-*``)."""
    if config.method.startswith("imm-"):
        return ImmCartesianTracker(config)
    return CartesianTracker(config)
