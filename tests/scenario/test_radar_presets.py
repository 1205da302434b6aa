"""Every radar-model option is settable from a preset and reaches the Radar object."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.testing import assert_allclose

from shorad.errors import ConfigError
from shorad.scenario import load_scenario, parse_scenario
from shorad.scenario.presets import RadarPreset, bundled_presets
from shorad.sensors.factory import make_sensor
from shorad.sensors.radar import Radar, RadarConfig, expected_false_alarms

# preset key, value set in the preset, RadarConfig attribute, value it must have there
OPTIONS: list[tuple[str, Any, str, Any]] = [
    ("max_range_m", 4321.0, "max_range_m", 4321.0),
    ("min_range_m", 77.0, "min_range_m", 77.0),
    ("ref_range_m", 1234.0, "ref_range_m", 1234.0),
    ("ref_snr_db", 11.5, "ref_snr_db", 11.5),
    ("ref_rcs_dbsm", -17.0, "ref_rcs_dbsm", -17.0),
    ("pfa", 3.0e-5, "pfa", 3.0e-5),
    ("swerling", 0, "swerling", 0),
    ("scan_period_s", 2.0, "scan_period_s", 2.0),
    ("min_elevation_deg", -10.0, "min_el_rad", math.radians(-10.0)),
    ("max_elevation_deg", 45.0, "max_el_rad", math.radians(45.0)),
    ("sigma_range_m", 2.5, "sigma_range_m", 2.5),
    ("sigma_az_deg", 0.3, "sigma_az_rad", math.radians(0.3)),
    ("sigma_el_deg", 0.7, "sigma_el_rad", math.radians(0.7)),
    ("clutter_per_scan", 1.5, "clutter_per_scan", 1.5),
    ("n_resolution_cells", 2.0e5, "n_resolution_cells", 2.0e5),
    ("multipath_loss_db", 4.0, "multipath_loss_db", 4.0),
    ("multipath_el_scale_deg", 2.0, "multipath_el_scale_rad", math.radians(2.0)),
    ("sigma_range_rate_mps", 0.8, "sigma_range_rate_mps", 0.8),
    ("clutter_max_range_rate_mps", 30.0, "clutter_max_range_rate_mps", 30.0),
]


def _rooftop_radar() -> dict[str, Any]:
    return copy.deepcopy(bundled_presets()["sensors"]["rooftop_radar"])


def _radar_of(spec: Any, unit: int = 0) -> Radar:
    """The Radar object the engine builds for the unit's first sensor."""
    cfg = spec.units.sensors_of(unit)[0]
    assert isinstance(cfg, RadarConfig)
    sensor = make_sensor(cfg, unit, spec.units.pos_m[unit])
    assert isinstance(sensor, Radar)
    return sensor


def test_every_model_option_has_a_preset_key() -> None:
    """No RadarConfig field is left without a way to set it from a preset."""
    covered = {attr for _, _, attr, _ in OPTIONS} | {
        "name",
        "range_resolution_m",
        "az_resolution_rad",
    }
    assert set(RadarConfig.__dataclass_fields__) == covered
    assert {key for key, *_ in OPTIONS} | {"range_resolution_m", "az_resolution_deg"} <= set(
        RadarPreset.model_fields
    )


@pytest.mark.parametrize(
    ("key", "value", "attr", "expected"), OPTIONS, ids=[o[0] for o in OPTIONS]
)
def test_inline_preset_option_reaches_the_radar(
    small_scenario: dict[str, Any], key: str, value: Any, attr: str, expected: Any
) -> None:
    radar = _rooftop_radar()
    assert radar.get(key) != value  # the test really changes something
    radar[key] = value
    radar["sources"][key] = "illustrative"
    small_scenario["units"][0]["sensor"] = radar
    got = getattr(_radar_of(parse_scenario(small_scenario)).config, attr)
    assert got == pytest.approx(expected, rel=1e-15, abs=0.0)


def test_resolution_merging_reaches_the_radar(small_scenario: dict[str, Any]) -> None:
    radar = _rooftop_radar()
    radar.update(range_resolution_m=12.0, az_resolution_deg=1.5)
    radar["sources"].update(range_resolution_m="illustrative", az_resolution_deg="illustrative")
    small_scenario["units"][0]["sensor"] = radar
    cfg = _radar_of(parse_scenario(small_scenario)).config
    assert cfg.range_resolution_m == 12.0
    assert cfg.az_resolution_rad == pytest.approx(math.radians(1.5), rel=1e-15)


def test_defaults_unchanged(small_spec: Any) -> None:
    """Keys left out keep the model's exact defaults (the golden run depends on it)."""
    cfg = _radar_of(small_spec).config
    fields = RadarConfig.__dataclass_fields__
    optional = [
        "n_resolution_cells",
        "multipath_loss_db",
        "multipath_el_scale_rad",
        "sigma_range_rate_mps",
        "range_resolution_m",
        "az_resolution_rad",
        "clutter_max_range_rate_mps",
    ]
    for f in optional:
        assert getattr(cfg, f) == fields[f].default, f


def test_bundled_doppler_radar_from_a_preset_file(
    small_scenario: dict[str, Any], tmp_path: Path, rng: np.random.Generator
) -> None:
    """A scenario's own preset file, setting every option, reaches the radar and its scan."""
    preset = copy.deepcopy(bundled_presets()["sensors"]["doppler_radar"])
    set_keys = set(preset) - {"type", "description", "sources"}
    assert set(RadarPreset.model_fields) - {"type", "description", "sources"} == set_keys
    preset["sigma_range_rate_mps"] = 0.25
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({"sensors": {"my_radar": preset}}))
    small_scenario["presets"] = ["mine.yaml"]
    small_scenario["units"][0]["sensor"] = "my_radar"
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(small_scenario))
    spec = load_scenario(tmp_path / "scenario.yaml")
    radar = _radar_of(spec)
    cfg = radar.config
    assert cfg.name == "my_radar"
    assert cfg.sigma_range_rate_mps == 0.25
    assert cfg.n_resolution_cells == preset["n_resolution_cells"]
    assert cfg.range_resolution_m == preset["range_resolution_m"] > 0.0
    assert cfg.az_resolution_rad == pytest.approx(math.radians(preset["az_resolution_deg"]))
    assert expected_false_alarms(cfg) == pytest.approx(
        preset["clutter_per_scan"] + preset["pfa"] * preset["n_resolution_cells"]
    )
    assert cfg.R[3, 3] == pytest.approx(0.25**2)
    # a scan measures range rate (Doppler) on every detection, true ones near the truth
    pos = radar.pos_m + np.array([[800.0, 300.0, 150.0], [-600.0, 900.0, 200.0]])
    vel = np.array([[-20.0, 0.0, 0.0], [10.0, -15.0, 0.0]])
    det = radar.scan(spec.world, 0.0, pos, np.full(2, 10.0), np.arange(2), rng=rng, vel_mps=vel)
    assert np.all(np.isfinite(det.z[:, 3]))
    assert np.any(det.truth_id >= 0)
    for row in np.flatnonzero(det.truth_id >= 0):
        k = det.truth_id[row]
        u = (pos[k] - radar.pos_m) / np.linalg.norm(pos[k] - radar.pos_m)
        assert_allclose(det.z[row, 3], vel[k] @ u, atol=6 * 0.25)


@pytest.mark.parametrize(
    ("key", "value", "expect"),
    [
        ("n_resolution_cells", -1.0, "greater than or equal to 0"),
        ("multipath_loss_db", -3.0, "greater than or equal to 0"),
        ("multipath_el_scale_deg", 0.0, "greater than 0"),
        ("sigma_range_rate_mps", -0.5, "greater than or equal to 0"),
        ("range_resolution_m", -10.0, "greater than or equal to 0"),
        ("az_resolution_deg", 400.0, "less than or equal to 360"),
        ("clutter_max_range_rate_mps", 0.0, "greater than 0"),
        ("swerling", 3, "0 or 1"),
        ("pfa", 1.5, "less than 1"),
    ],
    ids=lambda v: str(v),
)
def test_bad_option_names_field_and_value(
    small_scenario: dict[str, Any], key: str, value: Any, expect: str
) -> None:
    radar = _rooftop_radar()
    radar[key] = value
    radar["sources"][key] = "illustrative"
    small_scenario["units"][0]["sensor"] = radar
    with pytest.raises(ConfigError) as info:
        parse_scenario(small_scenario)
    msg = str(info.value)
    assert f"units[0].sensor.{key}" in msg
    assert str(value) in msg
    assert expect in msg


def test_half_a_resolution_cell_is_refused(small_scenario: dict[str, Any]) -> None:
    radar = _rooftop_radar()
    radar["range_resolution_m"] = 10.0
    radar["sources"]["range_resolution_m"] = "illustrative"
    small_scenario["units"][0]["sensor"] = radar
    with pytest.raises(ConfigError) as info:
        parse_scenario(small_scenario)
    msg = str(info.value)
    assert "units[0].sensor" in msg
    assert "az_resolution_deg" in msg
    assert "10.0" in msg


def test_new_options_need_a_source(small_scenario: dict[str, Any]) -> None:
    radar = _rooftop_radar()
    radar["sigma_range_rate_mps"] = 1.0
    small_scenario["units"][0]["sensor"] = radar
    with pytest.raises(ConfigError) as info:
        parse_scenario(small_scenario)
    assert "'sigma_range_rate_mps'" in str(info.value)
