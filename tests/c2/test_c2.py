from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.c2 import (
    Doctrine,
    Effectors,
    EffectorState,
    EffectorType,
    GreedyAssigner,
    evaluate_threats,
    intercept_time,
)
from shorad.threats import Assets
from shorad.tracking import CONFIRMED, TENTATIVE, Tracks


def _tracks(x: np.ndarray, status: np.ndarray | None = None, t: float = 10.0) -> Tracks:
    m = x.shape[0]
    return Tracks(
        t_s=t,
        track_id=np.arange(1, m + 1, dtype=np.int64),
        x=np.asarray(x, np.float64),
        P=np.tile(np.eye(6), (m, 1, 1)),
        status=np.full(m, CONFIRMED, np.int8) if status is None else status.astype(np.int8),
        class_prob=np.tile([0.5, 0.5], (m, 1)),
        hits=np.full(m, 5, np.int32),
        born_t_s=np.zeros(m),
        last_update_t_s=np.full(m, t),
        confirmed_t_s=np.zeros(m),
        next_track_id=m + 1,
    )


def _assets(xy: list[tuple[float, float]], value: list[float]) -> Assets:
    n = len(xy)
    return Assets(
        asset_id=np.array([f"a{i}" for i in range(n)], dtype=object),
        aim_m=np.array([[x, y, 20.0] for x, y in xy]),
        radius_m=np.full(n, 20.0),
        value=np.array(value, np.float64),
        building=np.full(n, -1, np.int64),
    )


def _gun(**kw: object) -> EffectorType:
    base = {
        "name": "gun",
        "kind": "gun",
        "min_range_m": 100.0,
        "max_range_m": 2000.0,
        "max_alt_m": 1000.0,
        "reaction_s": 2.0,
        "flyout_mps": 1000.0,
        "pk_by_class": np.array([0.6, 0.4]),
        "pk_range_m": np.array([0.0, 2000.0]),
        "pk_range_factor": np.array([1.0, 0.5]),
        "aim_tolerance_m": 4.0,
        "rounds_per_shot": 10,
        "magazine": 3,
        "reload_s": 60.0,
        "cost_per_shot_usd": 1000.0,
        "channels": 1,
        "debris_radius_m": 10.0,
    }
    base.update(kw)
    return EffectorType(**base)  # type: ignore[arg-type]


def _effectors(
    pos: list[tuple[float, float, float]], types: tuple[EffectorType, ...], idx: list[int]
) -> Effectors:
    e = len(pos)
    return Effectors(
        effector_id=np.arange(e, dtype=np.int64),
        unit=np.arange(e, dtype=np.int64),
        type_index=np.array(idx, np.int64),
        pos_m=np.array(pos, np.float64),
        types=types,
    )


def _state(eff: Effectors, shots: int = 3) -> EffectorState:
    e = len(eff)
    return EffectorState(np.full(e, shots, np.int64), np.zeros(e, np.int64), np.zeros(e))


def test_intercept_time_hand_cases() -> None:
    # stationary target 1000 m away: reaction + distance / speed
    tau = intercept_time(
        np.array([[1000.0, 0.0, 0.0]]),
        np.zeros((1, 3)),
        np.zeros((1, 3)),
        np.array([2.0]),
        np.array([500.0]),
    )
    assert_allclose(tau, [[4.0]], rtol=1e-12)
    # head-on: 1000 - 100 tau = 400 tau -> tau = 2
    tau = intercept_time(
        np.array([[1000.0, 0.0, 0.0]]),
        np.array([[-100.0, 0.0, 0.0]]),
        np.zeros((1, 3)),
        np.array([0.0]),
        np.array([400.0]),
    )
    assert_allclose(tau, [[2.0]], rtol=1e-12)
    # a target running away faster than the round: no intercept
    tau = intercept_time(
        np.array([[1000.0, 0.0, 0.0]]),
        np.array([[500.0, 0.0, 0.0]]),
        np.zeros((1, 3)),
        np.array([0.0]),
        np.array([400.0]),
    )
    assert np.isinf(tau[0, 0])


@settings(max_examples=60, deadline=None)
@given(
    p=st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000), st.floats(0, 500)),
    v=st.tuples(st.floats(-60, 60), st.floats(-60, 60), st.floats(-10, 10)),
    rho=st.floats(0, 5),
)
def test_intercept_point_is_reached_exactly(p: tuple, v: tuple, rho: float) -> None:
    pp, vv = np.array([p]), np.array([v])
    tau = intercept_time(pp, vv, np.zeros((1, 3)), np.array([rho]), np.array([600.0]))[0, 0]
    assert np.isfinite(tau)  # a 600 m/s round always catches a 60 m/s drone
    aim = pp[0] + vv[0] * tau
    assert np.linalg.norm(aim) == pytest.approx(
        600.0 * (tau - rho), abs=1e-6 * max(1.0, tau * 600)
    )


def test_threat_evaluation_against_hand_computed_cpa() -> None:
    # track at (0, -1000) flying north at 10 m/s; asset at (50, 0): ttg 100 s, cpa 50 m
    tr = _tracks(
        np.array([[0.0, -1000.0, 100.0, 0.0, 10.0, 0.0], [0.0, -1000.0, 100.0, 0.0, -10.0, 0.0]])
    )
    a = _assets([(50.0, 0.0), (-2000.0, -1000.0)], [100.0, 10.0])
    ta = evaluate_threats(tr, a)
    assert_allclose(ta.time_to_go_s[0, 0], 100.0, rtol=1e-12)
    assert_allclose(ta.cpa_m[0, 0], 50.0, rtol=1e-12)
    assert ta.asset[0] == 0
    # the second track flies away from asset 0 and tangentially past asset 1: zero urgency for 0
    assert np.isinf(ta.time_to_go_s[1, 0])
    assert ta.threat_value[0] > ta.threat_value[1]
    # urgency: twice as far (same heading) is less threatening
    far = evaluate_threats(_tracks(np.array([[0.0, -3000.0, 100.0, 0.0, 10.0, 0.0]])), a)
    assert far.threat_value[0] < ta.threat_value[0]


def test_greedy_serves_the_biggest_threat_first_and_respects_channels() -> None:
    a = _assets([(0.0, 0.0)], [100.0])
    # two tracks inbound; the nearer one is more urgent
    tr = _tracks(
        np.array([[0.0, 800.0, 100.0, 0.0, -20.0, 0.0], [0.0, 1500.0, 100.0, 0.0, -20.0, 0.0]])
    )
    eff = _effectors([(0.0, 0.0, 30.0)], (_gun(),), [0])
    assigner = GreedyAssigner(Doctrine(), None)
    ta = evaluate_threats(tr, a)
    out = assigner.assign(tr, ta, eff, _state(eff), np.zeros(0, np.int64))
    assert out.track_id.tolist() == [1]  # one channel: only the most urgent
    assert_allclose(out.fire_t_s, [12.0])
    # the aim point is where the track will be at intercept
    tau = out.intercept_t_s[0] - 10.0
    assert_allclose(out.aim_m[0], tr.x[0, :3] + tr.x[0, 3:] * tau, rtol=1e-12)
    # held tracks are skipped
    out = assigner.assign(tr, ta, eff, _state(eff), np.array([1], np.int64))
    assert out.track_id.tolist() == [2]
    # busy channel or empty magazine or reloading: nothing
    for st_ in (
        EffectorState(np.array([3]), np.array([1]), np.zeros(1)),
        EffectorState(np.array([0]), np.array([0]), np.zeros(1)),
        EffectorState(np.array([3]), np.array([0]), np.array([99.0])),
    ):
        assert len(assigner.assign(tr, ta, eff, st_, np.zeros(0, np.int64))) == 0


def test_greedy_respects_envelope_and_track_status() -> None:
    a = _assets([(0.0, 0.0)], [100.0])
    eff = _effectors([(0.0, 0.0, 30.0)], (_gun(max_range_m=1000.0),), [0])
    assigner = GreedyAssigner(Doctrine(), None)
    far = _tracks(np.array([[0.0, 3000.0, 100.0, 0.0, -20.0, 0.0]]))
    assert (
        len(
            assigner.assign(far, evaluate_threats(far, a), eff, _state(eff), np.zeros(0, np.int64))
        )
        == 0
    )
    tent = _tracks(np.array([[0.0, 800.0, 100.0, 0.0, -20.0, 0.0]]), status=np.array([TENTATIVE]))
    assert (
        len(
            assigner.assign(
                tent, evaluate_threats(tent, a), eff, _state(eff), np.zeros(0, np.int64)
            )
        )
        == 0
    )
    loose = GreedyAssigner(Doctrine(engage_confirmed_only=False), None)
    assert (
        len(loose.assign(tent, evaluate_threats(tent, a), eff, _state(eff), np.zeros(0, np.int64)))
        == 1
    )
    stale = _tracks(np.array([[0.0, 800.0, 100.0, 0.0, -20.0, 0.0]]), t=10.0)
    stale = Tracks(
        **{
            **{f: getattr(stale, f) for f in stale.__dataclass_fields__},
            "last_update_t_s": np.array([5.0]),
        }
    )
    assert (
        len(
            assigner.assign(
                stale, evaluate_threats(stale, a), eff, _state(eff), np.zeros(0, np.int64)
            )
        )
        == 0
    )


def test_shoot_shoot_look_uses_two_effectors() -> None:
    a = _assets([(0.0, 0.0)], [100.0])
    tr = _tracks(np.array([[0.0, 800.0, 100.0, 0.0, -20.0, 0.0]]))
    eff = _effectors(
        [(0.0, 0.0, 30.0), (50.0, 0.0, 30.0), (-50.0, 0.0, 30.0)], (_gun(),), [0, 0, 0]
    )
    ta = evaluate_threats(tr, a)
    one = GreedyAssigner(Doctrine(shots_per_salvo=1), None).assign(
        tr, ta, eff, _state(eff), np.zeros(0, np.int64)
    )
    two = GreedyAssigner(Doctrine(shots_per_salvo=2), None).assign(
        tr, ta, eff, _state(eff), np.zeros(0, np.int64)
    )
    assert len(one) == 1
    assert len(two) == 2
    assert len(set(two.effector_id.tolist())) == 2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 12), e=st.integers(1, 6))
def test_every_assignment_is_feasible(seed: int, m: int, e: int) -> None:
    g = np.random.default_rng(seed)
    pos = np.column_stack([g.uniform(-3000, 3000, (m, 2)), g.uniform(20, 300, m)])
    vel = np.column_stack([g.uniform(-40, 40, (m, 2)), g.uniform(-5, 5, m)])
    tr = _tracks(np.hstack([pos, vel]))
    a = _assets([(0.0, 0.0), (300.0, 100.0)], [100.0, 50.0])
    types = (
        _gun(),
        _gun(name="missile", min_range_m=300.0, max_range_m=4000.0, channels=2, magazine=2),
    )
    eff = _effectors(
        [tuple(p) for p in np.column_stack([g.uniform(-500, 500, (e, 2)), np.full(e, 30.0)])],
        types,
        list(g.integers(0, 2, e)),
    )
    state = EffectorState(g.integers(0, 3, e), np.zeros(e, np.int64), np.zeros(e))
    out = GreedyAssigner(Doctrine(), None).assign(
        tr, evaluate_threats(tr, a), eff, state, np.zeros(0, np.int64)
    )
    channels = eff.column("channels").astype(int)
    used = np.bincount(out.effector_id, minlength=e)
    assert (used <= np.minimum(channels, state.shots_left)).all()
    assert len(set(out.track_id.tolist())) == len(out)  # shoot-look-shoot: one shot per track
    for k in range(len(out)):
        j = int(out.effector_id[k])
        t = eff.types[int(eff.type_index[j])]
        rng_m = np.linalg.norm(out.aim_m[k] - eff.pos_m[j])
        assert t.min_range_m - 1e-6 <= rng_m <= t.max_range_m + 1e-6
        assert out.aim_m[k, 2] <= t.max_alt_m
        assert out.intercept_t_s[k] >= out.fire_t_s[k] - 1e-9


def test_no_engagement_is_ordered_over_a_no_fire_zone() -> None:
    from shapely import Polygon, box

    from shorad.c2 import over_no_fire_zone

    a = _assets([(0.0, 0.0)], [100.0])
    tr = _tracks(np.array([[0.0, 800.0, 100.0, 0.0, -20.0, 0.0]]))
    eff = _effectors([(0.0, 0.0, 30.0)], (_gun(),), [0])
    ta = evaluate_threats(tr, a)
    free = GreedyAssigner(Doctrine(), None).assign(tr, ta, eff, _state(eff), np.zeros(0, np.int64))
    assert len(free) == 1
    aim = free.aim_m[0]
    zone = box(aim[0] - 50, aim[1] - 50, aim[0] + 50, aim[1] + 50)
    held = GreedyAssigner(Doctrine(no_fire_zones=(zone,)), None).assign(
        tr, ta, eff, _state(eff), np.zeros(0, np.int64)
    )
    assert len(held) == 0
    far = Polygon([(5000, 5000), (5100, 5000), (5100, 5100)])
    elsewhere = GreedyAssigner(Doctrine(no_fire_zones=(far,)), None).assign(
        tr, ta, eff, _state(eff), np.zeros(0, np.int64)
    )
    assert len(elsewhere) == 1
    # the debris drop counts too: a zone under where the debris would land
    aim3 = np.array([[[0.0, 0.0, 19.6133]]])  # 2 s fall
    vel = np.array([[10.0, 0.0, 0.0]])
    debris_zone = box(15, -5, 25, 5)
    assert over_no_fire_zone(aim3, vel, (debris_zone,))[0, 0]
    assert not over_no_fire_zone(aim3, np.zeros((1, 3)), (debris_zone,))[0, 0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 10), e=st.integers(1, 5))
def test_wta_assigner_is_feasible_and_at_least_as_good_as_greedy(
    seed: int, m: int, e: int
) -> None:
    from shorad.c2 import WtaAssigner
    from shorad.c2.greedy import engagement_options

    g = np.random.default_rng(seed)
    pos = np.column_stack([g.uniform(-2500, 2500, (m, 2)), g.uniform(20, 300, m)])
    vel = np.column_stack([g.uniform(-40, 40, (m, 2)), g.uniform(-5, 5, m)])
    tr = _tracks(np.hstack([pos, vel]))
    a = _assets([(0.0, 0.0), (300.0, 100.0)], [100.0, 50.0])
    types = (_gun(), _gun(name="missile", min_range_m=300.0, max_range_m=4000.0, channels=2))
    eff = _effectors(
        [tuple(p) for p in np.column_stack([g.uniform(-500, 500, (e, 2)), np.full(e, 30.0)])],
        types,
        list(g.integers(0, 2, e)),
    )
    state = EffectorState(g.integers(0, 3, e), np.zeros(e, np.int64), np.zeros(e))
    ta = evaluate_threats(tr, a)
    doctrine = Doctrine(shots_per_salvo=int(g.integers(1, 3)))
    held = np.zeros(0, np.int64)
    greedy = GreedyAssigner(doctrine, None).assign(tr, ta, eff, state, held)
    wta = WtaAssigner(doctrine, None).assign(tr, ta, eff, state, held)
    opts = engagement_options(doctrine, None, tr, ta, eff, state, held)

    def surviving(orders: object) -> float:
        if opts is None:
            return 0.0
        s = opts.threat_value.copy()
        for k in range(len(orders)):  # type: ignore[arg-type]
            i = int(np.flatnonzero(opts.tracks.track_id == orders.track_id[k])[0])  # type: ignore[attr-defined]
            s[i] *= 1.0 - orders.pk_expected[k]  # type: ignore[attr-defined]
        return float(s.sum())

    # feasibility: channels, shots, salvo size, envelope
    used = np.bincount(wta.effector_id, minlength=e)
    chans = eff.column("channels").astype(int)
    assert (used <= np.minimum(chans, state.shots_left)).all()
    assert (np.bincount(wta.track_id, minlength=m + 1) <= doctrine.shots_per_salvo).all()
    for k in range(len(wta)):
        j = int(wta.effector_id[k])
        t = eff.types[int(eff.type_index[j])]
        assert (
            t.min_range_m - 1e-6
            <= np.linalg.norm(wta.aim_m[k] - eff.pos_m[j])
            <= t.max_range_m + 1e-6
        )
    assert surviving(wta) <= surviving(greedy) * (1 + 1e-9) + 1e-12


def test_engagement_window_by_hand() -> None:
    from shorad.c2 import engagement_windows

    # head-on at 100 m/s from 3 km, gun at the origin: 1 km max range, 1000 m/s, 1 s reaction
    p = np.array([[3000.0, 0.0, 0.0]])
    v = np.array([[-100.0, 0.0, 0.0]])
    e = np.zeros((1, 3))
    one = np.array([1.0])
    early, late = engagement_windows(
        p,
        v,
        e,
        one,
        np.array([1000.0]),
        np.array([100.0]),
        np.array([1000.0]),
        np.array([1000.0]),
        np.array([30.0]),
        step_s=0.01,
    )
    # earliest: the round meets it as it crosses 1 km: 3000 - 100 t = d, t = 1 + d / 1000
    # -> d = 1000 m at t = 20 s (it is the range limit, not flyout, that binds here)
    assert early[0, 0] == pytest.approx(20.0, abs=0.011)
    # latest: at 100 m (min range), t = 29 s, before it reaches the asset at the origin (30 s)
    assert late[0, 0] == pytest.approx(29.0, abs=0.011)
    # a horizon before the window: none
    none_e, none_l = engagement_windows(
        p,
        v,
        e,
        one,
        np.array([1000.0]),
        np.array([100.0]),
        np.array([1000.0]),
        np.array([1000.0]),
        np.array([10.0]),
    )
    assert np.isnan(none_e[0, 0])
    assert np.isnan(none_l[0, 0])
    # flyout-limited: a slow round against a target already in range
    early2, _ = engagement_windows(
        np.array([[500.0, 0.0, 0.0]]),
        np.zeros((1, 3)),
        e,
        one,
        np.array([100.0]),
        np.array([0.0]),
        np.array([1000.0]),
        np.array([1000.0]),
        np.array([60.0]),
    )
    assert early2[0, 0] == pytest.approx(6.0, rel=1e-9)  # 1 s + 500 m / 100 m/s, refined
