"""Whole-scan gating with a spatial index, clusters, and sparse GNN assignment.

Gating bins the scan's measurements on a uniform grid and tests each track against the cells
its own Euclidean gate radius reaches, with the exact chi-square test on the Mahalanobis
distance, in one compiled call. A track's Euclidean gate radius is
``sqrt(gate_d2 * lambda_max(S))``, which bounds its ellipsoidal gate from outside, so no in-gate
pair is missed. The pairs form a bipartite graph; its connected components are the clusters
that association (GNN or JPDA) solves independently; GNN solves all clusters in one compiled
call. The numpy/SciPy references (k-d trees, one ``linear_sum_assignment`` per cluster) are
kept and tested against the compiled versions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from shorad.tracking._kernels import cluster_labels_kernel, gate_grid_kernel, gnn_assign_kernel

__all__ = [
    "assign_gnn_sparse",
    "assign_gnn_sparse_reference",
    "clusters",
    "clusters_reference",
    "gate_pairs",
    "gate_pairs_reference",
]

_NO_PAIR_COST = 1e9
"""Cost of a non-gated (track, measurement) entry in a cluster's dense assignment matrix."""


def gate_pairs(
    pos: NDArray[np.float64],
    s_inv: NDArray[np.float64],
    radius_m: NDArray[np.float64],
    z: NDArray[np.float64],
    gate_d2: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """All (track, measurement) pairs inside the chi-square gate, found through a uniform grid.

    One compiled call (:func:`shorad.tracking._kernels.gate_grid_kernel`): the measurements are
    binned on a grid whose cell is the median gate radius, and each track tests only the cells
    its own radius reaches, so one track with a huge gate costs only its own candidates (the
    k-d tree reference, :func:`gate_pairs_reference`, bounds all tracks by the largest radius).
    Same pairs as the reference (tested).

    Parameters
    ----------
    pos : (m, d) float64
        Predicted measurement (position) of each track (m).
    s_inv : (m, d, d) float64
        Inverse innovation covariance of each track (1/m^2).
    radius_m : (m,) float64
        Euclidean bound of each track's gate (m), ``sqrt(gate_d2 * lambda_max(S))``.
    z : (n, d) float64
        Measurements (m).
    gate_d2 : float
        Gate on the squared Mahalanobis distance.

    Returns
    -------
    pt : (p,) int64
        Track of each pair, sorted ascending (measurement ascending within a track).
    pm : (p,) int64
        Measurement of each pair.
    d2 : (p,) float64
        Squared Mahalanobis distance of each pair.
    nu : (p, d) float64
        Innovation ``z[pm] - pos[pt]`` (m).
    """
    m, n = pos.shape[0], z.shape[0]
    if m == 0 or n == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0), np.zeros((0, pos.shape[1]))
    cell = float(np.median(radius_m))
    if not cell > 0.0:
        cell = float(radius_m.max()) + 1.0
    pt, pm, d2 = gate_grid_kernel(pos, s_inv, radius_m, z, float(gate_d2), cell)
    return pt, pm, d2, z[pm] - pos[pt]


def gate_pairs_reference(
    pos: NDArray[np.float64],
    s_inv: NDArray[np.float64],
    radius_m: NDArray[np.float64],
    z: NDArray[np.float64],
    gate_d2: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Reference of :func:`gate_pairs` through k-d trees (same parameters and returns).

    One :class:`scipy.spatial.cKDTree` over the predicted positions and one over the
    measurements give, in one ``sparse_distance_matrix`` call, every pair closer than the
    largest radius; the pairs within their track's own radius then get the exact test.
    """
    m, n = pos.shape[0], z.shape[0]
    if m == 0 or n == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0), np.zeros((0, pos.shape[1]))
    rmax = float(radius_m.max())
    coo = cKDTree(pos).sparse_distance_matrix(cKDTree(z), rmax, output_type="coo_matrix")
    pt = coo.row.astype(np.int64)
    pm = coo.col.astype(np.int64)
    keep = coo.data <= radius_m[pt]
    pt, pm = pt[keep], pm[keep]
    nu = z[pm] - pos[pt]
    d2 = np.einsum("pi,pij,pj->p", nu, s_inv[pt], nu)
    keep = d2 <= gate_d2
    pt, pm, d2, nu = pt[keep], pm[keep], d2[keep], nu[keep]
    order = np.lexsort((pm, pt))
    return pt[order], pm[order], d2[order], nu[order]


def clusters(
    pt: NDArray[np.int64], pm: NDArray[np.int64], m: int, n: int
) -> tuple[int, NDArray[np.int64]]:
    """Connected components of the bipartite gating graph (compiled union-find).

    Returns the number of components and the label of each of the ``m`` tracks followed by the
    ``n`` measurements, shape (m + n,), numbered in the order of each component's first node.
    Unpaired tracks and measurements are their own components. Same result as
    :func:`clusters_reference` (SciPy), tested.
    """
    labels = cluster_labels_kernel(
        np.ascontiguousarray(pt, dtype=np.int64),
        np.ascontiguousarray(pm, dtype=np.int64),
        int(m),
        int(n),
    )
    return (int(labels.max()) + 1 if labels.size else 0), labels


def clusters_reference(
    pt: NDArray[np.int64], pm: NDArray[np.int64], m: int, n: int
) -> tuple[int, NDArray[np.int64]]:
    """Reference of :func:`clusters`: :func:`scipy.sparse.csgraph.connected_components`.

    Returns the number of components and the label of each of the ``m`` tracks followed by the
    ``n`` measurements, shape (m + n,). Unpaired tracks and measurements are their own
    components.
    """
    g = coo_matrix((np.ones(pt.size), (pt, pm + m)), shape=(m + n, m + n))
    k, labels = connected_components(g, directed=False)
    return int(k), labels.astype(np.int64)


def assign_gnn_sparse(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    cost: NDArray[np.float64],
    m: int,
    n: int,
    no_pair_cost: float = _NO_PAIR_COST,
) -> NDArray[np.int64]:
    """Global nearest neighbour on gated pairs: most pairs first, then least total cost.

    Equivalent to :func:`scipy.optimize.linear_sum_assignment` on the full (m, n) matrix with
    ``no_pair_cost`` on non-gated entries, solved per cluster, all clusters in one compiled call
    (:func:`shorad.tracking._kernels.gnn_assign_kernel`; it returns the same pairs as the
    numpy/SciPy :func:`assign_gnn_sparse_reference`, tested).

    Parameters
    ----------
    pt, pm : (p,) int64
        Track and measurement of each gated pair (no pair twice).
    cost : (p,) float64
        Cost of each pair (finite).
    m, n : int
        Numbers of tracks and measurements.
    no_pair_cost : float
        Cost of leaving a track or measurement unpaired. Pairs costing at least this are
        dropped first (leaving both unpaired is never worse). The default, larger than any sum
        of pair costs, maximises the number of pairs first. With ``0`` and pair costs
        ``-ln`` of the pair-to-miss likelihood ratio the result is the most likely joint
        association exactly (a cluster's solution is a maximum-weight matching of its
        negative-cost pairs: every matching extends to a full assignment at no extra cost
        through the zero entries).

    Returns
    -------
    (a,) int64
        Indices into the pairs of the chosen assignment, ascending (no track or measurement
        twice).
    """
    if pt.size == 0:
        return np.zeros(0, np.int64)
    return gnn_assign_kernel(
        np.ascontiguousarray(pt, dtype=np.int64),
        np.ascontiguousarray(pm, dtype=np.int64),
        np.ascontiguousarray(cost, dtype=np.float64),
        int(m),
        int(n),
        float(no_pair_cost),
    )


def assign_gnn_sparse_reference(
    pt: NDArray[np.int64],
    pm: NDArray[np.int64],
    cost: NDArray[np.float64],
    m: int,
    n: int,
    no_pair_cost: float = _NO_PAIR_COST,
) -> NDArray[np.int64]:
    """Numpy/SciPy reference of :func:`assign_gnn_sparse` (same arguments and result).

    Drops pairs costing ``>= no_pair_cost``; a cluster with one track or one measurement takes
    its cheapest pair (vectorised); larger clusters are solved densely by
    :func:`scipy.optimize.linear_sum_assignment`, one call per cluster.
    """
    ok = cost < no_pair_cost
    if not ok.all():
        idx = np.flatnonzero(ok)
        return idx[assign_gnn_sparse_reference(pt[ok], pm[ok], cost[ok], m, n, no_pair_cost)]
    if pt.size == 0:
        return np.zeros(0, np.int64)
    _, labels = clusters_reference(pt, pm, m, n)
    comp = labels[pt]
    n_tr = np.bincount(labels[:m], minlength=int(labels.max()) + 1)
    n_me = np.bincount(labels[m:], minlength=n_tr.size)
    simple = (n_tr[comp] == 1) | (n_me[comp] == 1)
    chosen: list[NDArray[np.int64]] = []
    idx = np.flatnonzero(simple)
    if idx.size:
        order = idx[np.lexsort((cost[idx], comp[idx]))]
        first = np.ones(order.size, np.bool_)
        first[1:] = comp[order[1:]] != comp[order[:-1]]
        best = order[first]
        chosen.append(best[cost[best] < no_pair_cost])
    hard = np.flatnonzero(~simple)
    if hard.size:
        order = hard[np.argsort(comp[hard], kind="stable")]
        cuts = np.flatnonzero(np.diff(comp[order])) + 1
        for grp in np.split(order, cuts):
            rows, ri = np.unique(pt[grp], return_inverse=True)
            cols, ci = np.unique(pm[grp], return_inverse=True)
            dense = np.full((rows.size, cols.size), no_pair_cost)
            dense[ri, ci] = cost[grp]
            pidx = np.full((rows.size, cols.size), -1, np.int64)
            pidx[ri, ci] = grp
            a, b = linear_sum_assignment(dense)
            sel = pidx[a, b]
            sel = sel[sel >= 0]
            chosen.append(sel[cost[sel] < no_pair_cost])
    out = np.concatenate(chosen)
    out.sort()
    return out
