"""One campaign run as a pure, picklable task: ``(spec, RunTask) -> row``.

The task never raises: a run that fails becomes a row with ``status = "failed"`` and the
error text, so one bad replicate never stops a campaign. Only infrastructure failures (a
worker dying repeatedly on the same task) surface as Dask errors; the runner turns those into
failed rows too.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shorad._version import __version__
from shorad.sim.spec import ScenarioSpec

__all__ = [
    "FLOAT_TOTALS",
    "INT_TOTALS",
    "TOTALS",
    "RunTask",
    "failed_row",
    "provide_spec",
    "run_seed",
    "run_task",
    "run_tasks",
    "warm_up",
]

INT_TOTALS = (
    "threats",
    "killed",
    "leakers",
    "asset_hits",
    "detected",
    "confirmed",
    "false_tracks_confirmed",
    "shots",
    "shots_at_false_tracks",
    "shots_wide",
    "kills",
    "intercepts_over_buildings",
)
"""Integer summary totals stored as their own columns."""

FLOAT_TOTALS = (
    "leak_fraction",
    "value_hit",
    "shots_per_kill",
    "interceptor_cost_usd",
    "threat_cost_destroyed_usd",
    "cost_exchange",
    "mean_time_margin_s",
)
"""Real-valued summary totals stored as their own columns (NULL where undefined)."""

TOTALS = INT_TOTALS + FLOAT_TOTALS


def run_seed(campaign_seed: int, replicate: int) -> int:
    """Seed of replicate ``replicate`` of a campaign (63-bit, from a spawned ``SeedSequence``).

    Keyed by the replicate index only, so every sweep point sees the same raids for the same
    replicate (common random numbers: differences between points are not drowned in
    raid-to-raid noise). Independent of worker, order and cluster size.
    """
    ss = np.random.SeedSequence(int(campaign_seed), spawn_key=(int(replicate),))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True, slots=True)
class RunTask:
    """What one replicate needs besides its spec (small, picklable)."""

    campaign_id: str
    point_id: int
    replicate: int
    seed: int
    params_json: str
    events_dir: str | None = None


def _base_row(task: RunTask, scenario_hash: str) -> dict[str, Any]:
    return {
        "campaign_id": task.campaign_id,
        "point_id": task.point_id,
        "replicate": task.replicate,
        "seed": task.seed,
        "params": task.params_json,
        "scenario_hash": scenario_hash,
        "shorad_version": __version__,
    }


def failed_row(
    task: RunTask, scenario_hash: str, error: str, wall_s: float = 0.0
) -> dict[str, Any]:
    """The row of a run that did not produce a summary."""
    row = _base_row(task, scenario_hash)
    row.update(dict.fromkeys(TOTALS))
    row.update(
        status="failed",
        error=error,
        any_asset_hit=None,
        assets_hit=None,
        totals_json=None,
        wall_s=wall_s,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        finished_at=time.time(),
    )
    return row


def _write_events(spec: ScenarioSpec, task: RunTask, result: Any, events_dir: str) -> None:
    from shorad.analysis import write_events_parquet

    folder = Path(events_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"p{task.point_id:05d}_r{task.replicate:06d}.parquet"
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    write_events_parquet(result.events, tmp, seed=task.seed, scenario_hash=spec.scenario_hash)
    os.replace(tmp, final)


def run_task(spec: ScenarioSpec, task: RunTask) -> dict[str, Any]:
    """Simulate one replicate and return its row for the ``runs`` table.

    Parameters
    ----------
    spec : ScenarioSpec
        The sweep point's resolved scenario.
    task : RunTask
        Campaign, point, replicate and seed.

    Returns
    -------
    dict
        Column name -> value; ``status`` is ``"ok"`` or ``"failed"`` (with ``error``).
    """
    import json

    from shorad.api import run_full

    t0 = time.perf_counter()
    try:
        summary, result = run_full(spec, task.seed)
        if task.events_dir is not None:
            _write_events(spec, task, result, task.events_dir)
    except Exception as exc:  # a failed run is recorded, never raised
        tb = traceback.format_exc(limit=-3)
        return failed_row(
            task,
            spec.scenario_hash,
            f"{type(exc).__name__}: {exc}\n{tb}",
            time.perf_counter() - t0,
        )
    wall = time.perf_counter() - t0
    totals = summary.totals
    row = _base_row(task, spec.scenario_hash)
    for k in INT_TOTALS:
        v = totals.get(k)
        row[k] = None if v is None else int(v)
    for k in FLOAT_TOTALS:
        v = totals.get(k)
        row[k] = None if v is None or not np.isfinite(v) else float(v)
    hits = {str(a["id"]): int(a["hits"]) for a in summary.assets}
    row.update(
        status="ok",
        error=None,
        any_asset_hit=bool(sum(hits.values()) > 0),
        assets_hit=json.dumps(hits, separators=(",", ":")),
        totals_json=json.dumps(totals, separators=(",", ":"), default=str),
        wall_s=wall,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        finished_at=time.time(),
    )
    return row


def run_tasks(spec: ScenarioSpec, tasks: Sequence[RunTask]) -> list[dict[str, Any]]:
    """:func:`run_task` for several runs of one sweep point (one Dask task), in order."""
    return [run_task(spec, t) for t in tasks]


def warm_up() -> int:
    """Import the simulation in this process (run on each worker before timing); its pid."""
    import shorad.api  # noqa: F401

    return os.getpid()


def provide_spec(spec: ScenarioSpec) -> ScenarioSpec:
    """Identity, as a Dask task: the spec then lives on the cluster with its lineage.

    Unlike scattered data, a task result that is lost with its worker is recomputed by the
    scheduler from the task (which holds the spec), so killing any worker loses nothing.
    """
    return spec
