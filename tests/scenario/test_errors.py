"""Bad input gets a clear error naming the field, the value and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shorad.errors import ConfigError
from shorad.scenario import load_scenario, parse_scenario


def _err(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_scenario(data)
    return str(info.value)


def test_small_scenario_is_valid(small_spec: Any) -> None:
    assert small_spec.n_threats == 8
    assert len(small_spec.units) == 2
    assert len(small_spec.effectors) == 3
    assert [c.name for c in small_spec.classes] == ["loitering_munition", "quadcopter"]


def test_unknown_key(small_scenario: dict[str, Any]) -> None:
    small_scenario["units"][0]["sensr"] = "rooftop_radar"
    msg = _err(small_scenario)
    assert "units[0].sensr" in msg
    assert "unknown key" in msg


def test_wrong_unit_suffix(small_scenario: dict[str, Any]) -> None:
    small_scenario["raid"][0]["distance_km"] = 4
    del small_scenario["raid"][0]["distance_m"]
    msg = _err(small_scenario)
    assert "raid[0].distance_km" in msg
    assert "unit suffix" in msg
    assert "raid[0].distance_m: required field is missing" in msg


def test_wrong_type_names_the_value(small_scenario: dict[str, Any]) -> None:
    small_scenario["duration_s"] = "15 min"
    msg = _err(small_scenario)
    assert "duration_s" in msg
    assert "'15 min'" in msg


def test_negative_range_in_an_inline_sensor(small_scenario: dict[str, Any]) -> None:
    from shorad.scenario.presets import bundled_presets

    radar = dict(bundled_presets()["sensors"]["rooftop_radar"])
    radar["max_range_m"] = -50.0
    small_scenario["units"][0]["sensor"] = radar
    msg = _err(small_scenario)
    assert "units[0].sensor.max_range_m" in msg
    assert "-50.0" in msg
    assert "greater than 0" in msg


def test_unsourced_number_in_a_preset(small_scenario: dict[str, Any]) -> None:
    from shorad.scenario.presets import bundled_presets

    radar = dict(bundled_presets()["sensors"]["rooftop_radar"])
    radar["sources"] = {k: v for k, v in radar["sources"].items() if k != "pfa"}
    small_scenario["units"][0]["sensor"] = radar
    msg = _err(small_scenario)
    assert "units[0].sensor" in msg
    assert "'pfa'" in msg


def test_asset_that_names_no_building(small_scenario: dict[str, Any]) -> None:
    small_scenario["assets"][0]["building"] = "Ministere d'Etat"
    msg = _err(small_scenario)
    assert "assets[0].building" in msg
    assert "Ministere d'Etat" in msg
    assert "Ministère d'État" in msg  # suggests the close name


def test_unit_off_the_map(small_scenario: dict[str, Any]) -> None:
    small_scenario["units"][1] = {
        "id": "far",
        "position": {"lat_deg": 43.9, "lon_deg": 7.6},
        "sensor": "rooftop_radar",
    }
    msg = _err(small_scenario)
    assert "units[1].position" in msg
    assert "outside the city" in msg
    assert "43.9" in msg


def test_unknown_preset_and_target_and_class(small_scenario: dict[str, Any]) -> None:
    bad = dict(small_scenario, units=[dict(small_scenario["units"][0], effectors=["laser"])])
    msg = _err(bad)
    assert "units[0].effectors[0]" in msg
    assert "'laser'" in msg
    assert "rooftop_gun" in msg
    raid = [dict(small_scenario["raid"][0], target="stadium")]
    msg = _err(dict(small_scenario, raid=raid))
    assert "raid[0].target" in msg
    assert "'stadium'" in msg
    assert "ministry" in msg
    raid = [dict(small_scenario["raid"][0], **{"class": "jet"})]
    msg = _err(dict(small_scenario, raid=raid))
    assert "raid[0].class" in msg
    assert "'jet'" in msg


def test_scan_period_must_fit_the_clock(small_scenario: dict[str, Any]) -> None:
    small_scenario["time_step_s"] = 0.3
    msg = _err(small_scenario)
    assert "scan_period_s" in msg
    assert "time_step_s" in msg


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nunits: [a, b\nraid: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"malformed YAML at line \d+, column \d+"):
        load_scenario(p)


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")
    p = tmp_path / "list.yaml"
    p.write_text(yaml.safe_dump([1, 2]), encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_scenario(p)


def test_bundled_presets_are_all_sourced() -> None:
    from shorad.scenario.presets import PresetLibrary, bundled_presets

    lib = PresetLibrary(**bundled_presets())
    assert {"quadcopter", "loitering_munition"} <= set(lib.threats)
    assert {"rooftop_gun", "vshorad_missile"} <= set(lib.effectors)
    assert "rooftop_radar" in lib.sensors


def test_demo_scenario_meets_the_brief(demo_spec: Any) -> None:
    assert demo_spec.n_threats >= 50
    assert len(demo_spec.units) >= 6
    assert demo_spec.duration_s >= 900
    assert {c.name for c in demo_spec.classes} == {"quadcopter", "loitering_munition"}
    kinds = {t.kind for t in demo_spec.effectors.types}
    assert kinds == {"gun", "missile"}
    # the packaged copy and examples/demo.yaml are the same file
    repo = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"
    from shorad.scenario import demo_scenario_path

    assert repo.read_bytes() == demo_scenario_path().read_bytes()


def test_positions_and_waypoints_resolve_to_enu(small_scenario: dict[str, Any]) -> None:
    import numpy as np

    small_scenario["assets"].append(
        {"id": "square", "position": {"lat_deg": 43.7315, "lon_deg": 7.4195, "alt_m": 2.0}}
    )
    small_scenario["units"].append(
        {
            "id": "mobile",
            "position": {"lat_deg": 43.7318, "lon_deg": 7.4200, "alt_m": 0.0},
            "mast_m": 5.0,
            "effectors": ["rooftop_gun"],
        }
    )
    wp = {"lat_deg": 43.7250, "lon_deg": 7.4300}
    small_scenario["raid"][0]["waypoints"] = [wp]
    small_scenario["raid"][0]["target"] = "square"
    spec = parse_scenario(small_scenario)
    enu = spec.world.frame.enu_from_geodetic(43.7315, 7.4195, 0.0)[0]
    assert spec.assets.building[2] == -1
    np.testing.assert_allclose(spec.assets.aim_m[2], [enu[0], enu[1], 2.0], atol=1e-6)
    assert spec.units.building[2] == -1
    assert spec.units.radar[2] is None
    assert spec.units.pos_m[2, 2] == pytest.approx(5.0)
    from shorad.sim import simulate

    plan = simulate(spec, 1).plan
    wp_xy = spec.world.frame.enu_from_geodetic(wp["lat_deg"], wp["lon_deg"], 0.0)[0, :2]
    for i in range(spec.raid[0].count):
        # every threat of the group flies through the waypoint, then on to its target
        d = np.linalg.norm(plan.vert_m[i, :, :2] - wp_xy, axis=1)
        assert d.min() < 1e-6
        assert plan.target[i] == 2


def test_no_fire_zones_resolve_and_hold_fire(small_scenario: dict[str, Any]) -> None:
    from shapely import contains_xy

    from shorad.sim import EventKind, simulate

    # a zone over the whole quarter north of the origin, where the quadcopters come in
    small_scenario["doctrine"] = {
        "no_fire_zones": [
            {
                "name": "housing-north",
                "polygon": [
                    {"lat_deg": 43.7330, "lon_deg": 7.4100},
                    {"lat_deg": 43.7330, "lon_deg": 7.4300},
                    {"lat_deg": 43.7600, "lon_deg": 7.4300},
                    {"lat_deg": 43.7600, "lon_deg": 7.4100},
                ],
            }
        ]
    }
    spec = parse_scenario(small_scenario)
    (zone,) = spec.doctrine.no_fire_zones
    assert zone.area > 1e6
    ev = simulate(spec, 7).events
    eng = ev.of(EventKind.ENGAGEMENT)
    assert eng.any()
    assert not contains_xy(zone, ev.x_m[eng], ev.y_m[eng]).any()
    bowtie = [
        {"lat_deg": 43.73, "lon_deg": 7.41},
        {"lat_deg": 43.74, "lon_deg": 7.42},
        {"lat_deg": 43.73, "lon_deg": 7.42},
        {"lat_deg": 43.74, "lon_deg": 7.41},
    ]
    small_scenario["doctrine"] = {"no_fire_zones": [{"name": "bad", "polygon": bowtie}]}
    msg = _err(small_scenario)
    assert "doctrine.no_fire_zones[0].polygon" in msg
    assert "'bad'" in msg
