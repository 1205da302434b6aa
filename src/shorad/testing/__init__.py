"""Factories for tests and examples: small scenarios on the bundled city."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import shapely

from shorad.geo import Buildings, EnuFrame, HeightReport, World

__all__ = ["SMALL_SCENARIO", "prism_world", "small_scenario"]

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


def prism_world(polygons: Sequence[shapely.Polygon] = (), height_m: float = 50.0) -> World:
    """A synthetic world: the given footprints (local ENU metres) as prisms ``height_m`` tall.

    Flat ground, frame origin at Monaco; no footprint gives an empty city.
    """
    return World(
        frame=EnuFrame(43.7384, 7.4246),
        buildings=Buildings.from_polygons(list(polygons), [height_m] * len(polygons)),
        source="test",
        height_report=HeightReport(0, 0, 0, 0, 0, 0),
    )
