"""Geography of a site: ENU frame, buildings from OpenStreetMap/GeoJSON, exact line of sight.

Everything is in ENU metres about the site origin (x east, y north, z up). Ground is flat
(z = 0) for now; buildings are 2.5-D prisms (footprint extruded to the roof height).
"""

from __future__ import annotations

from shorad.geo.buildings import (
    HEIGHT_DEFAULT,
    HEIGHT_FROM_LEVELS,
    HEIGHT_FROM_TAG,
    Buildings,
)
from shorad.geo.city import (
    DEFAULT_HEIGHT_M,
    LEVEL_HEIGHT_M,
    HeightReport,
    bundled_city_path,
    load_city,
)
from shorad.geo.frame import EnuFrame
from shorad.geo.los import LOS_TOL_M, LosIndex, build_los_index, first_hit_distance, line_of_sight
from shorad.geo.world import World, load_world

__all__ = [
    "DEFAULT_HEIGHT_M",
    "HEIGHT_DEFAULT",
    "HEIGHT_FROM_LEVELS",
    "HEIGHT_FROM_TAG",
    "LEVEL_HEIGHT_M",
    "LOS_TOL_M",
    "Buildings",
    "EnuFrame",
    "HeightReport",
    "LosIndex",
    "World",
    "build_los_index",
    "bundled_city_path",
    "first_hit_distance",
    "line_of_sight",
    "load_city",
    "load_world",
]
