"""Numba kernels of the static WTA's fast method (:mod:`shorad.c2.wta`).

============================  =======================================================
kernel                        numpy reference
============================  =======================================================
:func:`cancel_cycles_kernel`  :func:`scipy.optimize.linear_sum_assignment` (same optimum)
:func:`lapjv_kernel`          :func:`scipy.optimize.linear_sum_assignment` (same optimum)
:func:`round_cost_kernel`     :func:`round_cost_reference` (one pass instead of ~10 numpy
                              passes over (n, T) arrays)
:func:`moves_kernel`          ``wta._local_search(..., swaps=False)`` (the same moves)
:func:`greedy_kernel`         ``wta._greedy(..., compiled=False)`` (the same plan)
============================  =======================================================

A VLNS round of the fast method is a rectangular assignment problem with a known feasible
matching close to its optimum: every lifted unit back on its own target.
:func:`cancel_cycles_kernel` improves that matching by negative-cycle cancelling (Klein, "A
primal method for minimal cost flows", *Management Science* 14 (1967) 205-220): a
queue-based Bellman-Ford proves it optimal, or finds the few improving cycles, in a fraction
of the time of a solver that builds the matching from nothing. When the matching is far from
optimal (the first rounds, or after a kick) cancelling is slow, and the caller stops it after
a few passes and solves the round from scratch with :func:`lapjv_kernel`, the dense
shortest-augmenting-path algorithm of Jonker & Volgenant, "A shortest augmenting path
algorithm for dense and sparse linear assignment problems", *Computing* 38 (1987) 325-340,
with its initialisation (column reduction, reduction transfer, two rounds of augmenting row
reduction), padded square with zero rows (whose augmenting paths take most of its time).
On ties the kernels may return a different matching of the same cost as scipy: the tests
compare costs. The kernels trust their input.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit

__all__ = [
    "cancel_cycles_kernel",
    "greedy_kernel",
    "lapjv_kernel",
    "moves_kernel",
    "round_cost_kernel",
    "round_cost_reference",
]


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


@njit(cache=True, nogil=True)
def _cycles(pred: NDArray[np.int64], stamp: NDArray[np.int64], on: NDArray[np.int64]) -> int:
    """Nodes on the cycles of the predecessor graph, one per cycle, into ``on``; their count.

    ``stamp`` is scratch (len(pred)). Each node has one predecessor, so the cycles are
    disjoint.
    """  # pragma: no cover - numba
    nn = pred.shape[0]
    for k in range(nn):
        stamp[k] = -1
    found = 0
    for start in range(nn):
        if stamp[start] >= 0:
            continue
        k = start
        while k >= 0 and stamp[k] < 0:
            stamp[k] = start
            k = pred[k]
        if k >= 0 and stamp[k] == start:
            on[found] = k
            found += 1
    return found


@njit(cache=True, nogil=True)
def _arcs_via_t(
    owner: NDArray[np.int64], dist: NDArray[np.float64], pred: NDArray[np.int64], eps: float
) -> None:  # pragma: no cover - numba
    """Satisfy the zero arcs free column -> T -> matched column (T is node ``len(owner)``)."""
    m = owner.shape[0]
    for f in range(m):
        if owner[f] < 0 and dist[f] < dist[m] - eps:
            dist[m] = dist[f]
            pred[m] = f
    for k in range(m):
        if owner[k] >= 0 and dist[m] < dist[k] - eps:
            dist[k] = dist[m]
            pred[k] = m


@njit(
    "Tuple((int64[::1], boolean))"
    "(float64[:, ::1], int64[::1], int64[:, ::1], float64, int64, float64[::1])",
    cache=True,
    nogil=True,
)
def cancel_cycles_kernel(
    cost: NDArray[np.float64],
    col: NDArray[np.int64],
    cand: NDArray[np.int64],
    big: float,
    max_rounds: int,
    potential: NDArray[np.float64],
) -> tuple[NDArray[np.int64], bool]:  # pragma: no cover - numba
    """Improve a rectangular assignment by cancelling negative cycles until none is left.

    Parameters
    ----------
    cost : (n, m) float64
        Costs, n <= m; entries ``>= big`` are forbidden.
    col : (n,) int64
        A feasible starting matching: distinct columns, no forbidden entry.
    cand : (n, K) int64
        The columns each row may move to (the graph searched); -1 pads; K = 0: all.
    big : float
        The forbidden-entry marker.
    max_rounds : int
        Most Bellman-Ford passes (of ``m`` column scans each; a safeguard: the result is
        always feasible, and optimal unless it stopped the search).
    potential : (m + 1,) float64
        Starting distances of the columns and ``T`` (any values are valid; a potential that
        proved a similar problem optimal makes the search short). Overwritten with the
        final distances, a proof of optimality when ``optimal``.

    Returns
    -------
    col : (n,) int64
        The column of each row, feasible and no worse than the start.
    optimal : bool
        Whether it is optimal over the candidate graph (False when ``max_rounds`` stopped
        the search first).

    Notes
    -----
    Nodes are the columns plus one node ``T``; a matched column ``k`` (row ``r``) has an arc
    to each candidate ``j`` of ``r`` weighing ``cost[r, j] - cost[r, k]`` (``r`` moves from
    ``k`` to ``j``); free columns have a zero arc to ``T``, and ``T`` a zero arc to every
    matched column (a chain of moves ending on a free column frees its first column). A
    matching is optimal iff this graph has no negative cycle (Klein 1967). A queue-based
    Bellman-Ford (SPFA) from a virtual source (all distances 0) runs; after every ``m``
    column scans the predecessor graph is checked: each of its cycles is negative, and
    all of them (disjoint) are cancelled at once. The distances are kept across
    cancellations (any start converges to a feasible potential when no negative cycle is
    left, which proves optimality); only the predecessors are reset. The search ends when
    the queue is empty.
    """
    n, m = cost.shape
    kk = cand.shape[1]
    col = col.copy()
    owner = np.full(m, -1, np.int64)
    for r in range(n):
        owner[col[r]] = r
    scale = 0.0
    for r in range(n):
        c = abs(cost[r, col[r]])
        if c > scale:
            scale = c
    eps = 1e-12 * (scale + 1e-300)
    tnode = m
    dist = potential  # updated in place
    pred = np.full(m + 1, -1, np.int64)
    stamp = np.empty(m + 1, np.int64)
    on = np.empty(m + 1, np.int64)
    moves_j = np.empty(m + 1, np.int64)
    moves_r = np.empty(m + 1, np.int64)
    queue = np.empty(m + 1, np.int64)  # circular FIFO of matched columns to scan
    in_q = np.zeros(m + 1, np.bool_)
    head = 0
    size = 0
    _arcs_via_t(owner, dist, pred, eps)
    for k in range(m):
        if owner[k] >= 0:
            queue[size] = k
            in_q[k] = True
            size += 1
    scans = 0
    sweeps = 0
    while size > 0:
        k = queue[head]
        head = (head + 1) % (m + 1)
        size -= 1
        in_q[k] = False
        r = owner[k]
        base = dist[k] - cost[r, k]
        for q in range(kk if kk > 0 else m):
            j = cand[r, q] if kk > 0 else q
            if j < 0 or j == k:
                continue
            cj = cost[r, j]
            if cj >= big:
                continue
            nd = base + cj
            if nd < dist[j] - eps:
                dist[j] = nd
                pred[j] = k
                if owner[j] >= 0:
                    if not in_q[j]:
                        queue[(head + size) % (m + 1)] = j
                        in_q[j] = True
                        size += 1
                elif nd < dist[tnode] - eps:  # a free column: a zero arc on to T
                    dist[tnode] = nd
                    pred[tnode] = j
                    for k2 in range(m):
                        if owner[k2] >= 0 and nd < dist[k2] - eps:
                            dist[k2] = nd
                            pred[k2] = tnode
                            if not in_q[k2]:
                                queue[(head + size) % (m + 1)] = k2
                                in_q[k2] = True
                                size += 1
        scans += 1
        if scans < m and size > 0:
            continue
        scans = 0
        sweeps += 1
        if sweeps > max_rounds:
            return col, False
        n_cyc = _cycles(pred, stamp, on)
        if n_cyc == 0:
            continue
        for c_i in range(n_cyc):
            # walk the cycle once: the arc pred[j] -> j moves the row on pred[j] to j
            hit = on[c_i]
            n_moves = 0
            total = 0.0
            j = hit
            while True:
                k = pred[j]
                if k != tnode and j != tnode:
                    r = owner[k]
                    moves_j[n_moves] = j
                    moves_r[n_moves] = r
                    total += cost[r, j] - cost[r, k]
                    n_moves += 1
                j = k
                if j == hit:
                    break
            if not total < -eps:
                continue  # rounding: not a real improvement
            for q in range(n_moves):
                owner[col[moves_r[q]]] = -1
            for q in range(n_moves):
                col[moves_r[q]] = moves_j[q]
                owner[moves_j[q]] = moves_r[q]
        for k in range(m + 1):
            pred[k] = -1
        _arcs_via_t(owner, dist, pred, eps)  # the free columns changed
        size = 0
        head = 0
        for k in range(m):
            in_q[k] = owner[k] >= 0
            if in_q[k]:
                queue[size] = k
                size += 1
    return col, True


@njit(
    "float64[:, ::1](float64[:, ::1], boolean[:, ::1], int64[::1], float64[::1], boolean[::1], "
    "int64[::1], boolean[::1], int64[::1], boolean, float64)",
    cache=True,
    nogil=True,
)
def round_cost_kernel(
    q: NDArray[np.float64],
    compat: NDArray[np.bool_],
    lt: NDArray[np.int64],
    s: NDArray[np.float64],
    room: NDArray[np.bool_],
    ex: NDArray[np.int64],
    room2: NDArray[np.bool_],
    own: NDArray[np.int64],
    own_first: bool,
    big: float,
) -> NDArray[np.float64]:  # pragma: no cover - numba
    """Cost matrix of a VLNS round (:func:`round_cost_reference` is the numpy reference).

    Parameters
    ----------
    q : (W, T) float64
        Survival factor of one unit of each type on each target (1 where incompatible).
    compat : (W, T) bool
        Compatible pairs.
    lt : (n,) int64
        Type of each lifted unit.
    s : (T,) float64
        Surviving value of each target with the lifted units off.
    room : (T,) bool
        Targets with room for one more unit.
    ex : (E,) int64
        Targets offered a second column.
    room2 : (T,) bool
        Targets with room for two more units.
    own : (n,) int64
        Target each lifted unit came from (distinct).
    own_first : bool
        Price a second column as if the unit lifted from that target came back (else as if
        the strongest lifted unit took the first slot).
    big : float
        Cost of a forbidden entry.

    Returns
    -------
    (n, T + E) float64
        ``s_j (q_uj - 1)`` on the first columns, ``s_j q_first,j (q_uj - 1)`` on the second.
    """
    n = lt.shape[0]
    t = s.shape[0]
    e = ex.shape[0]
    cost = np.empty((n, t + e))
    first_q = np.ones(e)
    pos = np.full(t, -1, np.int64)
    for k in range(e):
        pos[ex[k]] = k
    for r in range(n):
        qr = q[lt[r]]
        cr = compat[lt[r]]
        row = cost[r]
        for j in range(t):
            row[j] = s[j] * (qr[j] - 1.0) if cr[j] and room[j] else big
        for k in range(e):
            if qr[ex[k]] < first_q[k]:
                first_q[k] = qr[ex[k]]
    if own_first:
        for r in range(n):
            k = pos[own[r]]
            if k >= 0:
                first_q[k] = q[lt[r], own[r]]
    for r in range(n):
        qr = q[lt[r]]
        cr = compat[lt[r]]
        for k in range(e):
            j = ex[k]
            ok = cr[j] and room[j] and room2[j]
            cost[r, t + k] = s[j] * first_q[k] * (qr[j] - 1.0) if ok else big
    return cost


def round_cost_reference(
    q: NDArray[np.float64],
    compat: NDArray[np.bool_],
    lt: NDArray[np.int64],
    s: NDArray[np.float64],
    room: NDArray[np.bool_],
    ex: NDArray[np.int64],
    room2: NDArray[np.bool_],
    own: NDArray[np.int64],
    own_first: bool,
    big: float,
) -> NDArray[np.float64]:
    """Numpy reference of :func:`round_cost_kernel` (same parameters and result)."""
    ql = q[lt]
    feasible = compat[lt] & room[None, :]
    cost = np.where(feasible, s[None, :] * (ql - 1.0), big)
    first_q = ql.min(axis=0)  # the strongest lifted unit
    if own_first:
        first_q[own] = ql[np.arange(lt.size), own]
    second = (s[ex] * first_q[ex])[None, :] * (ql[:, ex] - 1.0)
    second = np.where(feasible[:, ex] & room2[None, ex], second, big)
    return np.ascontiguousarray(np.concatenate([cost, second], axis=1), np.float64)


@njit(
    "int64[:, ::1](int64[:, ::1], float64[::1], float64[:, ::1], float64[:, ::1], "
    "float64[:, ::1], boolean[:, ::1], int64[::1])",
    cache=True,
    nogil=True,
)
def moves_kernel(
    x: NDArray[np.int64],
    value: NDArray[np.float64],
    a: NDArray[np.float64],
    p: NDArray[np.float64],
    inv_q_m1: NDArray[np.float64],
    compat: NDArray[np.bool_],
    capacity: NDArray[np.int64],
) -> NDArray[np.int64]:  # pragma: no cover - numba
    """Improving single-unit moves until none is left (reference: ``wta._local_search``
    with ``swaps=False``).

    Parameters
    ----------
    x : (W, T) int64
        A feasible plan (not modified).
    value : (T,) float64
        Target values.
    a, p, inv_q_m1 : (W, T) float64
        ``-ln(1 - p)`` (capped), kill probabilities, ``1/q - 1``.
    compat : (W, T) bool
        Compatible pairs.
    capacity : (T,) int64
        Most units per target.

    Returns
    -------
    (W, T) int64
        The improved plan. Each pass moves, for each type, a unit from a target to the
        target where it gains most (the second best if that is its own); all improving moves
        on disjoint target pairs are applied together, best first.
    """
    w, t = x.shape
    x = x.copy()
    s = np.empty(t)
    load = np.empty(t, np.int64)
    b1 = np.empty(w, np.int64)
    b2 = np.empty(w, np.int64)
    add1 = np.empty(w)
    add2 = np.empty(w)
    delta = np.empty(w * t)
    idx = np.empty(w * t, np.int64)
    used = np.zeros(t, np.bool_)
    while True:
        for j in range(t):
            s[j] = 0.0
            load[j] = 0
        for i in range(w):
            for j in range(t):
                s[j] += a[i, j] * x[i, j]
                load[j] += x[i, j]
        total = 0.0
        for j in range(t):
            s[j] = value[j] * np.exp(-s[j])
            total += s[j]
        thr = -1e-12 * max(total, 1e-300)
        for i in range(w):  # the two targets where a unit of type i gains most
            v1 = np.inf
            v2 = np.inf
            j1 = 0
            j2 = 1 if t > 1 else 0
            for j in range(t):
                if not (compat[i, j] and load[j] < capacity[j]):
                    continue
                v = -s[j] * p[i, j]
                if v < v1:
                    v2, j2 = v1, j1
                    v1, j1 = v, j
                elif v < v2:
                    v2, j2 = v, j
            b1[i], b2[i], add1[i], add2[i] = j1, j2, v1, v2
        n_imp = 0
        for i in range(w):
            for j in range(t):
                if x[i, j] <= 0:
                    continue
                d = s[j] * inv_q_m1[i, j] + (add2[i] if j == b1[i] else add1[i])
                if d < thr:
                    delta[n_imp] = d
                    idx[n_imp] = i * t + j
                    n_imp += 1
        if n_imp == 0:
            return x
        order = np.argsort(delta[:n_imp], kind="mergesort")
        for j in range(t):
            used[j] = False
        for o in order:
            i = idx[o] // t
            src = idx[o] % t
            dst = b2[i] if src == b1[i] else b1[i]
            if used[src] or used[dst]:
                continue
            x[i, src] -= 1
            x[i, dst] += 1
            used[src] = True
            used[dst] = True


@njit(
    "int64[:, ::1](float64[::1], float64[:, ::1], int64[::1], int64[::1], boolean)",
    cache=True,
    nogil=True,
)
def greedy_kernel(
    value: NDArray[np.float64],
    p: NDArray[np.float64],
    count: NDArray[np.int64],
    capacity: NDArray[np.int64],
    must_fire: bool,
) -> NDArray[np.int64]:  # pragma: no cover - numba
    """Maximum-marginal-return greedy (reference: ``wta._greedy(..., compiled=False)``).

    Parameters
    ----------
    value : (T,) float64
        Target values.
    p : (W, T) float64
        Kill probabilities (0: incompatible).
    count : (W,) int64
        Units of each type.
    capacity : (T,) int64
        Most units per target.
    must_fire : bool
        Fire units of zero gain too.

    Returns
    -------
    (W, T) int64
        Repeatedly one unit of the (type, target) with the largest expected gain
        ``V_j S_j p_ij`` (the first in row-major order on ties, as ``numpy.argmax``). Only
        the chosen target's column changes per step, so each type's best target is kept
        and rescanned only when it was that column.
    """
    w, t = p.shape
    x = np.zeros((w, t), np.int64)
    surv = value.copy()
    left = count.copy()
    cap = capacity.copy()
    gain = np.empty((w, t))
    best_j = np.zeros(w, np.int64)
    best_v = np.empty(w)
    for i in range(w):
        for j in range(t):
            ok = p[i, j] > 0 and left[i] != 0 and cap[j] != 0
            gain[i, j] = surv[j] * p[i, j] if ok else -1.0
    for i in range(w):
        bj = 0
        for j in range(1, t):
            if gain[i, j] > gain[i, bj]:
                bj = j
        best_j[i] = bj
        best_v[i] = gain[i, bj]
    total = 0
    for i in range(w):
        total += count[i]
    for _ in range(total):
        bi = 0
        for i in range(1, w):
            if best_v[i] > best_v[bi]:
                bi = i
        i = bi
        j = best_j[i]
        g = best_v[i]
        if g <= 0.0 and not must_fire:
            break
        if g < 0.0:
            break
        x[i, j] += 1
        left[i] -= 1
        cap[j] -= 1
        surv[j] *= 1.0 - p[i, j]
        for r in range(w):
            ok = p[r, j] > 0 and cap[j] != 0 and left[r] != 0
            gain[r, j] = surv[j] * p[r, j] if ok else -1.0
        for r in range(w):
            if left[r] == 0 and best_v[r] != -1.0:
                for jj in range(t):
                    gain[r, jj] = -1.0
            if best_j[r] == j or (left[r] == 0 and best_v[r] != -1.0):
                bj = 0
                for jj in range(1, t):
                    if gain[r, jj] > gain[r, bj]:
                        bj = jj
                best_j[r] = bj
                best_v[r] = gain[r, bj]
            elif gain[r, j] > best_v[r] or (gain[r, j] == best_v[r] and j < best_j[r]):
                best_j[r] = j
                best_v[r] = gain[r, j]
    return x
