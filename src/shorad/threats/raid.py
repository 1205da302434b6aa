"""Raid planning: from raid groups to every threat's path, and truth at any time.

A threat starts at ``distance_m`` from its target on a bearing drawn uniformly in the group's
sector, at cruise altitude, at a launch time drawn uniformly in the launch window. It flies
straight legs at constant speed through the group's waypoints to the dive point
(``dive_start_m`` short of the aim point, on the last leg's line), then dives straight onto
the aim point. Cruise altitude is raised to at least 30 m above the aim point so that the
terminal phase is a dive, never a climb.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from shorad.threats.base import Assets, RaidGroup, ThreatClass, ThreatPlan, Truth

__all__ = ["MIN_DIVE_HEIGHT_M", "plan_raid", "truth_at"]

MIN_DIVE_HEIGHT_M = 30.0
"""Cruise is at least this far above the aim point (so the dive goes down)."""


def _pick_targets(group: RaidGroup, assets: Assets, rng: np.random.Generator) -> NDArray[np.int64]:
    if group.target >= 0:
        return np.full(group.count, group.target, np.int64)
    p = assets.value / assets.value.sum()
    return rng.choice(len(assets), size=group.count, p=p).astype(np.int64)


def _path(
    start_xy: NDArray[np.float64],
    waypoints_xy: NDArray[np.float64],
    aim: NDArray[np.float64],
    cruise_z: float,
    dive_start_m: float,
) -> NDArray[np.float64]:
    xy = np.vstack([start_xy[None, :], waypoints_xy, aim[None, :2]])
    last_leg = xy[-1] - xy[-2]
    length = float(np.hypot(*last_leg))
    if length > dive_start_m:
        dive_xy = xy[-1] - last_leg / length * dive_start_m
        xy = np.vstack([xy[:-1], dive_xy[None, :], xy[-1:]])
    z = np.full(len(xy), cruise_z)
    z[-1] = aim[2]
    return np.column_stack([xy, z])


def plan_raid(
    groups: Sequence[RaidGroup],
    classes: Sequence[ThreatClass],
    assets: Assets,
    *,
    rng: np.random.Generator,
) -> ThreatPlan:
    """Draw every threat's launch time, approach bearing, speed and aim point.

    Parameters
    ----------
    groups : sequence of RaidGroup
        The raid; threats are numbered group by group in this order.
    classes : sequence of ThreatClass
        The scenario's threat classes (``RaidGroup.cls`` indexes them).
    assets : Assets
        Defended assets (targets).
    rng : numpy.random.Generator
        The threats stage's stream.

    Returns
    -------
    ThreatPlan
    """
    paths: list[NDArray[np.float64]] = []
    times: list[NDArray[np.float64]] = []
    cls_out: list[int] = []
    tgt_out: list[int] = []
    rcs: list[float] = []
    for group in groups:
        tc = classes[group.cls]
        targets = _pick_targets(group, assets, rng)
        launch = rng.uniform(*group.launch_window_s, size=group.count)
        bearing = rng.uniform(*group.bearing_rad, size=group.count)
        speed = np.clip(
            rng.normal(tc.speed_mps, tc.speed_sigma_mps, size=group.count),
            0.5 * tc.speed_mps,
            1.5 * tc.speed_mps,
        )
        # aim offset uniform in a disc of 30 % of the asset radius
        off_r = 0.3 * np.sqrt(rng.uniform(size=group.count))
        off_a = rng.uniform(0.0, 2.0 * np.pi, size=group.count)
        for i in range(group.count):
            a = int(targets[i])
            aim = assets.aim_m[a].copy()
            aim[:2] += (
                assets.radius_m[a] * off_r[i] * np.array([np.cos(off_a[i]), np.sin(off_a[i])])
            )
            start_xy = aim[:2] + group.distance_m * np.array(
                [np.sin(bearing[i]), np.cos(bearing[i])]
            )
            cruise_z = max(tc.cruise_alt_m, aim[2] + MIN_DIVE_HEIGHT_M)
            path = _path(start_xy, group.waypoints_m, aim, cruise_z, tc.dive_start_m)
            seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
            t = launch[i] + np.concatenate([[0.0], np.cumsum(seg / speed[i])])
            paths.append(path)
            times.append(t)
            cls_out.append(group.cls)
            tgt_out.append(a)
            rcs.append(tc.rcs_dbsm)
    n = len(paths)
    k = max((len(p) for p in paths), default=2)
    vert = np.zeros((n, k, 3))
    vt = np.zeros((n, k))
    for i, (p, t) in enumerate(zip(paths, times, strict=True)):
        vert[i, : len(p)] = p
        vert[i, len(p) :] = p[-1]
        vt[i, : len(t)] = t
        vt[i, len(t) :] = t[-1] + 1e-6 * np.arange(1, k - len(t) + 1)
    return ThreatPlan(
        threat_id=np.arange(n, dtype=np.int64),
        cls=np.asarray(cls_out, np.int32),
        target=np.asarray(tgt_out, np.int64),
        vert_m=vert,
        vert_t_s=vt,
        rcs_dbsm=np.asarray(rcs, np.float64),
    )


def truth_at(plan: ThreatPlan, t_s: float, killed: NDArray[np.bool_] | None = None) -> Truth:
    """Positions and velocities of every threat at ``t_s`` (vectorised over threats).

    Parameters
    ----------
    plan : ThreatPlan
    t_s : float
        Time (s).
    killed : (n,) bool, optional
        Threats already destroyed (not alive whatever their path says).

    Returns
    -------
    Truth
        Not-yet-launched threats sit at their start point, arrived ones at their aim point,
        both with zero velocity and ``alive`` False.
    """
    n = len(plan)
    vt = plan.vert_t_s
    k = vt.shape[1]
    # leg index j such that vt[j] <= t < vt[j+1], clipped to valid legs
    # (integer clip without np.clip's wrapper; flat indices instead of (row, leg) pairs)
    j = np.minimum(np.maximum((vt <= t_s).sum(axis=1) - 1, 0), k - 2)
    flat = np.arange(n) * k + j
    vt_flat = vt.reshape(-1)
    vert_flat = plan.vert_m.reshape(-1, 3)
    t0 = vt_flat[flat]
    t1 = vt_flat[flat + 1]
    p0 = vert_flat[flat]
    p1 = vert_flat[flat + 1]
    dt = t1 - t0
    frac = np.clip((t_s - t0) / dt, 0.0, 1.0)
    pos = p0 + frac[:, None] * (p1 - p0)
    vel = (p1 - p0) / dt[:, None]
    alive = (t_s >= vt[:, 0]) & (t_s < vt[:, -1])
    if killed is not None:
        alive &= ~killed
    vel = np.where(alive[:, None], vel, 0.0)
    return Truth(
        t_s=float(t_s),
        threat_id=plan.threat_id,
        cls=plan.cls,
        pos_m=pos,
        vel_mps=vel,
        alive=alive,
    )
