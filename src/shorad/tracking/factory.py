"""The :class:`Tracker` protocol the simulation drives, and :func:`build_tracker`.

A tracker turns one scan's :class:`~shorad.sensors.base.Detections` (polar, possibly partial)
into the picture :class:`~shorad.tracking.base.Tracks`; the simulation calls
``initial`` once and ``step`` once per sensor scan, in time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shorad.errors import ConfigError
from shorad.sensors.base import Detections
from shorad.tracking.base import Tracks
from shorad.tracking.gnn import GnnTracker, TrackerConfig, TrackerStep

__all__ = ["TRACKER_METHODS", "Tracker", "build_tracker"]

TRACKER_METHODS = ("gnn", "jpda", "imm-gnn", "imm-jpda")
"""Tracker names a scenario may ask for (``tracker.method``)."""
_AVAILABLE = ("gnn",)
"""Names :func:`build_tracker` can build for the polar-radar simulation today."""


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

    Raises
    ------
    ConfigError
        If ``method`` is unknown, or known but not yet available for polar radar detections
        (JPDA and the IMM variants run on Cartesian benchmark files only, see ``shorad track``).
    """
    if method not in TRACKER_METHODS:
        raise ConfigError(
            f"must be one of {TRACKER_METHODS}, got {method!r}", field="tracker.method"
        )
    if method not in _AVAILABLE:
        raise ConfigError(
            f"{method!r} is not available yet in the simulation (polar radar detections); "
            f"available: {_AVAILABLE}",
            field="tracker.method",
        )
    return GnnTracker(config, class_speed_mps, class_speed_sigma_mps)
