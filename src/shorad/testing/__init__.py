"""Factories for tests and examples: small scenarios on the bundled city."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["SMALL_SCENARIO", "small_scenario"]

SMALL_SCENARIO: dict[str, Any] = {
    "name": "small-test",
    "origin": {"lat_deg": 43.7320, "lon_deg": 7.4190},
    "duration_s": 400,
    "time_step_s": 0.5,
    "seed": 7,
    "city": {"source": "bundled:monaco", "crop_radius_m": 1500},
    "assets": [
        {"id": "ministry", "building": "way/25722685", "value": 100},
        {"id": "palace", "building": "relation/393226", "value": 80},
    ],
    "units": [
        {
            "id": "ministry-roof",
            "on": "way/25722685",
            "mast_m": 4,
            "sensor": "rooftop_radar",
            "effectors": ["rooftop_gun"],
        },
        {
            "id": "shangri-la",
            "on": "way/94399922",
            "mast_m": 3,
            "sensor": "rooftop_radar",
            "effectors": ["rooftop_gun", "vshorad_missile"],
        },
    ],
    "raid": [
        {
            "class": "loitering_munition",
            "count": 4,
            "launch_window_s": [0, 60],
            "bearing_deg": [160, 200],
            "distance_m": 4000,
            "target": "ministry",
        },
        {
            "class": "quadcopter",
            "count": 4,
            "launch_window_s": [0, 60],
            "bearing_deg": [340, 380],
            "distance_m": 2000,
            "target": "any",
        },
    ],
}


def small_scenario(**overrides: Any) -> dict[str, Any]:
    """A fresh, editable copy of :data:`SMALL_SCENARIO` with top-level ``overrides``."""
    data = copy.deepcopy(SMALL_SCENARIO)
    data.update(copy.deepcopy(overrides))
    return data
