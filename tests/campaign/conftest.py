"""Shared campaign fixtures: one small plan and its reference rows (synchronous scheduler)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from shorad.campaign import CampaignPlan, ResultStore, SyncBackend, plan_campaign, run_campaign
from shorad.testing import SMALL_SCENARIO

VOLATILE = ("wall_s", "worker", "finished_at")
"""Row columns that legitimately differ between executions of the same run."""

RUNS = 6
SWEEPS = ("raid[1].count=2,4",)


def stable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without the columns that depend on where and when it ran."""
    return {k: v for k, v in row.items() if k not in VOLATILE}


def small_data() -> dict[str, Any]:
    """The small scenario, shortened so that a run takes ~0.1 s."""
    data = copy.deepcopy(SMALL_SCENARIO)
    data["duration_s"] = 200
    return data


@pytest.fixture(scope="session")
def small_plan() -> CampaignPlan:
    """2 sweep points x 6 replicates of the small scenario."""
    return plan_campaign(small_data(), runs=RUNS, sweeps=list(SWEEPS), seed=11)


@pytest.fixture(scope="session")
def reference_rows(
    small_plan: CampaignPlan, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[int, int], dict[str, Any]]:
    """Every row of ``small_plan``, computed in this process (Dask synchronous scheduler)."""
    store = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    out = run_campaign(small_plan, store, backend=SyncBackend())
    assert out.ok == small_plan.n_runs
    with ResultStore(store, read_only=True) as st:
        return {
            (r["point_id"], r["replicate"]): stable(r) for r in st.rows(small_plan.campaign_id)
        }


def store_rows(store: Path, campaign_id: str) -> list[dict[str, Any]]:
    """All rows of a campaign in a store file."""
    with ResultStore(store, read_only=True) as st:
        return st.rows(campaign_id)
