"""The :class:`Tracker` protocol the simulation drives, and :func:`build_tracker`.

A tracker turns one scan's :class:`~shorad.sensors.base.Detections` (polar, possibly partial)
into the picture :class:`~shorad.tracking.base.Tracks`; the simulation calls
``initial`` once and ``step`` once per sensor scan, in time order.

``gnn`` is :class:`~shorad.tracking.gnn.GnnTracker`; ``jpda``, ``imm-gnn`` and ``imm-jpda`` are
:class:`~shorad.tracking.polar_imm.PolarImmTracker`, whose extra settings (detection
probability, IMM noise levels and sojourn times) are a
:class:`~shorad.tracking.polar_imm.PolarTrackerConfig` (defaults unless given).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shorad.errors import ConfigError
from shorad.sensors.base import Detections
from shorad.tracking.base import Tracks
from shorad.tracking.gnn import GnnTracker, TrackerConfig, TrackerStep
from shorad.tracking.polar_imm import PolarImmTracker, PolarTrackerConfig

__all__ = ["TRACKER_METHODS", "PolarTrackerConfig", "Tracker", "build_tracker"]

TRACKER_METHODS = ("gnn", "jpda", "imm-gnn", "imm-jpda")
"""Tracker names a scenario may ask for (``tracker.method``); all run in the simulation."""


class Tracker(Protocol):
    """What the simulation needs of a tracker."""

    def initial(self, t_s: float = 0.0) -> Tracks:
        """An empty picture at ``t_s`` (s)."""
        ...

    def step(self, tracks: Tracks, dets: Detections, t_s: float) -> TrackerStep:
        """Process one scan taken at ``t_s`` (s)."""
        ...


def build_tracker(
    method: str,
    config: TrackerConfig,
    class_speed_mps: Sequence[float],
    class_speed_sigma_mps: Sequence[float],
    polar: PolarTrackerConfig | None = None,
) -> Tracker:
    """The tracker named ``method``, configured.

    Parameters
    ----------
    method : str
        One of :data:`TRACKER_METHODS`.
    config : TrackerConfig
        Filter, gate and management settings.
    class_speed_mps, class_speed_sigma_mps : sequence of float
        Typical speed and its spread (m/s) of each threat class, in the scenario's class order.
    polar : PolarTrackerConfig, optional
        Settings of ``jpda`` / ``imm-gnn`` / ``imm-jpda`` beyond ``config`` (defaults if
        omitted); ignored by ``gnn``.

    Raises
    ------
    ConfigError
        If ``method`` is unknown or the class speeds are invalid.
    """
    if method not in TRACKER_METHODS:
        raise ConfigError(
            f"must be one of {TRACKER_METHODS}, got {method!r}", field="tracker.method"
        )
    if method == "gnn":
        return GnnTracker(config, class_speed_mps, class_speed_sigma_mps)
    return PolarImmTracker(method, config, class_speed_mps, class_speed_sigma_mps, polar)
