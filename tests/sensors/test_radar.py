from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.sensors import (
    RadarConfig,
    cartesian_from_polar,
    detection_probability,
    polar_from_cartesian,
    snr_db,
)


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
