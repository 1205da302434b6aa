"""The static world of a scenario: ENU frame, buildings and (flat) ground."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shorad.geo.buildings import Buildings
from shorad.geo.city import HeightReport, bundled_city_path, load_city
from shorad.geo.frame import EnuFrame
from shorad.geo.los import first_hit_distance, line_of_sight

__all__ = ["BUNDLED_PREFIX", "World", "load_world"]

BUNDLED_PREFIX = "bundled:"
"""Prefix of a city shipped with shorad in :func:`load_world` (``"bundled:monaco"``)."""


@dataclass(frozen=True, slots=True)
class World:
    """Frame, buildings and ground of one site; picklable, shared read-only by all stages.

    Attributes
    ----------
    frame : EnuFrame
        Local ENU frame about the site origin.
    buildings : Buildings
        Building prisms in ENU metres.
    source : str
        Where the buildings came from: a file path or ``"bundled:<name>"``.
    height_report : HeightReport
        What the loader did (height provenance, repairs, rejections).
    """

    frame: EnuFrame
    buildings: Buildings
    source: str
    height_report: HeightReport

    def los(self, a_m: ArrayLike, b_m: ArrayLike) -> NDArray[np.bool_]:
        """Line of sight between ENU points; see :func:`shorad.geo.line_of_sight`.

        Parameters
        ----------
        a_m, b_m : (n, 3) or (3,) float64
            Segment end points (ENU m).

        Returns
        -------
        (n,) bool
            True where the segment is clear of every building.
        """
        return line_of_sight(self.buildings, a_m, b_m)

    def first_hit_distance(self, a_m: ArrayLike, b_m: ArrayLike) -> NDArray[np.float64]:
        """Distance (m) from ``a_m`` to the first building along each segment, inf if clear."""
        return first_hit_distance(self.buildings, a_m, b_m)

    def ground_z_m(self, xy_m: ArrayLike) -> NDArray[np.float64]:
        """Ground height (m) under ENU points.

        The ground is the flat plane z = 0 for now (terrain is a later issue; the ellipsoid
        curvature, 0.08 m at 1 km, is ignored).

        Parameters
        ----------
        xy_m : (n, 2) or (2,) float64
            ENU points (m).

        Returns
        -------
        (n,) float64
            Zeros.
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        return np.zeros(xy.shape[0], dtype=np.float64)


def load_world(
    city: str | Path,
    origin_lat_deg: float,
    origin_lon_deg: float,
    *,
    origin_h_m: float = 0.0,
    bbox_m: tuple[float, float, float, float] | None = None,
    **height_kwargs: Any,
) -> World:
    """Load a :class:`World` from a city file or a bundled city.

    Parameters
    ----------
    city : str or Path
        ``"bundled:<name>"`` (see :func:`shorad.geo.bundled_city_path`) or a file path
        accepted by :func:`shorad.geo.load_city`.
    origin_lat_deg, origin_lon_deg : float
        Site origin (degrees), the origin of the ENU frame.
    origin_h_m : float, default 0.0
        Ellipsoidal height of the origin (m).
    bbox_m : (4,) float, optional
        Keep only buildings intersecting this ENU box ``(xmin, ymin, xmax, ymax)`` (m).
    **height_kwargs
        ``default_height_m`` and ``level_height_m``, passed to :func:`load_city`.

    Returns
    -------
    World

    Raises
    ------
    ConfigError
        Bad origin, unknown bundled city, missing or unreadable file.
    """
    frame = EnuFrame(origin_lat_deg, origin_lon_deg, origin_h_m)
    if isinstance(city, str) and city.startswith(BUNDLED_PREFIX):
        path = bundled_city_path(city[len(BUNDLED_PREFIX) :])
        source = city
    else:
        path = Path(city)
        source = str(path)
    buildings, report = load_city(path, frame, bbox_m=bbox_m, **height_kwargs)
    return World(frame=frame, buildings=buildings, source=source, height_report=report)
