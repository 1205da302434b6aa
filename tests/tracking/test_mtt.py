"""Cartesian Kalman filter, k-d tree gating, sparse GNN, JPDA marginals and the MTT tracker."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.errors import ConfigError, SimulationError
from shorad.tracking.cluster import assign_gnn_sparse, gate_pairs
from shorad.tracking.jpda import jpda_marginals, jpda_marginals_bp, jpda_marginals_bruteforce
from shorad.tracking.linear import cv_process_noise, cv_transition, kf_predict, kf_update
from shorad.tracking.mtt import CartesianTracker, MttConfig


def test_cv_model_hand_case() -> None:
    f = cv_transition(2, 2.0)
    assert_allclose(f, [[1, 0, 2, 0], [0, 1, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]])
    q = cv_process_noise(2, 2.0, 0.5)
    # per axis 0.5 * [[8/3, 2], [2, 2]]
    assert_allclose(q[np.ix_([0, 2], [0, 2])], [[4 / 3, 1.0], [1.0, 1.0]], rtol=1e-12)
    assert_allclose(q[0, 1], 0.0)


def test_kalman_update_hand_case() -> None:
    # Position variance 4, measurement variance 4: gain 1/2 on position, 0 on velocity.
    x = np.array([[0.0, 0.0, 1.0, 1.0]])
    p = np.diag([4.0, 4.0, 1.0, 1.0])[None]
    x1, p1 = kf_update(x, p, np.array([[2.0, -2.0]]), 4.0 * np.eye(2))
    assert_allclose(x1, [[1.0, -1.0, 1.0, 1.0]], atol=1e-12)
    assert_allclose(p1[0], np.diag([2.0, 2.0, 1.0, 1.0]), atol=1e-12)
    # Predict: x' = F x; P' = F P F^T + Q.
    x2, p2 = kf_predict(x1, p1, cv_transition(2, 1.0), np.zeros((4, 4)))
    assert_allclose(x2, [[2.0, 0.0, 1.0, 1.0]], atol=1e-12)
    assert_allclose(p2[0, 0, 0], 3.0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_kalman_covariance_spd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(5, 6, 6))
    p = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(6)
    x = rng.normal(size=(5, 6))
    _, p1 = kf_update(x, p, rng.normal(size=(5, 3)), np.diag(rng.uniform(0.1, 5.0, 3)))
    assert_allclose(p1, np.swapaxes(p1, 1, 2), atol=1e-12)
    assert (np.linalg.eigvalsh(p1) > 0).all()


def _brute_gnn(cost: np.ndarray) -> tuple[int, float]:
    """Most in-gate pairs, then least cost, by enumeration (inf = not gated)."""
    m, n = cost.shape
    best = (0, 0.0)
    for perm in itertools.permutations(range(n), min(m, n)) if m <= n else []:
        pairs = [(i, j) for i, j in enumerate(perm) if np.isfinite(cost[i, j])]
        cand = (len(pairs), -sum(cost[i, j] for i, j in pairs))
        best = max(best, cand)
    if m > n:
        for perm in itertools.permutations(range(m), n):
            pairs = [(i, j) for j, i in enumerate(perm) if np.isfinite(cost[i, j])]
            cand = (len(pairs), -sum(cost[i, j] for i, j in pairs))
            best = max(best, cand)
    return best[0], -best[1]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 10_000))
def test_sparse_gnn_equals_brute_force(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.0, 10.0, (m, n))
    cost[rng.random((m, n)) < 0.5] = np.inf
    pt, pm = np.nonzero(np.isfinite(cost))
    sel = assign_gnn_sparse(pt.astype(np.int64), pm.astype(np.int64), cost[pt, pm], m, n)
    assert len(set(pt[sel].tolist())) == sel.size == len(set(pm[sel].tolist()))
    count, total = _brute_gnn(cost)
    assert sel.size == count
    assert_allclose(cost[pt[sel], pm[sel]].sum(), total, rtol=1e-9, atol=1e-9)


def test_gate_pairs_matches_dense_mahalanobis(rng: np.random.Generator) -> None:
    pos = rng.uniform(0, 100, (30, 2))
    z = rng.uniform(0, 100, (40, 2))
    s = np.tile(np.array([[20.0, 5.0], [5.0, 10.0]]), (30, 1, 1))
    s_inv = np.linalg.inv(s)
    gate = 9.21
    radius = np.sqrt(gate * np.linalg.eigvalsh(s)[:, -1])
    pt, pm, d2, _ = gate_pairs(pos, s_inv, radius, z, gate)
    nu = z[None] - pos[:, None]
    dense = np.einsum("mni,mij,mnj->mn", nu, s_inv, nu)
    want = np.argwhere(dense <= gate)
    assert_allclose(np.stack([pt, pm], 1), want)
    assert_allclose(d2, dense[pt, pm])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000))
def test_jpda_exact_matches_enumeration(t: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 5.0, (t, n))
    w[rng.random((t, n)) < 0.4] = 0.0
    w0 = rng.uniform(0.05, 1.0, t)
    pt, pm = np.nonzero(w > 0)
    beta, beta0, exact = jpda_marginals(pt.astype(np.int64), pm.astype(np.int64), w[pt, pm], w0, n)
    assert exact.all()
    ref, ref0 = jpda_marginals_bruteforce(w, w0)
    assert_allclose(beta, ref[pt, pm], atol=1e-12)
    assert_allclose(beta0, ref0, atol=1e-12)
    assert_allclose(beta0 + np.bincount(pt, beta, minlength=t), 1.0, atol=1e-12)
    assert (np.bincount(pm, beta, minlength=n) <= 1.0 + 1e-12).all()


def test_jpda_large_cluster_uses_belief_propagation(rng: np.random.Generator) -> None:
    t, n = 6, 6
    w = rng.uniform(0.1, 3.0, (t, n))
    w0 = np.full(t, 0.2)
    pt, pm = (a.astype(np.int64) for a in np.nonzero(w > 0))
    beta, beta0, exact = jpda_marginals(pt, pm, w[pt, pm], w0, n, max_events=100)
    assert not exact.any()
    assert_allclose(beta0 + np.bincount(pt, beta, minlength=t), 1.0, atol=1e-9)
    ref, _ = jpda_marginals_bruteforce(w, w0)
    assert_allclose(beta, ref[pt, pm], atol=0.1)  # an approximation, close on this case
    b2, b20 = jpda_marginals_bp(pt, pm, w[pt, pm], w0, n)
    assert_allclose(b2, beta)
    assert_allclose(b20, beta0)


def _scenario(rng: np.random.Generator, dim: int, n_t: int = 6, scans: int = 25):
    pos = rng.uniform(-300, 300, (n_t, dim))
    vel = rng.uniform(-10, 10, (n_t, dim))
    out = []
    for k in range(scans):
        truth = pos + k * vel
        det = rng.random(n_t) < 0.9
        z = truth[det] + 3.0 * rng.normal(size=(int(det.sum()), dim))
        clutter = rng.uniform(-1000, 1000, (int(rng.poisson(5)), dim))
        out.append((float(k), truth, np.concatenate([z, clutter])))
    return out


@pytest.mark.parametrize(
    ("method", "dim"), [("gnn", 2), ("jpda", 2), ("gnn", 3), ("jpda", 3)], ids=str
)
def test_tracker_tracks_targets(method: str, dim: int, rng: np.random.Generator) -> None:
    from shorad.analysis.mtt_metrics import gospa

    cfg = MttConfig(
        dim=dim, method=method, R_m2=9.0 * np.eye(dim), clutter_density=5 / 2000.0**dim
    )
    tr = CartesianTracker(cfg)
    tracks = tr.initial(0.0)
    g = []
    for t, truth, z in _scenario(rng, dim):
        tracks = tr.step(tracks, z, t)
        assert_allclose(tracks.P, np.swapaxes(tracks.P, 1, 2), atol=1e-9)
        assert (np.linalg.eigvalsh(tracks.P) > 0).all()
        g.append(gospa(truth, tracks.x[tracks.confirmed, :dim]).gospa)
    assert np.mean(g[5:]) < 6 * 5.0  # ~3-4 m per target once confirmed
    ids = tracks.track_id
    assert (np.diff(ids) > 0).all()


def test_tracker_errors() -> None:
    with pytest.raises(ConfigError, match=r"MttConfig\.method"):
        MttConfig(method="mht")
    with pytest.raises(ConfigError, match=r"MttConfig\.R_m2"):
        MttConfig(dim=3, R_m2=np.eye(2))
    tr = CartesianTracker(MttConfig())
    with pytest.raises(SimulationError, match="before"):
        tr.step(tr.initial(5.0), np.zeros((0, 2)), 1.0)
