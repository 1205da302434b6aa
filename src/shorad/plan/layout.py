"""Unit types from a scenario, planned scenario files, and the sites as GeoJSON.

The unit type a plan places is a *template* unit entry of a scenario file: an existing unit
(``--unit-type ID``, default the first unit), or presets joined by ``+``
(``rooftop_radar+rooftop_gun``: the first names a sensor preset, the rest effector presets).
The planned scenario is the original file with its ``units`` replaced by ``N`` copies of the
template, ``plan-1`` ... ``plan-N``, standing on the chosen roofs (``on:`` for a building's
representative roof point, ``position:`` with the roof height for other roof points).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shorad.errors import ConfigError
from shorad.plan.candidates import Candidates
from shorad.plan.coverage import UnitType
from shorad.scenario import parse_scenario
from shorad.sim.spec import ScenarioSpec

__all__ = ["planned_scenario", "sites_geojson", "template_unit", "unit_type"]


def template_unit(data: dict[str, Any], unit_type: str | None) -> dict[str, Any]:
    """The raw unit entry (sensor and effectors, no location) every planned unit copies."""
    units = data.get("units") or []
    if unit_type is None:
        if not units:
            raise ConfigError("the scenario has no units; give --unit-type", field="--unit-type")
        base = copy.deepcopy(units[0])
    else:
        match = [u for u in units if isinstance(u, dict) and u.get("id") == unit_type]
        if match:
            base = copy.deepcopy(match[0])
        else:
            parts = [p for p in unit_type.split("+") if p]
            if not parts:
                raise ConfigError(
                    f"expected a unit id or SENSOR[+EFFECTOR...], got {unit_type!r}",
                    field="--unit-type",
                )
            base = {"sensor": parts[0], "effectors": parts[1:]}
    for key in ("id", "on", "position"):
        base.pop(key, None)
    out: dict[str, Any] = dict(base)
    return out


def unit_type(
    data: dict[str, Any],
    template: dict[str, Any],
    spec: ScenarioSpec,
    *,
    base_dir: Path | None = None,
    max_range_m: float | None = None,
    pd_min: float = 0.5,
) -> UnitType:
    """Resolve a template unit through the scenario's presets into a :class:`UnitType`.

    The reference target is the raid's smallest radar cross-section class.
    """
    probe = copy.deepcopy(data)
    b = int(spec.assets.building[0])
    where: dict[str, Any] = (
        {"on": str(spec.world.buildings.osm_key[b])}
        if b >= 0
        else {"position": _geo(spec, spec.assets.aim_m[0])}
    )
    probe["units"] = [{**copy.deepcopy(template), "id": "template", **where}]
    try:
        ps = parse_scenario(probe, base_dir=base_dir, source="--unit-type")
    except ConfigError as exc:
        raise ConfigError(f"unit type: {exc}", field="--unit-type") from None
    eff = ps.effectors
    types = tuple(eff.types[int(t)] for t in eff.type_index[eff.unit == 0])
    ref = min(spec.classes, key=lambda c: c.rcs_dbsm)
    name = "+".join([getattr(s, "name", "?") for s in ps.units.sensors_of(0)])
    name = "+".join([name] + [t.name for t in types]) if types else name
    return UnitType(
        name=name,
        sensors=ps.units.sensors_of(0),
        effectors=types,
        rcs_dbsm=float(ref.rcs_dbsm),
        emits=bool(ref.emits_control_link),
        pd_min=pd_min,
        max_range_m=max_range_m,
    )


def _geo(spec: ScenarioSpec, enu: NDArray[np.float64]) -> dict[str, float]:
    lat, lon, _ = spec.world.frame.geodetic_from_enu(np.array([enu[0], enu[1], 0.0]))
    return {
        "lat_deg": round(float(lat[0]), 8),
        "lon_deg": round(float(lon[0]), 8),
        "alt_m": round(max(0.0, float(enu[2])), 2),
    }


def planned_scenario(
    data: dict[str, Any],
    spec: ScenarioSpec,
    cand: Candidates,
    sites: NDArray[np.int64],
    template: dict[str, Any],
    *,
    base_dir: Path | None = None,
) -> dict[str, Any]:
    """The scenario mapping with its units replaced by the planned ones (module docstring).

    With ``base_dir`` (the original file's folder), relative city and preset paths are made
    absolute so the planned file works from anywhere.
    """
    out = copy.deepcopy(data)
    if base_dir is not None:
        city = out.get("city")
        if isinstance(city, dict):
            src = str(city.get("source", "bundled:monaco"))
            if not src.startswith("bundled:") and not Path(src).is_absolute():
                city["source"] = str(base_dir / src)
        if isinstance(out.get("presets"), list):
            out["presets"] = [
                p if Path(str(p)).is_absolute() else str(base_dir / str(p)) for p in out["presets"]
            ]
    out["name"] = f"{data.get('name', 'scenario')}-planned"
    units = []
    b = spec.world.buildings
    for k, s in enumerate(np.asarray(sites, np.int64).tolist()):
        u: dict[str, Any] = {"id": f"plan-{k + 1}"}
        bld = int(cand.building[s])
        if bld >= 0 and bool(cand.on_roof_point[s]):
            u["on"] = str(b.osm_key[bld])
        else:
            roof = cand.pos_m[s].copy()
            roof[2] = max(0.0, roof[2] - cand.mast_m)
            u["position"] = _geo(spec, roof)
        u.update(copy.deepcopy(template))
        u["mast_m"] = float(cand.mast_m)
        units.append(u)
    out["units"] = units
    return out


def sites_geojson(
    spec: ScenarioSpec, cand: Candidates, sites: NDArray[np.int64], weight: NDArray[np.float64]
) -> dict[str, Any]:
    """The chosen sites as a GeoJSON FeatureCollection (lon/lat, mount height above ground)."""
    feats = []
    b = spec.world.buildings
    for k, s in enumerate(np.asarray(sites, np.int64).tolist()):
        g = _geo(spec, cand.pos_m[s])
        bld = int(cand.building[s])
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [g["lon_deg"], g["lat_deg"]]},
                "properties": {
                    "unit": f"plan-{k + 1}",
                    "building": str(b.osm_key[bld]) if bld >= 0 else None,
                    "building_name": str(b.name[bld]) if bld >= 0 else "",
                    "mount_height_m": round(float(cand.pos_m[s, 2]), 2),
                    "x_m": round(float(cand.pos_m[s, 0]), 2),
                    "y_m": round(float(cand.pos_m[s, 1]), 2),
                    "covered_weight_alone": round(float(weight[k]), 4)
                    if math.isfinite(float(weight[k]))
                    else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}
