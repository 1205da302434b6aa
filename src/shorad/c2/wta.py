"""Static weapon-target assignment (WTA): exact outer approximation with HiGHS, and a fast
construction + local search.

Problem (Manne 1958; Ahuja, Kumar, Jha & Orlin, *Oper. Res.* 55 (2007); Andersen, Pavlikov &
Toffolo, *Ann. Oper. Res.* (2022)): weapon type ``i`` has ``count_i`` units; target ``j`` has
value ``V_j``; one unit of ``i`` kills ``j`` with probability ``p_ij``. Choose integers
``x_ij >= 0`` (units of ``i`` fired at ``j``) with ``sum_j x_ij = count_i`` (or ``<=`` when
units may be held) and at most ``capacity_j`` units on target ``j``, to minimise the expected
surviving value

    F(x) = sum_j V_j prod_i (1 - p_ij) ** x_ij.

Incompatible pairs (a jammer against a silent drone) have ``p_ij = 0`` and are never used.

*Exact* (:func:`solve_exact`). With ``a_ij = -ln(1 - p_ij)`` and ``y_j = sum_i a_ij x_ij``
the objective is ``sum_j V_j exp(-y_j)``, separable and convex in ``y``. Outer approximation
(Duran & Grossmann 1986): a MILP minimises ``sum_j z_j`` subject to tangent cuts
``z_j >= V_j e^{-t} (1 + t - y_j)`` at a set of points ``t`` per target; its optimum is a
proven lower bound, the true ``F`` of its solution an upper bound. Cuts at the new ``y_j`` are
added and the MILP re-solved (warm-started from the incumbent) until the bounds meet.

*Fast* (:func:`solve_fast`). The better of a maximum-marginal-return greedy and a
linear-assignment construction, polished by single-unit moves and swaps (each evaluated for
all candidates at once with numpy); then very-large-neighbourhood rounds (one unit lifted from
every target, all reassigned at once by a linear assignment, solved by the compiled
kernels of :mod:`shorad.c2._kernels`: negative-cycle cancelling from the plan as it stands,
Jonker-Volgenant from scratch when that is slow), with iterated-local-search kicks, until
the time budget is spent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shorad._highs import quiet_highs as _quiet_highs
from shorad.c2._kernels import (
    cancel_cycles_kernel,
    greedy_kernel,
    lapjv_kernel,
    moves_kernel,
    round_cost_kernel,
)
from shorad.errors import ConfigError

__all__ = [
    "WtaInstance",
    "WtaSolution",
    "ahuja_instance",
    "check_feasible",
    "read_wta",
    "solve_exact",
    "solve_fast",
    "surviving_value",
]

_MAX_A = 50.0
"""Cap on ``-ln(1 - p)`` so that p = 1 stays finite (exp(-50) ~ 2e-22)."""


@dataclass(frozen=True, slots=True, eq=False)
class WtaInstance:
    """A static WTA instance.

    Attributes
    ----------
    value : (T,) float64
        Target values ``V_j`` (> 0).
    p : (W, T) float64
        Single-unit kill probabilities in [0, 1]; 0 marks an incompatible pair.
    count : (W,) int64
        Units of each weapon type.
    capacity : (T,) int64
        Most units that may be fired at each target.
    must_fire : bool
        ``sum_j x_ij = count_i`` (every unit fires) if True, ``<=`` if False.
    """

    value: NDArray[np.float64]
    p: NDArray[np.float64]
    count: NDArray[np.int64]
    capacity: NDArray[np.int64]
    must_fire: bool = True

    def __post_init__(self) -> None:
        w, t = self.p.shape
        if self.value.shape != (t,) or self.count.shape != (w,) or self.capacity.shape != (t,):
            raise ValueError(
                f"WtaInstance: shapes value {self.value.shape}, p {self.p.shape}, count "
                f"{self.count.shape}, capacity {self.capacity.shape} do not agree"
            )

    @classmethod
    def create(
        cls,
        value: NDArray[np.float64],
        p: NDArray[np.float64],
        count: NDArray[np.int64] | int,
        capacity: NDArray[np.int64] | None = None,
        *,
        must_fire: bool = True,
    ) -> WtaInstance:
        """Validated instance from array-likes (counts may be one int for all types)."""
        v = np.asarray(value, np.float64)
        pp = np.asarray(p, np.float64)
        if pp.ndim != 2 or v.ndim != 1 or pp.shape[1] != v.shape[0]:
            raise ConfigError(
                f"p must be (W, T) and value (T,), got p {pp.shape} and value {v.shape}"
            )
        w, t = pp.shape
        c = np.broadcast_to(np.asarray(count, np.int64), (w,)).copy()
        cap = (
            np.full(t, max(int(c.sum()), 1), np.int64)
            if capacity is None
            else np.broadcast_to(np.asarray(capacity, np.int64), (t,)).copy()
        )
        if not np.isfinite(v).all() or (v <= 0).any():
            raise ConfigError(f"target values must be finite and > 0, got min {v.min()!r}")
        if not np.isfinite(pp).all() or (pp < 0).any() or (pp > 1).any():
            raise ConfigError("kill probabilities must be finite and in [0, 1]")
        if (c < 0).any() or (cap < 0).any():
            raise ConfigError("weapon counts and target capacities must be >= 0")
        if must_fire and _max_units_fired(pp > 0, c, cap) < int(c.sum()):
            raise ConfigError(
                "every unit must fire but compatibility and target capacities leave no room "
                "for all of them (max flow below the unit count); use must_fire=False"
            )
        return cls(v, pp, c, cap, must_fire)

    @property
    def shape(self) -> tuple[int, int]:
        """(W, T)."""
        return (int(self.p.shape[0]), int(self.p.shape[1]))


@dataclass(frozen=True, slots=True, eq=False)
class WtaSolution:
    """A solution and what is proven about it.

    Attributes
    ----------
    x : (W, T) int64
        Units of each type fired at each target.
    surviving_value : float
        ``F(x)``.
    bound : float or None
        Proven lower bound on the optimal surviving value (None for a heuristic).
    status : str
        ``"optimal"`` (gap closed within tolerance), ``"time_limit"`` or ``"heuristic"``.
    seconds : float
        Wall time of the solve.
    iterations : int
        Outer-approximation rounds (exact) or local-search restarts (fast).
    """

    x: NDArray[np.int64]
    surviving_value: float
    bound: float | None
    status: str
    seconds: float
    iterations: int

    @property
    def gap(self) -> float | None:
        """Relative gap ``(F - bound) / F`` (None without a bound)."""
        if self.bound is None:
            return None
        return max(
            0.0, (self.surviving_value - self.bound) / max(abs(self.surviving_value), 1e-300)
        )


def _max_units_fired(
    compat: NDArray[np.bool_], count: NDArray[np.int64], capacity: NDArray[np.int64]
) -> int:
    """Most units that can fire at once: a max flow source -> types -> targets -> sink."""
    return int(_max_flow(compat, count, capacity).sum())


def _max_flow(
    compat: NDArray[np.bool_], count: NDArray[np.int64], capacity: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Units of each type sent to each target by a maximum flow, (W, T) int64."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    w, t = compat.shape
    n = w + t + 2
    src, sink = w + t, w + t + 1
    ti, tj = np.nonzero(compat)
    rows = np.concatenate([np.full(w, src), ti, w + np.arange(t)])
    cols = np.concatenate([np.arange(w), w + tj, np.full(t, sink)])
    big = int(count.sum()) + 1
    caps = np.concatenate([count, np.full(ti.size, big), capacity]).astype(np.int32)
    graph = csr_matrix((caps, (rows, cols)), shape=(n, n))
    flow = np.asarray(maximum_flow(graph, src, sink).flow.toarray())
    x: NDArray[np.int64] = np.maximum(flow[:w, w : w + t], 0).astype(np.int64)
    return x


def surviving_value(inst: WtaInstance, x: NDArray[np.int64]) -> float:
    """Expected surviving value ``sum_j V_j prod_i (1 - p_ij) ** x_ij``."""
    return float(np.sum(_surviving(inst, _log_survival(inst.p), x)))


def _surviving(
    inst: WtaInstance, a: NDArray[np.float64], x: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Expected surviving value per target (T,), with ``a = -ln(1 - p)`` precomputed."""
    return np.asarray(inst.value * np.exp(-np.sum(a * x, axis=0)), np.float64)


def check_feasible(inst: WtaInstance, x: NDArray[np.int64]) -> None:
    """Raise ``ValueError`` unless ``x`` respects counts, capacity and compatibility."""
    if x.shape != inst.p.shape or (x < 0).any():
        raise ValueError(f"x must be a non-negative (W, T) integer array, got shape {x.shape}")
    used = x.sum(axis=1)
    if inst.must_fire and (used != inst.count).any():
        raise ValueError("not every unit fires exactly once")
    if (used > inst.count).any():
        raise ValueError("more units fired than available")
    if (x.sum(axis=0) > inst.capacity).any():
        raise ValueError("a target's capacity is exceeded")
    if ((inst.p == 0) & (x > 0)).any():
        raise ValueError("an incompatible pair is used")


def _is_feasible(inst: WtaInstance, x: NDArray[np.int64]) -> bool:
    try:
        check_feasible(inst, x)
    except ValueError:
        return False
    return True


def _log_survival(p: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        a = -np.log1p(-np.minimum(p, 1.0))
    return np.minimum(a, _MAX_A)


def read_wta(path: str | Path) -> WtaInstance:
    """Read the Andersen et al. (2022) instance format.

    First line ``W T mu``; then ``T`` lines with one target value each; then ``W*T`` lines
    ``i j p_ij`` (0-based). Errors name the line and what was expected.
    """
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise ConfigError(f"cannot read WTA instance {str(path)!r}: {exc}") from None
    lines = [ln for ln in lines if ln]
    where = str(path)

    def nums(k: int, n: int, kind: type) -> list[float]:
        if k >= len(lines):
            raise ConfigError(f"{where}: file ends at line {k + 1}; expected {n} numbers there")
        parts = lines[k].split()
        if len(parts) != n:
            raise ConfigError(
                f"{where}: line {k + 1}: expected {n} numbers, got {len(parts)}: {lines[k]!r}"
            )
        try:
            vals = [kind(x) for x in parts]
        except ValueError:
            raise ConfigError(
                f"{where}: line {k + 1}: expected {kind.__name__} values, got {lines[k]!r}"
            ) from None
        if any(isinstance(v, float) and not math.isfinite(v) for v in vals):
            raise ConfigError(f"{where}: line {k + 1}: values must be finite, got {lines[k]!r}")
        return vals

    w, t, mu = (int(v) for v in nums(0, 3, int))
    if w <= 0 or t <= 0 or mu < 0:
        raise ConfigError(f"{where}: line 1: expected W > 0, T > 0, mu >= 0, got {w} {t} {mu}")
    expected = 1 + t + w * t
    if len(lines) != expected:
        raise ConfigError(
            f"{where}: expected {expected} non-empty lines for W={w}, T={t}, got {len(lines)}"
        )
    value = np.array([nums(1 + j, 1, float)[0] for j in range(t)])
    p = np.full((w, t), np.nan)
    for k in range(1 + t, expected):
        i, j, pij = nums(k, 3, float)
        ii, jj = int(i), int(j)
        if not (0 <= ii < w and 0 <= jj < t) or ii != i or jj != j:
            raise ConfigError(f"{where}: line {k + 1}: index ({i}, {j}) outside {w} x {t}")
        if not 0.0 <= pij <= 1.0:
            raise ConfigError(f"{where}: line {k + 1}: probability must be in [0, 1], got {pij}")
        p[ii, jj] = pij
    if np.isnan(p).any():
        i, j = np.argwhere(np.isnan(p))[0]
        raise ConfigError(f"{where}: no probability given for weapon {i}, target {j}")
    try:
        return WtaInstance.create(value, p, mu)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def ahuja_instance(n: int, *, rng: np.random.Generator) -> WtaInstance:
    """Random ``n`` x ``n`` instance of Ahuja et al. (2007): one unit per weapon,
    ``V_j ~ U[25, 100]``, ``p_ij ~ U[0.6, 0.9]``."""
    value = rng.uniform(25.0, 100.0, n)
    p = rng.uniform(0.6, 0.9, (n, n))
    return WtaInstance.create(value, p, 1)


# --------------------------------------------------------------------------- fast heuristic


def _greedy(inst: WtaInstance, *, compiled: bool = True) -> NDArray[np.int64]:
    """Maximum marginal return: repeatedly fire the unit with the largest expected gain.

    ``compiled``: the same plan from :func:`shorad.c2._kernels.greedy_kernel` (this numpy
    code is its reference).
    """
    if compiled:
        c = np.ascontiguousarray
        return greedy_kernel(
            c(inst.value, np.float64),
            c(inst.p, np.float64),
            c(inst.count, np.int64),
            c(inst.capacity, np.int64),
            bool(inst.must_fire),
        )
    w, t = inst.shape
    x = np.zeros((w, t), np.int64)
    surv = inst.value.copy()  # V_j * S_j
    left = inst.count.copy()
    cap = inst.capacity.copy()
    compat = inst.p > 0
    gain = np.where(compat, surv[None, :] * inst.p, -1.0)
    gain[left == 0] = -1.0
    gain[:, cap == 0] = -1.0
    for _ in range(int(inst.count.sum())):
        k = int(np.argmax(gain))
        i, j = divmod(k, t)
        if gain[i, j] <= 0.0 and not inst.must_fire:
            break
        if gain[i, j] < 0.0:
            break
        x[i, j] += 1
        left[i] -= 1
        cap[j] -= 1
        surv[j] *= 1.0 - inst.p[i, j]
        gain[:, j] = np.where(compat[:, j], surv[j] * inst.p[:, j], -1.0)
        if cap[j] == 0:
            gain[:, j] = -1.0
        gain[left == 0] = -1.0
    return x


@dataclass(frozen=True, slots=True, eq=False)
class _Tables:
    """Per-instance arrays of the fast method, computed once per solve (all (W, T))."""

    a: NDArray[np.float64]  # -ln(1 - p), capped
    q: NDArray[np.float64]  # survival factor exp(-a)
    inv_q_m1: NDArray[np.float64]  # 1/q - 1
    compat: NDArray[np.bool_]  # p > 0
    p: NDArray[np.float64]  # kill probabilities (C-contiguous)


def _tables(inst: WtaInstance) -> _Tables:
    a = _log_survival(inst.p)
    q = np.exp(-a)
    with np.errstate(divide="ignore", over="ignore"):
        inv_q_m1 = 1.0 / q - 1.0
    c = np.ascontiguousarray
    return _Tables(c(a), c(q), c(inv_q_m1), c(inst.p > 0), c(inst.p, np.float64))


def _local_search(
    inst: WtaInstance,
    x: NDArray[np.int64],
    deadline: float,
    *,
    swaps: bool = True,
    clock: Callable[[], float] = time.perf_counter,
    tab: _Tables | None = None,
    compiled: bool = True,
) -> NDArray[np.int64]:
    """Improving single-unit moves (and swaps) until none is left.

    Each pass evaluates every move at once: taking a unit of type ``i`` off target ``a``
    raises ``a``'s surviving value by ``s_a (1/q_ia - 1)``, putting it on ``b`` lowers
    ``b``'s by ``s_b p_ib``. All improving moves on disjoint target pairs are applied
    together (their gains add up exactly, as each touches only its own two targets). When no
    move improves, the best swap of two units between two targets is tried.
    """
    tab = _tables(inst) if tab is None else tab
    if compiled and not swaps:  # the same moves, compiled (this numpy code is its reference)
        return moves_kernel(
            np.ascontiguousarray(x, np.int64),
            np.ascontiguousarray(inst.value, np.float64),
            tab.a,
            tab.p,
            tab.inv_q_m1,
            tab.compat,
            np.ascontiguousarray(inst.capacity, np.int64),
        )
    a, q, inv_q_m1, compat = tab.a, tab.q, tab.inv_q_m1, tab.compat
    w, t = inst.shape
    cols = np.arange(t)[None, :]
    x = x.copy()
    while clock() < deadline:
        s = _surviving(inst, a, x)  # (T,) expected surviving value per target
        thr = -1e-12 * max(float(s.sum()), 1e-300)
        room = x.sum(axis=0) < inst.capacity
        with np.errstate(invalid="ignore", over="ignore"):
            rem = np.where(x > 0, s[None, :] * inv_q_m1, np.inf)
        add = np.where(compat & room[None, :], -s[None, :] * inst.p, np.inf)  # (W, T) <= 0
        if t > 1:
            two = np.argpartition(add, 1, axis=1)[:, :2]
            first = np.take_along_axis(add, two, axis=1)
            swap_order = first[:, 1] < first[:, 0]
            b1 = np.where(swap_order, two[:, 1], two[:, 0])
            b2 = np.where(swap_order, two[:, 0], two[:, 1])
        else:
            b1 = b2 = np.zeros(w, np.int64)
        tgt = np.where(cols == b1[:, None], b2[:, None], b1[:, None])
        delta_m = (rem + np.take_along_axis(add, tgt, axis=1)).ravel()
        improving = np.flatnonzero(delta_m < thr)
        if improving.size:
            used: set[int] = set()
            for k in improving[np.argsort(delta_m[improving], kind="stable")]:
                i, src = divmod(int(k), t)
                dst = int(tgt[i, src])
                if src in used or dst in used:
                    continue
                x[i, src] -= 1
                x[i, dst] += 1
                used.update((src, dst))
            continue
        pairs = np.argwhere(x > 0)  # distinct (type, target) holding >= 1 unit
        if not swaps or pairs.shape[0] < 2:
            break
        ti, ta = pairs[:, 0], pairs[:, 1]
        # swapping u (type i at a) and u' (type k at b): s_a q_ka/q_ia + s_b q_ib/q_kb
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ratio_a = q[ti[None, :], ta[:, None]] / q[ti, ta][:, None]
            da = s[ta][:, None] * (ratio_a - 1.0)
            ok = compat[ti[None, :], ta[:, None]] & (ta[:, None] != ta[None, :])
            ok &= ti[:, None] != ti[None, :]
            delta = np.where(ok & ok.T, da + da.T, np.inf)
        k = int(np.argmin(delta))
        u1, u2 = divmod(k, delta.shape[1])
        if not delta[u1, u2] < thr:
            break
        i, src, k2, dst = int(ti[u1]), int(ta[u1]), int(ti[u2]), int(ta[u2])
        x[i, src] -= 1
        x[k2, dst] -= 1
        x[i, dst] += 1
        x[k2, src] += 1
    return x


def _units(inst: WtaInstance, x: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Expand ``x`` into one row per fired unit: (type, target)."""
    types, targets = np.nonzero(x)
    reps = x[types, targets]
    return np.repeat(types, reps), np.repeat(targets, reps)


def _from_units(
    inst: WtaInstance, ut: NDArray[np.int64], tg: NDArray[np.int64]
) -> NDArray[np.int64]:
    w, t = inst.shape
    return np.bincount(ut * t + tg, minlength=w * t).reshape(w, t).astype(np.int64)


_BIG = 1e18
_VLNS_BATCH = 100_000
"""Most units lifted in one very-large-neighbourhood round."""
_SECOND_SLOTS = 0.3
"""Share of targets (at least 25) offered a second lifted unit in a round when units
outnumber targets."""
_PATIENCE = 10
"""VLNS rounds without improvement before the incumbent is kicked."""
_KICK = 0.05
"""Share of the units (at least 2) a kick moves at random."""
_CC_PASSES = 30
"""Bellman-Ford passes of a round's cycle cancelling before the round's assignment problem
is solved from scratch (cancelling is fast when the plan is nearly optimal for the round,
slow when it is far from it, as after a kick)."""


def _assignment_construction(inst: WtaInstance) -> NDArray[np.int64]:
    """Every unit to a different target by a linear assignment maximising ``sum V_j p_ij``.

    Exact when no target should get two units (few units, many targets); a start for the
    local search otherwise. Units beyond the number of targets are placed greedily.
    """
    from scipy.optimize import linear_sum_assignment

    w = inst.shape[0]
    ut = np.repeat(np.arange(w), inst.count)
    gain = inst.value[None, :] * inst.p[ut]  # (U, T)
    cost = np.where(inst.p[ut] > 0, -gain, _BIG)
    cost[:, inst.capacity == 0] = _BIG
    rows, cols = linear_sum_assignment(cost)
    ok = cost[rows, cols] < _BIG  # a unit forced onto an incompatible target is placed later
    rows, cols = rows[ok], cols[ok]
    x = _from_units(inst, ut[rows], cols)
    rest = np.setdiff1d(np.arange(ut.size), rows)
    if rest.size:  # more units than targets: marginal-return greedy for the rest
        left = np.bincount(ut[rest], minlength=w)
        surv = inst.value * np.prod((1.0 - inst.p) ** x, axis=0)
        x = x + _greedy(WtaInstance(surv, inst.p, left, inst.capacity - x.sum(axis=0), True))
    return x


def _vlns_round(
    inst: WtaInstance,
    x: NDArray[np.int64],
    rng: np.random.Generator,
    tab: _Tables | None = None,
) -> NDArray[np.int64]:
    """Reassign one unit per target at once, optimally, with the other units fixed.

    From each target holding units (at most ``_VLNS_BATCH`` targets, drawn at random), one
    unit (chosen at random) is lifted; with the rest fixed,
    target ``j`` survives with ``s_j`` and taking lifted unit ``u`` makes it ``s_j q_uj``.
    Allowing at most one lifted unit per target makes the best reassignment a linear
    assignment problem (a very large neighbourhood, after Ahuja et al. 2007), solved by
    cancelling negative cycles from the plan as it stands (every lifted unit back on its own
    target; :func:`shorad.c2._kernels.cancel_cycles_kernel`), which is optimal or nearly so
    in most rounds, or, when that takes more than ``_CC_PASSES`` passes, from scratch by
    :func:`_assignment`. With one column per target no held target could gain a unit, so
    when units outnumber targets, the ``_SECOND_SLOTS`` share of targets with the largest
    ``s_j`` get a second column. At random, half the rounds price it as if the strongest
    lifted unit took the first slot (never overstating the gain: with ``q_min`` the smallest
    survival factor, ``s_j q_u (q_v - 1) <= s_j q_min (q_v - 1)`` for any first unit ``u``),
    the other half as if the unit lifted from that target came back (closer to what
    happens, but it can overstate; mixing the two keeps the search out of traps either one
    falls into alone). The round's plan is kept only if it is no worse than ``x``, so a
    round never makes ``x`` worse.
    """
    ut, tg = _units(inst, x)
    if ut.size == 0:
        return x
    order = rng.permutation(ut.size)
    _, first = np.unique(tg[order], return_index=True)
    lifted = order[first]
    if lifted.size > _VLNS_BATCH:  # bound the assignment problem
        lifted = rng.choice(lifted, _VLNS_BATCH, replace=False)
    keep = np.ones(ut.size, bool)
    keep[lifted] = False
    tab = _tables(inst) if tab is None else tab
    t = inst.shape[1]
    ku, kt = ut[keep], tg[keep]
    load = np.bincount(kt, minlength=t)
    s = inst.value * np.exp(-np.bincount(kt, weights=tab.a[ku, kt], minlength=t))
    room = load < inst.capacity
    lt = ut[lifted]
    own = tg[lifted].astype(np.int64)
    n_second = max(int(_SECOND_SLOTS * t), min(t, 25)) if ut.size > t else 0
    room2 = load + 2 <= inst.capacity
    n_second = min(n_second, int(room2.sum()))
    ex = np.zeros(0, np.int64)
    own_first = False
    if n_second > 0:
        ex = np.argpartition(-np.where(room2, s, -1.0), n_second - 1)[:n_second]
        # half the rounds: as if the unit lifted there came back; else the strongest one
        own_first = bool(rng.random() < 0.5)
    cost = round_cost_kernel(
        tab.q, tab.compat, lt, s, room, ex.astype(np.int64), room2, own, own_first, _BIG
    )
    colmap = np.concatenate([np.arange(t), ex])
    # every lifted unit back on its own target is feasible: improve on it
    every = np.zeros((lifted.size, 0), np.int64)  # each unit may go to any column
    # (the last round's potentials as a start did not shorten the search: the rows change)
    start = np.zeros(cost.shape[1] + 1)
    cols, optimal = cancel_cycles_kernel(cost, own, every, _BIG, _CC_PASSES, start)
    if not optimal:  # far from the plan (after a kick): solve it from scratch instead
        rows, c = _assignment(cost)
        cols = np.empty(lifted.size, np.int64)
        cols[rows] = c
    new_tg = tg.copy()
    new_tg[lifted] = colmap[cols]
    if np.array_equal(new_tg, tg):
        return x  # the plan is optimal in this neighbourhood
    if n_second > 0 and _value_units(inst, tab, ut, new_tg) > _value_units(inst, tab, ut, tg):
        return x
    return _from_units(inst, ut, new_tg)


def _value_units(
    inst: WtaInstance, tab: _Tables, ut: NDArray[np.int64], tg: NDArray[np.int64]
) -> float:
    """Surviving value of the plan with unit ``k`` of type ``ut[k]`` on target ``tg[k]``."""
    y = np.bincount(tg, weights=tab.a[ut, tg], minlength=inst.shape[1])
    return float(np.sum(inst.value * np.exp(-y)))


def _assignment(cost: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Minimum-cost assignment of every row of ``cost`` (n <= m); ``_BIG`` marks forbidden.

    A full matching avoiding ``_BIG`` must exist. When rows are more than half the columns,
    the compiled Jonker-Volgenant kernel solves the problem padded square with zero rows
    (several times faster than scipy on VLNS rounds, whose optimum is close to the identity
    matching that its initialisation finds); otherwise scipy's solver.
    """
    n, m = cost.shape
    if 2 * n <= m:
        from scipy.optimize import linear_sum_assignment

        r, c = linear_sum_assignment(cost)
        return np.asarray(r, np.int64), np.asarray(c, np.int64)
    ok = cost < _BIG
    # a forbidden entry costs more than any difference between two feasible matchings
    big = 2.0 * n * (1.0 + float(np.max(np.abs(cost[ok])))) if ok.any() else 1.0
    sq = np.zeros((m, m))
    sq[:n] = np.where(ok, cost, big)
    col = lapjv_kernel(sq)
    return np.arange(n, dtype=np.int64), col[:n]


def _perturb(
    inst: WtaInstance, x: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[np.int64]:
    """Move a few random units (5 %, at least 2) to random compatible targets with room."""
    x = x.copy()
    for _ in range(max(2, int(_KICK * inst.count.sum()))):
        src = np.argwhere(x > 0)
        if src.size == 0:
            break
        i, a = src[rng.integers(len(src))]
        room = np.flatnonzero((inst.p[i] > 0) & (x.sum(axis=0) < inst.capacity))
        if room.size == 0:
            continue
        b = int(room[rng.integers(room.size)])
        x[i, a] -= 1
        x[i, b] += 1
    return x


def solve_fast(
    inst: WtaInstance,
    *,
    time_limit_s: float = 0.5,
    rng: np.random.Generator | None = None,
    start: NDArray[np.int64] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> WtaSolution:
    """Assignment-based construction, then very-large-neighbourhood search + local search.

    Starts from the better of the marginal-return greedy and the linear-assignment
    construction (each polished by local search), then repeats until the time budget is
    spent: reassign one unit per target optimally (a linear assignment, :func:`_vlns_round`),
    polish with single-unit moves, keep if better; after ``_PATIENCE`` rounds without
    improvement, kick the best plan (move 5 % of the units at random) and go on from there.

    Parameters
    ----------
    inst : WtaInstance
    time_limit_s : float
        Wall-time budget (s); the construction and first polish always complete.
    rng : numpy.random.Generator, optional
        Stream choosing which unit is lifted from each target; default: seeded with 0.
    start : (W, T) int64, optional
        A feasible solution to start from as well; the result is never worse than it.
    clock : callable, optional
        The clock the budget is counted on: wall time by default; ``time.process_time``
        counts the solve's CPU time instead (to measure on a machine shared with other jobs).
        ``WtaSolution.seconds`` is wall time either way.

    Notes
    -----
    With ``time_limit_s = 0`` only the constructions and their local search run: the result
    is a deterministic function of the instance (used inside the simulation). With a budget,
    how far the search gets depends on the machine's speed.
    """
    t0 = time.perf_counter()
    deadline = clock() + time_limit_s
    rng = np.random.default_rng(0) if rng is None else rng
    starts = [_greedy(inst), _assignment_construction(inst)]
    if start is not None:
        check_feasible(inst, start)
        starts.append(np.asarray(start, np.int64))
    starts = [x0 for x0 in starts if _is_feasible(inst, x0)]
    if not starts:  # tight compatibility/capacity: any feasible plan, from a max flow
        starts = [_max_flow(inst.p > 0, inst.count, inst.capacity)]
    tab = _tables(inst)
    cands = [_local_search(inst, x0, math.inf, swaps=False, tab=tab) for x0 in starts]
    vals = [float(np.sum(_surviving(inst, tab.a, c))) for c in cands]
    best = cands[int(np.argmin(vals))]
    best_f = min(vals)
    rounds = 0
    stale = 0
    cur, cur_f = best, best_f
    while clock() < deadline:
        rounds += 1
        x = _vlns_round(inst, cur, rng, tab)
        if x is cur:  # unchanged (cur is already a local optimum of the moves)
            stale += 1
            f = cur_f
        else:
            x = _local_search(inst, x, deadline, swaps=False, clock=clock, tab=tab)
            f = float(np.sum(_surviving(inst, tab.a, x)))
        if f < cur_f * (1.0 - 1e-12):
            cur, cur_f, stale = x, f, 0
            if f < best_f:
                best, best_f = x, f
        else:
            stale += 1
        if stale >= _PATIENCE:  # iterated local search: kick the best solution and go on
            cur = _perturb(inst, best, rng)
            cur_f, stale = float(np.sum(_surviving(inst, tab.a, cur))), 0
    return WtaSolution(
        x=best,
        surviving_value=best_f,
        bound=None,
        status="heuristic",
        seconds=time.perf_counter() - t0,
        iterations=rounds,
    )


# --------------------------------------------------------------------------- exact


def solve_exact(
    inst: WtaInstance,
    *,
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-6,
    start: NDArray[np.int64] | None = None,
) -> WtaSolution:
    """Outer approximation with HiGHS until the proven gap is at most ``rel_gap``.

    Parameters
    ----------
    inst : WtaInstance
    time_limit_s : float
        Wall-time limit (s) for the whole solve, respected across MILP rounds.
    rel_gap : float
        Stop when ``(F - bound) / F <= rel_gap``.
    start : (W, T) int64, optional
        A feasible starting solution; default: :func:`solve_fast` with a short budget.

    Returns
    -------
    WtaSolution
        ``status`` is ``"optimal"`` when the gap closed, else ``"time_limit"``; ``bound`` is
        the best proven lower bound on the optimal surviving value.
    """
    import highspy

    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    w, t = inst.shape
    a = _log_survival(inst.p)
    if start is None:
        start = solve_fast(inst, time_limit_s=min(0.2, 0.1 * time_limit_s)).x
    best = np.asarray(start, np.int64)
    check_feasible(inst, best)
    best_f = surviving_value(inst, best)

    # columns: x_ij for compatible pairs, then z_j
    pi, pj = np.nonzero(inst.p > 0)
    nx = pi.size
    ub_x = np.minimum(inst.count[pi], inst.capacity[pj]).astype(np.float64)
    h = _quiet_highs()
    h.setOptionValue("mip_rel_gap", rel_gap / 10.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = nx + t
    lp.col_cost_ = np.concatenate([np.zeros(nx), np.ones(t)])
    lp.col_lower_ = np.zeros(nx + t)
    lp.col_upper_ = np.concatenate([ub_x, np.full(t, inf)])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * nx + [highspy.HighsVarType.kContinuous] * t
    # rows: each weapon type's count; each target's capacity where it binds
    rows_idx: list[NDArray[np.int64]] = []
    rows_val: list[NDArray[np.float64]] = []
    lower: list[float] = []
    upper: list[float] = []
    by_type = np.argsort(pi, kind="stable")
    type_start = np.searchsorted(pi[by_type], np.arange(w + 1))
    for i in range(w):
        cols = by_type[type_start[i] : type_start[i + 1]]
        rows_idx.append(cols.astype(np.int64))
        rows_val.append(np.ones(cols.size))
        lower.append(float(inst.count[i]) if inst.must_fire else 0.0)
        upper.append(float(inst.count[i]))
    total = int(inst.count.sum())
    by_target = np.argsort(pj, kind="stable")
    tgt_start = np.searchsorted(pj[by_target], np.arange(t + 1))
    for j in np.flatnonzero(inst.capacity < total):
        cols = by_target[tgt_start[j] : tgt_start[j + 1]]
        rows_idx.append(cols.astype(np.int64))
        rows_val.append(np.ones(cols.size))
        lower.append(0.0)
        upper.append(float(inst.capacity[j]))
    lp.num_row_ = len(lower)
    lp.row_lower_ = np.array(lower)
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([r.size for r in rows_idx])])
    lp.a_matrix_.index_ = np.concatenate(rows_idx) if rows_idx else np.zeros(0, np.int64)
    lp.a_matrix_.value_ = np.concatenate(rows_val) if rows_val else np.zeros(0)
    h.passModel(lp)

    cols_of_target = [by_target[tgt_start[j] : tgt_start[j + 1]] for j in range(t)]
    a_col = a[pi, pj]

    def add_cuts(targets: NDArray[np.int64], points: NDArray[np.float64]) -> int:
        """Tangent cuts z_j + g sum_i a_ij x_ij >= g (1 + y0), g = V_j exp(-y0)."""
        starts, idx, val, lo = [0], [], [], []
        for j, y0 in zip(targets.tolist(), points.tolist(), strict=True):
            g = inst.value[j] * math.exp(-y0)
            cols = cols_of_target[j]
            idx.append(np.concatenate([cols, [nx + j]]))
            val.append(np.concatenate([g * a_col[cols], [1.0]]))
            lo.append(g * (1.0 + y0))
            starts.append(starts[-1] + cols.size + 1)
        if not lo:
            return 0
        n = len(lo)
        h.addRows(
            n,
            np.array(lo),
            np.full(n, inf),
            int(starts[-1]),
            np.array(starts[:-1], np.int32),
            np.concatenate(idx).astype(np.int32),
            np.concatenate(val),
        )
        return n

    def y_of(x: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.asarray(np.sum(a * x, axis=0), np.float64)

    # initial cuts: at 0, on a grid, and at the start solution
    grid = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
    tj = np.repeat(np.arange(t), grid.size)
    add_cuts(tj, np.tile(grid, t))
    add_cuts(np.arange(t), y_of(best))

    bound = -math.inf
    rounds = 0
    status = "time_limit"
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        rounds += 1
        h.setOptionValue("time_limit", max(left, 1e-3))
        sol = highspy.HighsSolution()
        sol.col_value = np.concatenate(
            [best[pi, pj].astype(np.float64), _surviving(inst, a, best)]
        )
        sol.value_valid = True
        h.setSolution(sol)
        h.run()
        info = h.getInfo()
        model_status = h.getModelStatus()
        dual = float(info.mip_dual_bound)
        if math.isfinite(dual):
            bound = max(bound, dual)
        col = np.asarray(h.getSolution().col_value)
        if col.size == nx + t and info.primal_solution_status:
            x = np.zeros((w, t), np.int64)
            x[pi, pj] = np.rint(col[:nx]).astype(np.int64)
            try:
                check_feasible(inst, x)
                f = surviving_value(inst, x)
                if f < best_f:
                    best, best_f = x, f
            except ValueError:
                x = best
        else:
            x = best
        if best_f - bound <= rel_gap * best_f:
            status = "optimal"
            break
        if model_status != highspy.HighsModelStatus.kOptimal:
            break  # time limit inside the MILP
        # cut off the MILP's solution where its z underestimates the true surviving value
        z = col[nx:] if col.size == nx + t else np.zeros(t)
        y = y_of(x)
        true = inst.value * np.exp(-y)
        viol = np.flatnonzero(true - z > 1e-9 * max(best_f, 1e-12))
        if viol.size == 0:
            # the MILP solution is exact under the cuts: it is optimal for the true problem
            bound = max(bound, float(np.sum(true)))
            status = "optimal" if best_f - bound <= rel_gap * best_f else status
            break
        add_cuts(viol, y[viol])
        yb = y_of(best)
        add_cuts(np.arange(t), yb)
    return WtaSolution(
        x=best,
        surviving_value=best_f,
        bound=bound if math.isfinite(bound) else None,
        status=status,
        seconds=time.perf_counter() - t0,
        iterations=rounds,
    )
