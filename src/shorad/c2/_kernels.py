"""Numba kernels of the static WTA's fast method (:mod:`shorad.c2.wta`).

============================  =======================================================
kernel                        numpy reference
============================  =======================================================
:func:`lapjv_kernel`          :func:`scipy.optimize.linear_sum_assignment` (same optimum)
============================  =======================================================

:func:`lapjv_kernel` is the dense shortest-augmenting-path algorithm of Jonker & Volgenant,
"A shortest augmenting path algorithm for dense and sparse linear assignment problems",
*Computing* 38 (1987) 325-340, with its initialisation (column reduction, reduction
transfer, two rounds of augmenting row reduction) which scipy's solver lacks. The VLNS round
of the fast WTA method builds an assignment problem whose optimum is close to a known
matching (every lifted unit back on its own target); the initialisation finds most of it
before any shortest path is grown, which makes the kernel several times faster than scipy
there. On ties the two may return different matchings of the same cost: the tests compare
costs. The kernel trusts its input (finite costs, square).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["lapjv_kernel"]

_LARGE = np.inf


@njit(cache=True, nogil=True)
def _column_reduction(
    cost: NDArray[np.float64],
    x: NDArray[np.int64],
    y: NDArray[np.int64],
    v: NDArray[np.float64],
    free_rows: NDArray[np.int64],
) -> int:  # pragma: no cover - numba
    """Column reduction and reduction transfer; returns the number of free rows."""
    n = cost.shape[0]
    for j in range(n):
        v[j] = _LARGE
        y[j] = 0
    for i in range(n):
        x[i] = -1
        for j in range(n):
            c = cost[i, j]
            if c < v[j]:
                v[j] = c
                y[j] = i
    unique = np.ones(n, np.bool_)
    for j in range(n - 1, -1, -1):
        i = y[j]
        if x[i] < 0:
            x[i] = j
        else:
            unique[i] = False
            y[j] = -1
    n_free = 0
    for i in range(n):
        if x[i] < 0:
            free_rows[n_free] = i
            n_free += 1
        elif unique[i]:
            j = x[i]
            m = _LARGE
            for j2 in range(n):
                if j2 == j:
                    continue
                c = cost[i, j2] - v[j2]
                if c < m:
                    m = c
            v[j] -= m
    return n_free


@njit(cache=True, nogil=True)
def _augmenting_row_reduction(
    cost: NDArray[np.float64],
    n_free: int,
    free_rows: NDArray[np.int64],
    x: NDArray[np.int64],
    y: NDArray[np.int64],
    v: NDArray[np.float64],
) -> int:  # pragma: no cover - numba
    """One round of augmenting row reduction; returns the number of rows still free."""
    n = cost.shape[0]
    current = 0
    new_free = 0
    rr_cnt = 0
    while current < n_free:
        rr_cnt += 1
        free_i = free_rows[current]
        current += 1
        j1 = 0
        v1 = cost[free_i, 0] - v[0]
        j2 = -1
        v2 = _LARGE
        for j in range(1, n):
            c = cost[free_i, j] - v[j]
            if c < v2:
                if c >= v1:
                    v2 = c
                    j2 = j
                else:
                    v2 = v1
                    v1 = c
                    j2 = j1
                    j1 = j
        i0 = y[j1]
        v1_new = v[j1] - (v2 - v1)
        v1_lowers = v1_new < v[j1]
        if rr_cnt < current * n:
            if v1_lowers:
                v[j1] = v1_new
            elif i0 >= 0 and j2 >= 0:
                j1 = j2
                i0 = y[j2]
            if i0 >= 0:
                if v1_lowers:
                    current -= 1
                    free_rows[current] = i0
                else:
                    free_rows[new_free] = i0
                    new_free += 1
        elif i0 >= 0:
            free_rows[new_free] = i0
            new_free += 1
        x[free_i] = j1
        y[j1] = free_i
    return new_free


@njit(cache=True, nogil=True)
def _find_path(
    cost: NDArray[np.float64],
    start_i: int,
    y: NDArray[np.int64],
    v: NDArray[np.float64],
    pred: NDArray[np.int64],
    d: NDArray[np.float64],
    cols: NDArray[np.int64],
) -> int:  # pragma: no cover - numba
    """Shortest augmenting path from free row ``start_i`` (Dijkstra on reduced costs);
    updates the column duals ``v`` and returns the free column reached."""
    n = cost.shape[0]
    for j in range(n):
        cols[j] = j
        d[j] = cost[start_i, j] - v[j]
        pred[j] = start_i
    lo = 0
    hi = 0
    n_ready = 0
    final_j = -1
    level = 0.0
    while final_j == -1:
        if lo == hi:  # collect the columns at the minimum distance
            n_ready = lo
            hi = lo + 1
            mind = d[cols[lo]]
            for k in range(hi, n):
                j = cols[k]
                if d[j] <= mind:
                    if d[j] < mind:
                        hi = lo
                        mind = d[j]
                    cols[k] = cols[hi]
                    cols[hi] = j
                    hi += 1
            level = mind
            for k in range(lo, hi):
                if y[cols[k]] < 0:
                    final_j = cols[k]
                    break
        if final_j == -1:  # scan from the rows matched to those columns
            while lo != hi and final_j == -1:
                j = cols[lo]
                lo += 1
                i = y[j]
                mind = d[j]
                h = cost[i, j] - v[j] - mind
                k = hi
                while k < n:
                    j = cols[k]
                    cred = cost[i, j] - v[j] - h
                    if cred < d[j]:
                        d[j] = cred
                        pred[j] = i
                        if cred == mind:
                            if y[j] < 0:
                                final_j = j
                                break
                            cols[k] = cols[hi]
                            cols[hi] = j
                            hi += 1
                    k += 1
    for k in range(n_ready):  # the columns settled before the last level
        j = cols[k]
        v[j] += d[j] - level
    return final_j


@njit("int64[::1](float64[:, ::1])", cache=True, nogil=True)
def lapjv_kernel(cost: NDArray[np.float64]) -> NDArray[np.int64]:  # pragma: no cover - numba
    """Minimum-cost perfect matching of a square cost matrix.

    Parameters
    ----------
    cost : (n, n) float64
        Finite costs (C-contiguous).

    Returns
    -------
    (n,) int64
        The column matched to each row.
    """
    n = cost.shape[0]
    x = np.empty(n, np.int64)
    y = np.empty(n, np.int64)
    v = np.empty(n, np.float64)
    free_rows = np.empty(n, np.int64)
    if n == 0:
        return x
    n_free = _column_reduction(cost, x, y, v, free_rows)
    k = 0
    while n_free > 0 and k < 2:
        n_free = _augmenting_row_reduction(cost, n_free, free_rows, x, y, v)
        k += 1
    if n_free > 0:
        pred = np.empty(n, np.int64)
        d = np.empty(n, np.float64)
        cols = np.empty(n, np.int64)
        for f in range(n_free):
            row = free_rows[f]
            j = _find_path(cost, row, y, v, pred, d, cols)
            i = -1
            while i != row:
                i = pred[j]
                y[j] = i
                jj = x[i]
                x[i] = j
                j = jj
    return x
