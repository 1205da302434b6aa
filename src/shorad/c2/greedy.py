"""Greedy dynamic weapon-target assignment, one C2 cycle at a time.

Tracks are served in decreasing threat value. Each gets the available effector(s) with the
highest expected kill probability (ties: earliest intercept) among those that can make the
intercept: the predicted intercept point lies within the effector's range and altitude limits
and in line of sight from the mount, the intercept comes before the track reaches its asset,
and the effector has a free fire channel, a round in the magazine and is not reloading.

The expected kill probability accounts for the track's uncertainty: with the aim-point error
modelled as isotropic Gaussian with variance ``s2 = (tr P_pp + 2 tau tr P_pv + tau^2 tr P_vv)/3``
(the track covariance propagated to the intercept) and the kill function
``exp(-0.5 d^2 / tol^2)`` of :mod:`shorad.engagement`, its expectation is
``(tol^2 / (tol^2 + s2))^(3/2)``. Engagements whose expected Pk is below the doctrine's
``min_pk`` are held until the geometry improves (closer, shorter flyout, better track).
Shoot-look-shoot (``shots_per_salvo = 1``) or shoot-shoot-look (2) per the doctrine.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad.c2.base import Assignments, Doctrine, Effectors, EffectorState, ThreatAssessment
from shorad.c2.intercept import intercept_time
from shorad.geo import World
from shorad.tracking.base import Tracks

__all__ = ["GreedyAssigner", "engageable_pairs", "expected_pk"]


def engageable_pairs(
    tracks: Tracks,
    assessment: ThreatAssessment,
    effectors: Effectors,
    world: World | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Engagement geometry of every (track, effector) pair.

    Returns
    -------
    tau_s : (m, e) float64
        Time from now to intercept.
    aim_m : (m, e, 3) float64
        Predicted intercept point.
    range_m : (m, e) float64
        Slant range from the mount to the intercept point.
    feasible : (m, e) bool
        Inside the range/altitude envelope, before the track's time to go, in line of sight.
    """
    m = len(tracks)
    reaction = effectors.column("reaction_s")
    tau = intercept_time(
        tracks.x[:, :3], tracks.x[:, 3:], effectors.pos_m, reaction, effectors.column("flyout_mps")
    )
    finite = np.isfinite(tau)
    tau_f = np.where(finite, tau, 0.0)
    aim = tracks.x[:, None, :3] + tracks.x[:, None, 3:] * tau_f[..., None]
    rng_m = np.linalg.norm(aim - effectors.pos_m[None, :, :], axis=-1)
    ttg = (
        assessment.time_to_go_s[np.arange(m), assessment.asset]
        if assessment.time_to_go_s.shape[1]
        else np.full(m, np.inf)
    )
    feasible = (
        finite
        & (rng_m >= effectors.column("min_range_m")[None, :])
        & (rng_m <= effectors.column("max_range_m")[None, :])
        & (aim[..., 2] <= effectors.column("max_alt_m")[None, :])
        & (aim[..., 2] >= 0.0)
        & (tau <= ttg[:, None])
    )
    if world is not None and feasible.any():
        ii, jj = np.nonzero(feasible)
        feasible[ii, jj] = world.los(effectors.pos_m[jj], aim[ii, jj])
    return tau, aim, rng_m, feasible


class GreedyAssigner:
    """Greedy assignment in threat-value order (see module docstring).

    Parameters
    ----------
    doctrine : Doctrine
    world : World or None
        Buildings for the line-of-sight check from mount to intercept point (None: no check).
    """

    __slots__ = ("doctrine", "world")

    def __init__(self, doctrine: Doctrine, world: World | None) -> None:
        self.doctrine = doctrine
        self.world = world

    def assign(
        self,
        tracks: Tracks,
        assessment: ThreatAssessment,
        effectors: Effectors,
        state: EffectorState,
        held_track_ids: NDArray[np.int64],
    ) -> Assignments:
        """Fire orders for this cycle.

        Parameters
        ----------
        tracks : Tracks
            The current picture (time ``tracks.t_s``).
        assessment : ThreatAssessment
            :func:`shorad.c2.evaluate_threats` of ``tracks``.
        effectors : Effectors
        state : EffectorState
        held_track_ids : (h,) int64
            Tracks with a salvo in flight or in its look period: not engaged now.
        """
        d = self.doctrine
        t = tracks.t_s
        ok = (assessment.threat_value > d.min_threat_value) & (
            t - tracks.last_update_t_s <= d.stale_track_s
        )
        if d.engage_confirmed_only:
            ok &= tracks.confirmed
        ok &= ~np.isin(tracks.track_id, held_track_ids)
        cand = np.flatnonzero(ok)
        free = (
            (state.shots_left > 0)
            & (state.channels_busy < effectors.column("channels").astype(np.int64))
            & (state.ready_t_s <= t)
        )
        if cand.size == 0 or not free.any():
            return _empty_assignments()
        sub = tracks.take(cand)
        sub_assess = ThreatAssessment(
            t_s=assessment.t_s,
            track_id=assessment.track_id[cand],
            time_to_go_s=assessment.time_to_go_s[cand],
            cpa_m=assessment.cpa_m[cand],
            threat_value=assessment.threat_value[cand],
            asset=assessment.asset[cand],
        )
        # only effectors able to fire now take part (columns of the pair matrices)
        fidx = np.flatnonzero(free)
        eff = effectors.take(fidx)
        tau, aim, rng_m, feasible = engageable_pairs(sub, sub_assess, eff, self.world)
        pk = expected_pk(sub, tau, rng_m, eff)
        feasible &= pk >= d.min_pk
        if not feasible.any():
            return _empty_assignments()
        channels_left = eff.column("channels").astype(np.int64) - state.channels_busy[fidx]
        shots_left = state.shots_left[fidx].copy()
        order = np.lexsort((sub.track_id, -sub_assess.threat_value))
        rows: list[tuple[int, int]] = []
        for i in order:
            for _ in range(d.shots_per_salvo):
                usable = feasible[i] & (channels_left > 0) & (shots_left > 0)
                if not usable.any():
                    break
                # best Pk, then earliest intercept, then lowest effector id
                score = np.where(usable, pk[i], -1.0)
                best = np.flatnonzero(score == score.max())
                j = int(best[np.argmin(tau[i, best])])
                rows.append((int(i), j))
                channels_left[j] -= 1
                shots_left[j] -= 1
                feasible[i, j] = False
        ii = np.array([r[0] for r in rows], np.int64)
        jj = np.array([r[1] for r in rows], np.int64)
        reaction = eff.column("reaction_s")
        rounds = eff.column("rounds_per_shot").astype(np.int64)
        return Assignments(
            effector_id=eff.effector_id[jj],
            track_id=sub.track_id[ii],
            fire_t_s=t + reaction[jj],
            rounds=rounds[jj],
            intercept_t_s=t + tau[ii, jj],
            aim_m=aim[ii, jj],
            pk_expected=pk[ii, jj],
        )


def expected_pk(
    tracks: Tracks,
    tau_s: NDArray[np.float64],
    range_m: NDArray[np.float64],
    effectors: Effectors,
) -> NDArray[np.float64]:
    """C2's expected single-shot kill probability for every (track, effector) pair.

    Parameters
    ----------
    tracks : Tracks
        (m tracks) at the decision time.
    tau_s : (m, e) float64
        Time from now to intercept.
    range_m : (m, e) float64
        Slant range at intercept.
    effectors : Effectors

    Returns
    -------
    (m, e) float64
        ``class belief . pk_by_class * range factor * (tol^2 / (tol^2 + s2))^(3/2)``.
    """
    P = tracks.P
    tr_pp = np.trace(P[:, :3, :3], axis1=1, axis2=2)[:, None]
    tr_pv = np.trace(P[:, :3, 3:], axis1=1, axis2=2)[:, None]
    tr_vv = np.trace(P[:, 3:, 3:], axis1=1, axis2=2)[:, None]
    tau = np.where(np.isfinite(tau_s), tau_s, 0.0)
    s2 = np.maximum((tr_pp + 2.0 * tau * tr_pv + tau**2 * tr_vv) / 3.0, 0.0)
    pk = np.zeros(tau_s.shape)
    for k, etype in enumerate(effectors.types):
        cols = np.flatnonzero(effectors.type_index == k)
        if cols.size:
            tol2 = etype.aim_tolerance_m**2
            pk[:, cols] = (
                (tracks.class_prob @ etype.pk_by_class)[:, None]
                * np.interp(range_m[:, cols], etype.pk_range_m, etype.pk_range_factor)
                * (tol2 / (tol2 + s2[:, cols])) ** 1.5
            )
    return pk


def _empty_assignments() -> Assignments:
    return Assignments(
        effector_id=np.zeros(0, np.int64),
        track_id=np.zeros(0, np.int64),
        fire_t_s=np.zeros(0),
        rounds=np.zeros(0, np.int64),
        intercept_t_s=np.zeros(0),
        aim_m=np.zeros((0, 3)),
        pk_expected=np.zeros(0),
    )
