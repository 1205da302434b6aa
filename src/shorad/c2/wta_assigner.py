"""Dynamic weapon-target assignment by solving each C2 cycle's static WTA.

Each cycle's engagement options (:func:`shorad.c2.greedy.engagement_options`) become a static
WTA instance: targets are the candidate tracks with their threat values, weapon "types" the
effectors able to fire (one unit per free channel with a round left), ``p_ij`` the expected
kill probability of feasible pairs (0 otherwise: incompatible), and each track takes at most
``shots_per_salvo`` shots. Holding fire is allowed: a dummy target of zero value that every
unit can "hit" absorbs the units not worth firing, turning the ``<=`` counts into the
``=`` counts the solvers use. The instance is solved by :func:`shorad.c2.wta.solve_fast`
with no time budget (construction + local search only), so the orders are a deterministic
function of the picture, whatever the machine's speed.

Unlike the greedy rule, this weighs all tracks at once: it will not spend the only missile
that can reach a fast, far threat on the nearest slow one that a gun can also take.
"""

from __future__ import annotations

import numpy as np

from shorad.c2.greedy import Assigner, EngagementOptions, greedy_rows
from shorad.c2.wta import WtaInstance, solve_fast

__all__ = ["HOLD_VALUE", "WtaAssigner"]

HOLD_VALUE = 1e-12
"""Value of the dummy 'hold fire' target (positive, negligible)."""


class WtaAssigner(Assigner):
    """Assignment of each cycle by static WTA over all engageable pairs (module docstring)."""

    __slots__ = ()

    def choose(self, opts: EngagementOptions) -> list[tuple[int, int]]:
        """Solve the cycle's WTA, starting from the greedy orders too."""
        k, f = opts.pk.shape
        units = np.minimum(opts.channels_left, opts.shots_left).clip(min=0)
        p = np.where(opts.feasible, opts.pk, 0.0).T  # (f, k): weapons x targets
        p = np.hstack([p, np.ones((f, 1))])  # dummy hold target
        value = np.concatenate([np.maximum(opts.threat_value, HOLD_VALUE), [HOLD_VALUE]])
        capacity = np.concatenate(
            [np.full(k, self.doctrine.shots_per_salvo, np.int64), [int(units.sum()) + 1]]
        )
        inst = WtaInstance.create(value, p, units.astype(np.int64), capacity)
        # the greedy orders (rest held) are one start: the result is never worse than greedy
        start = np.zeros((f, k + 1), np.int64)
        for i, j in greedy_rows(opts, self.doctrine.shots_per_salvo):
            start[j, i] += 1
        start[:, k] = units - start[:, :k].sum(axis=1)
        x = solve_fast(inst, time_limit_s=0.0, start=start).x[:, :k]
        # one order per unit (x = 2 is two channels of one effector on one track)
        return sorted((int(i), int(j)) for j, i in np.argwhere(x > 0) for _ in range(int(x[j, i])))
