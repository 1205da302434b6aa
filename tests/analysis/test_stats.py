"""Confidence intervals against published and independently computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st

from shorad.analysis.stats import (
    bootstrap_interval,
    newcombe_interval,
    t_interval,
    welch_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998), table I, example (a)
        (15, 148, 0.0624, 0.1605),  # ibid., example (b)
        (0, 20, 0.0, 0.1611),  # ibid., example (c)
        (1, 29, 0.0061, 0.1718),  # ibid., example (d)
    ],
    ids=["81of263", "15of148", "0of20", "1of29"],
)
def test_wilson_matches_newcombe_table(k: int, n: int, lo: float, hi: float) -> None:
    iv = wilson_interval(k, n)
    assert iv.estimate == pytest.approx(k / n)
    assert_allclose([iv.lo, iv.hi], [lo, hi], atol=6e-5)


def test_wilson_edges() -> None:
    assert wilson_interval(10, 10).hi == 1.0
    assert wilson_interval(0, 10).lo == 0.0
    assert math.isnan(wilson_interval(0, 0).estimate)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)


def test_newcombe_difference_matches_paper() -> None:
    # Newcombe (1998), table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    iv = newcombe_interval(56, 70, 48, 80)
    assert iv.estimate == pytest.approx(0.2)
    assert_allclose([iv.lo, iv.hi], [0.0524, 0.3339], atol=6e-5)


def test_t_interval_known_values() -> None:
    # mean 3, s = sqrt(2.5), se = s / sqrt(5), t(0.975, 4) = 2.776445
    iv = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert_allclose([iv.estimate, iv.lo, iv.hi], [3.0, 3.0 - half, 3.0 + half], rtol=1e-12)
    one = t_interval([4.0, math.nan])
    assert one.estimate == 4.0
    assert math.isnan(one.lo)


def test_welch_matches_scipy(rng: np.random.Generator) -> None:
    x = rng.normal(1.0, 1.0, 30)
    y = rng.normal(0.0, 3.0, 12)
    iv = welch_interval(x, y, confidence=0.9)
    ref = st.ttest_ind(x, y, equal_var=False).confidence_interval(confidence_level=0.9)
    assert_allclose([iv.lo, iv.hi], [ref.low, ref.high], rtol=1e-10)
    const = welch_interval([2.0, 2.0], [1.0, 1.0])
    assert (const.lo, const.hi) == (1.0, 1.0)


def test_bootstrap_is_reproducible_and_close_to_t(rng: np.random.Generator) -> None:
    x = rng.normal(5.0, 2.0, 400)
    a = bootstrap_interval(x, rng=np.random.default_rng(3), n_resamples=4000)
    b = bootstrap_interval(x, rng=np.random.default_rng(3), n_resamples=4000)
    assert a == b
    t = t_interval(x)
    assert a.estimate == pytest.approx(t.estimate)
    assert_allclose([a.lo, a.hi], [t.lo, t.hi], atol=0.03)
    med = bootstrap_interval(x, np.median, rng=np.random.default_rng(1), n_resamples=500)
    assert med.lo < float(np.median(x)) < med.hi
