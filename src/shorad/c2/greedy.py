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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely import Polygon, contains_xy

from shorad.c2.base import Assignments, Doctrine, Effectors, EffectorState, ThreatAssessment
from shorad.c2.intercept import intercept_time
from shorad.geo import World
from shorad.tracking.base import Tracks
from shorad.units import G0_MPS2

__all__ = [
    "Assigner",
    "EngagementOptions",
    "GreedyAssigner",
    "engageable_pairs",
    "engagement_options",
    "expected_pk",
    "no_orders",
    "orders_from",
    "over_no_fire_zone",
]


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
    reaction, flyout, min_range, max_range, max_alt = _columns(
        effectors, ("reaction_s", "flyout_mps", "min_range_m", "max_range_m", "max_alt_m")
    )
    tau = intercept_time(tracks.x[:, :3], tracks.x[:, 3:], effectors.pos_m, reaction, flyout)
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
        & (rng_m >= min_range[None, :])
        & (rng_m <= max_range[None, :])
        & (aim[..., 2] <= max_alt[None, :])
        & (aim[..., 2] >= 0.0)
        & (tau <= ttg[:, None])
    )
    if world is not None and feasible.any():
        ii, jj = np.nonzero(feasible)
        feasible[ii, jj] = world.los(effectors.pos_m[jj], aim[ii, jj])
    return tau, aim, rng_m, feasible


def _columns(effectors: Effectors, attrs: tuple[str, ...]) -> list[NDArray[np.float64]]:
    """``[effectors.column(a) for a in attrs]`` in one pass over the types."""
    per_type = np.array(
        [[float(getattr(t, a)) for a in attrs] for t in effectors.types], dtype=np.float64
    ).reshape(len(effectors.types), len(attrs))
    per_eff = per_type[effectors.type_index]
    return [per_eff[:, i] for i in range(len(attrs))]


class Assigner:
    """Base of the per-cycle assigners: engagement options in, fire orders out.

    Subclasses choose among the options (:meth:`choose`); everything before (candidate
    tracks, effectors able to fire, feasibility, expected Pk, no-fire zones) is shared.

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
        opts = engagement_options(
            self.doctrine, self.world, tracks, assessment, effectors, state, held_track_ids
        )
        if opts is None:
            return no_orders()
        return orders_from(opts, self.choose(opts))

    def choose(self, opts: EngagementOptions) -> list[tuple[int, int]]:
        """(candidate track row, effector column) pairs to fire, one per shot."""
        raise NotImplementedError


class GreedyAssigner(Assigner):
    """Greedy assignment in threat-value order (see module docstring)."""

    __slots__ = ()

    def choose(self, opts: EngagementOptions) -> list[tuple[int, int]]:
        """Tracks by threat value, each the best-Pk usable effector(s)."""
        return greedy_rows(opts, self.doctrine.shots_per_salvo)


def greedy_rows(opts: EngagementOptions, shots_per_salvo: int) -> list[tuple[int, int]]:
    """Greedy choice: tracks by threat value, each the best-Pk usable effector(s).

    Returns (candidate track row, effector column) pairs, one per shot.
    """
    feasible = opts.feasible.copy()
    channels_left = opts.channels_left.copy()
    shots_left = opts.shots_left.copy()
    order = np.lexsort((opts.tracks.track_id, -opts.threat_value))
    rows: list[tuple[int, int]] = []
    for i in order:
        for _ in range(shots_per_salvo):
            usable = feasible[i] & (channels_left > 0) & (shots_left > 0)
            if not usable.any():
                break
            # best Pk, then earliest intercept, then lowest effector id
            score = np.where(usable, opts.pk[i], -1.0)
            best = np.flatnonzero(score == score.max())
            j = int(best[np.argmin(opts.tau_s[i, best])])
            rows.append((int(i), j))
            channels_left[j] -= 1
            shots_left[j] -= 1
            feasible[i, j] = False
    return rows


@dataclass(frozen=True, slots=True)
class EngagementOptions:
    """What C2 can do this cycle: engageable tracks x effectors able to fire now.

    Attributes
    ----------
    tracks : Tracks
        The ``k`` candidate tracks (confirmed if required, fresh, not held, valuable enough).
    threat_value : (k,) float64
    effectors : Effectors
        The ``f`` effectors with a free channel, a round and no reload in progress.
    tau_s : (k, f) float64
        Time from now to intercept.
    aim_m : (k, f, 3) float64
        Predicted intercept points.
    pk : (k, f) float64
        Expected kill probability (:func:`expected_pk`).
    feasible : (k, f) bool
        In envelope and line of sight, before impact, ``pk >= min_pk``, outside no-fire zones.
    channels_left, shots_left : (f,) int64
    """

    tracks: Tracks
    threat_value: NDArray[np.float64]
    effectors: Effectors
    tau_s: NDArray[np.float64]
    aim_m: NDArray[np.float64]
    pk: NDArray[np.float64]
    feasible: NDArray[np.bool_]
    channels_left: NDArray[np.int64]
    shots_left: NDArray[np.int64]


def engagement_options(
    doctrine: Doctrine,
    world: World | None,
    tracks: Tracks,
    assessment: ThreatAssessment,
    effectors: Effectors,
    state: EffectorState,
    held_track_ids: NDArray[np.int64],
) -> EngagementOptions | None:
    """The engageable (track, effector) pairs of this cycle, or None if there are none."""
    d = doctrine
    t = tracks.t_s
    ok = (assessment.threat_value > d.min_threat_value) & (
        t - tracks.last_update_t_s <= d.stale_track_s
    )
    if d.engage_confirmed_only:
        ok &= tracks.confirmed
    ok &= ~np.isin(tracks.track_id, held_track_ids)
    cand = np.flatnonzero(ok)
    channels = effectors.column("channels").astype(np.int64)
    free = (state.shots_left > 0) & (state.channels_busy < channels) & (state.ready_t_s <= t)
    if cand.size == 0 or not free.any():
        return None
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
    tau, aim, rng_m, feasible = engageable_pairs(sub, sub_assess, eff, world)
    pk = expected_pk(sub, tau, rng_m, eff)
    feasible &= pk >= d.min_pk
    if d.no_fire_zones and feasible.any():
        feasible &= ~over_no_fire_zone(aim, sub.x[:, 3:], d.no_fire_zones)
    if not feasible.any():
        return None
    return EngagementOptions(
        tracks=sub,
        threat_value=sub_assess.threat_value,
        effectors=eff,
        tau_s=tau,
        aim_m=aim,
        pk=pk,
        feasible=feasible,
        channels_left=channels[fidx] - state.channels_busy[fidx],
        shots_left=state.shots_left[fidx].copy(),
    )


def orders_from(opts: EngagementOptions, rows: list[tuple[int, int]]) -> Assignments:
    """Fire orders for chosen (candidate track row, effector column) pairs."""
    if not rows:
        return no_orders()
    ii = np.array([r[0] for r in rows], np.int64)
    jj = np.array([r[1] for r in rows], np.int64)
    eff = opts.effectors
    t = opts.tracks.t_s
    return Assignments(
        effector_id=eff.effector_id[jj],
        track_id=opts.tracks.track_id[ii],
        fire_t_s=t + eff.column("reaction_s")[jj],
        rounds=eff.column("rounds_per_shot").astype(np.int64)[jj],
        intercept_t_s=t + opts.tau_s[ii, jj],
        aim_m=opts.aim_m[ii, jj],
        pk_expected=opts.pk[ii, jj],
    )


def over_no_fire_zone(
    aim_m: NDArray[np.float64], vel_mps: NDArray[np.float64], zones: tuple[Polygon, ...]
) -> NDArray[np.bool_]:
    """Whether an intercept at ``aim_m`` (m, e, 3) would put it, or its debris, over a zone.

    The debris centre is the ballistic drop of the track's horizontal velocity ``vel_mps``
    (m, 3) from the aim point (as in :mod:`shorad.damage`).
    """
    z = np.maximum(aim_m[..., 2], 0.0)
    t_fall = np.sqrt(2.0 * z / G0_MPS2)
    drop = aim_m[..., :2] + vel_mps[:, None, :2] * t_fall[..., None]
    hit = np.zeros(aim_m.shape[:2], bool)
    for zone in zones:
        hit |= contains_xy(zone, aim_m[..., 0], aim_m[..., 1])
        hit |= contains_xy(zone, drop[..., 0], drop[..., 1])
    return hit


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
            q = tol2 / (tol2 + s2[:, cols])
            pk[:, cols] = (
                _class_pk(tracks.class_prob, etype.pk_by_class)[:, None]
                * np.interp(range_m[:, cols], etype.pk_range_m, etype.pk_range_factor)
                * (q * np.sqrt(q))
            )
    return pk


def _class_pk(
    class_prob: NDArray[np.float64], pk_by_class: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``class_prob @ pk_by_class`` (m,) summed class by class, in a fixed order.

    A BLAS dot product rounds in a CPU-dependent way (FMA, blocking); this sum, like
    ``q * sqrt(q)`` for ``q**1.5`` above, is repeated bit for bit by the compiled C2
    (:mod:`shorad.c2._greedy_kernel`).
    """
    if class_prob.shape[1] == 0:
        return np.zeros(class_prob.shape[0])
    out: NDArray[np.float64] = class_prob[:, 0] * pk_by_class[0]
    for c in range(1, class_prob.shape[1]):
        out = out + class_prob[:, c] * pk_by_class[c]
    return out


def no_orders() -> Assignments:
    return Assignments(
        effector_id=np.zeros(0, np.int64),
        track_id=np.zeros(0, np.int64),
        fire_t_s=np.zeros(0),
        rounds=np.zeros(0, np.int64),
        intercept_t_s=np.zeros(0),
        aim_m=np.zeros((0, 3)),
        pk_expected=np.zeros(0),
    )
