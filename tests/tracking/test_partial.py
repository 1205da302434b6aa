"""Partial measurements (angle-only, bearing-only, range rate) in the EKF and GnnTracker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.sensors.base import Detections, polar_from_cartesian, with_unmeasured
from shorad.tracking import GnnTracker, TrackerConfig
from shorad.tracking.partial import partial_gate, partial_update, polar_rr_measurement

SENSOR = np.array([100.0, -50.0, 10.0])


def _h(x: np.ndarray) -> np.ndarray:
    return polar_rr_measurement(x[None], SENSOR)[0][0]


def test_jacobian_against_finite_differences() -> None:
    x = np.array([1200.0, 800.0, 300.0, -10.0, 4.0, 1.0])
    _, h = polar_rr_measurement(x[None], SENSOR)
    num = np.empty((4, 6))
    for k in range(6):
        e = np.zeros(6)
        e[k] = 1e-4
        num[:, k] = (_h(x + e) - _h(x - e)) / 2e-4
    assert_allclose(h[0], num, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    "comps", [(1, 2), (1,), (1, 2, 3), (0, 1, 2, 3)], ids=["angles", "bearing", "ang+rr", "all"]
)
def test_update_matches_linearised_reference(comps: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    c = np.array(comps, np.intp)
    x = np.array([[1500.0, 2500.0, 200.0, -12.0, -8.0, 0.5]])
    a = rng.normal(size=(6, 6))
    p = (a @ a.T + np.diag([400.0, 400.0, 400.0, 25.0, 25.0, 25.0]))[None]
    sig = np.array([5.0, 0.01, 0.01, 0.5])[c]
    r_cov = np.diag(sig**2)[None]
    z = (_h(x[0])[c] + sig * rng.normal(size=c.size))[None]
    xu, pu = partial_update(x, p, z, r_cov, SENSOR[None], c)
    # Reference: textbook linearised update (short form, explicit inverse, no wrap needed here).
    hh = polar_rr_measurement(x, SENSOR)[1][0][c]
    s = hh @ p[0] @ hh.T + r_cov[0]
    k = p[0] @ hh.T @ np.linalg.inv(s)
    assert_allclose(xu[0], x[0] + k @ (z[0] - _h(x[0])[c]), rtol=1e-9)
    assert_allclose(pu[0], (np.eye(6) - k @ hh) @ p[0], rtol=1e-6, atol=1e-6)
    d2, _ = partial_gate(x, p, z, r_cov, SENSOR[None], c)
    nu = z[0] - _h(x[0])[c]
    assert d2[0, 0] == pytest.approx(nu @ np.linalg.solve(s, nu), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bearing_only=st.booleans())
def test_partial_update_keeps_covariance_spd(seed: int, bearing_only: bool) -> None:
    rng = np.random.default_rng(seed)
    c = np.array([1] if bearing_only else [1, 2], np.intp)
    x = np.concatenate([rng.uniform(-3000, 3000, (3, 3)), rng.normal(size=(3, 3)) * 20], 1)
    a = rng.normal(size=(3, 6, 6))
    p = a @ np.swapaxes(a, -1, -2) * 50.0 + np.eye(6)
    r_cov = np.broadcast_to(np.eye(c.size) * 1e-6, (3, c.size, c.size))
    z = polar_rr_measurement(x, SENSOR)[0][:, c]
    _, pu = partial_update(x, p, z, r_cov, np.tile(SENSOR, (3, 1)), c)
    assert_allclose(pu, np.swapaxes(pu, -1, -2), atol=1e-8)
    assert np.linalg.eigvalsh(pu).min() > 0.0


def _dets(z4: np.ndarray, r4: np.ndarray, sensor_id: int, pos: np.ndarray) -> Detections:
    n = z4.shape[0]
    return Detections(
        t_s=np.zeros(n),
        sensor_id=np.full(n, sensor_id, np.int32),
        z=z4,
        R=r4,
        sensor_pos_m=np.tile(pos, (n, 1)),
        truth_id=np.zeros(n, np.int64),
    )


def _angle_dets(truth: np.ndarray, pos: np.ndarray, comps: tuple[int, ...]) -> Detections:
    n = truth.shape[0]
    z3 = polar_from_cartesian(truth - pos)
    z4, r4 = with_unmeasured(z3, np.broadcast_to(np.diag([25.0, 1e-6, 1e-6]), (n, 3, 3)))
    drop = [k for k in range(3) if k not in comps]
    z4[:, drop] = np.nan
    r4[:, drop, :] = 0.0
    r4[:, :, drop] = 0.0
    return _dets(z4, r4, 7, pos)


@pytest.mark.parametrize("comps", [(1, 2), (1,)], ids=["angle-only", "bearing-only"])
def test_gnn_tracker_updates_existing_tracks_and_never_starts_one(comps: tuple[int, ...]) -> None:
    tracker = GnnTracker(TrackerConfig(), (10.0,), (5.0,))
    truth = np.array([[1500.0, 2500.0, 150.0], [-2000.0, 1000.0, 300.0]])
    radar = np.zeros(3)
    eo = np.array([500.0, 500.0, 20.0])
    z3 = polar_from_cartesian(truth - radar)
    z4, r4 = with_unmeasured(z3, np.broadcast_to(np.diag([25.0, 1e-5, 1e-5]), (2, 3, 3)))
    step = tracker.step(tracker.initial(), _dets(z4, r4, 0, radar), 0.0)
    tracks = step.tracks
    # One angle detection per target plus one far from both.
    stray = np.array([[4000.0, -4000.0, 900.0]])
    dets = _angle_dets(np.concatenate([truth, stray]), eo, comps)
    step2 = tracker.step(tracks, dets, 1.0)
    assert step2.det_track_id[:2].tolist() == tracks.track_id.tolist()
    assert step2.det_track_id[2] == -1
    assert len(step2.tracks) == 2  # no track started
    assert (step2.tracks.hits == 2).all()
    assert (step2.tracks.last_update_t_s == 1.0).all()
    predicted = tracker.step(tracks, Detections.empty(), 1.0).tracks
    var_pred = np.trace(predicted.P[:, :3, :3], axis1=1, axis2=2)
    var_upd = np.trace(step2.tracks.P[:, :3, :3], axis1=1, axis2=2)
    assert (var_upd < 0.9 * var_pred).all()
    # Without tracks, partial detections start nothing and stay unassociated.
    empty = tracker.step(tracker.initial(), dets, 0.0)
    assert len(empty.tracks) == 0
    assert (empty.det_track_id == -1).all()


def test_range_rate_refines_velocity() -> None:
    tracker = GnnTracker(TrackerConfig(), (10.0,), (5.0,))
    radar = np.zeros(3)
    p0 = np.array([[3000.0, 0.0, 100.0]])
    v = np.array([-20.0, 0.0, 0.0])
    sig = np.diag([25.0, 1e-6, 1e-6])

    def scan(t: float, with_rr: bool) -> Detections:
        pos = p0 + v * t
        z4, r4 = with_unmeasured(polar_from_cartesian(pos - radar), sig[None])
        if with_rr:
            z4[:, 3] = pos[0] @ v / np.linalg.norm(pos[0])
            r4[:, 3, 3] = 0.25
        return _dets(z4, r4, 0, radar)

    out = {}
    for with_rr in (False, True):
        tracks = tracker.initial()
        for k in range(3):
            tracks = tracker.step(tracks, scan(float(k), with_rr), float(k)).tracks
        out[with_rr] = (tracks.x[0, 3], tracks.P[0, 3, 3])
    assert abs(out[True][0] - v[0]) < abs(out[False][0] - v[0]) + 0.5
    assert out[True][1] < 0.5 * out[False][1]
