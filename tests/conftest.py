"""Shared fixtures: a seeded rng and factories for small scenarios on the bundled city."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from shorad.testing import SMALL_SCENARIO


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
