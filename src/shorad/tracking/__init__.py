"""Tracking stage: detections in, tracks out.

:class:`GnnTracker` (global nearest neighbour association, EKF per track with the
nearly-constant-velocity model, M-of-N initiation in time, deletion) turns each sensor scan's
:class:`~shorad.sensors.base.Detections` into the picture :class:`~shorad.tracking.base.Tracks`;
:class:`PolarImmTracker` does the same with JPDA and/or an IMM (``tracker.method``), built by
:func:`~shorad.tracking.factory.build_tracker`.
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
from shorad.tracking.polar_imm import PolarImmTracker, PolarTrackerConfig

__all__ = [
    "CONFIRMED",
    "DELETED",
    "TENTATIVE",
    "GnnTracker",
    "PolarImmTracker",
    "PolarTrackerConfig",
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
