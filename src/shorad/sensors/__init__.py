"""Sensors: truth + world -> Detections (noisy, Pd < 1, clutter, occluded by buildings)."""

from shorad.sensors.base import (
    AZ,
    CLUTTER_ID,
    EL,
    N_MEAS,
    RANGE,
    RANGE_RATE,
    Detections,
    Sensor,
    Targets,
    cartesian_from_polar,
    polar_from_cartesian,
    visible_from,
    with_unmeasured,
    wrap_2pi,
)
from shorad.sensors.coverage import Coverage, analyse_coverage, grid_axes, sensor_pd
from shorad.sensors.eoir import (
    CUEING_MODES,
    EoirConfig,
    EoirSensor,
    cued_pointing,
    eoir_detection_probability,
)
from shorad.sensors.factory import SensorConfig, make_sensor
from shorad.sensors.radar import (
    Radar,
    RadarConfig,
    detection_probability,
    expected_false_alarms,
    horizon_loss_db,
    snr_db,
)
from shorad.sensors.rf import RfConfig, RfSensor

__all__ = [
    "AZ",
    "CLUTTER_ID",
    "CUEING_MODES",
    "EL",
    "N_MEAS",
    "RANGE",
    "RANGE_RATE",
    "Coverage",
    "Detections",
    "EoirConfig",
    "EoirSensor",
    "Radar",
    "RadarConfig",
    "RfConfig",
    "RfSensor",
    "Sensor",
    "SensorConfig",
    "Targets",
    "analyse_coverage",
    "cartesian_from_polar",
    "cued_pointing",
    "detection_probability",
    "eoir_detection_probability",
    "expected_false_alarms",
    "grid_axes",
    "horizon_loss_db",
    "make_sensor",
    "polar_from_cartesian",
    "sensor_pd",
    "snr_db",
    "visible_from",
    "with_unmeasured",
    "wrap_2pi",
]
