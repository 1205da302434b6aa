"""The scenario file format (YAML), validated with pydantic v2 at the edge.

Degrees, lat/lon and metres above ground in the file; :func:`shorad.scenario.load_scenario`
turns a valid file into the SI, ENU :class:`shorad.sim.ScenarioSpec`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from shorad.scenario.presets import EffectorPreset, SensorPreset, ThreatClassPreset

__all__ = [
    "AssetModel",
    "CityModel",
    "DoctrineModel",
    "GeoPoint",
    "NoFireZoneModel",
    "RaidGroupModel",
    "ScenarioModel",
    "TrackerModel",
    "UnitModel",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class GeoPoint(BaseModel):
    """A geodetic position; ``alt_m`` is height above ground."""

    model_config = _FROZEN
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    alt_m: float = Field(default=0.0, ge=0)


class CityModel(BaseModel):
    """Where the buildings come from."""

    model_config = _FROZEN
    source: str = Field(
        default="bundled:monaco",
        description="'bundled:NAME' or a path to an .osm.pbf or GeoJSON file",
    )
    crop_radius_m: PositiveFloat | None = Field(
        default=3000.0, description="keep buildings within this distance of the origin"
    )
    default_height_m: PositiveFloat = 9.0
    level_height_m: PositiveFloat = 3.0


class AssetModel(BaseModel):
    """A defended asset: a building of the city (by OSM key or name) or a position."""

    model_config = _FROZEN
    id: str = Field(min_length=1)
    building: str | None = None
    position: GeoPoint | None = None
    value: PositiveFloat = 1.0
    radius_m: PositiveFloat | None = Field(
        default=None, description="hit radius; default: radius of the footprint's area, >= 10 m"
    )

    @model_validator(mode="after")
    def _one_location(self) -> AssetModel:
        if (self.building is None) == (self.position is None):
            raise ValueError("give exactly one of 'building' or 'position'")
        return self


class UnitModel(BaseModel):
    """An air-defence unit: a rooftop mount (``on``) or a position, with a sensor and effectors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: str = Field(min_length=1)
    on: str | None = Field(default=None, description="building (OSM key or name) to mount on")
    position: GeoPoint | None = None
    mast_m: float = Field(default=3.0, ge=0)
    sensor: str | SensorPreset | None = Field(
        default=None, description="one sensor (shorthand for a one-element 'sensors')"
    )
    sensors: list[str | SensorPreset] = Field(
        default=[], description="sensors of any type (radar, eoir, rf), by preset name or inline"
    )
    effectors: list[str | EffectorPreset] = []

    @model_validator(mode="after")
    def _one_location(self) -> UnitModel:
        if (self.on is None) == (self.position is None):
            raise ValueError("give exactly one of 'on' (a building) or 'position'")
        if self.sensor is not None and self.sensors:
            raise ValueError("give 'sensor' (one) or 'sensors' (a list), not both")
        if self.sensor is None and not self.sensors and not self.effectors:
            raise ValueError("a unit needs a sensor, an effector or both")
        return self


class RaidGroupModel(BaseModel):
    """A group of identical threats."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    threat_class: str = Field(alias="class")
    count: PositiveInt
    launch_window_s: tuple[float, float] = (0.0, 0.0)
    bearing_deg: tuple[float, float] = Field(
        description="sector the threats come from, clockwise from north, seen from the target"
    )
    distance_m: PositiveFloat
    target: str = Field(default="any", description="asset id, or 'any' (weighted by value)")
    waypoints: list[GeoPoint] = []

    @model_validator(mode="after")
    def _windows(self) -> RaidGroupModel:
        lo, hi = self.launch_window_s
        if lo < 0 or hi < lo:
            raise ValueError(
                f"launch_window_s must be [start, end] with 0 <= start <= end, got {[lo, hi]}"
            )
        return self


class NoFireZoneModel(BaseModel):
    """A polygon (lat/lon vertices, in order) over which no intercept may be ordered."""

    model_config = _FROZEN
    name: str = Field(min_length=1)
    polygon: list[GeoPoint] = Field(min_length=3)


class DoctrineModel(BaseModel):
    """Engagement rules (see :class:`shorad.c2.Doctrine`)."""

    model_config = _FROZEN
    assignment: Literal["greedy", "wta"] = Field(
        default="greedy",
        description="greedy: highest threat first, best Pk; wta: each cycle's static WTA",
    )
    policy: Literal["shoot-look-shoot", "shoot-shoot-look"] = "shoot-look-shoot"
    look_s: float = Field(default=1.0, ge=0)
    engage_confirmed_only: bool = True
    stale_track_s: PositiveFloat = 2.5
    min_threat_value: float = Field(default=0.0, ge=0)
    min_pk: float = Field(
        default=0.2, ge=0, le=1, description="hold fire while the expected Pk is below this"
    )
    no_fire_zones: list[NoFireZoneModel] = Field(
        default=[], description="polygons over which no intercept may happen (debris)"
    )


class TrackerModel(BaseModel):
    """Tracker settings (see :class:`shorad.tracking.TrackerConfig`)."""

    model_config = _FROZEN
    q_mps2: PositiveFloat = 1.0
    gate_probability: float = Field(default=0.9999, gt=0, lt=1)
    init_speed_sigma_mps: PositiveFloat = 40.0
    confirm_hits: PositiveInt = 3
    confirm_window_s: PositiveFloat = 5.0
    delete_after_s: PositiveFloat = 4.0
    tentative_delete_after_s: PositiveFloat = 2.5
    method: Literal["gnn", "jpda", "imm-gnn", "imm-jpda"] = "gnn"
    # jpda / imm-* only (see shorad.tracking.PolarTrackerConfig)
    pd: float = Field(default=0.9, gt=0, le=1, description="detection probability JPDA assumes")
    used_probability: float = Field(
        default=0.5, gt=0, lt=1, description="JPDA weight above which a detection is taken"
    )
    jpda_max_events: PositiveInt = 10_000
    imm_q_mps2: list[NonNegativeFloat] = Field(
        default=[0.25, 3.0], min_length=2, description="NCV noise level of each IMM model"
    )
    imm_sojourn_s: list[PositiveFloat] = Field(
        default=[10.0, 10.0], min_length=2, description="expected time in each IMM model"
    )

    @model_validator(mode="after")
    def _imm_lengths(self) -> TrackerModel:
        if len(self.imm_sojourn_s) != len(self.imm_q_mps2):
            raise ValueError(
                f"imm_sojourn_s must have one entry per imm_q_mps2 level "
                f"({len(self.imm_q_mps2)}), got {len(self.imm_sojourn_s)}"
            )
        return self


class ScenarioModel(BaseModel):
    """A whole scenario file."""

    model_config = _FROZEN
    name: str = Field(min_length=1)
    description: str = ""
    origin: GeoPoint
    duration_s: PositiveFloat
    time_step_s: PositiveFloat = 0.5
    c2_period_s: PositiveFloat | None = None
    seed: NonNegativeInt = 0
    city: CityModel = CityModel()
    presets: list[str] = Field(default=[], description="extra preset files, relative to this file")
    threat_classes: dict[str, ThreatClassPreset] = {}
    assets: list[AssetModel] = Field(min_length=1)
    units: list[UnitModel] = Field(min_length=1)
    raid: list[RaidGroupModel] = Field(min_length=1)
    doctrine: DoctrineModel = DoctrineModel()
    tracker: TrackerModel = TrackerModel()

    @model_validator(mode="after")
    def _unique_ids(self) -> ScenarioModel:
        for what, ids in (
            ("assets", [a.id for a in self.assets]),
            ("units", [u.id for u in self.units]),
        ):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"{what} ids must be unique, repeated: {dup}")
        if self.time_step_s > self.duration_s:
            raise ValueError(
                f"time_step_s ({self.time_step_s}) must not exceed duration_s ({self.duration_s})"
            )
        return self
