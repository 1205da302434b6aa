"""EO/IR and RF direction-finder sensors: Pd statistics, angle noise, FOV, occlusion, silence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from shorad.sensors import (
    AZ,
    EL,
    RANGE,
    EoirConfig,
    EoirSensor,
    RfConfig,
    RfSensor,
    Targets,
    eoir_detection_probability,
)
from shorad.testing import prism_world


def _eo(**kw: float) -> EoirConfig:
    base: dict[str, float] = {
        "max_range_m": 3000.0,
        "r50_m": 1000.0,
        "pd_slope": 4.0,
        "pd_max": 0.95,
        "scan_period_s": 0.5,
        "fov_az_rad": 2.0 * math.pi,
        "slew_rate_rad_s": math.pi,
        "min_el_rad": math.radians(-20),
        "max_el_rad": math.radians(60),
        "sigma_az_rad": 1e-3,
        "sigma_el_rad": 2e-3,
    }
    base.update(kw)
    return EoirConfig(name="eo", **base)  # type: ignore[arg-type]


def _targets(pos: np.ndarray, emits: bool | np.ndarray = True) -> Targets:
    n = pos.shape[0]
    return Targets(
        pos_m=np.asarray(pos, np.float64),
        vel_mps=np.zeros((n, 3)),
        rcs_dbsm=np.full(n, -20.0),
        emits=np.broadcast_to(np.asarray(emits, np.bool_), (n,)).copy(),
        threat_id=np.arange(n, dtype=np.int64),
    )


def test_eoir_pd_curve() -> None:
    cfg = _eo()
    assert_allclose(eoir_detection_probability(cfg, np.array([1000.0])), [0.475])
    assert eoir_detection_probability(cfg, np.array([3001.0]))[0] == 0.0
    assert eoir_detection_probability(cfg, np.array([10.0]))[0] == pytest.approx(0.95, abs=1e-6)


def test_eoir_detection_rate_and_angle_noise_statistics() -> None:
    cfg = _eo()
    sensor = EoirSensor(cfg, 3, np.array([0.0, 0.0, 10.0]))
    world = prism_world()
    # 400 targets at 1000 m (Pd 0.475), 40 m up, spread in azimuth
    az = np.linspace(0, 2 * math.pi, 400, endpoint=False)
    pos = np.column_stack([1000 * np.sin(az), 1000 * np.cos(az), np.full(400, 50.0)])
    rng = np.random.default_rng(5)
    tg = _targets(pos)
    d_az, d_el, n_det = [], [], 0
    true_el = math.atan2(40.0, 1000.0)
    for _ in range(20):
        det = sensor.scan_targets(world, 0.0, tg, rng=rng)
        n_det += len(det)
        assert np.isnan(det.z[:, RANGE]).all()
        assert np.isnan(det.z[:, 3]).all()
        assert (det.R[:, RANGE, :] == 0).all()
        assert (det.R[:, 3, :] == 0).all()
        assert not det.has_position.any()
        assert (det.sensor_id == 3).all()
        d_az.append((det.z[:, AZ] - az[det.truth_id] + math.pi) % (2 * math.pi) - math.pi)
        d_el.append(det.z[:, EL] - true_el)
    n = 20 * 400
    p = 0.95 / 2
    assert abs(n_det / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    e_az, e_el = np.concatenate(d_az), np.concatenate(d_el)
    assert abs(e_az.mean()) < 4 * 1e-3 / math.sqrt(e_az.size)
    assert e_az.std() == pytest.approx(1e-3, rel=0.06)
    assert e_el.std() == pytest.approx(2e-3, rel=0.06)


def test_eoir_laser_range_inside_its_reach_only() -> None:
    sensor = EoirSensor(
        _eo(laser_max_range_m=500.0, sigma_range_m=1.0, r50_m=1e5, pd_max=1.0), 0, np.zeros(3)
    )
    pos = np.array([[0.0, 300.0, 50.0], [0.0, 800.0, 50.0]])
    det = sensor.scan_targets(prism_world(), 0.0, _targets(pos), rng=np.random.default_rng(1))
    assert list(det.truth_id) == [0, 1]
    assert det.has_position.tolist() == [True, False]
    assert det.z[0, RANGE] == pytest.approx(math.hypot(300, 50), abs=6.0)
    assert det.R[0, RANGE, RANGE] == 1.0
    assert det.R[1, RANGE, RANGE] == 0.0


def test_eoir_field_of_view_search_and_occlusion() -> None:
    # 60 deg FOV: 6 sectors; slew/revisit follow
    cfg = _eo(fov_az_rad=math.radians(60), r50_m=1e6, pd_max=1.0)
    sensor = EoirSensor(cfg, 0, np.zeros(3))
    assert cfg.n_sectors == 6
    assert sensor.revisit_s == pytest.approx(3.0)
    assert cfg.slew_s == pytest.approx((math.pi / 3) / math.pi)
    north = np.array([[0.0, 500.0, 30.0]])  # az 0: sector 0 at t = 0
    east = np.array([[500.0, 0.0, 30.0]])  # az 90 deg: sector 1 or 2 boundary -> 1.5 -> sector 2
    rng = np.random.default_rng(2)
    assert len(sensor.scan_targets(prism_world(), 0.0, _targets(north), rng=rng)) == 1
    assert len(sensor.scan_targets(prism_world(), 0.5, _targets(north), rng=rng)) == 0
    hits = [
        len(sensor.scan_targets(prism_world(), 0.5 * k, _targets(east), rng=rng)) for k in range(6)
    ]
    assert sum(hits) >= 1
    assert hits[0] == 0
    # a building between sensor and target blocks it
    wall = shapely.box(-50, 200, 50, 220)
    assert len(sensor.scan_targets(prism_world([wall]), 0.0, _targets(north), rng=rng)) == 0


def test_rf_detects_only_emitting_classes() -> None:
    cfg = RfConfig(name="rf", max_range_m=2000.0, pd=0.8, scan_period_s=1.0, sigma_az_rad=0.05)
    sensor = RfSensor(cfg, 1, np.zeros(3))
    rng = np.random.default_rng(9)
    n = 300
    az = rng.uniform(0, 2 * math.pi, n)
    pos = np.column_stack([1500 * np.sin(az), 1500 * np.cos(az), np.full(n, 80.0)])
    emits = np.arange(n) % 2 == 0
    tg = _targets(pos, emits)
    counts, errs = 0, []
    for _ in range(10):
        det = sensor.scan_targets(prism_world(), 0.0, tg, rng=rng)
        assert emits[det.truth_id].all()  # never a silent one
        assert np.isnan(det.z[:, [RANGE, EL, 3]]).all()
        assert (det.R[:, AZ, AZ] == 0.05**2).all()
        assert det.R[:, RANGE, RANGE].sum() == 0
        counts += len(det)
        errs.append((det.z[:, AZ] - az[det.truth_id] + math.pi) % (2 * math.pi) - math.pi)
    m = 10 * emits.sum()
    assert abs(counts / m - 0.8) < 4 * math.sqrt(0.8 * 0.2 / m)
    assert np.concatenate(errs).std() == pytest.approx(0.05, rel=0.08)
    silent = _targets(pos, False)
    assert len(sensor.scan_targets(prism_world(), 0.0, silent, rng=rng)) == 0
    # out of range: nothing
    far = _targets(pos * 2.0)
    assert len(sensor.scan_targets(prism_world(), 0.0, far, rng=rng)) == 0


def test_rf_occlusion_and_its_switch() -> None:
    wall = shapely.box(-50, 200, 50, 220)
    pos = np.array([[0.0, 500.0, 30.0]])
    cfg = RfConfig(name="rf", max_range_m=2000.0, pd=1.0, scan_period_s=1.0, sigma_az_rad=0.01)
    rng = np.random.default_rng(0)
    blocked = RfSensor(cfg, 0, np.zeros(3)).scan_targets(
        prism_world([wall]), 0.0, _targets(pos), rng=rng
    )
    assert len(blocked) == 0
    cfg2 = RfConfig(
        name="rf",
        max_range_m=2000.0,
        pd=1.0,
        scan_period_s=1.0,
        sigma_az_rad=0.01,
        require_los=False,
    )
    seen = RfSensor(cfg2, 0, np.zeros(3)).scan_targets(
        prism_world([wall]), 0.0, _targets(pos), rng=rng
    )
    assert len(seen) == 1
