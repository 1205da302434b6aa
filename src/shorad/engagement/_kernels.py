"""Numba kernel of one shot of :func:`shorad.engagement.resolve_engagements`.

For compiled callers (the compiled engine). Its reference is the numpy function; the two
agree on every discrete outcome and to the last bits of the floating-point ones (numpy's
vectorised ``exp`` and BLAS ``dot`` round differently from libm's in the last bit).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.engagement.base import NO_THREAT
from shorad.engagement.resolve import FALSE_TRACK_FACTOR

__all__ = ["resolve_shot_kernel"]

_NO_THREAT = int(NO_THREAT)
_FALSE_TRACK_FACTOR = float(FALSE_TRACK_FACTOR)


@njit(cache=True, nogil=True)
def resolve_shot_kernel(
    aim_m: NDArray[np.float64],
    mount_m: NDArray[np.float64],
    aim_tolerance_m: float,
    pk_by_class: NDArray[np.float64],
    pk_range_m: NDArray[np.float64],
    pk_range_factor: NDArray[np.float64],
    pos_m: NDArray[np.float64],
    vel_mps: NDArray[np.float64],
    alive: NDArray[np.bool_],
    cls: NDArray[np.int32],
    threat_id: NDArray[np.int64],
    u: float,
) -> tuple[
    int, bool, float, float, NDArray[np.float64], NDArray[np.float64]
]:  # pragma: no cover - numba
    """Outcome of one shot aimed at ``aim_m`` from ``mount_m`` against truth at intercept.

    Returns ``(threat_id or NO_THREAT, killed, miss_m, pk, pos_m (3,), target_vel_mps (3,))``
    as one row of :class:`~shorad.engagement.Outcomes`; ``u`` is the shot's uniform draw.
    """
    pos = aim_m.copy()
    vel = np.zeros(3)
    best = -1
    best_d = math.inf
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        dx = pos_m[i, 0] - aim_m[0]
        dy = pos_m[i, 1] - aim_m[1]
        dz = pos_m[i, 2] - aim_m[2]
        d = math.sqrt(dx * dx + dy * dy + dz * dz)
        if d < best_d or best < 0:
            best, best_d = i, d
    if best < 0 or best_d > _FALSE_TRACK_FACTOR * aim_tolerance_m:
        return _NO_THREAT, False, math.inf, 0.0, pos, vel
    rx = pos_m[best, 0] - mount_m[0]
    ry = pos_m[best, 1] - mount_m[1]
    rz = pos_m[best, 2] - mount_m[2]
    rng_m = math.sqrt(rx * rx + ry * ry + rz * rz)
    pk = (
        pk_by_class[cls[best]]
        * np.interp(rng_m, pk_range_m, pk_range_factor)
        * math.exp(-0.5 * (best_d / aim_tolerance_m) ** 2)
    )
    for d in range(3):
        pos[d] = pos_m[best, d]
        vel[d] = vel_mps[best, d]
    return int(threat_id[best]), bool(u < pk), best_d, pk, pos, vel
