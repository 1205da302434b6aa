"""Rooftop siting: candidates, demand, coverage with line of sight, covering solvers, layouts."""

from shorad.plan.candidates import (
    Candidates,
    filter_candidates,
    read_candidates,
    roof_candidates,
)
from shorad.plan.coverage import (
    CoverProblem,
    SiteCoverage,
    UnitType,
    compute_coverage,
    cover_problem,
    covered_weight,
)
from shorad.plan.demand import Demand, approach_demand, raid_demand
from shorad.plan.solve import PlanSolution, reduce_problem, solve_exact, solve_fast, solve_plain

__all__ = [
    "Candidates",
    "CoverProblem",
    "Demand",
    "PlanSolution",
    "SiteCoverage",
    "UnitType",
    "approach_demand",
    "compute_coverage",
    "cover_problem",
    "covered_weight",
    "filter_candidates",
    "raid_demand",
    "read_candidates",
    "reduce_problem",
    "roof_candidates",
    "solve_exact",
    "solve_fast",
    "solve_plain",
]
