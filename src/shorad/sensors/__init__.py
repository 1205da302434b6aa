"""Sensors: truth + world -> Detections (noisy, Pd < 1, clutter, occluded by buildings)."""

from shorad.sensors.base import (
    CLUTTER_ID,
    Detections,
    cartesian_from_polar,
    polar_from_cartesian,
)
from shorad.sensors.radar import (
    Radar,
    RadarConfig,
    detection_probability,
    snr_db,
    visible_from,
)

__all__ = [
    "CLUTTER_ID",
    "Detections",
    "Radar",
    "RadarConfig",
    "cartesian_from_polar",
    "detection_probability",
    "polar_from_cartesian",
    "snr_db",
    "visible_from",
]
