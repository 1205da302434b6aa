"""The frozen, validated description of one scenario that a run consumes.

Built from a scenario file by :func:`shorad.scenario.load_scenario` (pydantic stays there);
plain dataclasses and arrays here, picklable, so the same spec can go to any worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from shorad.c2.base import Doctrine, Effectors
from shorad.geo import World
from shorad.sensors.factory import SensorConfig
from shorad.sensors.radar import RadarConfig
from shorad.threats.base import Assets, RaidGroup, ThreatClass
from shorad.tracking.gnn import TrackerConfig
from shorad.tracking.polar_imm import PolarTrackerConfig

__all__ = ["ScenarioSpec", "Units"]


@dataclass(frozen=True, slots=True)
class Units:
    """Air-defence units (one row per unit): a mount carrying a radar and/or effectors.

    Attributes
    ----------
    unit_id : tuple of str
    pos_m : (u, 3) float64
        Mount position (radar antenna and effector), ENU metres.
    building : (u,) int64
        Building the unit stands on, -1 for a free position.
    radar : tuple of RadarConfig or None
        Each unit's (first) radar, None for a unit without one.
    sensors : tuple of tuples of SensorConfig, optional
        Every sensor of each unit (radar, EO/IR, RF) in the scenario's order; empty (the
        default) means each unit carries just its ``radar``.
    """

    unit_id: tuple[str, ...]
    pos_m: NDArray[np.float64]
    building: NDArray[np.int64]
    radar: tuple[RadarConfig | None, ...]
    sensors: tuple[tuple[SensorConfig, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.unit_id)

    def sensors_of(self, u: int) -> tuple[SensorConfig, ...]:
        """Every sensor configuration of unit ``u``."""
        if self.sensors:
            return self.sensors[u]
        r = self.radar[u]
        return () if r is None else (r,)


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """Everything a run needs, in SI units and ENU metres.

    Attributes
    ----------
    name : str
    scenario_hash : str
        SHA-256 of the normalised scenario (and the city file), recorded with every result.
    seed : int
        Default seed of the scenario file.
    duration_s, time_step_s, c2_period_s : float
        Simulated duration, clock step, C2 cycle (a multiple of the step).
    world : World
    classes : tuple of ThreatClass
    assets : Assets
    units : Units
    effectors : Effectors
    raid : tuple of RaidGroup
    doctrine : Doctrine
    tracker : TrackerConfig
    polar_tracker : PolarTrackerConfig
        Extra settings of the JPDA and IMM trackers (``tracker.method`` other than ``gnn``).
    """

    name: str
    scenario_hash: str
    seed: int
    duration_s: float
    time_step_s: float
    c2_period_s: float
    world: World
    classes: tuple[ThreatClass, ...]
    assets: Assets
    units: Units
    effectors: Effectors
    raid: tuple[RaidGroup, ...]
    doctrine: Doctrine
    tracker: TrackerConfig
    polar_tracker: PolarTrackerConfig = field(default_factory=PolarTrackerConfig)

    @property
    def n_threats(self) -> int:
        """Number of threats in the raid."""
        return sum(g.count for g in self.raid)
