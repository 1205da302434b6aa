"""Building footprints with roof heights, in ENU metres: the :class:`Buildings` batch.

Each building is a 2.5-D prism: its footprint polygon (x east, y north) extruded from the
ground up to ``height_m``. One row per footprint polygon; a source feature whose footprint is
a MultiPolygon contributes one row per part (see :func:`shorad.geo.city.load_city`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from shorad._contract import check_array
from shorad.errors import ConfigError, GeometryError

if TYPE_CHECKING:
    from shorad.geo.los import LosIndex

__all__ = [
    "HEIGHT_DEFAULT",
    "HEIGHT_FROM_LEVELS",
    "HEIGHT_FROM_TAG",
    "Buildings",
]

HEIGHT_FROM_TAG = 0
"""``height_source`` code: roof height read from the ``height`` tag/property."""
HEIGHT_FROM_LEVELS = 1
"""``height_source`` code: ``(building:levels + roof:levels) * level_height_m``."""
HEIGHT_DEFAULT = 2
"""``height_source`` code: no usable tag, the loader's ``default_height_m`` was used."""


def _ring_edges(
    polygons: Sequence[shapely.Polygon],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]:
    """Return ``(edge_a_m, edge_b_m, edge_building)`` for every ring edge of ``polygons``."""
    if len(polygons) == 0:
        empty = np.zeros((0, 2), np.float64)
        return empty, empty.copy(), np.zeros(0, np.int32)
    rings, ring_owner = shapely.get_rings(np.asarray(polygons, dtype=object), return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    # consecutive coordinates of the same (closed) ring form an edge
    same = coord_ring[1:] == coord_ring[:-1]
    edge_a = np.ascontiguousarray(coords[:-1][same], dtype=np.float64)
    edge_b = np.ascontiguousarray(coords[1:][same], dtype=np.float64)
    edge_building = ring_owner[coord_ring[:-1][same]].astype(np.int32)
    return edge_a, edge_b, edge_building


@dataclass(frozen=True, slots=True, eq=False)
class Buildings:
    """A city's buildings as 2.5-D prisms in ENU metres; one row per footprint polygon.

    Attributes
    ----------
    osm_key : (b,) object (str)
        Source identifier: ``"way/<id>"`` or ``"relation/<id>"`` for OpenStreetMap, the
        feature's id for GeoJSON, ``"feature/<i>"`` (0-based feature index) when it has none.
        Rows split from one multi-part footprint share the key (largest part first).
    name : (b,) object (str)
        ``name`` tag, ``""`` if none.
    kind : (b,) object (str)
        The ``building=*`` value (``"yes"``, ``"apartments"``, ...); for a ``building:part``
        without a ``building`` tag, ``"part:<building:part value>"``.
    height_m : (b,) float64
        Roof height above the ground (m, > 0).
    height_source : (b,) int8
        Where ``height_m`` came from: :data:`HEIGHT_FROM_TAG` (0), :data:`HEIGHT_FROM_LEVELS`
        (1) or :data:`HEIGHT_DEFAULT` (2).
    polygons : tuple of b shapely.Polygon
        Valid, non-empty footprints in ENU ``(x_m, y_m)``.
    centroid_m : (b, 2) float64
        Footprint centroids (m).
    bbox_m : (b, 4) float64
        Footprint bounding boxes ``[xmin, ymin, xmax, ymax]`` (m).
    edge_a_m, edge_b_m : (E, 2) float64
        Start and end points (m) of every footprint ring edge, exterior rings and holes,
        grouped by building in row order.
    edge_building : (E,) int32
        Row index of the building owning each edge.

    Notes
    -----
    Build one with :meth:`from_polygons` (or :func:`shorad.geo.load_city`) rather than by
    hand. Equality is identity (the class holds arrays). Lazily built helpers (the STR-tree,
    the key lookup table and the line-of-sight :class:`~shorad.geo.los.LosIndex`) are cached
    on the instance and are not pickled.
    """

    osm_key: NDArray[np.object_]
    name: NDArray[np.object_]
    kind: NDArray[np.object_]
    height_m: NDArray[np.float64]
    height_source: NDArray[np.int8]
    polygons: tuple[shapely.Polygon, ...]
    centroid_m: NDArray[np.float64]
    bbox_m: NDArray[np.float64]
    edge_a_m: NDArray[np.float64]
    edge_b_m: NDArray[np.float64]
    edge_building: NDArray[np.int32]
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.height_m.shape[0] if isinstance(self.height_m, np.ndarray) else None
        check_array("Buildings", "osm_key", self.osm_key, np.object_, (n,))
        check_array("Buildings", "name", self.name, np.object_, (n,))
        check_array("Buildings", "kind", self.kind, np.object_, (n,))
        check_array("Buildings", "height_m", self.height_m, np.float64, (None,))
        check_array("Buildings", "height_source", self.height_source, np.int8, (n,))
        check_array("Buildings", "centroid_m", self.centroid_m, np.float64, (n, 2))
        check_array("Buildings", "bbox_m", self.bbox_m, np.float64, (n, 4))
        e = self.edge_building.shape[0] if isinstance(self.edge_building, np.ndarray) else None
        check_array("Buildings", "edge_a_m", self.edge_a_m, np.float64, (e, 2))
        check_array("Buildings", "edge_b_m", self.edge_b_m, np.float64, (e, 2))
        check_array("Buildings", "edge_building", self.edge_building, np.int32, (None,))
        if not isinstance(self.polygons, tuple) or len(self.polygons) != n:
            raise ValueError(f"Buildings.polygons: expected a tuple of {n} polygons")

    # -- pickling: drop the lazily built caches ------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_cache"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_cache", {})

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_polygons(
        cls,
        polygons: Sequence[shapely.Polygon],
        height_m: ArrayLike,
        *,
        osm_key: Sequence[str] | None = None,
        name: Sequence[str] | None = None,
        kind: Sequence[str] | None = None,
        height_source: ArrayLike | None = None,
    ) -> Buildings:
        """Build a :class:`Buildings` batch from footprints and heights.

        Parameters
        ----------
        polygons : sequence of b shapely.Polygon
            Valid, non-empty footprints in ENU metres.
        height_m : (b,) float64 or scalar
            Roof heights above ground (m, finite, > 0).
        osm_key : sequence of b str, optional
            Identifiers; default ``"feature/<i>"``.
        name, kind : sequence of b str, optional
            Names (default ``""``) and building kinds (default ``"yes"``).
        height_source : (b,) int8, optional
            Height provenance codes; default :data:`HEIGHT_FROM_TAG`.

        Returns
        -------
        Buildings

        Raises
        ------
        GeometryError
            If a footprint is not a valid, non-empty Polygon.
        ConfigError
            If a height is not finite and positive, or a sequence has the wrong length.
        """
        polys = tuple(polygons)
        b = len(polys)
        for i, poly in enumerate(polys):
            if not isinstance(poly, shapely.Polygon):
                raise GeometryError(f"building {i}: expected a Polygon, got {poly.geom_type}")
            if poly.is_empty or not poly.is_valid or poly.area <= 0.0:
                reason = "empty" if poly.is_empty else shapely.is_valid_reason(poly)
                raise GeometryError(f"building {i}: invalid footprint ({reason})")
        heights = np.broadcast_to(np.asarray(height_m, dtype=np.float64), (b,)).copy()
        bad = ~(np.isfinite(heights) & (heights > 0.0))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ConfigError(
                f"building {i}: must be finite and > 0 m, got {heights[i]!r}", field="height_m"
            )

        def strings(values: Sequence[str] | None, default: str, what: str) -> NDArray[np.object_]:
            out = np.empty(b, dtype=object)
            if values is None:
                out[:] = [default.format(i=i) for i in range(b)]
            else:
                vals = list(values)
                if len(vals) != b:
                    raise ConfigError(f"expected {b} values, got {len(vals)}", field=what)
                out[:] = [str(v) for v in vals]
            return out

        if height_source is None:
            source = np.full(b, HEIGHT_FROM_TAG, dtype=np.int8)
        else:
            source = np.broadcast_to(np.asarray(height_source, dtype=np.int8), (b,)).copy()
        geoms = np.asarray(polys, dtype=object) if b else np.zeros(0, dtype=object)
        if b:
            centroid = shapely.get_coordinates(shapely.centroid(geoms)).astype(np.float64)
            bbox = shapely.bounds(geoms).astype(np.float64)
        else:
            centroid = np.zeros((0, 2), np.float64)
            bbox = np.zeros((0, 4), np.float64)
        edge_a, edge_b, edge_building = _ring_edges(polys)
        return cls(
            osm_key=strings(osm_key, "feature/{i}", "osm_key"),
            name=strings(name, "", "name"),
            kind=strings(kind, "yes", "kind"),
            height_m=heights,
            height_source=source,
            polygons=polys,
            centroid_m=np.ascontiguousarray(centroid),
            bbox_m=np.ascontiguousarray(bbox),
            edge_a_m=edge_a,
            edge_b_m=edge_b,
            edge_building=edge_building,
        )

    # -- lazily built helpers ------------------------------------------------------------
    def _tree(self) -> shapely.STRtree:
        tree = self._cache.get("tree")
        if tree is None:
            tree = shapely.STRtree(np.asarray(self.polygons, dtype=object))
            self._cache["tree"] = tree
        return tree

    def _key_rows(self) -> dict[str, int]:
        rows = self._cache.get("key_rows")
        if rows is None:
            rows = {}
            for i, key in enumerate(self.osm_key):
                rows.setdefault(key, i)
            self._cache["key_rows"] = rows
        return rows

    @property
    def los_index(self) -> LosIndex:
        """The line-of-sight acceleration index (built on first use, then cached)."""
        index = self._cache.get("los_index")
        if index is None:
            from shorad.geo.los import build_los_index

            index = build_los_index(self)
            self._cache["los_index"] = index
        return index

    # -- queries -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.height_m.shape[0])

    @property
    def extent_m(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of all footprints (m); zeros when there are none."""
        if len(self) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        return (
            float(self.bbox_m[:, 0].min()),
            float(self.bbox_m[:, 1].min()),
            float(self.bbox_m[:, 2].max()),
            float(self.bbox_m[:, 3].max()),
        )

    @property
    def max_height_m(self) -> float:
        """Tallest roof height (m); 0.0 when there are no buildings."""
        return float(self.height_m.max()) if len(self) else 0.0

    def index_of(self, osm_key: str) -> int:
        """Row index of the building with this key (the largest part if it was split).

        Parameters
        ----------
        osm_key : str
            e.g. ``"way/25722685"``.

        Raises
        ------
        ConfigError
            If no building has this key (``field`` is left for the caller to fill in).
        """
        row = self._key_rows().get(osm_key)
        if row is None:
            raise ConfigError(f"no building {osm_key!r} in the city", field=None)
        return row

    def find(self, name_or_key: str) -> int:
        """Row index of a building given its key or its exact name.

        Looks ``name_or_key`` up as an ``osm_key`` first, then as an exact ``name`` (first
        match in row order).

        Raises
        ------
        ConfigError
            If nothing matches; the message lists up to 5 close names.
        """
        row = self._key_rows().get(name_or_key)
        if row is not None:
            return row
        hits = np.flatnonzero(self.name == name_or_key)
        if hits.size:
            return int(hits[0])
        names = sorted({str(n) for n in self.name if n})
        folded = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(name_or_key.casefold(), list(folded), n=5, cutoff=0.6)
        hint = (
            "close names: " + ", ".join(repr(folded[c]) for c in close)
            if close
            else "no close names"
        )
        raise ConfigError(
            f"no building with key or name {name_or_key!r} in the city ({hint})", field=None
        )

    def roof_point(self, index: int, mast_m: float = 0.0) -> NDArray[np.float64]:
        """A point on a building's roof, raised by a mast.

        Parameters
        ----------
        index : int
            Building row.
        mast_m : float, default 0.0
            Height added above the roof (m).

        Returns
        -------
        (3,) float64
            ``[x_m, y_m, height_m[index] + mast_m]`` where ``(x_m, y_m)`` is the footprint's
            representative point (``shapely.point_on_surface``, always inside the footprint).
        """
        i = self._check_index(index)
        if not math.isfinite(mast_m):
            raise ConfigError(f"must be finite, got {mast_m!r}", field="mast_m")
        p = shapely.point_on_surface(self.polygons[i])
        return np.array([p.x, p.y, self.height_m[i] + mast_m], dtype=np.float64)

    def at(self, xy_m: ArrayLike) -> NDArray[np.int64]:
        """Index of the building whose footprint contains each point.

        Parameters
        ----------
        xy_m : (n, 2) or (2,) float64
            ENU points (m).

        Returns
        -------
        (n,) int64
            Row of the building whose footprint interior contains the point (the tallest one
            where footprints overlap, e.g. a ``building:part`` inside its building), ``-1``
            if none. Points on a footprint's boundary are not inside it.
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        out = np.full(xy.shape[0], -1, dtype=np.int64)
        if len(self) == 0 or xy.shape[0] == 0:
            return out
        pts = shapely.points(xy)
        point_idx, bld_idx = self._tree().query(pts, predicate="within")
        # tallest building wins: write hits in increasing height order
        order = np.argsort(self.height_m[bld_idx], kind="stable")
        out[point_idx[order]] = bld_idx[order]
        return out

    def within(self, center_xy_m: ArrayLike, radius_m: float) -> NDArray[np.int64]:
        """Rows of the buildings whose footprint intersects a disc.

        Parameters
        ----------
        center_xy_m : (2,) float64
            Disc centre (m).
        radius_m : float
            Disc radius (m, >= 0); a footprint at distance <= radius_m intersects it.

        Returns
        -------
        (k,) int64
            Sorted row indices.
        """
        c = np.asarray(center_xy_m, dtype=np.float64).reshape(-1)
        if c.shape != (2,) or not np.all(np.isfinite(c)):
            raise ConfigError(f"expected 2 finite numbers, got {center_xy_m!r}", "center_xy_m")
        if not (math.isfinite(radius_m) and radius_m >= 0.0):
            raise ConfigError(f"must be finite and >= 0 m, got {radius_m!r}", field="radius_m")
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        hits = self._tree().query(shapely.Point(c), predicate="dwithin", distance=radius_m)
        return np.sort(np.asarray(hits, dtype=np.int64))

    def within_many(self, center_xy_m: ArrayLike, radius_m: ArrayLike) -> list[NDArray[np.int64]]:
        """:meth:`within` for many discs in one tree query.

        Parameters
        ----------
        center_xy_m : (k, 2) float64
            Disc centres (m).
        radius_m : (k,) float64
            Disc radii (m, >= 0).

        Returns
        -------
        list of k (j,) int64
            Sorted row indices of the buildings each disc intersects.
        """
        c = np.asarray(center_xy_m, dtype=np.float64).reshape(-1, 2)
        r = np.asarray(radius_m, dtype=np.float64).reshape(-1)
        if r.shape[0] != c.shape[0]:
            raise ConfigError(
                f"expected one radius per centre ({c.shape[0]}), got {r.shape[0]}", "radius_m"
            )
        if not np.all(np.isfinite(c)):
            raise ConfigError("expected finite centres", "center_xy_m")
        if not np.all(np.isfinite(r) & (r >= 0.0)):
            raise ConfigError(f"must be finite and >= 0 m, got {r[~(r >= 0.0)]!r}", "radius_m")
        k = c.shape[0]
        if len(self) == 0 or k == 0:
            return [np.zeros(0, dtype=np.int64) for _ in range(k)]
        disc, bld = self._tree().query(shapely.points(c), predicate="dwithin", distance=r)
        order = np.lexsort((bld, disc))
        disc = np.asarray(disc, np.int64)[order]
        bld = np.asarray(bld, np.int64)[order]
        return np.split(bld, np.searchsorted(disc, np.arange(1, k)))

    def _check_index(self, index: int) -> int:
        i = int(index)
        if not 0 <= i < len(self):
            raise ConfigError(f"must be in [0, {len(self)}), got {index!r}", field="index")
        return i
