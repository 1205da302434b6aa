"""The compiled engine: :func:`simulate_compiled` runs a replicate as one numba call.

It is :func:`shorad.sim.engine.simulate` (the reference) for the scenarios it supports —
radars without Doppler, the ``gnn`` tracker, ``greedy`` assignment without no-fire zones, the
demo's kind of scenario — and gives the same events: the same kinds, ids, counts and order,
and the same times, positions and values, bit for bit but for a few kill probabilities that
differ in the last bit (the engagement kernel's libm ``exp`` against numpy's vectorised one);
the tests compare the two engines run by run. :func:`compiled_supports` says why a scenario is not
supported; :func:`shorad.sim.simulate` then uses the reference engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import typed

from shorad.c2._greedy_kernel import greedy_kernel_args, greedy_kernel_supports
from shorad.damage import DEBRIS_SPREAD_PER_M, asset_hit_by, buildings_under
from shorad.geo.los import los_kernel_args
from shorad.rng import RunStreams
from shorad.sensors import Radar, RadarConfig, cartesian_from_polar
from shorad.sensors._radar_kernel import radar_kernel_args
from shorad.sim import _loop
from shorad.sim.engine import SimResult, mount_sensors
from shorad.sim.engine import simulate as reference_simulate
from shorad.sim.events import EventKind, EventLog
from shorad.sim.spec import ScenarioSpec
from shorad.threats import plan_raid
from shorad.tracking.factory import build_tracker
from shorad.tracking.gnn import GnnTracker

__all__ = ["ENGINES", "compiled_supports", "simulate", "simulate_compiled"]

ENGINES = ("auto", "compiled", "reference")
"""``auto``: the compiled engine where it supports the scenario, else the reference."""

if _loop._DEBRIS_SPREAD != DEBRIS_SPREAD_PER_M:  # pragma: no cover - guards a copy
    raise ImportError("sim._loop's debris spread differs from damage.DEBRIS_SPREAD_PER_M")


def compiled_supports(spec: ScenarioSpec) -> str | None:
    """Why the compiled engine cannot run ``spec``, or None if it can."""
    if spec.tracker.method != "gnn":
        return f"tracker.method is {spec.tracker.method!r} (compiled: 'gnn')"
    if spec.doctrine.assignment != "greedy":
        return f"doctrine.assignment is {spec.doctrine.assignment!r} (compiled: 'greedy')"
    why = greedy_kernel_supports(spec.doctrine)
    if why is not None:
        return why
    n = 0
    for u in range(len(spec.units)):
        for cfg in spec.units.sensors_of(u):
            n += 1
            if not isinstance(cfg, RadarConfig):
                kind = type(cfg).__name__
                return f"unit {spec.units.unit_id[u]!r} carries a {kind} (compiled: radars)"
            if cfg.sigma_range_rate_mps > 0.0:
                return (
                    f"unit {spec.units.unit_id[u]!r} has a Doppler radar (compiled: no range rate)"
                )
    if n == 0:
        return "no sensors"
    return None


def simulate(spec: ScenarioSpec, seed: int, *, engine: str = "auto") -> SimResult:
    """Run one replicate of ``spec`` with ``seed`` (see :mod:`shorad.sim.engine`).

    Parameters
    ----------
    spec : ScenarioSpec
    seed : int
    engine : {"auto", "compiled", "reference"}
        ``auto`` runs the compiled engine when :func:`compiled_supports` accepts ``spec``
        (the same events as the reference, several times faster), else the reference.

    Raises
    ------
    ValueError
        If ``engine`` is unknown, or ``compiled`` is asked for a scenario it cannot run.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "compiled":
        return simulate_compiled(spec, seed)
    if engine == "reference" or compiled_supports(spec) is not None:
        return reference_simulate(spec, seed)
    return _run_compiled(spec, seed)


def simulate_compiled(spec: ScenarioSpec, seed: int) -> SimResult:
    """Run one replicate of ``spec`` with ``seed`` in the compiled engine.

    Raises
    ------
    ValueError
        If :func:`compiled_supports` refuses ``spec``.
    """
    why = compiled_supports(spec)
    if why is not None:
        raise ValueError(f"the compiled engine cannot run this scenario: {why}")
    return _run_compiled(spec, seed)


def _run_compiled(spec: ScenarioSpec, seed: int) -> SimResult:
    """:func:`simulate_compiled` of a scenario already accepted by :func:`compiled_supports`."""
    dt = spec.time_step_s
    streams = RunStreams(seed)
    world = spec.world
    plan = plan_raid(spec.raid, spec.classes, spec.assets, rng=streams.generator("threats"))
    mounted = mount_sensors(spec, streams)
    # typed lists, not tuples: their type does not depend on the number of sensors, so one
    # compiled loop serves every scenario
    radars = typed.List([radar_kernel_args(r[1]) for r in mounted if isinstance(r[1], Radar)])
    gens = typed.List([r[2] for r in mounted])
    tracker = build_tracker(
        "gnn",
        spec.tracker,
        [c.speed_mps for c in spec.classes],
        [c.speed_sigma_mps for c in spec.classes],
    )
    assert isinstance(tracker, GnnTracker)
    eff = spec.effectors
    types = eff.types
    ti = eff.type_index
    n_range = max(len(t.pk_range_m) for t in types) if types else 1
    pk_range_m = np.zeros((len(eff), n_range))
    pk_range_factor = np.zeros((len(eff), n_range))
    for e in range(len(eff)):
        t = types[int(ti[e])]
        pk_range_m[e, : len(t.pk_range_m)] = t.pk_range_m
        pk_range_factor[e, : len(t.pk_range_m)] = t.pk_range_factor
    out = _loop.run_loop(
        np.ascontiguousarray(plan.vert_m),
        np.ascontiguousarray(plan.vert_t_s),
        plan.threat_id,
        plan.cls,
        plan.target,
        plan.rcs_dbsm,
        radars,
        np.array([r[0] for r in mounted], np.int64),
        np.array([r[1].pos_m for r in mounted], np.float64).reshape(-1, 3),
        np.array([r[3] for r in mounted], np.int64),
        np.array([r[4] for r in mounted], np.int64),
        gens,
        los_kernel_args(world.buildings),
        tracker.fused_args(),
        len(spec.classes),
        tracker.initial(0.0).next_track_id,
        greedy_kernel_args(spec.doctrine, eff, spec.assets),
        max(1, round(spec.c2_period_s / dt)),
        spec.tracker.q_mps2,
        spec.doctrine.look_s,
        eff.effector_id.astype(np.int64),
        eff.unit.astype(np.int64),
        np.ascontiguousarray(eff.pos_m, np.float64),
        eff.column("magazine").astype(np.int64),
        eff.column("reload_s"),
        eff.column("channels").astype(np.int64),
        eff.column("aim_tolerance_m"),
        np.array([types[int(i)].pk_by_class for i in ti], np.float64).reshape(len(eff), -1),
        pk_range_m,
        pk_range_factor,
        np.array([len(types[int(i)].pk_range_m) for i in ti], np.int64),
        eff.column("debris_radius_m"),
        streams.generator("engagement"),
        dt,
        round(spec.duration_s / dt),
    )
    end_t, kind, ints, floats, det_f, det_i = out
    return SimResult(
        seed=int(seed),
        end_t_s=float(end_t),
        plan=plan,
        events=_event_log(spec, kind, ints, floats, det_f, det_i),
        engine="compiled",
    )


def _event_log(
    spec: ScenarioSpec,
    kind: np.ndarray[Any, Any],
    ints: np.ndarray[Any, Any],
    floats: np.ndarray[Any, Any],
    det_f: np.ndarray[Any, Any],
    det_i: np.ndarray[Any, Any],
) -> EventLog:
    """The loop's rows completed (debris buildings, impacts, detections) as an EventLog."""
    assets = spec.assets
    kind = kind.copy()
    ints = ints.copy()
    floats = floats.copy()
    # leakers' impacts: the asset hit, or no row
    imp = np.flatnonzero((kind == int(EventKind.IMPACT)) & (ints[:, 4] == _loop.IMPACT_PENDING))
    keep = np.ones(kind.shape[0], np.bool_)
    if imp.size:
        hit = asset_hit_by(floats[imp, 1:4], assets)
        keep[imp[hit < 0]] = False
        ok, a = imp[hit >= 0], hit[hit >= 0]
        ints[ok, 4] = a
        ints[ok, 5] = np.asarray(assets.building, np.int64)[a]
        floats[ok, 4] = np.asarray(assets.value, np.float64)[a]
    # debris: one row per building under the footprint (one row with -1 if none)
    reps = np.ones(kind.shape[0], np.int64)
    deb = np.flatnonzero(kind == int(EventKind.DEBRIS))
    under: list[np.ndarray[Any, Any]] = []
    if deb.size:
        under = buildings_under(spec.world, floats[deb, 1:3], floats[deb, 4])
        reps[deb] = [max(1, u.size) for u in under]
    reps[~keep] = 0
    rows = np.repeat(np.arange(kind.shape[0]), reps)
    kind, ints, floats = kind[rows], ints[rows], floats[rows]
    if deb.size:
        building = np.concatenate([u if u.size else np.array([-1], np.int64) for u in under])
        ints[kind == int(EventKind.DEBRIS), 5] = building
    # detections last, as the reference records them
    nd = det_f.shape[0]
    if nd:
        pos = cartesian_from_polar(det_f[:, 1:5]) + det_f[:, 5:8]
        d_float = np.column_stack([det_f[:, 0], pos, det_f[:, 1]])
        d_int = np.full((nd, 6), -1, np.int64)
        d_int[:, 0] = det_i[:, 1]
        d_int[:, 1] = det_i[:, 2]
        d_int[:, 2] = det_i[:, 0]
        kind = np.concatenate([kind, np.full(nd, int(EventKind.DETECTION), np.int8)])
        ints = np.concatenate([ints, d_int])
        floats = np.concatenate([floats, d_float])
    seq = np.arange(kind.shape[0], dtype=np.int64)
    order = np.lexsort((seq, kind, floats[:, 0]))
    cols: dict[str, Any] = {"t_s": floats[order, 0], "kind": kind[order], "seq": seq[order]}
    for c, name in enumerate(_loop.EV_INT):
        cols[name] = np.ascontiguousarray(ints[order, c])
    for c, name in enumerate(_loop.EV_FLOAT[1:], start=1):
        cols[name] = np.ascontiguousarray(floats[order, c])
    return EventLog(**cols)
