from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.threats import Assets, RaidGroup, ThreatClass, plan_raid, truth_at
from shorad.threats.raid import MIN_DIVE_HEIGHT_M

QUAD = ThreatClass("quadcopter", 15.0, 2.0, 80.0, 120.0, -20.0, 2000.0)
LM = ThreatClass("loitering_munition", 45.0, 4.0, 150.0, 400.0, -10.0, 35000.0)


@pytest.fixture
def assets() -> Assets:
    return Assets(
        asset_id=np.array(["a", "b"], dtype=object),
        aim_m=np.array([[0.0, 0.0, 30.0], [500.0, 200.0, 60.0]]),
        radius_m=np.array([20.0, 15.0]),
        value=np.array([100.0, 50.0]),
        building=np.array([-1, -1], np.int64),
    )


def _groups() -> list[RaidGroup]:
    return [
        RaidGroup(
            1, 6, (10.0, 60.0), (np.radians(150), np.radians(210)), 5000.0, 0, np.zeros((0, 2))
        ),
        RaidGroup(
            0, 5, (0.0, 30.0), (np.radians(-30), np.radians(30)), 2000.0, -1, np.zeros((0, 2))
        ),
    ]


def test_plan_is_deterministic_and_respects_the_raid(assets: Assets) -> None:
    p1 = plan_raid(_groups(), [QUAD, LM], assets, rng=np.random.default_rng(3))
    p2 = plan_raid(_groups(), [QUAD, LM], assets, rng=np.random.default_rng(3))
    assert_allclose(p1.vert_m, p2.vert_m, rtol=0, atol=0)
    assert len(p1) == 11
    assert (p1.cls[:6] == 1).all()
    assert (p1.cls[6:] == 0).all()
    lm = slice(0, 6)
    assert ((p1.launch_t_s[lm] >= 10.0) & (p1.launch_t_s[lm] <= 60.0)).all()
    start = p1.vert_m[lm, 0, :2] - p1.vert_m[lm, -1, :2]
    assert_allclose(np.hypot(start[:, 0], start[:, 1]), 5000.0, rtol=1e-9)
    bearing = np.degrees(np.arctan2(start[:, 0], start[:, 1])) % 360
    assert ((bearing >= 150) & (bearing <= 210)).all()
    # aim points within 30 % of the target's radius
    off = np.linalg.norm(p1.vert_m[lm, -1, :2] - assets.aim_m[0, :2], axis=1)
    assert (off <= 0.3 * 20.0 + 1e-9).all()
    assert set(p1.target[6:].tolist()) <= {0, 1}


def test_paths_cruise_then_dive(assets: Assets) -> None:
    plan = plan_raid(_groups(), [QUAD, LM], assets, rng=np.random.default_rng(5))
    for i in range(len(plan)):
        z = plan.vert_m[i, :, 2]
        aim_z = plan.vert_m[i, -1, 2]
        cruise = z[0]
        assert cruise >= aim_z + MIN_DIVE_HEIGHT_M - 1e-9
        assert z[-1] < cruise  # the last leg goes down
        dive_xy = plan.vert_m[i, -2, :2] - plan.vert_m[i, -1, :2]
        tc = [QUAD, LM][plan.cls[i]]
        assert_allclose(np.hypot(*dive_xy), tc.dive_start_m, rtol=1e-9)


def test_truth_follows_the_plan(assets: Assets) -> None:
    plan = plan_raid(_groups(), [QUAD, LM], assets, rng=np.random.default_rng(9))
    before = truth_at(plan, -1.0)
    assert not before.alive.any()
    assert_allclose(before.pos_m, plan.vert_m[:, 0], atol=1e-9)
    after = truth_at(plan, 1e6)
    assert not after.alive.any()
    assert_allclose(after.pos_m, plan.vert_m[:, -1], atol=1e-9)
    mid = truth_at(plan, float(np.max(plan.launch_t_s)) + 1.0)
    assert mid.alive.all()
    speed = np.linalg.norm(mid.vel_mps, axis=1)
    assert ((speed > 0.5 * 15.0 - 1e-9) & (speed < 1.5 * 45.0 + 1e-9)).all()
    killed = np.zeros(len(plan), bool)
    killed[0] = True
    assert not truth_at(plan, float(np.max(plan.launch_t_s)) + 1.0, killed).alive[0]


@settings(max_examples=40, deadline=None)
@given(t=st.floats(0.0, 700.0), dt=st.floats(0.01, 5.0))
def test_truth_is_continuous(t: float, dt: float) -> None:
    a = Assets(
        asset_id=np.array(["a"], dtype=object),
        aim_m=np.array([[0.0, 0.0, 30.0]]),
        radius_m=np.array([20.0]),
        value=np.array([1.0]),
        building=np.array([-1], np.int64),
    )
    plan = plan_raid(_groups()[:1], [QUAD, LM], a, rng=np.random.default_rng(1))
    p0 = truth_at(plan, t).pos_m
    p1 = truth_at(plan, t + dt).pos_m
    vmax = 1.5 * 45.0
    assert (np.linalg.norm(p1 - p0, axis=1) <= vmax * dt + 1e-6).all()
