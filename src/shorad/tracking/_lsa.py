"""Compiled rectangular linear sum assignment (shortest augmenting path).

:func:`lsa_kernel` is a loop-for-loop port of SciPy's ``linear_sum_assignment``
(``scipy/optimize/rectangular_lsap/rectangular_lsap.cpp``, P. M. Larsen, after the
pseudocode of Crouse (2016) pp. 1685-1686) so that compiled code (the fused tracker scan of
:mod:`shorad.tracking._fused`) can solve its assignment problem without returning to Python.
It visits nodes in the same order and breaks ties the same way as SciPy, so it returns the
same assignment, not only one of equal cost; :func:`scipy.optimize.linear_sum_assignment` is
its reference and the tests compare them entry for entry (random real and small-integer
cost matrices, tall and wide).

References
----------
.. [1] D. F. Crouse, "On implementing 2D rectangular assignment algorithms", *IEEE
   Transactions on Aerospace and Electronic Systems* 52(4), 2016, pp. 1679-1696,
   doi:10.1109/TAES.2016.140952.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit

__all__ = ["lsa_col4row", "lsa_kernel"]


@njit(cache=True, nogil=True)
def _augmenting_path(
    nc: int,
    cost: NDArray[np.float64],
    u: NDArray[np.float64],
    v: NDArray[np.float64],
    path: NDArray[np.int64],
    row4col: NDArray[np.int64],
    spc: NDArray[np.float64],
    i: int,
    sr: NDArray[np.bool_],
    sc: NDArray[np.bool_],
    remaining: NDArray[np.int64],
) -> tuple[int, float]:  # pragma: no cover - compiled
    """Shortest augmenting path from free row ``i``: ``(sink column or -1, its length)``."""
    min_val = 0.0
    num_remaining = nc
    for it in range(nc):
        # reverse order: a constant cost matrix gives the identity (as SciPy)
        remaining[it] = nc - it - 1
    sr[:] = False
    sc[:] = False
    spc[:] = np.inf
    sink = -1
    while sink == -1:
        index = -1
        lowest = np.inf
        sr[i] = True
        for it in range(num_remaining):
            j = remaining[it]
            r = min_val + cost[i, j] - u[i] - v[j]
            if r < spc[j]:
                path[j] = i
                spc[j] = r
            # among equal lengths prefer a column that ends the path (a new sink)
            if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1):
                lowest = spc[j]
                index = it
        min_val = lowest
        if min_val == np.inf:
            return -1, min_val
        j = remaining[index]
        if row4col[j] == -1:
            sink = j
        else:
            i = row4col[j]
        sc[j] = True
        num_remaining -= 1
        remaining[index] = remaining[num_remaining]
    return sink, min_val


@njit(cache=True, nogil=True)
def lsa_col4row(cost: NDArray[np.float64]) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """Column of each row (r,) in the minimum-cost assignment of ``cost`` (r, c), ``r <= c``.

    SciPy's main loop, with its tie-breaking; -1 for every row if some row cannot be assigned
    (infinite costs).
    """
    nr, nc = cost.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    spc = np.empty(nc)
    path = np.full(nc, -1, np.int64)
    col4row = np.full(nr, -1, np.int64)
    row4col = np.full(nc, -1, np.int64)
    sr = np.zeros(nr, np.bool_)
    sc = np.zeros(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    for cur in range(nr):
        sink, min_val = _augmenting_path(
            nc, cost, u, v, path, row4col, spc, cur, sr, sc, remaining
        )
        if sink < 0:
            col4row[:] = -1
            return col4row
        u[cur] += min_val
        for i in range(nr):
            if sr[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - spc[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            nxt = col4row[i]
            col4row[i] = j
            j = nxt
            if i == cur:
                break
    return col4row


@njit(cache=True, nogil=True)
def lsa_kernel(cost: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Minimum-cost assignment of the rows and columns of ``cost`` (r, c), as SciPy returns it.

    Parameters
    ----------
    cost : (r, c) float64
        Finite costs (the tracker puts a large finite cost on forbidden pairs).

    Returns
    -------
    row_ind, col_ind : (min(r, c),) int64
        Assigned pairs, sorted by row. Both are empty if no full assignment of the smaller
        side exists (an infinite row), where SciPy raises.
    """
    nr0, nc0 = cost.shape
    k = min(nr0, nc0)
    if k == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    transpose = nc0 < nr0
    c = np.ascontiguousarray(cost.T) if transpose else cost
    col4row = lsa_col4row(c)
    if col4row[0] < 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.empty(k, np.int64)
    b = np.empty(k, np.int64)
    if transpose:
        order = np.argsort(col4row, kind="mergesort")
        for t in range(k):
            a[t] = col4row[order[t]]
            b[t] = order[t]
    else:
        for t in range(k):
            a[t] = t
            b[t] = col4row[t]
    return a, b
