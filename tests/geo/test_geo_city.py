"""load_city / load_world / bundled_city_path: OSM and GeoJSON loading, heights, repairs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from shorad.errors import ConfigError
from shorad.geo import (
    DEFAULT_HEIGHT_M,
    HEIGHT_DEFAULT,
    HEIGHT_FROM_LEVELS,
    HEIGHT_FROM_TAG,
    EnuFrame,
    World,
    bundled_city_path,
    load_city,
    load_world,
)
from shorad.geo.city import parse_height_m

ORIGIN = (43.7384, 7.4246)


# -- bundled Monaco ------------------------------------------------------------------------
def test_monaco_counts(monaco: World) -> None:
    b, rep = monaco.buildings, monaco.height_report
    assert len(b) > 1000
    assert rep.n_buildings == len(b)
    assert rep.n_from_tag + rep.n_from_levels + rep.n_default == rep.n_buildings
    assert rep.n_from_tag == int(np.sum(b.height_source == HEIGHT_FROM_TAG))
    assert rep.n_from_levels == int(np.sum(b.height_source == HEIGHT_FROM_LEVELS))
    assert rep.n_default == int(np.sum(b.height_source == HEIGHT_DEFAULT))
    assert min(rep.n_from_tag, rep.n_from_levels, rep.n_default) > 0
    # nothing dropped silently: every rejection has a key and a reason
    assert rep.n_rejected == len(rep.rejected)
    assert all(": " in r for r in rep.rejected)
    assert np.all(b.height_m > 0)
    assert b.max_height_m <= 300.0
    assert all(p.is_valid and not p.is_empty for p in b.polygons)
    assert monaco.source == "bundled:monaco"


def test_monaco_landmarks(monaco: World) -> None:
    b = monaco.buildings
    i = b.index_of("way/25722685")
    assert b.name[i] == "Ministère d'État"
    assert 3.0 <= b.height_m[i] <= 60.0
    j = b.index_of("way/787995901")
    assert b.name[j] == "L'Engelin"
    assert b.height_m[j] == 60.0
    assert b.height_source[j] == HEIGHT_FROM_LEVELS
    k = b.index_of("relation/393226")
    assert b.name[k] == "Palais princier de Monaco"
    assert b.kind[k] == "castle"
    # the palace sits about 900 m south-west of the origin, on the Rock
    assert -1500.0 < b.centroid_m[k, 0] < 0.0
    assert -1500.0 < b.centroid_m[k, 1] < 0.0


def test_monaco_bbox_crop(monaco: World) -> None:
    box = (-300.0, -300.0, 300.0, 300.0)
    small, rep = load_city(bundled_city_path("monaco"), monaco.frame, bbox_m=box)
    assert 0 < len(small) < len(monaco.buildings)
    assert rep.n_outside_bbox == len(monaco.buildings) - len(small)
    crop = shapely.box(*box)
    assert all(p.intersects(crop) for p in small.polygons)


def test_default_and_level_heights_are_parameters(monaco: World) -> None:
    b, _ = load_city(
        bundled_city_path("monaco"), monaco.frame, default_height_m=12.0, level_height_m=3.5
    )
    j = b.index_of("way/787995901")
    assert_allclose(b.height_m[j], 70.0, rtol=1e-12)
    assert np.all(b.height_m[b.height_source == HEIGHT_DEFAULT] == 12.0)


def test_bundled_city_path_unknown() -> None:
    assert bundled_city_path("monaco").name == "monaco.osm.pbf"
    with pytest.raises(ConfigError, match="'monaco'"):
        bundled_city_path("atlantis")


def test_world_pickles(monaco: World) -> None:
    clone = pickle.loads(pickle.dumps(monaco))
    a = np.array([[0.0, 0.0, 300.0], [-500.0, -500.0, 2.0]])
    b = np.array([[100.0, 100.0, 0.5], [500.0, 500.0, 2.0]])
    np.testing.assert_array_equal(clone.los(a, b), monaco.los(a, b))
    assert clone.frame == monaco.frame
    assert clone.height_report == monaco.height_report
    assert_allclose(clone.ground_z_m(np.zeros((4, 2))), np.zeros(4), atol=0)


# -- GeoJSON -------------------------------------------------------------------------------
def _square(lon: float, lat: float, d: float = 1e-4) -> list[list[list[float]]]:
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def _feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


@pytest.fixture
def geojson_city(tmp_path: Path) -> Path:
    lon, lat = ORIGIN[1], ORIGIN[0]
    bowtie = [
        [[lon, lat + 0.001], [lon + 1e-4, lat + 0.0011], [lon + 1e-4, lat + 0.001],
         [lon, lat + 0.0011], [lon, lat + 0.001]]
    ]  # fmt: skip
    flat = [[[lon, lat], [lon + 1e-4, lat], [lon + 2e-4, lat], [lon, lat]]]
    outer = _square(lon + 0.002, lat, 3e-4)[0]
    hole = _square(lon + 0.0021, lat + 0.0001, 1e-4)[0]
    features = [
        _feature({"type": "Polygon", "coordinates": _square(lon, lat)},
                 **{"@id": "way/1", "height": "12 m", "name": "Tower A", "building": "office"}),
        _feature({"type": "Polygon", "coordinates": bowtie},
                 **{"@id": "way/2", "building:levels": "4"}),
        _feature({"type": "Polygon", "coordinates": []}, **{"@id": "way/3", "height": 5}),
        _feature({"type": "Polygon", "coordinates": flat}, **{"@id": "way/4"}),
        _feature({"type": "LineString", "coordinates": [[lon, lat], [lon, lat + 1e-4]]},
                 **{"@id": "way/5"}),
        _feature({"type": "MultiPolygon",
                  "coordinates": [_square(lon + 0.001, lat), _square(lon + 0.0012, lat, 2e-4)]},
                 **{"@id": "relation/6", "height": "7.5m", "name": "Twins"}),
        _feature({"type": "Polygon", "coordinates": _square(lon, lat - 0.001)},
                 **{"height": "tall", "building:levels": "3", "roof:levels": "1"}),
        _feature({"type": "Polygon", "coordinates": [outer, hole]}, building="yes"),
        _feature({"type": "Polygon", "coordinates": _square(lon - 0.001, lat)}, name="Plain"),
    ]  # fmt: skip
    features[-1]["id"] = 99
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_geojson_loading(geojson_city: Path) -> None:
    frame = EnuFrame(*ORIGIN)
    b, rep = load_city(geojson_city, frame)
    keys = list(b.osm_key)
    # bowtie -> 2 rows, multipolygon -> 2 rows, 4 other kept features
    assert len(b) == 8
    assert rep.n_buildings == 8
    assert rep.n_repaired == 1
    assert keys.count("way/2") == 2
    assert keys.count("relation/6") == 2
    assert rep.n_rejected == 3
    reasons = dict(r.split(": ", 1) for r in rep.rejected)
    assert "empty" in reasons["way/3"]
    assert "degenerate" in reasons["way/4"]
    assert "LineString" in reasons["way/5"]
    # heights and sources
    a = b.index_of("way/1")
    assert (b.height_m[a], b.height_source[a], b.name[a], b.kind[a]) == (
        12.0, HEIGHT_FROM_TAG, "Tower A", "office"
    )  # fmt: skip
    bt = np.flatnonzero(b.osm_key == "way/2")
    assert_allclose(b.height_m[bt], 12.0, rtol=0, atol=0)
    assert np.all(b.height_source[bt] == HEIGHT_FROM_LEVELS)
    tw = np.flatnonzero(b.osm_key == "relation/6")
    assert_allclose(b.height_m[tw], 7.5, rtol=0, atol=0)
    # largest part first, index_of gives it
    assert b.polygons[tw[0]].area > b.polygons[tw[1]].area
    assert b.index_of("relation/6") == tw[0]
    garbage = b.index_of("feature/6")  # no id: feature index
    assert (b.height_m[garbage], b.height_source[garbage]) == (12.0, HEIGHT_FROM_LEVELS)
    ring = b.index_of("feature/7")
    assert len(b.polygons[ring].interiors) == 1
    assert (b.height_m[ring], b.height_source[ring]) == (DEFAULT_HEIGHT_M, HEIGHT_DEFAULT)
    assert b.name[b.index_of("99")] == "Plain"
    assert all(p.is_valid for p in b.polygons)
    # the ~11 m square of way/1 sits at the origin
    assert_allclose(b.bbox_m[a, :2], [0.0, 0.0], rtol=0, atol=1e-6)
    assert_allclose(b.polygons[a].area, 8.04 * 11.12, rtol=0.01)
    # edges: every ring edge once, with its owner
    n_edges = sum(len(r.coords) - 1 for p in b.polygons for r in [p.exterior, *p.interiors])
    assert b.edge_a_m.shape == b.edge_b_m.shape == (n_edges, 2)
    assert np.all(np.diff(b.edge_building) >= 0)


def test_load_errors(tmp_path: Path, geojson_city: Path) -> None:
    frame = EnuFrame(*ORIGIN)
    with pytest.raises(ConfigError, match=r"city\.shp.*unknown suffix.*\.osm\.pbf"):
        load_city(tmp_path / "city.shp", frame)
    with pytest.raises(ConfigError, match=r"missing\.osm\.pbf.*not found.*GeoJSON"):
        load_city(tmp_path / "missing.osm.pbf", frame)
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.geojson"):
        load_city(bad, frame)
    bad.write_text(json.dumps({"type": "Polygon", "coordinates": []}))
    with pytest.raises(ConfigError, match="FeatureCollection"):
        load_city(bad, frame)
    with pytest.raises(ConfigError) as err:
        load_city(geojson_city, frame, default_height_m=-1.0)
    assert err.value.field == "default_height_m"
    with pytest.raises(ConfigError) as err:
        load_city(geojson_city, frame, bbox_m=(0.0, 0.0, -1.0, 1.0))
    assert err.value.field == "bbox_m"
    with pytest.raises(ConfigError):
        load_world("bundled:atlantis", *ORIGIN)


def test_load_world_from_path(geojson_city: Path) -> None:
    world = load_world(geojson_city, *ORIGIN, default_height_m=6.0)
    assert world.source == str(geojson_city)
    assert len(world.buildings) == 8
    ring = world.buildings.index_of("feature/7")
    assert world.buildings.height_m[ring] == 6.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12.0),
        ("12 m", 12.0),
        ("12.5m", 12.5),
        (" 12,5 ", 12.5),
        ("100 ft", 30.48),
        (17, 17.0),
        ("tall", None),
        ("12;15", None),
        ("-3", None),
        ("0", None),
        ("5000", None),
        (None, None),
    ],
)
def test_parse_height(value: Any, expected: float | None) -> None:
    got = parse_height_m(value)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert_allclose(got, expected, rtol=1e-12)


# --- issue 4: `shorad city info` ------------------------------------------------------


def test_describe_bundled_city() -> None:
    from shorad.geo import bundled_city_path
    from shorad.geo.info import describe_city

    info = describe_city(bundled_city_path("monaco"))
    assert info.n_buildings == info.n_from_tag + info.n_from_levels + info.n_default
    assert info.n_buildings > 1000
    assert info.n_rejected == len(info.rejected)
    assert info.height_max_m == pytest.approx(170.0)
    assert 1000.0 < info.extent_m[0] < 5000.0
    lon0, lat0, lon1, lat1 = info.lonlat_bounds_deg
    assert 7.3 < lon0 < lon1 < 7.5
    assert 43.6 < lat0 < lat1 < 43.8


def test_describe_city_malformed_files(tmp_path: Path) -> None:
    from shorad.geo.info import describe_city

    bad = tmp_path / "points.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
        ' "geometry": {"type": "Point", "coordinates": [7.4, 43.7]}}]}'
    )
    with pytest.raises(ConfigError, match=r"no building footprint.*unsupported geometry type"):
        describe_city(bad)
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read GeoJSON"):
        describe_city(junk)
    with pytest.raises(ConfigError, match="unknown suffix"):
        describe_city(tmp_path / "city.txt")
    with pytest.raises(ConfigError, match="not found"):
        describe_city(tmp_path / "missing.osm.pbf")
