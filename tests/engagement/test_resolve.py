from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from shorad.c2 import Assignments, Effectors, EffectorType
from shorad.engagement import NO_THREAT, resolve_engagements
from shorad.threats import Truth


def _effectors() -> Effectors:
    t = EffectorType(
        name="gun",
        kind="gun",
        min_range_m=100.0,
        max_range_m=2000.0,
        max_alt_m=1000.0,
        reaction_s=2.0,
        flyout_mps=1000.0,
        pk_by_class=np.array([0.6, 0.3]),
        pk_range_m=np.array([0.0, 2000.0]),
        pk_range_factor=np.array([1.0, 1.0]),
        aim_tolerance_m=4.0,
        rounds_per_shot=10,
        magazine=3,
        reload_s=60.0,
        cost_per_shot_usd=1000.0,
        channels=1,
        debris_radius_m=10.0,
    )
    return Effectors(np.array([0]), np.array([0]), np.array([0]), np.zeros((1, 3)), (t,))


def _shot(aim: list[float]) -> Assignments:
    return Assignments(
        effector_id=np.array([0]),
        track_id=np.array([5]),
        fire_t_s=np.array([1.0]),
        rounds=np.array([10]),
        intercept_t_s=np.array([2.0]),
        aim_m=np.array([aim]),
        pk_expected=np.array([0.5]),
    )


def _truth(pos: list[list[float]], cls: list[int]) -> Truth:
    n = len(pos)
    return Truth(
        2.0,
        np.arange(n, dtype=np.int64),
        np.array(cls, np.int32),
        np.array(pos, float),
        np.tile([10.0, 0.0, 0.0], (n, 1)),
        np.ones(n, bool),
    )


def test_kill_rate_matches_pk_for_a_perfect_aim() -> None:
    eff = _effectors()
    truth = _truth([[500.0, 0.0, 100.0]], [0])
    g = np.random.default_rng(0)
    kills = [
        bool(resolve_engagements(_shot([500.0, 0.0, 100.0]), eff, [truth], rng=g).killed[0])
        for _ in range(4000)
    ]
    assert abs(np.mean(kills) - 0.6) < 0.03


def test_aim_error_lowers_pk_and_false_tracks_hit_nothing() -> None:
    eff = _effectors()
    truth = _truth([[500.0, 0.0, 100.0], [900.0, 0.0, 100.0]], [0, 1])
    out = resolve_engagements(
        _shot([504.0, 0.0, 100.0]), eff, [truth], rng=np.random.default_rng(1)
    )
    assert out.threat_id[0] == 0
    assert_allclose(out.miss_m, [4.0])
    assert_allclose(out.pk, [0.6 * np.exp(-0.5)], rtol=1e-12)
    assert_allclose(out.target_vel_mps[0], [10.0, 0.0, 0.0])
    # nothing within 10 aim tolerances: a shot at a false track
    out = resolve_engagements(
        _shot([700.0, 0.0, 100.0]), eff, [truth], rng=np.random.default_rng(1)
    )
    assert out.threat_id[0] == NO_THREAT
    assert not out.killed[0]
    assert out.pk[0] == 0.0
    # the class of the threat actually hit decides the Pk
    out = resolve_engagements(
        _shot([900.0, 0.0, 100.0]), eff, [truth], rng=np.random.default_rng(1)
    )
    assert out.threat_id[0] == 1
    assert out.pk[0] == 0.3
