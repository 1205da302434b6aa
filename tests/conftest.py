"""Shared fixtures: a seeded rng and factories for small scenarios on the bundled city."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

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


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator for tests."""
    return np.random.default_rng(12345)


@pytest.fixture
def small_scenario() -> dict[str, Any]:
    """A fresh, editable copy of the small scenario mapping."""
    return copy.deepcopy(SMALL_SCENARIO)


@pytest.fixture(scope="session")
def small_spec() -> Any:
    """The small scenario, loaded once."""
    from shorad.scenario import parse_scenario

    return parse_scenario(copy.deepcopy(SMALL_SCENARIO))


@pytest.fixture(scope="session")
def demo_spec() -> Any:
    """The bundled demo scenario, loaded once."""
    from shorad.scenario import demo_scenario_path, load_scenario

    return load_scenario(demo_scenario_path())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current code (review the diff before committing)",
    )
