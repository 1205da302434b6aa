"""Electro-optical / infrared camera: angle-only detections, optional laser range.

Detection model
---------------
A look at a target in line of sight and inside the range and elevation limits detects it with

    Pd(r) = pd_max / (1 + (r / r50_m) ** pd_slope)

a smooth stand-in for the Johnson-criteria detection range curves of imaging sensors
(Driggers et al., *Introduction to Infrared and Electro-Optical Systems*, 2nd ed., ch. 12):
``r50_m`` is the range at which a look detects the reference small drone with probability
``pd_max / 2``, ``pd_slope`` how sharply Pd falls past it. Day (visible) and night (thermal)
sensors are separate presets with their own ``r50_m``. The target's signature is not used
(the curve is for the preset's reference target).

Search model (field of view and slew)
-------------------------------------
The camera covers ``fov_az_rad`` of azimuth per look (its vertical field of view is taken to
span the elevation limits). A camera with ``fov_az_rad >= 2 pi`` stares at all azimuths (a
ring of cameras). Otherwise it steps through ``n_sectors = ceil(2 pi / fov_az_rad)`` adjacent
sectors, one per scan: at scan time ``t`` it looks at sector ``floor(t / scan_period_s + 0.5)
mod n_sectors`` centred at azimuth ``sector * 2 pi / n_sectors`` (:meth:`EoirSensor.pointing_az`).
The slew to the next sector, ``(2 pi / n_sectors) / slew_rate_rad_s``, must fit in one scan
period (checked when the scenario is loaded). So a direction is revisited every
``n_sectors * scan_period_s`` (:attr:`EoirSensor.revisit_s`).

Cueing (``cueing: tracks``)
---------------------------
A pan-tilt camera in a counter-drone site is usually cued by the radar picture rather than
left to search. With ``cueing: tracks`` the simulation points the camera, at each look, at the
confirmed track in reach (inside the range and elevation limits and in line of sight of its
predicted position) with the highest threat value of the latest C2 threat evaluation, the
nearest first among equals (:func:`cued_pointing`). The mount turns at most
``slew_rate * scan_period_s`` per look towards it; with no track in reach the camera goes on
with the search pattern. The camera sees what falls in its field of view around that
pointing, the cued track and any other. ``scan(..., pointing_az_rad=...)`` points it.

Measurements
------------
``z = [range or NaN, az, el, NaN]`` with Gaussian angle noise ``sigma_az_rad``,
``sigma_el_rad``; a target within ``laser_max_range_m`` (> 0 to enable) is also ranged by the
laser rangefinder with noise ``sigma_range_m`` (and then has a full 3-D position). False
alarms are a Poisson number per look (``false_alarms_per_scan``), uniform over the field of
view, angle-only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad.errors import ConfigError
from shorad.geo import World
from shorad.sensors.base import (
    AZ,
    CLUTTER_ID,
    EL,
    N_MEAS,
    RANGE,
    Detections,
    MountedSensor,
    Targets,
    visible_from,
    wrap_2pi,
)

__all__ = [
    "CUEING_MODES",
    "EoirConfig",
    "EoirSensor",
    "cued_pointing",
    "eoir_detection_probability",
]

_TWO_PI = 2.0 * math.pi
CUEING_MODES = ("search", "tracks")
"""How an EO/IR camera chooses where to look (:attr:`EoirConfig.cueing`)."""


@dataclass(frozen=True, slots=True)
class EoirConfig:
    """Assumptions of one EO/IR sensor type (from a preset; SI units).

    Attributes
    ----------
    name : str
    max_range_m : float
        No detection beyond this range.
    r50_m : float
        Range (m) at which one look detects the reference target with ``pd_max / 2``.
    pd_slope : float
        Exponent of the Pd-range curve (> 0).
    pd_max : float
        Pd of one look at short range.
    scan_period_s : float
        Time per look (one sector of the search).
    fov_az_rad : float
        Horizontal field of view; ``>= 2 pi`` for a staring (all-round) sensor.
    slew_rate_rad_s : float
        Azimuth slew rate of the mount.
    min_el_rad, max_el_rad : float
        Elevation coverage.
    sigma_az_rad, sigma_el_rad : float
        One-sigma angle errors.
    laser_max_range_m : float, default 0.0
        Laser rangefinder reach; 0 means no laser range.
    sigma_range_m : float, default 1.0
        One-sigma laser range error.
    false_alarms_per_scan : float, default 0.0
        Mean false detections per look.
    cueing : str, default "search"
        ``search`` (the sector search pattern) or ``tracks`` (pointed at the most threatening
        confirmed track in reach, see the module docstring).
    """

    name: str
    max_range_m: float
    r50_m: float
    pd_slope: float
    pd_max: float
    scan_period_s: float
    fov_az_rad: float
    slew_rate_rad_s: float
    min_el_rad: float
    max_el_rad: float
    sigma_az_rad: float
    sigma_el_rad: float
    laser_max_range_m: float = 0.0
    sigma_range_m: float = 1.0
    false_alarms_per_scan: float = 0.0
    cueing: str = "search"

    def __post_init__(self) -> None:
        if self.cueing not in CUEING_MODES:
            raise ConfigError(
                f"must be one of {CUEING_MODES}, got {self.cueing!r}", field="EoirConfig.cueing"
            )

    @property
    def n_sectors(self) -> int:
        """Number of azimuth sectors of the search (1 for a staring sensor)."""
        if self.fov_az_rad >= _TWO_PI:
            return 1
        return math.ceil(_TWO_PI / self.fov_az_rad - 1e-9)

    @property
    def slew_s(self) -> float:
        """Time to slew from one sector to the next (s); 0 for a staring sensor."""
        if self.n_sectors == 1:
            return 0.0
        return (_TWO_PI / self.n_sectors) / self.slew_rate_rad_s


def eoir_detection_probability(
    cfg: EoirConfig, range_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Single-look Pd (n,) at ``range_m`` (n,), zero beyond ``max_range_m``."""
    r = np.asarray(range_m, np.float64)
    pd = cfg.pd_max / (1.0 + (np.maximum(r, 0.0) / cfg.r50_m) ** cfg.pd_slope)
    return np.where(r <= cfg.max_range_m, pd, 0.0)


class EoirSensor(MountedSensor[EoirConfig]):
    """One EO/IR sensor at a fixed ENU position.

    Parameters
    ----------
    config : EoirConfig
    sensor_id : int
        Index of the unit carrying it (written into every detection).
    pos_m : (3,) float64
        Sensor position, ENU metres.
    """

    __slots__ = ()

    @property
    def revisit_s(self) -> float:
        """Time between looks at the same direction (s): ``n_sectors * scan_period_s``."""
        return self.config.n_sectors * self.config.scan_period_s

    def pointing_az(self, t_s: float) -> float:
        """Centre azimuth (rad) of the sector looked at by the scan at ``t_s``."""
        n = self.config.n_sectors
        k = math.floor(t_s / self.config.scan_period_s + 0.5) % n
        return k * _TWO_PI / n

    def in_coverage(self, z: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Range and elevation limits for polar positions ``z`` (..., 3); FOV not applied."""
        cfg = self.config
        return (
            (z[..., 0] <= cfg.max_range_m)
            & (z[..., 2] >= cfg.min_el_rad)
            & (z[..., 2] <= cfg.max_el_rad)
        )

    def in_fov(self, az_rad: NDArray[np.float64], pointing_az_rad: float) -> NDArray[np.bool_]:
        """Which azimuths (n,) fall in the field of view pointed at ``pointing_az_rad``."""
        if self.config.n_sectors == 1:
            return np.ones(np.shape(az_rad), np.bool_)
        d = np.abs((np.asarray(az_rad) - pointing_az_rad + math.pi) % _TWO_PI - math.pi)
        half = 0.5 * _TWO_PI / self.config.n_sectors
        return np.asarray(d <= half + 1e-12, np.bool_)

    def single_look_pd(
        self, z: NDArray[np.float64], rcs_dbsm: NDArray[np.float64], emits: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Pd (n,) of a look that has the target in its field of view (signatures unused)."""
        return eoir_detection_probability(self.config, z[:, 0])

    def scan(
        self,
        world: World,
        t_s: float,
        pos_m: NDArray[np.float64],
        threat_id: NDArray[np.int64],
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
        pointing_az_rad: float | None = None,
    ) -> Detections:
        """One look at the targets in flight.

        Parameters
        ----------
        world : World
        t_s : float
            Look time (s).
        pos_m : (n, 3) float64
            True target positions (ENU).
        threat_id : (n,) int64
            Truth ids (scoring only).
        rng : numpy.random.Generator
            This sensor's stream; draws happen in a fixed order.
        visibility : ((n,) bool, (n, 3) float64), optional
            This sensor's row of :func:`~shorad.sensors.base.visible_from`.
        pointing_az_rad : float, optional
            Where the camera looks; default: the search pattern (:meth:`pointing_az`).

        Returns
        -------
        Detections
            Target detections first (input order), then false alarms.
        """
        cfg = self.config
        n = pos_m.shape[0]
        u = rng.uniform(size=n)
        ok, z = visible_from([self], world, pos_m) if visibility is None else visibility
        if ok.ndim == 2:
            ok, z = ok[0], z[0]
        point = self.pointing_az(t_s) if pointing_az_rad is None else float(pointing_az_rad)
        seen = ok & self.in_fov(z[:, 1], point)
        pd = np.where(seen, eoir_detection_probability(cfg, z[:, 0]), 0.0)
        hit = u < pd
        noise = rng.standard_normal((n, 3)) * np.array(
            [cfg.sigma_range_m, cfg.sigma_az_rad, cfg.sigma_el_rad]
        )
        zt = (z + noise)[hit]
        ranged = np.zeros(n, np.bool_)
        if cfg.laser_max_range_m > 0.0:
            ranged = z[:, 0] <= cfg.laser_max_range_m
        ranged = ranged[hit]
        m_t = zt.shape[0]
        n_c = int(rng.poisson(cfg.false_alarms_per_scan))
        half = 0.5 * min(cfg.fov_az_rad, _TWO_PI)
        az_c = point + rng.uniform(-half, half, n_c)
        el_c = rng.uniform(cfg.min_el_rad, cfg.max_el_rad, n_c)
        m = m_t + n_c
        zz = np.full((m, N_MEAS), np.nan)
        zz[:m_t, AZ] = zt[:, 1]
        zz[:m_t, EL] = zt[:, 2]
        zz[:m_t, RANGE] = np.where(ranged, zt[:, 0], np.nan)
        zz[m_t:, AZ] = az_c
        zz[m_t:, EL] = el_c
        zz[:, AZ] = wrap_2pi(zz[:, AZ])
        R = np.zeros((m, N_MEAS, N_MEAS))
        R[:, AZ, AZ] = cfg.sigma_az_rad**2
        R[:, EL, EL] = cfg.sigma_el_rad**2
        R[:m_t, RANGE, RANGE] = np.where(ranged, cfg.sigma_range_m**2, 0.0)
        return Detections(
            t_s=np.full(m, float(t_s)),
            sensor_id=np.full(m, self.sensor_id, np.int32),
            z=zz,
            R=R,
            sensor_pos_m=np.broadcast_to(self.pos_m, (m, 3)).copy(),
            truth_id=np.concatenate([threat_id[hit], np.full(n_c, CLUTTER_ID, np.int64)]),
        )

    def scan_targets(
        self,
        world: World,
        t_s: float,
        targets: Targets,
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
    ) -> Detections:
        """:meth:`scan` with the :class:`~shorad.sensors.base.Targets` batch (search pattern)."""
        return self.scan(
            world, t_s, targets.pos_m, targets.threat_id, rng=rng, visibility=visibility
        )


def cued_pointing(
    sensor: EoirSensor,
    world: World,
    track_pos_m: NDArray[np.float64],
    priority: NDArray[np.float64],
    prev_az_rad: float | None,
) -> float | None:
    """Azimuth (rad) a track-cued camera looks at, or None when no track is in reach.

    Parameters
    ----------
    sensor : EoirSensor
    world : World
        For the line of sight to each track's predicted position.
    track_pos_m : (m, 3) float64
        Predicted positions (ENU) of the confirmed tracks at the look time.
    priority : (m,) float64
        Their threat values; the highest in reach is looked at, the nearest among equals.
    prev_az_rad : float or None
        Where the camera looked at its previous look (None: free to point anywhere).

    Returns
    -------
    float or None
        The chosen track's azimuth, or as far towards it as the mount turns in one scan
        period (``slew_rate_rad_s * scan_period_s``), in [0, 2 pi). None for a staring
        camera (it sees every azimuth) or when no track is in range, elevation and sight.
    """
    cfg = sensor.config
    if cfg.n_sectors == 1 or track_pos_m.shape[0] == 0:
        return None
    ok, z = visible_from([sensor], world, track_pos_m)
    idx = np.flatnonzero(ok[0])
    if idx.size == 0:
        return None
    z = z[0]
    best = idx[np.lexsort((z[idx, 0], -priority[idx]))[0]]
    want = float(z[best, 1])
    if prev_az_rad is None:
        return want
    turn = (want - prev_az_rad + math.pi) % _TWO_PI - math.pi
    step = cfg.slew_rate_rad_s * cfg.scan_period_s
    return float((prev_az_rad + min(max(turn, -step), step)) % _TWO_PI)
