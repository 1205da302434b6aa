"""Cartesian Kalman filter, k-d tree gating, sparse GNN, JPDA marginals and the MTT tracker."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.errors import ConfigError, SimulationError
from shorad.tracking.cluster import (
    assign_gnn_sparse,
    assign_gnn_sparse_reference,
    clusters,
    clusters_reference,
    gate_pairs,
    gate_pairs_reference,
)
from shorad.tracking.jpda import (
    jpda_marginals,
    jpda_marginals_bp,
    jpda_marginals_bruteforce,
    pda_update,
    pda_update_reference,
)
from shorad.tracking.linear import cv_process_noise, cv_transition, kf_predict, kf_update
from shorad.tracking.mtt import CartesianTracker, MttConfig, inv_logdet_lmax


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


def _random_pairs(
    rng: np.random.Generator, m: int, n: int, density: float
) -> tuple[np.ndarray, np.ndarray]:
    pt, pm = np.nonzero(rng.random((m, n)) < density)
    return pt.astype(np.int64), pm.astype(np.int64)


@pytest.mark.parametrize("kind", ["likelihood", "most-pairs", "integer-ties"])
def test_gnn_kernel_equals_scipy_reference(kind: str, rng: np.random.Generator) -> None:
    """The compiled all-clusters GNN returns exactly the pairs of one LSAP call per cluster."""
    n_hard = 0
    for _ in range(300):
        m, n = int(rng.integers(1, 25)), int(rng.integers(1, 25))
        pt, pm = _random_pairs(rng, m, n, float(rng.uniform(0.03, 0.4)))
        if kind == "likelihood":
            cost, npc = rng.normal(size=pt.size), 0.0
        elif kind == "most-pairs":
            cost, npc = rng.uniform(0.0, 20.0, pt.size), 1e9
        else:
            cost, npc = rng.integers(-3, 3, pt.size).astype(np.float64), 0.0
        fast = assign_gnn_sparse(pt, pm, cost, m, n, npc)
        ref = assign_gnn_sparse_reference(pt, pm, cost, m, n, npc)
        np.testing.assert_array_equal(fast, ref)
        n_hard += int(fast.size > 1)
    assert n_hard > 50  # multi-pair clusters were exercised


def test_gnn_zero_miss_cost_is_the_most_likely_event() -> None:
    """With unpaired cost 0 a pair costing >= 0 must not force a worse pairing elsewhere.

    Costs [[-5, 1], [1, 100]]: the forced 2x2 assignment would take the two +1 pairs (total 2)
    and drop both; the most likely joint event is the single pair (0, 0) at -5.
    """
    pt = np.array([0, 0, 1, 1], np.int64)
    pm = np.array([0, 1, 0, 1], np.int64)
    cost = np.array([-5.0, 1.0, 1.0, 100.0])
    for fn in (assign_gnn_sparse, assign_gnn_sparse_reference):
        np.testing.assert_array_equal(fn(pt, pm, cost, 2, 2, 0.0), [0])


def _brute_min_matching(cost: np.ndarray) -> float:
    """Least total cost over all matchings (any size; inf = not gated), by recursion."""
    m, n = cost.shape

    def rec(i: int, used: frozenset[int]) -> float:
        if i == m:
            return 0.0
        best = rec(i + 1, used)
        for j in range(n):
            if j not in used and np.isfinite(cost[i, j]):
                best = min(best, cost[i, j] + rec(i + 1, used | {j}))
        return best

    return rec(0, frozenset())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 10_000))
def test_gnn_zero_miss_cost_equals_brute_force(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.normal(-1.0, 2.0, (m, n))
    cost[rng.random((m, n)) < 0.3] = np.inf
    pt, pm = np.nonzero(np.isfinite(cost))
    sel = assign_gnn_sparse(pt.astype(np.int64), pm.astype(np.int64), cost[pt, pm], m, n, 0.0)
    assert len(set(pt[sel].tolist())) == sel.size == len(set(pm[sel].tolist()))
    assert_allclose(cost[pt[sel], pm[sel]].sum(), _brute_min_matching(cost), atol=1e-9)


def test_clusters_kernel_equals_scipy(rng: np.random.Generator) -> None:
    for _ in range(200):
        m, n = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        pt, pm = _random_pairs(rng, m, n, float(rng.uniform(0.0, 0.15)))
        k1, lab1 = clusters(pt, pm, m, n)
        k2, lab2 = clusters_reference(pt, pm, m, n)
        assert k1 == k2
        np.testing.assert_array_equal(lab1, lab2)


@pytest.mark.parametrize("dim", [2, 3])
def test_grid_gating_equals_kdtree_reference(dim: int, rng: np.random.Generator) -> None:
    """Same pairs as the k-d tree reference, including tracks with a huge gate."""
    total = 0
    for trial in range(150):
        m, n = int(rng.integers(0, 60)), int(rng.integers(0, 80))
        pos = rng.uniform(-100.0, 100.0, (m, dim))
        z = rng.uniform(-100.0, 100.0, (n, dim))
        a = rng.normal(size=(m, dim, dim)) * rng.uniform(1.0, 8.0, (m, 1, 1))
        if m and trial % 5 == 0:
            a[0] *= 30.0  # one track whose gate covers the whole scene
        s_inv, _, lmax = inv_logdet_lmax(a @ np.swapaxes(a, 1, 2) + np.eye(dim))
        radius = np.sqrt(9.21 * lmax)
        fast = gate_pairs(pos, s_inv, radius, z, 9.21)
        ref = gate_pairs_reference(pos, s_inv, radius, z, 9.21)
        np.testing.assert_array_equal(fast[0], ref[0])
        np.testing.assert_array_equal(fast[1], ref[1])
        assert_allclose(fast[2], ref[2], rtol=1e-12)
        assert_allclose(fast[3], ref[3], rtol=0, atol=0)
        total += fast[0].size
    assert total > 500


@pytest.mark.parametrize("dim", [2, 3])
def test_pda_update_kernel_equals_numpy(dim: int, rng: np.random.Generator) -> None:
    k = 2 * dim
    for _ in range(100):
        big = int(rng.integers(1, 20))
        a = rng.normal(size=(big, k, k))
        p = a @ np.swapaxes(a, 1, 2) + np.eye(k)
        x = rng.normal(size=(big, k))
        s = p[:, :dim, :dim] + 2.0 * np.eye(dim)
        s_inv = np.linalg.inv(s)
        rows = rng.choice(big, size=int(rng.integers(1, big + 1)), replace=False)
        npair = int(rng.integers(0, 30))
        pt = np.sort(rng.integers(0, rows.size, npair))
        nu = rng.normal(size=(npair, dim)) * 3.0
        beta = rng.random(npair) * 0.3
        beta0 = rng.random(rows.size)
        fast = pda_update(x, p, s, s_inv, rows, pt, nu, beta, beta0)
        ref = pda_update_reference(x, p, s, s_inv, rows, pt, nu, beta, beta0)
        assert_allclose(fast[0], ref[0], rtol=1e-12, atol=1e-12)
        assert_allclose(fast[1], ref[1], rtol=1e-12, atol=1e-12)
        untouched = np.setdiff1d(np.arange(big), rows[pt])
        np.testing.assert_array_equal(fast[1][untouched], p[untouched])


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


@pytest.mark.parametrize(("rule", "winner"), [("likelihood", 0), ("mahalanobis", 1)])
def test_tentative_cost_rules(rule: str, winner: int) -> None:
    """Two tentative tracks compete for one measurement; the two rules disagree.

    Track 0 is well localised (position variance 1 m^2), track 1 is fresh (velocity sigma
    10 m/s): the measurement 6 m from track 0 and 4 m from track 1 is nearer track 1 in
    Mahalanobis distance (0.37 vs 1.79) but more likely under track 0
    (ln N = -4.0 vs -4.8).
    """
    from shorad.tracking.mtt import MttTracks

    x = np.array([[0.0, 0.0, 0.0, 0.0], [10.0, 0.0, 0.0, 0.0]])
    p = np.stack([np.diag([1.0, 1.0, 1.0, 1.0]), np.diag([9.0, 9.0, 100.0, 100.0])])
    tracks = MttTracks(
        0.0,
        np.array([1, 2], np.int64),
        x,
        p,
        np.zeros(2, np.bool_),
        np.ones(2, np.int32),
        np.zeros(2, np.int32),
        np.zeros(2),
        3,
    )
    tr = CartesianTracker(MttConfig(tentative_cost=rule))
    out = tr.step(tracks, np.array([[6.0, 0.0]]), 1.0)
    assert out.hits.tolist() == [2 if i == winner else 1 for i in range(2)]
    assert len(out) == 2  # the measurement started no track


def test_tracker_errors() -> None:
    with pytest.raises(ConfigError, match=r"MttConfig\.tentative_cost"):
        MttConfig(tentative_cost="euclid")
    with pytest.raises(ConfigError, match=r"MttConfig\.method"):
        MttConfig(method="mht")
    with pytest.raises(ConfigError, match=r"MttConfig\.R_m2"):
        MttConfig(dim=3, R_m2=np.eye(2))
    tr = CartesianTracker(MttConfig())
    with pytest.raises(SimulationError, match="before"):
        tr.step(tr.initial(5.0), np.zeros((0, 2)), 1.0)
