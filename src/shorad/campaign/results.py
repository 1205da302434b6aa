"""Statistics of a stored campaign: per sweep point, and the sensitivity to each swept key.

Per point: runs, P(any defended asset hit) with a Wilson interval, mean leakers, shots per kill
and cost exchange with Student-t intervals (runs where a ratio is undefined, e.g. no kill,
are left out of that mean). Sensitivity: for each swept key, each level pooled over the other
keys' levels (a full factorial, so the pooling is balanced), with the difference from the
key's first level: a Welch interval for leakers, a Newcombe interval for P(asset hit). Failed
runs are counted but enter no statistic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shorad.analysis.stats import (
    Interval,
    newcombe_interval,
    t_interval,
    welch_interval,
    wilson_interval,
)
from shorad.campaign.store import ResultStore
from shorad.errors import ConfigError

__all__ = ["CampaignTables", "LevelStats", "PointStats", "campaign_tables"]


@dataclass(frozen=True)
class PointStats:
    """One sweep point's statistics."""

    point_id: int
    params: dict[str, Any]
    ok: int
    failed: int
    p_asset_hit: Interval
    leakers: Interval
    shots_per_kill: Interval
    cost_exchange: Interval


@dataclass(frozen=True)
class LevelStats:
    """One level of one swept key, pooled over the other keys; deltas against level 0."""

    key: str
    value: Any
    ok: int
    leakers: Interval
    p_asset_hit: Interval
    d_leakers: Interval | None
    d_p_asset_hit: Interval | None


@dataclass(frozen=True)
class CampaignTables:
    """Everything ``shorad results`` prints."""

    campaign: dict[str, Any]
    requested: int
    present: int
    failed: int
    points: list[PointStats]
    sensitivity: list[LevelStats]


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _resolve_id(store: ResultStore, campaign_id: str | None) -> dict[str, Any]:
    camps = store.campaigns()
    if not camps:
        raise ConfigError(f"results store {str(store.path)!r} holds no campaign")
    if campaign_id is None:
        return camps[-1]
    hits = [c for c in camps if str(c["campaign_id"]).startswith(campaign_id)]
    if len(hits) != 1:
        raise ConfigError(
            f"--campaign {campaign_id!r} matches {len(hits)} campaigns; expected one of "
            f"{[c['campaign_id'] for c in camps]}"
        )
    return hits[0]


def campaign_tables(
    store: ResultStore, campaign_id: str | None = None, confidence: float = 0.95
) -> CampaignTables:
    """Compute the campaign and sensitivity tables of one campaign (default: the latest).

    Parameters
    ----------
    store : ResultStore
        An open store.
    campaign_id : str, optional
        A campaign id or an unambiguous prefix of one.
    confidence : float
        Two-sided confidence level of every interval.
    """
    camp = _resolve_id(store, campaign_id)
    cid = str(camp["campaign_id"])
    rows = store.rows(cid)
    pts = store.con.execute(
        "SELECT point_id, params FROM points WHERE campaign_id = ? ORDER BY point_id", [cid]
    ).fetchall()
    by_point: dict[int, list[dict[str, Any]]] = {int(p): [] for p, _ in pts}
    for r in rows:
        by_point.setdefault(int(r["point_id"]), []).append(r)
    params = {int(p): json.loads(js) for p, js in pts}

    def col(rs: list[dict[str, Any]], name: str) -> list[float]:
        return [float(r[name]) for r in rs if r["status"] == "ok" and r[name] is not None]

    points = []
    for pid, rs in sorted(by_point.items()):
        ok = [r for r in rs if r["status"] == "ok"]
        hit = sum(bool(r["any_asset_hit"]) for r in ok)
        points.append(
            PointStats(
                pid,
                params.get(pid, {}),
                len(ok),
                len(rs) - len(ok),
                wilson_interval(hit, len(ok), confidence),
                t_interval(col(rs, "leakers"), confidence),
                t_interval(col(rs, "shots_per_kill"), confidence),
                t_interval(col(rs, "cost_exchange"), confidence),
            )
        )

    sens: list[LevelStats] = []
    for key, values in json.loads(camp["sweeps"]):
        if len(values) < 2:
            continue
        base: tuple[list[float], int, int] | None = None
        for v in values:
            sel = [
                r
                for pid, rs in by_point.items()
                if _canon(params.get(pid, {}).get(key)) == _canon(v)
                for r in rs
                if r["status"] == "ok"
            ]
            leak = [float(r["leakers"]) for r in sel]
            hit = sum(bool(r["any_asset_hit"]) for r in sel)
            d_leak = d_hit = None
            if base is None:
                base = (leak, hit, len(sel))
            else:
                d_leak = welch_interval(leak, base[0], confidence)
                d_hit = newcombe_interval(hit, len(sel), base[1], base[2], confidence)
            sens.append(
                LevelStats(
                    key,
                    v,
                    len(sel),
                    t_interval(leak, confidence),
                    wilson_interval(hit, len(sel), confidence),
                    d_leak,
                    d_hit,
                )
            )
    requested = len(pts) * int(camp["runs_requested"])
    failed = sum(r["status"] != "ok" for r in rows)
    return CampaignTables(camp, requested, len(rows), failed, points, sens)
