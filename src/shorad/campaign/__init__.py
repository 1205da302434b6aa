"""Campaigns: many seeded runs over parameter sweeps, on Dask, into a DuckDB results store.

``plan_campaign`` resolves and validates every sweep point before anything runs;
``run_campaign`` runs the remaining replicates on a backend and commits rows as they arrive;
``campaign_tables`` turns a stored campaign into statistics with confidence intervals.
"""

from shorad.campaign.results import CampaignTables, campaign_tables
from shorad.campaign.runner import (
    CampaignOutcome,
    CampaignPlan,
    DaskBackend,
    Progress,
    SyncBackend,
    dask_client,
    plan_campaign,
    run_campaign,
)
from shorad.campaign.store import ResultStore
from shorad.campaign.sweep import Point, Sweep, expand_points, parse_sweep
from shorad.campaign.task import RunTask, run_seed, run_task

__all__ = [
    "CampaignOutcome",
    "CampaignPlan",
    "CampaignTables",
    "DaskBackend",
    "Point",
    "Progress",
    "ResultStore",
    "RunTask",
    "Sweep",
    "SyncBackend",
    "campaign_tables",
    "dask_client",
    "expand_points",
    "parse_sweep",
    "plan_campaign",
    "run_campaign",
    "run_seed",
    "run_task",
]
