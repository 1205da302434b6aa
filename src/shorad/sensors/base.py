"""Sensor stage contract: :class:`Detections`, one sensor scan's batch of measurements.

Measurement frame: ``z = [range_m, az_rad, el_rad, range_rate_mps]`` about ``sensor_pos_m``,
with azimuth a bearing measured clockwise from north (ENU +y) towards east (+x), in
[0, 2*pi), elevation above the local horizontal plane, and range rate positive when opening::

    dx = r cos(el) sin(az),  dy = r cos(el) cos(az),  dz = r sin(el)

A sensor fills only what it measures; a component it does not measure is NaN in ``z`` and
has a zero row and column in ``R``. A 3-D radar gives range, azimuth and elevation (and range
rate if it is a Doppler radar); an EO/IR camera azimuth and elevation (and range with a laser
rangefinder); an RF direction finder azimuth only. ``Detections.measured`` tells which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from shorad._contract import check_array

if TYPE_CHECKING:
    from shorad.geo import World

__all__ = [
    "AZ",
    "CLUTTER_ID",
    "EL",
    "N_MEAS",
    "RANGE",
    "RANGE_RATE",
    "Detections",
    "MountedSensor",
    "Sensor",
    "Targets",
    "cartesian_from_polar",
    "polar_from_cartesian",
    "visible_from",
    "with_unmeasured",
    "wrap_2pi",
]

CLUTTER_ID = -1
"""``truth_id`` of a false alarm (clutter)."""

RANGE, AZ, EL, RANGE_RATE = 0, 1, 2, 3
"""Column of each measured quantity in ``Detections.z``."""
N_MEAS = 4
"""Number of columns of ``Detections.z``."""


@dataclass(frozen=True, slots=True)
class Detections:
    """One scan's detections from one or more sensors.

    Attributes
    ----------
    t_s : (n,) float64
        Measurement time (s from scenario epoch).
    sensor_id : (n,) int32
        Index of the sensor (unit) that made the measurement.
    z : (n, 4) float64
        ``[range_m, az_rad, el_rad, range_rate_mps]`` in the sensor's frame (see module
        docstring); NaN where the sensor does not measure a component.
    R : (n, 4, 4) float64
        Measurement noise covariance of ``z`` (m^2, rad^2, m^2/s^2); zero rows and columns
        for unmeasured components.
    sensor_pos_m : (n, 3) float64
        ENU position of the sensor that made each measurement.
    truth_id : (n,) int64
        Threat id that caused the detection, ``CLUTTER_ID`` (-1) for clutter. For scoring and
        bookkeeping in ``sim``/``analysis`` only: a tracker must never read it.
    """

    t_s: NDArray[np.float64]
    sensor_id: NDArray[np.int32]
    z: NDArray[np.float64]
    R: NDArray[np.float64]
    sensor_pos_m: NDArray[np.float64]
    truth_id: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = self.t_s.shape[0] if isinstance(self.t_s, np.ndarray) else None
        check_array("Detections", "t_s", self.t_s, np.float64, (None,))
        check_array("Detections", "sensor_id", self.sensor_id, np.int32, (n,))
        check_array("Detections", "z", self.z, np.float64, (n, N_MEAS))
        check_array("Detections", "R", self.R, np.float64, (n, N_MEAS, N_MEAS))
        check_array("Detections", "sensor_pos_m", self.sensor_pos_m, np.float64, (n, 3))
        check_array("Detections", "truth_id", self.truth_id, np.int64, (n,))

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        """A batch with no detections."""
        return cls(
            t_s=np.zeros(0),
            sensor_id=np.zeros(0, np.int32),
            z=np.zeros((0, N_MEAS)),
            R=np.zeros((0, N_MEAS, N_MEAS)),
            sensor_pos_m=np.zeros((0, 3)),
            truth_id=np.zeros(0, np.int64),
        )

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        """Concatenate batches (e.g. several sensors' scans) in the given order."""
        if not parts:
            return cls.empty()
        return cls(
            t_s=np.concatenate([p.t_s for p in parts]),
            sensor_id=np.concatenate([p.sensor_id for p in parts]),
            z=np.concatenate([p.z for p in parts]),
            R=np.concatenate([p.R for p in parts]),
            sensor_pos_m=np.concatenate([p.sensor_pos_m for p in parts]),
            truth_id=np.concatenate([p.truth_id for p in parts]),
        )

    @property
    def measured(self) -> NDArray[np.bool_]:
        """(n, 4) bool: which components of ``z`` each detection measures."""
        mask: NDArray[np.bool_] = np.isfinite(self.z)
        return mask

    @property
    def has_position(self) -> NDArray[np.bool_]:
        """(n,) bool: detections with range, azimuth and elevation (a full 3-D position)."""
        return np.asarray(np.isfinite(self.z[:, :3]).all(axis=1), dtype=np.bool_)

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> Detections:
        """Subset of rows (index or boolean mask)."""
        return Detections(
            t_s=self.t_s[idx],
            sensor_id=self.sensor_id[idx],
            z=self.z[idx],
            R=self.R[idx],
            sensor_pos_m=self.sensor_pos_m[idx],
            truth_id=self.truth_id[idx],
        )


def polar_from_cartesian(d_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative ENU vectors to ``[range_m, az_rad, el_rad]``.

    Parameters
    ----------
    d_m : (n, 3) float64
        Target position minus sensor position, ENU metres.

    Returns
    -------
    (n, 3) float64
        Range (m), azimuth (rad, clockwise from north, in [0, 2*pi)), elevation (rad).
    """
    x, y, zz = d_m[:, 0], d_m[:, 1], d_m[:, 2]
    ground = np.hypot(x, y)
    r = np.hypot(ground, zz)
    az = wrap_2pi(np.arctan2(x, y))
    el = np.arctan2(zz, ground)
    return np.stack([r, az, el], axis=1)


def with_unmeasured(
    z3: NDArray[np.float64], R3: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Range/azimuth/elevation measurements (n, 3), (n, 3, 3) in the 4-column contract.

    The range-rate column becomes NaN and its covariance row and column zero.
    """
    n = z3.shape[0]
    z = np.empty((n, N_MEAS))
    z[:, :3] = z3
    z[:, 3] = np.nan
    R = np.zeros((n, N_MEAS, N_MEAS))
    R[:, :3, :3] = R3
    return z, R


def wrap_2pi(angle_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angles wrapped to [0, 2*pi) (``np.mod`` alone can return 2*pi for tiny negatives)."""
    a = np.mod(angle_rad, 2.0 * np.pi)
    return np.where(a >= 2.0 * np.pi, 0.0, a)


def cartesian_from_polar(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse of :func:`polar_from_cartesian`: ``[range, az, el, ...]`` to relative ENU metres.

    Only the first three columns of ``z`` (n, >=3) are read.
    """
    r, az, el = z[:, 0], z[:, 1], z[:, 2]
    ce = np.cos(el)
    return np.stack([r * ce * np.sin(az), r * ce * np.cos(az), r * np.sin(el)], axis=1)


@dataclass(frozen=True, slots=True)
class Targets:
    """True state of the targets in flight, as every sensor's ``scan`` reads it.

    Attributes
    ----------
    pos_m : (n, 3) float64
        ENU positions.
    vel_mps : (n, 3) float64
        ENU velocities.
    rcs_dbsm : (n,) float64
        Radar cross-sections.
    emits : (n,) bool
        True for targets whose class emits a control link (RF-detectable).
    threat_id : (n,) int64
        Truth ids, carried into ``Detections.truth_id`` for scoring only.
    """

    pos_m: NDArray[np.float64]
    vel_mps: NDArray[np.float64]
    rcs_dbsm: NDArray[np.float64]
    emits: NDArray[np.bool_]
    threat_id: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = self.pos_m.shape[0] if isinstance(self.pos_m, np.ndarray) else None
        check_array("Targets", "pos_m", self.pos_m, np.float64, (n, 3))
        check_array("Targets", "vel_mps", self.vel_mps, np.float64, (n, 3))
        check_array("Targets", "rcs_dbsm", self.rcs_dbsm, np.float64, (n,))
        check_array("Targets", "emits", self.emits, np.bool_, (n,))
        check_array("Targets", "threat_id", self.threat_id, np.int64, (n,))

    def __len__(self) -> int:
        return int(self.pos_m.shape[0])


class Sensor(Protocol):
    """What the simulation and the coverage maps need of any sensor (radar, EO/IR, RF).

    ``in_coverage`` and ``single_look_pd`` are pure functions of the geometry and the target's
    signature; ``scan`` draws from the sensor's own stream and returns :class:`Detections`.
    """

    sensor_id: int
    pos_m: NDArray[np.float64]

    @property
    def scan_period_s(self) -> float:
        """Time between two scans (looks) of this sensor (s)."""
        ...

    @property
    def max_range_m(self) -> float:
        """Instrumented range (m)."""
        ...

    @property
    def revisit_s(self) -> float:
        """Time between two looks at the same direction (s); ``scan_period_s`` unless the
        sensor searches its coverage in steps (EO/IR)."""
        ...

    def in_coverage(self, z: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Range/elevation limits for true polar positions ``z`` (..., 3)."""
        ...

    def single_look_pd(
        self, z: NDArray[np.float64], rcs_dbsm: NDArray[np.float64], emits: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Detection probability (n,) of one look at targets at polar ``z`` (n, 3) with the
        given signatures, when in coverage and line of sight (both ignored here)."""
        ...

    def scan_targets(
        self,
        world: World,
        t_s: float,
        targets: Targets,
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
    ) -> Detections:
        """One scan against ``targets``; ``visibility`` is this sensor's row of
        :func:`visible_from` when computed for several sensors at once."""
        ...


class _SensorConfig(Protocol):
    @property
    def scan_period_s(self) -> float: ...

    @property
    def max_range_m(self) -> float: ...


ConfigT = TypeVar("ConfigT", bound=_SensorConfig)


class MountedSensor(Generic[ConfigT]):
    """What every sensor type shares: its configuration, unit index and mount position.

    Parameters
    ----------
    config : a sensor configuration (with ``scan_period_s`` and ``max_range_m``)
    sensor_id : int
        Index of the unit carrying it (written into every detection).
    pos_m : (3,) float64
        Sensor position, ENU metres.
    """

    __slots__ = ("config", "pos_m", "sensor_id")

    def __init__(self, config: ConfigT, sensor_id: int, pos_m: NDArray[np.float64]) -> None:
        self.config = config
        self.sensor_id = int(sensor_id)
        self.pos_m = np.asarray(pos_m, np.float64)

    @property
    def scan_period_s(self) -> float:
        """Time between scans (s)."""
        return float(self.config.scan_period_s)

    @property
    def max_range_m(self) -> float:
        """Instrumented range (m)."""
        return float(self.config.max_range_m)

    @property
    def revisit_s(self) -> float:
        """Time between looks at the same target (s): the scan period unless overridden."""
        return self.scan_period_s


class _Placed(Protocol):
    @property
    def pos_m(self) -> NDArray[np.float64]: ...

    def in_coverage(self, z: NDArray[np.float64]) -> NDArray[np.bool_]: ...


def visible_from(
    sensors: Sequence[_Placed], world: World, pos_m: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Coverage and line of sight of targets from several sensors, in one line-of-sight query.

    Parameters
    ----------
    sensors : sequence of sensors
        ``r`` sensors (anything with ``pos_m`` and ``in_coverage``).
    world : World
    pos_m : (n, 3) float64
        Target positions, ENU metres.

    Returns
    -------
    ok : (r, n) bool
        Inside range/elevation limits and in line of sight.
    z : (r, n, 3) float64
        True polar position of every target from every sensor.
    """
    r, n = len(sensors), pos_m.shape[0]
    sensor = np.array([s.pos_m for s in sensors], dtype=np.float64).reshape(r, 3)
    rel = (pos_m[None, :, :] - sensor[:, None, :]).reshape(r * n, 3)
    z = polar_from_cartesian(rel).reshape(r, n, 3)
    ok = np.stack([s.in_coverage(z[i]) for i, s in enumerate(sensors)]).reshape(r, n)
    if ok.any():
        ii, jj = np.nonzero(ok)
        ok[ii, jj] = world.los(sensor[ii], pos_m[jj])
    return ok, z
