"""GOSPA / OSPA against hand cases and brute force; continuity counts."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.analysis.mtt_metrics import gospa, ospa, score_scans


def test_gospa_hand_case() -> None:
    x = np.array([[0.0, 0.0], [100.0, 0.0]])
    y = np.array([[3.0, 4.0], [500.0, 500.0], [101.0, 0.0]])
    g = gospa(x, y, c=10.0, p=1.0)
    # pairs: (0,0) at 5 m, (1,2) at 1 m; one false track at c/2.
    assert_allclose([g.gospa, g.localisation, g.missed, g.false], [11.0, 6.0, 0.0, 5.0])
    assert (g.n_missed, g.n_false) == (0, 1)
    g2 = gospa(x, np.zeros((0, 2)))
    assert_allclose(g2.gospa, 10.0)
    assert_allclose(ospa(x, y[:1]), (5.0 + 10.0) / 2)
    assert ospa(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def _brute_gospa(x: np.ndarray, y: np.ndarray, c: float, p: float) -> float:
    n, m = len(x), len(y)
    best = np.inf
    for k in range(min(n, m) + 1):
        for xs in itertools.combinations(range(n), k):
            for ys in itertools.permutations(range(m), k):
                d = np.array([np.linalg.norm(x[i] - y[j]) for i, j in zip(xs, ys, strict=True)])
                if (d >= c).any():
                    continue
                val = float(np.sum(d**p)) + c**p / 2 * (n + m - 2 * k)
                best = min(best, val)
    return best ** (1 / p)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), st.sampled_from([1.0, 2.0]), st.integers(0, 9999))
def test_gospa_equals_brute_force(n: int, m: int, p: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 20, (n, 2))
    y = rng.uniform(0, 20, (m, 2))
    g = gospa(x, y, c=10.0, p=p)
    assert_allclose(g.gospa, _brute_gospa(x, y, 10.0, p), rtol=1e-9, atol=1e-9)
    assert_allclose(g.gospa**p, g.localisation + g.missed + g.false, rtol=1e-9, atol=1e-9)


def test_continuity_counts() -> None:
    truth = np.array([[0.0, 0.0]])
    ids = np.array([1])
    far = np.zeros((0, 2))
    # scan 0: untracked; 1: track 7; 2: gap; 3: track 7 again (fragment); 4: track 9 (switch).
    tracks = [
        (np.zeros(0, np.int64), far),
        (np.array([7]), truth),
        (np.zeros(0, np.int64), far),
        (np.array([7]), truth),
        (np.array([9]), truth),
    ]
    s = score_scans(
        [0.0, 1.0, 2.0, 3.0, 4.0],
        [ids] * 5,
        [truth] * 5,
        [t[0] for t in tracks],
        [t[1] for t in tracks],
    )
    assert (s.id_switches, s.fragmentations, s.never_tracked) == (1, 1, 0)
    assert_allclose(s.mean_time_to_confirm_s, 1.0)
    assert_allclose(s.gospa, (5 + 0 + 5 + 0 + 0) / 5)
