"""Resolve shots against truth.

The round (or missile) flies to the aim point C2 predicted from its track. At the intercept
time the nearest live threat to that point is the one engaged; the kill probability is

    pk = pk_by_class[true class] * pk_range_factor(range) * exp(-0.5 (miss_m / aim_tolerance_m)^2)

so a poor track (large aim-point error) costs kills, and a shot at a false track (no threat
within ``FALSE_TRACK_FACTOR * aim_tolerance_m``) hits nothing. One uniform draw per shot, in
shot order, decides the kill.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shorad.c2.base import Assignments, Effectors
from shorad.engagement.base import NO_THREAT, Outcomes
from shorad.threats.base import Truth

__all__ = ["FALSE_TRACK_FACTOR", "resolve_engagements"]

FALSE_TRACK_FACTOR = 10.0
"""A threat further than this many aim tolerances from the aim point was not engaged."""


def resolve_engagements(
    shots: Assignments,
    effectors: Effectors,
    truths: Sequence[Truth],
    *,
    rng: np.random.Generator,
) -> Outcomes:
    """Outcome of each shot.

    Parameters
    ----------
    shots : Assignments
        The shots arriving now (``k`` rows).
    effectors : Effectors
        Deployed effectors (to look up type, position).
    truths : sequence of Truth, length k
        Truth at each shot's ``intercept_t_s``.
    rng : numpy.random.Generator
        The engagement stage's stream.
    """
    k = len(shots)
    u = rng.uniform(size=k)
    threat = np.full(k, NO_THREAT, np.int64)
    killed = np.zeros(k, bool)
    miss = np.full(k, np.inf)
    pk = np.zeros(k)
    pos = shots.aim_m.copy()
    vel = np.zeros((k, 3))
    row_of = {int(e): i for i, e in enumerate(effectors.effector_id)}
    for s in range(k):
        e = row_of[int(shots.effector_id[s])]
        etype = effectors.types[int(effectors.type_index[e])]
        truth = truths[s]
        alive = np.flatnonzero(truth.alive)
        if alive.size == 0:
            continue
        dist = np.linalg.norm(truth.pos_m[alive] - shots.aim_m[s], axis=1)
        j = int(np.argmin(dist))
        if dist[j] > FALSE_TRACK_FACTOR * etype.aim_tolerance_m:
            continue
        n = int(alive[j])
        rng_m = float(np.linalg.norm(truth.pos_m[n] - effectors.pos_m[e]))
        p = (
            etype.pk_by_class[int(truth.cls[n])]
            * float(np.interp(rng_m, etype.pk_range_m, etype.pk_range_factor))
            * float(np.exp(-0.5 * (dist[j] / etype.aim_tolerance_m) ** 2))
        )
        threat[s] = int(truth.threat_id[n])
        miss[s] = float(dist[j])
        pk[s] = p
        killed[s] = bool(u[s] < p)
        pos[s] = truth.pos_m[n]
        vel[s] = truth.vel_mps[n]
    return Outcomes(
        effector_id=shots.effector_id.copy(),
        track_id=shots.track_id.copy(),
        threat_id=threat,
        t_s=shots.intercept_t_s.copy(),
        killed=killed,
        miss_m=miss,
        pk=pk,
        pos_m=pos,
        target_vel_mps=vel,
    )
