"""Tests of shorad.tracking.kalman (NCV model, polar EKF) and of the compiled kernels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from shorad.sensors.base import (
    Detections,
    cartesian_from_polar,
    polar_from_cartesian,
    with_unmeasured,
)
from shorad.tracking import _kernels as kern
from shorad.tracking.base import CONFIRMED, TENTATIVE, Tracks
from shorad.tracking.gnn import (
    TrackerConfig,
    append_and_manage,
    classify_by_speed,
    gate_distances,
    gated_cost,
)
from shorad.tracking.kalman import (
    cartesian_jacobian,
    initiate,
    innovation,
    ncv_process_noise,
    ncv_transition,
    polar_measurement,
    predict,
    update,
    wrap_angle,
)

DEG = np.pi / 180.0
R_RADAR = np.diag([5.0**2, (0.5 * DEG) ** 2, (0.5 * DEG) ** 2])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def random_spd(rng: np.random.Generator, m: int, scale: float = 1.0) -> np.ndarray:
    """(m, 6, 6) well-conditioned SPD matrices with mixed position/velocity scales."""
    a = rng.normal(size=(m, 6, 6))
    p = a @ np.swapaxes(a, -1, -2) + 6.0 * np.eye(6)
    d = np.array([30.0, 30.0, 30.0, 5.0, 5.0, 5.0]) * scale
    p = p * d[:, None] * d[None, :] / 10.0
    return 0.5 * (p + np.swapaxes(p, -1, -2))


def random_states(rng: np.random.Generator, m: int) -> np.ndarray:
    pos = rng.uniform([-5000.0, -5000.0, 20.0], [5000.0, 5000.0, 1500.0], size=(m, 3))
    vel = rng.normal(scale=20.0, size=(m, 3))
    return np.hstack([pos, vel])


def make_dets(z: np.ndarray, R: np.ndarray, sensor_pos: np.ndarray) -> Detections:
    n = z.shape[0]
    z, R = with_unmeasured(z, R)
    return Detections(
        t_s=np.zeros(n),
        sensor_id=np.zeros(n, np.int32),
        z=z,
        R=R,
        sensor_pos_m=np.broadcast_to(sensor_pos, (n, 3)).copy(),
        truth_id=np.zeros(n, np.int64),
    )


# --- NCV model -------------------------------------------------------------------------------


def test_ncv_transition_dt1() -> None:
    expected = np.array(
        [
            [1, 0, 0, 1, 0, 0],
            [0, 1, 0, 0, 1, 0],
            [0, 0, 1, 0, 0, 1],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
        ],
        dtype=float,
    )
    assert_allclose(ncv_transition(1.0), expected, rtol=0, atol=0)


def test_ncv_process_noise_dt1() -> None:
    # q_mps2 = 2 -> spectral density 4 m^2/s^3; per axis 4 * [[1/3, 1/2], [1/2, 1]].
    a, b, c = 4.0 / 3.0, 2.0, 4.0
    expected = np.array(
        [
            [a, 0, 0, b, 0, 0],
            [0, a, 0, 0, b, 0],
            [0, 0, a, 0, 0, b],
            [b, 0, 0, c, 0, 0],
            [0, b, 0, 0, c, 0],
            [0, 0, b, 0, 0, c],
        ]
    )
    assert_allclose(ncv_process_noise(1.0, 2.0), expected, rtol=1e-15, atol=0)


def test_ncv_process_noise_scales_with_dt() -> None:
    q = ncv_process_noise(2.0, 1.0)
    assert_allclose([q[0, 0], q[0, 3], q[3, 3]], [8.0 / 3.0, 2.0, 2.0], rtol=1e-15)
    assert_allclose(ncv_process_noise(0.0, 3.0), np.zeros((6, 6)), atol=0)


def test_predict_known_state() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    p = np.eye(6)[None]
    x2, p2 = predict(x, p, 2.0, 0.0)
    assert_allclose(x2, [[9.0, 12.0, 15.0, 4.0, 5.0, 6.0]], rtol=0, atol=1e-12)
    # F F^T for P = I: position block (1 + dt^2) I, cross blocks dt I, velocity block I.
    i3 = np.eye(3)
    expected = np.block([[5.0 * i3, 2.0 * i3], [2.0 * i3, i3]])
    assert_allclose(p2[0], expected, rtol=0, atol=1e-12)
    _, p3 = predict(x, p, 1.0, 2.0)
    assert_allclose(p3[0], np.block([[2 * i3, i3], [i3, i3]]) + ncv_process_noise(1.0, 2.0))


# --- Polar measurement -------------------------------------------------------------------------


def test_polar_measurement_matches_sensor_contract(rng: np.random.Generator) -> None:
    x = random_states(rng, 50)
    sensor = np.array([120.0, -40.0, 35.0])
    zhat, _ = polar_measurement(x, sensor)
    assert_allclose(zhat, polar_from_cartesian(x[:, :3] - sensor), rtol=1e-12, atol=1e-12)
    # Per-row sensor positions give the same as a broadcast one.
    zhat2, h2 = polar_measurement(x, np.tile(sensor, (50, 1)))
    assert_allclose(zhat2, zhat, rtol=0, atol=0)
    assert h2.shape == (50, 3, 6)


def test_polar_jacobian_matches_finite_differences(rng: np.random.Generator) -> None:
    x = random_states(rng, 40)
    sensor = np.array([50.0, 80.0, 10.0])
    _, h = polar_measurement(x, sensor)
    eps = 1e-3  # m
    fd = np.zeros_like(h)
    for k in range(3):
        dx = np.zeros(6)
        dx[k] = eps
        zp, _ = polar_measurement(x + dx, sensor)
        zm, _ = polar_measurement(x - dx, sensor)
        diff = zp - zm
        diff[:, 1] = wrap_angle(diff[:, 1])
        fd[:, :, k] = diff / (2 * eps)
    assert_allclose(h[:, :, :3], fd[:, :, :3], rtol=1e-6, atol=1e-12)
    assert_array_equal(h[:, :, 3:], 0.0)


def test_cartesian_jacobian_matches_finite_differences(rng: np.random.Generator) -> None:
    z = np.column_stack(
        [rng.uniform(100, 8000, 30), rng.uniform(0, 2 * np.pi, 30), rng.uniform(-0.3, 1.2, 30)]
    )
    j = cartesian_jacobian(z)
    steps = np.array([1e-3, 1e-7, 1e-7])
    for k in range(3):
        dz = np.zeros(3)
        dz[k] = steps[k]
        fd = (cartesian_from_polar(z + dz) - cartesian_from_polar(z - dz)) / (2 * steps[k])
        assert_allclose(j[:, :, k], fd, rtol=1e-6, atol=1e-6)


def test_innovation_shape_and_azimuth_wrap() -> None:
    zhat = np.array([[1000.0, 359.9 * DEG, 0.1], [2000.0, 0.1 * DEG, 0.2]])
    z = np.array([[1001.0, 0.1 * DEG, 0.1], [1999.0, 359.9 * DEG, 0.2], [5.0, np.pi, 0.0]])
    nu = innovation(z, zhat)
    assert nu.shape == (2, 3, 3)
    assert_allclose(nu[0, 0], [1.0, 0.2 * DEG, 0.0], rtol=0, atol=1e-12)
    assert_allclose(nu[1, 1], [-1.0, -0.2 * DEG, 0.0], rtol=0, atol=1e-12)
    assert (nu[..., 1] >= -np.pi).all()
    assert (nu[..., 1] < np.pi).all()


def test_update_across_north_does_not_explode() -> None:
    sensor = np.zeros(3)
    r, el = 2000.0, 0.05
    truth_z = np.array([[r, 0.0, el]])  # due north
    prior_z = np.array([[r, 359.9 * DEG, el]])
    x = np.zeros((1, 6))
    x[:, :3] = cartesian_from_polar(prior_z)
    x[:, 3:] = [0.0, -10.0, 0.0]
    p = np.diag([30.0**2] * 3 + [5.0**2] * 3)[None]
    z = np.array([[r, 0.1 * DEG, el]])
    x2, p2 = update(x, p, z, R_RADAR[None], sensor)
    # The estimate moves by a fraction of the 0.2 deg (7 m) innovation, not across the sky.
    move = np.linalg.norm(x2[0, :3] - x[0, :3])
    assert move < 10.0
    assert np.linalg.norm(x2[0, :3] - cartesian_from_polar(truth_z)[0]) < 10.0
    assert_allclose(x2[0, 3:], x[0, 3:], atol=1.0)
    assert np.trace(p2[0, :3, :3]) < np.trace(p[0, :3, :3])
    np.linalg.cholesky(p2[0])


def test_update_matches_textbook_kalman_form(rng: np.random.Generator) -> None:
    m = 12
    x = random_states(rng, m)
    p = random_spd(rng, m)
    sensor = np.array([10.0, -20.0, 5.0])
    zhat, h = polar_measurement(x, sensor)
    z = zhat + rng.normal(size=(m, 3)) * np.sqrt(np.diag(R_RADAR))
    z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
    r = np.broadcast_to(R_RADAR, (m, 3, 3)).copy()
    x2, p2 = update(x, p, z, r, sensor)
    for i in range(m):
        s = h[i] @ p[i] @ h[i].T + r[i]
        k = p[i] @ h[i].T @ np.linalg.inv(s)
        nu = z[i] - zhat[i]
        nu[1] = wrap_angle(nu[1])
        assert_allclose(x2[i], x[i] + k @ nu, rtol=1e-9, atol=1e-6)
        assert_allclose(p2[i], (np.eye(6) - k @ h[i]) @ p[i], rtol=1e-6, atol=1e-6)


def test_initiate_position_and_covariance(rng: np.random.Generator) -> None:
    sensor = np.array([100.0, 200.0, 30.0])
    z = np.array([[1500.0, 0.3, 0.05], [800.0, 4.0, 0.4]])
    r = np.broadcast_to(R_RADAR, (2, 3, 3)).copy()
    x, p = initiate(z, r, sensor, 40.0)
    assert_allclose(x[:, :3], cartesian_from_polar(z) + sensor, rtol=1e-12)
    assert_array_equal(x[:, 3:], 0.0)
    assert_allclose(p[:, 3:, 3:], np.broadcast_to(1600.0 * np.eye(3), (2, 3, 3)))
    assert_array_equal(p[:, :3, 3:], 0.0)
    # Monte Carlo check of J R J^T.
    draws = z[0] + rng.normal(size=(20000, 3)) * np.sqrt(np.diag(R_RADAR))
    cov = np.cov(cartesian_from_polar(draws).T)
    assert_allclose(p[0, :3, :3], cov, rtol=0.05, atol=2.0)


# --- Covariance stays symmetric positive definite (hypothesis) -------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(st.tuples(st.floats(0.0, 10.0), st.booleans()), min_size=1, max_size=12),
    sigma_r_m=st.floats(0.1, 100.0),
    sigma_ang_rad=st.floats(1e-4, 0.05),
    q_mps2=st.floats(0.0, 30.0),
    p_scale=st.floats(0.01, 100.0),
)
def test_covariance_stays_symmetric_positive_definite(
    seed: int,
    ops: list[tuple[float, bool]],
    sigma_r_m: float,
    sigma_ang_rad: float,
    q_mps2: float,
    p_scale: float,
) -> None:
    rng = np.random.default_rng(seed)
    m = 4
    x = random_states(rng, m)
    p = random_spd(rng, m, p_scale)
    sensor = rng.uniform(-100.0, 100.0, 3)
    r = np.broadcast_to(np.diag([sigma_r_m**2, sigma_ang_rad**2, sigma_ang_rad**2]), (m, 3, 3))
    for dt_s, do_update in ops:
        x, p = predict(x, p, dt_s, q_mps2)
        if do_update:
            zhat, _ = polar_measurement(x, sensor)
            z = zhat + rng.normal(size=(m, 3)) * [sigma_r_m, sigma_ang_rad, sigma_ang_rad]
            z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
            x, p = update(x, p, z, r.copy(), sensor)
        assert_array_equal(p, np.swapaxes(p, -1, -2))
        assert (np.linalg.eigvalsh(p) > 0.0).all()
        np.linalg.cholesky(p)
        assert np.isfinite(x).all()


# --- Compiled kernels against their numpy references -------------------------------------------


def test_predict_kernel_matches_reference(rng: np.random.Generator) -> None:
    x = random_states(rng, 30)
    p = random_spd(rng, 30)
    for dt_s, q in [(0.0, 4.0), (0.7, 4.0), (3.0, 0.0), (1.0, 12.0)]:
        xk, pk = kern.predict_kernel(x, p, dt_s, q)
        xr, pr = predict(x, p, dt_s, q)
        assert_allclose(xk, xr, rtol=1e-13, atol=1e-9)
        assert_allclose(pk, pr, rtol=1e-12, atol=1e-9)
        assert_array_equal(pk, np.swapaxes(pk, -1, -2))


def test_update_kernel_matches_reference(rng: np.random.Generator) -> None:
    m, n = 15, 9
    x = random_states(rng, m)
    p = random_spd(rng, m)
    sensor = np.array([[30.0, -10.0, 4.0], [2000.0, 500.0, 40.0]])[rng.integers(0, 2, n)]
    ti = rng.permutation(m)[:n].astype(np.int64)
    dj = rng.permutation(n).astype(np.int64)
    zhat, _ = polar_measurement(x[ti], sensor[dj])
    z = np.empty((n, 3))
    z[dj] = zhat + rng.normal(size=(n, 3)) * np.sqrt(np.diag(R_RADAR))
    z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
    r = R_RADAR * rng.uniform(0.5, 2.0, (n, 1, 1))
    xk, pk = kern.update_kernel(x, p, z, r, sensor, ti, dj)
    xr, pr = update(x[ti], p[ti], z[dj], r[dj], sensor[dj])
    assert_allclose(xk[ti], xr, rtol=1e-10, atol=1e-8)
    assert_allclose(pk[ti], pr, rtol=1e-8, atol=1e-8)
    untouched = np.setdiff1d(np.arange(m), ti)
    assert_array_equal(xk[untouched], x[untouched])
    assert_array_equal(pk[untouched], p[untouched])
    assert_array_equal(pk, np.swapaxes(pk, -1, -2))


@pytest.mark.parametrize("mixed_sensors", [False, True], ids=["one-sensor", "mixed-sensors"])
def test_gate_kernel_matches_reference(rng: np.random.Generator, mixed_sensors: bool) -> None:
    m, n = 25, 30
    x = random_states(rng, m)
    p = random_spd(rng, m, 3.0)
    sensors = np.array([[0.0, 0.0, 10.0], [3000.0, -1000.0, 25.0]])
    pick = rng.integers(0, 2, n) if mixed_sensors else np.zeros(n, int)
    spos = sensors[pick]
    # Half the detections near tracks (in gate), half anywhere.
    near = rng.integers(0, m, n)
    zhat, _ = polar_measurement(x[near], spos)
    z = zhat + rng.normal(size=(n, 3)) * [30.0, 0.01, 0.01]
    z[::2] = polar_from_cartesian(random_states(rng, n)[::2, :3] - spos[::2])
    z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
    r = np.broadcast_to(R_RADAR, (n, 3, 3)).copy()
    dets = make_dets(z, r, np.zeros(3))
    dets = Detections(dets.t_s, dets.sensor_id, *with_unmeasured(z, r), spos, dets.truth_id)
    gate = 16.27
    d2_ref, logdet_ref = gate_distances(x, p, dets)
    d2_k, logdet_k = kern.gate_kernel(x, p, z, r, spos, gate)
    inside = d2_ref <= gate
    assert inside.sum() >= 10
    assert_allclose(d2_k[inside], d2_ref[inside], rtol=1e-7, atol=1e-9)
    assert_allclose(logdet_k[inside], logdet_ref[inside], rtol=1e-9, atol=1e-9)
    assert (d2_k[~inside] > gate).all()
    # Reference against a pair-by-pair loop over the public functions.
    for i, j in [(0, 0), (3, 7), (m - 1, n - 1)]:
        zh, h = polar_measurement(x[i : i + 1], spos[j])
        s = h[0] @ p[i] @ h[0].T + r[j]
        nu = innovation(z[j : j + 1], zh)[0, 0]
        assert_allclose(d2_ref[i, j], nu @ np.linalg.solve(s, nu), rtol=1e-7)
        assert_allclose(logdet_ref[i, j], np.linalg.slogdet(s)[1], rtol=1e-9, atol=1e-9)


def test_gated_cost_kernel_matches_reference(rng: np.random.Generator) -> None:
    d2 = rng.exponential(20.0, size=(12, 15))
    d2[3] = np.inf  # a track with nothing in its gate
    d2[:, 4] = 50.0  # a detection in no gate
    logdet = rng.normal(size=(12, 15))
    c_ref, r_ref, k_ref = gated_cost(d2, logdet, 16.27, 1e9)
    c_k, r_k, k_k = kern.gated_cost_kernel(d2, logdet, 16.27, 1e9)
    assert_array_equal(r_k, r_ref)
    assert_array_equal(k_k, k_ref)
    assert_allclose(c_k, c_ref, rtol=1e-15, atol=0)
    assert 3 not in r_k
    assert 4 not in k_k


def test_initiate_kernel_matches_reference(rng: np.random.Generator) -> None:
    n = 20
    z = np.column_stack(
        [rng.uniform(50, 9000, n), rng.uniform(0, 2 * np.pi, n), rng.uniform(-0.1, 1.4, n)]
    )
    r = R_RADAR * rng.uniform(0.5, 3.0, (n, 1, 1))
    spos = rng.uniform(-500, 500, (n, 3))
    idx = np.array([0, 3, 4, 11, 19], np.int64)
    xk, pk = kern.initiate_kernel(z, r, spos, idx, 35.0)
    xr, pr = initiate(z[idx], r[idx], spos[idx], 35.0)
    assert_allclose(xk, xr, rtol=1e-12, atol=1e-9)
    assert_allclose(pk, pr, rtol=1e-10, atol=1e-9)


def test_classify_kernel_matches_reference(rng: np.random.Generator) -> None:
    x = random_states(rng, 40)
    x[0, 3:] = 0.0  # hovering: the speed direction is undefined
    p = random_spd(rng, 40)
    speed = np.array([8.0, 25.0, 50.0, 200.0])
    sigma = np.array([4.0, 8.0, 10.0, 40.0])
    ck = kern.classify_kernel(x, p, speed, sigma)
    cr = classify_by_speed(x, p, speed, sigma)
    assert_allclose(ck, cr, rtol=1e-10, atol=1e-14)
    assert_allclose(cr.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize(("m", "k"), [(200, 30), (0, 12), (50, 0), (0, 0)])
def test_append_manage_kernel_matches_reference(rng: np.random.Generator, m: int, k: int) -> None:
    cfg = TrackerConfig()
    t_s = 10.0
    nc = 3
    born = t_s - rng.choice([0.0, 1.0, 4.0, 5.0, 5.0 + 1e-12, 6.0, 9.0], m)
    last = np.minimum(t_s, born + rng.choice([0.0, 1.0, 2.0, 5.0], m))
    status = rng.choice([TENTATIVE, CONFIRMED], m).astype(np.int8)
    tracks = Tracks(
        t_s=t_s,
        track_id=np.arange(1, m + 1, dtype=np.int64) * 3,
        x=rng.normal(size=(m, 6)),
        P=random_spd(rng, m) * rng.choice([1.0, 1.0, 1e3], m)[:, None, None],
        status=status,
        class_prob=rng.dirichlet(np.ones(nc), m),
        hits=rng.integers(1, 6, m).astype(np.int32),
        born_t_s=born,
        last_update_t_s=last,
        confirmed_t_s=np.where(status == CONFIRMED, born + 1.0, np.nan),
        next_track_id=3 * m + 7,
    )
    x_new = rng.normal(size=(k, 6))
    p_new = random_spd(rng, k) * rng.choice([1.0, 1e3], k)[:, None, None]
    ref, c_ref, d_ref = append_and_manage(tracks, x_new, p_new, t_s, cfg)
    *fields, c_k, d_k = kern.append_manage_kernel(
        tracks.track_id,
        tracks.x,
        tracks.P,
        tracks.status,
        tracks.class_prob,
        tracks.hits,
        tracks.born_t_s,
        tracks.last_update_t_s,
        tracks.confirmed_t_s,
        tracks.next_track_id,
        x_new,
        p_new,
        t_s,
        cfg.confirm_hits,
        cfg.confirm_window_s,
        cfg.delete_after_s,
        cfg.tentative_delete_after_s,
        cfg.max_position_sigma_m**2,
    )
    out = Tracks(t_s, *fields, next_track_id=tracks.next_track_id + k)
    for name in Tracks.__slots__:
        a, b = getattr(out, name), getattr(ref, name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, name
            assert_array_equal(a, b, err_msg=name, strict=True)
        else:
            assert a == b, name
    assert_array_equal(c_k, c_ref, strict=True)
    assert_array_equal(d_k, d_ref, strict=True)
    if m:
        assert c_ref.size
        assert d_ref.size
