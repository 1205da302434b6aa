"""Unit conversions used at the edges (scenario files, reports).

Inside shorad everything is SI: metres, seconds, radians, m/s, ENU about the site origin.
"""

from __future__ import annotations

import math

__all__ = [
    "G0_MPS2",
    "db_from_ratio",
    "deg",
    "km",
    "knots",
    "rad",
    "ratio_from_db",
]

G0_MPS2 = 9.80665
"""Standard gravity (m/s^2)."""


def rad(degrees: float) -> float:
    """Convert degrees to radians."""
    return math.radians(degrees)


def deg(radians: float) -> float:
    """Convert radians to degrees."""
    return math.degrees(radians)


def km(kilometres: float) -> float:
    """Convert kilometres to metres."""
    return kilometres * 1000.0


def knots(kn: float) -> float:
    """Convert knots to m/s."""
    return kn * 1852.0 / 3600.0


def db_from_ratio(ratio: float) -> float:
    """Power ratio to decibels."""
    return 10.0 * math.log10(ratio)


def ratio_from_db(value_db: float) -> float:
    """Decibels to power ratio."""
    return float(10.0 ** (value_db / 10.0))
