"""Linear Kalman filter for Cartesian position measurements, in 2-D or 3-D.

State ``x = [p_1 .. p_d, v_1 .. v_d]`` (positions in m, then velocities in m/s) for ``d`` = 2
or 3; measurement ``z = H x + w`` with ``H = [I_d, 0]`` (positions), ``w ~ N(0, R)``.

Symbols (textbook notation of Bar-Shalom et al. (2001), allowed in filter maths by the style
guide): ``F`` transition (2d, 2d), ``Q`` process noise (2d, 2d), ``H`` measurement matrix (d, 2d),
``R`` measurement covariance (d, d) m^2, ``P`` state covariance, ``S = H P H^T + R`` innovation
covariance, ``K = P H^T S^-1`` gain.

Every function takes a batch (leading axis = tracks) and returns new arrays.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001. §5.2 (Kalman filter, Joseph form), §6.2.2 (continuous white noise
   acceleration model), §6.2.3 (Wiener-sequence acceleration / nearly constant acceleration).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "cv_process_noise",
    "cv_transition",
    "kf_predict",
    "kf_update",
    "position_innovation_cov",
]


def cv_transition(dim: int, dt_s: float) -> NDArray[np.float64]:
    """``F = [[I, dt I], [0, I]]`` (2 dim, 2 dim) of the nearly-constant-velocity model."""
    f = np.eye(2 * dim)
    f[np.arange(dim), np.arange(dim) + dim] = dt_s
    return f


def cv_process_noise(dim: int, dt_s: float, q_m2ps3: float) -> NDArray[np.float64]:
    """``Q`` of the continuous white noise acceleration model, Bar-Shalom et al. (2001) §6.2.2.

    Per axis ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]`` with ``q`` the spectral density (m^2/s^3),
    the same convention as Stone Soup's ``ConstantVelocity(noise_diff_coeff=q)``.

    Parameters
    ----------
    dim : int
        Spatial dimension (2 or 3).
    dt_s : float
        Interval (s), >= 0.
    q_m2ps3 : float
        Spectral density of the white acceleration noise (m^2/s^3), >= 0.

    Returns
    -------
    (2 dim, 2 dim) float64
        ``Q`` in the state order ``[p, v]``.
    """
    i = np.arange(dim)
    out = np.zeros((2 * dim, 2 * dim))
    out[i, i] = q_m2ps3 * dt_s**3 / 3.0
    out[i, i + dim] = out[i + dim, i] = q_m2ps3 * dt_s**2 / 2.0
    out[i + dim, i + dim] = q_m2ps3 * dt_s
    return out


def kf_predict(
    x: NDArray[np.float64], P: NDArray[np.float64], F: NDArray[np.float64], Q: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``x' = F x``, ``P' = F P F^T + Q`` (Bar-Shalom et al. (2001) §5.2).

    Parameters
    ----------
    x : (m, k) float64
        States.
    P : (m, k, k) float64
        Covariances.
    F, Q : (k, k) float64
        Transition and process noise (shared by all tracks).

    Returns
    -------
    x : (m, k) float64
    P : (m, k, k) float64
        Symmetrised.
    """
    x_new = x @ F.T
    p_new = F @ P @ F.T + Q
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))


def position_innovation_cov(
    P: NDArray[np.float64], R: NDArray[np.float64], dim: int
) -> NDArray[np.float64]:
    """``S = H P H^T + R`` = the position block of ``P`` plus ``R`` (m, dim, dim) m^2."""
    return P[:, :dim, :dim] + R


def kf_update(
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    z: NDArray[np.float64],
    R: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Kalman update with position measurements, one per track, Joseph form.

    ``nu = z - H x``, ``S = H P H^T + R``, ``K = P H^T S^-1``, ``x' = x + K nu``,
    ``P' = (I - K H) P (I - K H)^T + K R K^T`` (Bar-Shalom et al. (2001) §5.2), symmetrised.

    Parameters
    ----------
    x : (m, 2d) float64
        Predicted states.
    P : (m, 2d, 2d) float64
        Predicted covariances.
    z : (m, d) float64
        Position measurement of each track (m).
    R : (d, d) or (m, d, d) float64
        Measurement covariance (m^2).

    Returns
    -------
    x : (m, 2d) float64
    P : (m, 2d, 2d) float64
    """
    d = z.shape[1]
    k_dim = x.shape[1]
    s = P[:, :d, :d] + R
    pht = P[:, :, :d]  # P H^T
    k_gain = np.swapaxes(np.linalg.solve(s, np.swapaxes(pht, -1, -2)), -1, -2)  # (m, 2d, d)
    nu = z - x[:, :d]
    x_new = x + np.einsum("mij,mj->mi", k_gain, nu)
    a = np.broadcast_to(np.eye(k_dim), P.shape).copy()
    a[:, :, :d] -= k_gain
    p_new = a @ P @ np.swapaxes(a, -1, -2) + k_gain @ R @ np.swapaxes(k_gain, -1, -2)
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))
