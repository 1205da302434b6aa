"""Nearly-constant-velocity (NCV) motion model and extended Kalman filter for radar measurements.

State ``x = [x_m, y_m, z_m, vx_mps, vy_mps, vz_mps]`` in ENU about the site origin (see
:mod:`shorad.tracking.base`); measurement ``z = [range_m, az_rad, el_rad]`` about the sensor, with
azimuth clockwise from north (see :mod:`shorad.sensors.base`).

Every function takes a batch: the leading axis runs over tracks, the trailing axes over state or
measurement components. Nothing is modified in place; new arrays come back. These numpy
functions are the readable reference; :class:`shorad.tracking.gnn.GnnTracker` runs compiled
equivalents from :mod:`shorad.tracking._kernels`, tested against them.

Symbols (textbook notation of [1]_, allowed in filter maths by the style guide):

==========  =============================================================
``F``       state transition matrix, (6, 6)
``Q``       process noise covariance, (6, 6), m^2, m^2/s, m^2/s^2 blocks
``H``       Jacobian of the measurement function ``h(x)``, (3, 6)
``R``       measurement noise covariance, (3, 3), m^2 and rad^2
``P``       state covariance, (6, 6)
``S``       innovation covariance ``H P H^T + R``, (3, 3)
``K``       Kalman gain ``P H^T S^-1``, (6, 3)
==========  =============================================================

References
----------
.. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001. §5.2 (Kalman filter, Joseph form of the covariance update),
   §6.2.2 (continuous white noise acceleration model), ch. 10 (extended Kalman filter). Cited
   in the function docstrings as "Bar-Shalom et al. (2001)".
.. [2] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech House,
   1999 (one-point initiation from polar measurements with the measurement covariance
   converted through the Jacobian of the polar-to-Cartesian map). Cited in the function
   docstrings as "Blackman & Popoli (1999)".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "cartesian_jacobian",
    "initiate",
    "innovation",
    "ncv_process_noise",
    "ncv_transition",
    "polar_measurement",
    "predict",
    "update",
    "wrap_angle",
]

_TWO_PI = 2.0 * np.pi
_MIN_GROUND_M = 1e-6
"""Floor on the horizontal sensor-to-target distance (m) in the azimuth Jacobian (overhead)."""


def wrap_angle(a_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrap angles to ``[-pi, pi)``.

    Parameters
    ----------
    a_rad : (...) float64
        Angles (rad).

    Returns
    -------
    (...) float64
        ``a_rad`` wrapped to ``[-pi, pi)`` (rad).
    """
    return np.mod(a_rad + np.pi, _TWO_PI) - np.pi


def ncv_transition(dt_s: float) -> NDArray[np.float64]:
    """State transition matrix ``F`` of the nearly-constant-velocity model.

    ``F = [[I, dt I], [0, I]]`` with 3x3 blocks: position advances by velocity times ``dt_s``,
    velocity is unchanged (the kinematic model of Bar-Shalom et al. (2001) §6.2, applied per axis).

    Parameters
    ----------
    dt_s : float
        Prediction interval (s), >= 0.

    Returns
    -------
    (6, 6) float64
        ``F``.
    """
    f = np.eye(6)
    f[0, 3] = f[1, 4] = f[2, 5] = dt_s
    return f


def ncv_process_noise(dt_s: float, q_mps2: float) -> NDArray[np.float64]:
    """Process noise covariance ``Q`` of the continuous white noise acceleration (CWNA) model.

    Per axis (Bar-Shalom et al. (2001) §6.2.2)::

        Q_axis = q~ [[dt^3/3, dt^2/2],
                     [dt^2/2, dt    ]],     q~ = q_mps2^2 * (1 s)

    where ``q~`` (m^2/s^3) is the power spectral density of the white acceleration noise.
    ``q_mps2`` is its square root expressed per second, so that over an interval ``T`` the
    velocity changes by about ``q_mps2 * sqrt(T / 1 s)`` (m/s, one sigma), the order-of-magnitude
    rule of Bar-Shalom et al. (2001) §6.2.2. The three axes are independent and share ``q~``.

    Parameters
    ----------
    dt_s : float
        Prediction interval (s), >= 0.
    q_mps2 : float
        Acceleration noise level (m/s^2), >= 0; the spectral density is ``q_mps2**2`` m^2/s^3.

    Returns
    -------
    (6, 6) float64
        ``Q`` in the state order ``[x, y, z, vx, vy, vz]`` (m^2, m^2/s, m^2/s^2 blocks).
    """
    q = q_mps2 * q_mps2
    a = q * dt_s**3 / 3.0
    b = q * dt_s**2 / 2.0
    c = q * dt_s
    out = np.zeros((6, 6))
    i = np.arange(3)
    out[i, i] = a
    out[i, i + 3] = b
    out[i + 3, i] = b
    out[i + 3, i + 3] = c
    return out


def predict(
    x: NDArray[np.float64], P: NDArray[np.float64], dt_s: float, q_mps2: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Kalman prediction with the NCV model: ``x' = F x``, ``P' = F P F^T + Q``.

    The Kalman filter prediction step of Bar-Shalom et al. (2001) §5.2, with ``F`` from
    :func:`ncv_transition` and ``Q`` from :func:`ncv_process_noise`.

    Parameters
    ----------
    x : (m, 6) float64
        States (m, m/s).
    P : (m, 6, 6) float64
        State covariances.
    dt_s : float
        Prediction interval (s), >= 0 (the same for every track).
    q_mps2 : float
        Acceleration noise level (m/s^2), see :func:`ncv_process_noise`.

    Returns
    -------
    x : (m, 6) float64
        Predicted states.
    P : (m, 6, 6) float64
        Predicted covariances (symmetrised).
    """
    f = ncv_transition(dt_s)
    x_new = x @ f.T
    p_new = f @ P @ f.T + ncv_process_noise(dt_s, q_mps2)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))


def polar_measurement(
    x: NDArray[np.float64], sensor_pos_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Radar measurement function ``h(x) = [range, az, el]`` and its Jacobian ``H``.

    With ``d = position - sensor_pos_m``, ``g = hypot(dx, dy)`` and ``r = |d|``::

        r  = |d|                 dr/dd  = d / r
        az = atan2(dx, dy)       daz/dd = [dy, -dx, 0] / g^2
        el = atan2(dz, g)        del/dd = [-dx dz / g, -dy dz / g, g] / r^2

    and zero derivatives with respect to velocity (the EKF linearisation of Bar-Shalom et al.
    (2001) ch. 10). ``g`` is floored at 1e-6 m so that a target straight overhead gives a large
    but finite azimuth row.

    Parameters
    ----------
    x : (m, 6) float64
        States (m, m/s), ENU.
    sensor_pos_m : (3,) or (m, 3) float64
        ENU position of the sensor (m), one for all rows or one per row.

    Returns
    -------
    zhat : (m, 3) float64
        Predicted ``[range_m, az_rad, el_rad]``, azimuth in ``[0, 2*pi)``.
    H : (m, 3, 6) float64
        ``dh/dx`` (1 and m/rad per metre; zeros for the velocity columns).
    """
    d = x[:, :3] - sensor_pos_m
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    g2 = np.maximum(dx * dx + dy * dy, _MIN_GROUND_M * _MIN_GROUND_M)
    g = np.sqrt(g2)
    r2 = g2 + dz * dz
    r = np.sqrt(r2)
    zhat = np.empty((x.shape[0], 3))
    zhat[:, 0] = r
    zhat[:, 1] = np.mod(np.arctan2(dx, dy), _TWO_PI)
    zhat[:, 2] = np.arctan2(dz, g)
    h = np.zeros((x.shape[0], 3, 6))
    h[:, 0, :3] = d / r[:, None]
    h[:, 1, 0] = dy / g2
    h[:, 1, 1] = -dx / g2
    k = dz / (g * r2)
    h[:, 2, 0] = -dx * k
    h[:, 2, 1] = -dy * k
    h[:, 2, 2] = g / r2
    return zhat, h


def innovation(z: NDArray[np.float64], zhat: NDArray[np.float64]) -> NDArray[np.float64]:
    """All track-to-measurement innovations ``z_j - zhat_i``, azimuth wrapped.

    Parameters
    ----------
    z : (n, 3) float64
        Measurements ``[range_m, az_rad, el_rad]``.
    zhat : (m, 3) float64
        Predicted measurements, same frame.

    Returns
    -------
    (m, n, 3) float64
        ``nu[i, j] = z[j] - zhat[i]`` (m, rad, rad) with the azimuth difference wrapped to
        ``[-pi, pi)``, so a target at 359.9 deg seen at 0.1 deg gives +0.2 deg.
    """
    nu = z[None, :, :] - zhat[:, None, :]
    nu[..., 1] = wrap_angle(nu[..., 1])
    return nu


def update(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Batched extended Kalman filter update, one measurement per track.

    ``nu = z - h(x)`` (azimuth wrapped to ``[-pi, pi)``), ``S = H P H^T + R``,
    ``K = P H^T S^-1``, ``x' = x + K nu``, and the Joseph form
    ``P' = (I - K H) P (I - K H)^T + K R K^T``, symmetrised, which stays positive definite under
    rounding where the short form ``(I - K H) P`` may not (Bar-Shalom et al. (2001) §5.2 for the
    Kalman filter and its Joseph form, ch. 10 for the extended Kalman filter).

    Parameters
    ----------
    x : (m, 6) float64
        Predicted states (m, m/s).
    P : (m, 6, 6) float64
        Predicted covariances.
    z : (m, 3) float64
        Measurement paired with each row, ``[range_m, az_rad, el_rad]``.
    R : (m, 3, 3) float64
        Measurement noise covariances (m^2, rad^2).
    sensor_pos_m : (3,) or (m, 3) float64
        ENU position of the sensor (m) that made each measurement.

    Returns
    -------
    x : (m, 6) float64
        Updated states.
    P : (m, 6, 6) float64
        Updated covariances.
    """
    zhat, h = polar_measurement(x, sensor_pos_m)
    nu = z - zhat
    nu[:, 1] = wrap_angle(nu[:, 1])
    ht = np.swapaxes(h, -1, -2)
    pht = P @ ht  # (m, 6, 3)
    s = h @ pht + R
    # K = P H^T S^-1, from S K^T = H P (S and P symmetric): solved, not inverted.
    k_gain = np.swapaxes(np.linalg.solve(s, np.swapaxes(pht, -1, -2)), -1, -2)  # (m, 6, 3)
    x_new = x + (k_gain @ nu[:, :, None])[:, :, 0]
    a = np.eye(6) - k_gain @ h
    p_new = a @ P @ np.swapaxes(a, -1, -2) + k_gain @ R @ np.swapaxes(k_gain, -1, -2)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))


def cartesian_jacobian(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Jacobian of the polar-to-Cartesian map of :func:`shorad.sensors.base.cartesian_from_polar`.

    For ``d = r [cos(el) sin(az), cos(el) cos(az), sin(el)]``::

        dd/dr  = [ce sa,       ce ca,      se   ]
        dd/daz = [r ce ca,    -r ce sa,    0    ]
        dd/del = [-r se sa,   -r se ca,    r ce ]

    Parameters
    ----------
    z : (n, 3) float64
        ``[range_m, az_rad, el_rad]``.

    Returns
    -------
    (n, 3, 3) float64
        ``J[k, i, j] = d d_i / d z_j`` (1 and m/rad).
    """
    r, az, el = z[:, 0], z[:, 1], z[:, 2]
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    j = np.empty((z.shape[0], 3, 3))
    j[:, 0, 0] = ce * sa
    j[:, 1, 0] = ce * ca
    j[:, 2, 0] = se
    j[:, 0, 1] = r * ce * ca
    j[:, 1, 1] = -r * ce * sa
    j[:, 2, 1] = 0.0
    j[:, 0, 2] = -r * se * sa
    j[:, 1, 2] = -r * se * ca
    j[:, 2, 2] = r * ce
    return j


def initiate(
    z: NDArray[np.float64],
    R: NDArray[np.float64],
    sensor_pos_m: NDArray[np.float64],
    speed_sigma_mps: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One-point track initiation from polar measurements.

    Position is the measurement converted to ENU; velocity is zero with an isotropic prior
    ``speed_sigma_mps`` per axis. The position covariance is ``J R J^T`` with ``J`` from
    :func:`cartesian_jacobian` (first-order propagation of ``R`` through the polar-to-Cartesian
    map, adequate at the small angular errors of a radar; Blackman & Popoli (1999)); position
    and velocity start uncorrelated.

    Parameters
    ----------
    z : (n, 3) float64
        ``[range_m, az_rad, el_rad]``.
    R : (n, 3, 3) float64
        Measurement noise covariances (m^2, rad^2).
    sensor_pos_m : (3,) or (n, 3) float64
        ENU sensor position(s) (m).
    speed_sigma_mps : float
        One-sigma prior on each velocity component (m/s).

    Returns
    -------
    x : (n, 6) float64
        Initial states, zero velocity.
    P : (n, 6, 6) float64
        Initial covariances.
    """
    r, az, el = z[:, 0], z[:, 1], z[:, 2]
    ce = np.cos(el)
    n = z.shape[0]
    x = np.zeros((n, 6))
    x[:, 0] = r * ce * np.sin(az)
    x[:, 1] = r * ce * np.cos(az)
    x[:, 2] = r * np.sin(el)
    x[:, :3] += sensor_pos_m
    j = cartesian_jacobian(z)
    p = np.zeros((n, 6, 6))
    p_pos = j @ R @ np.swapaxes(j, -1, -2)
    p[:, :3, :3] = 0.5 * (p_pos + np.swapaxes(p_pos, -1, -2))
    i = np.arange(3, 6)
    p[:, i, i] = speed_sigma_mps * speed_sigma_mps
    return x, p
