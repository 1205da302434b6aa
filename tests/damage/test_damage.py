from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from shorad.damage import DEBRIS_SPREAD_PER_M, asset_hit_by, debris_footprint
from shorad.threats import Assets
from shorad.units import G0_MPS2


def test_debris_falls_ballistically() -> None:
    z = 0.5 * G0_MPS2 * 2.0**2  # a 2 s fall
    centre, radius = debris_footprint(
        np.array([[100.0, 50.0, z], [0.0, 0.0, 0.0]]),
        np.array([[10.0, -5.0, -3.0], [30.0, 0.0, 0.0]]),
        np.array([15.0, 15.0]),
    )
    assert_allclose(centre, [[120.0, 40.0], [0.0, 0.0]], atol=1e-9)
    assert_allclose(radius, [15.0 + DEBRIS_SPREAD_PER_M * z, 15.0], rtol=1e-12)


def test_impacts_hit_the_nearest_asset_within_its_radius() -> None:
    a = Assets(
        asset_id=np.array(["x", "y"], dtype=object),
        aim_m=np.array([[0.0, 0.0, 10.0], [30.0, 0.0, 10.0]]),
        radius_m=np.array([20.0, 20.0]),
        value=np.array([1.0, 1.0]),
        building=np.array([-1, -1], np.int64),
    )
    hit = asset_hit_by(np.array([[5.0, 0.0, 0.0], [20.0, 0.0, 0.0], [100.0, 0.0, 0.0]]), a)
    assert hit.tolist() == [0, 1, -1]
