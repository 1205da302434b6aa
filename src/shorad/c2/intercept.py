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

__all__ = ["engagement_windows", "intercept_time"]


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
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sq = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
        r1 = (-b - sq) / (2.0 * a)
        r2 = (-b + sq) / (2.0 * a)
        lin = np.where(b != 0.0, -c / b, np.nan)  # a == 0: target as fast as the round
    roots = np.stack([r1, r2, np.where(np.abs(a) < 1e-9, lin, np.nan)], axis=-1)
    roots = np.where(roots >= rho[..., None] - 1e-9, roots, np.inf)
    roots = np.where(np.isnan(roots), np.inf, roots)
    tau: NDArray[np.float64] = roots.min(axis=-1)
    return tau


def engagement_windows(
    p_m: NDArray[np.float64],
    v_mps: NDArray[np.float64],
    e_m: NDArray[np.float64],
    reaction_s: NDArray[np.float64],
    flyout_mps: NDArray[np.float64],
    min_range_m: NDArray[np.float64],
    max_range_m: NDArray[np.float64],
    max_alt_m: NDArray[np.float64],
    horizon_s: NDArray[np.float64],
    *,
    step_s: float = 0.25,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Earliest and latest intercept time of every (track, effector) pair.

    An intercept at time ``t`` from now (straight-line prediction ``p + v t``) is possible when
    the round can get there (``t >= reaction + |p + v t - e| / flyout``), the point is inside
    the effector's range and altitude limits, and ``t`` is before the track's horizon (its time
    to go to the asset it threatens). The window is sampled every ``step_s`` seconds; the
    earliest time is refined exactly with :func:`intercept_time` when it is the flyout that
    binds.

    Parameters
    ----------
    p_m, v_mps : (m, 3) float64
        Track positions and velocities.
    e_m : (e, 3) float64
        Effector positions.
    reaction_s, flyout_mps, min_range_m, max_range_m, max_alt_m : (e,) float64
        Effector capabilities.
    horizon_s : (m,) float64
        Latest useful intercept time per track (inf: none).
    step_s : float
        Sampling step of the window (s).

    Returns
    -------
    earliest_s, latest_s : (m, e) float64
        First and last possible intercept time (s from now); NaN where the pair has none.
        The window may have a gap (a track passing inside the minimum range).
    """
    m = p_m.shape[0]
    finite_h = np.where(np.isfinite(horizon_s), horizon_s, 0.0)
    t_max = float(min(np.max(finite_h, initial=0.0), 600.0)) if m else 0.0
    if not np.isfinite(horizon_s).all():
        t_max = max(t_max, 600.0)
    ts = np.arange(0.0, t_max + step_s, step_s)
    pos = p_m[:, None, None, :] + v_mps[:, None, None, :] * ts[None, None, :, None]  # (m,1,K,3)
    d = np.linalg.norm(pos - e_m[None, :, None, :], axis=-1)  # (m, e, K)
    ok = (
        (ts[None, None, :] >= reaction_s[None, :, None] + d / flyout_mps[None, :, None])
        & (d >= min_range_m[None, :, None])
        & (d <= max_range_m[None, :, None])
        & (pos[..., 2] <= max_alt_m[None, :, None])
        & (ts[None, None, :] <= horizon_s[:, None, None])
    )
    any_ok = ok.any(axis=-1)
    first = np.argmax(ok, axis=-1)
    last = ok.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1)
    earliest = np.where(any_ok, ts[first], np.nan)
    latest = np.where(any_ok, ts[last], np.nan)
    # the sampled earliest time may sit up to one step after the exact flyout-limited one
    exact = intercept_time(p_m, v_mps, e_m, reaction_s, flyout_mps)
    refine = any_ok & (exact <= earliest) & (exact >= earliest - step_s)
    return np.where(refine, exact, earliest), latest
