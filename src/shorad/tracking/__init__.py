"""Tracking stage: detections in, tracks out.

:class:`GnnTracker` (global nearest neighbour association, EKF per track with the
nearly-constant-velocity model, M-of-N initiation in time, deletion) turns each sensor scan's
:class:`~shorad.sensors.base.Detections` into the picture :class:`~shorad.tracking.base.Tracks`.
"""

from __future__ import annotations

from shorad.tracking.base import CONFIRMED, DELETED, TENTATIVE, Tracks
from shorad.tracking.gnn import (
    GnnTracker,
    TrackerConfig,
    TrackerStep,
    classify_by_speed,
    gate_distances,
)
from shorad.tracking.kalman import (
    cartesian_jacobian,
    initiate,
    innovation,
    ncv_process_noise,
    ncv_transition,
    polar_measurement,
    predict,
    update,
    wrap_angle,
)

__all__ = [
    "CONFIRMED",
    "DELETED",
    "TENTATIVE",
    "GnnTracker",
    "TrackerConfig",
    "TrackerStep",
    "Tracks",
    "cartesian_jacobian",
    "classify_by_speed",
    "gate_distances",
    "initiate",
    "innovation",
    "ncv_process_noise",
    "ncv_transition",
    "polar_measurement",
    "predict",
    "update",
    "wrap_angle",
]
