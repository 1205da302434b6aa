"""Threat stage contracts: threat classes, defended assets, planned paths and :class:`Truth`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad._contract import check_array

__all__ = ["Assets", "RaidGroup", "ThreatClass", "ThreatPlan", "Truth"]


@dataclass(frozen=True, slots=True)
class ThreatClass:
    """Kinematic and signature assumptions of one threat class (from a preset file).

    Attributes
    ----------
    name : str
        Class key, e.g. ``"quadcopter"``.
    speed_mps : float
        Mean cruise ground speed.
    speed_sigma_mps : float
        Spread of speed between individual threats (normal, truncated at 50 %).
    cruise_alt_m : float
        Cruise altitude above ground.
    dive_start_m : float
        Horizontal distance from the aim point at which the terminal dive starts.
    rcs_dbsm : float
        Mean radar cross-section (dB relative to 1 m^2).
    cost_usd : float
        Unit cost of one threat (for the cost-exchange ratio).
    emits_control_link : bool, default False
        Whether the class emits a control/video link (detectable by an RF direction finder).
    """

    name: str
    speed_mps: float
    speed_sigma_mps: float
    cruise_alt_m: float
    dive_start_m: float
    rcs_dbsm: float
    cost_usd: float
    emits_control_link: bool = False


@dataclass(frozen=True, slots=True)
class Assets:
    """Defended assets (one row per asset), ENU metres.

    Attributes
    ----------
    asset_id : (a,) object
        User-given names.
    aim_m : (a, 3) float64
        Aim point of an attacker (a point on the roof, or the given position).
    radius_m : (a,) float64
        A threat arriving within this distance of the aim point hits the asset.
    value : (a,) float64
        Relative value (used by threat evaluation and the summary).
    building : (a,) int64
        Index of the asset's building in the city, -1 for a free position.
    """

    asset_id: NDArray[np.object_]
    aim_m: NDArray[np.float64]
    radius_m: NDArray[np.float64]
    value: NDArray[np.float64]
    building: NDArray[np.int64]

    def __post_init__(self) -> None:
        a = self.aim_m.shape[0] if isinstance(self.aim_m, np.ndarray) else None
        check_array("Assets", "asset_id", self.asset_id, object, (a,))
        check_array("Assets", "aim_m", self.aim_m, np.float64, (a, 3))
        check_array("Assets", "radius_m", self.radius_m, np.float64, (a,))
        check_array("Assets", "value", self.value, np.float64, (a,))
        check_array("Assets", "building", self.building, np.int64, (a,))

    def __len__(self) -> int:
        return int(self.aim_m.shape[0])


@dataclass(frozen=True, slots=True)
class RaidGroup:
    """One group of identical threats in a raid (resolved from the scenario file).

    Attributes
    ----------
    cls : int
        Index into the scenario's threat classes.
    count : int
        Number of threats.
    launch_window_s : tuple[float, float]
        Each threat appears at its start point at a time uniform in this window.
    bearing_rad : tuple[float, float]
        Sector (clockwise from north, seen from the target) the threats come from.
    distance_m : float
        Horizontal distance of the start points from the target.
    target : int
        Asset index, or -1 for "any asset, chosen with probability proportional to value".
    waypoints_m : (k, 2) float64
        Horizontal waypoints flown in order between start and dive (may be empty).
    """

    cls: int
    count: int
    launch_window_s: tuple[float, float]
    bearing_rad: tuple[float, float]
    distance_m: float
    target: int
    waypoints_m: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ThreatPlan:
    """Every threat's planned path: a polyline flown at constant speed, leg by leg.

    Rows are padded to the longest path by repeating the last vertex one microsecond later,
    so all threats share one array. Position between vertices is linear in time.

    Attributes
    ----------
    threat_id : (n,) int64
        0..n-1.
    cls : (n,) int32
        Threat class index.
    target : (n,) int64
        Asset each threat is flying at.
    vert_m : (n, K, 3) float64
        Path vertices, ENU metres; the first is the start point, the last the aim point.
    vert_t_s : (n, K) float64
        Time each vertex is reached; column 0 is the launch time, column -1 the impact time.
    rcs_dbsm : (n,) float64
        Radar cross-section of each threat.
    """

    threat_id: NDArray[np.int64]
    cls: NDArray[np.int32]
    target: NDArray[np.int64]
    vert_m: NDArray[np.float64]
    vert_t_s: NDArray[np.float64]
    rcs_dbsm: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.threat_id.shape[0])

    @property
    def launch_t_s(self) -> NDArray[np.float64]:
        """(n,) launch times."""
        return self.vert_t_s[:, 0]

    @property
    def impact_t_s(self) -> NDArray[np.float64]:
        """(n,) time each threat reaches its aim point if not stopped."""
        return self.vert_t_s[:, -1]


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth of the threats at one time (all threats, alive or not).

    Attributes
    ----------
    t_s : float
        Time (s).
    threat_id : (n,) int64
    cls : (n,) int32
    pos_m : (n, 3) float64
        ENU position (start or end point when not in flight).
    vel_mps : (n, 3) float64
        ENU velocity (zero when not in flight).
    alive : (n,) bool
        Launched, not yet at its aim point, and not killed.
    """

    t_s: float
    threat_id: NDArray[np.int64]
    cls: NDArray[np.int32]
    pos_m: NDArray[np.float64]
    vel_mps: NDArray[np.float64]
    alive: NDArray[np.bool_]

    def __post_init__(self) -> None:
        n = self.threat_id.shape[0] if isinstance(self.threat_id, np.ndarray) else None
        check_array("Truth", "threat_id", self.threat_id, np.int64, (None,))
        check_array("Truth", "cls", self.cls, np.int32, (n,))
        check_array("Truth", "pos_m", self.pos_m, np.float64, (n, 3))
        check_array("Truth", "vel_mps", self.vel_mps, np.float64, (n, 3))
        check_array("Truth", "alive", self.alive, np.bool_, (n,))
