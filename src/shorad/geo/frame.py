"""Local East-North-Up (ENU) frame about a site origin, and geodetic <-> ENU conversion.

The frame is the topocentric frame of PROJ (``+proj=topocentric``) on the WGS84 ellipsoid: the
origin is the geodetic point ``(lat0_deg, lon0_deg, h0_m)``, x points east, y north and z along
the ellipsoid normal (up). Heights ``h_m`` are ellipsoidal heights (metres above the WGS84
ellipsoid), not heights above mean sea level.

The plane z = 0 is tangent to the ellipsoid at the origin, so the ellipsoid surface drops below
it by about d^2 / (2 R) away from the origin (0.08 m at 1 km, 7.8 m at 10 km). ``shorad.geo``
treats the ground as the flat plane z = 0 about the site (see :mod:`shorad.geo.world`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from shorad.errors import ConfigError

__all__ = ["EnuFrame"]


@lru_cache(maxsize=64)
def _transformer(lat0_deg: float, lon0_deg: float, h0_m: float) -> Transformer:
    """Return the (cached) PROJ pipeline geodetic (lon, lat, h) -> topocentric ENU."""
    pipeline = (
        "+proj=pipeline +step +proj=cart +ellps=WGS84 "
        f"+step +proj=topocentric +ellps=WGS84 +lat_0={lat0_deg!r} +lon_0={lon0_deg!r} "
        f"+h_0={h0_m!r}"
    )
    return Transformer.from_pipeline(pipeline)


_WGS84_A_M = 6378137.0
_WGS84_E2 = 6.69437999014e-3  # first eccentricity squared, f = 1 / 298.257223563


def _rotation(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """ECEF -> local ENU rotation matrices, shape (..., 3, 3), rows = east, north, up."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros_like(lat)
    return np.stack(
        [
            np.stack([-so, co, zero], axis=-1),
            np.stack([-sl * co, -sl * so, cl], axis=-1),
            np.stack([cl * co, cl * so, sl], axis=-1),
        ],
        axis=-2,
    )


def _check_range(name: str, values: NDArray[np.float64], lo: float, hi: float) -> None:
    """Raise :class:`ConfigError` naming ``name`` unless every value lies in ``[lo, hi]``."""
    bad = ~((values >= lo) & (values <= hi))  # also catches NaN
    if np.any(bad):
        got = values[bad].flat[0]
        raise ConfigError(f"must lie in [{lo:g}, {hi:g}] degrees, got {got!r}", field=name)


@dataclass(frozen=True, slots=True)
class EnuFrame:
    """A local ENU frame (x east, y north, z up; metres) about a geodetic origin on WGS84.

    Parameters
    ----------
    lat0_deg : float
        Geodetic latitude of the origin (degrees, in [-90, 90]).
    lon0_deg : float
        Longitude of the origin (degrees, in [-180, 180]).
    h0_m : float, default 0.0
        Ellipsoidal height of the origin (metres above WGS84).

    Notes
    -----
    The PROJ transformer is built on first use and cached per origin at module level (it is
    not stored on the instance), so an ``EnuFrame`` is hashable, cheap to pickle and can be
    sent to other processes.

    Examples
    --------
    >>> frame = EnuFrame(43.7384, 7.4246)
    >>> frame.enu_from_geodetic(43.7384, 7.4246, 0.0)
    array([[0., 0., 0.]])
    """

    lat0_deg: float
    lon0_deg: float
    h0_m: float = 0.0

    def __post_init__(self) -> None:
        for name in ("lat0_deg", "lon0_deg", "h0_m"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise ConfigError(f"must be a number, got {value!r}", field=name)
            object.__setattr__(self, name, float(value))
        if not -90.0 <= self.lat0_deg <= 90.0:
            raise ConfigError(
                f"must lie in [-90, 90] degrees, got {self.lat0_deg!r}", field="lat0_deg"
            )
        if not -180.0 <= self.lon0_deg <= 180.0:
            raise ConfigError(
                f"must lie in [-180, 180] degrees, got {self.lon0_deg!r}", field="lon0_deg"
            )
        if not math.isfinite(self.h0_m):
            raise ConfigError(f"must be finite, got {self.h0_m!r}", field="h0_m")

    def enu_from_geodetic(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike = 0.0
    ) -> NDArray[np.float64]:
        """Convert geodetic coordinates to ENU metres about the origin.

        Parameters
        ----------
        lat_deg : (n,) float64 or scalar
            Geodetic latitude (degrees, in [-90, 90]).
        lon_deg : (n,) float64 or scalar
            Longitude (degrees, in [-180, 180]).
        h_m : (n,) float64 or scalar, default 0.0
            Ellipsoidal height (metres above WGS84).

        Returns
        -------
        (n, 3) float64
            ``[x_east_m, y_north_m, z_up_m]``; the three inputs are broadcast together and
            flattened, so scalars give shape ``(1, 3)``.

        Raises
        ------
        ConfigError
            If a latitude or longitude is out of range (``field`` names the argument) or a
            height is not finite.
        """
        lat, lon, h = np.broadcast_arrays(
            np.asarray(lat_deg, dtype=np.float64),
            np.asarray(lon_deg, dtype=np.float64),
            np.asarray(h_m, dtype=np.float64),
        )
        lat, lon, h = lat.ravel(), lon.ravel(), h.ravel()
        _check_range("lat_deg", lat, -90.0, 90.0)
        _check_range("lon_deg", lon, -180.0, 180.0)
        if not np.all(np.isfinite(h)):
            raise ConfigError("must be finite", field="h_m")
        x, y, z = _transformer(self.lat0_deg, self.lon0_deg, self.h0_m).transform(lon, lat, h)
        return np.column_stack(
            [np.asarray(x, np.float64), np.asarray(y, np.float64), np.asarray(z, np.float64)]
        ).reshape(-1, 3)

    def geodetic_from_enu(
        self, enu_m: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Convert ENU metres about the origin to geodetic coordinates.

        Parameters
        ----------
        enu_m : (n, 3) or (3,) float64
            ``[x_east_m, y_north_m, z_up_m]``.

        Returns
        -------
        lat_deg : (n,) float64
            Geodetic latitude (degrees).
        lon_deg : (n,) float64
            Longitude (degrees, in [-180, 180]).
        h_m : (n,) float64
            Ellipsoidal height (metres above WGS84).

        Raises
        ------
        ConfigError
            If ``enu_m`` is not of shape (n, 3) or (3,) or holds non-finite values.
        """
        enu = np.asarray(enu_m, dtype=np.float64)
        if enu.ndim == 1:
            enu = enu.reshape(1, -1)
        if enu.ndim != 2 or enu.shape[1] != 3:
            raise ConfigError(f"expected shape (n, 3) or (3,), got {np.shape(enu_m)}", "enu_m")
        if not np.all(np.isfinite(enu)):
            raise ConfigError("must be finite", field="enu_m")
        transformer = _transformer(self.lat0_deg, self.lon0_deg, self.h0_m)
        lon, lat, h = (
            np.asarray(v, np.float64).reshape(-1)
            for v in transformer.transform(enu[:, 0], enu[:, 1], enu[:, 2], direction="INVERSE")
        )
        # PROJ's cartesian -> geodetic step (Bowring) is off by ~1e-6 m at 10 km altitude;
        # one Newton step on the exact forward transform brings it to ~1e-9 m.
        fwd = np.column_stack(transformer.transform(lon, lat, h))
        resid_ecef = (enu - fwd) @ _rotation(self.lat0_deg, self.lon0_deg)
        lat_r = np.radians(lat)
        local = np.einsum("nij,nj->ni", _rotation(lat, lon), resid_ecef)
        sin2 = np.sin(lat_r) ** 2
        w = np.sqrt(1.0 - _WGS84_E2 * sin2)
        n_m = _WGS84_A_M / w
        m_m = _WGS84_A_M * (1.0 - _WGS84_E2) / w**3
        cos_lat = np.cos(lat_r)
        with np.errstate(divide="ignore", invalid="ignore"):
            dlon = np.where(cos_lat > 1e-9, local[:, 0] / ((n_m + h) * cos_lat), 0.0)
        lat = np.clip(lat + np.degrees(local[:, 1] / (m_m + h)), -90.0, 90.0)
        lon = (lon + np.degrees(dlon) + 180.0) % 360.0 - 180.0
        h = h + local[:, 2]
        return lat, lon, h
