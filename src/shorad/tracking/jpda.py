"""Joint probabilistic data association (JPDA) marginals, exact and approximate.

For tracks ``i`` and gated measurements ``j`` the JPDA weight of pair ``(i, j)`` is
``w_ij = P_D N(nu_ij; 0, S_i) / lambda`` (``lambda`` the clutter spatial density, 1/m^d) and the
weight of "track ``i`` not detected" is ``w_i0 = 1 - P_D P_G``. A joint event gives each track a
miss or one measurement, no measurement to two tracks; its probability is proportional to the
product of the chosen weights, and the marginals are
``beta_ij = P(measurement j is track i's)`` and ``beta_i0 = P(track i undetected)``
(Bar-Shalom, Willett & Tian (2011) §6; Fortmann, Bar-Shalom & Scheffe (1983)).

Clusters (connected components of the gating graph) are independent. A cluster whose number of
joint events is at most ``max_events`` is enumerated exactly (compiled depth-first search,
:func:`shorad.tracking._kernels.jpda_exact_kernel`). A larger cluster uses the documented
approximation of Williams & Lau (2014): loopy belief propagation on the association graph, which
gives marginals that sum to one per track, is exact on trees and is within a few per cent of the
exact marginals on dense clusters in their tests, at a cost linear in the number of pairs.

References
----------
.. [1] Y. Bar-Shalom, P. Willett, X. Tian, *Tracking and Data Fusion*, YBS Publishing, 2011.
.. [2] T. E. Fortmann, Y. Bar-Shalom, M. Scheffe, "Sonar tracking of multiple targets using
   joint probabilistic data association", IEEE J. Oceanic Eng. 8(3), 1983.
.. [3] J. Williams, R. Lau, "Approximate evaluation of marginal association probabilities with
   belief propagation", IEEE Trans. AES 50(4), 2014.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from shorad.tracking._kernels import jpda_exact_kernel, pda_update_kernel
from shorad.tracking.cluster import clusters

__all__ = [
    "jpda_marginals",
    "jpda_marginals_bp",
    "jpda_marginals_bruteforce",
    "pda_update",
    "pda_update_reference",
]


def jpda_marginals_bruteforce(
    W: NDArray[np.float64], w0: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact JPDA marginals of one small cluster by enumerating every joint event (reference).

    Parameters
    ----------
    W : (t, n) float64
        Pair weights, 0 where not gated.
    w0 : (t,) float64
        Missed-detection weight of each track.

    Returns
    -------
    beta : (t, n) float64
        ``P(track i took measurement j)``.
    beta0 : (t,) float64
        ``P(track i undetected)``; ``beta0 + beta.sum(1) == 1``.
    """
    t, n = W.shape
    beta = np.zeros((t, n))
    beta0 = np.zeros(t)
    total = 0.0
    for ev in itertools.product(range(-1, n), repeat=t):
        chosen = [j for j in ev if j >= 0]
        if len(chosen) != len(set(chosen)):
            continue
        w = 1.0
        for i, j in enumerate(ev):
            w *= w0[i] if j < 0 else W[i, j]
        if w == 0.0:
            continue
        total += w
        for i, j in enumerate(ev):
            if j < 0:
                beta0[i] += w
            else:
                beta[i, j] += w
    return beta / total, beta0 / total


def jpda_marginals_bp(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    w: NDArray[np.float64],
    w0: NDArray[np.float64],
    n: int,
    iterations: int = 30,
    tol: float = 1e-7,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Approximate marginals by loopy belief propagation (Williams & Lau (2014)), vectorised.

    Messages ``mu_ij = w_ij / (w_i0 + sum_{j' != j} w_ij' nu_ij')`` (track to measurement) and
    ``nu_ij = 1 / (1 + sum_{i' != i} mu_i'j)`` (measurement to track), iterated from ``nu = 1``
    until they change by less than ``tol`` or ``iterations`` passes; then
    ``beta_ij = w_ij nu_ij / (w_i0 + sum_j' w_ij' nu_ij')`` and ``beta_i0 = w_i0 / (same)``.

    Parameters
    ----------
    pt, pm : (p,) int64
        Track and measurement of each pair.
    w : (p,) float64
        Pair weights.
    w0 : (m,) float64
        Missed-detection weight per track (> 0).
    n : int
        Number of measurements.
    iterations : int
        Maximum number of passes.
    tol : float
        Convergence threshold on the largest message change.

    Returns
    -------
    beta : (p,) float64
    beta0 : (m,) float64
    """
    m = w0.shape[0]
    nu = np.ones(w.shape[0])
    for _ in range(iterations):
        s = w0 + np.bincount(pt, w * nu, minlength=m)
        mu = w / (s[pt] - w * nu)
        tot = np.bincount(pm, mu, minlength=n)
        nu_new = 1.0 / (1.0 + tot[pm] - mu)
        done = bool(np.abs(nu_new - nu).max(initial=0.0) < tol)
        nu = nu_new
        if done:
            break
    s = w0 + np.bincount(pt, w * nu, minlength=m)
    return w * nu / s[pt], w0 / s


def jpda_marginals(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    w: NDArray[np.float64],
    w0: NDArray[np.float64],
    n: int,
    max_events: int = 10_000,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """JPDA marginals of a whole scan: exact per small cluster, belief propagation otherwise.

    Parameters
    ----------
    pt, pm : (p,) int64
        Track and measurement of each gated pair, sorted by track.
    w : (p,) float64
        Pair weights ``P_D N(nu; 0, S) / lambda``.
    w0 : (m,) float64
        Missed-detection weights ``1 - P_D P_G``.
    n : int
        Number of measurements.
    max_events : int
        A cluster is enumerated exactly when the product over its tracks of
        ``(1 + number of gated measurements)`` (an upper bound of its joint events) is at most
        this; otherwise :func:`jpda_marginals_bp` is used for it.

    Returns
    -------
    beta : (p,) float64
        Marginal of each pair.
    beta0 : (m,) float64
        Missed-detection marginal of each track.
    exact : (m,) bool
        Whether the track's cluster was enumerated exactly.
    """
    m = w0.shape[0]
    beta = np.zeros(w.shape[0])
    beta0 = np.ones(m)
    exact = np.ones(m, np.bool_)
    if pt.size == 0:
        return beta, beta0, exact
    _, labels = clusters(pt, pm, m, n)
    tl = labels[:m]
    deg = np.bincount(pt, minlength=m)
    log_events = np.bincount(tl, np.log1p(deg), minlength=int(labels.max()) + 1)
    small = log_events[tl] <= np.log(max_events)
    exact = small
    # Exact: renumber tracks so that each cluster's tracks are contiguous.
    has_pairs = deg > 0
    sel_tracks = np.flatnonzero(small & has_pairs)
    if sel_tracks.size:
        order = sel_tracks[np.argsort(tl[sel_tracks], kind="stable")]
        new_of_old = np.full(m, -1, np.int64)
        new_of_old[order] = np.arange(order.size)
        psel = np.flatnonzero(new_of_old[pt] >= 0)
        # pairs are sorted by old track; re-sort them by new track (stable keeps meas order).
        psel = psel[np.argsort(new_of_old[pt[psel]], kind="stable")]
        deg_new = deg[order]
        track_ptr = np.zeros(order.size + 1, np.int64)
        np.cumsum(deg_new, out=track_ptr[1:])
        comp_sorted = tl[order]
        starts = np.flatnonzero(np.r_[True, comp_sorted[1:] != comp_sorted[:-1]])
        comp_ptr = np.r_[starts, order.size].astype(np.int64)
        b, b0, _ = jpda_exact_kernel(
            track_ptr,
            np.ascontiguousarray(pm[psel]),
            np.ascontiguousarray(w[psel]),
            np.ascontiguousarray(w0[order]),
            comp_ptr,
            np.arange(starts.size, dtype=np.int64),
            n,
        )
        beta[psel] = b
        beta0[order] = b0
    big = ~small[pt]
    if big.any():
        bt = np.flatnonzero(~small)
        new_of_old = np.full(m, -1, np.int64)
        new_of_old[bt] = np.arange(bt.size)
        pidx = np.flatnonzero(big)
        b, b0 = jpda_marginals_bp(new_of_old[pt[pidx]], pm[pidx], w[pidx], w0[bt], n)
        beta[pidx] = b
        beta0[bt] = b0
    return beta, beta0, exact


def pda_update(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    S: NDArray[np.float64],
    S_inv: NDArray[np.float64],
    rows: NDArray[np.int64],
    pt: NDArray[np.int64],
    nu: NDArray[np.float64],
    beta: NDArray[np.float64],
    beta0: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """PDA update of the tracks with gated pairs, given their JPDA marginals (compiled).

    Bar-Shalom, Willett & Tian (2011) §6.4, with position measurements (``H = [I 0]``):
    ``nu_bar = sum_j beta_j nu_j``, ``x' = x + K nu_bar``,
    ``P' = P - (1 - beta_0) K S K^T + K (sum_j beta_j nu_j nu_j^T - nu_bar nu_bar^T) K^T``,
    ``K = P H^T S^-1``; the last term is the spread of the means. Same result as
    :func:`pda_update_reference` to rounding (tested).

    Parameters
    ----------
    x : (M, 2d) float64
        Predicted states of all tracks.
    P : (M, 2d, 2d) float64
        Predicted covariances.
    S, S_inv : (M, d, d) float64
        Innovation covariances and their inverses (m^2, 1/m^2).
    rows : (m_r,) int64
        Tracks taking part in the association (indices into ``x``).
    pt : (p,) int64
        Track of each gated pair, an index into ``rows``.
    nu : (p, d) float64
        Innovation of each pair (m).
    beta : (p,) float64
        Marginal of each pair.
    beta0 : (m_r,) float64
        Missed-detection marginal of each track of ``rows``.

    Returns
    -------
    x : (M, 2d) float64
    P : (M, 2d, 2d) float64
        Copies, updated for the tracks ``rows[pt]``, others unchanged.
    """
    return pda_update_kernel(
        x,
        P,
        S,
        S_inv,
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(pt, dtype=np.int64),
        np.ascontiguousarray(nu),
        np.ascontiguousarray(beta),
        np.ascontiguousarray(beta0),
    )


def pda_update_reference(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    S: NDArray[np.float64],
    S_inv: NDArray[np.float64],
    rows: NDArray[np.int64],
    pt: NDArray[np.int64],
    nu: NDArray[np.float64],
    beta: NDArray[np.float64],
    beta0: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised numpy reference of :func:`pda_update` (same arguments and result)."""
    d = nu.shape[1]
    m_r = rows.shape[0]
    x = x.copy()
    P = P.copy()
    if pt.size == 0:
        return x, P
    tr = np.unique(pt)
    ti = rows[tr]
    nu_bar = np.stack([np.bincount(pt, beta * nu[:, a], minlength=m_r) for a in range(d)], 1)
    spread = np.einsum("p,pi,pj->pij", beta, nu, nu)
    spread_t = np.zeros((m_r, d, d))
    np.add.at(spread_t, pt, spread)
    nb = nu_bar[tr]
    spread_t = spread_t[tr] - np.einsum("ti,tj->tij", nb, nb)
    k_gain = np.einsum("tij,tjk->tik", P[ti][:, :, :d], S_inv[ti])
    b0 = beta0[tr][:, None, None]
    ksk = np.einsum("tij,tjk,tlk->til", k_gain, S[ti], k_gain)
    kspk = np.einsum("tij,tjk,tlk->til", k_gain, spread_t, k_gain)
    x[ti] = x[ti] + np.einsum("tij,tj->ti", k_gain, nb)
    p_new = P[ti] - (1.0 - b0) * ksk + kspk
    P[ti] = 0.5 * (p_new + np.swapaxes(p_new, -1, -2))
    return x, P
