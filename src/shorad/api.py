"""The replicate as a pure function: ``run(spec, seed) -> RunSummary``."""

from __future__ import annotations

from shorad.analysis.summary import RunSummary, summarise
from shorad.sim import SimResult, simulate
from shorad.sim.spec import ScenarioSpec

__all__ = ["run", "run_full"]


def run(spec: ScenarioSpec, seed: int | None = None, *, engine: str = "auto") -> RunSummary:
    """Simulate one replicate and summarise it.

    Parameters
    ----------
    spec : ScenarioSpec
        From :func:`shorad.load_scenario`.
    seed : int, optional
        Defaults to the scenario file's seed.
    engine : {"auto", "compiled", "reference"}
        See :func:`shorad.sim.simulate`; ``auto`` picks the compiled engine when it supports
        the scenario (same events, several times faster).
    """
    return run_full(spec, seed, engine=engine)[0]


def run_full(
    spec: ScenarioSpec, seed: int | None = None, *, engine: str = "auto"
) -> tuple[RunSummary, SimResult]:
    """Like :func:`run`, also returning the raw result (plan and event log)."""
    s = spec.seed if seed is None else int(seed)
    result = simulate(spec, s, engine=engine)
    return summarise(spec, result), result
