"""Numba kernel of :meth:`shorad.sensors.radar.Radar.scan` for compiled callers.

:func:`radar_scan_kernel` gives, bit for bit, the ``z``, ``R`` and ``truth_id`` that
:meth:`~shorad.sensors.radar.Radar.scan` returns (its numpy reference; ``tests/sensors``
compares the two on a real run and on synthetic scenes), and it draws the same numbers from
the same generator in the same order: ``uniform(size=n)``, ``standard_normal((n, 3))``,
``poisson``, the clutter uniforms, then the Doppler draws. :func:`radar_kernel_args` packs
one radar's configuration once per run.

How the floating-point results stay identical
---------------------------------------------
* Transcendental functions: numpy evaluates ``log10``, ``power``, ``exp``, ``arctan2`` with
  SIMD code (SVML on AVX-512 machines) that rounds differently from libm, which numba calls:
  a few per cent of ``log10``, ``power`` and ``exp`` values differ in the last bit. The
  kernel therefore calls numpy's own inner loops: :func:`_float64_loop` reads the loop numpy
  selects for float64 arguments (the first all-``d`` entry of ``ufunc.types``, as numpy's
  default loop selector does) from the ufunc object (``PyUFuncObject.functions`` /
  ``.data``, numpy's public C struct, checked against the ufunc's Python attributes before
  use), registers its address as an LLVM symbol, and an intrinsic calls it on the kernel's
  arrays. The same is done for ``hypot`` and ``remainder`` (``wrap_2pi``) and for SciPy's
  ``chndtr`` ufunc (Swerling 0), so every such value comes from the very code that
  :mod:`shorad.sensors.radar` runs. The symbols are resolved when the compiled code is
  loaded, so the kernels stay cacheable.
* Reductions: ``np.linalg.norm(x, axis=1)`` and ``np.einsum("ij,ij->i", a, b)`` sum three
  terms in an order fixed by numpy's build and CPU (pairwise / SIMD lanes); at import the
  order of each is probed with inputs whose three possible orders round differently
  (:func:`_sum3_order`) and handed to the kernel in :class:`RadarKernelArgs`.
* Everything else is IEEE arithmetic written in numpy's operation order; the scalar ``%``
  of the resolution merge follows numpy's ``npy_divmod`` (:func:`_py_mod`).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import llvmlite.binding as llb  # type: ignore[import-untyped]
import numpy as np
import scipy.special
from llvmlite import ir
from numba import types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

from shorad._numba_cache import njit
from shorad.errors import SimulationError
from shorad.geo._kernels import los_clear
from shorad.geo.los import LosKernelArgs
from shorad.sensors.base import CLUTTER_ID, N_MEAS
from shorad.sensors.radar import Radar, expected_false_alarms

__all__ = ["RadarKernelArgs", "radar_kernel_args", "radar_scan_kernel"]

cgutils: Any = _cgutils  # numba's LLVM helpers (unannotated)

_CLUTTER_ID = int(CLUTTER_ID)
_N_MEAS = int(N_MEAS)
_TWO_PI = 2.0 * np.pi


# --- numpy's own float64 inner loops, callable from numba ----------------------------------


def _float64_loop(ufunc: np.ufunc) -> tuple[int, int]:
    """Addresses of the inner loop (and its ``data`` pointer, 0 if none) that ``ufunc`` runs
    on float64 arguments.

    Reads ``PyUFuncObject`` (numpy's public C struct: after ``PyObject_HEAD`` the ints
    ``nin, nout, nargs, identity``, then the pointers ``functions`` and ``data``, the ints
    ``ntypes, reserved1`` and the pointer ``name``), after checking those fields against the
    ufunc's Python attributes.

    Raises
    ------
    RuntimeError
        If the layout does not match (a numpy whose struct changed).
    """
    sig = "d" * ufunc.nin + "->" + "d" * ufunc.nout
    k = list(ufunc.types).index(sig)  # numpy's default selector takes the first match
    base = id(ufunc)
    head = object.__basicsize__
    ints = (ctypes.c_int * 3).from_address(base + head)
    ntypes = ctypes.c_int.from_address(base + head + 32).value
    name = ctypes.c_char_p.from_address(base + head + 40).value
    got = (ints[0], ints[1], ints[2], ntypes, name)
    want = (ufunc.nin, ufunc.nout, ufunc.nargs, ufunc.ntypes, ufunc.__name__.encode())
    if got != want:
        raise RuntimeError(f"unexpected PyUFuncObject layout for {ufunc.__name__}: {got}")
    functions = ctypes.c_void_p.from_address(base + head + 16).value
    data = ctypes.c_void_p.from_address(base + head + 24).value
    if not functions:
        raise RuntimeError(f"ufunc {ufunc.__name__} has no legacy inner loops")
    fn = ctypes.c_void_p.from_address(functions + 8 * k).value
    dp = ctypes.c_void_p.from_address(data + 8 * k).value if data else None
    if not fn:
        raise RuntimeError(f"ufunc {ufunc.__name__} has no {sig} loop")
    return int(fn), int(dp or 0)


def _emit_loop_call(
    context: Any, builder: Any, sig: Any, args: Any, symbol: str, data_symbol: str | None
) -> Any:
    """Call ``symbol(char **args, npy_intp *dims, npy_intp *steps, void *data)`` on the
    arguments: 1-D float64 arrays (their own stride) or float scalars (stride 0); the length
    is the last argument's (the output)."""
    i8p = ir.IntType(8).as_pointer()
    intp = context.get_value_type(types.intp)
    nargs = len(args)
    argv = cgutils.alloca_once(builder, i8p, size=nargs)
    steps = cgutils.alloca_once(builder, intp, size=nargs)
    dims = cgutils.alloca_once(builder, intp)
    for j, (ty, val) in enumerate(zip(sig.args, args, strict=True)):
        if isinstance(ty, types.Array):
            ary = context.make_array(ty)(context, builder, val)
            ptr = builder.bitcast(ary.data, i8p)
            stride = cgutils.unpack_tuple(builder, ary.strides, 1)[0]
            if j == nargs - 1:
                builder.store(cgutils.unpack_tuple(builder, ary.shape, 1)[0], dims)
        else:
            slot = cgutils.alloca_once_value(
                builder, context.cast(builder, val, ty, types.float64)
            )
            ptr = builder.bitcast(slot, i8p)
            stride = ir.Constant(intp, 0)
        builder.store(ptr, builder.gep(argv, [ir.Constant(intp, j)]))
        builder.store(stride, builder.gep(steps, [ir.Constant(intp, j)]))
    fnty = ir.FunctionType(
        ir.VoidType(), [i8p.as_pointer(), intp.as_pointer(), intp.as_pointer(), i8p]
    )
    fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
    if data_symbol is None:
        data = ir.Constant(i8p, None)
    else:
        data = builder.module.globals.get(data_symbol)
        if data is None:
            data = ir.GlobalVariable(builder.module, ir.IntType(8), data_symbol)
    builder.call(fn, [argv, dims, steps, data])
    return context.get_dummy_value()


def _loop_signature(args: tuple[Any, ...]) -> Any:
    """``void(args)`` if every input is a float scalar or a 1-D float64 array and the output
    a 1-D float64 array; else None (a typing error)."""
    *ins, out = args
    if not (isinstance(out, types.Array) and out.ndim == 1 and out.dtype == types.float64):
        return None
    for a in ins:
        is_array = isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64
        if not (is_array or isinstance(a, types.Float | types.Integer)):
            return None
    return types.void(*args)


def _ufunc_call(ufunc: np.ufunc) -> Any:
    """An intrinsic ``f(x..., out)`` writing ``ufunc(x...)`` into ``out`` (n,) with numpy's
    own float64 inner loop; inputs are (n,) float64 arrays or scalars (broadcast)."""
    fn, dp = _float64_loop(ufunc)
    symbol = f"shorad_sensors_npy_{ufunc.__name__}_float64_loop"
    llb.add_symbol(symbol, fn)
    data_symbol = None
    if dp:
        data_symbol = f"shorad_sensors_npy_{ufunc.__name__}_float64_data"
        llb.add_symbol(data_symbol, dp)

    def typer(args: tuple[Any, ...]) -> Any:
        sig = _loop_signature(args)
        if sig is None:
            return None

        def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
            return _emit_loop_call(context, builder, signature, llargs, symbol, data_symbol)

        return sig, codegen

    if ufunc.nin == 1:

        @intrinsic
        def call1(typingctx: Any, a: Any, out: Any) -> Any:
            return typer((a, out))

        return call1
    if ufunc.nin == 2:

        @intrinsic
        def call2(typingctx: Any, a: Any, b: Any, out: Any) -> Any:
            return typer((a, b, out))

        return call2

    @intrinsic
    def call3(typingctx: Any, a: Any, b: Any, c: Any, out: Any) -> Any:
        return typer((a, b, c, out))

    return call3


_np_log10 = _ufunc_call(np.log10)
_np_power = _ufunc_call(np.power)
_np_exp = _ufunc_call(np.exp)
_np_arctan2 = _ufunc_call(np.arctan2)
_np_hypot = _ufunc_call(np.hypot)
_np_remainder = _ufunc_call(np.remainder)
_sc_chndtr = _ufunc_call(scipy.special.chndtr)


# --- summation order of numpy's three-term reductions ---------------------------------------

_SUM_01_2, _SUM_02_1, _SUM_0_12 = 0, 1, 2
"""``(a + b) + c``, ``(a + c) + b``, ``a + (b + c)``."""


def _sum3_order(total: Callable[[NDArray[np.float64]], NDArray[np.float64]]) -> int:
    """Which order ``total`` (rows (k, 3) -> sums (k,)) adds three terms in (``_SUM_*``), or
    -1 if none of the three.

    With ``e = 2**-53`` (``1 + e`` rounds to 1), the row ``[1, e, e]`` sums to ``1 + 2e``
    only if ``e + e`` comes first, and ``[e, 1, e]`` only if the first and last terms come
    first. Several row counts are tried, as numpy may iterate differently.
    """
    e = 2.0**-53
    big = 1.0 + 2.0 * e
    orders = {(1.0, 1.0): _SUM_01_2, (1.0, big): _SUM_02_1, (big, 1.0): _SUM_0_12}
    probe = np.array([[1.0, e, e], [e, 1.0, e]])
    order = -1
    for k in (1, 2, 5, 64, 1000):
        s = total(np.ascontiguousarray(np.tile(probe, (k, 1))))
        first, second = set(s[0::2].tolist()), set(s[1::2].tolist())
        if len(first) != 1 or len(second) != 1:
            return -1
        found = orders.get((first.pop(), second.pop()), -1)
        if found < 0 or order not in (-1, found):
            return -1
        order = found
    return order


def _norm_total(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    # the reduction np.linalg.norm(x, axis=1) runs on x * x
    out: NDArray[np.float64] = np.add.reduce(rows, axis=1)
    return out


def _einsum_total(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.einsum("ij,ij->i", np.ones_like(rows), rows)
    return out


_NORM_ORDER = _sum3_order(_norm_total)
_DOT_ORDER = _sum3_order(_einsum_total)


# --- arguments ------------------------------------------------------------------------------


class RadarKernelArgs(NamedTuple):
    """One radar's constants for :func:`radar_scan_kernel` (see :func:`radar_kernel_args`).

    Every radar gives the same field types, so a tuple of them is homogeneous in numba and
    can be indexed with a run-time index.
    """

    sensor_id: int
    pos_m: NDArray[np.float64]
    """(3,) float64 antenna position (ENU m)."""
    max_range_m: float
    min_range_m: float
    min_el_rad: float
    max_el_rad: float
    ref_range_m: float
    ref_snr_db: float
    ref_rcs_dbsm: float
    pfa: float
    swerling: int
    chndtr_x: float
    """``-2 ln(pfa)``, the threshold of the Swerling 0 chi-square."""
    multipath_loss_db: float
    multipath_el_scale_rad: float
    sigma3: NDArray[np.float64]
    """(3,) float64 ``[sigma_range_m, sigma_az_rad, sigma_el_rad]``."""
    R3: NDArray[np.float64]
    """(3, 3) float64 range/az/el noise covariance."""
    n_false: float
    """Mean false alarms per scan (:func:`~shorad.sensors.radar.expected_false_alarms`)."""
    sigma_range_rate_mps: float
    range_rate_var: float
    """``sigma_range_rate_mps ** 2``."""
    range_resolution_m: float
    az_resolution_rad: float
    clutter_max_range_rate_mps: float
    norm_order: int
    """Summation order of ``np.linalg.norm(x, axis=1)`` on (k, 3) rows (``_SUM_*``)."""
    dot_order: int
    """Summation order of ``np.einsum("ij,ij->i")`` on (k, 3) rows (``_SUM_*``)."""


def radar_kernel_args(radar: Radar) -> RadarKernelArgs:
    """Pack ``radar``'s configuration, id and position for :func:`radar_scan_kernel`.

    Computed once per run; the values are exactly those :meth:`Radar.scan` uses.

    Raises
    ------
    SimulationError
        If the radar measures range rate and numpy's three-term summation order could not be
        identified (the kernel would not reproduce numpy's range rate bit for bit).
    """
    cfg = radar.config
    sigma_rr = float(cfg.sigma_range_rate_mps)
    if sigma_rr > 0.0 and (_NORM_ORDER < 0 or _DOT_ORDER < 0):
        raise SimulationError(
            f"radar {radar.sensor_id}: numpy's summation order in norm/einsum is not one of "
            f"the three the radar kernel reproduces (norm {_NORM_ORDER}, einsum {_DOT_ORDER})"
        )
    return RadarKernelArgs(
        sensor_id=int(radar.sensor_id),
        pos_m=np.ascontiguousarray(radar.pos_m, dtype=np.float64).reshape(3).copy(),
        max_range_m=float(cfg.max_range_m),
        min_range_m=float(cfg.min_range_m),
        min_el_rad=float(cfg.min_el_rad),
        max_el_rad=float(cfg.max_el_rad),
        ref_range_m=float(cfg.ref_range_m),
        ref_snr_db=float(cfg.ref_snr_db),
        ref_rcs_dbsm=float(cfg.ref_rcs_dbsm),
        pfa=float(cfg.pfa),
        swerling=int(cfg.swerling),
        chndtr_x=float(-2.0 * math.log(cfg.pfa)),
        multipath_loss_db=float(cfg.multipath_loss_db),
        multipath_el_scale_rad=float(cfg.multipath_el_scale_rad),
        sigma3=np.array([cfg.sigma_range_m, cfg.sigma_az_rad, cfg.sigma_el_rad], dtype=np.float64),
        R3=np.ascontiguousarray(cfg.R[:3, :3], dtype=np.float64).copy(),
        n_false=float(expected_false_alarms(cfg)),
        sigma_range_rate_mps=sigma_rr,
        range_rate_var=float(cfg.sigma_range_rate_mps**2),
        range_resolution_m=float(cfg.range_resolution_m),
        az_resolution_rad=float(cfg.az_resolution_rad),
        clutter_max_range_rate_mps=float(cfg.clutter_max_range_rate_mps),
        norm_order=max(_NORM_ORDER, 0),
        dot_order=max(_DOT_ORDER, 0),
    )


# --- kernels --------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _sum3(a: float, b: float, c: float, order: int) -> float:  # pragma: no cover - numba
    """``a + b + c`` in the given order (``_SUM_*``)."""
    if order == _SUM_01_2:
        return (a + b) + c
    if order == _SUM_02_1:
        return (a + c) + b
    return a + (b + c)


@njit(cache=True, nogil=True)
def _py_mod(a: float, b: float) -> float:  # pragma: no cover - numba
    """``a % b`` on numpy float64 scalars (``npy_divmod``: fmod, then the sign of ``b``)."""
    mod = float(np.fmod(a, b))
    if b == 0.0:
        return mod
    if mod != 0.0:
        if (b < 0.0) != (mod < 0.0):
            mod += b
    else:
        mod = math.copysign(0.0, b)
    return mod


@njit(cache=True, nogil=True)
def _wrap_2pi(
    a: NDArray[np.float64], out: NDArray[np.float64]
) -> None:  # pragma: no cover - numba
    """:func:`shorad.sensors.base.wrap_2pi` of ``a`` (n,) into ``out`` (n,) (may alias)."""
    tmp = np.empty(a.shape[0])
    _np_remainder(a, _TWO_PI, tmp)
    for i in range(a.shape[0]):
        out[i] = 0.0 if tmp[i] >= _TWO_PI else tmp[i]


@njit(cache=True, nogil=True)
def _polar(rel: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover - numba
    """:func:`shorad.sensors.base.polar_from_cartesian` of ``rel`` (n, 3) C-contiguous."""
    n = rel.shape[0]
    ground = np.empty(n)
    r = np.empty(n)
    az = np.empty(n)
    el = np.empty(n)
    _np_hypot(rel[:, 0], rel[:, 1], ground)
    _np_hypot(ground, rel[:, 2], r)
    _np_arctan2(rel[:, 0], rel[:, 1], az)
    _wrap_2pi(az, az)
    _np_arctan2(rel[:, 2], ground, el)
    z = np.empty((n, 3))
    for i in range(n):
        z[i, 0] = r[i]
        z[i, 1] = az[i]
        z[i, 2] = el[i]
    return z


@njit(cache=True, nogil=True)
def _horizon_loss(
    p: RadarKernelArgs, el_rad: NDArray[np.float64]
) -> NDArray[np.float64]:  # pragma: no cover - numba
    """:func:`shorad.sensors.radar.horizon_loss_db` (n,) at elevations ``el_rad`` (n,)."""
    n = el_rad.shape[0]
    loss = np.zeros(n)
    if p.multipath_loss_db == 0.0:
        return loss
    x = np.empty(n)
    for i in range(n):
        el = 0.0 if el_rad[i] < 0.0 else el_rad[i]  # np.maximum (NaN stays NaN)
        x[i] = -el / p.multipath_el_scale_rad
    _np_exp(x, loss)
    for i in range(n):
        loss[i] = p.multipath_loss_db * loss[i]
    return loss


@njit(cache=True, nogil=True)
def _detection_probability(
    p: RadarKernelArgs, range_m: NDArray[np.float64], rcs_dbsm: NDArray[np.float64]
) -> NDArray[np.float64]:  # pragma: no cover - numba
    """:func:`shorad.sensors.radar.detection_probability` (k,) of ``range_m``, ``rcs_dbsm``
    (k,) contiguous."""
    k = range_m.shape[0]
    q = np.empty(k)
    for i in range(k):
        r = 1.0 if range_m[i] < 1.0 else range_m[i]
        q[i] = p.ref_range_m / r
    lg = np.empty(k)
    _np_log10(q, lg)
    x = np.empty(k)
    for i in range(k):
        snr_db = p.ref_snr_db + 40.0 * lg[i] + (rcs_dbsm[i] - p.ref_rcs_dbsm)
        x[i] = snr_db / 10.0
    snr = np.empty(k)
    _np_power(10.0, x, snr)
    pd = np.empty(k)
    if p.swerling == 1:
        for i in range(k):
            x[i] = 1.0 / (1.0 + snr[i])
        _np_power(p.pfa, x, pd)
    else:
        for i in range(k):
            x[i] = 2.0 * snr[i]
        _sc_chndtr(p.chndtr_x, 2.0, x, pd)
        for i in range(k):
            pd[i] = 1.0 - pd[i]
    return pd


@njit(cache=True, nogil=True, inline="always")
def _sorts_before(a: float, b: float) -> bool:  # pragma: no cover - numba
    """numpy's sort order: ``a < b``, with NaN after every number."""
    return a < b or (b != b and a == a)


@njit(cache=True, nogil=True)
def _merge_unresolved(
    p: RadarKernelArgs,
    z: NDArray[np.float64],
    strength_db: NDArray[np.float64],
    hit: NDArray[np.bool_],
) -> None:  # pragma: no cover - numba
    """``hit &= _resolved(...)`` of :mod:`shorad.sensors.radar`, in place."""
    idx = np.flatnonzero(hit)
    h = idx.shape[0]
    rng_m = np.empty(h)
    for a in range(h):
        rng_m[a] = z[idx[a], 0]
    lg = np.empty(h)
    _np_log10(rng_m, lg)
    key = np.empty(h)
    for a in range(h):
        key[a] = -(strength_db[idx[a]] - 40.0 * lg[a])
    # stable argsort (insertion sort: a few detections)
    order = idx.copy()
    for a in range(1, h):
        v = key[a]
        o = order[a]
        b = a - 1
        while b >= 0 and _sorts_before(v, key[b]):
            key[b + 1] = key[b]
            order[b + 1] = order[b]
            b -= 1
        key[b + 1] = v
        order[b + 1] = o
    kept = np.empty(h, np.int64)
    n_kept = 0
    for a in range(h):
        i = order[a]
        merged = False
        for c in range(n_kept):
            j = kept[c]
            daz = abs(_py_mod(z[i, 1] - z[j, 1] + np.pi, _TWO_PI) - np.pi)
            if abs(z[i, 0] - z[j, 0]) < p.range_resolution_m and daz < p.az_resolution_rad:
                hit[i] = False
                merged = True
                break
        if not merged:
            kept[n_kept] = i
            n_kept += 1


@njit(cache=True, nogil=True)
def radar_scan_kernel(
    p: RadarKernelArgs,
    los_args: LosKernelArgs,
    t_s: float,
    pos_m: NDArray[np.float64],
    vel_mps: NDArray[np.float64],
    rcs_dbsm: NDArray[np.float64],
    threat_id: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]
]:  # pragma: no cover - numba
    """One radar scan: :meth:`shorad.sensors.radar.Radar.scan` (``visibility=None``,
    ``vel_mps`` given) for compiled callers, with the same draws from ``rng``.

    Parameters
    ----------
    p : RadarKernelArgs
        :func:`radar_kernel_args` of the radar.
    los_args : tuple
        :func:`shorad.geo.los.los_kernel_args` of the world's buildings.
    t_s : float
        Scan time (s); unused (the caller fills ``Detections.t_s``), kept for symmetry with
        :meth:`~shorad.sensors.radar.Radar.scan`.
    pos_m, vel_mps : (n, 3) float64
        True target positions and velocities (ENU m, m/s).
    rcs_dbsm : (n,) float64
        True radar cross-sections.
    threat_id : (n,) int64
        Truth ids.
    rng : numpy.random.Generator
        The radar's stream; advanced in place.

    Returns
    -------
    z : (m, 4) float64
        ``[range_m, az_rad, el_rad, range_rate_mps]``: target detections in input order, then
        clutter; range rate NaN unless ``sigma_range_rate_mps > 0``.
    R : (m, 4, 4) float64
        Measurement covariances.
    truth_id : (m,) int64
        Threat id per detection, ``CLUTTER_ID`` for clutter.
    """
    n = pos_m.shape[0]
    u = rng.uniform(0.0, 1.0, (n,))
    # coverage and line of sight (visible_from)
    rel = np.empty((n, 3))
    for i in range(n):
        for d in range(3):
            rel[i, d] = pos_m[i, d] - p.pos_m[d]
    z = _polar(rel)
    ok = np.zeros(n, np.bool_)
    n_cov = 0
    for i in range(n):
        ok[i] = (
            z[i, 0] <= p.max_range_m
            and z[i, 0] >= p.min_range_m
            and z[i, 2] >= p.min_el_rad
            and z[i, 2] <= p.max_el_rad
        )
        if ok[i]:
            n_cov += 1
    cov = np.flatnonzero(ok)
    if n_cov > 0:
        a = np.empty((n_cov, 3))
        b = np.empty((n_cov, 3))
        for c in range(n_cov):
            for d in range(3):
                a[c, d] = p.pos_m[d]
                b[c, d] = pos_m[cov[c], d]
        clear = los_clear(a, b, los_args)
        for c in range(n_cov):
            ok[cov[c]] = clear[c]
    # detection
    loss = _horizon_loss(p, z[:, 2])
    rcs_eff = np.empty(n)
    for i in range(n):
        rcs_eff[i] = rcs_dbsm[i] - loss[i]
    vis = np.flatnonzero(ok)
    k = vis.shape[0]
    r_vis = np.empty(k)
    rcs_vis = np.empty(k)
    for c in range(k):
        r_vis[c] = z[vis[c], 0]
        rcs_vis[c] = rcs_eff[vis[c]]
    pd = _detection_probability(p, r_vis, rcs_vis)
    hit = np.zeros(n, np.bool_)
    n_hit = 0
    for c in range(k):
        if u[vis[c]] < pd[c]:
            hit[vis[c]] = True
            n_hit += 1
    if p.range_resolution_m > 0.0 and p.az_resolution_rad > 0.0 and n_hit > 1:
        _merge_unresolved(p, z, rcs_eff, hit)
    noise = rng.standard_normal((n, 3))
    det = np.flatnonzero(hit)
    n_t = det.shape[0]
    n_c = rng.poisson(p.n_false)
    m = n_t + n_c
    zz = np.empty((m, _N_MEAS))
    for c in range(n_t):
        i = det[c]
        for d in range(3):
            zz[c, d] = z[i, d] + noise[i, d] * p.sigma3[d]
    zz[n_t:, 0] = rng.uniform(p.min_range_m, p.max_range_m, n_c)
    zz[n_t:, 1] = rng.uniform(0.0, _TWO_PI, n_c)
    zz[n_t:, 2] = rng.uniform(p.min_el_rad, p.max_el_rad, n_c)
    az = np.empty(m)
    _wrap_2pi(zz[:, 1].copy(), az)
    zz[:, 1] = az
    zz[:, 3] = np.nan
    R = np.zeros((m, _N_MEAS, _N_MEAS))
    for c in range(m):
        for d in range(3):
            for e in range(3):
                R[c, d, e] = p.R3[d, e]
    if p.sigma_range_rate_mps > 0.0:
        # drawn last, as in Radar.scan
        g = rng.standard_normal(n_t)
        for c in range(n_t):
            i = det[c]
            l0 = pos_m[i, 0] - p.pos_m[0]
            l1 = pos_m[i, 1] - p.pos_m[1]
            l2 = pos_m[i, 2] - p.pos_m[2]
            norm = math.sqrt(_sum3(l0 * l0, l1 * l1, l2 * l2, p.norm_order))
            rng_m = 1e-9 if norm < 1e-9 else norm
            dot = _sum3(vel_mps[i, 0] * l0, vel_mps[i, 1] * l1, vel_mps[i, 2] * l2, p.dot_order)
            zz[c, 3] = dot / rng_m + p.sigma_range_rate_mps * g[c]
        vmax = p.clutter_max_range_rate_mps
        zz[n_t:, 3] = rng.uniform(-vmax, vmax, n_c)
        for c in range(m):
            R[c, 3, 3] = p.range_rate_var
    truth_id = np.full(m, _CLUTTER_ID, np.int64)
    for c in range(n_t):
        truth_id[c] = threat_id[det[c]]
    return zz, R, truth_id
