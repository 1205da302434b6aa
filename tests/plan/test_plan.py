"""Siting planner: solvers against brute force, LOS, errors, and the written scenario."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from shorad.errors import ConfigError
from shorad.plan import (
    CoverProblem,
    approach_demand,
    compute_coverage,
    cover_problem,
    covered_weight,
    roof_candidates,
    solve_exact,
    solve_fast,
    solve_plain,
)
from shorad.plan.layout import planned_scenario, template_unit, unit_type
from shorad.scenario import parse_scenario


def _brute(problem: CoverProblem, p: int) -> float:
    n = problem.n_sites
    return max(
        covered_weight(problem, list(c)) for c in itertools.combinations(range(n), min(p, n))
    )


@st.composite
def problems(draw: Any) -> tuple[CoverProblem, int]:
    n = draw(st.integers(2, 7))
    m = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    beta = draw(st.sampled_from([0.0, 0.5]))
    rng = np.random.default_rng(seed)
    a = rng.random((n, m)) < draw(st.floats(0.1, 0.6))
    a[rng.integers(n), rng.integers(m)] = True
    w = rng.integers(1, 10, m).astype(np.float64)
    return CoverProblem(sp.csr_array(a), w, beta), draw(st.integers(1, n))


@settings(max_examples=40, deadline=None)
@given(problems())
def test_exact_equals_brute_force_and_fast_never_beats_it(case: tuple[CoverProblem, int]) -> None:
    problem, p = case
    best = _brute(problem, p)
    exact = solve_exact(problem, p, time_limit_s=10)
    fast = solve_fast(problem, p, lp_bound=False)
    assert exact.status == "optimal"
    np.testing.assert_allclose(exact.objective, best, rtol=1e-9, atol=1e-9)
    assert exact.bound >= best - 1e-6
    assert fast.objective <= exact.objective + 1e-9
    assert len(fast.sites) <= p
    assert len(exact.sites) <= p


def test_plain_model_agrees_with_exact() -> None:
    rng = np.random.default_rng(3)
    a = sp.csr_array(rng.random((12, 30)) < 0.2)
    problem = CoverProblem(a, rng.random(30), 0.0)
    np.testing.assert_allclose(
        solve_plain(problem, 3).objective, solve_exact(problem, 3).objective, rtol=1e-9
    )


def test_impossible_requests_raise_config_error() -> None:
    problem = CoverProblem(sp.csr_array(np.eye(3, dtype=bool)), np.ones(3))
    with pytest.raises(ConfigError, match="only 3 candidate sites"):
        solve_exact(problem, 4)
    blind = CoverProblem(sp.csr_array(np.zeros((3, 4), bool)), np.ones(4))
    with pytest.raises(ConfigError, match="no candidate site covers"):
        solve_fast(blind, 2)


@pytest.fixture(scope="module")
def small_plan(small_spec: Any, small_scenario_data: dict[str, Any]) -> Any:
    data = small_scenario_data
    template = template_unit(data, None)
    utype = unit_type(data, template, small_spec, max_range_m=300.0)
    cand = roof_candidates(
        small_spec.world, small_spec.assets.aim_m[:, :2], within_m=250.0, grid_m=None
    )
    demand = approach_demand(small_spec, rings_m=(100.0, 250.0), n_bearings=12)
    cov = compute_coverage(small_spec.world, cand, demand, utype)
    return data, template, utype, cand, demand, cov


@pytest.fixture(scope="module")
def small_scenario_data() -> dict[str, Any]:
    from shorad.testing import small_scenario

    return small_scenario()


def test_los_blocked_pairs_never_covered(small_spec: Any, small_plan: Any) -> None:
    _, _, utype, cand, demand, cov = small_plan
    assert cov.los_blocked_pairs > 0
    for mat in (cov.seen, cov.engage):
        coo = mat.tocoo()
        clear = small_spec.world.los(cand.pos_m[coo.row], demand.pos_m[coo.col])
        assert clear.all()
    problem = cover_problem(cov, demand, utype, "layered")
    assert problem.a.shape[1] == 2 * len(demand)


def test_written_scenario_validates_and_runs(
    small_spec: Any, small_plan: Any, tmp_path: Path
) -> None:
    import yaml

    from shorad.api import run
    from shorad.scenario import load_scenario

    data, template, utype, cand, demand, cov = small_plan
    problem = cover_problem(cov, demand, utype, "backup")
    sol = solve_exact(problem, 2, time_limit_s=10)
    assert 1 <= len(sol.sites) <= 2
    out = planned_scenario(copy.deepcopy(data), small_spec, cand, sol.sites, template)
    path = tmp_path / "planned.yaml"
    path.write_text(yaml.safe_dump(out, sort_keys=False), encoding="utf-8")
    spec = load_scenario(path)
    assert len(spec.units) == len(sol.sites)
    np.testing.assert_allclose(spec.units.pos_m, cand.pos_m[sol.sites], atol=0.5)
    short = parse_scenario({**out, "duration_s": 60})
    summary = run(short, 1)
    assert summary.totals["threats"] == small_spec.n_threats


@settings(max_examples=40, deadline=None)
@given(problems())
def test_simple_bound_is_an_upper_bound(case: tuple[CoverProblem, int]) -> None:
    from shorad.plan.solve import simple_bound

    problem, p = case
    assert simple_bound(problem, p) >= _brute(problem, p) - 1e-9


def test_full_cover_drops_only_implied_demand() -> None:
    from shorad.plan.solve import _full_cover, _implied_demand

    # column 1's sites {0, 1} include column 0's {0}: covering 0 implies covering 1
    a = sp.csr_array(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], bool))
    assert _implied_demand(a).tolist() == [0, 2]
    cover = _full_cover(a, 2, 5.0)
    assert cover is not None
    assert len(cover) <= 2
    c = a.astype(np.float64).T @ np.isin(np.arange(3), cover).astype(np.float64)
    assert (c >= 1).all()
    assert _full_cover(sp.csr_array(np.eye(4, dtype=bool)), 3, 5.0) is None


def test_exact_proves_full_coverage_without_the_covering_milp() -> None:
    # six sites, two of them ({0, 3}) cover all; greedy takes the heavy site 5 first
    a = np.zeros((6, 8), bool)
    a[0, :4] = a[3, 4:] = True
    a[5, 2:6] = True
    a[1, [0, 1]] = a[2, [6, 7]] = a[4, [1, 6]] = True
    problem = CoverProblem(sp.csr_array(a), np.ones(8), 0.0)
    sol = solve_exact(problem, 2, time_limit_s=10)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(8.0)
    assert sol.bound == pytest.approx(8.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 25),
    st.integers(1, 30),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0.0, 0.5]),
    st.integers(0, 40),
    st.integers(0, 6),
)
def test_greedy_tabu_kernel_matches_numpy_reference(
    n: int, m: int, seed: int, beta: float, iters: int, tenure: int
) -> None:
    from shorad.plan._kernels import greedy_tabu, greedy_tabu_reference

    rng = np.random.default_rng(seed)
    a = (rng.random((n, m)) < rng.uniform(0.1, 0.6)).astype(np.float64)
    w = rng.integers(0, 9, m).astype(np.float64)  # exact sums: both make the same moves
    p = int(rng.integers(1, n))
    csr = sp.csr_array(a)
    csc = sp.csr_array(a.T)
    got, got_v = greedy_tabu(
        csr.indptr.astype(np.int64),
        csr.indices.astype(np.int64),
        csc.indptr.astype(np.int64),
        csc.indices.astype(np.int64),
        w,
        beta,
        p,
        iters,
        tenure,
    )
    ref, ref_v = greedy_tabu_reference(a, w, beta, p, iters, tenure)
    assert got.tolist() == ref.tolist()
    assert got_v == ref_v
    problem = CoverProblem(sp.csr_array(a > 0), w, beta)
    np.testing.assert_allclose(got_v, covered_weight(problem, got.tolist()), rtol=1e-12)
    assert len(set(got.tolist())) == len(got) <= p


def test_tabu_escapes_the_swap_local_optimum() -> None:
    from shorad.plan._kernels import greedy_tabu_reference

    a = np.array(
        [
            [0, 1, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 1, 0, 1],
            [0, 0, 1, 0, 1, 1, 0, 0],
            [0, 1, 0, 0, 0, 0, 0, 1],
            [1, 0, 0, 1, 0, 0, 0, 1],
        ],
        np.float64,
    )
    w = np.ones(8)
    problem = CoverProblem(sp.csr_array(a > 0), w, 0.0)
    greedy, g_v = greedy_tabu_reference(a, w, 0.0, 2, 0, 0)
    assert sorted(greedy.tolist()) == [0, 1]
    assert g_v == 5.0
    # no single exchange improves on greedy: best-improvement swapping stops here
    for r in greedy.tolist():
        for i in set(range(5)) - set(greedy.tolist()):
            swapped = [i if s == r else s for s in greedy.tolist()]
            assert covered_weight(problem, swapped) <= g_v
    best, b_v = greedy_tabu_reference(a, w, 0.0, 2, 10, 2)
    assert b_v == _brute(problem, 2) == 6.0
    assert sorted(best.tolist()) == [2, 4]
    assert solve_fast(problem, 2, lp_bound=False).objective == pytest.approx(6.0)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(3, 9),
    st.integers(1, 14),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0.0, 0.5]),
    st.integers(0, 30),
    st.integers(0, 6),
)
def test_tabu_search_kernel_matches_numpy_reference(
    n: int, m: int, seed: int, beta: float, iters: int, tenure: int
) -> None:
    from shorad.plan._kernels import tabu_search, tabu_search_reference

    rng = np.random.default_rng(seed)
    a = (rng.random((n, m)) < rng.uniform(0.1, 0.6)).astype(np.float64)
    w = rng.integers(0, 9, m).astype(np.float64)  # exact sums: both make the same moves
    start = rng.permutation(n)[: int(rng.integers(1, n))].astype(np.int64)
    csr = sp.csr_array(a)
    csc = sp.csr_array(a.T)
    got, got_v = tabu_search(
        csr.indptr.astype(np.int64),
        csr.indices.astype(np.int64),
        csc.indptr.astype(np.int64),
        csc.indices.astype(np.int64),
        w,
        beta,
        start,
        iters,
        tenure,
    )
    ref, ref_v = tabu_search_reference(a, w, beta, start, iters, tenure)
    assert got.tolist() == ref.tolist()
    assert got_v == ref_v
    problem = CoverProblem(sp.csr_array(a > 0), w, beta)
    np.testing.assert_allclose(got_v, covered_weight(problem, got.tolist()), rtol=1e-12)
    assert got_v >= covered_weight(problem, start.tolist()) - 1e-9  # never worse than start
    assert len(set(got.tolist())) == len(got) == len(start)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 8), st.integers(2, 12), st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_lagrangian_bound_is_valid_and_tight_at_the_lp_duals(
    n: int, m: int, seed: int, p: int
) -> None:
    from shorad.plan.regions import SiteTree, _lp_solve, _minimise, _multipliers, lagrangian_bound
    from shorad.plan.solve import _relaxation

    rng = np.random.default_rng(seed)
    p = min(p, n - 1)
    a = sp.csr_array(rng.random((n, m)) < 0.4)
    w = rng.integers(1, 10, m).astype(np.float64)
    beta = float(rng.choice([0.0, 0.5]))
    problem = CoverProblem(a, w, beta)
    af = sp.csr_array(a, dtype=np.float64)
    tree = SiteTree(a, w)
    left, right = tree.children(0)
    nl = tree.size(left)
    k = int(rng.integers(max(0, p - tree.size(right)), min(p, nl) + 1))
    members = tree.members
    for node in (((0, p),), ((left, k), (right, p - k))):
        # best layout with the node's counts, by brute force
        best = max(
            covered_weight(problem, list(c))
            for c in itertools.combinations(range(n), p)
            if all(np.isin(members[r], c).sum() == cnt for r, cnt in node)
        )
        for u in (rng.uniform(0, 12, m), np.zeros(m), w.copy()):
            cu, const = _multipliers(u, af, w, beta)
            assert lagrangian_bound(cu, const, tree, node) >= best - 1e-9
        h = _relaxation(problem, p)
        h.setOptionValue("presolve", "off")
        _minimise(h)
        got = _lp_solve(h, n, m, tree, node, {}, [], None, np.inf)
        assert got is not None
        lp, _, _, duals = got
        assert lp >= best - 1e-6
        cu, const = _multipliers(duals, af, w, beta)
        np.testing.assert_allclose(lagrangian_bound(cu, const, tree, node), lp, rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(3, 9),
    st.integers(2, 14),
    st.integers(0, 2**31 - 1),
    st.integers(1, 3),
    st.booleans(),
)
def test_region_branch_and_bound_equals_brute_force(
    n: int, m: int, seed: int, p: int, search: bool
) -> None:
    from shorad.plan.regions import region_branch_and_bound
    from shorad.plan.solve import _node_search, _relaxation

    rng = np.random.default_rng(seed)
    p = min(p, n - 1)
    a = sp.csr_array(rng.random((n, m)) < 0.4)
    w = rng.integers(1, 10, m).astype(np.float64)
    problem = CoverProblem(a, w, 0.0)
    # a deliberately poor incumbent: the branch and bound has to find the optimum itself
    res = region_branch_and_bound(
        _relaxation(problem, p),
        a,
        w,
        p,
        np.arange(p, dtype=np.int64),
        lambda s: covered_weight(problem, s.tolist()),
        time_limit_s=30.0,
        improve=_node_search(problem) if search else None,
    )
    best = _brute(problem, p)
    assert res.finished
    assert res.sites.size == p
    np.testing.assert_allclose(res.objective, best, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(covered_weight(problem, res.sites.tolist()), best, rtol=1e-9)
    assert res.bound >= best - 1e-9
    assert res.bound <= best + 1e-6


def test_site_tree_halves_partition_their_region() -> None:
    from shorad.plan.regions import SiteTree

    rng = np.random.default_rng(7)
    a = sp.csr_array(rng.random((40, 30)) < 0.3)
    tree = SiteTree(a, rng.random(30))
    stack = [0]
    while stack:
        r = stack.pop()
        if tree.size(r) < 2:
            continue
        left, right = tree.children(r)
        assert tree.children(r) == (left, right)  # built once
        assert tree.size(left) > 0
        assert tree.size(right) > 0
        joined = np.sort(np.concatenate([tree.members[left], tree.members[right]]))
        assert joined.tolist() == np.sort(tree.members[r]).tolist()
        stack += [left, right]
