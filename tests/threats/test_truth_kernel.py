"""The compiled truth kernel against :func:`truth_at` (its numpy reference), bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np

from shorad.rng import RunStreams
from shorad.threats import plan_raid, truth_at
from shorad.threats._kernels import truth_at_kernel


def test_truth_kernel_equals_truth_at(demo_spec: Any) -> None:
    plan = plan_raid(
        demo_spec.raid,
        demo_spec.classes,
        demo_spec.assets,
        rng=RunStreams(3).generator("threats"),
    )
    rng = np.random.default_rng(0)
    end = float(plan.impact_t_s.max())
    # before launch, on vertices, between them, after impact; with and without kills
    times = np.concatenate(
        [[0.0, end, end + 10.0], plan.vert_t_s[:, 1], rng.uniform(0.0, end, 200)]
    )
    for t in times.tolist():
        killed = rng.random(len(plan)) < 0.2
        want = truth_at(plan, t, killed)
        pos, vel, alive = truth_at_kernel(plan.vert_m, plan.vert_t_s, t, killed)
        np.testing.assert_array_equal(pos, want.pos_m)
        np.testing.assert_array_equal(vel, want.vel_mps)
        np.testing.assert_array_equal(alive, want.alive)
        assert alive.any() or t in (0.0, end, end + 10.0) or not want.alive.any()
