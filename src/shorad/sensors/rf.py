"""RF direction finder: bearing-only detections of drones that emit a control link.

A target whose class emits a control or video link (``Targets.emits``) and that lies within
``max_range_m`` and the elevation limits is detected in a scan with probability ``pd``
(constant over range: the link budget of a drone's own transmitter is taken to exceed the
instrumented range). Silent (autonomous) classes are never detected. With ``require_los``
(default) buildings block the signal like an optical path; urban multipath and diffraction,
which in reality let some signal around corners, are ignored (documented limitation).

Measurements: ``z = [NaN, az, NaN, NaN]`` with Gaussian bearing noise ``sigma_az_rad``, R with
only its azimuth entry set. False alarms (``false_alarms_per_scan``, Poisson) have uniform
bearings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad.geo import World
from shorad.sensors.base import (
    AZ,
    CLUTTER_ID,
    N_MEAS,
    Detections,
    MountedSensor,
    Targets,
    polar_from_cartesian,
    visible_from,
    wrap_2pi,
)

__all__ = ["RfConfig", "RfSensor"]


@dataclass(frozen=True, slots=True)
class RfConfig:
    """Assumptions of one RF direction-finder type (from a preset; SI units).

    Attributes
    ----------
    name : str
    max_range_m : float
        Detection range against an emitting drone.
    pd : float
        Probability of detecting an emitting drone in coverage in one scan.
    scan_period_s : float
        Time between bearing reports.
    sigma_az_rad : float
        One-sigma bearing error.
    min_el_rad, max_el_rad : float, default -pi/2, pi/2
        Elevation coverage.
    require_los : bool, default True
        Whether buildings block detection.
    false_alarms_per_scan : float, default 0.0
        Mean false bearings per scan.
    """

    name: str
    max_range_m: float
    pd: float
    scan_period_s: float
    sigma_az_rad: float
    min_el_rad: float = -0.5 * math.pi
    max_el_rad: float = 0.5 * math.pi
    require_los: bool = True
    false_alarms_per_scan: float = 0.0


class RfSensor(MountedSensor[RfConfig]):
    """One RF direction finder at a fixed ENU position.

    Parameters
    ----------
    config : RfConfig
    sensor_id : int
        Index of the unit carrying it (written into every detection).
    pos_m : (3,) float64
        Antenna position, ENU metres.
    """

    __slots__ = ()

    @property
    def requires_los(self) -> bool:
        """Whether buildings block detection (``config.require_los``)."""
        return self.config.require_los

    def in_coverage(self, z: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Range and elevation limits for polar positions ``z`` (..., 3)."""
        cfg = self.config
        return (
            (z[..., 0] <= cfg.max_range_m)
            & (z[..., 2] >= cfg.min_el_rad)
            & (z[..., 2] <= cfg.max_el_rad)
        )

    def single_look_pd(
        self, z: NDArray[np.float64], rcs_dbsm: NDArray[np.float64], emits: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """``pd`` for emitting targets, 0 for silent ones (n,)."""
        e = np.broadcast_to(np.asarray(emits, np.bool_), (z.shape[0],))
        return np.where(e, self.config.pd, 0.0)

    def scan_targets(
        self,
        world: World,
        t_s: float,
        targets: Targets,
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
    ) -> Detections:
        """One scan: bearings of the emitting targets in coverage.

        Parameters
        ----------
        world : World
        t_s : float
            Scan time (s).
        targets : Targets
            Targets in flight; only those with ``emits`` can be detected.
        rng : numpy.random.Generator
            This sensor's stream; draws happen in a fixed order.
        visibility : ((n,) bool, (n, 3) float64), optional
            This sensor's row of :func:`~shorad.sensors.base.visible_from`.

        Returns
        -------
        Detections
            Bearing-only: ``z[:, 1]`` set, other columns NaN.
        """
        cfg = self.config
        n = len(targets)
        u = rng.uniform(size=n)
        if not cfg.require_los:
            z = polar_from_cartesian(targets.pos_m - self.pos_m)
            ok = self.in_coverage(z)
        elif visibility is None:
            ok2, z2 = visible_from([self], world, targets.pos_m)
            ok, z = ok2[0], z2[0]
        else:
            ok, z = visibility
        pd = np.where(ok, self.single_look_pd(z, targets.rcs_dbsm, targets.emits), 0.0)
        hit = u < pd
        az = z[:, 1] + cfg.sigma_az_rad * rng.standard_normal(n)
        n_c = int(rng.poisson(cfg.false_alarms_per_scan))
        az_all = np.concatenate([az[hit], rng.uniform(0.0, 2.0 * math.pi, n_c)])
        m = az_all.shape[0]
        zz = np.full((m, N_MEAS), np.nan)
        zz[:, AZ] = wrap_2pi(az_all)
        R = np.zeros((m, N_MEAS, N_MEAS))
        R[:, AZ, AZ] = cfg.sigma_az_rad**2
        return Detections(
            t_s=np.full(m, float(t_s)),
            sensor_id=np.full(m, self.sensor_id, np.int32),
            z=zz,
            R=R,
            sensor_pos_m=np.broadcast_to(self.pos_m, (m, 3)).copy(),
            truth_id=np.concatenate([targets.threat_id[hit], np.full(n_c, CLUTTER_ID, np.int64)]),
        )
