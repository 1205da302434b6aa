"""Scenario file -> validated model -> frozen :class:`~shorad.sim.ScenarioSpec` (SI, ENU).

Every problem becomes a :class:`~shorad.errors.ConfigError` whose message names the field path
(``units[2].sensor.max_range_m``), the value found and what was expected.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError
from shapely import Polygon
from shapely.validation import explain_validity

from shorad.c2.base import Doctrine, Effectors, EffectorType
from shorad.errors import ConfigError
from shorad.geo import World, bundled_city_path, load_world
from shorad.scenario.presets import (
    EffectorPreset,
    EoirPreset,
    PresetLibrary,
    RadarPreset,
    RfPreset,
    ThreatClassPreset,
    bundled_presets,
)
from shorad.scenario.schema import GeoPoint, NoFireZoneModel, ScenarioModel
from shorad.sensors.eoir import EoirConfig
from shorad.sensors.factory import SensorConfig
from shorad.sensors.radar import RadarConfig
from shorad.sensors.rf import RfConfig
from shorad.sim.spec import ScenarioSpec, Units
from shorad.threats.base import Assets, RaidGroup, ThreatClass
from shorad.tracking.gnn import TrackerConfig
from shorad.tracking.polar_imm import PolarTrackerConfig

__all__ = [
    "demo_scenario_path",
    "load_scenario",
    "parse_scenario",
    "read_scenario_data",
    "read_yaml",
]

MAP_MARGIN_M = 500.0
"""A unit or asset may stand at most this far outside the buildings' extent."""


def demo_scenario_path() -> Path:
    """Path of the bundled demo scenario (``examples/demo.yaml``, packaged)."""
    return Path(str(resources.files("shorad") / "data" / "examples" / "demo.yaml"))


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _is_field_name(part: int | str) -> bool:
    """True for real path parts; False for pydantic's union-branch and validator tags."""
    if isinstance(part, int):
        return True
    return part.isidentifier() and not part[:1].isupper() and part not in ("str", "int", "float")


def _format_validation(err: ValidationError, source: str) -> ConfigError:
    errors = err.errors()
    # For `str | Model` fields given a mapping, the str branch's complaint is noise.
    if len(errors) > 1:
        errors = [
            e
            for e in errors
            if not (e["type"] == "string_type" and isinstance(e.get("input"), dict))
        ]
    lines = []
    for e in errors:
        loc = tuple(p for p in e["loc"] if _is_field_name(p))
        field = _loc(loc)
        got = e.get("input")
        if e["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (check its spelling and unit suffix)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = f"{e['msg']}, got {got!r}"
        lines.append(f"{field}: {msg}")
    uniq = list(dict.fromkeys(lines))
    head = f"{source}: invalid scenario ({len(uniq)} problem{'s' if len(uniq) > 1 else ''})"
    return ConfigError(head + "\n  " + "\n  ".join(uniq))


class _Yaml12Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 booleans: only true/false, so ``on:`` and ``no`` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Yaml12Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list(_first),
    )


def read_yaml(path: str | Path, what: str = "scenario file") -> Any:
    """A YAML file as the scenario loader reads it (YAML 1.2 booleans, so ``on:`` stays a
    key); errors name ``what`` the file is, the path, and the line of a syntax error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {str(path)!r}: {exc}") from None
    try:
        return yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None


def read_scenario_data(path: str | Path) -> Any:
    """The raw mapping of a scenario file (YAML 1.2 booleans, so ``on:`` stays a key)."""
    return read_yaml(path)


def load_scenario(path: str | Path) -> ScenarioSpec:
    """Read, validate and resolve a scenario file.

    Parameters
    ----------
    path : str or Path
        A YAML scenario file.

    Returns
    -------
    ScenarioSpec

    Raises
    ------
    ConfigError
        With the field path, the value and what was expected.
    """
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of scenario fields, got {type(data).__name__}"
        )
    return parse_scenario(data, base_dir=path.parent, source=str(path))


def _library(model: ScenarioModel, base_dir: Path, source: str) -> PresetLibrary:
    raw = bundled_presets()
    try:
        lib = PresetLibrary(**raw)
    except ValidationError as exc:  # pragma: no cover - shipped presets are tested
        raise _format_validation(exc, "bundled presets") from None
    for i, rel in enumerate(model.presets):
        p = (base_dir / rel).resolve()
        extra = read_yaml(p, "preset file") if p.exists() else None
        if extra is None:
            raise ConfigError(f"preset file {str(p)!r} does not exist", field=f"presets[{i}]")
        try:
            lib = lib.merged(PresetLibrary(**extra))
        except ValidationError as exc:
            raise _format_validation(exc, str(p)) from None
    if model.threat_classes:
        lib = lib.merged(PresetLibrary(threats=dict(model.threat_classes)))
    return lib


def _scenario_hash(model: ScenarioModel, lib: PresetLibrary, world: World) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(model.model_dump(mode="json"), sort_keys=True).encode())
    h.update(json.dumps(lib.model_dump(mode="json"), sort_keys=True).encode())
    h.update(world.source.encode())
    if world.source.startswith("bundled:"):
        src = bundled_city_path(world.source.split(":", 1)[1])
    else:
        src = Path(world.source)
    if src.exists():
        h.update(hashlib.sha256(src.read_bytes()).digest())
    return h.hexdigest()


def _point(world: World, p: GeoPoint, field: str) -> NDArray[np.float64]:
    enu: NDArray[np.float64] = world.frame.enu_from_geodetic(p.lat_deg, p.lon_deg, 0.0)[0]
    enu[2] = p.alt_m
    xmin, ymin, xmax, ymax = world.buildings.extent_m
    dx = max(xmin - enu[0], 0.0, enu[0] - xmax)
    dy = max(ymin - enu[1], 0.0, enu[1] - ymax)
    off = math.hypot(dx, dy)
    if off > MAP_MARGIN_M:
        raise ConfigError(
            f"({p.lat_deg}, {p.lon_deg}) is {off / 1000:.1f} km outside the city's buildings "
            f"(expected within {MAP_MARGIN_M:.0f} m of them)",
            field=field,
        )
    return enu


def _zone(world: World, zone: NoFireZoneModel, field: str) -> Polygon:
    lat = np.array([p.lat_deg for p in zone.polygon])
    lon = np.array([p.lon_deg for p in zone.polygon])
    enu = world.frame.enu_from_geodetic(lat, lon, np.zeros(lat.size))
    poly = Polygon(enu[:, :2])
    if not poly.is_valid or poly.area <= 0.0:
        raise ConfigError(
            f"zone {zone.name!r} is not a valid polygon ({explain_validity(poly)}); expected "
            f"vertices in order around a non-self-intersecting area",
            field=f"{field}.polygon",
        )
    return poly


def _building(world: World, ref: str, field: str) -> int:
    try:
        return world.buildings.find(ref)
    except ConfigError as exc:
        raise ConfigError(str(exc), field=field) from None


def _radar(preset: RadarPreset, name: str) -> RadarConfig:
    optional: dict[str, float] = {}
    if "multipath_el_scale_deg" in preset.model_fields_set:  # else the model's exact default
        optional["multipath_el_scale_rad"] = math.radians(preset.multipath_el_scale_deg)
    return RadarConfig(
        name=name,
        max_range_m=preset.max_range_m,
        min_range_m=preset.min_range_m,
        ref_range_m=preset.ref_range_m,
        ref_snr_db=preset.ref_snr_db,
        ref_rcs_dbsm=preset.ref_rcs_dbsm,
        pfa=preset.pfa,
        swerling=preset.swerling,
        scan_period_s=preset.scan_period_s,
        min_el_rad=math.radians(preset.min_elevation_deg),
        max_el_rad=math.radians(preset.max_elevation_deg),
        sigma_range_m=preset.sigma_range_m,
        sigma_az_rad=math.radians(preset.sigma_az_deg),
        sigma_el_rad=math.radians(preset.sigma_el_deg),
        clutter_per_scan=preset.clutter_per_scan,
        n_resolution_cells=preset.n_resolution_cells,
        multipath_loss_db=preset.multipath_loss_db,
        sigma_range_rate_mps=preset.sigma_range_rate_mps,
        range_resolution_m=preset.range_resolution_m,
        az_resolution_rad=math.radians(preset.az_resolution_deg),
        clutter_max_range_rate_mps=preset.clutter_max_range_rate_mps,
        **optional,
    )


def _sensor(preset: Any, name: str) -> SensorConfig:
    """Any sensor preset to its configuration (SI units)."""
    if isinstance(preset, RadarPreset):
        return _radar(preset, name)
    if isinstance(preset, EoirPreset):
        return EoirConfig(
            name=name,
            max_range_m=preset.max_range_m,
            r50_m=preset.r50_m,
            pd_slope=preset.pd_slope,
            pd_max=preset.pd_max,
            scan_period_s=preset.scan_period_s,
            fov_az_rad=math.radians(preset.fov_az_deg),
            slew_rate_rad_s=math.radians(preset.slew_rate_deg_s),
            min_el_rad=math.radians(preset.min_elevation_deg),
            max_el_rad=math.radians(preset.max_elevation_deg),
            sigma_az_rad=math.radians(preset.sigma_az_deg),
            sigma_el_rad=math.radians(preset.sigma_el_deg),
            laser_max_range_m=preset.laser_max_range_m,
            sigma_range_m=preset.sigma_range_m,
            false_alarms_per_scan=preset.false_alarms_per_scan,
            cueing=preset.cueing,
        )
    if isinstance(preset, RfPreset):
        return RfConfig(
            name=name,
            max_range_m=preset.max_range_m,
            pd=preset.pd,
            scan_period_s=preset.scan_period_s,
            sigma_az_rad=math.radians(preset.sigma_az_deg),
            min_el_rad=math.radians(preset.min_elevation_deg),
            max_el_rad=math.radians(preset.max_elevation_deg),
            require_los=preset.require_los,
            false_alarms_per_scan=preset.false_alarms_per_scan,
        )
    raise TypeError(f"unknown sensor preset {type(preset).__name__}")  # pragma: no cover


def _effector(preset: EffectorPreset, name: str, classes: list[str], field: str) -> EffectorType:
    unknown = sorted(set(preset.pk) - set(classes))
    missing = [c for c in classes if c not in preset.pk]
    if missing:
        raise ConfigError(
            f"effector {name!r} has no pk for threat class(es) {missing} used in the raid "
            f"(it gives {sorted(preset.pk)})",
            field=field,
        )
    del unknown  # pk for classes not in this raid is fine
    return EffectorType(
        name=name,
        kind=preset.kind,
        min_range_m=preset.min_range_m,
        max_range_m=preset.max_range_m,
        max_alt_m=preset.max_alt_m,
        reaction_s=preset.reaction_s,
        flyout_mps=preset.flyout_mps,
        pk_by_class=np.array([preset.pk[c] for c in classes]),
        pk_range_m=np.array(preset.pk_range_m),
        pk_range_factor=np.array(preset.pk_range_factor),
        aim_tolerance_m=preset.aim_tolerance_m,
        rounds_per_shot=preset.rounds_per_shot,
        magazine=preset.magazine,
        reload_s=preset.reload_s,
        cost_per_shot_usd=preset.cost_per_shot_usd,
        channels=preset.channels,
        debris_radius_m=preset.debris_radius_m,
    )


def _named(
    ref: str | BaseModel, table: dict[str, Any], what: str, field: str, idx: str
) -> tuple[str, Any]:
    if isinstance(ref, str):
        if ref not in table:
            raise ConfigError(
                f"unknown {what} preset {ref!r}; expected one of {sorted(table)}", field=field
            )
        return ref, table[ref]
    return f"inline-{idx}", ref


def _multiple(value: float, step: float, field: str) -> None:
    ratio = value / step
    if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
        raise ConfigError(
            f"must be a whole multiple of time_step_s ({step} s), got {value} s", field=field
        )


def parse_scenario(
    data: dict[str, Any], *, base_dir: Path | None = None, source: str = "<scenario>"
) -> ScenarioSpec:
    """Validate a scenario mapping (as read from YAML) and resolve it to a spec."""
    base_dir = base_dir or Path.cwd()
    try:
        model = ScenarioModel(**data)
    except ValidationError as exc:
        raise _format_validation(exc, source) from None
    lib = _library(model, base_dir, source)
    dt = model.time_step_s

    # city and frame
    city = model.city.source
    if not city.startswith("bundled:"):
        cp = Path(city)
        city = str(cp if cp.is_absolute() else (base_dir / cp).resolve())
    try:
        world = load_world(
            city,
            model.origin.lat_deg,
            model.origin.lon_deg,
            bbox_m=None
            if model.city.crop_radius_m is None
            else (
                -model.city.crop_radius_m,
                -model.city.crop_radius_m,
                model.city.crop_radius_m,
                model.city.crop_radius_m,
            ),
            default_height_m=model.city.default_height_m,
            level_height_m=model.city.level_height_m,
        )
    except ConfigError as exc:
        raise ConfigError(str(exc), field="city.source") from None
    if len(world.buildings) == 0:
        raise ConfigError(
            f"no buildings within {model.city.crop_radius_m} m of the origin "
            f"({model.origin.lat_deg}, {model.origin.lon_deg}); expected a city around it",
            field="origin",
        )

    # threat classes used by the raid, in order of first use
    class_names: list[str] = []
    for i, g in enumerate(model.raid):
        if g.threat_class not in lib.threats:
            raise ConfigError(
                f"unknown threat class {g.threat_class!r}; expected one of {sorted(lib.threats)}",
                field=f"raid[{i}].class",
            )
        if g.threat_class not in class_names:
            class_names.append(g.threat_class)
    classes = tuple(_threat_class(n, lib.threats[n]) for n in class_names)

    # assets
    aim, radius, building = [], [], []
    for i, a in enumerate(model.assets):
        if a.building is not None:
            b = _building(world, a.building, f"assets[{i}].building")
            aim.append(world.buildings.roof_point(b))
            area = world.buildings.polygons[b].area
            radius.append(a.radius_m or max(10.0, math.sqrt(area / math.pi)))
            building.append(b)
        else:
            assert a.position is not None
            aim.append(_point(world, a.position, f"assets[{i}].position"))
            radius.append(a.radius_m or 10.0)
            building.append(-1)
    assets = Assets(
        asset_id=np.array([a.id for a in model.assets], dtype=object),
        aim_m=np.array(aim, np.float64),
        radius_m=np.array(radius, np.float64),
        value=np.array([a.value for a in model.assets], np.float64),
        building=np.array(building, np.int64),
    )
    asset_index = {a.id: i for i, a in enumerate(model.assets)}

    # units, radars, effectors
    pos: list[NDArray[np.float64]] = []
    ubuilding: list[int] = []
    radars: list[RadarConfig | None] = []
    unit_sensors: list[tuple[SensorConfig, ...]] = []
    etypes: list[EffectorType] = []
    etype_index: dict[str, int] = {}
    eff_unit, eff_type = [], []
    for u, unit in enumerate(model.units):
        if unit.on is not None:
            b = _building(world, unit.on, f"units[{u}].on")
            pos.append(world.buildings.roof_point(b, unit.mast_m))
            ubuilding.append(b)
        else:
            assert unit.position is not None
            p = _point(world, unit.position, f"units[{u}].position")
            p[2] += unit.mast_m
            pos.append(p)
            ubuilding.append(-1)
        refs = (
            [(unit.sensor, f"units[{u}].sensor", f"{u}")]
            if unit.sensor is not None
            else [(r, f"units[{u}].sensors[{j}]", f"{u}-{j}") for j, r in enumerate(unit.sensors)]
        )
        cfgs: list[SensorConfig] = []
        for sref, field, idx in refs:
            name, preset = _named(sref, lib.sensors, "sensor", field, idx)
            cfg = _sensor(preset, name)
            _multiple(cfg.scan_period_s, dt, f"{field}.scan_period_s")
            cfgs.append(cfg)
        unit_sensors.append(tuple(cfgs))
        radars.append(next((c for c in cfgs if isinstance(c, RadarConfig)), None))
        for j, ref in enumerate(unit.effectors):
            field = f"units[{u}].effectors[{j}]"
            name, preset = _named(ref, lib.effectors, "effector", field, f"{u}-{j}")
            key = name if isinstance(ref, str) else f"{name}"
            if key not in etype_index:
                etype_index[key] = len(etypes)
                etypes.append(_effector(preset, name, class_names, field))
            eff_unit.append(u)
            eff_type.append(etype_index[key])
    units = Units(
        unit_id=tuple(u.id for u in model.units),
        pos_m=np.array(pos, np.float64),
        building=np.array(ubuilding, np.int64),
        radar=tuple(radars),
        sensors=tuple(unit_sensors),
    )
    effectors = Effectors(
        effector_id=np.arange(len(eff_unit), dtype=np.int64),
        unit=np.array(eff_unit, np.int64),
        type_index=np.array(eff_type, np.int64),
        pos_m=units.pos_m[np.array(eff_unit, np.int64)] if eff_unit else np.zeros((0, 3)),
        types=tuple(etypes),
    )

    # raid
    groups = []
    for i, g in enumerate(model.raid):
        if g.target == "any":
            target = -1
        elif g.target in asset_index:
            target = asset_index[g.target]
        else:
            raise ConfigError(
                f"unknown target {g.target!r}; expected 'any' or one of {sorted(asset_index)}",
                field=f"raid[{i}].target",
            )
        wps = [
            _point(world, w, f"raid[{i}].waypoints[{k}]")[:2] for k, w in enumerate(g.waypoints)
        ]
        groups.append(
            RaidGroup(
                cls=class_names.index(g.threat_class),
                count=g.count,
                launch_window_s=(float(g.launch_window_s[0]), float(g.launch_window_s[1])),
                bearing_rad=(math.radians(g.bearing_deg[0]), math.radians(g.bearing_deg[1])),
                distance_m=g.distance_m,
                target=target,
                waypoints_m=np.array(wps, np.float64).reshape(-1, 2),
            )
        )

    c2_period = model.c2_period_s or dt
    _multiple(c2_period, dt, "c2_period_s")
    d = model.doctrine
    doctrine = Doctrine(
        assignment=d.assignment,
        shots_per_salvo=1 if d.policy == "shoot-look-shoot" else 2,
        look_s=d.look_s,
        engage_confirmed_only=d.engage_confirmed_only,
        stale_track_s=d.stale_track_s,
        min_threat_value=d.min_threat_value,
        min_pk=d.min_pk,
        no_fire_zones=tuple(
            _zone(world, z, f"doctrine.no_fire_zones[{k}]") for k, z in enumerate(d.no_fire_zones)
        ),
    )
    tr = model.tracker
    tracker = TrackerConfig(
        q_mps2=tr.q_mps2,
        gate_probability=tr.gate_probability,
        init_speed_sigma_mps=tr.init_speed_sigma_mps,
        confirm_hits=tr.confirm_hits,
        confirm_window_s=tr.confirm_window_s,
        delete_after_s=tr.delete_after_s,
        tentative_delete_after_s=tr.tentative_delete_after_s,
        method=tr.method,
    )
    polar = PolarTrackerConfig(
        pd=tr.pd,
        used_probability=tr.used_probability,
        jpda_max_events=tr.jpda_max_events,
        imm_q_mps2=tuple(tr.imm_q_mps2),
        imm_sojourn_s=tuple(tr.imm_sojourn_s),
    )
    return ScenarioSpec(
        name=model.name,
        scenario_hash=_scenario_hash(model, lib, world),
        seed=model.seed,
        duration_s=model.duration_s,
        time_step_s=dt,
        c2_period_s=c2_period,
        world=world,
        classes=classes,
        assets=assets,
        units=units,
        effectors=effectors,
        raid=tuple(groups),
        doctrine=doctrine,
        tracker=tracker,
        polar_tracker=polar,
    )


def _threat_class(name: str, p: ThreatClassPreset) -> ThreatClass:
    return ThreatClass(
        name=name,
        speed_mps=p.speed_mps,
        speed_sigma_mps=p.speed_sigma_mps,
        cruise_alt_m=p.cruise_alt_m,
        dive_start_m=p.dive_start_m,
        rcs_dbsm=p.rcs_dbsm,
        cost_usd=p.cost_usd,
        emits_control_link=p.emits_control_link,
    )
