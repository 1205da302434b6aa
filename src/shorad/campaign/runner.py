"""Plan a campaign (sweep points x replicates), run it on a backend, write rows as they arrive.

The client is the only writer of the store. It hands the backend the remaining tasks, and
commits the rows it gets back in small batches (one transaction each), so a campaign killed at
any moment loses at most the rows of its last uncommitted batch, which ``resume=True`` runs
again. Every replicate's seed is a function of the campaign seed and the replicate index only
(:func:`~shorad.campaign.task.run_seed`), so a resumed or redistributed campaign produces the
same rows.

Backends
--------
:class:`SyncBackend`
    One task after another in this process, through Dask's synchronous scheduler (tests,
    debugging).
:class:`DaskBackend`
    A ``distributed.Client``: a local cluster (:func:`dask_client` without an address) or any
    running scheduler. Each point's spec is submitted once as a task (a copy lost with its
    worker is recomputed); run tasks are submitted through a bounded window and collected with
    ``as_completed``. Dask reschedules the tasks
    of a worker that dies; a task that keeps killing workers comes back as a failed row.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shorad._version import __version__
from shorad.campaign.store import ResultStore
from shorad.campaign.sweep import Point, Sweep, parse_sweep, resolve_points
from shorad.campaign.task import (
    RunTask,
    failed_row,
    provide_spec,
    run_seed,
    run_task,
    run_tasks,
)
from shorad.errors import ConfigError
from shorad.sim.spec import ScenarioSpec

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "Backend",
    "CampaignOutcome",
    "CampaignPlan",
    "DaskBackend",
    "Progress",
    "SyncBackend",
    "dask_client",
    "plan_campaign",
    "run_campaign",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CampaignPlan:
    """Everything a campaign will run, resolved and validated."""

    campaign_id: str
    scenario: str
    scenario_path: str | None
    scenario_hash: str
    seed: int
    sweeps: tuple[Sweep, ...]
    runs: int
    points: tuple[tuple[Point, ScenarioSpec], ...]

    @property
    def n_runs(self) -> int:
        """Runs requested in all: points x replicates."""
        return len(self.points) * self.runs

    def tasks(
        self, skip: Collection[tuple[int, int]] = (), events_dir: str | None = None
    ) -> list[RunTask]:
        """Remaining tasks, replicate-major (every point gets replicate r before r + 1)."""
        out = []
        for r in range(self.runs):
            seed = run_seed(self.seed, r)
            for pt, _ in self.points:
                if (pt.point_id, r) in skip:
                    continue
                out.append(
                    RunTask(self.campaign_id, pt.point_id, r, seed, pt.params_json, events_dir)
                )
        return out


def plan_campaign(
    scenario: str | Path | Mapping[str, Any],
    *,
    runs: int,
    sweeps: Sequence[str | Sweep] = (),
    seed: int | None = None,
    base_dir: Path | None = None,
) -> CampaignPlan:
    """Resolve and validate a campaign before anything runs.

    Parameters
    ----------
    scenario : path or mapping
        A scenario file, or a scenario mapping (as read from YAML).
    runs : int
        Replicates per sweep point (>= 1).
    sweeps : sequence of str or Sweep
        ``"KEY=V1,V2"`` strings (see :mod:`shorad.campaign.sweep`).
    seed : int, optional
        Campaign seed; defaults to the scenario's ``seed``.
    base_dir : Path, optional
        Folder for relative paths in a mapping (default: the file's folder, or the cwd).

    Raises
    ------
    ConfigError
        For a bad scenario, a bad sweep key or value, or a bad run count.
    """
    if runs < 1:
        raise ConfigError(f"--runs must be >= 1, got {runs}")
    if seed is not None and seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {seed}")
    sw = tuple(s if isinstance(s, Sweep) else parse_sweep(s) for s in sweeps)
    if isinstance(scenario, Mapping):
        data = copy.deepcopy(dict(scenario))
        path = None
        bdir = base_dir or Path.cwd()
        source = "<scenario>"
    else:
        from shorad.scenario.load import read_scenario_data

        p = Path(scenario)
        raw = read_scenario_data(p)
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: expected a mapping of scenario fields")
        data, path, bdir, source = raw, str(p), base_dir or p.parent, str(p)
    base, points = resolve_points(data, sw, base_dir=bdir, source=source)
    cseed = base.seed if seed is None else int(seed)
    ident = json.dumps(
        {
            "scenario_hash": base.scenario_hash,
            "sweeps": [[s.key, list(s.values)] for s in sw],
            "seed": cseed,
        },
        sort_keys=True,
        default=str,
    )
    cid = hashlib.sha256(ident.encode()).hexdigest()[:16]
    return CampaignPlan(cid, base.name, path, base.scenario_hash, cseed, sw, runs, tuple(points))


# ---------------------------------------------------------------------------------------
# backends


class Backend(Protocol):
    """Runs tasks and yields their rows in completion order (any order)."""

    def map(
        self, specs: Mapping[int, ScenarioSpec], tasks: Sequence[RunTask]
    ) -> Iterator[dict[str, Any]]:
        """Yield one row per task."""
        ...


class SyncBackend:
    """Tasks one by one in this process, via Dask's synchronous scheduler."""

    def map(
        self, specs: Mapping[int, ScenarioSpec], tasks: Sequence[RunTask]
    ) -> Iterator[dict[str, Any]]:
        """Yield one row per task, in task order."""
        from dask.delayed import delayed

        for t in tasks:
            job = delayed(run_task, pure=False)(specs[t.point_id], t)
            row: dict[str, Any] = job.compute(scheduler="synchronous")
            yield row


def chunk_tasks(tasks: Sequence[RunTask], size: int) -> list[tuple[RunTask, ...]]:
    """Group runs of the same sweep point into chunks of at most ``size``, in task order.

    A chunk is emitted when it fills (the order of the tasks is kept within and, as far as
    the grouping allows, between chunks); the partly filled chunks follow at the end.
    """
    if size <= 1:
        return [(t,) for t in tasks]
    open_: dict[int, list[RunTask]] = {}
    out: list[tuple[RunTask, ...]] = []
    for t in tasks:
        c = open_.setdefault(t.point_id, [])
        c.append(t)
        if len(c) == size:
            out.append(tuple(c))
            del open_[t.point_id]
    out.extend(tuple(c) for c in open_.values())
    return out


class DaskBackend:
    """Tasks on a ``distributed`` cluster.

    Parameters
    ----------
    client : distributed.Client
        Connected client.
    window : int, optional
        Tasks in flight at most (default: 4 per worker thread, at least 16), so the scheduler
        holds a bounded graph however large the campaign.
    runs_per_task : int, optional
        Runs of one sweep point per Dask task. Default: enough that the window holds about a
        quarter of the campaign, at most 8 (a demo run takes ~0.1 s with the compiled engine,
        so one run per task would spend a noticeable share of the client's and the
        scheduler's CPU on task bookkeeping); small campaigns keep one run per task. A task
        lost with its worker is run again whole; a run never fails its chunk (a failed run is
        a row).
    """

    def __init__(
        self, client: Client, window: int | None = None, runs_per_task: int | None = None
    ) -> None:
        if runs_per_task is not None and runs_per_task < 1:
            raise ConfigError(f"must be >= 1, got {runs_per_task!r}", field="runs_per_task")
        self.client = client
        self.window = window
        self.runs_per_task = runs_per_task

    def map(
        self, specs: Mapping[int, ScenarioSpec], tasks: Sequence[RunTask]
    ) -> Iterator[dict[str, Any]]:
        """Yield one row per task as tasks complete."""
        from distributed import as_completed

        client = self.client
        token = uuid.uuid4().hex[:8]
        spec_futs: dict[int, Any] = {}
        window = self.window or max(16, 4 * sum(client.nthreads().values()))
        size = self.runs_per_task or max(1, min(8, len(tasks) // (4 * window)))
        pending: dict[str, tuple[Any, tuple[RunTask, ...]]] = {}
        it = iter(chunk_tasks(tasks, size))
        ac = as_completed()

        def submit_next() -> None:
            chunk = next(it, None)
            if chunk is None:
                return
            t = chunk[0]
            if t.point_id not in spec_futs:
                # a task, not scatter(): a lost copy is recomputed, scattered data is not
                spec_futs[t.point_id] = client.submit(
                    provide_spec,
                    specs[t.point_id],
                    key=f"shorad-spec-{t.campaign_id}-p{t.point_id}-{token}",
                    pure=False,
                )
            first, last = chunk[0].replicate, chunk[-1].replicate
            runs = str(first) if first == last else f"{first}-{last}"  # chunks are disjoint
            key = f"shorad-run-{t.campaign_id}-p{t.point_id}-r{runs}-{token}"
            fut = client.submit(run_tasks, spec_futs[t.point_id], chunk, key=key, pure=False)
            pending[str(fut.key)] = (fut, chunk)
            ac.add(fut)

        try:
            for _ in range(window):
                submit_next()
            for fut in ac:
                _, chunk = pending.pop(str(fut.key))
                try:
                    rows: list[dict[str, Any]] = fut.result()
                except Exception as exc:  # worker lost, task killed workers, data lost
                    h = specs[chunk[0].point_id].scenario_hash
                    rows = [failed_row(t, h, f"{type(exc).__name__}: {exc}") for t in chunk]
                fut.release()
                submit_next()
                yield from rows
        finally:
            if pending:
                client.cancel([f for f, _ in pending.values()])
            for f in spec_futs.values():
                f.release()


_TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
_MMAP_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_"
_LOCAL_MALLOC_BYTES = 32 * 1024 * 1024


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A client on ``scheduler``, or on a new local cluster of ``workers`` processes.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://HOST:8786``).
    workers : int, optional
        Worker processes of the local cluster (one thread each; default: this machine's
        cores).
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise ConfigError(f"cannot reach Dask scheduler {scheduler!r}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise ConfigError(f"--workers must be >= 1, got {n}")
    import dask

    # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (memory returned to the OS
    # eagerly); a run allocates arrays at every radar scan and some MB of event columns, and
    # got ~10 % slower for it. Local workers trim at 32 MiB and take blocks below 32 MiB from
    # the heap rather than fresh mmaps (another ~7 %: 3x fewer page faults).
    env = {_TRIM_KEY: _LOCAL_MALLOC_BYTES, _MMAP_KEY: _LOCAL_MALLOC_BYTES}
    with dask.config.set(env):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port (8787 may be taken by another cluster)
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


# ---------------------------------------------------------------------------------------
# the campaign loop


@dataclass
class Progress:
    """Counts of a campaign in progress (rows committed to the store)."""

    total: int
    skipped: int
    ok: int = 0
    failed: int = 0
    started_s: float = field(default_factory=time.perf_counter)

    @property
    def done(self) -> int:
        """Rows committed by this session."""
        return self.ok + self.failed

    @property
    def rate(self) -> float:
        """Rows per second since start."""
        dt = time.perf_counter() - self.started_s
        return self.done / dt if dt > 0 else 0.0


@dataclass(frozen=True)
class CampaignOutcome:
    """What a call of :func:`run_campaign` did."""

    campaign_id: str
    requested: int
    skipped: int
    ok: int
    failed: int
    wall_s: float
    store: Path


def run_campaign(
    plan: CampaignPlan,
    store: str | Path,
    *,
    backend: Backend,
    resume: bool = False,
    retry_failed: bool = False,
    events: bool = False,
    on_row: Callable[[dict[str, Any], Progress], None] | None = None,
    batch_rows: int = 32,
    batch_s: float = 1.0,
) -> CampaignOutcome:
    """Run a planned campaign and write its rows to the store.

    Parameters
    ----------
    plan : CampaignPlan
        From :func:`plan_campaign`.
    store : str or Path
        DuckDB file (created if missing).
    backend : Backend
        :class:`SyncBackend` or :class:`DaskBackend`.
    resume : bool
        Skip rows already in the store. Without it, a store that already holds rows of this
        campaign is refused (nothing is overwritten).
    retry_failed : bool
        With ``resume``: delete the campaign's failed rows first, so they run again.
    events : bool
        Also write each run's event log to ``STORE.events/CAMPAIGN/pPPPPP_rRRRRRR.parquet``
        (workers must see that folder).
    on_row : callable, optional
        Called as ``on_row(row, progress)`` after each row is committed.
    batch_rows, batch_s : int, float
        A batch is committed when it holds ``batch_rows`` rows or its first row is
        ``batch_s`` old.
    """
    t0 = time.perf_counter()
    store = Path(store)
    with ResultStore(store) as st:
        cid = plan.campaign_id
        if not resume and st.count(cid) > 0:
            raise ConfigError(
                f"store {str(store)!r} already holds {st.count(cid)} rows of campaign {cid} "
                f"(same scenario, sweeps and seed); pass --resume to finish it"
            )
        st.register(
            campaign_id=cid,
            scenario=plan.scenario,
            scenario_path=plan.scenario_path,
            scenario_hash=plan.scenario_hash,
            seed=plan.seed,
            sweeps=[(s.key, s.values) for s in plan.sweeps],
            runs_requested=plan.runs,
            shorad_version=__version__,
            points=[(p.point_id, p.params_json, s.scenario_hash) for p, s in plan.points],
        )
        if resume and retry_failed:
            n = st.drop_failed(cid)
            log.info("campaign %s: %d failed rows will run again", cid, n)
        done = st.done_keys(cid) if resume else set()
        events_dir = str(store.with_name(store.name + ".events") / cid) if events else None
        tasks = plan.tasks(done, events_dir)
        prog = Progress(total=plan.n_runs, skipped=plan.n_runs - len(tasks))
        specs = {p.point_id: s for p, s in plan.points}
        pending: list[dict[str, Any]] = []
        first_t = 0.0

        def flush() -> None:
            if not pending:
                return
            st.insert_rows(pending)
            st.yield_to_readers()  # a `shorad results` waiting for the file reads now
            for r in pending:
                if r["status"] == "ok":
                    prog.ok += 1
                else:
                    prog.failed += 1
                if on_row is not None:
                    on_row(r, prog)
            pending.clear()

        rows: Iterable[dict[str, Any]] = backend.map(specs, tasks) if tasks else ()
        try:
            for row in rows:
                if not pending:
                    first_t = time.perf_counter()
                pending.append(row)
                if len(pending) >= batch_rows or time.perf_counter() - first_t >= batch_s:
                    flush()
        finally:
            flush()  # completed rows are kept even when the loop is interrupted
        return CampaignOutcome(
            cid, plan.n_runs, prog.skipped, prog.ok, prog.failed, time.perf_counter() - t0, store
        )
