"""Campaign logic on Dask's synchronous scheduler: rows, seeds, resume, failures, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import shorad.api
from shorad.api import run
from shorad.campaign import (
    CampaignPlan,
    ResultStore,
    SyncBackend,
    campaign_tables,
    run_campaign,
    run_seed,
)
from shorad.cli import app
from shorad.errors import ConfigError

from .conftest import RUNS, stable, store_rows


def test_seeds_are_deterministic_and_distinct() -> None:
    seeds = [run_seed(11, r) for r in range(100)]
    assert seeds == [run_seed(11, r) for r in range(100)]
    assert len(set(seeds)) == 100
    assert run_seed(12, 0) != run_seed(11, 0)
    assert all(0 <= s < 2**63 for s in seeds)


def test_rows_match_plain_run(
    small_plan: CampaignPlan, reference_rows: dict[tuple[int, int], dict[str, Any]]
) -> None:
    assert sorted(reference_rows) == [(p, r) for p in range(2) for r in range(RUNS)]
    specs = {p.point_id: s for p, s in small_plan.points}
    for (p, r), row in list(reference_rows.items())[:3]:
        assert row["seed"] == run_seed(11, r)
        assert json.loads(row["params"]) == {"raid[1].count": [2, 4][p]}
        summary = run(specs[p], row["seed"])
        assert row["leakers"] == summary.totals["leakers"]
        assert row["shots"] == summary.totals["shots"]
        assert row["threats"] == 4 + [2, 4][p]
        assert row["status"] == "ok"
        assert row["error"] is None
    # common random numbers: replicate r has the same seed at every point
    assert reference_rows[(0, 3)]["seed"] == reference_rows[(1, 3)]["seed"]


def test_resume_adds_only_missing_rows(
    small_plan: CampaignPlan,
    reference_rows: dict[tuple[int, int], dict[str, Any]],
    tmp_path: Path,
) -> None:
    store = tmp_path / "s.duckdb"
    import dataclasses

    short = dataclasses.replace(small_plan, runs=2)
    first = run_campaign(short, store, backend=SyncBackend())
    assert (first.ok, first.skipped) == (4, 0)
    with pytest.raises(ConfigError, match="pass --resume"):
        run_campaign(short, store, backend=SyncBackend())
    longer = dataclasses.replace(small_plan, runs=3)
    second = run_campaign(longer, store, backend=SyncBackend(), resume=True)
    assert (second.ok, second.skipped) == (2, 4)
    rows = store_rows(store, small_plan.campaign_id)
    assert len(rows) == 6
    for r in rows:
        assert stable(r) == reference_rows[(r["point_id"], r["replicate"])]


def test_failed_run_is_recorded_and_retried(
    small_plan: CampaignPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    plan = dataclasses.replace(small_plan, runs=2)
    bad_seed = run_seed(11, 1)
    real = shorad.api.run_full

    def flaky(spec: Any, seed: int | None = None) -> Any:
        if seed == bad_seed:
            raise RuntimeError("simulated failure")
        return real(spec, seed)

    monkeypatch.setattr(shorad.api, "run_full", flaky)
    store = tmp_path / "s.duckdb"
    out = run_campaign(plan, store, backend=SyncBackend())
    assert (out.ok, out.failed) == (2, 2)
    rows = store_rows(store, plan.campaign_id)
    failed = [r for r in rows if r["status"] == "failed"]
    assert [r["replicate"] for r in failed] == [1, 1]
    assert "RuntimeError: simulated failure" in failed[0]["error"]
    assert failed[0]["leakers"] is None
    # --resume keeps failed rows; --retry-failed runs them again
    again = run_campaign(plan, store, backend=SyncBackend(), resume=True)
    assert (again.ok, again.failed, again.skipped) == (0, 0, 4)
    monkeypatch.setattr(shorad.api, "run_full", real)
    fixed = run_campaign(plan, store, backend=SyncBackend(), resume=True, retry_failed=True)
    assert (fixed.ok, fixed.failed, fixed.skipped) == (2, 0, 2)
    assert all(r["status"] == "ok" for r in store_rows(store, plan.campaign_id))


def test_batch_is_atomic(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.duckdb") as st:
        good = {
            "campaign_id": "c",
            "point_id": 0,
            "replicate": 0,
            "seed": 1,
            "params": "{}",
            "scenario_hash": "h",
            "shorad_version": "0",
            "status": "ok",
        }
        st.insert_rows([good])
        bad = dict(good, replicate=1, status=None)  # NOT NULL violated
        with pytest.raises(Exception, match="NOT NULL"):
            st.insert_rows([dict(good, replicate=2), bad])
        assert st.done_keys("c") == {(0, 0)}  # the whole batch was rolled back
        st.insert_rows([dict(good, seed=99)])  # a duplicate key changes nothing
        assert st.rows("c")[0]["seed"] == 1


def test_results_tables_and_cli(
    small_plan: CampaignPlan, tmp_path: Path, reference_rows: dict[Any, Any]
) -> None:
    store = tmp_path / "s.duckdb"
    run_campaign(small_plan, store, backend=SyncBackend())
    with ResultStore(store, read_only=True) as st:
        tables = campaign_tables(st)
    assert tables.present == tables.requested == small_plan.n_runs
    assert [p.ok for p in tables.points] == [RUNS, RUNS]
    leak0 = [reference_rows[(0, r)]["leakers"] for r in range(RUNS)]
    assert tables.points[0].leakers.estimate == pytest.approx(sum(leak0) / RUNS)
    assert [lv.value for lv in tables.sensitivity] == [2, 4]
    assert tables.sensitivity[0].d_leakers is None
    d = tables.sensitivity[1].d_leakers
    assert d is not None
    assert d.lo <= d.estimate <= d.hi

    res = CliRunner().invoke(
        app,
        [
            "results",
            str(store),
            "--export",
            str(tmp_path / "runs.csv"),
            "--report",
            str(tmp_path / "rep"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Sensitivity" in res.output
    assert "(baseline)" in res.output
    lines = (tmp_path / "runs.csv").read_text().splitlines()
    assert len(lines) == 1 + small_plan.n_runs
    assert (tmp_path / "rep" / "campaign.html").stat().st_size > 1000
    assert (tmp_path / "rep" / "sweep_0.png").exists()
    res = CliRunner().invoke(app, ["results", str(tmp_path / "missing.duckdb")])
    assert res.exit_code == 2


def test_cli_campaign_rejects_bad_sweep_before_running(tmp_path: Path) -> None:
    import yaml

    from .conftest import small_data

    p = tmp_path / "small.yaml"
    p.write_text(yaml.safe_dump(small_data(), sort_keys=False), encoding="utf-8")
    res = CliRunner().invoke(
        app,
        ["campaign", str(p), "--runs", "2", "--sweep", "raid[0].count=3,zero", "--workers", "1"],
    )
    assert res.exit_code == 2
    assert "raid[0].count=zero" in res.output


def test_chunks_group_runs_of_a_point_in_order() -> None:
    from shorad.campaign.runner import chunk_tasks
    from shorad.campaign.task import RunTask

    tasks = [RunTask("c", p, r, 100 + r, "{}") for r in range(5) for p in (0, 1, 2)]
    for size in (1, 2, 3, 5, 8):
        chunks = chunk_tasks(tasks, size)
        flat = [t for c in chunks for t in c]
        assert sorted(flat, key=lambda t: (t.point_id, t.replicate)) == sorted(
            tasks, key=lambda t: (t.point_id, t.replicate)
        )  # every run exactly once
        assert all(len({t.point_id for t in c}) == 1 for c in chunks)  # one spec per task
        assert all(1 <= len(c) <= size for c in chunks)
        for c in chunks:  # replicates in order within a chunk
            assert [t.replicate for t in c] == sorted(t.replicate for t in c)
    assert len(chunk_tasks(tasks, 5)) == 3
    assert len(chunk_tasks(tasks, 2)) == 9  # 2 full chunks + 1 leftover per point


def _malloc_env() -> tuple[str | None, str | None]:
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("MALLOC_MMAP_THRESHOLD_")


def test_local_workers_keep_glibc_trimming_lazy() -> None:
    from shorad.campaign import dask_client
    from shorad.campaign.runner import _LOCAL_MALLOC_BYTES

    with dask_client(workers=1) as client:
        got = set(client.run(_malloc_env).values())
    assert got == {(str(_LOCAL_MALLOC_BYTES), str(_LOCAL_MALLOC_BYTES))}
