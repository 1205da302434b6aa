"""Simulation: the clock that wires the stages and owns the only mutable state of a run."""

from shorad.sim.compiled import ENGINES, compiled_supports, simulate
from shorad.sim.engine import SimResult
from shorad.sim.events import EventKind, EventLog, EventRecorder
from shorad.sim.spec import ScenarioSpec, Units

__all__ = [
    "ENGINES",
    "EventKind",
    "EventLog",
    "EventRecorder",
    "ScenarioSpec",
    "SimResult",
    "Units",
    "compiled_supports",
    "simulate",
]
