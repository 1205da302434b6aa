"""One compiled call for a whole GNN scan of full-position detections.

:func:`gnn_scan_kernel` runs the tracker's kernels (predict, gate, gated cost, assignment,
EKF update, classification, initiation, management) in the order
:meth:`shorad.tracking.gnn.GnnTracker.step` calls them, with :func:`~shorad.tracking._lsa.
lsa_kernel` in place of SciPy's ``linear_sum_assignment`` (the same algorithm, the same
answer), so a radar scan costs one dispatch instead of seven plus the Python between them.
It calls the kernels' cores (``_predict_into``, ``_gate_into``, ``_update_inplace``, ...: the
code the public kernels run, so the same arithmetic) on one set of output arrays with a row
to spare per detection, instead of allocating and copying the tracks at every stage:
predict writes the rows, update and classification change them in place (classification
skips the tracks that get the uniform belief), initiation appends, and management moves the
kept rows up. The returned fields are the leading rows of those arrays.
Its reference is the step's general path, which handles what the kernel does not (range-rate
and partial detections); the tests check that both give identical pictures.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.tracking._kernels import (
    _classify_into,
    _gate_into,
    _gated_cost,
    _initiate_into,
    _manage_inplace,
    _new_rows,
    _predict_into,
    _update_inplace,
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
    # The outputs, with room for a new track per detection: predict writes its rows, update
    # and classify change them in place, initiation appends, management compacts.
    cap = m + n
    o_id = np.empty(cap, np.int64)
    o_x = np.empty((cap, 6))
    o_p = np.empty((cap, 6, 6))
    o_st = np.empty(cap, np.int8)
    o_cp = np.empty((cap, nc))
    o_h = np.empty(cap, np.int32)
    o_born = np.empty(cap)
    o_last = np.empty(cap)
    o_conf = np.empty(cap)
    for i in range(m):
        o_id[i] = track_id[i]
        o_st[i] = status[i]
        o_h[i] = hits[i]
        o_born[i] = born_t_s[i]
        o_last[i] = last_update_t_s[i]
        o_conf[i] = confirmed_t_s[i]
    det_track_id = np.empty(n, np.int64)
    unassigned = np.ones(n, np.bool_)
    if m:
        _predict_into(x, P, dt_s, q_mps2, o_x, o_p)
    if m and n:
        d2 = np.empty((m, n))
        log_det_s = np.zeros((m, n))
        _gate_into(o_x, o_p, z, R, sensor_pos_m, gate_d2, d2, log_det_s)
        cost, rows, cols = _gated_cost(d2, log_det_s, gate_d2, out_of_gate_cost)
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
            _update_inplace(o_x, o_p, z, R, sensor_pos_m, ti, dj)
            for a in range(k):
                o_h[ti[a]] += 1
                o_last[ti[a]] = t_s
                det_track_id[dj[a]] = track_id[ti[a]]
                unassigned[dj[a]] = False
    # class belief from the speed, uniform until a second hit (not computed for those)
    _classify_into(o_x, o_p, m, class_speed_mps, class_speed_sigma_mps, o_h, 2, o_cp)
    n_new = 0
    for j in range(n):
        n_new += unassigned[j]
    new_j = np.empty(n_new, np.int64)
    a = 0
    for j in range(n):
        if unassigned[j]:
            new_j[a] = j
            det_track_id[j] = next_track_id + a
            a += 1
    _initiate_into(z, R, sensor_pos_m, new_j, init_speed_sigma_mps, o_x, o_p, m)
    _new_rows(o_id, o_st, o_cp, o_h, o_born, o_last, o_conf, m, n_new, next_track_id, t_s)
    # management (as append_manage_kernel), the kept rows moved up in place
    r, confirmed_ids, deleted_ids = _manage_inplace(
        o_id,
        o_x,
        o_p,
        o_st,
        o_cp,
        o_h,
        o_born,
        o_last,
        o_conf,
        m + n_new,
        t_s,
        confirm_hits,
        confirm_window_s,
        delete_after_s,
        tentative_delete_after_s,
        max_position_var_m2,
    )
    return (
        o_id[:r],
        o_x[:r],
        o_p[:r],
        o_st[:r],
        o_cp[:r],
        o_h[:r],
        o_born[:r],
        o_last[:r],
        o_conf[:r],
        det_track_id,
        confirmed_ids,
        deleted_ids,
    )
