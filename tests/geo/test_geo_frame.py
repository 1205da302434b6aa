"""EnuFrame: geodetic <-> ENU conversion."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from pyproj import Geod

from shorad.errors import ConfigError
from shorad.geo import EnuFrame

R_EARTH_M = 6_371_000.0
lat0s = st.floats(-89.0, 89.0)
lon0s = st.floats(-180.0, 180.0)


def test_origin_maps_to_zero() -> None:
    frame = EnuFrame(43.7384, 7.4246, 55.0)
    enu = frame.enu_from_geodetic(43.7384, 7.4246, 55.0)
    assert enu.shape == (1, 3)
    assert_allclose(enu, 0.0, rtol=0, atol=1e-9)


def test_one_km_north_and_east() -> None:
    lat0, lon0 = 43.7384, 7.4246
    frame = EnuFrame(lat0, lon0)
    geod = Geod(ellps="WGS84")
    lon_n, lat_n, _ = geod.fwd(lon0, lat0, 0.0, 1000.0)
    lon_e, lat_e, _ = geod.fwd(lon0, lat0, 90.0, 1000.0)
    enu = frame.enu_from_geodetic([lat_n, lat_e], [lon_n, lon_e], 0.0)
    # north: the ellipsoid drops d^2 / (2 M) = 0.0785 m below the tangent plane at 1 km
    assert_allclose(enu[0], [0.0, 1000.0, -0.0785], rtol=0, atol=1e-3)
    # east: a geodesic heading east bends south of the tangent plane's x axis
    assert_allclose(enu[1, 0], 1000.0, rtol=0, atol=1e-3)
    assert abs(enu[1, 1]) < 0.2
    assert_allclose(enu[1, 2], -(1000.0**2) / (2 * 6_388_000.0), rtol=0, atol=2e-3)


def test_up_is_up() -> None:
    frame = EnuFrame(-33.9, 151.2)
    assert_allclose(frame.enu_from_geodetic(-33.9, 151.2, 123.5), [[0, 0, 123.5]], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    lat0=lat0s,
    lon0=lon0s,
    h0=st.floats(-100.0, 3000.0),
    offsets=st.lists(
        st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3), st.floats(-500.0, 10_000.0)),
        min_size=1,
        max_size=8,
    ),
)
def test_geodetic_enu_round_trip(
    lat0: float, lon0: float, h0: float, offsets: list[tuple[float, float, float]]
) -> None:
    frame = EnuFrame(lat0, lon0, h0)
    off = np.array(offsets)
    lat = np.clip(lat0 + off[:, 0], -90.0, 90.0)
    lon = (lon0 + off[:, 1] + 180.0) % 360.0 - 180.0
    h = h0 + off[:, 2]
    enu = frame.enu_from_geodetic(lat, lon, h)
    lat2, lon2, h2 = frame.geodetic_from_enu(enu)
    # metre-equivalent differences
    dn = np.radians(lat2 - lat) * R_EARTH_M
    dlon = (lon2 - lon + 180.0) % 360.0 - 180.0
    de = np.radians(dlon) * R_EARTH_M * np.cos(np.radians(lat))
    assert_allclose(dn, 0.0, rtol=0, atol=1e-6)
    assert_allclose(de, 0.0, rtol=0, atol=1e-6)
    assert_allclose(h2, h, rtol=0, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    lat0=lat0s,
    lon0=lon0s,
    enu=st.lists(
        st.tuples(
            st.floats(-30_000, 30_000), st.floats(-30_000, 30_000), st.floats(-1000, 10_000)
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_enu_geodetic_round_trip(
    lat0: float, lon0: float, enu: list[tuple[float, float, float]]
) -> None:
    frame = EnuFrame(lat0, lon0)
    p = np.array(enu)
    back = frame.enu_from_geodetic(*frame.geodetic_from_enu(p))
    assert_allclose(back, p, rtol=0, atol=1e-6)


def test_scalar_and_single_point_shapes() -> None:
    frame = EnuFrame(10.0, 20.0)
    lat, lon, h = frame.geodetic_from_enu([100.0, 200.0, 30.0])
    assert lat.shape == lon.shape == h.shape == (1,)
    assert frame.enu_from_geodetic(lat[0], lon[0], h[0]).shape == (1, 3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lat0_deg": 90.5, "lon0_deg": 0.0}, "lat0_deg"),
        ({"lat0_deg": -91.0, "lon0_deg": 0.0}, "lat0_deg"),
        ({"lat0_deg": math.nan, "lon0_deg": 0.0}, "lat0_deg"),
        ({"lat0_deg": 0.0, "lon0_deg": 180.5}, "lon0_deg"),
        ({"lat0_deg": 0.0, "lon0_deg": 0.0, "h0_m": math.inf}, "h0_m"),
    ],
    ids=["lat-high", "lat-low", "lat-nan", "lon-high", "h-inf"],
)
def test_origin_validation(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        EnuFrame(**kwargs)
    assert err.value.field == field
    assert field in str(err.value)


def test_input_validation() -> None:
    frame = EnuFrame(0.0, 0.0)
    with pytest.raises(ConfigError, match="lat_deg"):
        frame.enu_from_geodetic([0.0, 95.0], 0.0, 0.0)
    with pytest.raises(ConfigError, match="lon_deg"):
        frame.enu_from_geodetic(0.0, -181.0, 0.0)
    with pytest.raises(ConfigError, match="enu_m"):
        frame.geodetic_from_enu(np.zeros((2, 2)))


def test_pickle_and_hash() -> None:
    frame = EnuFrame(43.7384, 7.4246, 10.0)
    expected = frame.enu_from_geodetic(43.75, 7.43, 20.0)
    clone = pickle.loads(pickle.dumps(frame))
    assert clone == frame
    assert hash(clone) == hash(frame)
    assert_allclose(clone.enu_from_geodetic(43.75, 7.43, 20.0), expected, rtol=0, atol=1e-12)
