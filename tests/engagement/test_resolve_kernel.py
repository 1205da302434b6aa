"""The compiled one-shot resolution against :func:`resolve_engagements` (its reference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shorad.c2.base import Assignments
from shorad.engagement import resolve_engagements
from shorad.engagement._kernels import resolve_shot_kernel
from shorad.threats.base import Truth


def test_resolve_kernel_matches_reference(small_spec: Any) -> None:
    eff = small_spec.effectors
    rng = np.random.default_rng(5)
    n_cls = len(small_spec.classes)
    kills = misses = false = 0
    for _ in range(300):
        n = int(rng.integers(0, 6))
        pos = rng.normal(0.0, 30.0, (n, 3)) + np.array([200.0, 100.0, 80.0])
        vel = rng.normal(0.0, 20.0, (n, 3))
        alive = rng.random(n) < 0.8
        cls = rng.integers(0, n_cls, n).astype(np.int32)
        truth = Truth(
            t_s=1.0,
            threat_id=np.arange(n, dtype=np.int64) + 10,
            cls=cls,
            pos_m=pos,
            vel_mps=vel,
            alive=alive,
        )
        e = int(rng.integers(0, len(eff)))
        aim = np.array([200.0, 100.0, 80.0]) + rng.normal(0.0, 15.0, 3)
        shot = Assignments(
            effector_id=eff.effector_id[e : e + 1].astype(np.int64),
            track_id=np.array([7], np.int64),
            fire_t_s=np.array([0.5]),
            rounds=np.array([1], np.int64),
            intercept_t_s=np.array([1.0]),
            aim_m=aim[None, :],
            pk_expected=np.array([0.5]),
        )
        seed = int(rng.integers(0, 2**31))
        want = resolve_engagements(shot, eff, [truth], rng=np.random.default_rng(seed))
        u = np.random.default_rng(seed).uniform(size=1)[0]
        etype = eff.types[int(eff.type_index[e])]
        thr, killed, miss, pk, p, v = resolve_shot_kernel(
            aim,
            eff.pos_m[e],
            etype.aim_tolerance_m,
            etype.pk_by_class,
            etype.pk_range_m,
            etype.pk_range_factor,
            pos,
            vel,
            alive,
            cls,
            truth.threat_id,
            u,
        )
        assert thr == want.threat_id[0]
        assert killed == want.killed[0]
        np.testing.assert_allclose(miss, want.miss_m[0], rtol=1e-12)
        np.testing.assert_allclose(pk, want.pk[0], rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(p, want.pos_m[0])
        np.testing.assert_array_equal(v, want.target_vel_mps[0])
        kills += int(killed)
        misses += int(thr >= 0 and not killed)
        false += int(thr < 0)
    # every branch was taken
    assert kills
    assert misses
    assert false
