"""Confidence intervals for campaign results: proportions, means and their differences.

Pure functions of plain numbers and arrays (no I/O, no global state). Randomised methods
(the bootstrap) take the generator as a required keyword, like every stochastic function in
shorad.

References
----------
.. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
   JASA 22 (1927) 209-212.
.. [2] R. G. Newcombe, "Interval estimation for the difference between independent
   proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873-890
   (method 10, the hybrid score interval).
.. [3] B. L. Welch, "The generalization of 'Student's' problem when several different
   population variances are involved", Biometrika 34 (1947) 28-35.
.. [4] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall
   (1993), ch. 13 (percentile interval).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as _st

__all__ = [
    "Interval",
    "bootstrap_interval",
    "mean_or_nan",
    "newcombe_interval",
    "t_interval",
    "welch_interval",
    "wilson_interval",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval.

    ``lo``/``hi`` are NaN when the interval is undefined (e.g. a mean of fewer than two
    values); ``estimate`` is NaN when there are no values at all.
    """

    estimate: float
    lo: float
    hi: float
    n: int
    confidence: float = 0.95

    def format(self, digits: int = 2) -> str:
        """``"1.23 [0.98, 1.51]"``; ``"-"`` without values, no bracket without an interval."""
        if math.isnan(self.estimate):
            return "-"
        if math.isnan(self.lo) or math.isnan(self.hi):
            return f"{self.estimate:.{digits}f}"
        return f"{self.estimate:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(_st.norm.ppf(0.5 + confidence / 2.0))


def _clean(x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a binomial proportion [1]_.

    Parameters
    ----------
    successes : int
        Number of successes, ``0 <= successes <= n``.
    n : int
        Number of trials; ``n = 0`` gives NaNs.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    Interval
        ``estimate = successes / n`` and the score interval, always inside [0, 1].
    """
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    z = _z(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, lo, hi, n, confidence)


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> Interval:
    """Newcombe's hybrid score interval of ``k1/n1 - k2/n2`` [2]_ (method 10).

    Built from the two Wilson intervals; NaN when either sample is empty.
    """
    a = wilson_interval(k1, n1, confidence)
    b = wilson_interval(k2, n2, confidence)
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, math.nan, math.nan, n1 + n2, confidence)
    d = a.estimate - b.estimate
    lo = d - math.sqrt((a.estimate - a.lo) ** 2 + (b.hi - b.estimate) ** 2)
    hi = d + math.sqrt((a.hi - a.estimate) ** 2 + (b.estimate - b.lo) ** 2)
    return Interval(d, lo, hi, n1 + n2, confidence)


def t_interval(x: ArrayLike, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean of ``x`` (non-finite values are dropped).

    Parameters
    ----------
    x : (n,) array_like of float
        Sample.
    confidence : float
        Two-sided confidence level.
    """
    a = _clean(x)
    n = int(a.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    m = float(a.mean())
    if n < 2:
        return Interval(m, math.nan, math.nan, n, confidence)
    _z(confidence)
    se = float(a.std(ddof=1)) / math.sqrt(n)
    q = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1))
    return Interval(m, m - q * se, m + q * se, n, confidence)


def welch_interval(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> Interval:
    """Welch interval of ``mean(x) - mean(y)`` (unequal variances) [3]_.

    NaN bounds when either sample has fewer than two values; a zero-width interval when
    both samples are constant.
    """
    a, b = _clean(x), _clean(y)
    n1, n2 = int(a.size), int(b.size)
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, math.nan, math.nan, n1 + n2, confidence)
    d = float(a.mean() - b.mean())
    if n1 < 2 or n2 < 2:
        return Interval(d, math.nan, math.nan, n1 + n2, confidence)
    _z(confidence)
    v1, v2 = float(a.var(ddof=1)) / n1, float(b.var(ddof=1)) / n2
    se = math.sqrt(v1 + v2)
    if se == 0.0:
        return Interval(d, d, d, n1 + n2, confidence)
    dof = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    q = float(_st.t.ppf(0.5 + confidence / 2.0, dof))
    return Interval(d, d - q * se, d + q * se, n1 + n2, confidence)


def bootstrap_interval(
    x: ArrayLike,
    statistic: Callable[[NDArray[np.float64]], float] | None = None,
    *,
    rng: np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> Interval:
    """Percentile bootstrap interval of ``statistic(x)`` [4]_ (default: the mean).

    Parameters
    ----------
    x : (n,) array_like of float
        Sample; non-finite values are dropped.
    statistic : callable, optional
        Maps a (n,) float64 array to a float. Default :func:`numpy.mean`.
    rng : numpy.random.Generator
        Source of the resampling indices (required: same rng state, same interval).
    n_resamples : int
        Number of bootstrap resamples.
    confidence : float
        Two-sided confidence level.
    """
    a = _clean(x)
    n = int(a.size)
    stat: Callable[[NDArray[np.float64]], float] = statistic or (lambda v: float(v.mean()))
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    est = float(stat(a))
    if n < 2:
        return Interval(est, math.nan, math.nan, n, confidence)
    _z(confidence)
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    idx = rng.integers(0, n, size=(n_resamples, n))
    reps = np.array([stat(a[i]) for i in idx], dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return Interval(est, float(lo), float(hi), n, confidence)


def mean_or_nan(values: Sequence[float | None]) -> float:
    """Mean of the finite values, NaN when there are none."""
    a = _clean([math.nan if v is None else v for v in values])
    return float(a.mean()) if a.size else math.nan
