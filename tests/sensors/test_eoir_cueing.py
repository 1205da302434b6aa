"""Track-cued EO/IR cameras: where they look, how fast they turn, and what it buys."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import shapely

from shorad.errors import ConfigError
from shorad.scenario import parse_scenario
from shorad.sensors import EoirConfig, EoirSensor, cued_pointing
from shorad.sim import simulate
from shorad.sim.events import EventKind
from shorad.testing import SMALL_SCENARIO, prism_world


def _camera(fov_deg: float = 10.0, slew_deg_s: float = 40.0) -> EoirSensor:
    cfg = EoirConfig(
        name="eo",
        max_range_m=3000.0,
        r50_m=1000.0,
        pd_slope=4.0,
        pd_max=0.95,
        scan_period_s=0.5,
        fov_az_rad=math.radians(fov_deg),
        slew_rate_rad_s=math.radians(slew_deg_s),
        min_el_rad=math.radians(-20),
        max_el_rad=math.radians(60),
        sigma_az_rad=1e-3,
        sigma_el_rad=1e-3,
        cueing="tracks",
    )
    return EoirSensor(cfg, 0, np.array([0.0, 0.0, 10.0]))


def _at(az_deg: float, r: float = 1000.0, z: float = 60.0) -> list[float]:
    a = math.radians(az_deg)
    return [r * math.sin(a), r * math.cos(a), z]


def test_looks_at_the_most_threatening_track_in_reach_nearest_first() -> None:
    cam, world = _camera(), prism_world()
    pos = np.array([_at(90), _at(200), _at(300, r=500), _at(45, r=5000)])
    pri = np.array([1.0, 3.0, 3.0, 9.0])  # the 9 is out of range; 200 and 300 tie: nearest
    got = cued_pointing(cam, world, pos, pri, None)
    assert got == pytest.approx(math.radians(300), abs=1e-9)


def test_turns_at_most_slew_rate_times_scan_period_per_look() -> None:
    cam, world = _camera(slew_deg_s=40.0), prism_world()  # 20 deg per 0.5 s look
    pos = np.array([_at(100)])
    got = cued_pointing(cam, world, pos, np.ones(1), math.radians(10))
    assert got == pytest.approx(math.radians(30), abs=1e-9)
    # the short way round across north
    pos = np.array([_at(330)])
    got = cued_pointing(cam, world, pos, np.ones(1), math.radians(5))
    assert got == pytest.approx(math.radians(345), abs=1e-9)
    # close enough: straight on it
    got = cued_pointing(cam, world, pos, np.ones(1), math.radians(340))
    assert got == pytest.approx(math.radians(330), abs=1e-9)


def test_no_cue_without_a_visible_track_or_for_a_staring_camera() -> None:
    cam = _camera()
    assert cued_pointing(cam, prism_world(), np.zeros((0, 3)), np.zeros(0), None) is None
    # a 50 m block between the camera and the only track
    block = shapely.box(-20, 400, 20, 440)
    assert (
        cued_pointing(cam, prism_world([block]), np.array([_at(0, z=30)]), np.ones(1), 0.0) is None
    )
    staring = _camera(fov_deg=360.0)
    assert cued_pointing(staring, prism_world(), np.array([_at(0)]), np.ones(1), None) is None


def test_cueing_mode_is_validated() -> None:
    with pytest.raises(ConfigError, match="cueing"):
        EoirConfig(
            name="eo",
            max_range_m=1.0,
            r50_m=1.0,
            pd_slope=1.0,
            pd_max=0.5,
            scan_period_s=1.0,
            fov_az_rad=1.0,
            slew_rate_rad_s=1.0,
            min_el_rad=0.0,
            max_el_rad=1.0,
            sigma_az_rad=1.0,
            sigma_el_rad=1.0,
            cueing="radar",
        )


def _with_camera(cueing: str) -> dict[str, Any]:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["duration_s"] = 250
    camera = {
        "type": "eoir",
        "max_range_m": 3000.0,
        "r50_m": 1500.0,
        "scan_period_s": 0.5,
        "fov_az_deg": 15.0,
        "slew_rate_deg_s": 60.0,
        "min_elevation_deg": -20.0,
        "max_elevation_deg": 60.0,
        "sigma_az_deg": 0.05,
        "sigma_el_deg": 0.05,
        "cueing": cueing,
        "sources": dict.fromkeys(
            (
                "max_range_m",
                "r50_m",
                "scan_period_s",
                "fov_az_deg",
                "slew_rate_deg_s",
                "min_elevation_deg",
                "max_elevation_deg",
                "sigma_az_deg",
                "sigma_el_deg",
            ),
            "illustrative",
        ),
    }
    for u in data["units"]:
        u["sensors"] = [u.pop("sensor"), camera]
    return data


def _camera_hits(cueing: str, seed: int) -> int:
    ev = simulate(parse_scenario(_with_camera(cueing)), seed).events
    det = ev.kind == int(EventKind.DETECTION)
    cam = det & np.isnan(ev.value)  # the camera has no rangefinder: no range
    return int((cam & (ev.threat_id >= 0)).sum())


def test_a_cued_camera_sees_threats_far_more_often_than_a_searching_one() -> None:
    # 15 deg sectors: a searching camera looks at a given direction once in 24 looks
    search = sum(_camera_hits("search", s) for s in (1, 2))
    cued = sum(_camera_hits("tracks", s) for s in (1, 2))
    assert cued > 3 * max(search, 1)


def test_bad_cueing_in_a_scenario_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"units\[0\]\.sensors\[1\]"):
        parse_scenario(_with_camera("always"))
