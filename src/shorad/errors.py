"""Exception and warning types shared by every stage.

A message says what, where, expected versus got, with units, e.g.
``"units[2].sensor.max_range_m: must be > 0, got -50.0"``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GeometryError",
    "PluginError",
    "ShoradError",
    "ShoradWarning",
    "SimulationError",
]


class ShoradError(Exception):
    """Base class of every error raised by shorad."""


class ConfigError(ShoradError, ValueError):
    """Invalid user input: a scenario file, a preset, a CLI option.

    Parameters
    ----------
    message : str
        What is wrong, with expected and actual values.
    field : str, optional
        Dotted path of the offending field in the input (``raid[0].count``).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class GeometryError(ShoradError):
    """Invalid or unusable geometry (a polygon that cannot be repaired, a point off the map)."""


class SimulationError(ShoradError):
    """An inconsistency detected while a run is in progress."""


class PluginError(ShoradError):
    """A plugin could not be found or loaded."""


class ShoradWarning(UserWarning):
    """Warning about questionable but usable input; issue with ``stacklevel=2``."""
