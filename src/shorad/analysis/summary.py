"""Events -> :class:`RunSummary`: what happened to every threat, asset and effector.

Everything here is derived from the event log (plus the spec for names and costs), so a
summary can be rebuilt from a stored ``events.parquet``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shorad._version import __version__
from shorad.sim.engine import SimResult
from shorad.sim.events import EventKind, EventLog
from shorad.sim.spec import ScenarioSpec

__all__ = ["RunSummary", "summarise"]


def _r(x: float | None, nd: int = 3) -> float | None:
    """Round for a stable, readable JSON; None for NaN/inf."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Result of one replicate, JSON-serialisable with a stable key order.

    Attributes
    ----------
    meta : dict
        Scenario name and hash, seed, shorad version, simulated end time.
    totals : dict
        Threats, kills, leakers, asset hits, shots, shots per kill, costs and cost exchange,
        intercepts over buildings, false tracks.
    threats, assets, effectors, intercepts : tuple of dict
        One entry per threat / asset / effector / intercept (shot).
    """

    meta: dict[str, Any]
    totals: dict[str, Any]
    threats: tuple[dict[str, Any], ...]
    assets: tuple[dict[str, Any], ...]
    effectors: tuple[dict[str, Any], ...]
    intercepts: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (stable key order)."""
        return {
            "meta": self.meta,
            "totals": self.totals,
            "threats": list(self.threats),
            "assets": list(self.assets),
            "effectors": list(self.effectors),
            "intercepts": list(self.intercepts),
        }

    def to_json(self) -> str:
        """Deterministic JSON text (same spec + seed gives the same bytes)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _first_time(ev: EventLog, kind: EventKind, n: int) -> NDArray[np.float64]:
    """Earliest time of ``kind`` per threat id (n,), NaN if never."""
    out = np.full(n, np.nan)
    m = ev.of(kind) & (ev.threat_id >= 0)
    ids, t = ev.threat_id[m], ev.t_s[m]
    order = np.argsort(t, kind="stable")[::-1]
    out[ids[order]] = t[order]  # last write wins: the earliest
    return out


def summarise(spec: ScenarioSpec, result: SimResult) -> RunSummary:
    """Build the summary of a finished run from its events."""
    ev = result.events
    plan = result.plan
    n = len(plan)
    eff = spec.effectors
    classes = spec.classes
    world = spec.world

    detected = _first_time(ev, EventKind.DETECTION, n)
    confirmed = _first_time(ev, EventKind.TRACK_CONFIRMED, n)
    engaged = _first_time(ev, EventKind.ENGAGEMENT, n)
    killed_t = _first_time(ev, EventKind.KILL, n)
    leaked_t = _first_time(ev, EventKind.LEAK, n)
    eng = ev.of(EventKind.ENGAGEMENT)
    icp = ev.of(EventKind.INTERCEPT)
    kill = ev.of(EventKind.KILL)
    shots_at = np.bincount(ev.threat_id[icp & (ev.threat_id >= 0)], minlength=n)
    killer = np.full(n, -1)
    killer[ev.threat_id[kill]] = ev.effector_id[kill]

    threats = []
    for i in range(n):
        outcome = (
            "killed"
            if not np.isnan(killed_t[i])
            else ("leaked" if not np.isnan(leaked_t[i]) else "airborne")
        )
        margin = plan.impact_t_s[i] - killed_t[i] if outcome == "killed" else None
        threats.append(
            {
                "id": i,
                "class": classes[int(plan.cls[i])].name,
                "target": str(spec.assets.asset_id[int(plan.target[i])]),
                "launch_t_s": _r(plan.launch_t_s[i]),
                "detected_t_s": _r(detected[i]),
                "confirmed_t_s": _r(confirmed[i]),
                "first_engaged_t_s": _r(engaged[i]),
                "shots": int(shots_at[i]),
                "outcome": outcome,
                "end_t_s": _r(killed_t[i] if outcome == "killed" else leaked_t[i]),
                "killed_by_effector": int(killer[i]) if killer[i] >= 0 else None,
                "time_margin_s": _r(margin),
            }
        )

    imp = ev.of(EventKind.IMPACT)
    assets = []
    for a in range(len(spec.assets)):
        m = imp & (ev.asset_id == a)
        b = int(spec.assets.building[a])
        assets.append(
            {
                "id": str(spec.assets.asset_id[a]),
                "building": str(world.buildings.osm_key[b]) if b >= 0 else None,
                "name": str(world.buildings.name[b]) if b >= 0 else "",
                "value": _r(spec.assets.value[a]),
                "hits": int(m.sum()),
                "value_hit": _r(float(spec.assets.value[a]) if m.any() else 0.0),
                "attackers": int((plan.target == a).sum()),
            }
        )

    cost = eff.column("cost_per_shot_usd")
    rounds = eff.column("rounds_per_shot")
    effectors: list[dict[str, Any]] = []
    for e in range(len(eff)):
        shots = int((icp & (ev.effector_id == eff.effector_id[e])).sum())
        fired = int((eng & (ev.effector_id == eff.effector_id[e])).sum())
        kills = int((kill & (ev.effector_id == eff.effector_id[e])).sum())
        effectors.append(
            {
                "id": int(eff.effector_id[e]),
                "unit": spec.units.unit_id[int(eff.unit[e])],
                "type": eff.types[int(eff.type_index[e])].name,
                "shots": fired,
                "shots_resolved": shots,
                "kills": kills,
                "rounds": int(fired * rounds[e]),
                "cost_usd": _r(fired * cost[e], 2),
            }
        )

    deb = ev.of(EventKind.DEBRIS)
    intercepts = []
    for r in np.flatnonzero(icp):
        e = int(ev.effector_id[r])
        thr = int(ev.threat_id[r])
        item: dict[str, Any] = {
            "t_s": _r(ev.t_s[r]),
            "effector": e,
            "unit": spec.units.unit_id[int(ev.unit_id[r])],
            "track": int(ev.track_id[r]),
            "threat": thr if thr >= 0 else None,
            "killed": bool(ev.value[r] == 1.0),
            "pos_m": [_r(ev.x_m[r], 1), _r(ev.y_m[r], 1), _r(ev.z_m[r], 1)],
        }
        if item["killed"]:
            dm = deb & (ev.threat_id == thr) & (ev.t_s == ev.t_s[r]) & (ev.effector_id == e)
            rows = np.flatnonzero(dm)
            bld = [int(b) for b in ev.building[rows] if b >= 0]
            item["debris"] = {
                "centre_m": [_r(ev.x_m[rows[0]], 1), _r(ev.y_m[rows[0]], 1)],
                "radius_m": _r(ev.value[rows[0]], 1),
                "buildings": [str(world.buildings.osm_key[b]) for b in bld],
                "assets_under": [
                    str(spec.assets.asset_id[a])
                    for a in range(len(spec.assets))
                    if int(spec.assets.building[a]) in bld
                ],
            }
        intercepts.append(item)

    n_kill = int(kill.sum())
    n_shots = int(eng.sum())
    spent = float(sum(float(x["cost_usd"] or 0.0) for x in effectors))
    destroyed = float(
        sum(
            classes[int(plan.cls[i])].cost_usd
            for i in range(n)
            if threats[i]["outcome"] == "killed"
        )
    )
    conf = ev.of(EventKind.TRACK_CONFIRMED)
    over_buildings = sum(1 for x in intercepts if x.get("debris", {}).get("buildings"))
    n_leak = int(sum(1 for x in threats if x["outcome"] == "leaked"))
    totals = {
        "threats": n,
        "killed": int(sum(1 for x in threats if x["outcome"] == "killed")),
        "leakers": n_leak,
        "leak_fraction": _r(n_leak / n if n else 0.0, 4),
        "asset_hits": int(imp.sum()),
        "value_hit": _r(float(sum(float(a["value_hit"] or 0.0) for a in assets))),
        "detected": int(np.isfinite(detected).sum()),
        "confirmed": int(np.isfinite(confirmed).sum()),
        "false_tracks_confirmed": int((conf & (ev.threat_id < 0)).sum()),
        "shots": n_shots,
        "shots_at_false_tracks": int((eng & (ev.threat_id < 0)).sum()),
        "shots_wide": int((icp & (ev.threat_id < 0)).sum()),
        "kills": n_kill,
        "shots_per_kill": _r(n_shots / n_kill if n_kill else None),
        "interceptor_cost_usd": _r(spent, 2),
        "threat_cost_destroyed_usd": _r(destroyed, 2),
        "cost_exchange": _r(spent / destroyed if destroyed else None),
        "intercepts_over_buildings": int(over_buildings),
        "mean_time_margin_s": _r(
            float(np.mean([x["time_margin_s"] for x in threats if x["time_margin_s"] is not None]))
            if n_kill
            else None
        ),
    }
    meta = {
        "scenario": spec.name,
        "scenario_hash": spec.scenario_hash,
        "seed": int(result.seed),
        "shorad_version": __version__,
        "tracker": spec.tracker.method,
        "assignment": spec.doctrine.assignment,
        "engine": result.engine,
        "end_t_s": _r(result.end_t_s),
        "n_events": len(ev),
    }
    return RunSummary(
        meta=meta,
        totals=totals,
        threats=tuple(threats),
        assets=tuple(assets),
        effectors=tuple(effectors),
        intercepts=tuple(intercepts),
    )
