"""Preset files: threat classes, sensor and effector types, each number with its source.

A preset is a mapping of parameters plus ``sources:``, which must name a source (or the word
``illustrative``) for every numeric parameter. Presets ship in ``shorad/data/presets`` and a
scenario may add its own files (``presets:``) or define types inline.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveFloat,
    PositiveInt,
    Tag,
    model_validator,
)

__all__ = [
    "EffectorPreset",
    "EoirPreset",
    "PresetLibrary",
    "RadarPreset",
    "RfPreset",
    "SensorPreset",
    "ThreatClassPreset",
    "bundled_presets",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class _Sourced(BaseModel):
    model_config = _FROZEN
    description: str = ""
    sources: dict[str, str] = Field(
        description="source (or 'illustrative') for every numeric parameter"
    )

    @model_validator(mode="after")
    def _every_number_sourced(self) -> _Sourced:
        # every number the preset sets (required ones always are); optional fields left at
        # their default take the documented default of the model
        numeric = [
            name
            for name, info in type(self).model_fields.items()
            if name not in ("description", "sources", "kind", "type")
            and info.annotation not in (str,)
            and name in self.model_fields_set
        ]
        missing = [n for n in numeric if not self.sources.get(n, "").strip()]
        if missing:
            raise ValueError(
                f"sources must give a source or 'illustrative' for every number; missing for "
                f"{missing}"
            )
        return self


class ThreatClassPreset(_Sourced):
    """A threat class (see :class:`shorad.threats.ThreatClass`)."""

    speed_mps: PositiveFloat
    speed_sigma_mps: float = Field(ge=0)
    cruise_alt_m: PositiveFloat
    dive_start_m: PositiveFloat
    rcs_dbsm: float
    cost_usd: float = Field(ge=0)
    emits_control_link: bool = Field(
        default=False,
        description="emits a control/video link an RF direction finder can detect",
    )


class RadarPreset(_Sourced):
    """A radar type (see :class:`shorad.sensors.RadarConfig`).

    Every option of the radar model can be set; the optional ones default to the model's
    defaults (no resolution-cell false alarms, no horizon loss, no range rate, no merging).
    """

    type: Literal["radar"] = "radar"
    max_range_m: PositiveFloat
    min_range_m: float = Field(ge=0)
    ref_range_m: PositiveFloat
    ref_snr_db: float
    ref_rcs_dbsm: float
    pfa: float = Field(gt=0, lt=1, description="false-alarm probability per resolution cell")
    swerling: Literal[0, 1] = Field(default=1, description="0: steady target, 1: slow fluctuation")
    scan_period_s: PositiveFloat
    min_elevation_deg: float = Field(ge=-90, le=90)
    max_elevation_deg: float = Field(ge=-90, le=90)
    sigma_range_m: PositiveFloat
    sigma_az_deg: PositiveFloat
    sigma_el_deg: PositiveFloat
    clutter_per_scan: float = Field(ge=0)
    n_resolution_cells: float = Field(
        default=0.0, ge=0, description="cells examined per scan; adds pfa x cells false alarms"
    )
    multipath_loss_db: float = Field(
        default=0.0, ge=0, description="horizon (multipath/clutter) loss at 0 deg elevation"
    )
    multipath_el_scale_deg: PositiveFloat = Field(
        default=math.degrees(0.05),
        description="elevation scale of the horizon loss (loss x exp(-el / scale))",
    )
    sigma_range_rate_mps: float = Field(
        default=0.0, ge=0, description="one-sigma range-rate (Doppler) error; 0: not measured"
    )
    range_resolution_m: float = Field(
        default=0.0, ge=0, description="targets closer in range (and azimuth) merge; 0: never"
    )
    az_resolution_deg: float = Field(
        default=0.0, ge=0, le=360, description="azimuth resolution for merging; 0: never"
    )
    clutter_max_range_rate_mps: PositiveFloat = Field(
        default=50.0, description="false alarms get a range rate uniform in +- this"
    )

    @model_validator(mode="after")
    def _limits(self) -> RadarPreset:
        if self.min_range_m >= self.max_range_m:
            raise ValueError(
                f"min_range_m must be < max_range_m, got {self.min_range_m} >= {self.max_range_m}"
            )
        if self.min_elevation_deg >= self.max_elevation_deg:
            raise ValueError(
                f"min_elevation_deg must be < max_elevation_deg, got {self.min_elevation_deg}"
                f" >= {self.max_elevation_deg}"
            )
        if (self.range_resolution_m > 0.0) != (self.az_resolution_deg > 0.0):
            raise ValueError(
                f"range_resolution_m and az_resolution_deg must both be > 0 (merge unresolved "
                f"targets) or both 0 (never merge), got {self.range_resolution_m} and "
                f"{self.az_resolution_deg}"
            )
        return self


class EoirPreset(_Sourced):
    """An EO/IR sensor type (see :class:`shorad.sensors.EoirConfig`)."""

    type: Literal["eoir"]
    max_range_m: PositiveFloat
    r50_m: PositiveFloat
    pd_slope: PositiveFloat = 4.0
    pd_max: float = Field(default=0.95, gt=0, le=1)
    scan_period_s: PositiveFloat
    fov_az_deg: PositiveFloat = Field(description=">= 360 for a staring (all-round) sensor")
    slew_rate_deg_s: PositiveFloat
    min_elevation_deg: float = Field(ge=-90, le=90)
    max_elevation_deg: float = Field(ge=-90, le=90)
    sigma_az_deg: PositiveFloat
    sigma_el_deg: PositiveFloat
    laser_max_range_m: float = Field(default=0.0, ge=0, description="0: no laser rangefinder")
    sigma_range_m: PositiveFloat = 1.0
    false_alarms_per_scan: float = Field(default=0.0, ge=0)
    cueing: str = Field(
        default="search",
        pattern="^(search|tracks)$",
        description="search: step through azimuth sectors; tracks: look at the most "
        "threatening confirmed track in reach (radar-cued), search when there is none",
    )

    @model_validator(mode="after")
    def _limits(self) -> EoirPreset:
        if self.min_elevation_deg >= self.max_elevation_deg:
            raise ValueError(
                f"min_elevation_deg must be < max_elevation_deg, got {self.min_elevation_deg}"
                f" >= {self.max_elevation_deg}"
            )
        if self.fov_az_deg < 360.0:
            n = math.ceil(360.0 / self.fov_az_deg - 1e-9)
            slew_s = (360.0 / n) / self.slew_rate_deg_s
            if slew_s > self.scan_period_s:
                raise ValueError(
                    f"the slew to the next sector ({slew_s:.3g} s at {self.slew_rate_deg_s} "
                    f"deg/s) must fit in scan_period_s ({self.scan_period_s} s)"
                )
        return self


class RfPreset(_Sourced):
    """An RF direction-finder type (see :class:`shorad.sensors.RfConfig`)."""

    type: Literal["rf"]
    max_range_m: PositiveFloat
    pd: float = Field(gt=0, le=1)
    scan_period_s: PositiveFloat
    sigma_az_deg: PositiveFloat
    min_elevation_deg: float = Field(default=-90.0, ge=-90, le=90)
    max_elevation_deg: float = Field(default=90.0, ge=-90, le=90)
    require_los: bool = True
    false_alarms_per_scan: float = Field(default=0.0, ge=0)


_SENSOR_TAGS = {"radar": "RadarPreset", "eoir": "EoirPreset", "rf": "RfPreset"}


def _sensor_type(v: Any) -> str:
    # tags are the class names, so that error paths (units[0].sensor.max_range_m) skip them
    t = v.get("type", "radar") if isinstance(v, dict) else getattr(v, "type", "radar")
    return _SENSOR_TAGS.get(str(t), str(t))


SensorPreset = Annotated[
    Annotated[RadarPreset, Tag("RadarPreset")]
    | Annotated[EoirPreset, Tag("EoirPreset")]
    | Annotated[RfPreset, Tag("RfPreset")],
    Discriminator(
        _sensor_type,
        custom_error_type="sensor_type",
        custom_error_message="type must be one of 'radar', 'eoir', 'rf'",
    ),
]
"""Any sensor preset, chosen by its ``type:`` key (``radar`` when absent)."""


class EffectorPreset(_Sourced):
    """An effector type (see :class:`shorad.c2.EffectorType`)."""

    kind: Literal["gun", "missile"]
    min_range_m: float = Field(ge=0)
    max_range_m: PositiveFloat
    max_alt_m: PositiveFloat
    reaction_s: float = Field(ge=0)
    flyout_mps: PositiveFloat
    pk: dict[str, float] = Field(description="kill probability per engagement, by threat class")
    pk_range_m: list[float] = Field(min_length=1)
    pk_range_factor: list[float] = Field(min_length=1)
    aim_tolerance_m: PositiveFloat
    rounds_per_shot: PositiveInt
    magazine: PositiveInt
    reload_s: float = Field(ge=0)
    cost_per_shot_usd: float = Field(ge=0)
    channels: PositiveInt = 1
    debris_radius_m: float = Field(ge=0)

    @model_validator(mode="after")
    def _tables(self) -> EffectorPreset:
        if self.min_range_m >= self.max_range_m:
            raise ValueError(
                f"min_range_m must be < max_range_m, got {self.min_range_m} >= {self.max_range_m}"
            )
        for cls, p in self.pk.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"pk.{cls} must be in [0, 1], got {p}")
        if len(self.pk_range_m) != len(self.pk_range_factor):
            raise ValueError(
                f"pk_range_m and pk_range_factor must have the same length, got "
                f"{len(self.pk_range_m)} and {len(self.pk_range_factor)}"
            )
        if any(b <= a for a, b in zip(self.pk_range_m, self.pk_range_m[1:], strict=False)):
            raise ValueError(f"pk_range_m must increase strictly, got {self.pk_range_m}")
        if any(not 0.0 <= f <= 1.0 for f in self.pk_range_factor):
            raise ValueError(
                f"pk_range_factor values must be in [0, 1], got {self.pk_range_factor}"
            )
        return self


class PresetLibrary(BaseModel):
    """All presets known to a scenario, by name."""

    model_config = _FROZEN
    threats: dict[str, ThreatClassPreset] = {}
    sensors: dict[str, SensorPreset] = {}
    effectors: dict[str, EffectorPreset] = {}

    def merged(self, other: PresetLibrary) -> PresetLibrary:
        """This library with ``other``'s entries added (``other`` wins on equal names)."""
        return PresetLibrary(
            threats={**self.threats, **other.threats},
            sensors={**self.sensors, **other.sensors},
            effectors={**self.effectors, **other.effectors},
        )


def _load_yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def bundled_presets() -> dict[str, Any]:
    """Raw mappings of the bundled presets (``threats``, ``sensors``, ``effectors``)."""
    root = resources.files("shorad") / "data" / "presets"
    out: dict[str, Any] = {}
    for part in ("threats", "sensors", "effectors"):
        with resources.as_file(root / f"{part}.yaml") as p:
            out[part] = _load_yaml(Path(p))
    return out
