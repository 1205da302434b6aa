"""Load a city's buildings (OpenStreetMap or GeoJSON) into ENU :class:`Buildings`.

Heights
-------
Roof height above ground, first usable source wins:

1. ``height`` (``"12"``, ``"12 m"``, ``"12.5m"``, ``"12,5"``, ``"40 ft"``; anything else, or a
   value outside (0, 1000] m, is ignored) -> :data:`HEIGHT_FROM_TAG`;
2. ``(building:levels + roof:levels) * level_height_m`` when ``building:levels`` is a number
   > 0 (``roof:levels`` counts 0 when absent or garbage) -> :data:`HEIGHT_FROM_LEVELS`;
3. ``default_height_m`` (:data:`DEFAULT_HEIGHT_M` = 3 levels) -> :data:`HEIGHT_DEFAULT`.

``min_height`` / ``building:min_level`` are ignored: every building and ``building:part`` is a
prism from the ground up to its roof. A ``building:part`` inside its building is kept as its own
row with its own height; line of sight is blocked by the union of prisms, so this is correct.
``building=no`` / ``building:part=no`` are not buildings.

Geometry
--------
Footprints are projected to the frame's ENU plane (at the origin's height, ``frame.h0_m``).
Invalid footprints (self-intersections, bad rings) are repaired with ``shapely.make_valid`` and
counted in :attr:`HeightReport.n_repaired`; only the polygonal parts are kept. Every polygon of
a multi-part footprint (a repaired bowtie, a multipolygon relation with several outer rings)
becomes its own row, largest first, all sharing the feature's ``osm_key``/name/height, so
:meth:`Buildings.index_of` returns the largest part. Parts smaller than :data:`MIN_AREA_M2` are
dropped; a feature left with nothing (empty, zero-area, unreadable geometry, or an OSM
relation/way that osmium could not assemble into an area) is rejected and its reason recorded in
:attr:`HeightReport.rejected` - nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.errors import ShapelyError

from shorad.errors import ConfigError
from shorad.geo.buildings import (
    HEIGHT_DEFAULT,
    HEIGHT_FROM_LEVELS,
    HEIGHT_FROM_TAG,
    Buildings,
)
from shorad.geo.frame import EnuFrame

__all__ = [
    "DEFAULT_HEIGHT_M",
    "LEVEL_HEIGHT_M",
    "MAX_TAG_HEIGHT_M",
    "MIN_AREA_M2",
    "HeightReport",
    "bundled_city_path",
    "load_city",
    "parse_height_m",
]

log = logging.getLogger(__name__)

LEVEL_HEIGHT_M = 3.0
"""Height of one storey (m) used to turn ``building:levels`` into a roof height."""
DEFAULT_HEIGHT_M = 9.0
"""Roof height (m) of a building with no usable height or levels tag: 3 levels."""
MIN_AREA_M2 = 0.01
"""Footprint polygons smaller than this (m^2) are dropped (a feature left empty is rejected)."""
MAX_TAG_HEIGHT_M = 1000.0
"""``height`` values above this (m) are treated as garbage."""

_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")
_JSON_SUFFIXES = (".geojson", ".json")
_HEIGHT_RE = re.compile(
    r"^\s*\+?(\d+(?:[.,]\d*)?|[.,]\d+)\s*(m|meters?|metres?|ft|feet|')?\s*$", re.IGNORECASE
)
_NUMBER_RE = re.compile(r"^\s*\+?(\d+(?:[.,]\d*)?|[.,]\d+)\s*$")
_FEET_M = 0.3048


@dataclass(frozen=True, slots=True)
class HeightReport:
    """What :func:`load_city` did: where heights came from, repairs and rejections.

    Attributes
    ----------
    n_buildings : int
        Rows in the returned :class:`Buildings` (after splitting multi-part footprints and
        cropping to ``bbox_m``).
    n_from_tag, n_from_levels, n_default : int
        Rows whose height came from ``height``, from levels, or the default; they sum to
        ``n_buildings``.
    n_repaired : int
        Source features kept after repairing an invalid footprint.
    n_rejected : int
        Source features rejected (``len(rejected)``).
    rejected : tuple of str
        ``"<osm_key>: <reason>"`` for every rejected feature.
    n_outside_bbox : int, default 0
        Rows dropped because they do not intersect ``bbox_m``.
    """

    n_buildings: int
    n_from_tag: int
    n_from_levels: int
    n_default: int
    n_repaired: int
    n_rejected: int
    rejected: tuple[str, ...] = ()
    n_outside_bbox: int = 0


@dataclass(frozen=True, slots=True)
class _Feature:
    """One source feature, before projection."""

    key: str
    name: str
    kind: str
    height: Any
    levels: Any
    roof_levels: Any


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_height_m(value: Any) -> float | None:
    """Parse an OSM ``height`` value to metres, ``None`` if unusable.

    Accepts numbers and strings like ``"12"``, ``"12 m"``, ``"12.5m"``, ``"12,5"``,
    ``"40 ft"``, ``"40'"``; the result must lie in (0, :data:`MAX_TAG_HEIGHT_M`].
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        h = float(value)
    else:
        m = _HEIGHT_RE.match(str(value))
        if m is None:
            return None
        h = _number(m.group(1))
        unit = (m.group(2) or "m").lower()
        if unit in ("ft", "feet", "'"):
            h *= _FEET_M
    return h if math.isfinite(h) and 0.0 < h <= MAX_TAG_HEIGHT_M else None


def _parse_levels(value: Any) -> float | None:
    """Parse a levels count (a number >= 0), ``None`` if unusable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        n = float(value)
    else:
        m = _NUMBER_RE.match(str(value))
        if m is None:
            return None
        n = _number(m.group(1))
    return n if math.isfinite(n) and 0.0 <= n <= 300.0 else None


def _height_of(f: _Feature, default_height_m: float, level_height_m: float) -> tuple[float, int]:
    """Roof height (m) and its :data:`HEIGHT_FROM_TAG`-style source code."""
    h = parse_height_m(f.height)
    if h is not None:
        return h, HEIGHT_FROM_TAG
    levels = _parse_levels(f.levels)
    if levels is not None and levels > 0.0:
        roof = _parse_levels(f.roof_levels) or 0.0
        return (levels + roof) * level_height_m, HEIGHT_FROM_LEVELS
    return default_height_m, HEIGHT_DEFAULT


def _is_building(tags: Mapping[str, str] | Any) -> bool:
    b = tags.get("building")
    p = tags.get("building:part")
    return (b is not None and b != "no") or (p is not None and p != "no")


def _feature_from_tags(key: str, tags: Mapping[str, Any] | Any) -> _Feature:
    b = tags.get("building")
    kind = str(b) if b is not None and b != "no" else f"part:{tags.get('building:part')}"
    return _Feature(
        key=key,
        name=str(tags.get("name") or ""),
        kind=kind,
        height=tags.get("height"),
        levels=tags.get("building:levels"),
        roof_levels=tags.get("roof:levels"),
    )


def _read_osm(path: Path) -> tuple[list[_Feature], list[Any], list[str]]:
    """Read building areas with pyosmium: features, lon/lat geometries, rejection reasons."""
    import osmium

    class Handler(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.factory = osmium.geom.WKBFactory()
            self.features: list[_Feature] = []
            self.wkb: list[bytes] = []
            self.tagged: dict[str, str] = {}
            self.assembled: set[str] = set()
            self.rejected: list[str] = []

        def way(self, w: Any) -> None:
            if _is_building(w.tags):
                self.tagged[f"way/{w.id}"] = (
                    "closed way could not be turned into an area (missing node locations?)"
                    if w.is_closed()
                    else "way is not closed"
                )

        def relation(self, r: Any) -> None:
            if r.tags.get("type") == "multipolygon" and _is_building(r.tags):
                self.tagged[f"relation/{r.id}"] = (
                    "multipolygon relation could not be assembled (missing or broken member ways)"
                )

        def area(self, a: Any) -> None:
            if not _is_building(a.tags):
                return
            key = f"{'way' if a.from_way() else 'relation'}/{a.orig_id()}"
            self.assembled.add(key)
            try:
                wkb = self.factory.create_multipolygon(a)
            except RuntimeError as exc:  # broken geometry
                self.rejected.append(f"{key}: no geometry ({exc})")
                return
            self.features.append(_feature_from_tags(key, a.tags))
            self.wkb.append(bytes(wkb) if not isinstance(wkb, str) else bytes.fromhex(wkb))

    handler = Handler()
    try:
        handler.apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise ConfigError(f"cannot read OpenStreetMap file {str(path)!r}: {exc}") from exc
    rejected = handler.rejected + [
        f"{k}: {why}" for k, why in handler.tagged.items() if k not in handler.assembled
    ]
    geoms = list(shapely.from_wkb(np.asarray(handler.wkb, dtype=object))) if handler.wkb else []
    return handler.features, geoms, rejected


def _read_geojson(path: Path) -> tuple[list[_Feature], list[Any], list[str]]:
    """Read a GeoJSON FeatureCollection (or one Feature) of (Multi)Polygons in lon/lat."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read GeoJSON file {str(path)!r}: {exc}") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        items = data.get("features")
    elif isinstance(data, dict) and data.get("type") == "Feature":
        items = [data]
    else:
        items = None
    if not isinstance(items, list):
        raise ConfigError(
            f"GeoJSON file {str(path)!r}: expected a FeatureCollection of Polygon/MultiPolygon "
            "features"
        )
    features: list[_Feature] = []
    geoms: list[Any] = []
    rejected: list[str] = []
    for i, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        props = item.get("properties")
        props = props if isinstance(props, dict) else {}
        ident = props.get("@id", item.get("id", props.get("id")))
        key = str(ident) if ident is not None and str(ident) != "" else f"feature/{i}"
        geometry = item.get("geometry")
        gtype = geometry.get("type") if isinstance(geometry, dict) else None
        if gtype not in ("Polygon", "MultiPolygon"):
            rejected.append(
                f"{key}: unsupported geometry type {gtype!r} (expected Polygon or MultiPolygon)"
            )
            continue
        try:
            geom = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, IndexError, AttributeError, ShapelyError) as exc:
            rejected.append(f"{key}: unreadable {gtype} coordinates ({exc})")
            continue
        tags = dict(props)
        if "building" not in tags and "building:part" not in tags:
            tags["building"] = "yes"
        features.append(_feature_from_tags(key, tags))
        geoms.append(geom)
    return features, geoms, rejected


def _polygon_parts(geom: Any) -> list[shapely.Polygon]:
    """Polygons of a geometry (recursing into collections), lower dimensions dropped."""
    if isinstance(geom, shapely.Polygon):
        return [geom]
    if isinstance(geom, (shapely.MultiPolygon, shapely.GeometryCollection)):
        out: list[shapely.Polygon] = []
        for part in geom.geoms:
            out.extend(_polygon_parts(part))
        return out
    return []


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"must be a number of metres, got {value!r}", field=name) from None
    if not (math.isfinite(v) and v > 0.0):
        raise ConfigError(f"must be finite and > 0 m, got {value!r}", field=name)
    return v


def _check_bbox(bbox_m: Any) -> tuple[float, float, float, float] | None:
    if bbox_m is None:
        return None
    try:
        box = tuple(float(v) for v in bbox_m)
    except (TypeError, ValueError):
        raise ConfigError(
            f"expected (xmin_m, ymin_m, xmax_m, ymax_m), got {bbox_m!r}", "bbox_m"
        ) from None
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise ConfigError(
            f"expected 4 finite numbers (xmin_m, ymin_m, xmax_m, ymax_m), got {bbox_m!r}",
            "bbox_m",
        )
    if not (box[0] < box[2] and box[1] < box[3]):
        raise ConfigError(f"expected xmin < xmax and ymin < ymax, got {bbox_m!r}", "bbox_m")
    return (box[0], box[1], box[2], box[3])


def load_city(
    path: str | Path,
    frame: EnuFrame,
    *,
    default_height_m: float = DEFAULT_HEIGHT_M,
    level_height_m: float = LEVEL_HEIGHT_M,
    bbox_m: tuple[float, float, float, float] | None = None,
) -> tuple[Buildings, HeightReport]:
    """Load the buildings of a city file into ENU :class:`Buildings` about ``frame``.

    Parameters
    ----------
    path : str or Path
        OpenStreetMap data (``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``; read
        with pyosmium: ways and multipolygon relations tagged ``building`` or
        ``building:part``) or GeoJSON (``.geojson``, ``.json``: a FeatureCollection of
        Polygon/MultiPolygon features in lon/lat with optional properties ``height``,
        ``building:levels``, ``roof:levels``, ``name``, ``building`` and ``@id``/``id``).
    frame : EnuFrame
        Local frame; footprints are projected onto its ENU plane.
    default_height_m : float, default DEFAULT_HEIGHT_M
        Roof height (m, > 0) of buildings without usable height or levels tags.
    level_height_m : float, default LEVEL_HEIGHT_M
        Height of one storey (m, > 0).
    bbox_m : (4,) float, optional
        ``(xmin_m, ymin_m, xmax_m, ymax_m)`` ENU box; keep only footprints intersecting it.

    Returns
    -------
    buildings : Buildings
        One row per footprint polygon (see the module docstring).
    report : HeightReport
        Height provenance counts, repairs and rejections with reasons.

    Raises
    ------
    ConfigError
        Missing file, unknown suffix, unreadable file, or a bad parameter.
    """
    path = Path(path)
    default_height_m = _check_positive("default_height_m", default_height_m)
    level_height_m = _check_positive("level_height_m", level_height_m)
    box = _check_bbox(bbox_m)
    expected = (
        "an OpenStreetMap file ("
        + ", ".join(_OSM_SUFFIXES)
        + ") or GeoJSON ("
        + ", ".join(_JSON_SUFFIXES)
        + ")"
    )
    lower = path.name.lower()
    if lower.endswith(_OSM_SUFFIXES):
        reader = _read_osm
    elif lower.endswith(_JSON_SUFFIXES):
        reader = _read_geojson
    else:
        raise ConfigError(f"city file {str(path)!r} has an unknown suffix; expected {expected}")
    if not path.is_file():
        raise ConfigError(f"city file {str(path)!r} not found; expected {expected}")
    features, geoms_ll, rejected = reader(path)

    # lon/lat -> ENU (one vectorised transform), rejecting out-of-range coordinates first
    geoms = np.empty(len(geoms_ll), dtype=object)
    geoms[:] = geoms_ll
    keep = np.ones(len(geoms), dtype=bool)
    if len(geoms):
        with np.errstate(invalid="ignore"):
            b = shapely.bounds(geoms)
        bad = ~(shapely.is_empty(geoms)) & ~(
            (b[:, 0] >= -180) & (b[:, 2] <= 180) & (b[:, 1] >= -90) & (b[:, 3] <= 90)
        )
        for j in np.flatnonzero(bad).tolist():
            rejected.append(
                f"{features[j].key}: coordinates outside lon [-180, 180] / lat [-90, 90]"
            )
        keep &= ~bad

        def to_enu(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
            if lonlat.shape[0] == 0:
                return lonlat
            return frame.enu_from_geodetic(lonlat[:, 1], lonlat[:, 0], frame.h0_m)[:, :2]

        geoms[keep] = shapely.transform(geoms[keep], to_enu)

    polys: list[shapely.Polygon] = []
    row_feature: list[int] = []
    repaired_feature = np.zeros(len(features), dtype=bool)
    valid = shapely.is_valid(geoms) if len(geoms) else np.zeros(0, bool)
    for i, geom in enumerate(geoms.tolist()):
        if not keep[i]:
            continue
        key = features[i].key
        if geom is None or geom.is_empty:
            rejected.append(f"{key}: empty geometry")
            continue
        if not valid[i]:
            reason = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom)
            repaired_feature[i] = True
            log.debug("%s: repaired invalid footprint (%s)", key, reason)
        parts = [p for p in _polygon_parts(geom) if p.area >= MIN_AREA_M2]
        if not parts:
            area = float(shapely.area(geom))
            rejected.append(
                f"{key}: degenerate footprint (area {area:.3g} m^2 < {MIN_AREA_M2} m^2"
                + (" after repair)" if repaired_feature[i] else ")")
            )
            repaired_feature[i] = False
            continue
        parts.sort(key=lambda p: -p.area)
        polys.extend(parts)
        row_feature.extend([i] * len(parts))

    rows = np.asarray(row_feature, dtype=np.int64)
    n_outside = 0
    if box is not None and rows.size:
        inside = shapely.intersects(np.asarray(polys, dtype=object), shapely.box(*box))
        n_outside = int((~inside).sum())
        polys = [p for p, k in zip(polys, inside, strict=True) if k]
        rows = rows[inside]

    heights = np.empty(rows.size, dtype=np.float64)
    sources = np.empty(rows.size, dtype=np.int8)
    cache: dict[int, tuple[float, int]] = {}
    for r, i in enumerate(rows.tolist()):
        if i not in cache:
            cache[i] = _height_of(features[i], default_height_m, level_height_m)
        heights[r], sources[r] = cache[i]
    buildings = Buildings.from_polygons(
        polys,
        heights,
        osm_key=[features[i].key for i in rows.tolist()],
        name=[features[i].name for i in rows.tolist()],
        kind=[features[i].kind for i in rows.tolist()],
        height_source=sources,
    )
    report = HeightReport(
        n_buildings=len(buildings),
        n_from_tag=int(np.sum(sources == HEIGHT_FROM_TAG)),
        n_from_levels=int(np.sum(sources == HEIGHT_FROM_LEVELS)),
        n_default=int(np.sum(sources == HEIGHT_DEFAULT)),
        n_repaired=int(np.sum(repaired_feature[np.unique(rows)])) if rows.size else 0,
        n_rejected=len(rejected),
        rejected=tuple(rejected),
        n_outside_bbox=n_outside,
    )
    log.info(
        "loaded %d buildings from %s (%d height tags, %d from levels, %d default; "
        "%d repaired, %d rejected, %d outside bbox)",
        report.n_buildings,
        path,
        report.n_from_tag,
        report.n_from_levels,
        report.n_default,
        report.n_repaired,
        report.n_rejected,
        report.n_outside_bbox,
    )
    return buildings, report


def _cities_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "cities"


def bundled_city_path(name: str) -> Path:
    """Path of a city file shipped with shorad.

    Parameters
    ----------
    name : str
        City name, e.g. ``"monaco"`` (the file ``shorad/data/cities/monaco.osm.pbf``).

    Raises
    ------
    ConfigError
        If no bundled city has this name; the message lists the available ones.
    """
    available: dict[str, Path] = {}
    directory = _cities_dir()
    if directory.is_dir():
        for p in sorted(directory.iterdir()):
            lower = p.name.lower()
            for suffix in _OSM_SUFFIXES + _JSON_SUFFIXES:
                if lower.endswith(suffix):
                    available.setdefault(p.name[: -len(suffix)], p)
                    break
    if name not in available:
        names = ", ".join(repr(n) for n in available) or "none"
        raise ConfigError(f"unknown bundled city {name!r}; available: {names}")
    return available[name]
