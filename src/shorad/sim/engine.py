"""The clock that runs one replicate: threats -> sensors -> tracking -> C2 -> engagement -> damage.

Fixed-step loop (``time_step_s``). At each step, in this order:

1. threats launched since the previous step appear;
2. shots whose intercept time has come are resolved against truth (in time order), kills
   remove threats and drop debris;
3. threats that reached their aim point unharmed leak and hit their asset;
4. every sensor (radar, EO/IR, RF) whose scan falls on this step scans, and the tracker takes
   its detections, one ``tracker.step`` per scan (sensors are phased across steps, so scans
   are asynchronous; each has its own scan period and random stream); a camera with
   ``cueing: tracks`` looks where the current picture's most threatening confirmed track is;
5. on C2 cycles, tracks are predicted to now, evaluated and assigned; magazines, fire
   channels and reloads are updated.

The run ends at ``duration_s``, or earlier once every threat has been killed or has hit and
no shot is in flight. All mutable state lives in this function; every random draw comes from
a per-stage, per-entity stream of the run's seed, so a replicate is a pure function of
``(spec, seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from shorad.c2 import EffectorState, GreedyAssigner, WtaAssigner, evaluate_threats
from shorad.c2.base import Assignments
from shorad.damage import asset_hit_by, buildings_under, debris_footprint
from shorad.engagement import NO_THREAT, resolve_engagements
from shorad.rng import RunStreams
from shorad.sensors import (
    Detections,
    EoirSensor,
    Sensor,
    Targets,
    cartesian_from_polar,
    cued_pointing,
    make_sensor,
    visible_from,
)
from shorad.sim.events import EventKind, EventLog, EventRecorder
from shorad.sim.spec import ScenarioSpec
from shorad.threats import ThreatPlan, plan_raid, truth_at
from shorad.tracking import CONFIRMED, Tracks
from shorad.tracking.factory import build_tracker
from shorad.tracking.kalman import predict

__all__ = ["SENSOR_STREAM_STRIDE", "Mounted", "SimResult", "mount_sensors", "simulate"]

SENSOR_STREAM_STRIDE = 1 << 20
"""Stream index of sensor ``j`` of unit ``u``: ``u + j * SENSOR_STREAM_STRIDE``."""


@dataclass(frozen=True, slots=True)
class SimResult:
    """What one replicate produced.

    Attributes
    ----------
    seed : int
    end_t_s : float
        Simulated time at which the run ended.
    plan : ThreatPlan
        Every threat's planned path (truth).
    events : EventLog
    engine : str
        Which engine ran it: ``reference`` (this module) or ``compiled``
        (:mod:`shorad.sim.compiled`).
    """

    seed: int
    end_t_s: float
    plan: ThreatPlan
    events: EventLog
    engine: str = "reference"


def _predict_to(tracks: Tracks, t_s: float, q_mps2: float) -> Tracks:
    if len(tracks) == 0 or t_s == tracks.t_s:
        return tracks
    x, P = predict(tracks.x, tracks.P, t_s - tracks.t_s, q_mps2)
    return replace(tracks, t_s=t_s, x=x, P=P)


Mounted = tuple[int, Sensor, np.random.Generator, int, int]
"""A mounted sensor: unit index, sensor, its random stream, scan every ``k`` steps, phase."""


def mount_sensors(spec: ScenarioSpec, streams: RunStreams) -> list[Mounted]:
    """Every sensor of every unit, in scan order, with its stream and scan schedule.

    Sensor ``j`` of unit ``u`` draws from stream ``("sensors", u + j *
    SENSOR_STREAM_STRIDE)`` (the first sensor keeps the stream the unit's radar always had)
    and scans on the steps ``k`` with ``k % every == (u + j) % every``.
    """
    units = spec.units
    mounted: list[Mounted] = []
    for u in range(len(units)):
        for j, cfg in enumerate(units.sensors_of(u)):
            every = max(1, round(cfg.scan_period_s / spec.time_step_s))
            mounted.append(
                (
                    u,
                    make_sensor(cfg, u, units.pos_m[u]),
                    streams.generator("sensors", u + j * SENSOR_STREAM_STRIDE),
                    every,
                    (u + j) % every,
                )
            )
    return mounted


def simulate(spec: ScenarioSpec, seed: int) -> SimResult:
    """Run one replicate of ``spec`` with ``seed``.

    Parameters
    ----------
    spec : ScenarioSpec
    seed : int
        Root of every random stream of the run.

    Returns
    -------
    SimResult
    """
    dt = spec.time_step_s
    streams = RunStreams(seed)
    rec = EventRecorder()
    world = spec.world
    assets = spec.assets
    plan = plan_raid(spec.raid, spec.classes, assets, rng=streams.generator("threats"))
    n = len(plan)
    launched = np.zeros(n, bool)
    killed = np.zeros(n, bool)
    done = np.zeros(n, bool)

    mounted = mount_sensors(spec, streams)
    # cameras cued by the picture (cueing: tracks) and where each looked last
    cued = {
        i
        for i, r in enumerate(mounted)
        if isinstance(r[1], EoirSensor) and r[1].config.cueing == "tracks"
    }
    pointing: dict[int, float] = {}
    threat_of: dict[int, float] = {}  # track id -> threat value of the latest evaluation
    emits_by_class = np.array([c.emits_control_link for c in spec.classes], np.bool_)
    tracker = build_tracker(
        spec.tracker.method,
        spec.tracker,
        [c.speed_mps for c in spec.classes],
        [c.speed_sigma_mps for c in spec.classes],
        spec.polar_tracker,
    )
    tracks = tracker.initial(0.0)
    label: dict[int, int] = {}  # track id -> threat id of its latest detection (scoring only)
    scans: list[tuple[Detections, NDArray[np.int64]]] = []  # for the detection events

    eff = spec.effectors
    magazine = eff.column("magazine").astype(np.int64)
    reload_s = eff.column("reload_s")
    channels = eff.column("channels").astype(np.int64)
    shots_left = magazine.copy()
    channels_busy = np.zeros(len(eff), np.int64)
    ready_t = np.zeros(len(eff))
    row_of_eff = {int(e): i for i, e in enumerate(eff.effector_id)}
    assigner = (WtaAssigner if spec.doctrine.assignment == "wta" else GreedyAssigner)(
        spec.doctrine, world
    )
    eng_rng = streams.generator("engagement")
    c2_every = max(1, round(spec.c2_period_s / dt))
    pending: list[tuple[float, int, Assignments]] = []
    shot_seq = 0
    held_until: dict[int, float] = {}
    look_s = spec.doctrine.look_s

    steps = round(spec.duration_s / dt)
    t = 0.0
    for k in range(steps + 1):
        t = k * dt
        # 1. launches
        new = ~launched & (plan.launch_t_s <= t)
        if new.any():
            idx = np.flatnonzero(new)
            rec.record(
                EventKind.LAUNCH,
                plan.launch_t_s[idx],
                n=idx.size,
                pos_m=plan.vert_m[idx, 0],
                threat_id=plan.threat_id[idx],
                asset_id=plan.target[idx],
            )
            launched |= new
        # 2. shots arriving
        if pending:
            pending.sort(key=lambda s: (s[0], s[1]))
            while pending and pending[0][0] <= t:
                t_i, _, shot = pending.pop(0)
                truth = truth_at(plan, t_i, killed)
                out = resolve_engagements(shot, eff, [truth], rng=eng_rng)
                e = row_of_eff[int(out.effector_id[0])]
                channels_busy[e] -= 1
                thr = int(out.threat_id[0])
                common = {
                    "effector_id": out.effector_id[0],
                    "unit_id": eff.unit[e],
                    "track_id": out.track_id[0],
                    "threat_id": thr,
                }
                rec.record(
                    EventKind.INTERCEPT,
                    t_i,
                    pos_m=out.pos_m[0],
                    value=float(out.killed[0]),
                    **common,
                )
                if out.killed[0] and thr != NO_THREAT:
                    killed[thr] = True
                    done[thr] = True
                    rec.record(EventKind.KILL, t_i, pos_m=out.pos_m[0], value=out.pk[0], **common)
                    base_r = eff.types[int(eff.type_index[e])].debris_radius_m
                    centre, radius = debris_footprint(
                        out.pos_m, out.target_vel_mps, np.array([base_r])
                    )
                    under = buildings_under(world, centre, radius)[0]
                    ground = np.array([centre[0, 0], centre[0, 1], 0.0])
                    rec.record(
                        EventKind.DEBRIS,
                        t_i,
                        n=max(1, under.size),
                        pos_m=ground,
                        value=float(radius[0]),
                        building=under if under.size else -1,
                        **common,
                    )
        # 3. leakers
        imp = launched & ~done & (plan.impact_t_s <= t)
        if imp.any():
            idx = np.flatnonzero(imp)
            aim = plan.vert_m[idx, -1]
            rec.record(
                EventKind.LEAK,
                plan.impact_t_s[idx],
                n=idx.size,
                pos_m=aim,
                threat_id=idx,
                asset_id=plan.target[idx],
            )
            hit = asset_hit_by(aim, assets)
            for i, a in zip(idx, hit, strict=True):
                if a >= 0:
                    rec.record(
                        EventKind.IMPACT,
                        plan.impact_t_s[i],
                        pos_m=plan.vert_m[i, -1],
                        threat_id=int(i),
                        asset_id=int(a),
                        building=assets.building[a],
                        value=assets.value[a],
                    )
            done |= imp
        # 4. sensors and tracking
        truth = truth_at(plan, t, killed)
        alive = np.flatnonzero(truth.alive)
        due_idx = [i for i, r in enumerate(mounted) if k % r[3] == r[4]]
        due = [mounted[i] for i in due_idx]
        if due:
            ok, z_true = visible_from([r[1] for r in due], world, truth.pos_m[alive])
            targets = Targets(
                pos_m=truth.pos_m[alive],
                vel_mps=truth.vel_mps[alive],
                rcs_dbsm=plan.rcs_dbsm[alive],
                emits=emits_by_class[plan.cls[alive]],
                threat_id=plan.threat_id[alive],
            )
        for row, (_, sensor, rng, _, _) in enumerate(due):
            i_m = due_idx[row]
            if i_m in cued and isinstance(sensor, EoirSensor):
                conf = tracks.status == CONFIRMED
                ahead = t - tracks.t_s
                point = cued_pointing(
                    sensor,
                    world,
                    tracks.x[conf, :3] + ahead * tracks.x[conf, 3:],
                    np.array([threat_of.get(i, 0.0) for i in tracks.track_id[conf].tolist()]),
                    pointing.get(i_m),
                )
                pointing[i_m] = sensor.pointing_az(t) if point is None else point
                dets = sensor.scan(
                    world,
                    t,
                    targets.pos_m,
                    targets.threat_id,
                    rng=rng,
                    visibility=(ok[row], z_true[row]),
                    pointing_az_rad=pointing[i_m],
                )
            else:
                dets = sensor.scan_targets(
                    world, t, targets, rng=rng, visibility=(ok[row], z_true[row])
                )
            step = tracker.step(tracks, dets, t)
            tracks = step.tracks
            if len(dets):
                scans.append((dets, step.det_track_id))
                used = step.det_track_id >= 0
                label.update(
                    zip(
                        step.det_track_id[used].tolist(),
                        dets.truth_id[used].tolist(),
                        strict=True,
                    )
                )
            for tid in step.confirmed_ids.tolist():
                at = int(np.flatnonzero(tracks.track_id == tid)[0])
                rec.record(
                    EventKind.TRACK_CONFIRMED,
                    t,
                    pos_m=tracks.x[at, :3],
                    track_id=tid,
                    threat_id=label.get(tid, -1),
                )
            if step.deleted_ids.size:
                rec.record(
                    EventKind.TRACK_DELETED,
                    t,
                    n=step.deleted_ids.size,
                    track_id=step.deleted_ids,
                    threat_id=np.array([label.get(i, -1) for i in step.deleted_ids.tolist()]),
                )
        # 5. reloads and C2
        refill = (shots_left == 0) & (ready_t <= t)
        if refill.any():
            idx = np.flatnonzero(refill)
            shots_left[idx] = magazine[idx]
            rec.record(
                EventKind.RELOAD,
                t,
                n=idx.size,
                effector_id=eff.effector_id[idx],
                unit_id=eff.unit[idx],
                value=magazine[idx].astype(np.float64),
            )
        can_fire = (shots_left > 0) & (channels_busy < channels) & (ready_t <= t)
        if k % c2_every == 0 and tracks.confirmed.any() and can_fire.any():
            now = _predict_to(tracks, t, spec.tracker.q_mps2)
            held = np.array([i for i, until in held_until.items() if until > t], np.int64)
            assessment = evaluate_threats(now, assets)
            if cued:
                threat_of = dict(
                    zip(
                        assessment.track_id.tolist(),
                        assessment.threat_value.tolist(),
                        strict=True,
                    )
                )
            state = EffectorState(
                shots_left=shots_left.copy(),
                channels_busy=channels_busy.copy(),
                ready_t_s=ready_t.copy(),
            )
            orders = assigner.assign(now, assessment, eff, state, held)
            for r in range(len(orders)):
                e = row_of_eff[int(orders.effector_id[r])]
                tid = int(orders.track_id[r])
                shots_left[e] -= 1
                channels_busy[e] += 1
                if shots_left[e] == 0:
                    ready_t[e] = t + reload_s[e]
                t_i = float(orders.intercept_t_s[r])
                held_until[tid] = max(held_until.get(tid, 0.0), t_i + look_s)
                pending.append((t_i, shot_seq, orders.take(slice(r, r + 1))))
                shot_seq += 1
                rec.record(
                    EventKind.ENGAGEMENT,
                    t,
                    pos_m=orders.aim_m[r],
                    effector_id=orders.effector_id[r],
                    unit_id=eff.unit[e],
                    track_id=tid,
                    threat_id=label.get(tid, -1),
                    value=float(orders.pk_expected[r]),
                )
        if done.all() and not pending:
            break
    # detection events are recorded in one batch (ordering is by time and kind anyway)
    if scans:
        dets = Detections.concat([d for d, _ in scans])
        rec.record(
            EventKind.DETECTION,
            dets.t_s,
            n=len(dets),
            pos_m=cartesian_from_polar(dets.z) + dets.sensor_pos_m,
            threat_id=dets.truth_id,
            track_id=np.concatenate([i for _, i in scans]),
            unit_id=dets.sensor_id,
            value=dets.z[:, 0],
        )
    return SimResult(seed=int(seed), end_t_s=float(t), plan=plan, events=rec.finish())
