"""Threats: classes, defended assets, raid plans and truth trajectories."""

from shorad.threats.base import Assets, RaidGroup, ThreatClass, ThreatPlan, Truth
from shorad.threats.raid import plan_raid, truth_at

__all__ = ["Assets", "RaidGroup", "ThreatClass", "ThreatPlan", "Truth", "plan_raid", "truth_at"]
