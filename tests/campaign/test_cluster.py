"""A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Kill a worker mid-campaign, kill the client mid-campaign and resume: every requested run is
present exactly once, and every row equals the one computed in-process for the same seed.
Triggers are row counts, never sleeps; every wait has a generous timeout; every process is
killed in the fixture's finaliser.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shorad.campaign import CampaignPlan, DaskBackend, Progress, dask_client, run_campaign
from shorad.campaign.task import warm_up

from .conftest import stable, store_rows

SRC = Path(__file__).resolve().parents[2] / "src"
START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    return env


class Cluster:
    """A scheduler and its worker processes, started as subprocesses."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._spawn(
            [
                *_dask_cmd(),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-dashboard",
            ],
            "scheduler",
        )

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        p = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
        )
        log.close()
        self.procs.append(p)
        return p

    def ensure_workers(self, n: int) -> None:
        """Start workers until ``n`` are alive and registered, each warmed up."""
        alive = [w for w in self.workers if w.poll() is None]
        for _ in range(n - len(alive)):
            w = self._spawn(
                [
                    *_dask_cmd(),
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--memory-limit",
                    "0",
                    "--death-timeout",
                    "60",
                ],
                "worker",
            )
            alive.append(w)
        self.workers = alive
        from distributed import Client

        with Client(self.address, timeout=f"{START_TIMEOUT_S}s") as c:
            c.wait_for_workers(n, timeout=START_TIMEOUT_S)
            c.run(warm_up)

    def worker_pids(self) -> set[int]:
        return {w.pid for w in self.workers if w.poll() is None}

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        for w in self.workers:
            if w.pid == pid:
                w.wait(timeout=30)

    def close(self) -> None:
        for p in reversed(self.procs):  # workers first, then the scheduler
            if p.poll() is None:
                p.kill()
        deadline = time.monotonic() + 15
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.ensure_workers(2)
        yield c
    finally:
        c.close()


def _check_complete(
    store: Path, plan: CampaignPlan, reference: dict[tuple[int, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = store_rows(store, plan.campaign_id)
    keys = [(r["point_id"], r["replicate"]) for r in rows]
    assert len(keys) == len(set(keys)) == plan.n_runs  # every run, exactly once
    assert set(keys) == set(reference)
    for r in rows:
        assert r["status"] == "ok", r["error"]
        # the same seed gives the same row, whichever worker ran it
        assert stable(r) == reference[(r["point_id"], r["replicate"])]
    return rows


def test_worker_killed_mid_campaign(
    cluster: Cluster,
    small_plan: CampaignPlan,
    reference_rows: dict[tuple[int, int], dict[str, Any]],
    tmp_path: Path,
) -> None:
    cluster.ensure_workers(2)
    pids = cluster.worker_pids()
    killed: list[int] = []

    def on_row(row: dict[str, Any], prog: Progress) -> None:
        if not killed and prog.done >= 3:
            pid = int(str(row["worker"]).rsplit(":", 1)[1])
            assert pid in pids
            cluster.kill(pid)  # the worker that just delivered, so it is busy with the next
            killed.append(pid)

    store = tmp_path / "s.duckdb"
    with dask_client(cluster.address) as client:
        # two runs per Dask task: a chunk lost with its worker runs again whole
        out = run_campaign(
            small_plan,
            store,
            backend=DaskBackend(client, runs_per_task=2),
            on_row=on_row,
            batch_rows=1,
        )
    assert killed, "the campaign finished before the worker could be killed"
    assert out.ok == small_plan.n_runs
    rows = _check_complete(store, small_plan, reference_rows)
    workers = {int(str(r["worker"]).rsplit(":", 1)[1]) for r in rows}
    assert killed[0] in workers
    assert len(workers) == 2  # the survivor finished the rest


CLIENT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from campaign.conftest import RUNS, SWEEPS, small_data
    from shorad.campaign import DaskBackend, dask_client, plan_campaign, run_campaign

    plan = plan_campaign(small_data(), runs=RUNS, sweeps=list(SWEEPS), seed=11)

    def on_row(row, prog):
        if prog.done >= {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)  # the client dies between two commits

    with dask_client(sys.argv[1]) as client:
        run_campaign(plan, sys.argv[2], backend=DaskBackend(client), on_row=on_row,
                     batch_rows=1)
    """
)


def test_client_killed_and_resumed(
    cluster: Cluster,
    small_plan: CampaignPlan,
    reference_rows: dict[tuple[int, int], dict[str, Any]],
    tmp_path: Path,
) -> None:
    cluster.ensure_workers(2)
    store = tmp_path / "s.duckdb"
    script = tmp_path / "client.py"
    tests_dir = str(Path(__file__).resolve().parents[1])
    script.write_text(CLIENT.format(tests=tests_dir, kill_after=4), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), cluster.address, str(store)],
        env=_env(),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    partial = store_rows(store, small_plan.campaign_id)
    assert 4 <= len(partial) < small_plan.n_runs
    with dask_client(cluster.address) as client:
        out = run_campaign(small_plan, store, backend=DaskBackend(client), resume=True)
    assert out.skipped == len(partial)
    assert out.ok == small_plan.n_runs - len(partial)
    _check_complete(store, small_plan, reference_rows)
