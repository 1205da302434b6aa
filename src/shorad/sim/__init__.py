"""Simulation: the clock that wires the stages and owns the only mutable state of a run."""

from shorad.sim.engine import SimResult, simulate
from shorad.sim.events import EventKind, EventLog, EventRecorder
from shorad.sim.spec import ScenarioSpec, Units

__all__ = [
    "EventKind",
    "EventLog",
    "EventRecorder",
    "ScenarioSpec",
    "SimResult",
    "Units",
    "simulate",
]
