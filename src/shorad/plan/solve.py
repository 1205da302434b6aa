"""Solvers of the weighted maximal-covering problem (:class:`~shorad.plan.coverage.CoverProblem`).

* :func:`solve_plain`: the textbook MILP handed to HiGHS as is: one binary per site, one
  binary per demand point (two for ``backup``), ``y_j <= sum_i a_ij x_i``, ``sum x <= p``.
* :func:`solve_exact`: shorad's exact method. The same optimum, proven, on a smaller model:

  1. drop demand nobody covers and sites that cover nothing;
  2. aggregate identical demand columns (same set of covering sites) into one, summing
     their weights;
  3. (``beta = 0`` only) drop dominated sites: a site whose covered set is contained in
     another's (ties: keep the lower index) never needs to be chosen; repeat 2-3 until stable;
  4. demand variables continuous in [0, 1] (integral at any optimum once ``x`` is), only
     the site variables are binary;
  5. the heuristic of :func:`solve_fast` (more iterations); if it reaches the combinatorial
     bound of :func:`simple_bound` (all coverable weight, or the ``p`` heaviest sites), it
     is optimal and HiGHS is not called;
  6. (``beta = 0``) otherwise, can ``p`` sites cover every coverable point? A minimum
     set-cover MILP, reduced first by set-cover dominance: a demand point
     whose covering sites include all of another point's is implied and dropped (the valid
     direction for covering all; for maximal covering no demand point can be dropped this
     way), then dominated sites again. A cover found is optimal (it reaches bound (a)); a
     proof that none exists, or a quarter of the time limit spent, moves on;
  7. otherwise the region-count branch and bound of :mod:`shorad.plan.regions` (LP
     relaxation plus "``k_R`` sites in region ``R``" rows, branching on the counts of a
     recursive bisection of the sites), started from the heuristic's layout, with
     ``NODE_ITERS`` tabu iterations (:func:`shorad.plan._kernels.tabu_search`) from every
     new rounded node layout. Status ``optimal`` when it closes every node, else
     ``time_limit`` with its valid bound; the layout returned is the best of the heuristic's
     and the branch and bound's.

* :func:`solve_fast`: greedy, then tabu search in the 1-swap neighbourhood (each iteration
  makes the best exchange of a chosen site for an unchosen one, even a losing one, with the
  site swapped out barred for a few iterations), the numba kernel
  :func:`shorad.plan._kernels.greedy_tabu`, ``FAST_ITERS`` iterations, on the reduced
  problem of steps 1-2. Its gap is reported against the LP relaxation of the reduced model
  (solved by HiGHS, timed apart). The exact method's step 5 runs the same kernel for
  ``EXACT_ITERS`` iterations on its reduced problem.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from shorad._highs import quiet_highs
from shorad.errors import ConfigError
from shorad.plan.coverage import CoverProblem, covered_weight
from shorad.plan.regions import region_branch_and_bound

__all__ = [
    "PlanSolution",
    "reduce_problem",
    "simple_bound",
    "solve_exact",
    "solve_fast",
    "solve_plain",
]

# a heuristic value within this relative tolerance of a proven bound counts as optimal
_REL_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class PlanSolution:
    """Chosen sites and how good they are proven to be.

    Attributes
    ----------
    sites : (k,) int64
        Chosen candidate rows, k <= p, sorted.
    objective : float
        Weight covered (the objective of the original problem).
    bound : float
        Proven upper bound on the optimum (NaN if none).
    seconds : float
        Wall time of the method (the fast method's bound excluded).
    method : str
    status : str
        ``"optimal"``, ``"time_limit"`` or ``"heuristic"``.
    bound_seconds : float
        Time spent computing ``bound`` where it is separate (fast: the LP relaxation).
    nodes : int
        LPs solved by the exact method's region-count branch and bound (0 where it did
        not run).
    """

    sites: NDArray[np.int64]
    objective: float
    bound: float
    seconds: float
    method: str
    status: str
    bound_seconds: float = 0.0
    nodes: int = 0

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - objective) / bound`` (0 when both are 0)."""
        if not math.isfinite(self.bound):
            return math.nan
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


@dataclass(frozen=True, slots=True)
class Reduced:
    """A reduced problem and the map back to the original sites."""

    problem: CoverProblem
    sites: NDArray[np.int64]


def _check(problem: CoverProblem, p: int) -> None:
    n = problem.n_sites
    if p < 1:
        raise ConfigError(f"must be >= 1, got {p}", field="--units")
    if p > n:
        raise ConfigError(
            f"asked for {p} units but there are only {n} candidate sites; expected "
            f"--units <= {n} (add candidates or lower --units)",
            field="--units",
        )
    if problem.a.nnz == 0 or not np.any(problem.w[np.unique(problem.a.indices)] > 0):
        raise ConfigError(
            f"no candidate site covers any demand point ({n} candidates, {problem.a.shape[1]} "
            "demand points); expected at least one site in range and in line of sight "
            "(check --candidates, the unit type's ranges and the planning range)",
            field="--candidates",
        )


def _aggregate(
    a: sp.csr_array, w: NDArray[np.float64]
) -> tuple[sp.csr_array, NDArray[np.float64]]:
    """Merge identical columns of ``a`` (summing ``w``); drop empty or weightless columns."""
    at = sp.csr_array(a.T)
    at.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(at.shape[0], np.int64)
    ptr, ind = at.indptr, at.indices
    for j in range(at.shape[0]):
        k = ind[ptr[j] : ptr[j + 1]].tobytes() if ptr[j + 1] > ptr[j] and w[j] > 0 else b""
        group[j] = keys.setdefault(k, len(keys))
    first = np.full(len(keys), -1, np.int64)
    first[group[::-1]] = np.arange(at.shape[0])[::-1]
    new_w = np.bincount(group, weights=w, minlength=len(keys))
    keep = np.array([g for g in range(len(keys)) if ptr[first[g] + 1] > ptr[first[g]]], np.int64)
    new_a = sp.csr_array(a[:, first[keep]])
    return new_a, np.asarray(new_w[keep], np.float64)


def _undominated(a: sp.csr_array) -> NDArray[np.int64]:
    """Rows of ``a`` not contained in another row (ties: the lowest index is kept)."""
    d = a.astype(np.float32).toarray()
    size = d.sum(axis=1)
    inter = d @ d.T
    n = d.shape[0]
    idx = np.arange(n)
    contained = inter >= size[:, None] - 0.5  # row i subset of row k
    np.fill_diagonal(contained, False)
    strict = contained & ((size[None, :] > size[:, None] + 0.5) | (idx[None, :] < idx[:, None]))
    return np.flatnonzero(~strict.any(axis=1)).astype(np.int64)


def reduce_problem(problem: CoverProblem, *, dominance: bool = True) -> Reduced:
    """Steps 1-3 of :func:`solve_exact` (dominance only where ``beta == 0``)."""
    a, w = _aggregate(problem.a, problem.w)
    sites = np.arange(problem.n_sites, dtype=np.int64)
    live = np.flatnonzero(np.diff(a.indptr) > 0)
    a, sites = sp.csr_array(a[live]), sites[live]
    if dominance and problem.beta == 0.0:
        for _ in range(4):
            keep = _undominated(a)
            if keep.size == a.shape[0]:
                break
            a, sites = sp.csr_array(a[keep]), sites[keep]
            a, w = _aggregate(a, w)
    return Reduced(CoverProblem(a, w, problem.beta), sites)


def simple_bound(problem: CoverProblem, p: int) -> float:
    """An upper bound on the optimum that needs no LP.

    The smaller of (a) the weight of every demand point as covered as it can be
    (``w_j`` if a site covers it, ``+ beta w_j`` if two do) and (b) for ``beta <= 1``, the sum
    of the ``p`` largest site weights ``sum_j a_ij w_j`` (valid because
    ``min(c, 1) + beta [c >= 2] <= c`` for integer ``c >= 0``). (a) is the optimum whenever
    ``p`` sites can cover everything; (b) is the optimum for ``p = 1``.
    """
    a = sp.csr_array(problem.a)
    w = np.asarray(problem.w, np.float64)
    deg = np.bincount(a.indices, minlength=a.shape[1])
    best = float(w @ ((deg >= 1) + problem.beta * (deg >= 2)))
    if problem.beta <= 1.0 and a.shape[0] > 0:
        site_w = np.sort(a.astype(np.float64) @ w)[::-1]
        best = min(best, float(site_w[: max(p, 0)].sum()))
    return best


def _reaches(value: float, bound: float) -> bool:
    return value >= bound - _REL_TOL * max(abs(bound), 1.0)


def _implied_demand(a: sp.csr_array) -> NDArray[np.int64]:
    """Columns of ``a`` not implied by another: ``k`` is implied by ``j`` when every row
    covering ``j`` also covers ``k`` (ties: the lowest index is kept). Set cover only."""
    d = a.astype(np.float32).toarray()
    size = d.sum(axis=0)
    inter = d.T @ d
    idx = np.arange(d.shape[1])
    sup = inter >= size[None, :] - 0.5  # sup[k, j]: column j's rows within column k's
    np.fill_diagonal(sup, False)
    strict = sup & ((size[:, None] > size[None, :] + 0.5) | (idx[:, None] > idx[None, :]))
    return np.flatnonzero(~strict.any(axis=1)).astype(np.int64)


def _full_cover(a: sp.csr_array, p: int, time_limit_s: float) -> NDArray[np.int64] | None:
    """Rows of ``a``, at most ``p``, covering every non-empty column; None if not found."""
    import highspy

    sites = np.arange(a.shape[0], dtype=np.int64)
    a = sp.csr_array(a[:, np.flatnonzero(np.bincount(a.indices, minlength=a.shape[1]))])
    for _ in range(8):
        shape = a.shape
        a = sp.csr_array(a[:, _implied_demand(a)])
        rows = _undominated(a)
        a, sites = sp.csr_array(a[rows]), sites[rows]
        if a.shape == shape:
            break
    n, m = a.shape
    if n <= p:
        return sites
    h = quiet_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit_s))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.col_cost_ = np.ones(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    at = sp.csr_array(a.T).astype(np.float64)
    mat = sp.csr_array(at)  # minimum cover (no cardinality row: HiGHS is faster without)
    lp.num_row_ = m
    lp.row_lower_ = np.ones(m)
    lp.row_upper_ = np.full(m, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.run()
    if h.getInfo().primal_solution_status != 2:  # no feasible solution
        return None
    x = np.asarray(h.getSolution().col_value, np.float64)
    chosen = sites[np.flatnonzero(x > 0.5)]
    return chosen if chosen.size <= p else None


# tabu iterations of the heuristic: fast method, and the warm start of the exact one
FAST_ITERS = 100
EXACT_ITERS = 600
# tabu iterations from each new rounded node layout of the exact method's branch and bound
NODE_ITERS = 60
_TENURE = 7


_KernelArrays = tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]
]


def _kernel_arrays(problem: CoverProblem) -> _KernelArrays:
    """CSR and CSC index arrays and weights of ``problem`` as the kernels take them."""
    a = sp.csr_array(problem.a, dtype=np.float64)
    a.eliminate_zeros()  # the kernels read the structure only
    a.sort_indices()
    at = sp.csr_array(a.T)
    at.sort_indices()
    return (
        a.indptr.astype(np.int64),
        a.indices.astype(np.int64),
        at.indptr.astype(np.int64),
        at.indices.astype(np.int64),
        np.ascontiguousarray(problem.w, np.float64),
    )


def _heuristic(problem: CoverProblem, p: int, iters: int) -> NDArray[np.int64]:
    """Greedy + tabu search (:func:`shorad.plan._kernels.greedy_tabu`): sorted rows."""
    from shorad.plan._kernels import greedy_tabu

    n = problem.n_sites
    if p >= n:
        return np.arange(n, dtype=np.int64)
    rptr, rind, cptr, cind, w = _kernel_arrays(problem)
    sites, _ = greedy_tabu(
        rptr, rind, cptr, cind, w, float(problem.beta), int(p), int(iters), _TENURE
    )
    return np.sort(np.asarray(sites, np.int64))


def _node_search(problem: CoverProblem) -> Any:
    """``improve(sites) -> sites``: :data:`NODE_ITERS` tabu iterations from ``sites``
    (:func:`shorad.plan._kernels.tabu_search`), the exact method's node local search."""
    from shorad.plan._kernels import tabu_search

    rptr, rind, cptr, cind, w = _kernel_arrays(problem)
    beta = float(problem.beta)

    def improve(sites: NDArray[np.int64]) -> NDArray[np.int64]:
        start = np.ascontiguousarray(sites, np.int64)
        if start.size == 0 or start.size >= problem.n_sites:
            return start
        found, _ = tabu_search(rptr, rind, cptr, cind, w, beta, start, NODE_ITERS, _TENURE)
        return np.sort(np.asarray(found, np.int64))

    return improve


def _model(
    a: sp.csr_array, w: NDArray[np.float64], beta: float, p: int, binary_y: bool
) -> tuple[object, int]:
    """HiGHS model (maximise): columns x (n) then y1 (m) [then y2 (m)]."""
    import highspy

    n, m = a.shape
    layers = 2 if beta > 0 else 1
    h = quiet_highs()
    # one thread everywhere: HiGHS's global scheduler refuses a later change of thread count
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    ncol = n + layers * m
    lp.num_col_ = ncol
    cost = [np.zeros(n), w] + ([beta * w] if layers == 2 else [])
    lp.col_cost_ = np.concatenate(cost)
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.ones(ncol)
    lp.sense_ = highspy.ObjSense.kMaximize
    # rows: for each demand j, sum_layers y_j - sum_i a_ij x_i <= 0; then sum x <= p
    at = sp.csr_array(a.T).astype(np.float64)
    ylay = sp.hstack([sp.identity(m, format="csr")] * layers, format="csr")
    cover = sp.hstack([-at, ylay], format="csr")
    card = sp.csr_array((np.ones(n), (np.zeros(n, np.int64), np.arange(n))), shape=(1, ncol))
    mat = sp.csr_array(sp.vstack([cover, card], format="csr"))
    lp.num_row_ = m + 1
    lp.row_lower_ = np.full(m + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(m), [float(p)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data.astype(np.float64)
    integ = highspy.HighsVarType.kInteger
    cont = highspy.HighsVarType.kContinuous
    lp.integrality_ = [integ] * n + [integ if binary_y else cont] * (layers * m)
    h.passModel(lp)
    return h, ncol


def _run(
    h: object, time_limit_s: float, start: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], float, str]:
    hh = h  # typed as object to keep highspy out of signatures
    hh.setOptionValue("time_limit", float(time_limit_s))  # type: ignore[attr-defined]
    hh.setOptionValue("mip_rel_gap", 1e-9)  # type: ignore[attr-defined]
    if start is not None:
        import highspy

        sol = highspy.HighsSolution()
        sol.col_value = start.tolist()
        hh.setSolution(sol)  # type: ignore[attr-defined]
    hh.run()  # type: ignore[attr-defined]
    info = hh.getInfo()  # type: ignore[attr-defined]
    status = hh.modelStatusToString(hh.getModelStatus())  # type: ignore[attr-defined]
    x = np.asarray(hh.getSolution().col_value, np.float64)  # type: ignore[attr-defined]
    bound = float(info.mip_dual_bound)
    return x, bound, "optimal" if status == "Optimal" else "time_limit"


def _finish(
    problem: CoverProblem,
    sites: NDArray[np.int64],
    bound: float,
    t0: float,
    method: str,
    status: str,
    bound_s: float = 0.0,
    *,
    nodes: int = 0,
) -> PlanSolution:
    sites = np.unique(sites.astype(np.int64))
    obj = covered_weight(problem, sites.tolist())
    if status == "optimal":
        bound = max(bound, obj) if math.isfinite(bound) else obj
    return PlanSolution(
        sites, obj, bound, time.perf_counter() - t0, method, status, bound_s, nodes
    )


def solve_plain(problem: CoverProblem, p: int, *, time_limit_s: float = 60.0) -> PlanSolution:
    """The plain MILP (module docstring), solved by HiGHS with relative gap 1e-9."""
    _check(problem, p)
    t0 = time.perf_counter()
    n = problem.n_sites
    h, _ = _model(problem.a, problem.w, problem.beta, p, binary_y=True)
    x, bound, status = _run(h, time_limit_s, None)
    sites = np.flatnonzero(x[:n] > 0.5) if x.size else np.zeros(0, np.int64)
    return _finish(problem, sites, bound, t0, "plain", status)


def solve_fast(problem: CoverProblem, p: int, *, lp_bound: bool = True) -> PlanSolution:
    """Greedy + 1-swap on the reduced problem; ``bound`` from its LP relaxation."""
    _check(problem, p)
    t0 = time.perf_counter()
    red = reduce_problem(problem, dominance=False)
    local = _heuristic(red.problem, p, FAST_ITERS)
    sites = red.sites[local]
    seconds = time.perf_counter() - t0
    bound, bound_s = math.nan, 0.0
    if lp_bound:
        t1 = time.perf_counter()
        bound = simple_bound(red.problem, p)
        if not _reaches(covered_weight(problem, sites.tolist()), bound):
            bound = min(bound, _lp_bound(red.problem, p))
        bound_s = time.perf_counter() - t1
    sol = _finish(problem, sites, bound, t0, "fast", "heuristic", bound_s)
    return PlanSolution(
        sol.sites, sol.objective, sol.bound, seconds, sol.method, sol.status, bound_s
    )


def _relaxation(problem: CoverProblem, p: int) -> Any:
    """The LP relaxation of :func:`_model` (every column continuous), not yet solved."""
    import highspy

    model, ncol = _model(problem.a, problem.w, problem.beta, p, binary_y=False)
    h: Any = model
    h.changeColsIntegrality(
        ncol,
        np.arange(ncol, dtype=np.int32),
        np.array([highspy.HighsVarType.kContinuous] * ncol),
    )
    return h


def _lp_bound(problem: CoverProblem, p: int) -> float:
    h = _relaxation(problem, p)
    h.run()
    return float(h.getInfo().objective_function_value)


def solve_exact(problem: CoverProblem, p: int, *, time_limit_s: float = 60.0) -> PlanSolution:
    """shorad's exact method (module docstring): reduce, warm-start, prove."""
    _check(problem, p)
    t0 = time.perf_counter()
    red = reduce_problem(problem, dominance=True)
    rp = red.problem
    n = rp.a.shape[0]
    k = min(p, n)
    if n <= k:  # every useful site fits: take them all
        return _finish(problem, red.sites, math.nan, t0, "exact", "optimal")
    local = _heuristic(rp, k, EXACT_ITERS)
    heur = red.sites[local]
    cheap = simple_bound(rp, k)
    if _reaches(covered_weight(problem, heur.tolist()), cheap):
        return _finish(problem, heur, cheap, t0, "exact", "optimal")
    if rp.beta == 0.0:
        cover = _full_cover(rp.a, k, time_limit_s / 4)
        if cover is not None and _reaches(
            covered_weight(problem, red.sites[cover].tolist()), cheap
        ):
            return _finish(problem, red.sites[cover], cheap, t0, "exact", "optimal")
        time_limit_s = max(time_limit_s - (time.perf_counter() - t0), 0.1)
    res = region_branch_and_bound(
        _relaxation(rp, k),
        rp.a,
        rp.w,
        k,
        local,
        lambda s: covered_weight(rp, s.tolist()),
        time_limit_s=time_limit_s,
        beta=float(rp.beta),
        improve=_node_search(rp),
    )
    sites = red.sites[res.sites]
    if covered_weight(problem, heur.tolist()) > covered_weight(problem, sites.tolist()):
        sites = heur
    bound = min(res.bound, cheap)
    status = "optimal" if res.finished else "time_limit"
    return _finish(problem, sites, bound, t0, "exact", status, nodes=res.nodes)
