"""Sensors: truth + world -> Detections (noisy, Pd < 1, clutter, occluded by buildings)."""

from shorad.sensors.base import (
    AZ,
    CLUTTER_ID,
    EL,
    N_MEAS,
    RANGE,
    RANGE_RATE,
    Detections,
    cartesian_from_polar,
    polar_from_cartesian,
    with_unmeasured,
    wrap_2pi,
)
from shorad.sensors.radar import (
    Radar,
    RadarConfig,
    detection_probability,
    expected_false_alarms,
    horizon_loss_db,
    snr_db,
    visible_from,
)

__all__ = [
    "AZ",
    "CLUTTER_ID",
    "EL",
    "N_MEAS",
    "RANGE",
    "RANGE_RATE",
    "Detections",
    "Radar",
    "RadarConfig",
    "cartesian_from_polar",
    "detection_probability",
    "expected_false_alarms",
    "horizon_loss_db",
    "polar_from_cartesian",
    "snr_db",
    "visible_from",
    "with_unmeasured",
    "wrap_2pi",
]
