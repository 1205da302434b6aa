from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.geo import World
from shorad.sensors import (
    Radar,
    RadarConfig,
    cartesian_from_polar,
    detection_probability,
    expected_false_alarms,
    horizon_loss_db,
    polar_from_cartesian,
    snr_db,
)
from shorad.testing import prism_world


def _cfg(swerling: int = 1) -> RadarConfig:
    return RadarConfig(
        name="t",
        max_range_m=5000.0,
        min_range_m=50.0,
        ref_range_m=2500.0,
        ref_snr_db=18.0,
        ref_rcs_dbsm=-20.0,
        pfa=1e-6,
        swerling=swerling,
        scan_period_s=1.0,
        min_el_rad=math.radians(-20),
        max_el_rad=math.radians(60),
        sigma_range_m=5.0,
        sigma_az_rad=math.radians(0.5),
        sigma_el_rad=math.radians(1.0),
        clutter_per_scan=3.0,
    )


def test_snr_follows_the_radar_equation() -> None:
    cfg = _cfg()
    assert_allclose(snr_db(cfg, np.array([2500.0]), np.array([-20.0])), [18.0], atol=1e-12)
    # half the range: +12.04 dB; +10 dB of RCS: +10 dB
    assert_allclose(
        snr_db(cfg, np.array([1250.0]), np.array([-10.0])), [18 + 40 * math.log10(2) + 10]
    )


def test_swerling1_closed_form() -> None:
    cfg = _cfg(1)
    r = np.array([2500.0])
    snr = 10**1.8
    assert_allclose(
        detection_probability(cfg, r, np.array([-20.0])), [1e-6 ** (1 / (1 + snr))], rtol=1e-12
    )


def test_swerling0_matches_albersheim_reference_point() -> None:
    # Pd = 0.9 at Pfa = 1e-6 needs ~13.2 dB single-pulse SNR for a steady target (Albersheim);
    # Swerling 1 needs ~21 dB for the same Pd.
    cfg0 = _cfg(0)
    r = np.array([2500.0])
    rcs = np.array([-20.0 + (13.2 - 18.0)])
    assert detection_probability(cfg0, r, rcs)[0] == pytest.approx(0.9, abs=0.02)
    assert detection_probability(_cfg(1), r, rcs)[0] < 0.6


def test_pd_decreases_with_range() -> None:
    r = np.linspace(100.0, 5000.0, 50)
    for sw in (0, 1):
        pd = detection_probability(_cfg(sw), r, np.full(50, -20.0))
        assert (np.diff(pd) <= 1e-12).all()
        assert ((pd >= 0) & (pd <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-5000, 5000), y=st.floats(-5000, 5000), z=st.floats(-500, 2000))
def test_polar_round_trip(x: float, y: float, z: float) -> None:
    d = np.array([[x, y, z]])
    if np.linalg.norm(d) < 1e-3:
        return
    p = polar_from_cartesian(d)
    assert 0.0 <= p[0, 1] < 2 * np.pi
    assert_allclose(cartesian_from_polar(p), d, atol=1e-6)


def test_azimuth_is_a_bearing_from_north() -> None:
    p = polar_from_cartesian(
        np.array([[0.0, 100.0, 0.0], [100.0, 0.0, 0.0], [-100.0, 0.0, 100.0]])
    )
    assert_allclose(p[:, 1], [0.0, np.pi / 2, 3 * np.pi / 2], atol=1e-12)
    assert_allclose(p[2, 2], np.pi / 4, atol=1e-12)


# --- issue 4: Pfa-driven false alarms, horizon loss, range rate, resolution ---------------


def _scan_setup(**kw: float) -> tuple[Radar, World]:
    cfg = dataclasses.replace(_cfg(1), **kw)
    return Radar(cfg, 0, np.zeros(3)), prism_world()


def test_pfa_drives_the_false_alarm_count_statistically() -> None:
    # 1e6 resolution cells at Pfa 1e-5: 10 false alarms per scan on average (+0 residual)
    radar, world = _scan_setup(pfa=1e-5, n_resolution_cells=1e6, clutter_per_scan=0.0)
    assert expected_false_alarms(radar.config) == pytest.approx(10.0)
    rng = np.random.default_rng(11)
    none = np.zeros((0, 3))
    counts = np.array(
        [
            len(radar.scan(world, 0.0, none, np.zeros(0), np.zeros(0, np.int64), rng=rng))
            for _ in range(3000)
        ]
    )
    # Poisson(10): mean within 4 standard errors, variance close to the mean
    assert abs(counts.mean() - 10.0) < 4 * math.sqrt(10.0 / counts.size)
    assert counts.var() == pytest.approx(10.0, rel=0.1)
    # ten times the Pfa, ten times the false alarms
    radar10, _ = _scan_setup(pfa=1e-4, n_resolution_cells=1e6, clutter_per_scan=0.0)
    c10 = [
        len(radar10.scan(world, 0.0, none, np.zeros(0), np.zeros(0, np.int64), rng=rng))
        for _ in range(500)
    ]
    assert np.mean(c10) == pytest.approx(100.0, rel=0.03)


def test_horizon_loss_term() -> None:
    radar, _ = _scan_setup(multipath_loss_db=6.0, multipath_el_scale_rad=0.05)
    loss = horizon_loss_db(radar.config, np.array([-0.1, 0.0, 0.05, 1.0]))
    assert_allclose(loss, [6.0, 6.0, 6.0 / math.e, 6.0 * math.exp(-20.0)], rtol=1e-12)
    assert_allclose(horizon_loss_db(_cfg(), np.array([0.0])), [0.0])


def test_range_rate_measured_when_configured() -> None:
    radar, world = _scan_setup(sigma_range_rate_mps=0.5, clutter_per_scan=0.0, pfa=1e-9)
    pos = np.array([[1000.0, 0.0, 100.0], [0.0, 800.0, 100.0]])
    vel = np.array([[-20.0, 0.0, 0.0], [0.0, 15.0, 0.0]])
    rng = np.random.default_rng(3)
    rr, trr = [], []
    for _ in range(200):
        d = radar.scan(world, 0.0, pos, np.full(2, 10.0), np.arange(2), rng=rng, vel_mps=vel)
        rr.append(d.z[:, 3])
        trr.append(
            np.einsum("ij,ij->i", vel, pos / np.linalg.norm(pos, axis=1)[:, None])[d.truth_id]
        )
        assert_allclose(d.R[:, 3, 3], 0.25)
    err = np.concatenate(rr) - np.concatenate(trr)
    assert abs(err.mean()) < 0.1
    assert err.std() == pytest.approx(0.5, rel=0.15)
    # without the option (or without velocities) range rate stays unmeasured
    plain, _ = _scan_setup(clutter_per_scan=0.0)
    d = plain.scan(world, 0.0, pos, np.full(2, 10.0), np.arange(2), rng=rng, vel_mps=vel)
    assert np.isnan(d.z[:, 3]).all()
    assert (d.R[:, 3, :] == 0).all()


def test_unresolved_targets_merge() -> None:
    radar, world = _scan_setup(
        range_resolution_m=15.0, az_resolution_rad=math.radians(2.0), clutter_per_scan=0.0
    )
    # two strong targets 5 m apart in range on the same bearing, one far away
    pos = np.array([[0.0, 1000.0, 50.0], [0.0, 1005.0, 50.0], [1000.0, 0.0, 50.0]])
    rcs = np.array([10.0, 0.0, 10.0])
    d = radar.scan(world, 0.0, pos, rcs, np.arange(3), rng=np.random.default_rng(0))
    assert sorted(d.truth_id.tolist()) == [0, 2]
