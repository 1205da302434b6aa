"""Summary of a city file (``shorad city info FILE``): counts, height sources, repairs, extent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from shorad.errors import ConfigError
from shorad.geo.city import _JSON_SUFFIXES, _OSM_SUFFIXES, _read_geojson, _read_osm, load_city
from shorad.geo.frame import EnuFrame

__all__ = ["CityInfo", "describe_city"]


@dataclass(frozen=True, slots=True)
class CityInfo:
    """What a city file holds once loaded by :func:`shorad.geo.load_city`.

    Attributes
    ----------
    path : str
        The file.
    n_features : int
        Building features read from the file (before repair, rejection and splitting).
    n_buildings : int
        Footprint rows kept (multi-part footprints give several rows).
    n_parts : int
        Rows that come from ``building:part`` features.
    n_from_tag, n_from_levels, n_default : int
        Rows whose height came from a height tag, from levels, or the default.
    n_repaired, n_rejected : int
        Features kept after repairing an invalid footprint; features rejected.
    rejected : tuple of str
        ``"<key>: <reason>"`` for every rejected feature.
    lonlat_bounds_deg : tuple of 4 float
        ``(lon_min, lat_min, lon_max, lat_max)`` of the kept footprints (degrees).
    extent_m : tuple of 2 float
        East-west and north-south size of the kept footprints (m), about their centre.
    height_min_m, height_median_m, height_max_m : float
        Roof heights of the kept rows (m).
    footprint_area_m2 : float
        Total footprint area (m^2).
    """

    path: str
    n_features: int
    n_buildings: int
    n_parts: int
    n_from_tag: int
    n_from_levels: int
    n_default: int
    n_repaired: int
    n_rejected: int
    rejected: tuple[str, ...]
    lonlat_bounds_deg: tuple[float, float, float, float]
    extent_m: tuple[float, float]
    height_min_m: float
    height_median_m: float
    height_max_m: float
    footprint_area_m2: float


def describe_city(path: str | Path) -> CityInfo:
    """Load a city file about its own centre and summarise it.

    Parameters
    ----------
    path : str or Path
        OpenStreetMap (``.osm.pbf`` ...) or GeoJSON file, as for :func:`shorad.geo.load_city`.

    Returns
    -------
    CityInfo

    Raises
    ------
    ConfigError
        Missing, unreadable or malformed file, or a file without any usable building.
    """
    path = Path(path)
    lower = path.name.lower()
    reader = None
    if lower.endswith(_OSM_SUFFIXES):
        reader = _read_osm
    elif lower.endswith(_JSON_SUFFIXES):
        reader = _read_geojson
    if reader is None or not path.is_file():
        load_city(path, EnuFrame(0.0, 0.0))  # raises the worded error (suffix, missing file)
        raise ConfigError(f"city file {str(path)!r} cannot be read")  # pragma: no cover
    features, geoms_ll, rejected = reader(path)
    arr = np.asarray(geoms_ll, dtype=object) if geoms_ll else np.zeros(0, dtype=object)
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(arr) if arr.size else np.zeros((0, 4))
    ok = np.all(np.isfinite(b), axis=1) & (np.abs(b[:, [0, 2]]) <= 180).all(axis=1)
    ok &= (np.abs(b[:, [1, 3]]) <= 90).all(axis=1)
    if not np.any(ok):
        first = f"; first rejection: {rejected[0]}" if rejected else ""
        raise ConfigError(
            f"city file {str(path)!r}: no building footprint with usable coordinates "
            f"({len(features)} building features read, {len(rejected)} rejected{first})"
        )
    lon0 = 0.5 * (b[ok, 0].min() + b[ok, 2].max())
    lat0 = 0.5 * (b[ok, 1].min() + b[ok, 3].max())
    frame = EnuFrame(float(lat0), float(lon0))
    buildings, report = load_city(path, frame)
    if len(buildings):
        x0, y0, x1, y1 = buildings.extent_m
        lat, lon, _ = frame.geodetic_from_enu(np.array([[x0, y0, 0.0], [x1, y1, 0.0]]))
        bounds = (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))
        h = buildings.height_m
        hstats = (float(h.min()), float(np.median(h)), float(h.max()))
        area = float(shapely.area(np.asarray(buildings.polygons, dtype=object)).sum())
    else:
        x0 = y0 = x1 = y1 = 0.0
        bounds = (float("nan"),) * 4
        hstats = (float("nan"),) * 3
        area = 0.0
    n_parts = int(sum(str(k).startswith("part:") for k in buildings.kind))
    return CityInfo(
        path=str(path),
        n_features=len(features),
        n_buildings=report.n_buildings,
        n_parts=n_parts,
        n_from_tag=report.n_from_tag,
        n_from_levels=report.n_from_levels,
        n_default=report.n_default,
        n_repaired=report.n_repaired,
        n_rejected=report.n_rejected,
        rejected=report.rejected,
        lonlat_bounds_deg=bounds,
        extent_m=(float(x1 - x0), float(y1 - y0)),
        height_min_m=hstats[0],
        height_median_m=hstats[1],
        height_max_m=hstats[2],
        footprint_area_m2=area,
    )
