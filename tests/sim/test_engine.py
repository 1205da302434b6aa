from __future__ import annotations

import multiprocessing as mp
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shorad.api import run, run_full
from shorad.sim import EventKind, simulate


@pytest.fixture(scope="module")
def small_run(small_spec: Any) -> Any:
    return run_full(small_spec, 7)


def _summary_json(args: tuple[Any, int]) -> str:
    spec, seed = args
    return run(spec, seed).to_json()


def test_same_seed_same_bytes_in_two_processes(small_spec: Any, small_run: Any) -> None:
    first = small_run[0].to_json()
    assert run(small_spec, 7).to_json() == first
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        other = pool.map(_summary_json, [(small_spec, 7)])[0]
    assert other == first
    assert run(small_spec, 8).to_json() != first


def test_events_are_time_ordered_and_causal(small_run: Any) -> None:
    _check_causal(*small_run)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1))
def test_no_event_before_its_cause_for_any_seed(small_spec: Any, seed: int) -> None:
    _check_causal(*run_full(small_spec, seed))


def _check_causal(summary: Any, result: Any) -> None:
    ev = result.events
    assert (np.diff(ev.t_s) >= 0).all()
    n = len(result.plan)
    for i in range(n):
        mine = ev.threat_id == i
        t = {k: ev.t_s[mine & ev.of(k)] for k in EventKind}
        launch = t[EventKind.LAUNCH]
        assert launch.size == 1
        for k in (
            EventKind.DETECTION,
            EventKind.TRACK_CONFIRMED,
            EventKind.ENGAGEMENT,
            EventKind.INTERCEPT,
            EventKind.KILL,
            EventKind.LEAK,
            EventKind.IMPACT,
        ):
            assert (t[k] >= launch[0]).all(), k
        if t[EventKind.TRACK_CONFIRMED].size:
            assert t[EventKind.DETECTION].min() <= t[EventKind.TRACK_CONFIRMED].min()
        if t[EventKind.KILL].size:
            assert t[EventKind.KILL].size == 1
            assert t[EventKind.LEAK].size == 0
            # a kill needs an engagement decided before it
            assert t[EventKind.ENGAGEMENT].size
            assert t[EventKind.ENGAGEMENT].min() < t[EventKind.KILL][0]
            assert (t[EventKind.DETECTION] <= t[EventKind.KILL][0] + 1e-9).all()
        assert t[EventKind.LEAK].size <= 1
    outcomes = [x["outcome"] for x in summary.threats]
    assert summary.totals["killed"] == outcomes.count("killed")
    assert summary.totals["leakers"] == outcomes.count("leaked")
    assert summary.totals["kills"] == int(ev.of(EventKind.KILL).sum())


def test_the_defence_does_something(small_run: Any) -> None:
    summary, _ = small_run
    t = summary.totals
    assert t["detected"] == t["threats"]
    assert t["confirmed"] >= t["threats"] - 1
    assert t["shots"] > 0
    assert t["kills"] > 0


def test_engagements_stay_inside_the_envelope(small_spec: Any, small_run: Any) -> None:
    _, result = small_run
    ev = result.events
    eff = small_spec.effectors
    m = ev.of(EventKind.ENGAGEMENT)
    for r in np.flatnonzero(m):
        e = int(ev.effector_id[r])
        et = eff.types[int(eff.type_index[e])]
        aim = np.array([ev.x_m[r], ev.y_m[r], ev.z_m[r]])
        rng_m = np.linalg.norm(aim - eff.pos_m[e])
        assert et.min_range_m <= rng_m <= et.max_range_m
        assert aim[2] <= et.max_alt_m
    # magazines: never more shots than magazine + reloads
    shots = np.bincount(ev.effector_id[m], minlength=len(eff))
    reloads = np.bincount(ev.effector_id[ev.of(EventKind.RELOAD)], minlength=len(eff))
    assert (shots <= eff.column("magazine") * (1 + reloads)).all()


def test_adding_a_unit_does_not_change_the_raid(small_spec: Any, small_scenario: dict) -> None:
    from shorad.scenario import parse_scenario

    small_scenario["units"].append(
        {
            "id": "extra",
            "on": "way/628296653",
            "sensor": "rooftop_radar",
            "effectors": ["rooftop_gun"],
        }
    )
    bigger = parse_scenario(small_scenario)
    a = simulate(small_spec, 3).plan
    b = simulate(bigger, 3).plan
    np.testing.assert_array_equal(a.vert_m, b.vert_m)
    np.testing.assert_array_equal(a.vert_t_s, b.vert_t_s)
