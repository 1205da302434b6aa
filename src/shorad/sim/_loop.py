"""The simulation loop of :mod:`shorad.sim.engine` as one compiled call (numba).

:func:`run_loop` runs the same steps, in the same order, with the same random draws as
:func:`shorad.sim.engine.simulate` (its reference) for the scenarios
:func:`shorad.sim.compiled.compiled_supports` accepts: radars (no Doppler), the GNN tracker's
fused scan and greedy C2. Each stage is the compiled kernel of the stage's own package
(``radar_scan_kernel``, ``gnn_scan_kernel``, ``greedy_cycle_kernel``, ``truth_at_kernel``,
``resolve_shot_kernel``). Events are written to growing buffers in recording order; the few
that need Python (buildings under debris, assets struck by leakers, detection positions) are
left as placeholder rows that :mod:`shorad.sim.compiled` completes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.c2._greedy_kernel import greedy_cycle_kernel
from shorad.engagement._kernels import resolve_shot_kernel
from shorad.sensors._radar_kernel import radar_scan_kernel
from shorad.threats._kernels import truth_at_kernel
from shorad.tracking._fused import gnn_scan_kernel
from shorad.tracking._kernels import predict_kernel
from shorad.tracking.base import CONFIRMED
from shorad.units import G0_MPS2

__all__ = ["EV_FLOAT", "EV_INT", "IMPACT_PENDING", "run_loop"]

EV_INT = ("threat_id", "track_id", "unit_id", "effector_id", "asset_id", "building")
"""Integer columns of the event buffer, in order."""
EV_FLOAT = ("t_s", "x_m", "y_m", "z_m", "value")
"""Float columns of the event buffer, in order."""
IMPACT_PENDING = -2
"""``asset_id`` of a leaker's impact row whose asset is decided afterwards (dropped if none)."""

# event kinds (sim.events.EventKind values; that module is not imported into numba code)
_LAUNCH, _CONFIRMED_EV, _DELETED, _ENGAGEMENT = 0, 2, 3, 4
_INTERCEPT, _KILL, _DEBRIS, _LEAK, _IMPACT, _RELOAD = 5, 6, 7, 8, 9, 10
_CONF = int(CONFIRMED)
_G0 = float(G0_MPS2)
_DEBRIS_SPREAD = 0.2  # damage.DEBRIS_SPREAD_PER_M (checked equal in the tests)
_NAN = np.nan


@njit(cache=True, nogil=True)
def _grow(a: Any, n: int) -> Any:  # pragma: no cover - numba
    """``a`` (rows, ...) with room for row ``n``: itself, or a copy with twice the rows."""
    if n < a.shape[0]:
        return a
    b = np.empty((2 * a.shape[0] + 16, *a.shape[1:]), a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _grow_fill(a: Any, n: int, fill: float) -> Any:  # pragma: no cover - numba
    """``a`` (k,) with room for index ``n``, new entries ``fill``."""
    if n < a.shape[0]:
        return a
    b = np.full(max(2 * a.shape[0], n + 1), fill, a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def run_loop(
    vert_m: NDArray[np.float64],
    vert_t_s: NDArray[np.float64],
    threat_id: NDArray[np.int64],
    cls: NDArray[np.int32],
    target: NDArray[np.int64],
    rcs_dbsm: NDArray[np.float64],
    radars: Any,
    sensor_id: NDArray[np.int64],
    sensor_pos_m: NDArray[np.float64],
    every: NDArray[np.int64],
    phase: NDArray[np.int64],
    gens: Any,
    los_args: Any,
    trk: Any,
    n_classes: int,
    first_track_id: int,
    c2: Any,
    c2_every: int,
    q_mps2: float,
    look_s: float,
    eff_id: NDArray[np.int64],
    eff_unit: NDArray[np.int64],
    eff_pos: NDArray[np.float64],
    magazine: NDArray[np.int64],
    reload_s: NDArray[np.float64],
    channels: NDArray[np.int64],
    aim_tol: NDArray[np.float64],
    pk_by_class: NDArray[np.float64],
    pk_range_m: NDArray[np.float64],
    pk_range_factor: NDArray[np.float64],
    pk_range_n: NDArray[np.int64],
    debris_r: NDArray[np.float64],
    eng_rng: Any,
    dt: float,
    steps: int,
) -> tuple[Any, ...]:  # pragma: no cover - numba
    """One replicate; see the module docstring.

    Returns ``(end_t_s, kind (k,) int8, ints (k, 6), floats (k, 5), det_f (d, 8), det_i
    (d, 3))``: the event rows in recording order (columns :data:`EV_INT`, :data:`EV_FLOAT`)
    and the detections (``t, z[4], sensor_pos[3]`` and ``sensor_id, truth_id,
    det_track_id``) recorded at the end as the reference engine does.
    """
    n = vert_t_s.shape[0]
    last = vert_t_s.shape[1] - 1
    launched = np.zeros(n, np.bool_)
    killed = np.zeros(n, np.bool_)
    done = np.zeros(n, np.bool_)
    n_eff = eff_id.shape[0]
    shots_left = magazine.copy()
    channels_busy = np.zeros(n_eff, np.int64)
    ready_t = np.zeros(n_eff)
    # events
    ev_k = np.empty(1024, np.int8)
    ev_i = np.empty((1024, 6), np.int64)
    ev_f = np.empty((1024, 5))
    ne = 0
    det_f = np.empty((4096, 8))
    det_i = np.empty((4096, 3), np.int64)
    nd = 0
    # tracks (the picture), labels and holds by track id
    tr_id = np.zeros(0, np.int64)
    tr_x = np.zeros((0, 6))
    tr_P = np.zeros((0, 6, 6))
    tr_status = np.zeros(0, np.int8)
    tr_cp = np.zeros((0, n_classes))
    tr_hits = np.zeros(0, np.int32)
    tr_born = np.zeros(0)
    tr_last = np.zeros(0)
    tr_conf = np.zeros(0)
    tr_t = 0.0
    next_id = first_track_id
    label = np.full(64, -1, np.int64)
    held_until = np.zeros(64)
    # shots in flight: intercept time, order, effector row, track id, aim, pk
    pend_t = np.zeros(16)
    pend_seq = np.zeros(16, np.int64)
    pend_e = np.zeros(16, np.int64)
    pend_tid = np.zeros(16, np.int64)
    pend_aim = np.zeros((16, 3))
    n_pend = 0
    shot_seq = 0
    n_sensors = every.shape[0]
    t = 0.0
    for k in range(steps + 1):
        t = k * dt
        # 1. launches
        for i in range(n):
            if not launched[i] and vert_t_s[i, 0] <= t:
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row(ev_k, ev_i, ev_f, ne, _LAUNCH, vert_t_s[i, 0], vert_m[i, 0])
                ev_i[ne, 0] = threat_id[i]
                ev_i[ne, 4] = target[i]
                ne += 1
                launched[i] = True
        # 2. shots arriving, in (intercept time, order) order
        while n_pend:
            b = 0
            for s in range(1, n_pend):
                if pend_t[s] < pend_t[b] or (pend_t[s] == pend_t[b] and pend_seq[s] < pend_seq[b]):
                    b = s
            if pend_t[b] > t:
                break
            t_i, e, tid = pend_t[b], pend_e[b], pend_tid[b]
            aim = pend_aim[b].copy()
            for s in range(b, n_pend - 1):
                pend_t[s] = pend_t[s + 1]
                pend_seq[s] = pend_seq[s + 1]
                pend_e[s] = pend_e[s + 1]
                pend_tid[s] = pend_tid[s + 1]
                pend_aim[s] = pend_aim[s + 1]
            n_pend -= 1
            pos, vel, alive = truth_at_kernel(vert_m, vert_t_s, t_i, killed)
            u = eng_rng.uniform(0.0, 1.0, 1)[0]
            m_r = pk_range_n[e]
            thr, kill, _, pk, opos, ovel = resolve_shot_kernel(
                aim,
                eff_pos[e],
                aim_tol[e],
                pk_by_class[e],
                pk_range_m[e, :m_r],
                pk_range_factor[e, :m_r],
                pos,
                vel,
                alive,
                cls,
                threat_id,
                u,
            )
            channels_busy[e] -= 1
            ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
            _row(ev_k, ev_i, ev_f, ne, _INTERCEPT, t_i, opos)
            _common(ev_i, ne, thr, tid, eff_unit[e], eff_id[e])
            ev_f[ne, 4] = 1.0 if kill else 0.0
            ne += 1
            if kill and thr >= 0:
                killed[thr] = True
                done[thr] = True
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row(ev_k, ev_i, ev_f, ne, _KILL, t_i, opos)
                _common(ev_i, ne, thr, tid, eff_unit[e], eff_id[e])
                ev_f[ne, 4] = pk
                ne += 1
                # debris: ground centre and radius now, the buildings under it afterwards
                zf = max(opos[2], 0.0)
                t_fall = np.sqrt(2.0 * zf / _G0)
                ground = np.array([opos[0] + ovel[0] * t_fall, opos[1] + ovel[1] * t_fall, 0.0])
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row(ev_k, ev_i, ev_f, ne, _DEBRIS, t_i, ground)
                _common(ev_i, ne, thr, tid, eff_unit[e], eff_id[e])
                ev_f[ne, 4] = debris_r[e] + _DEBRIS_SPREAD * zf
                ne += 1
        # 3. leakers: the leak rows, then one impact row each (asset decided afterwards)
        n_imp = 0
        for i in range(n):
            if launched[i] and not done[i] and vert_t_s[i, last] <= t:
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row(ev_k, ev_i, ev_f, ne, _LEAK, vert_t_s[i, last], vert_m[i, last])
                ev_i[ne, 0] = i
                ev_i[ne, 4] = target[i]
                ne += 1
                n_imp += 1
        if n_imp:
            for i in range(n):
                if launched[i] and not done[i] and vert_t_s[i, last] <= t:
                    ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                    _row(ev_k, ev_i, ev_f, ne, _IMPACT, vert_t_s[i, last], vert_m[i, last])
                    ev_i[ne, 0] = i
                    ev_i[ne, 4] = IMPACT_PENDING
                    ne += 1
            for i in range(n):
                if launched[i] and not done[i] and vert_t_s[i, last] <= t:
                    done[i] = True
        # 4. sensors and tracking
        any_due = False
        for j in range(n_sensors):
            if k % every[j] == phase[j]:
                any_due = True
        if any_due:
            pos, vel, alive = truth_at_kernel(vert_m, vert_t_s, t, killed)
            ia = np.flatnonzero(alive)
            t_pos = pos[ia]
            t_vel = vel[ia]
            t_rcs = rcs_dbsm[ia]
            t_tid = threat_id[ia]
            for j in range(n_sensors):
                if k % every[j] != phase[j]:
                    continue
                z, R, truth_id = radar_scan_kernel(
                    radars[j], los_args, t, t_pos, t_vel, t_rcs, t_tid, gens[j]
                )
                m = z.shape[0]
                dt_s = t - tr_t
                if tr_id.shape[0] == 0 and m == 0:
                    tr_t = t
                    continue
                z3 = np.ascontiguousarray(z[:, :3])
                r3 = np.ascontiguousarray(R[:, :3, :3])
                spos = np.empty((m, 3))
                for r in range(m):
                    spos[r] = sensor_pos_m[j]
                res = gnn_scan_kernel(
                    tr_id,
                    tr_x,
                    tr_P,
                    tr_status,
                    tr_cp,
                    tr_hits,
                    tr_born,
                    tr_last,
                    tr_conf,
                    next_id,
                    dt_s,
                    z3,
                    r3,
                    spos,
                    t,
                    trk[0],
                    trk[1],
                    trk[2],
                    trk[3],
                    trk[4],
                    trk[5],
                    trk[6],
                    trk[7],
                    trk[8],
                    trk[9],
                    trk[10],
                )
                tr_id, tr_x, tr_P, tr_status, tr_cp = res[0], res[1], res[2], res[3], res[4]
                tr_hits, tr_born, tr_last, tr_conf = res[5], res[6], res[7], res[8]
                det_track_id, confirmed_ids, deleted_ids = res[9], res[10], res[11]
                n_new = 0
                for r in range(m):
                    if det_track_id[r] >= next_id:
                        n_new += 1
                next_id += n_new
                tr_t = t
                label = _grow_fill(label, next_id, -1)
                held_until = _grow_fill(held_until, next_id, 0.0)
                for r in range(m):
                    det_f = _grow(det_f, nd)
                    det_i = _grow(det_i, nd)
                    det_f[nd, 0] = t
                    det_f[nd, 1:5] = z[r]
                    det_f[nd, 5:8] = sensor_pos_m[j]
                    det_i[nd, 0] = sensor_id[j]
                    det_i[nd, 1] = truth_id[r]
                    det_i[nd, 2] = det_track_id[r]
                    nd += 1
                    if det_track_id[r] >= 0:
                        label[det_track_id[r]] = truth_id[r]
                for tid in confirmed_ids:
                    at = 0
                    while tr_id[at] != tid:
                        at += 1
                    ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                    _row(ev_k, ev_i, ev_f, ne, _CONFIRMED_EV, t, tr_x[at, :3])
                    ev_i[ne, 0] = label[tid]
                    ev_i[ne, 1] = tid
                    ne += 1
                for tid in deleted_ids:
                    ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                    _row_nopos(ev_k, ev_i, ev_f, ne, _DELETED, t)
                    ev_i[ne, 0] = label[tid]
                    ev_i[ne, 1] = tid
                    ne += 1
        # 5. reloads and C2
        for e in range(n_eff):
            if shots_left[e] == 0 and ready_t[e] <= t:
                shots_left[e] = magazine[e]
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row_nopos(ev_k, ev_i, ev_f, ne, _RELOAD, t)
                ev_i[ne, 2] = eff_unit[e]
                ev_i[ne, 3] = eff_id[e]
                ev_f[ne, 4] = float(magazine[e])
                ne += 1
        if (
            k % c2_every == 0
            and _any_confirmed(tr_status)
            and _can_fire(shots_left, channels_busy, channels, ready_t, t)
        ):
            if tr_id.shape[0] and t != tr_t:
                now_x, now_P = predict_kernel(tr_x, tr_P, t - tr_t, q_mps2)
            else:
                now_x, now_P = tr_x, tr_P
            n_held = 0
            for i in range(next_id):
                if held_until[i] > t:
                    n_held += 1
            held = np.empty(n_held, np.int64)
            n_held = 0
            for i in range(next_id):
                if held_until[i] > t:
                    held[n_held] = i
                    n_held += 1
            orders = greedy_cycle_kernel(
                c2,
                los_args,
                t,
                tr_id,
                now_x,
                now_P,
                tr_status,
                tr_cp,
                tr_last,
                shots_left,
                channels_busy,
                ready_t,
                held,
            )
            o_eff, o_tid, o_ti, o_aim, o_pk = orders[0], orders[1], orders[4], orders[5], orders[6]
            for r in range(o_eff.shape[0]):
                e = o_eff[r]
                tid = o_tid[r]
                shots_left[e] -= 1
                channels_busy[e] += 1
                if shots_left[e] == 0:
                    ready_t[e] = t + reload_s[e]
                t_i = o_ti[r]
                held_until[tid] = max(held_until[tid], t_i + look_s)
                if n_pend == pend_t.shape[0]:
                    pend_t = _grow(pend_t, n_pend)
                    pend_seq = _grow(pend_seq, n_pend)
                    pend_e = _grow(pend_e, n_pend)
                    pend_tid = _grow(pend_tid, n_pend)
                    pend_aim = _grow(pend_aim, n_pend)
                pend_t[n_pend] = t_i
                pend_seq[n_pend] = shot_seq
                pend_e[n_pend] = e
                pend_tid[n_pend] = tid
                pend_aim[n_pend] = o_aim[r]
                n_pend += 1
                shot_seq += 1
                ev_k, ev_i, ev_f = _room(ev_k, ev_i, ev_f, ne)
                _row(ev_k, ev_i, ev_f, ne, _ENGAGEMENT, t, o_aim[r])
                _common(ev_i, ne, label[tid], tid, eff_unit[e], eff_id[e])
                ev_f[ne, 4] = o_pk[r]
                ne += 1
        if n_pend == 0 and done.all():
            break
    return t, ev_k[:ne], ev_i[:ne], ev_f[:ne], det_f[:nd], det_i[:nd]


@njit(cache=True, nogil=True, inline="always")
def _room(
    ev_k: NDArray[np.int8], ev_i: NDArray[np.int64], ev_f: NDArray[np.float64], ne: int
) -> tuple[NDArray[np.int8], NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover - numba
    """The event buffers with room for row ``ne`` (they start with as many rows and grow
    together)."""
    return _grow(ev_k, ne), _grow(ev_i, ne), _grow(ev_f, ne)


@njit(cache=True, nogil=True, inline="always")
def _row(
    ev_k: NDArray[np.int8],
    ev_i: NDArray[np.int64],
    ev_f: NDArray[np.float64],
    ne: int,
    kind: int,
    t_s: float,
    pos: NDArray[np.float64],
) -> None:  # pragma: no cover - numba
    """Row ``ne``: ``kind`` at ``t_s`` and ``pos``, ids -1 and value NaN until set."""
    ev_k[ne] = kind
    ev_i[ne, :] = -1
    ev_f[ne, 0] = t_s
    ev_f[ne, 1] = pos[0]
    ev_f[ne, 2] = pos[1]
    ev_f[ne, 3] = pos[2]
    ev_f[ne, 4] = _NAN


@njit(cache=True, nogil=True, inline="always")
def _row_nopos(
    ev_k: NDArray[np.int8],
    ev_i: NDArray[np.int64],
    ev_f: NDArray[np.float64],
    ne: int,
    kind: int,
    t_s: float,
) -> None:  # pragma: no cover - numba
    """Row ``ne`` without a position."""
    ev_k[ne] = kind
    ev_i[ne, :] = -1
    ev_f[ne, 0] = t_s
    ev_f[ne, 1:] = _NAN


@njit(cache=True, nogil=True, inline="always")
def _common(
    ev_i: NDArray[np.int64], ne: int, thr: int, tid: int, unit: int, eff: int
) -> None:  # pragma: no cover - numba
    ev_i[ne, 0] = thr
    ev_i[ne, 1] = tid
    ev_i[ne, 2] = unit
    ev_i[ne, 3] = eff


@njit(cache=True, nogil=True, inline="always")
def _any_confirmed(status: NDArray[np.int8]) -> bool:  # pragma: no cover - numba
    found = False
    for s in status:
        if s == _CONF:
            found = True
            break
    return found


@njit(cache=True, nogil=True, inline="always")
def _can_fire(
    shots_left: NDArray[np.int64],
    channels_busy: NDArray[np.int64],
    channels: NDArray[np.int64],
    ready_t: NDArray[np.float64],
    t: float,
) -> bool:  # pragma: no cover - numba
    for e in range(shots_left.shape[0]):
        if shots_left[e] > 0 and channels_busy[e] < channels[e] and ready_t[e] <= t:
            return True
    return False
