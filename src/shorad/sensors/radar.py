"""Rooftop surveillance radar: radar-equation detection probability, noise, occlusion, clutter.

Signal-to-noise ratio follows the radar equation scaled from a reference point,

    SNR_dB(r, sigma) = ref_snr_db + 40 log10(ref_range_m / r) + (rcs_dbsm - ref_rcs_dbsm),

and the probability of detection for a single look at false-alarm probability ``pfa`` is

* Swerling 1 (slow fluctuation, exponential RCS): ``Pd = pfa ** (1 / (1 + SNR))``;
* Swerling 0 (steady target): Marcum's Q, ``Pd = Q1(sqrt(2 SNR), sqrt(-2 ln pfa))``, evaluated
  as the survival function of a non-central chi-square with 2 degrees of freedom.

(Skolnik, *Introduction to Radar Systems*, 3rd ed., §2.5 and §2.8; Richards, *Fundamentals of
Radar Signal Processing*, §6.2.) A target is only detectable inside the instrumented range,
inside the elevation limits, and in line of sight through the buildings. False alarms after
CFAR are a Poisson number per scan spread uniformly in range, azimuth and elevation; its mean
is ``clutter_per_scan + pfa * n_resolution_cells`` (:func:`expected_false_alarms`): residual
urban clutter plus the thermal false alarms that the CFAR threshold lets through in each of the
``n_resolution_cells`` range-azimuth-elevation cells of one scan.

Documented loss terms and limits
--------------------------------
* Multipath and ground clutter near the horizon: the SNR loses
  ``multipath_loss_db * exp(-max(el, 0) / multipath_el_scale_rad)`` dB (:func:`horizon_loss_db`),
  a smooth stand-in for lobing and clutter-limited detection at grazing elevations (Skolnik,
  §8.2 "multipath"; Barton, *Radar Equations for Modern Radar*, ch. 8). 0 dB by default.
* Range rate (Doppler): with ``sigma_range_rate_mps`` set, detections carry the radial speed
  ``(v . u)`` plus Gaussian noise as ``z[:, 3]``; otherwise it is NaN (not measured).
* Resolution: targets closer than ``range_resolution_m`` in range *and* within
  ``az_resolution_rad`` in azimuth of a brighter detected target merge into it (the weaker
  detection is dropped), when those resolutions are set (> 0); 0 disables merging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import chndtr

from shorad.geo import World
from shorad.sensors.base import (
    CLUTTER_ID,
    N_MEAS,
    Detections,
    MountedSensor,
    Targets,
    visible_from,
    wrap_2pi,
)

__all__ = [
    "Radar",
    "RadarConfig",
    "detection_probability",
    "expected_false_alarms",
    "horizon_loss_db",
    "snr_db",
    "visible_from",
]


@dataclass(frozen=True, slots=True)
class RadarConfig:
    """Assumptions of one radar type (from a preset; SI units).

    Attributes
    ----------
    name : str
    max_range_m, min_range_m : float
        Instrumented range limits.
    ref_range_m, ref_snr_db, ref_rcs_dbsm : float
        Single-look SNR ``ref_snr_db`` against a ``ref_rcs_dbsm`` target at ``ref_range_m``.
    pfa : float
        Probability of false alarm per resolution cell.
    swerling : int
        Target fluctuation model, 0 or 1.
    scan_period_s : float
        Time between looks at the same target.
    min_el_rad, max_el_rad : float
        Elevation coverage.
    sigma_range_m, sigma_az_rad, sigma_el_rad : float
        One-sigma measurement errors.
    clutter_per_scan : float
        Mean number of residual clutter detections per scan (after CFAR).
    n_resolution_cells : float, default 0.0
        Resolution cells examined per scan; adds ``pfa * n_resolution_cells`` false alarms.
    multipath_loss_db, multipath_el_scale_rad : float, default 0.0, 0.05
        Horizon loss term, see the module docstring.
    sigma_range_rate_mps : float, default 0.0
        One-sigma range-rate error; 0 means range rate is not measured.
    range_resolution_m, az_resolution_rad : float, default 0.0
        Resolution for merging unresolved targets (0 disables merging).
    clutter_max_range_rate_mps : float, default 50.0
        False alarms get a range rate uniform in +- this (when range rate is measured).
    """

    name: str
    max_range_m: float
    min_range_m: float
    ref_range_m: float
    ref_snr_db: float
    ref_rcs_dbsm: float
    pfa: float
    swerling: int
    scan_period_s: float
    min_el_rad: float
    max_el_rad: float
    sigma_range_m: float
    sigma_az_rad: float
    sigma_el_rad: float
    clutter_per_scan: float
    n_resolution_cells: float = 0.0
    multipath_loss_db: float = 0.0
    multipath_el_scale_rad: float = 0.05
    sigma_range_rate_mps: float = 0.0
    range_resolution_m: float = 0.0
    az_resolution_rad: float = 0.0
    clutter_max_range_rate_mps: float = 50.0

    @property
    def R(self) -> NDArray[np.float64]:
        """(4, 4) measurement noise covariance of ``[range, az, el, range_rate]``.

        Without range-rate measurement (``sigma_range_rate_mps == 0``) its row and column are
        zero.
        """
        return np.diag(
            [
                self.sigma_range_m**2,
                self.sigma_az_rad**2,
                self.sigma_el_rad**2,
                self.sigma_range_rate_mps**2,
            ]
        )


def expected_false_alarms(cfg: RadarConfig) -> float:
    """Mean false detections per scan: ``clutter_per_scan + pfa * n_resolution_cells``."""
    return float(cfg.clutter_per_scan + cfg.pfa * cfg.n_resolution_cells)


def horizon_loss_db(cfg: RadarConfig, el_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Multipath / ground-clutter loss (dB, >= 0) at elevation ``el_rad`` (n,)."""
    el = np.maximum(np.asarray(el_rad, dtype=np.float64), 0.0)
    if cfg.multipath_loss_db == 0.0:
        return np.zeros_like(el)
    return cfg.multipath_loss_db * np.exp(-el / cfg.multipath_el_scale_rad)


def snr_db(
    cfg: RadarConfig, range_m: NDArray[np.float64], rcs_dbsm: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Single-look SNR (dB) of targets at ``range_m`` (n,) with ``rcs_dbsm`` (n,)."""
    r = np.maximum(range_m, 1.0)
    return cfg.ref_snr_db + 40.0 * np.log10(cfg.ref_range_m / r) + (rcs_dbsm - cfg.ref_rcs_dbsm)


def detection_probability(
    cfg: RadarConfig, range_m: NDArray[np.float64], rcs_dbsm: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Probability of detection (n,) for one look, ignoring coverage and occlusion."""
    snr = 10.0 ** (snr_db(cfg, range_m, rcs_dbsm) / 10.0)
    pd: NDArray[np.float64]
    if cfg.swerling == 1:
        pd = np.power(cfg.pfa, 1.0 / (1.0 + snr))
    else:
        pd = 1.0 - chndtr(-2.0 * math.log(cfg.pfa), 2.0, 2.0 * snr)
    return pd


class Radar(MountedSensor[RadarConfig]):
    """One radar at a fixed ENU position.

    Parameters
    ----------
    config : RadarConfig
    sensor_id : int
        Index of the unit carrying it (written into every detection).
    pos_m : (3,) float64
        Antenna position, ENU metres.
    """

    __slots__ = ("_R", "_R3", "_n_false", "_sigma3")

    def __init__(self, config: RadarConfig, sensor_id: int, pos_m: NDArray[np.float64]) -> None:
        super().__init__(config, sensor_id, pos_m)
        self._R = config.R
        # per-scan constants (the configuration is frozen)
        self._R3 = np.ascontiguousarray(self._R[:3, :3])
        self._sigma3 = np.array([config.sigma_range_m, config.sigma_az_rad, config.sigma_el_rad])
        self._n_false = expected_false_alarms(config)

    def single_look_pd(
        self, z: NDArray[np.float64], rcs_dbsm: NDArray[np.float64], emits: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Pd (n,) of one look at polar ``z`` (n, 3), horizon loss included (coverage and
        line of sight not applied); ``emits`` is ignored."""
        rcs_eff = np.asarray(rcs_dbsm, np.float64) - horizon_loss_db(self.config, z[:, 2])
        return detection_probability(self.config, z[:, 0], rcs_eff)

    def scan_targets(
        self,
        world: World,
        t_s: float,
        targets: Targets,
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
    ) -> Detections:
        """:meth:`scan` with the :class:`~shorad.sensors.base.Targets` batch."""
        return self.scan(
            world,
            t_s,
            targets.pos_m,
            targets.rcs_dbsm,
            targets.threat_id,
            rng=rng,
            visibility=visibility,
            vel_mps=targets.vel_mps,
        )

    def visible(
        self, world: World, pos_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Which targets (n,3) are inside coverage and in line of sight; and their polar z."""
        ok, z = visible_from([self], world, pos_m)
        return ok[0], z[0]

    def in_coverage(self, z: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Range and elevation limits for polar positions ``z`` (..., 3)."""
        cfg = self.config
        return (
            (z[..., 0] <= cfg.max_range_m)
            & (z[..., 0] >= cfg.min_range_m)
            & (z[..., 2] >= cfg.min_el_rad)
            & (z[..., 2] <= cfg.max_el_rad)
        )

    def scan(
        self,
        world: World,
        t_s: float,
        pos_m: NDArray[np.float64],
        rcs_dbsm: NDArray[np.float64],
        threat_id: NDArray[np.int64],
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
        vel_mps: NDArray[np.float64] | None = None,
    ) -> Detections:
        """One scan against the targets in flight.

        Parameters
        ----------
        world : World
            Buildings for occlusion.
        t_s : float
            Scan time (s).
        pos_m : (n, 3) float64
            True target positions (ENU).
        rcs_dbsm : (n,) float64
            True target radar cross-sections.
        threat_id : (n,) int64
            Truth ids, carried into ``Detections.truth_id`` for scoring only.
        rng : numpy.random.Generator
            This sensor's stream; draws happen in a fixed order.
        visibility : ((n,) bool, (n, 3) float64), optional
            This radar's row of :func:`visible_from`, when computed for several radars at once.
        vel_mps : (n, 3) float64, optional
            True target velocities (ENU); needed for range rate when ``sigma_range_rate_mps``
            is set (without it range rate stays NaN).

        Returns
        -------
        Detections
            Target detections first (in input order), then clutter.
        """
        cfg = self.config
        n = pos_m.shape[0]
        u = rng.uniform(size=n)
        ok, z = self.visible(world, pos_m) if visibility is None else visibility
        rcs_eff = rcs_dbsm - horizon_loss_db(cfg, z[:, 2])
        pd = np.where(ok, detection_probability(cfg, z[:, 0], rcs_eff), 0.0)
        hit = u < pd
        if cfg.range_resolution_m > 0.0 and cfg.az_resolution_rad > 0.0 and hit.sum() > 1:
            hit &= _resolved(z, rcs_eff, hit, cfg.range_resolution_m, cfg.az_resolution_rad)
        noise = rng.standard_normal((n, 3)) * self._sigma3
        z_t = (z + noise)[hit]
        n_t = z_t.shape[0]
        n_c = int(rng.poisson(self._n_false))
        m = n_t + n_c
        # range/azimuth/elevation in the 4-column contract (as with_unmeasured builds it):
        # targets first, then clutter; range rate NaN, its covariance row and column zero
        zz = np.empty((m, N_MEAS))
        zz[:n_t, :3] = z_t
        zz[n_t:, 0] = rng.uniform(cfg.min_range_m, cfg.max_range_m, n_c)
        zz[n_t:, 1] = rng.uniform(0.0, 2.0 * np.pi, n_c)
        zz[n_t:, 2] = rng.uniform(cfg.min_el_rad, cfg.max_el_rad, n_c)
        zz[:, 1] = wrap_2pi(zz[:, 1])
        zz[:, 3] = np.nan
        R = np.zeros((m, N_MEAS, N_MEAS))
        R[:, :3, :3] = self._R3
        if cfg.sigma_range_rate_mps > 0.0 and vel_mps is not None:
            # drawn last, so that enabling Doppler leaves every other draw unchanged
            los = pos_m[hit] - self.pos_m
            rng_m = np.maximum(np.linalg.norm(los, axis=1), 1e-9)
            rr = np.einsum("ij,ij->i", vel_mps[hit], los) / rng_m
            rr = rr + cfg.sigma_range_rate_mps * rng.standard_normal(rr.shape[0])
            vmax = cfg.clutter_max_range_rate_mps
            zz[:n_t, 3] = rr
            zz[n_t:, 3] = rng.uniform(-vmax, vmax, n_c)
            R[:, 3, 3] = cfg.sigma_range_rate_mps**2
        sensor_pos = np.empty((m, 3))
        sensor_pos[:] = self.pos_m
        truth_id = np.full(m, CLUTTER_ID, np.int64)
        truth_id[:n_t] = threat_id[hit]
        return Detections(
            t_s=np.full(m, float(t_s)),
            sensor_id=np.full(m, self.sensor_id, np.int32),
            z=zz,
            R=R,
            sensor_pos_m=sensor_pos,
            truth_id=truth_id,
        )


def _resolved(
    z: NDArray[np.float64],
    strength_db: NDArray[np.float64],
    hit: NDArray[np.bool_],
    range_res_m: float,
    az_res_rad: float,
) -> NDArray[np.bool_]:
    """Which detected targets stay separate: a weaker one within one resolution cell (range
    *and* azimuth) of a stronger kept one merges into it and is dropped."""
    keep = hit.copy()
    idx = np.flatnonzero(hit)
    order = idx[np.argsort(-(strength_db[idx] - 40.0 * np.log10(z[idx, 0])), kind="stable")]
    kept: list[int] = []
    for i in order.tolist():
        for j in kept:
            daz = abs((z[i, 1] - z[j, 1] + np.pi) % (2.0 * np.pi) - np.pi)
            if abs(z[i, 0] - z[j, 0]) < range_res_m and daz < az_res_rad:
                keep[i] = False
                break
        else:
            kept.append(i)
    return keep
