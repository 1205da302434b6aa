"""JPDA, IMM-GNN and IMM-JPDA on polar detections: maths against references, tracker behaviour."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from shorad.errors import ConfigError, SimulationError
from shorad.sensors.base import Detections, polar_from_cartesian
from shorad.tracking import TrackerConfig, Tracks
from shorad.tracking.base import CONFIRMED
from shorad.tracking.gnn import gate_distances
from shorad.tracking.kalman import polar_measurement, predict, update, wrap_angle
from shorad.tracking.partial import partial_update
from shorad.tracking.polar_imm import (
    ImmPolarTracks,
    PolarImmTracker,
    PolarTrackerConfig,
    sojourn_switching,
)
from shorad.tracking.polar_jpda import (
    ekf_update,
    gate_probability_mass,
    nonparametric_clutter_density,
    pda_combine,
    polar_jpda_marginals,
)

SIG = np.array([5.0, 0.004, 0.004])  # range (m), az, el (rad)
R3 = np.diag(SIG**2)
SPEEDS = ([40.0, 15.0], [8.0, 5.0])


def _dets(
    pos: NDArray[np.float64],
    rng: np.random.Generator | None,
    sensor: NDArray[np.float64] | None = None,
    rr: NDArray[np.float64] | None = None,
    drop: tuple[int, ...] = (),
) -> Detections:
    """Polar detections of ENU points ``pos`` (n, 3) seen from ``sensor`` (noise if ``rng``)."""
    sensor = np.zeros(3) if sensor is None else sensor
    n = pos.shape[0]
    z3 = polar_from_cartesian(pos - sensor)
    if rng is not None:
        z3 = z3 + rng.normal(size=(n, 3)) * SIG
    z = np.full((n, 4), np.nan)
    z[:, :3] = z3
    r = np.zeros((n, 4, 4))
    r[:, :3, :3] = R3
    if rr is not None:
        z[:, 3] = rr
        r[:, 3, 3] = 1.0
    for c in drop:
        z[:, c] = np.nan
        r[:, c, :] = 0.0
        r[:, :, c] = 0.0
    return Detections(
        t_s=np.zeros(n),
        sensor_id=np.zeros(n, np.int32),
        z=z,
        R=r,
        sensor_pos_m=np.tile(sensor, (n, 1)),
        truth_id=np.arange(n, dtype=np.int64),
    )


def _state(
    pos: list[float], vel: list[float], pos_sd: float = 10.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.array([[*pos, *vel]], np.float64)
    p = np.diag([pos_sd**2] * 3 + [25.0] * 3)[None]
    return x, p


# --- filter maths --------------------------------------------------------------------------


def test_ekf_update_matches_kalman_and_partial_and_the_gaussian_likelihood(
    rng: np.random.Generator,
) -> None:
    m = 5
    x = np.column_stack(
        [rng.uniform(-2000, 2000, (m, 2)), rng.uniform(50, 300, m), rng.normal(size=(m, 3)) * 20]
    )
    a = rng.normal(size=(m, 6, 6))
    p = a @ np.swapaxes(a, 1, 2) + np.eye(6) * 50.0
    spos = rng.normal(size=(m, 3)) * 30.0
    z = polar_from_cartesian(x[:, :3] - spos) + rng.normal(size=(m, 3)) * SIG
    r = np.tile(R3, (m, 1, 1))
    full = np.array([0, 1, 2], np.intp)
    xe, pe, ll = ekf_update(x, p, z, r, spos, full)
    xk, pk = update(x, p, z, r, spos)
    np.testing.assert_allclose(xe, xk, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(pe, pk, rtol=1e-8, atol=1e-7)
    # log N(nu; 0, S) by hand
    zhat, h = polar_measurement(x, spos)
    nu = z - zhat
    nu[:, 1] = wrap_angle(nu[:, 1])
    s = h @ p @ np.swapaxes(h, 1, 2) + r
    for i in range(m):
        want = -0.5 * (
            nu[i] @ np.linalg.solve(s[i], nu[i])
            + math.log(np.linalg.det(s[i]))
            + 3 * math.log(2 * math.pi)
        )
        assert ll[i] == pytest.approx(want, rel=1e-9)
    ang = np.array([1, 2], np.intp)
    xa, pa, _ = ekf_update(x, p, z[:, 1:], r[:, 1:, 1:], spos, ang)
    xp, pp = partial_update(x, p, z[:, 1:], r[:, 1:, 1:], spos, ang)
    np.testing.assert_allclose(xa, xp, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(pa, pp, rtol=1e-8, atol=1e-7)


def test_pda_combine_is_the_textbook_pdaf_with_a_common_gain(rng: np.random.Generator) -> None:
    # one track, three detections of one sensor (common H, R, so a common gain K)
    x, p = _state([1500.0, 800.0, 120.0], [-30.0, 5.0, 0.0], pos_sd=30.0)
    pos = x[0, :3] + rng.normal(size=(3, 3)) * 15.0
    d = _dets(pos, None)
    k = 3
    xu, pu = update(
        np.repeat(x, k, 0), np.repeat(p, k, 0), d.z[:, :3], d.R[:, :3, :3], d.sensor_pos_m
    )
    beta = np.array([0.5, 0.2, 0.1])
    beta0 = np.array([0.2])
    xn, pn = pda_combine(x, p, xu, pu, np.zeros(k, np.int64), beta, beta0)
    # Bar-Shalom, Willett & Tian (2011) §3.4: x = x + K nu_bar,
    # P = b0 P + (1 - b0) P_c + K (sum b_j nu_j nu_j^T - nu_bar nu_bar^T) K^T
    zhat, h = polar_measurement(x, np.zeros(3))
    s = h[0] @ p[0] @ h[0].T + R3
    kg = p[0] @ h[0].T @ np.linalg.inv(s)
    nu = d.z[:, :3] - zhat[0]
    nu[:, 1] = wrap_angle(nu[:, 1])
    nu_bar = beta @ nu
    pc = (np.eye(6) - kg @ h[0]) @ p[0]
    spread = kg @ (np.einsum("j,ja,jb->ab", beta, nu, nu) - np.outer(nu_bar, nu_bar)) @ kg.T
    np.testing.assert_allclose(xn[0], x[0] + kg @ nu_bar, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(
        pn[0], beta0[0] * p[0] + (1 - beta0[0]) * pc + spread, rtol=1e-6, atol=1e-6
    )
    assert (np.linalg.eigvalsh(pn[0]) > 0).all()


def _brute_force_polar_jpda(
    x: NDArray[np.float64], p: NDArray[np.float64], d: Detections, gate_d2: float, pd: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Marginals from scratch: polar likelihoods, one cluster's density, every joint event."""
    m, n = x.shape[0], len(d)
    lik = np.zeros((m, n))
    gated = np.zeros((m, n), bool)
    vol = np.zeros(m)
    for i in range(m):
        logdets = []
        for j in range(n):
            zhat, h = polar_measurement(x[i : i + 1], d.sensor_pos_m[j])
            s = h[0] @ p[i] @ h[0].T + d.R[j, :3, :3]
            nu = d.z[j, :3] - zhat[0]
            nu[1] = wrap_angle(nu[1])
            d2 = nu @ np.linalg.solve(s, nu)
            if d2 <= gate_d2:
                gated[i, j] = True
                lik[i, j] = math.exp(-0.5 * d2) / math.sqrt((2 * math.pi) ** 3 * np.linalg.det(s))
                logdets.append(math.log(np.linalg.det(s)))
        vol[i] = 4 * math.pi / 3 * gate_d2**1.5 * math.exp(0.5 * np.mean(logdets))
    lam = gated.any(axis=0).sum() / vol.sum()  # the test scene is one cluster
    w = np.where(gated, pd * lik / lam, 0.0)
    w0 = 1.0 - pd * gate_probability_mass(gate_d2)
    beta = np.zeros((m, n))
    beta0 = np.zeros(m)
    total = 0.0
    for ev in itertools.product(range(-1, n), repeat=m):
        chosen = [j for j in ev if j >= 0]
        if len(chosen) != len(set(chosen)):
            continue
        wt = math.prod(w0 if j < 0 else w[i, j] for i, j in enumerate(ev))
        total += wt
        for i, j in enumerate(ev):
            if j < 0:
                beta0[i] += wt
            else:
                beta[i, j] += wt
    return beta / total, beta0 / total


@pytest.mark.parametrize("max_events", [10_000, 1], ids=["exact", "belief-propagation"])
def test_polar_jpda_marginals_match_brute_force(rng: np.random.Generator, max_events: int) -> None:
    # three tracks 40 m apart, five detections between them, two sensors: one cluster
    x = np.array(
        [
            [1200.0, 900.0, 100.0, -20.0, 0.0, 0.0],
            [1240.0, 900.0, 100.0, -20.0, 0.0, 0.0],
            [1220.0, 935.0, 110.0, -20.0, 0.0, 0.0],
        ]
    )
    p = np.tile(np.diag([400.0, 400.0, 400.0, 25.0, 25.0, 25.0]), (3, 1, 1))
    truth = x[:, :3] + rng.normal(size=(3, 3)) * 8.0
    pos = np.concatenate([truth, [[1220.0, 915.0, 105.0], [1215.0, 905.0, 95.0]]])
    d1 = _dets(pos[:3], None)
    d2_ = _dets(pos[3:], None, sensor=np.array([50.0, -40.0, 20.0]))
    d = Detections.concat([d1, d2_])
    gate_d2 = 16.27  # chi2(3) 0.999
    d2m, ld = gate_distances(x, p, d)
    pt, pm, beta, beta0, exact = polar_jpda_marginals(d2m, ld, gate_d2, 0.9, max_events)
    assert pt.size >= 8  # shared detections: one multi-track cluster
    assert np.bincount(pm, minlength=len(d)).max() >= 2
    tot = beta0 + np.bincount(pt, beta, minlength=3)
    np.testing.assert_allclose(tot, 1.0, atol=1e-12)
    want, want0 = _brute_force_polar_jpda(x, p, d, gate_d2, 0.9)
    got = np.zeros((3, len(d)))
    got[pt, pm] = beta
    if max_events > 1:
        assert exact.all()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(beta0, want0, rtol=1e-9, atol=1e-12)
    else:  # loopy belief propagation: an approximation, close on this small cluster
        assert not exact.any()
        np.testing.assert_allclose(got, want, atol=0.05)
        np.testing.assert_allclose(beta0, want0, atol=0.05)


def test_polar_jpda_one_track_clusters_are_the_pdaf() -> None:
    # two far-apart tracks, each with two detections of its own: closed-form PDAF marginals
    x = np.array([[1000.0, 0.0, 100.0, 0, 0, 0], [-1000.0, 500.0, 100.0, 0, 0, 0]])
    p = np.tile(np.diag([900.0, 900.0, 900.0, 25.0, 25.0, 25.0]), (2, 1, 1))
    pos = np.array(
        [[1010.0, 5.0, 100.0], [990.0, -20.0, 110.0], [-1000, 530, 90], [-1005, 490, 100]]
    )
    d = _dets(pos, None)
    gate_d2 = 16.27
    d2m, ld = gate_distances(x, p, d)
    pt, pm, beta, beta0, exact = polar_jpda_marginals(d2m, ld, gate_d2, 0.8)
    np.testing.assert_array_equal(pm, [0, 1, 2, 3])
    assert exact.all()
    np.testing.assert_array_equal(pt, [0, 0, 1, 1])
    for i in range(2):
        sub = slice(2 * i, 2 * i + 2)
        want, want0 = _brute_force_polar_jpda(
            x[i : i + 1], p[i : i + 1], d.take(np.arange(4)[sub]), gate_d2, 0.8
        )
        np.testing.assert_allclose(beta[pt == i], want[0], rtol=1e-9)
        assert beta0[i] == pytest.approx(want0[0], rel=1e-9)


def test_nonparametric_clutter_density_per_cluster() -> None:
    # tracks 0, 1 share detection 1; track 2 alone with detections 3, 4; detection 2 ungated
    pt = np.array([0, 0, 1, 2, 2], np.int64)
    pm = np.array([0, 1, 1, 3, 4], np.int64)
    ld = np.array([0.0, 2.0, 4.0, 6.0, 6.0])
    g = 9.0
    lam = nonparametric_clutter_density(pt, pm, ld, 3, 5, g)
    unit = 4 * math.pi / 3 * g**1.5
    v0, v1, v2 = unit * math.exp(0.5), unit * math.exp(2.0), unit * math.exp(3.0)
    np.testing.assert_allclose(lam[:3], 2.0 / (v0 + v1), rtol=1e-12)
    np.testing.assert_allclose(lam[3:], 2.0 / v2, rtol=1e-12)


def test_sojourn_switching_is_a_markov_semigroup() -> None:
    tau = (10.0, 2.0, 5.0)
    np.testing.assert_allclose(sojourn_switching(tau, 0.0), np.eye(3), atol=1e-15)
    a, b = sojourn_switching(tau, 0.7), sojourn_switching(tau, 1.3)
    np.testing.assert_allclose(a @ b, sojourn_switching(tau, 2.0), rtol=1e-10)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    small = sojourn_switching(tau[:2], 1e-3)
    assert small[0, 0] == pytest.approx(math.exp(-1e-3 / 10.0), rel=1e-6)
    assert small[1, 1] == pytest.approx(math.exp(-1e-3 / 2.0), rel=1e-6)


def test_configs_reject_bad_values() -> None:
    with pytest.raises(ConfigError, match=r"PolarTrackerConfig\.pd"):
        PolarTrackerConfig(pd=0.0)
    with pytest.raises(ConfigError, match=r"imm_q_mps2"):
        PolarTrackerConfig(imm_q_mps2=(1.0,), imm_sojourn_s=(5.0,))
    with pytest.raises(ConfigError, match=r"imm_sojourn_s"):
        PolarTrackerConfig(imm_sojourn_s=(5.0,))
    with pytest.raises(ConfigError, match=r"imm_prior"):
        PolarTrackerConfig(imm_prior=(0.5, 0.6))
    with pytest.raises(ConfigError, match=r"tracker\.method"):
        PolarImmTracker("gnn", TrackerConfig(), *SPEEDS)
    with pytest.raises(ConfigError, match="class_speed_sigma_mps"):
        PolarImmTracker("jpda", TrackerConfig(), [10.0], [0.0])


# --- trackers --------------------------------------------------------------------------------

METHODS = ("jpda", "imm-gnn", "imm-jpda")


def _fly(
    tracker: PolarImmTracker,
    n_scans: int,
    seed: int,
    turn_at: int | None = None,
    with_clutter: bool = True,
) -> tuple[list[Tracks], list[NDArray[np.int64]]]:
    """Two targets (one turning from scan ``turn_at`` on) seen by one radar every second."""
    rng = np.random.default_rng(seed)
    pos = np.array([[2000.0, 1500.0, 150.0], [1900.0, 1600.0, 160.0]])
    vel = np.array([[-30.0, 0.0, 0.0], [0.0, -30.0, 0.0]])
    tracks = tracker.initial(0.0)
    pics, ids = [], []
    for k in range(n_scans):
        t = float(k)
        if turn_at is not None and turn_at <= k < turn_at + 6:
            a = 0.26  # rad per 1 s scan: a 90 deg turn in 6 s at 30 m/s (7.8 m/s^2)
            c, s = math.cos(a), math.sin(a)
            vel[0, :2] = [c * vel[0, 0] - s * vel[0, 1], s * vel[0, 0] + c * vel[0, 1]]
        if k:
            pos = pos + vel
        pts = pos
        if with_clutter:
            pts = np.concatenate([pos, rng.uniform([-3000, -3000, 50], [3000, 3000, 400], (2, 3))])
        d = _dets(pts, rng)
        d = replace(d, t_s=np.full(len(d), t))
        step = tracker.step(tracks, d, t)
        tracks = step.tracks
        pics.append(tracks)
        ids.append(step.det_track_id)
    return pics, ids


@pytest.mark.parametrize("method", METHODS)
def test_tracker_confirms_targets_deterministically_with_spd_covariances(method: str) -> None:
    tracker = PolarImmTracker(method, TrackerConfig(method=method), *SPEEDS)
    pics, ids = _fly(tracker, 30, 3)
    again, ids2 = _fly(PolarImmTracker(method, TrackerConfig(method=method), *SPEEDS), 30, 3)
    for a, b in zip(pics, again, strict=True):
        np.testing.assert_array_equal(a.track_id, b.track_id)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.P, b.P)
    for a, b in zip(ids, ids2, strict=True):
        np.testing.assert_array_equal(a, b)
    for tr in pics:
        np.testing.assert_allclose(tr.P, np.swapaxes(tr.P, 1, 2), atol=0.0)
        assert (np.linalg.eigvalsh(tr.P) > 0).all()
        np.testing.assert_allclose(tr.class_prob.sum(axis=1), 1.0)
        assert (np.diff(tr.track_id) > 0).all()
        if isinstance(tr, ImmPolarTracks):
            np.testing.assert_allclose(tr.mu.sum(axis=1), 1.0, rtol=1e-12)
            assert (tr.mu >= 0).all()
            assert (np.linalg.eigvalsh(tr.Pm) > 0).all()
    last = pics[-1]
    conf = last.take(last.status == CONFIRMED)
    assert len(conf) == 2  # the two targets, no confirmed clutter
    assert isinstance(last, ImmPolarTracks) == method.startswith("imm-")
    # every full-position detection has a track (updated most probably, or started)
    assert all((i >= 0).all() for i in ids)
    # the two targets' detections (rows 0, 1) go to the two confirmed tracks at the end
    assert set(ids[-1][:2].tolist()) == set(conf.track_id.tolist())


@pytest.mark.parametrize("method", ["imm-gnn", "imm-jpda"])
def test_imm_high_noise_model_takes_over_in_a_turn(method: str) -> None:
    tracker = PolarImmTracker(method, TrackerConfig(method=method), *SPEEDS)
    pics, _ = _fly(tracker, 30, 5, turn_at=20, with_clutter=False)
    tid = pics[19].track_id[np.argmin(np.abs(pics[19].x[:, 0] - (2000.0 - 19 * 30.0)))]

    def mu_hi(k: int) -> float:
        tr = pics[k]
        assert isinstance(tr, ImmPolarTracks)
        return float(tr.mu[np.flatnonzero(tr.track_id == tid)[0], 1])

    before = mu_hi(19)
    peak = max(mu_hi(k) for k in range(20, 27))
    assert before < 0.5  # straight flight: the quiet model
    assert peak > 0.75
    assert peak > before + 0.4


def test_jpda_is_one_model_and_plain_tracks_restart_the_models() -> None:
    t1 = PolarImmTracker("jpda", TrackerConfig(), *SPEEDS)
    assert t1.n_models == 1
    t2 = PolarImmTracker("imm-jpda", TrackerConfig(), *SPEEDS)
    assert t2.n_models == 2
    pics, _ = _fly(t2, 5, 1)
    imm = pics[-1]
    assert isinstance(imm, ImmPolarTracks)
    sub = imm.take(np.array([0]))
    assert isinstance(sub, ImmPolarTracks)
    np.testing.assert_array_equal(sub.xm, imm.xm[:1])
    plain = Tracks(
        imm.t_s,
        imm.track_id,
        imm.x,
        imm.P,
        imm.status,
        imm.class_prob,
        imm.hits,
        imm.born_t_s,
        imm.last_update_t_s,
        imm.confirmed_t_s,
        next_track_id=imm.next_track_id,
    )
    out = t2.step(plain, Detections.empty(), imm.t_s + 1.0).tracks
    assert isinstance(out, ImmPolarTracks)
    assert not np.allclose(imm.mu[:, 0], 0.5)
    np.testing.assert_allclose(out.mu, 0.5, atol=1e-12)  # restarted from the uniform prior
    with pytest.raises(SimulationError, match="before"):
        t2.step(imm, Detections.empty(), imm.t_s - 1.0)


@pytest.mark.parametrize("method", METHODS)
def test_partial_detections_and_range_rate_update_existing_tracks(method: str) -> None:
    tracker = PolarImmTracker(method, TrackerConfig(method=method), *SPEEDS)
    pics, _ = _fly(tracker, 6, 2, with_clutter=False)
    tracks = pics[-1]
    truth = np.array([[2000.0 - 6 * 30.0, 1500.0, 150.0], [1900.0, 1600.0 - 6 * 30.0, 160.0]])
    rng = np.random.default_rng(9)
    eo = np.array([100.0, -100.0, 30.0])
    # angle-only (EO) and bearing-only (RF) detections: update, never start tracks
    angles = _dets(truth, rng, sensor=eo, drop=(0, 3))
    bearing = replace(
        _dets(truth[:1], rng, sensor=eo, drop=(0, 2, 3)), sensor_id=np.array([1], np.int32)
    )
    far = _dets(np.array([[-2500.0, -2500.0, 200.0]]), rng, sensor=eo, drop=(0, 3))
    d = Detections.concat([angles, bearing, far])
    step = tracker.step(tracks, d, 6.0)
    ids = step.det_track_id
    assert (ids[:3] >= 0).all()
    assert ids[3] == -1  # in no gate
    assert len(step.tracks) == len(tracks)  # no new track from partial detections
    assert ids[0] != ids[1]
    assert ids[2] == ids[0]  # the bearing of target 0 (another sensor: its own GNN group)
    for tid, extra in ((ids[0], 2), (ids[1], 1)):
        before = tracks.hits[tracks.track_id == tid][0]
        assert step.tracks.hits[step.tracks.track_id == tid][0] == before + extra
    # the range rate of a position detection shrinks the velocity variance along the line of sight
    vel = np.array([[-30.0, 0.0, 0.0], [0.0, -30.0, 0.0]])
    truth7 = truth + vel
    d_pos = _dets(truth7, rng)
    los = truth7 / np.linalg.norm(truth7, axis=1, keepdims=True)
    d_rr = _dets(truth7, rng, rr=np.einsum("ij,ij->i", los, vel))
    a = tracker.step(tracks, replace(d_pos, z=d_pos.z), 7.0).tracks
    b = tracker.step(
        tracks, replace(d_rr, z=np.column_stack([d_pos.z[:, :3], d_rr.z[:, 3]])), 7.0
    ).tracks
    np.testing.assert_array_equal(a.track_id, b.track_id)
    for i in range(2):
        row = int(np.flatnonzero(a.track_id == ids[i])[0])
        u = los[i]
        assert u @ b.P[row, 3:, 3:] @ u < 0.5 * (u @ a.P[row, 3:, 3:] @ u)


def test_predict_only_step_matches_ncv_prediction_for_jpda() -> None:
    tracker = PolarImmTracker("jpda", TrackerConfig(q_mps2=2.0), *SPEEDS)
    pics, _ = _fly(tracker, 4, 4, with_clutter=False)
    tr = pics[-1]
    out = tracker.step(tr, Detections.empty(), tr.t_s + 0.5).tracks
    keep = np.isin(tr.track_id, out.track_id)
    xp, pp = predict(tr.x[keep], tr.P[keep], 0.5, 2.0)
    np.testing.assert_allclose(out.x, xp, rtol=1e-12)
    np.testing.assert_allclose(out.P, pp, rtol=1e-12)
