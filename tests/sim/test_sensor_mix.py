"""Units with several sensors of any type: scenario resolution and the engine's scans."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from shorad.errors import ConfigError
from shorad.scenario import parse_scenario
from shorad.sensors import EoirConfig, RadarConfig, RfConfig
from shorad.sim import simulate
from shorad.sim.events import EventKind
from shorad.testing import SMALL_SCENARIO


def _mixed() -> dict[str, Any]:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["duration_s"] = 150
    u0 = data["units"][0]
    del u0["sensor"]
    u0["sensors"] = ["rooftop_radar", "eo_day", "rf_df"]
    return data


def test_sensors_list_resolves_and_sensor_stays_a_shorthand() -> None:
    spec = parse_scenario(_mixed())
    kinds = [type(c) for c in spec.units.sensors_of(0)]
    assert kinds == [RadarConfig, EoirConfig, RfConfig]
    assert [type(c) for c in spec.units.sensors_of(1)] == [RadarConfig]
    assert spec.units.radar[0] is spec.units.sensors_of(0)[0]
    assert spec.classes[0].emits_control_link is False  # loitering munition: silent
    assert spec.classes[1].emits_control_link is True  # quadcopter


def test_sensor_and_sensors_together_is_an_error() -> None:
    data = _mixed()
    data["units"][0]["sensor"] = "rooftop_radar"
    with pytest.raises(ConfigError, match="not both"):
        parse_scenario(data)


def test_inline_eoir_sensor_needs_sources_and_a_fitting_slew() -> None:
    data = _mixed()
    inline = {
        "type": "eoir",
        "max_range_m": 2000.0,
        "r50_m": 800.0,
        "scan_period_s": 0.5,
        "fov_az_deg": 10.0,
        "slew_rate_deg_s": 5.0,
        "min_elevation_deg": -10.0,
        "max_elevation_deg": 50.0,
        "sigma_az_deg": 0.1,
        "sigma_el_deg": 0.1,
        "sources": {},
    }
    data["units"][0]["sensors"] = [inline]
    with pytest.raises(ConfigError, match=r"units\[0\]\.sensors\[0\]"):
        parse_scenario(data)


def test_engine_scans_every_sensor_and_keeps_the_raid() -> None:
    base = copy.deepcopy(SMALL_SCENARIO)
    base["duration_s"] = 150
    a = simulate(parse_scenario(base), 3)
    b = simulate(parse_scenario(_mixed()), 3)
    np.testing.assert_array_equal(a.plan.launch_t_s, b.plan.launch_t_s)
    np.testing.assert_array_equal(a.plan.vert_m, b.plan.vert_m)
    ev = b.events
    det = ev.kind == int(EventKind.DETECTION)
    # angle-only / bearing-only detections (no range) came from the EO and RF sensors
    no_range = det & np.isnan(ev.value)
    assert no_range.any()
    tid = ev.threat_id[no_range]
    assert (tid >= 0).any()
    # the other unit's radar stream is untouched by the added sensors
    first_a = ev_first(a.events)
    first_b = ev_first(b.events)
    assert first_a == first_b


def ev_first(ev: Any) -> tuple[float, float]:
    det = (ev.kind == int(EventKind.DETECTION)) & (ev.unit_id == 1)
    i = int(np.flatnonzero(det)[0])
    return float(ev.t_s[i]), float(ev.value[i])
