"""Damage and collateral.

*Leakers.* A threat that reaches its aim point hits every asset within whose radius it lands
(normally its target).

*Debris.* A killed drone falls from the intercept point. Its centre of fall is the ballistic
drop of a point moving with the drone's horizontal velocity and no drag,
``x_ground = x + v_xy sqrt(2 z / g)`` (an upper bound on the throw: drag shortens it), and the
footprint is a disc whose radius grows with the fall height:
``radius = debris_radius_m + DEBRIS_SPREAD_PER_M * z``. Every building the disc touches is
recorded as under the debris.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shorad.geo import World
from shorad.threats.base import Assets
from shorad.units import G0_MPS2

__all__ = ["DEBRIS_SPREAD_PER_M", "asset_hit_by", "buildings_under", "debris_footprint"]

DEBRIS_SPREAD_PER_M = 0.2
"""Growth of the debris footprint radius per metre of fall height (illustrative)."""


def asset_hit_by(impact_m: NDArray[np.float64], assets: Assets) -> NDArray[np.int64]:
    """Asset hit by each impact (k,3) -> (k,) index of the nearest asset within radius, or -1."""
    d = np.linalg.norm(impact_m[:, None, :2] - assets.aim_m[None, :, :2], axis=-1)
    inside = d <= assets.radius_m[None, :]
    d = np.where(inside, d, np.inf)
    best = np.argmin(d, axis=1) if d.shape[1] else np.zeros(d.shape[0], np.int64)
    return np.where(inside.any(axis=1), best, -1).astype(np.int64)


def debris_footprint(
    pos_m: NDArray[np.float64], vel_mps: NDArray[np.float64], base_radius_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ground centre (k,2) and radius (k,) of the debris of kills at ``pos_m`` (k,3)."""
    z = np.maximum(pos_m[:, 2], 0.0)
    t_fall = np.sqrt(2.0 * z / G0_MPS2)
    centre = pos_m[:, :2] + vel_mps[:, :2] * t_fall[:, None]
    return centre, base_radius_m + DEBRIS_SPREAD_PER_M * z


def buildings_under(
    world: World, centre_m: NDArray[np.float64], radius_m: NDArray[np.float64]
) -> list[NDArray[np.int64]]:
    """Indices of the buildings each debris disc touches (sorted; one tree query)."""
    return world.buildings.within_many(centre_m, radius_m)
