"""C2: tracks + assets -> threat values -> assignments (C2 sees only tracks, never truth)."""

from shorad.c2.base import (
    Assignments,
    Doctrine,
    Effectors,
    EffectorState,
    EffectorType,
    ThreatAssessment,
)
from shorad.c2.greedy import (
    GreedyAssigner,
    engageable_pairs,
    expected_pk,
    over_no_fire_zone,
)
from shorad.c2.intercept import engagement_windows, intercept_time
from shorad.c2.threat_eval import evaluate_threats
from shorad.c2.wta_assigner import WtaAssigner

__all__ = [
    "Assignments",
    "Doctrine",
    "EffectorState",
    "EffectorType",
    "Effectors",
    "GreedyAssigner",
    "ThreatAssessment",
    "WtaAssigner",
    "engageable_pairs",
    "engagement_windows",
    "evaluate_threats",
    "expected_pk",
    "intercept_time",
    "over_no_fire_zone",
]
