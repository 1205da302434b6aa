"""Motion models on one augmented state: NCV, NCA and coordinated turn (CT), for the IMM.

All three models act on the same state so that an IMM can mix them without re-embedding
(the "augmented state" approach; Bar-Shalom, Li & Kirubarajan (2001) §11.6 mix models of one
state vector). For spatial dimension ``d`` (2 or 3) the state is::

    x = [p_1 .. p_d,  v_1 .. v_d,  a_1 .. a_d,  omega]      (3 d + 1 components)

positions (m), velocities (m/s), accelerations (m/s^2) and the horizontal turn rate (rad/s,
positive counter-clockwise seen from above, i.e. from east towards north). The models:

``ncv``
    Nearly constant velocity: ``p += v T`` with continuous white noise acceleration (spectral
    density ``q`` m^2/s^3 per axis, Bar-Shalom et al. (2001) §6.2.2). It asserts zero
    acceleration and zero turn rate: ``a`` and ``omega`` are reset to zero each step with small
    variances ``reset_sigma_mps2**2`` and ``reset_sigma_radps**2`` (so ``P`` stays positive
    definite). Positions and velocities are then uncoupled from ``a`` and ``omega``, so the
    ``[p, v]`` block evolves exactly as the 6-state (3-D) NCV filter of :mod:`.linear`.
``nca``
    Nearly constant acceleration, the Wiener-process acceleration model of Bar-Shalom et al.
    (2001) §6.2.3 per axis: ``[p, v, a]`` with white jerk of spectral density ``q`` (m^2/s^5);
    ``omega`` reset as in ``ncv``. In 3-D this is the usual 9-state model plus the reset
    ``omega``.
``ct``
    Coordinated turn in the horizontal plane with the turn rate in the state (Bar-Shalom et al.
    (2001) §11.7.1, eq. 11.7.1-4), extended Kalman prediction with the analytic Jacobian; the
    vertical axis (3-D) is NCV. White acceleration noise ``q`` (m^2/s^3) on every axis, random
    walk turn rate with density ``q_turn`` (rad^2/s^3); ``a`` reset as in ``ncv``.

Every function takes a batch of tracks (leading axis) and returns new arrays.

Symbols (allowed in filter maths by the style guide): ``F`` transition (or its Jacobian),
``Q`` process noise, ``P`` covariance, ``T`` the prediction interval (s).

References
----------
.. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
   Navigation*, Wiley, 2001. §6.2.2-6.2.3 (NCV, NCA), §11.7.1 (coordinated turn).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad.errors import ConfigError

__all__ = [
    "MOTION_MODELS",
    "MotionModel",
    "carried_components",
    "ct_jacobian",
    "ct_transition",
    "nca_process_noise",
    "nca_transition",
    "ncv_aug_transition",
    "predict_model",
    "process_noise",
    "state_dim",
]

MOTION_MODELS = ("ncv", "nca", "ct")
"""Model kinds of :class:`MotionModel`."""

_SMALL_WT = 1e-4
"""Below this ``|omega T|`` (rad) the CT coefficients use their Taylor series."""


def state_dim(dim: int) -> int:
    """Size of the augmented state for spatial dimension ``dim``: ``3 dim + 1``."""
    return 3 * dim + 1


@dataclass(frozen=True, slots=True)
class MotionModel:
    """One motion model of the augmented state (see the module docstring).

    Attributes
    ----------
    kind : str
        ``"ncv"``, ``"nca"`` or ``"ct"``.
    q : float
        Spectral density of the driving noise: acceleration (m^2/s^3) for ``ncv`` and ``ct``,
        jerk (m^2/s^5) for ``nca``; >= 0.
    q_turn : float
        Turn-rate random walk density (rad^2/s^3) of ``ct``; ignored otherwise.
    reset_sigma_mps2 : float
        Standard deviation of the acceleration a model that asserts none resets to (m/s^2).
    reset_sigma_radps : float
        Standard deviation of the turn rate a model that asserts none resets to (rad/s).
    """

    kind: str
    q: float
    q_turn: float = 0.0
    reset_sigma_mps2: float = 0.1
    reset_sigma_radps: float = 0.01

    def __post_init__(self) -> None:
        if self.kind not in MOTION_MODELS:
            raise ConfigError(
                f"must be one of {MOTION_MODELS}, got {self.kind!r}", field="MotionModel.kind"
            )
        for name in ("q", "q_turn"):
            if not getattr(self, name) >= 0.0:
                raise ConfigError(
                    f"must be >= 0, got {getattr(self, name)!r}", field=f"MotionModel.{name}"
                )
        for name in ("reset_sigma_mps2", "reset_sigma_radps"):
            if not getattr(self, name) > 0.0:
                raise ConfigError(
                    f"must be > 0, got {getattr(self, name)!r}", field=f"MotionModel.{name}"
                )


def carried_components(model: MotionModel, dim: int) -> NDArray[np.bool_]:
    """Mask (3 dim + 1,) of the state components ``model`` estimates (not merely resets).

    All carry ``[p, v]``; ``nca`` also ``a``, ``ct`` also ``omega``.
    """
    out = np.zeros(state_dim(dim), np.bool_)
    out[: 2 * dim] = True
    if model.kind == "nca":
        out[2 * dim : 3 * dim] = True
    elif model.kind == "ct":
        out[3 * dim] = True
    return out


def ncv_aug_transition(dim: int, dt_s: float) -> NDArray[np.float64]:
    """``F`` (3 dim + 1, 3 dim + 1) of ``ncv``: ``p += v T``; ``a`` and ``omega`` reset to 0."""
    n = state_dim(dim)
    f = np.zeros((n, n))
    i = np.arange(dim)
    f[i, i] = 1.0
    f[i + dim, i + dim] = 1.0
    f[i, i + dim] = dt_s
    return f


def nca_transition(dim: int, dt_s: float) -> NDArray[np.float64]:
    """``F`` of ``nca``: per axis ``[[1, T, T^2/2], [0, 1, T], [0, 0, 1]]``; ``omega`` reset."""
    n = state_dim(dim)
    f = np.zeros((n, n))
    i = np.arange(dim)
    for b in range(3):
        f[i + b * dim, i + b * dim] = 1.0
    f[i, i + dim] = dt_s
    f[i + dim, i + 2 * dim] = dt_s
    f[i, i + 2 * dim] = 0.5 * dt_s * dt_s
    return f


def nca_process_noise(dim: int, dt_s: float, q_m2ps5: float) -> NDArray[np.float64]:
    """``[p, v, a]`` block of ``Q`` of the Wiener-process acceleration model (§6.2.3).

    Per axis ``q [[T^5/20, T^4/8, T^3/6], [T^4/8, T^3/3, T^2/2], [T^3/6, T^2/2, T]]`` with
    ``q`` the jerk spectral density (m^2/s^5).

    Returns
    -------
    (3 dim, 3 dim) float64
        In the order ``[p, v, a]`` (axis-major within each block).
    """
    t = dt_s
    blk = q_m2ps5 * np.array(
        [
            [t**5 / 20.0, t**4 / 8.0, t**3 / 6.0],
            [t**4 / 8.0, t**3 / 3.0, t**2 / 2.0],
            [t**3 / 6.0, t**2 / 2.0, t],
        ]
    )
    out = np.zeros((3 * dim, 3 * dim))
    i = np.arange(dim)
    for a in range(3):
        for b in range(3):
            out[i + a * dim, i + b * dim] = blk[a, b]
    return out


def _cwna_block(dim: int, dt_s: float, q: float) -> NDArray[np.float64]:
    """``[p, v]`` block (2 dim, 2 dim) of the continuous white noise acceleration ``Q``."""
    i = np.arange(dim)
    out = np.zeros((2 * dim, 2 * dim))
    out[i, i] = q * dt_s**3 / 3.0
    out[i, i + dim] = out[i + dim, i] = q * dt_s**2 / 2.0
    out[i + dim, i + dim] = q * dt_s
    return out


def process_noise(model: MotionModel, dim: int, dt_s: float) -> NDArray[np.float64]:
    """``Q`` (3 dim + 1, 3 dim + 1) of ``model`` over ``dt_s`` (s); see the module docstring."""
    n = state_dim(dim)
    q = np.zeros((n, n))
    a = np.arange(2 * dim, 3 * dim)
    w = 3 * dim
    if model.kind == "nca":
        q[: 3 * dim, : 3 * dim] = nca_process_noise(dim, dt_s, model.q)
    else:
        q[: 2 * dim, : 2 * dim] = _cwna_block(dim, dt_s, model.q)
        q[a, a] = model.reset_sigma_mps2**2
    if model.kind == "ct":
        q[w, w] = model.q_turn * dt_s
    else:
        q[w, w] = model.reset_sigma_radps**2
    return q


def _ct_coefficients(w: NDArray[np.float64], dt_s: float) -> tuple[NDArray[np.float64], ...]:
    """``sin(wT)/w``, ``(1 - cos wT)/w``, their derivatives in ``w``, ``sin wT``, ``cos wT``."""
    t = dt_s
    wt = w * t
    s, c = np.sin(wt), np.cos(wt)
    small = np.abs(wt) < _SMALL_WT
    w_safe = np.where(small, 1.0, w)
    a = np.where(small, t - w * w * t**3 / 6.0, s / w_safe)  # sin(wT)/w
    b = np.where(small, w * t * t / 2.0 - w**3 * t**4 / 24.0, (1.0 - c) / w_safe)
    da = np.where(small, -w * t**3 / 3.0, (t * c * w - s) / (w_safe * w_safe))
    db = np.where(small, t * t / 2.0 - w * w * t**4 / 8.0, (t * s * w - (1.0 - c)) / w_safe**2)
    return a, b, da, db, s, c


def ct_transition(x: NDArray[np.float64], dim: int, dt_s: float) -> NDArray[np.float64]:
    """Coordinated-turn transition ``f(x)`` (no noise), Bar-Shalom et al. (2001) eq. 11.7.1-4.

    Parameters
    ----------
    x : (m, 3 dim + 1) float64
        Augmented states.
    dim : int
        Spatial dimension (2 or 3).
    dt_s : float
        Interval (s).

    Returns
    -------
    (m, 3 dim + 1) float64
        Predicted states; acceleration reset to zero, turn rate unchanged.
    """
    w = x[:, 3 * dim]
    a, b, _, _, s, c = _ct_coefficients(w, dt_s)
    vx, vy = x[:, dim], x[:, dim + 1]
    out = np.zeros_like(x)
    out[:, 0] = x[:, 0] + a * vx - b * vy
    out[:, 1] = x[:, 1] + b * vx + a * vy
    out[:, dim] = c * vx - s * vy
    out[:, dim + 1] = s * vx + c * vy
    if dim == 3:
        out[:, 2] = x[:, 2] + dt_s * x[:, 5]
        out[:, 5] = x[:, 5]
    out[:, 3 * dim] = w
    return out


def ct_jacobian(x: NDArray[np.float64], dim: int, dt_s: float) -> NDArray[np.float64]:
    """Jacobian ``F = df/dx`` (m, 3 dim + 1, 3 dim + 1) of :func:`ct_transition` at ``x``.

    With ``A = sin(wT)/w`` and ``B = (1 - cos wT)/w`` (Taylor series for ``|wT| < 1e-4``)::

        dx'/dw  = vx dA/dw - vy dB/dw        dvx'/dw = -T (sin(wT) vx + cos(wT) vy)
        dy'/dw  = vx dB/dw + vy dA/dw        dvy'/dw =  T (cos(wT) vx - sin(wT) vy)
    """
    m = x.shape[0]
    n = state_dim(dim)
    w = x[:, 3 * dim]
    a, b, da, db, s, c = _ct_coefficients(w, dt_s)
    vx, vy = x[:, dim], x[:, dim + 1]
    f = np.zeros((m, n, n))
    f[:, 0, 0] = f[:, 1, 1] = 1.0
    f[:, 0, dim], f[:, 0, dim + 1] = a, -b
    f[:, 1, dim], f[:, 1, dim + 1] = b, a
    f[:, dim, dim], f[:, dim, dim + 1] = c, -s
    f[:, dim + 1, dim], f[:, dim + 1, dim + 1] = s, c
    f[:, 0, 3 * dim] = vx * da - vy * db
    f[:, 1, 3 * dim] = vx * db + vy * da
    f[:, dim, 3 * dim] = -dt_s * (s * vx + c * vy)
    f[:, dim + 1, 3 * dim] = dt_s * (c * vx - s * vy)
    if dim == 3:
        f[:, 2, 2] = f[:, 5, 5] = 1.0
        f[:, 2, 5] = dt_s
    f[:, 3 * dim, 3 * dim] = 1.0
    return f


def predict_model(
    model: MotionModel,
    x: NDArray[np.float64],
    P: NDArray[np.float64],
    dim: int,
    dt_s: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Predict a batch of augmented states with one model: ``x' = f(x)``, ``P' = F P F^T + Q``.

    Linear for ``ncv`` and ``nca``; extended Kalman (``F`` the Jacobian at ``x``) for ``ct``.

    Parameters
    ----------
    model : MotionModel
        The model.
    x : (m, 3 dim + 1) float64
        States.
    P : (m, 3 dim + 1, 3 dim + 1) float64
        Covariances.
    dim : int
        Spatial dimension (2 or 3).
    dt_s : float
        Interval (s), >= 0.

    Returns
    -------
    x : (m, 3 dim + 1) float64
    P : (m, 3 dim + 1, 3 dim + 1) float64
        Symmetrised.
    """
    q = process_noise(model, dim, dt_s)
    if model.kind == "ct":
        f = ct_jacobian(x, dim, dt_s)
        x_new = ct_transition(x, dim, dt_s)
        p_new = f @ P @ np.swapaxes(f, -1, -2) + q
    else:
        f2 = ncv_aug_transition(dim, dt_s) if model.kind == "ncv" else nca_transition(dim, dt_s)
        x_new = x @ f2.T
        p_new = f2 @ P @ f2.T + q
    return x_new, 0.5 * (p_new + np.swapaxes(p_new, -1, -2))
