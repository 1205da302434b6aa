"""Threat evaluation: who is coming at what, how close, how soon, and how much it matters.

For track ``i`` with horizontal position ``p`` and velocity ``v`` and asset ``j`` at ``q``,
with ``d = q - p`` (horizontal):

* time to go to the closest point of approach ``ttg = (d . v) / |v|^2`` (inf when opening),
* miss distance at that point ``cpa = |d - v ttg|`` (``|d|`` when opening),
* threat value ``V_j * exp(-0.5 (cpa / (r_j + SLACK))^2) / (1 + ttg / URGENCY_S)``,

where ``V_j`` is the asset's value and ``r_j`` its hit radius. The proximity term says how
squarely the track points at the asset, the urgency term how soon it gets there. Weights are
documented constants, not tuned values.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from shorad.c2.base import ThreatAssessment
from shorad.threats.base import Assets
from shorad.tracking.base import Tracks

__all__ = ["PROXIMITY_SLACK_M", "URGENCY_S", "evaluate_threats"]

PROXIMITY_SLACK_M = 100.0
"""Added to an asset's radius in the proximity term (m)."""
URGENCY_S = 60.0
"""Time to go at which urgency halves (s)."""


def evaluate_threats(tracks: Tracks, assets: Assets) -> ThreatAssessment:
    """Evaluate every track against every asset (vectorised, (m, a) arrays)."""
    p = tracks.x[:, None, :2]
    v = tracks.x[:, None, 3:5]
    d = assets.aim_m[None, :, :2] - p
    vv = np.sum(v * v, axis=-1)
    dv = np.sum(d * v, axis=-1)
    closing = (dv > 0.0) & (vv > 1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        ttg = np.where(closing, dv / np.where(vv > 0, vv, 1.0), np.inf)
    miss = d - v * np.where(closing, ttg, 0.0)[..., None]
    cpa = np.hypot(miss[..., 0], miss[..., 1])
    prox = _libm_exp(-0.5 * (cpa / (assets.radius_m[None, :] + PROXIMITY_SLACK_M)) ** 2)
    urgency = np.where(closing, 1.0 / (1.0 + ttg / URGENCY_S), 0.0)
    tv = assets.value[None, :] * prox * urgency
    best = np.argmax(tv, axis=1) if tv.shape[1] else np.zeros(tv.shape[0], np.int64)
    value = tv[np.arange(tv.shape[0]), best] if tv.shape[1] else np.zeros(tv.shape[0])
    return ThreatAssessment(
        t_s=tracks.t_s,
        track_id=tracks.track_id,
        time_to_go_s=ttg,
        cpa_m=cpa,
        threat_value=value,
        asset=best.astype(np.int64),
    )


def _libm_exp(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``exp`` of every element of ``x`` (<= 0 or NaN) by the C library's ``exp``.

    numpy's vectorised ``exp`` rounds differently in the last bit on AVX-512 CPUs; the C
    library's is the one the compiled C2 (:mod:`shorad.c2._greedy_kernel`) calls, so the
    two give the same threat values bit for bit on every machine.
    """
    flat = np.fromiter(map(math.exp, x.ravel().tolist()), np.float64, count=x.size)
    return flat.reshape(x.shape)
