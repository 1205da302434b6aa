"""Build a sensor object from its configuration (radar, EO/IR or RF direction finder)."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from shorad.sensors.base import Sensor
from shorad.sensors.eoir import EoirConfig, EoirSensor
from shorad.sensors.radar import Radar, RadarConfig
from shorad.sensors.rf import RfConfig, RfSensor

__all__ = ["SensorConfig", "make_sensor"]

SensorConfig: TypeAlias = RadarConfig | EoirConfig | RfConfig
"""Any sensor type's configuration."""


def make_sensor(config: SensorConfig, sensor_id: int, pos_m: NDArray[np.float64]) -> Sensor:
    """The sensor of ``config``'s type at ``pos_m`` (ENU m), reporting as ``sensor_id``."""
    if isinstance(config, RadarConfig):
        return Radar(config, sensor_id, pos_m)
    if isinstance(config, EoirConfig):
        return EoirSensor(config, sensor_id, pos_m)
    if isinstance(config, RfConfig):
        return RfSensor(config, sensor_id, pos_m)
    raise TypeError(f"unknown sensor configuration {type(config).__name__}")
