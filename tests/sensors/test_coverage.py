"""Coverage maps and warning times (shorad.sensors.coverage)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from shorad.sensors import (
    Radar,
    RadarConfig,
    RfConfig,
    RfSensor,
    analyse_coverage,
    detection_probability,
    grid_axes,
)
from shorad.testing import prism_world

CFG = RadarConfig(
    name="t",
    max_range_m=3000.0,
    min_range_m=20.0,
    ref_range_m=1500.0,
    ref_snr_db=13.0,
    ref_rcs_dbsm=-20.0,
    pfa=1e-6,
    swerling=1,
    scan_period_s=1.0,
    min_el_rad=math.radians(-30),
    max_el_rad=math.radians(70),
    sigma_range_m=5.0,
    sigma_az_rad=0.01,
    sigma_el_rad=0.01,
    clutter_per_scan=0.0,
)


def test_grid_axes() -> None:
    x, y = grid_axes((0.0, -100.0, 95.0, 100.0), 10.0)
    assert x.size == 10
    assert y.size == 20
    assert_allclose(x[:2], [5.0, 15.0])


def test_map_follows_radar_equation_los_and_buildings() -> None:
    wall = shapely.box(100.0, -200.0, 120.0, 200.0)  # 40 m high wall east of the radar
    world = prism_world([wall], 40.0)
    radar = Radar(CFG, 0, np.array([0.0, 0.0, 10.0]))
    x = np.array([-305.0, 110.0, 305.0])
    y = np.array([5.0])
    cov = analyse_coverage(
        world,
        [radar],
        x,
        y,
        [20.0, 150.0],
        rcs_dbsm=-20.0,
        emits=False,
        speed_mps=20.0,
        asset_xy_m=np.zeros((1, 2)),
        n_bearings=4,
        step_m=10.0,
    )
    # west: clear, Pd from the radar equation
    r = math.dist((0, 0, 10), (-305, 5, 20))
    assert cov.pd[0, 0, 0] == pytest.approx(
        detection_probability(CFG, np.array([r]), np.array([-20.0]))[0]
    )
    # inside the wall at 20 m: NaN; above it at 150 m: a number
    assert np.isnan(cov.pd[0, 0, 1])
    assert np.isfinite(cov.pd[1, 0, 1])
    # behind the wall: hidden at 20 m, seen over it at 150 m
    assert cov.pd[0, 0, 2] == 0.0
    assert cov.pd[1, 0, 2] > 0.5


def test_warning_time_single_scan_matches_closed_form() -> None:
    world = prism_world([], 10.0)
    radar = Radar(CFG, 0, np.array([0.0, 0.0, 0.0]))
    cov = analyse_coverage(
        world,
        [radar],
        np.array([0.0]),
        np.array([0.0]),
        [100.0],
        rcs_dbsm=-20.0,
        emits=False,
        speed_mps=20.0,
        asset_xy_m=np.zeros((1, 2)),
        n_bearings=8,
        step_m=5.0,
        max_distance_m=4000.0,
    )
    # Swerling 1: Pd = pfa ** (1 / (1 + snr)) = 0.5  ->  snr = ln(pfa)/ln(0.5) - 1
    snr = math.log(CFG.pfa) / math.log(0.5) - 1.0
    snr_db = 10 * math.log10(snr)
    r50 = CFG.ref_range_m * 10 ** ((CFG.ref_snr_db - snr_db) / 40.0)
    ground = math.sqrt(r50**2 - 100.0**2)
    assert_allclose(cov.detect_distance_m[0, 0], ground, atol=5.0)
    assert_allclose(cov.warning_s[0, 0], cov.detect_distance_m[0, 0] / 20.0)
    cum = analyse_coverage(
        world,
        [radar],
        np.array([0.0]),
        np.array([0.0]),
        [100.0],
        rcs_dbsm=-20.0,
        emits=False,
        speed_mps=20.0,
        asset_xy_m=np.zeros((1, 2)),
        n_bearings=8,
        step_m=5.0,
        max_distance_m=4000.0,
        mode="cumulative",
    )
    # several looks before Pd reaches 0.5: earlier detection, within the max range
    assert (cum.warning_s > cov.warning_s).all()
    assert (cum.detect_distance_m <= CFG.max_range_m).all()


def test_rf_coverage_is_zero_for_silent_classes_and_buildings_shorten_warning() -> None:
    rf = RfSensor(
        RfConfig(name="rf", max_range_m=1000.0, pd=0.9, scan_period_s=1.0, sigma_az_rad=0.05),
        0,
        np.array([0.0, 0.0, 5.0]),
    )
    x, y = grid_axes((-500.0, -500.0, 500.0, 500.0), 50.0)
    kw = {"speed_mps": 10.0, "asset_xy_m": np.zeros((1, 2)), "n_bearings": 4, "step_m": 10.0}
    silent = analyse_coverage(
        prism_world([], 10.0), [rf], x, y, [30.0], rcs_dbsm=0.0, emits=False, **kw
    )
    assert (silent.pd == 0).all()
    assert (silent.warning_s == 0).all()
    loud = analyse_coverage(
        prism_world([], 10.0), [rf], x, y, [30.0], rcs_dbsm=0.0, emits=True, **kw
    )
    assert_allclose(loud.pd, 0.9)
    assert_allclose(loud.detect_distance_m[0, 0], 1000.0, atol=10.0)
    # a tall block north of the sensor hides the northern approach at 30 m
    block = shapely.box(-300.0, 100.0, 300.0, 150.0)
    hidden = analyse_coverage(
        prism_world([block], 60.0), [rf], x, y, [30.0], rcs_dbsm=0.0, emits=True, **kw
    )
    assert hidden.detect_distance_m[0, 0, 0] < 110.0  # bearing 0 = north
    assert hidden.min_warning_s[0, 0] == hidden.warning_s[0, 0, 0]
    assert hidden.worst_bearing_rad[0, 0] == 0.0


def test_staring_radar_coverage_is_vectorised_fast() -> None:
    # guard against an accidental per-point loop: 100 x 100 cells x 3 layers well under 5 s
    import time

    world = prism_world([shapely.box(-20, -20, 20, 20)], 30.0)
    radars = [
        Radar(dataclasses.replace(CFG), i, np.array([i * 100.0, 0.0, 40.0])) for i in range(3)
    ]
    x, y = grid_axes((-500.0, -500.0, 500.0, 500.0), 10.0)
    t0 = time.perf_counter()
    cov = analyse_coverage(
        world,
        radars,
        x,
        y,
        [30.0, 100.0, 300.0],
        rcs_dbsm=-20.0,
        emits=False,
        speed_mps=40.0,
        asset_xy_m=np.zeros((1, 2)),
    )
    assert time.perf_counter() - t0 < 5.0
    assert cov.pd.shape == (3, 100, 100)
