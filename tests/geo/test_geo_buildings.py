"""Buildings helpers: at, within, roof_point, find, index_of, construction checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose, assert_array_equal

from shorad.errors import ConfigError, GeometryError
from shorad.geo import Buildings, World


def test_at_and_roof_point(monaco: World, rng: np.random.Generator) -> None:
    b = monaco.buildings
    rows = rng.choice(len(b), 200, replace=False)
    roofs = np.array([b.roof_point(i, mast_m=2.5) for i in rows])
    assert_allclose(roofs[:, 2], b.height_m[rows] + 2.5, rtol=0, atol=1e-12)
    assert all(
        b.polygons[i].contains(shapely.Point(p[:2])) for i, p in zip(rows, roofs, strict=True)
    )
    found = b.at(roofs[:, :2])
    # a roof point is in its own footprint, or in a taller one overlapping it (building:part)
    same = found == rows
    assert same.mean() > 0.95
    assert np.all(b.height_m[found[~same]] >= b.height_m[rows[~same]])
    assert_array_equal(b.at(np.array([[1e6, 1e6], [-1e6, 0.0]])), [-1, -1])
    assert b.at([1e6, 1e6]).shape == (1,)


def test_at_overlap_prefers_tallest() -> None:
    base = shapely.box(0, 0, 20, 20)
    part = shapely.box(5, 5, 10, 10)
    b = Buildings.from_polygons([base, part], [10.0, 30.0])
    assert_array_equal(b.at([[7.0, 7.0], [15.0, 15.0], [20.0, 5.0]]), [1, 0, -1])


def test_within(monaco: World) -> None:
    b = monaco.buildings
    c = np.array([0.0, 0.0])
    hits = b.within(c, 150.0)
    dist = shapely.distance(np.asarray(b.polygons, dtype=object), shapely.Point(c))
    assert_array_equal(hits, np.flatnonzero(dist <= 150.0))
    assert hits.size > 5
    assert b.within(c, 0.0).size <= 1
    with pytest.raises(ConfigError) as err:
        b.within(c, -1.0)
    assert err.value.field == "radius_m"


def test_within_many_equals_within(monaco: World, rng: np.random.Generator) -> None:
    b = monaco.buildings
    centres = rng.uniform(-1500.0, 1500.0, (300, 2))
    radii = rng.uniform(0.0, 60.0, 300)
    radii[:5] = 0.0
    got = b.within_many(centres, radii)
    want = [b.within(c, float(r)) for c, r in zip(centres, radii, strict=True)]
    assert len(got) == 300
    for g, w in zip(got, want, strict=True):
        assert_array_equal(g, w)
    assert sum(w.size for w in want) > 100
    assert b.within_many(np.zeros((0, 2)), np.zeros(0)) == []
    with pytest.raises(ConfigError) as err:
        b.within_many(centres[:2], np.array([1.0, -1.0]))
    assert err.value.field == "radius_m"


def test_find(monaco: World) -> None:
    b = monaco.buildings
    assert b.find("way/787995901") == b.index_of("way/787995901")
    assert b.find("L'Engelin") == b.index_of("way/787995901")
    with pytest.raises(ConfigError, match=r"'L'Engelin'|\"L'Engelin\"") as err:
        b.find("L'Engellin")
    assert "close names" in str(err.value)
    with pytest.raises(ConfigError, match="no close names"):
        b.find("zzzzzzzzzzzzzzzz")
    with pytest.raises(ConfigError, match="way/1"):
        b.index_of("way/1")


def test_extent_and_max_height(monaco: World) -> None:
    b = monaco.buildings
    xmin, ymin, xmax, ymax = b.extent_m
    assert xmin < 0 < xmax
    assert ymin < 0 < ymax
    assert 1000.0 < xmax - xmin < 5000.0
    assert b.max_height_m == float(b.height_m.max())
    empty = Buildings.from_polygons([], [])
    assert len(empty) == 0
    assert empty.extent_m == (0.0, 0.0, 0.0, 0.0)
    assert empty.max_height_m == 0.0
    assert_array_equal(empty.at([[0.0, 0.0]]), [-1])
    assert empty.within([0.0, 0.0], 10.0).size == 0


def test_from_polygons_checks() -> None:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(GeometryError, match="building 0"):
        Buildings.from_polygons([bowtie], 5.0)
    with pytest.raises(GeometryError):
        Buildings.from_polygons([shapely.Polygon()], 5.0)
    with pytest.raises(ConfigError) as err:
        Buildings.from_polygons([shapely.box(0, 0, 1, 1)], 0.0)
    assert err.value.field == "height_m"
    with pytest.raises(ConfigError):
        Buildings.from_polygons([shapely.box(0, 0, 1, 1)], 1.0, name=["a", "b"])


def test_pickle_drops_caches(cube: Buildings) -> None:
    _ = cube.los_index
    _ = cube.at([[5.0, 5.0]])
    clone = pickle.loads(pickle.dumps(cube))
    assert_array_equal(clone.at([[5.0, 5.0]]), [0])
    assert_array_equal(clone.height_m, cube.height_m)
    assert clone.polygons[0].equals(cube.polygons[0])
