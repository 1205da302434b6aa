"""One compiled call for a whole GNN scan of full-position detections.

:func:`gnn_scan_kernel` chains the tracker's kernels (predict, gate, gated cost, assignment,
EKF update, classification, initiation, management) in the order
:meth:`shorad.tracking.gnn.GnnTracker.step` calls them, with :func:`~shorad.tracking._lsa.
lsa_kernel` in place of SciPy's ``linear_sum_assignment`` (the same algorithm, the same
answer), so a radar scan costs one dispatch instead of seven plus the Python between them.
Its reference is the step's general path, which handles what the kernel does not (range-rate
and partial detections); the tests check that both give identical pictures.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.tracking._kernels import (
    append_manage_kernel,
    classify_kernel,
    gate_kernel,
    gated_cost_kernel,
    initiate_kernel,
    predict_kernel,
    update_kernel,
)
from shorad.tracking._lsa import lsa_kernel

__all__ = ["gnn_scan_kernel"]


@njit(cache=True, nogil=True)
def gnn_scan_kernel(
    track_id: NDArray[np.int64],
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    status: NDArray[np.int8],
    class_prob: NDArray[np.float64],
    hits: NDArray[np.int32],
    born_t_s: NDArray[np.float64],
    last_update_t_s: NDArray[np.float64],
    confirmed_t_s: NDArray[np.float64],
    next_track_id: int,
    dt_s: float,
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    t_s: float,
    q_mps2: float,
    gate_d2: float,
    out_of_gate_cost: float,
    class_speed_mps: NDArray[np.float64],
    class_speed_sigma_mps: NDArray[np.float64],
    init_speed_sigma_mps: float,
    confirm_hits: int,
    confirm_window_s: float,
    delete_after_s: float,
    tentative_delete_after_s: float,
    max_position_var_m2: float,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int8],
    NDArray[np.float64],
    NDArray[np.int32],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
]:  # pragma: no cover - compiled
    """GNN scan of ``n`` detections with a full 3-D position and no range rate.

    Inputs are the tracks' fields at their time (``m`` rows, ``dt_s`` before the scan), the
    detections' ``z[:, :3]``, ``R[:, :3, :3]`` and sensor positions (C-contiguous), and the
    tracker's settings. Returns the kept tracks' nine fields at ``t_s`` (as
    ``append_manage_kernel``), then ``det_track_id`` (n,), confirmed ids and deleted ids.
    Inputs are not modified.
    """
    m = x.shape[0]
    n = z.shape[0]
    nc = class_speed_mps.shape[0]
    det_track_id = np.empty(n, np.int64)
    unassigned = np.ones(n, np.bool_)
    if m:
        x, P = predict_kernel(x, P, dt_s, q_mps2)
    if m and n:
        d2, log_det_s = gate_kernel(x, P, z, R, sensor_pos_m, gate_d2)
        cost, rows, cols = gated_cost_kernel(d2, log_det_s, gate_d2, out_of_gate_cost)
        if rows.shape[0]:
            ri, ci = lsa_kernel(cost)
            k = 0
            for a in range(ri.shape[0]):
                if cost[ri[a], ci[a]] < 0.5 * out_of_gate_cost:
                    k += 1
            ti = np.empty(k, np.int64)
            dj = np.empty(k, np.int64)
            k = 0
            for a in range(ri.shape[0]):
                if cost[ri[a], ci[a]] < 0.5 * out_of_gate_cost:
                    ti[k] = rows[ri[a]]
                    dj[k] = cols[ci[a]]
                    k += 1
            x, P = update_kernel(x, P, z, R, sensor_pos_m, ti, dj)
            hits = hits.copy()
            last_update_t_s = last_update_t_s.copy()
            for a in range(k):
                hits[ti[a]] += 1
                last_update_t_s[ti[a]] = t_s
                det_track_id[dj[a]] = track_id[ti[a]]
                unassigned[dj[a]] = False
    if m:
        class_prob = classify_kernel(x, P, class_speed_mps, class_speed_sigma_mps)
        for i in range(m):
            if hits[i] < 2:
                for c in range(nc):
                    class_prob[i, c] = 1.0 / nc
    new_j = np.flatnonzero(unassigned)
    n_new = new_j.shape[0]
    for a in range(n_new):
        det_track_id[new_j[a]] = next_track_id + a
    x0, p0 = initiate_kernel(z, R, sensor_pos_m, new_j, init_speed_sigma_mps)
    managed = append_manage_kernel(
        track_id,
        x,
        P,
        status,
        class_prob,
        hits,
        born_t_s,
        last_update_t_s,
        confirmed_t_s,
        next_track_id,
        x0,
        p0,
        t_s,
        confirm_hits,
        confirm_window_s,
        delete_after_s,
        tentative_delete_after_s,
        max_position_var_m2,
    )
    # the kept tracks' nine fields, then det_track_id, then confirmed and deleted ids
    return (*managed[:9], det_track_id, *managed[9:])
