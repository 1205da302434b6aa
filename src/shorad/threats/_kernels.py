"""Numba kernel of :func:`shorad.threats.raid.truth_at` for compiled callers.

Same arithmetic in the same order as the numpy function (its reference; the tests compare
the two bit for bit), one threat at a time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit

__all__ = ["truth_at_kernel"]


@njit(cache=True, nogil=True)
def truth_at_kernel(
    vert_m: NDArray[np.float64],
    vert_t_s: NDArray[np.float64],
    t_s: float,
    killed: NDArray[np.bool_],
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]
]:  # pragma: no cover - numba
    """Positions (n, 3), velocities (n, 3) and ``alive`` (n,) of every threat at ``t_s``.

    Parameters
    ----------
    vert_m : (n, k, 3) float64
        :attr:`ThreatPlan.vert_m`.
    vert_t_s : (n, k) float64
        :attr:`ThreatPlan.vert_t_s`.
    t_s : float
    killed : (n,) bool
        Threats already destroyed.
    """
    n, k = vert_t_s.shape
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    alive = np.empty(n, np.bool_)
    for i in range(n):
        c = 0
        for q in range(k):
            if vert_t_s[i, q] <= t_s:
                c += 1
        j = min(max(c - 1, 0), k - 2)
        t0 = vert_t_s[i, j]
        dt = vert_t_s[i, j + 1] - t0
        frac = min(max((t_s - t0) / dt, 0.0), 1.0)
        a = (t_s >= vert_t_s[i, 0]) and (t_s < vert_t_s[i, k - 1]) and not killed[i]
        alive[i] = a
        for d in range(3):
            p0 = vert_m[i, j, d]
            step = vert_m[i, j + 1, d] - p0
            pos[i, d] = p0 + frac * step
            vel[i, d] = step / dt if a else 0.0
    return pos, vel, alive
