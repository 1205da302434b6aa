"""Factory fixtures for the geo tests: small hand-made cities and the bundled Monaco."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray

from shorad.geo import Buildings, World, load_world

MONACO_ORIGIN_DEG = (43.7384, 7.4246)
"""Site origin used for Monaco in these tests (lat, lon)."""


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded generator."""
    return np.random.default_rng(20240601)


@pytest.fixture(scope="session")
def monaco() -> World:
    """The bundled Monaco city about :data:`MONACO_ORIGIN_DEG`."""
    return load_world("bundled:monaco", *MONACO_ORIGIN_DEG)


@pytest.fixture
def cube() -> Buildings:
    """One 10 m x 10 m x 10 m building on [0, 10] x [0, 10]."""
    return Buildings.from_polygons([shapely.box(0.0, 0.0, 10.0, 10.0)], 10.0)


@pytest.fixture
def l_shape() -> Buildings:
    """A concave L-shaped building (20 m arms, 10 m wide, 10 m tall); its notch is x, y > 10."""
    poly = shapely.Polygon([(0, 0), (20, 0), (20, 10), (10, 10), (10, 20), (0, 20)])
    return Buildings.from_polygons([poly], 10.0)


@pytest.fixture
def courtyard() -> Buildings:
    """A 30 m square block, 10 m tall, around an open 10 m courtyard [10, 20] x [10, 20]."""
    poly = shapely.Polygon(
        [(0, 0), (30, 0), (30, 30), (0, 30)], holes=[[(10, 10), (10, 20), (20, 20), (20, 10)]]
    )
    return Buildings.from_polygons([poly], 10.0)


def _monaco_segments(
    buildings: Buildings, rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A mix of segment families over the city, ``n`` in all (shuffled)."""
    x0, y0, x1, y1 = buildings.extent_m
    per = n // 6
    parts_a, parts_b = [], []

    def roofs(m: int, mast_m: float) -> NDArray[np.float64]:
        k = rng.integers(0, len(buildings), m)
        return np.array([buildings.roof_point(i, mast_m) for i in k])

    def uniform(m: int, zlo: float, zhi: float) -> NDArray[np.float64]:
        return np.column_stack(
            [rng.uniform(x0, x1, m), rng.uniform(y0, y1, m), rng.uniform(zlo, zhi, m)]
        )

    # rooftop sensors (mast 2 m) to points 50-500 m above the district
    parts_a.append(roofs(per, 2.0))
    parts_b.append(uniform(per, 50.0, 500.0))
    # sensors exactly at roof height to low points
    parts_a.append(roofs(per, 0.0))
    parts_b.append(uniform(per, 0.0, 40.0))
    # short low segments (up to 300 m)
    a = uniform(per, 0.0, 60.0)
    step = rng.normal(size=(per, 3)) * np.array([120.0, 120.0, 20.0])
    parts_a.append(a)
    parts_b.append(a + step)
    # long low segments across the city
    parts_a.append(uniform(per, 0.0, 200.0))
    parts_b.append(uniform(per, 0.0, 200.0))
    # vertical segments
    a = uniform(per, 0.0, 100.0)
    b = a.copy()
    b[:, 2] = rng.uniform(0.0, 100.0, per)
    parts_a.append(a)
    parts_b.append(b)
    # roof point to roof point (mast 0.5 m)
    m = n - 5 * per
    parts_a.append(roofs(m, 0.5))
    parts_b.append(roofs(m, 0.5))
    a, b = np.vstack(parts_a), np.vstack(parts_b)
    order = rng.permutation(n)
    return a[order], b[order]


@pytest.fixture(scope="session")
def monaco_segments(monaco: World) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """20,000 mixed random segments over Monaco (fixed seed)."""
    return _monaco_segments(monaco.buildings, np.random.default_rng(7), 20_000)


@pytest.fixture
def make_segments() -> Callable[..., tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Factory: ``make_segments(buildings, rng, n)`` -> mixed random segments ``(a, b)``."""
    return _monaco_segments
