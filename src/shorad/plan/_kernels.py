"""Numba kernel of the siting heuristic (:mod:`shorad.plan.solve`): greedy, then tabu search.

============================  =======================================================
kernel                        numpy reference
============================  =======================================================
:func:`greedy_tabu`           :func:`greedy_tabu_reference` (same moves, same result)
:func:`tabu_search`           :func:`tabu_search_reference` (step 2 alone, from a
                              given layout: the exact method's node local search)
============================  =======================================================

The problem is the weighted maximal covering of :class:`~shorad.plan.coverage.CoverProblem`:
choose ``p`` rows of ``A`` (sites) to maximise ``sum_j w_j (min(c_j, 1) + beta [c_j >= 2])``,
``c_j`` the number of chosen sites covering demand ``j``.

1. Greedy: ``p`` times, add the site of largest marginal gain (lowest index on ties); stop
   early when no site gains anything.
2. Tabu search (Glover, "Tabu search - Part I", *ORSA J. Computing* 1 (1989) 190-206) in the
   1-swap neighbourhood: each iteration makes the best exchange of a chosen site ``r`` for an
   unchosen site ``i``, *even if it loses weight*, so the search walks out of local optima
   (where the best-improvement swap of :mod:`shorad.plan.solve` stops). A site swapped out
   may not come back for ``tenure`` iterations unless that move beats the best set found
   (aspiration). ``iters`` iterations; the best set seen is returned.

The gain of adding ``i`` at counts ``c`` is ``sum_j a_ij w_j g(c_j)`` with ``g(0) = 1``,
``g(1) = beta``, else 0. Removing ``r`` first changes ``g`` on ``r``'s columns by
``g(c - 1) - g(c)`` (``1 - beta`` at ``c = 1``, ``beta`` at ``c = 2``), so the gain of every
exchange ``(i, r)`` costs one pass over the demand points of ``r`` and their sites; the
kernel keeps the add-gains up to date across moves (the reference recomputes them).

Ties: among exchanges of equal net gain the first chosen position ``k`` (in the order sites
entered), then the lowest site index wins; both implementations compare with ``>`` in the
same order, so with weights exactly representable sums (integers in the tests) they make the
same moves. The kernel trusts its input (CSR / CSC index arrays of the same 0/1 matrix,
``0 < p < n``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit

__all__ = ["greedy_tabu", "greedy_tabu_reference", "tabu_search", "tabu_search_reference"]


@njit(cache=True, nogil=True)
def _recount(
    j: int,
    step: int,
    c: NDArray[np.int64],
    g0: NDArray[np.float64],
    cptr: NDArray[np.int64],
    cind: NDArray[np.int64],
    w: NDArray[np.float64],
    beta: float,
) -> None:  # pragma: no cover - numba
    """``c[j] += step``, and the add-gain ``g0`` of the sites covering ``j`` with it."""
    old = 1.0 if c[j] == 0 else (beta if c[j] == 1 else 0.0)
    c[j] += step
    new = 1.0 if c[j] == 0 else (beta if c[j] == 1 else 0.0)
    if new != old:
        d = w[j] * (new - old)
        for t in range(cptr[j], cptr[j + 1]):
            g0[cind[t]] += d


@njit(cache=True, nogil=True)
def greedy_tabu(
    rptr: NDArray[np.int64],
    rind: NDArray[np.int64],
    cptr: NDArray[np.int64],
    cind: NDArray[np.int64],
    w: NDArray[np.float64],
    beta: float,
    p: int,
    iters: int,
    tenure: int,
) -> tuple[NDArray[np.int64], float]:  # pragma: no cover - numba
    """Greedy + tabu search (module docstring).

    Parameters
    ----------
    rptr, rind : (n+1,), (nnz,) int64
        CSR of ``A`` (sites x demand), column indices.
    cptr, cind : (m+1,), (nnz,) int64
        CSC of ``A``: for each demand point, the sites covering it.
    w : (m,) float64
        Demand weights (>= 0).
    beta : float
        Weight of a second covering site.
    p : int
        Sites to choose, ``1 <= p < n``.
    iters, tenure : int
        Tabu iterations and tenure.

    Returns
    -------
    sites : (k,) int64
        Best set found, in the order the sites entered (``k <= p``).
    value : float
        Its objective.
    """
    n = rptr.size - 1
    m = cptr.size - 1
    c = np.zeros(m, np.int64)
    taken = np.zeros(n, np.bool_)
    chosen = np.full(p, -1, np.int64)
    gain = np.zeros(n)
    k = 0
    val = 0.0
    while k < p:
        gain[:] = 0.0
        for j in range(m):
            g = 1.0 if c[j] == 0 else (beta if c[j] == 1 else 0.0)
            if g > 0.0:
                for t in range(cptr[j], cptr[j + 1]):
                    gain[cind[t]] += w[j] * g
        best_i = -1
        best_g = 0.0
        for i in range(n):
            if not taken[i] and gain[i] > best_g:
                best_g = gain[i]
                best_i = i
        if best_i < 0:
            break
        chosen[k] = best_i
        taken[best_i] = True
        for q in range(rptr[best_i], rptr[best_i + 1]):
            c[rind[q]] += 1
        val += best_g
        k += 1
    if k == 0:
        return chosen[:0].copy(), val
    return tabu_search(rptr, rind, cptr, cind, w, beta, chosen[:k].copy(), iters, tenure)


@njit(cache=True, nogil=True)
def tabu_search(
    rptr: NDArray[np.int64],
    rind: NDArray[np.int64],
    cptr: NDArray[np.int64],
    cind: NDArray[np.int64],
    w: NDArray[np.float64],
    beta: float,
    start: NDArray[np.int64],
    iters: int,
    tenure: int,
) -> tuple[NDArray[np.int64], float]:  # pragma: no cover - numba
    """Tabu search (step 2 of the module docstring) from the layout ``start``.

    Parameters
    ----------
    rptr, rind, cptr, cind, w, beta
        As :func:`greedy_tabu`.
    start : (k,) int64
        Distinct sites, ``0 < k < n``; their order is the order of the positions ``k``
        (ties between exchanges).
    iters, tenure : int
        Tabu iterations and tenure.

    Returns
    -------
    sites : (k,) int64
        Best set found (``start`` itself if nothing beats it), by position.
    value : float
        Its objective.
    """
    n = rptr.size - 1
    m = cptr.size - 1
    k = start.size
    chosen = start.copy()
    c = np.zeros(m, np.int64)
    taken = np.zeros(n, np.bool_)
    for kk in range(k):
        taken[chosen[kk]] = True
        for q in range(rptr[chosen[kk]], rptr[chosen[kk] + 1]):
            c[rind[q]] += 1
    val = 0.0
    g0 = np.zeros(n)  # gain of adding each site, kept up to date across moves
    for j in range(m):
        if c[j] >= 1:
            val += w[j] * (1.0 if c[j] == 1 else 1.0 + beta)
        g = 1.0 if c[j] == 0 else (beta if c[j] == 1 else 0.0)
        if g > 0.0:
            for t in range(cptr[j], cptr[j + 1]):
                g0[cind[t]] += w[j] * g
    best_val = val
    best_set = chosen.copy()
    tabu_until = np.zeros(n, np.int64)
    gr = np.zeros(n)
    for it in range(iters):
        move_i = -1
        move_k = -1
        move_net = -np.inf
        for kk in range(k):
            r = chosen[kk]
            loss = 0.0
            gr[:] = g0
            for q in range(rptr[r], rptr[r + 1]):
                j = rind[q]
                if c[j] == 1:
                    d = 1.0 - beta
                    loss += w[j]
                elif c[j] == 2:
                    d = beta
                    loss += w[j] * beta
                else:
                    continue
                for t in range(cptr[j], cptr[j + 1]):
                    gr[cind[t]] += w[j] * d
            for i in range(n):
                if taken[i]:
                    continue
                net = gr[i] - loss
                if tabu_until[i] > it and not val + net > best_val:
                    continue
                if net > move_net:
                    move_net = net
                    move_i = i
                    move_k = kk
        if move_i < 0:
            break
        r = chosen[move_k]
        for q in range(rptr[r], rptr[r + 1]):
            _recount(rind[q], -1, c, g0, cptr, cind, w, beta)
        for q in range(rptr[move_i], rptr[move_i + 1]):
            _recount(rind[q], 1, c, g0, cptr, cind, w, beta)
        taken[r] = False
        taken[move_i] = True
        chosen[move_k] = move_i
        tabu_until[r] = it + tenure
        val += move_net
        if val > best_val:
            best_val = val
            best_set = chosen[:k].copy()
    return best_set, best_val


def greedy_tabu_reference(
    a: NDArray[np.float64], w: NDArray[np.float64], beta: float, p: int, iters: int, tenure: int
) -> tuple[NDArray[np.int64], float]:
    """Numpy reference of :func:`greedy_tabu` on a dense ``(n, m)`` 0/1 matrix ``a``."""
    n = a.shape[0]

    def marg(c: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.where(c == 0, 1.0, np.where(c == 1, beta, 0.0))

    c = np.zeros(a.shape[1], np.int64)
    taken = np.zeros(n, bool)
    chosen: list[int] = []
    val = 0.0
    while len(chosen) < p:
        gain = a @ (w * marg(c))
        gain[taken] = 0.0
        i = int(np.argmax(gain))
        if not gain[i] > 0.0:
            break
        chosen.append(i)
        taken[i] = True
        c += a[i].astype(np.int64)
        val += float(gain[i])
    if not chosen:
        return np.array(chosen, np.int64), val
    return tabu_search_reference(a, w, beta, np.array(chosen, np.int64), iters, tenure)


def tabu_search_reference(
    a: NDArray[np.float64],
    w: NDArray[np.float64],
    beta: float,
    start: NDArray[np.int64],
    iters: int,
    tenure: int,
) -> tuple[NDArray[np.int64], float]:
    """Numpy reference of :func:`tabu_search` on a dense ``(n, m)`` 0/1 matrix ``a``."""
    n = a.shape[0]

    def marg(c: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.where(c == 0, 1.0, np.where(c == 1, beta, 0.0))

    chosen = [int(s) for s in start]
    taken = np.zeros(n, bool)
    taken[chosen] = True
    c = a[chosen].sum(axis=0).astype(np.int64)
    val = 0.0
    for j in np.flatnonzero(c):  # column order, as the kernel sums
        val += float(w[j]) * (1.0 if c[j] == 1 else 1.0 + beta)
    best_val, best_set = val, list(chosen)
    tabu_until = np.zeros(n, np.int64)
    for it in range(iters):
        g0 = a @ (w * marg(c))
        move: tuple[float, int, int] | None = None
        for kk, r in enumerate(chosen):
            on = a[r] > 0
            d = np.where(on & (c == 1), 1.0 - beta, np.where(on & (c == 2), beta, 0.0))
            loss = float(w @ (np.where(on & (c == 1), 1.0, 0.0) + beta * (on & (c == 2))))
            net = g0 + a @ (w * d) - loss
            ok = ~taken & ((tabu_until <= it) | (val + net > best_val))
            if not ok.any():
                continue
            cand = np.where(ok, net, -np.inf)
            i = int(np.argmax(cand))
            if move is None or cand[i] > move[0]:
                move = (float(cand[i]), i, kk)
        if move is None:
            break
        net_v, i, kk = move
        r = chosen[kk]
        c += a[i].astype(np.int64) - a[r].astype(np.int64)
        taken[r], taken[i] = False, True
        chosen[kk] = i
        tabu_until[r] = it + tenure
        val += net_v
        if val > best_val:
            best_val, best_set = val, list(chosen)
    return np.array(best_set, np.int64), best_val
