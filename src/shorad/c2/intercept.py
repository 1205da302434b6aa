"""Intercept geometry: when and where a round fired after a reaction time meets a track.

With the track at ``p`` moving at constant ``v``, an effector at ``e`` with reaction time
``rho`` and mean flyout speed ``s``, the intercept happens ``tau`` seconds from now where

    |p + v tau - e| = s (tau - rho),   tau >= rho,

a quadratic in ``tau``: ``(v.v - s^2) tau^2 + 2 (r.v + s^2 rho) tau + (r.r - s^2 rho^2) = 0``
with ``r = p - e``. The smallest admissible root is taken; no root means no intercept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["intercept_time"]


def intercept_time(
    p_m: NDArray[np.float64],
    v_mps: NDArray[np.float64],
    e_m: NDArray[np.float64],
    reaction_s: NDArray[np.float64],
    flyout_mps: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Time from now to intercept for every (track, effector) pair.

    Parameters
    ----------
    p_m, v_mps : (m, 3) float64
        Track positions and velocities.
    e_m : (e, 3) float64
        Effector positions.
    reaction_s, flyout_mps : (e,) float64
        Reaction times and flyout speeds.

    Returns
    -------
    (m, e) float64
        ``tau`` in seconds, ``inf`` where the round cannot catch the track.
    """
    r = p_m[:, None, :] - e_m[None, :, :]
    v = v_mps[:, None, :]
    s2 = (flyout_mps**2)[None, :]
    rho = reaction_s[None, :]
    a = np.sum(v * v, axis=-1) - s2
    b = 2.0 * (np.sum(r * v, axis=-1) + s2 * rho)
    c = np.sum(r * r, axis=-1) - s2 * rho**2
    disc = b * b - 4.0 * a * c
    # a double root can come out a hair negative in floating point
    disc = np.where(
        disc < 0.0, np.where(disc > -1e-12 * (b * b + np.abs(4.0 * a * c)), 0.0, disc), disc
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
        r1 = (-b - sq) / (2.0 * a)
        r2 = (-b + sq) / (2.0 * a)
        lin = np.where(b != 0.0, -c / b, np.nan)  # a == 0: target as fast as the round
    roots = np.stack([r1, r2, np.where(np.abs(a) < 1e-9, lin, np.nan)], axis=-1)
    roots = np.where(roots >= rho[..., None] - 1e-9, roots, np.inf)
    roots = np.where(np.isnan(roots), np.inf, roots)
    tau: NDArray[np.float64] = roots.min(axis=-1)
    return tau
