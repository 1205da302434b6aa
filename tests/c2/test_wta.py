from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.c2.wta import (
    WtaInstance,
    ahuja_instance,
    check_feasible,
    read_wta,
    solve_exact,
    solve_fast,
    surviving_value,
)
from shorad.errors import ConfigError

ANDERSEN = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "wta" / "andersen2022"


def brute_force(inst: WtaInstance) -> float:
    """Best surviving value over every way to send each unit to a target (or hold it)."""
    units = np.repeat(np.arange(inst.shape[0]), inst.count)
    choices = range(inst.shape[1]) if inst.must_fire else range(-1, inst.shape[1])
    best = math.inf
    for combo in itertools.product(choices, repeat=units.size):
        x = np.zeros(inst.shape, np.int64)
        for u, j in zip(units, combo, strict=True):
            if j >= 0:
                x[u, j] += 1
        try:
            check_feasible(inst, x)
        except ValueError:
            continue
        best = min(best, surviving_value(inst, x))
    return best


@st.composite
def instances(draw: st.DrawFn) -> WtaInstance:
    w = draw(st.integers(1, 3))
    t = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    g = np.random.default_rng(seed)
    count = g.integers(1, 3, w)
    while count.sum() > 5:
        count[np.argmax(count)] -= 1
    p = g.uniform(0.05, 0.95, (w, t))
    p[g.uniform(size=(w, t)) < 0.2] = 0.0  # incompatible pairs
    own = g.integers(0, t, w)
    p[np.arange(w), own] = g.uniform(0.1, 0.9, w)  # each type can fire at one target ...
    capacity = g.integers(1, 4, t)
    capacity[own] += int(count.sum())  # ... that has room for all its units
    value = g.uniform(1.0, 100.0, t)
    return WtaInstance.create(value, p, count, capacity)


@settings(max_examples=25, deadline=None)
@given(inst=instances())
def test_exact_equals_brute_force_and_fast_never_beats_it(inst: WtaInstance) -> None:
    opt = brute_force(inst)
    exact = solve_exact(inst, time_limit_s=20.0)
    check_feasible(inst, exact.x)
    assert exact.status == "optimal"
    assert exact.surviving_value == pytest.approx(opt, rel=1e-6)
    assert exact.bound is not None
    assert exact.bound <= exact.surviving_value * (1 + 1e-9) + 1e-12
    fast = solve_fast(inst, time_limit_s=0.05)
    check_feasible(inst, fast.x)
    assert fast.surviving_value >= opt * (1 - 1e-9)
    assert fast.bound is None


def test_an_instance_where_units_cannot_all_fire_is_refused() -> None:
    p = np.array([[0.0, 0.0, 0.6], [0.1, 0.8, 0.7]])
    with pytest.raises(ConfigError, match="max flow"):
        WtaInstance.create(np.array([1.0, 2.0, 3.0]), p, np.array([2, 2]), np.array([5, 3, 1]))
    ok = WtaInstance.create(np.array([1.0, 2.0, 3.0]), p, np.array([2, 2]), np.array([5, 3, 2]))
    check_feasible(ok, solve_exact(ok, time_limit_s=10).x)


def test_objective_by_hand() -> None:
    inst = WtaInstance.create(np.array([10.0, 4.0]), np.array([[0.5, 0.2], [0.4, 0.0]]), 1)
    x = np.array([[1, 0], [1, 0]])
    assert_allclose(surviving_value(inst, x), 10 * 0.5 * 0.6 + 4.0, rtol=1e-12)
    # weapon 1 only reaches target 0; both on target 0 leaves 3 + 4 = 7, splitting 6 + 3.2
    sol = solve_exact(inst, time_limit_s=10)
    assert sol.surviving_value == pytest.approx(min(7.0, 10 * 0.6 + 4 * 0.8), rel=1e-9)
    with pytest.raises(ValueError, match="incompatible"):
        check_feasible(inst, np.array([[1, 0], [0, 1]]))


def test_fast_is_deterministic_and_good_on_ahuja() -> None:
    inst = ahuja_instance(40, rng=np.random.default_rng(5))
    a = solve_fast(inst, time_limit_s=0.1, rng=np.random.default_rng(1))
    b = solve_fast(inst, time_limit_s=0.1, rng=np.random.default_rng(1))
    check_feasible(inst, a.x)
    c = solve_fast(inst, time_limit_s=0.0)  # no budget: a function of the instance only
    assert np.array_equal(c.x, solve_fast(inst, time_limit_s=0.0).x)
    exact = solve_exact(inst, time_limit_s=30)
    assert exact.status == "optimal"
    assert a.surviving_value <= exact.surviving_value * 1.001
    assert b.surviving_value <= exact.surviving_value * 1.001


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2 2\n1\n1\n", "line 1: expected 3 numbers"),
        ("1 2 1\n5\n", "expected 5 non-empty lines"),
        ("1 2 1\n5\nx\n0 0 0.5\n0 1 0.5\n", "line 3: expected float"),
        ("1 2 1\n5\n6\n0 0 1.5\n0 1 0.5\n", "line 4: probability must be in"),
        ("1 2 1\n5\n6\n0 0 nan\n0 1 0.5\n", "line 4: values must be finite"),
        ("1 2 1\n5\n6\n0 0 0.5\n0 0 0.5\n", "no probability given for weapon 0, target 1"),
        ("1 2 1\n5\n6\n0 0 0.5\n3 1 0.5\n", r"line 5: index \(3.0, 1.0\) outside 1 x 2"),
    ],
)
def test_malformed_instance_files(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        read_wta(f)


@pytest.mark.skipif(not ANDERSEN.exists(), reason="../shared/benchmarks/wta not present")
def test_reads_the_published_instance_and_fast_reaches_its_optimum() -> None:
    inst = read_wta(ANDERSEN / "data" / "wta_50x100x1.txt")
    assert inst.shape == (50, 100)
    assert (inst.count == 1).all()
    sol = solve_fast(inst, time_limit_s=0.2)
    assert sol.surviving_value == pytest.approx(1734.302278, rel=1e-8)


def test_cli_prints_one_json_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shorad.cli import app

    f = tmp_path / "tiny.txt"
    f.write_text(
        "2 4 1\n10\n20\n30\n40\n"
        + "".join(f"{i} {j} {0.1 + 0.2 * ((i + j) % 4)}\n" for i in range(2) for j in range(4)),
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["wta", str(f), "--method", "exact", "--time-limit", "10"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["status"] == "optimal"
    assert set(out) >= {"surviving_value", "bound", "seconds", "status"}
    assert out["bound"] <= out["surviving_value"] + 1e-9
    res = CliRunner().invoke(app, ["wta", str(tmp_path / "nope.txt")])
    assert res.exit_code == 2


def test_vlns_round_with_second_slots_never_worsens() -> None:
    from shorad.c2.wta import _assignment_construction, _vlns_round

    g = np.random.default_rng(3)
    inst = WtaInstance.create(g.uniform(1, 100, 12), g.uniform(0.05, 0.9, (6, 12)), 3)
    x = _assignment_construction(inst)
    f = surviving_value(inst, x)
    for _ in range(20):  # 18 units on 12 targets: second slots are offered
        x = _vlns_round(inst, x, g)
        check_feasible(inst, x)
        f_new = surviving_value(inst, x)
        assert f_new <= f * (1 + 1e-12)
        f = f_new


# --- Compiled cycle-cancelling kernel against its reference (scipy) ----------------------------


def _lsa_cost(cost: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment

    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].sum())


@pytest.mark.parametrize("kind", ["uniform", "ties", "rank_one", "padded"])
def test_lapjv_kernel_matches_scipy(kind: str) -> None:
    from shorad.c2._kernels import lapjv_kernel

    g = np.random.default_rng(11)
    for n in (1, 2, 3, 5, 8, 30, 120):
        for _ in range(15):
            if kind == "uniform":
                cost = g.uniform(-1.0, 1.0, (n, n))
            elif kind == "ties":
                cost = np.round(g.uniform(0.0, 3.0, (n, n)))
            elif kind == "rank_one":  # the VLNS round's shape: -s_j p_uj
                cost = -g.uniform(0, 100, n)[None, :] * g.uniform(0, 1, (n, n))
            else:  # rectangular made square by identical zero rows (how wta.py calls it)
                cost = np.zeros((n, n))
                rows = max(1, n // 2)
                cost[:rows] = -g.uniform(0, 1, (rows, n))
            col = lapjv_kernel(np.ascontiguousarray(cost))
            assert np.array_equal(np.sort(col), np.arange(n))  # a permutation
            assert_allclose(cost[np.arange(n), col].sum(), _lsa_cost(cost), rtol=1e-12, atol=1e-12)


def test_lapjv_kernel_equals_brute_force_on_small_padded_problems() -> None:
    from shorad.c2._kernels import lapjv_kernel

    g = np.random.default_rng(2)
    for _ in range(300):
        m = int(g.integers(1, 7))
        n = int(g.integers(1, m + 1))
        cost = np.zeros((m, m))
        cost[:n] = -g.uniform(size=(n, m))
        col = lapjv_kernel(cost)
        best = min(
            sum(cost[i, perm[i]] for i in range(m)) for perm in itertools.permutations(range(m))
        )
        assert cost[np.arange(m), col].sum() == pytest.approx(best, abs=1e-12)


def test_assignment_avoids_forbidden_entries_and_is_optimal() -> None:
    from shorad.c2.wta import _BIG, _assignment

    g = np.random.default_rng(4)
    for n, m in [(5, 6), (40, 44), (60, 200), (100, 100)]:
        cost = -g.uniform(0, 50, (n, m))
        cost[g.uniform(size=(n, m)) < 0.3] = _BIG
        cost[np.arange(n), np.arange(n)] = -g.uniform(0, 50, n)  # a feasible full matching
        rows, cols = _assignment(cost)
        assert np.array_equal(np.sort(rows), np.arange(n))
        assert len(set(cols.tolist())) == n
        assert (cost[rows, cols] < _BIG).all()
        assert_allclose(cost[rows, cols].sum(), _lsa_cost(cost), rtol=1e-10)


def _feasible_start(cost: np.ndarray, g: np.random.Generator) -> np.ndarray:
    """A random feasible matching (each row on a distinct allowed column)."""
    from scipy.optimize import linear_sum_assignment

    n = cost.shape[0]
    noise = np.where(cost < 1e17, g.uniform(size=cost.shape), 1e9)
    col = np.asarray(linear_sum_assignment(noise)[1], np.int64)
    assert (cost[np.arange(n), col] < 1e17).all()
    return col


@pytest.mark.parametrize("kind", ["uniform", "ties", "rank_one", "forbidden"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cancel_cycles_kernel_matches_scipy(kind: str, seed: int) -> None:
    from shorad.c2._kernels import cancel_cycles_kernel
    from shorad.c2.wta import _BIG

    g = np.random.default_rng(seed)
    for n, m in [(1, 1), (2, 3), (3, 3), (5, 8), (30, 30), (40, 52), (120, 160)]:
        for _ in range(6):
            if kind == "uniform":
                cost = g.uniform(-1.0, 1.0, (n, m))
            elif kind == "ties":
                cost = np.round(g.uniform(0.0, 3.0, (n, m)))
            elif kind == "rank_one":  # the VLNS round's shape: -s_j p_uj
                cost = -g.uniform(0, 100, m)[None, :] * g.uniform(0, 1, (n, m))
            else:
                cost = -g.uniform(0, 50, (n, m))
                cost[g.uniform(size=(n, m)) < 0.3] = _BIG
                cost[np.arange(n), g.permutation(m)[:n]] = -g.uniform(0, 50, n)
            start = _feasible_start(cost, g)
            every = np.zeros((n, 0), np.int64)
            col, optimal = cancel_cycles_kernel(
                np.ascontiguousarray(cost), start, every, _BIG, 10**6, g.normal(0, 5, m + 1)
            )
            assert optimal
            assert len(set(col.tolist())) == n  # distinct columns
            assert (cost[np.arange(n), col] < _BIG).all()
            ref = _lsa_cost(np.where(cost < _BIG, cost, 1e9))
            assert_allclose(cost[np.arange(n), col].sum(), ref, rtol=1e-12, atol=1e-9)


def test_cancel_cycles_kernel_equals_brute_force_and_respects_candidates() -> None:
    from shorad.c2._kernels import cancel_cycles_kernel

    g = np.random.default_rng(2)
    for _ in range(300):
        m = int(g.integers(1, 7))
        n = int(g.integers(1, m + 1))
        cost = g.uniform(-1, 1, (n, m))
        start = g.permutation(m)[:n].astype(np.int64)
        # candidates: a random subset per row, plus its start column
        k = int(g.integers(1, m + 1))
        cand = np.array([g.permutation(m)[:k] for _ in range(n)], np.int64).reshape(n, k)
        cand = np.ascontiguousarray(np.concatenate([cand, start[:, None]], axis=1))
        col, optimal = cancel_cycles_kernel(cost, start, cand, 1e18, 10**6, np.zeros(m + 1))
        assert optimal
        allowed = np.zeros((n, m), bool)
        allowed[np.arange(n)[:, None], cand] = True
        assert allowed[np.arange(n), col].all()
        best = min(
            sum(cost[i, perm[i]] for i in range(n))
            for perm in itertools.permutations(range(m), n)
            if all(allowed[i, perm[i]] for i in range(n))
        )
        assert cost[np.arange(n), col].sum() == pytest.approx(best, abs=1e-12)
        assert cost[np.arange(n), col].sum() <= cost[np.arange(n), start].sum() + 1e-12


def test_vlns_round_solves_its_assignment_problem_optimally() -> None:
    """The round's plan is the one scipy's optimal assignment of the same matrix gives."""
    from scipy.optimize import linear_sum_assignment

    from shorad.c2 import wta

    g = np.random.default_rng(7)
    inst = WtaInstance.create(g.uniform(1, 100, 40), g.uniform(0.0, 0.95, (20, 40)), 2)
    x = wta._assignment_construction(inst)
    seen: dict[str, np.ndarray] = {}
    kernel = wta.cancel_cycles_kernel

    def spy(cost, col, cand, big, max_rounds, potential):  # type: ignore[no-untyped-def]
        out, optimal = kernel(cost, col, cand, big, 10**6, potential)  # to the end here
        seen["cost"], seen["col"] = cost, out
        return out, optimal

    try:
        wta.cancel_cycles_kernel = spy
        for _ in range(10):
            x = wta._vlns_round(inst, x, g)
            check_feasible(inst, x)
            cost = seen["cost"]
            r, c = linear_sum_assignment(np.where(cost < wta._BIG, cost, 1e9))
            got = cost[np.arange(cost.shape[0]), seen["col"]].sum()
            assert_allclose(got, cost[r, c].sum(), rtol=1e-12, atol=1e-12)
    finally:
        wta.cancel_cycles_kernel = kernel


@pytest.mark.skipif(not ANDERSEN.exists(), reason="../shared/benchmarks/wta not present")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_reaches_the_optimum_of_50x100x2_for_several_seeds(seed: int) -> None:
    import time

    inst = read_wta(ANDERSEN / "data" / "wta_50x100x2.txt")
    sol = solve_fast(
        inst, time_limit_s=0.5, rng=np.random.default_rng(seed), clock=time.process_time
    )
    check_feasible(inst, sol.x)
    assert sol.surviving_value == pytest.approx(123.838458, rel=1e-7)  # proven optimum


def test_cancel_cycles_kernel_reports_when_stopped_early() -> None:
    from shorad.c2._kernels import cancel_cycles_kernel

    g = np.random.default_rng(5)
    cost = -g.uniform(0, 1, (60, 80))
    start = g.permutation(80)[:60].astype(np.int64)  # far from optimal
    every = np.zeros((60, 0), np.int64)
    col, optimal = cancel_cycles_kernel(cost, start, every, 1e18, 0, np.zeros(81))
    assert not optimal
    assert len(set(col.tolist())) == 60
    assert cost[np.arange(60), col].sum() <= cost[np.arange(60), start].sum() + 1e-12
    col, optimal = cancel_cycles_kernel(cost, start, every, 1e18, 10**6, np.zeros(81))
    assert optimal
    assert_allclose(cost[np.arange(60), col].sum(), _lsa_cost(cost), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_cost_kernel_matches_numpy(seed: int) -> None:
    from shorad.c2._kernels import round_cost_kernel, round_cost_reference

    g = np.random.default_rng(seed)
    w, t, n, e = 12, 30, 25, 9
    p = g.uniform(0, 1, (w, t))
    p[g.uniform(size=(w, t)) < 0.2] = 0.0
    q = np.exp(np.log1p(-np.minimum(p, 1 - 1e-12)))
    args = (
        np.ascontiguousarray(q),
        np.ascontiguousarray(p > 0),
        g.integers(0, w, n).astype(np.int64),
        g.uniform(0, 50, t),
        g.uniform(size=t) < 0.8,
        g.permutation(t)[:e].astype(np.int64),
        g.uniform(size=t) < 0.7,
        g.permutation(t)[:n].astype(np.int64),
    )
    for own_first in (False, True):
        got = round_cost_kernel(*args, own_first, 1e18)
        want = round_cost_reference(*args, own_first, 1e18)
        assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moves_kernel_matches_numpy_local_search(seed: int) -> None:
    from shorad.c2 import wta

    g = np.random.default_rng(seed)
    for _ in range(5):
        w, t = int(g.integers(2, 12)), int(g.integers(2, 20))
        p = g.uniform(0.0, 0.95, (w, t))
        p[g.uniform(size=(w, t)) < 0.15] = 0.0
        p[:, 0] = g.uniform(0.1, 0.9, w)  # every type can fire at target 0 ...
        cap = g.integers(1, 4, t)
        count = g.integers(1, 4, w)
        cap[0] = int(count.sum())  # ... which has room for all
        inst = WtaInstance.create(g.uniform(1, 100, t), p, count, cap)
        x = wta._perturb(inst, wta._greedy(inst), g)
        check_feasible(inst, x)
        fast = wta._local_search(inst, x, math.inf, swaps=False)
        ref = wta._local_search(inst, x, math.inf, swaps=False, compiled=False)
        check_feasible(inst, fast)
        assert np.array_equal(fast, ref)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_kernel_matches_numpy(seed: int) -> None:
    from shorad.c2 import wta

    g = np.random.default_rng(seed)
    for k in range(20):
        w, t = int(g.integers(1, 10)), int(g.integers(1, 15))
        p = g.uniform(0.0, 0.95, (w, t))
        p[g.uniform(size=(w, t)) < 0.2] = 0.0
        if k % 4 == 0:
            p = np.round(p, 1)  # ties
        count = g.integers(0, 4, w)
        cap = g.integers(0, 4, t)
        inst = WtaInstance(g.uniform(1, 100, t), p, count, cap, bool(k % 2))
        assert np.array_equal(wta._greedy(inst), wta._greedy(inst, compiled=False))
