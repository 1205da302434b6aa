"""Origin-grouped line of sight: the per-origin horizon kernel against its reference, and
grouped answers identical to ungrouped ones and to the exact reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from numpy.typing import NDArray

from shorad.geo import LOS_TOL_M, Buildings, World, build_los_index, line_of_sight
from shorad.geo import los as los_module
from shorad.geo._kernels import (
    _level_down,
    _level_up,
    _slope_levels,
    origin_blockers,
    origin_horizon,
    sector_angles,
)
from shorad.geo.los import (
    _MARGIN_M,
    _ORIGIN_BLOCK,
    _ORIGIN_CACHE_KEY,
    _origin_blockers_reference,
    _origin_horizon_reference,
    _segment_hits,
    _segment_hits_reference,
    _segments,
    _slope_levels_reference,
)
from shorad.geo.los import LosIndex as _LosIndex

GROUP_MIN = 32
"""Threshold of the origin grouping in these tests (the library's is larger)."""


@pytest.fixture(autouse=True)
def _small_group_min(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(los_module, "_ORIGIN_GROUP_MIN", GROUP_MIN)


def kernel_horizon(
    index: _LosIndex, p: NDArray, n_sectors: int, near: int, split_m: float
) -> tuple[NDArray, bool]:
    out = np.empty(n_sectors)
    stamp = np.full(index.height_m.shape[0], -1, dtype=np.int64)
    ok = origin_horizon(
        *p,
        _MARGIN_M,
        index.edges_m,
        index.edge_start,
        index.height_m,
        *index.grid_origin_m,
        index.cell_m,
        index.nx,
        index.ny,
        index.cell_start,
        index.cell_items,
        index.cell_max_height_m,
        index.block_hmax_m,
        _ORIGIN_BLOCK,
        split_m,
        near,
        stamp,
        1,
        out,
    )
    return out, ok


def origins(bld: Buildings, rng: np.random.Generator, m: int) -> NDArray:
    """Rooftop points (masts -3, 0, 0.5, 2 m) and points anywhere around the city."""
    k = rng.integers(0, len(bld), m)
    mast = rng.choice([-3.0, 0.0, 0.5, 2.0], m)
    roofs = np.array([bld.roof_point(i, h) for i, h in zip(k, mast, strict=True)])
    x0, y0, x1, y1 = bld.extent_m
    free = np.column_stack(
        [
            rng.uniform(x0 - 300, x1 + 300, m // 3),
            rng.uniform(y0 - 300, y1 + 300, m // 3),
            rng.uniform(0.0, 200.0, m // 3),
        ]
    )
    return np.vstack([roofs, free])


@pytest.mark.parametrize(
    ("n_sectors", "near", "split_cells", "cell_m"),
    [(128, 2, 8.0, None), (64, 1, 4.0, None), (5, 0, 0.0, 60.0), (16, 3, 20.0, 25.0)],
    ids=["default", "small", "odd-sectors", "fine-grid"],
)
def test_origin_horizon_kernel_equals_reference(
    monaco: World, n_sectors: int, near: int, split_cells: float, cell_m: float | None
) -> None:
    bld = monaco.buildings
    index = build_los_index(bld, cell_m=cell_m)
    rng = np.random.default_rng(11)
    with_horizon = 0
    for p in origins(bld, rng, 90):
        got, ok = kernel_horizon(index, p, n_sectors, near, split_cells * index.cell_m)
        ref, ok_ref = _origin_horizon_reference(
            index, p, n_sectors, near, split_cells * index.cell_m
        )
        assert ok == ok_ref
        assert_array_equal(got, ref)
        with_horizon += ok
    assert with_horizon > 40


def test_origin_horizon_is_conservative(monaco: World) -> None:
    """Rays from an origin above its horizon are clear by the exact reference; many are."""
    bld = monaco.buildings
    index = build_los_index(bld)
    rng = np.random.default_rng(5)
    n_sectors = 128
    cleared = 0
    for p in origins(bld, rng, 40):
        hz, ok = kernel_horizon(index, p, n_sectors, 2, 8 * index.cell_m)
        if not ok:
            continue
        m = 200
        x0, y0, x1, y1 = bld.extent_m
        b = np.column_stack(
            [rng.uniform(x0, x1, m), rng.uniform(y0, y1, m), p[2] + rng.uniform(0.0, 300.0, m)]
        )
        d = b - p
        ang = los_module._pseudo_angle_reference(d[:, 0], d[:, 1])
        sec = np.minimum((ang * n_sectors / 4).astype(int), n_sectors - 1)
        above = d[:, 2] > hz[sec] * np.hypot(d[:, 0], d[:, 1])
        ref = np.isinf(_segment_hits_reference(bld, np.broadcast_to(p, b.shape), b))
        assert np.all(ref[above])
        cleared += int(above.sum())
    assert cleared > 500


def kernel_blockers(index: _LosIndex, p: NDArray, n_sectors: int, near: int) -> NDArray:
    out = np.empty((n_sectors, 2))
    origin_blockers(
        *p,
        LOS_TOL_M,
        _MARGIN_M,
        *index.grid_origin_m,
        index.cell_m,
        index.nx,
        index.ny,
        index.cell_start,
        index.cell_items,
        index.height_m,
        index.disc_m,
        index.inner_m,
        near,
        sector_angles(n_sectors),
        out,
    )
    return out


@pytest.mark.parametrize(("n_sectors", "near"), [(128, 1), (37, 2)], ids=["default", "odd"])
def test_origin_blockers_kernel_equals_reference(monaco: World, n_sectors: int, near: int) -> None:
    bld = monaco.buildings
    index = build_los_index(bld, accelerated=True)
    assert np.mean(index.disc_m[:, 2] > 0.0) > 0.9
    found = 0
    for p in origins(bld, np.random.default_rng(4), 90):
        got = kernel_blockers(index, p, n_sectors, near)
        ref = _origin_blockers_reference(index, p, sector_angles(n_sectors), near)
        assert_array_equal(np.isfinite(got), np.isfinite(ref))
        fin = np.isfinite(got)
        assert_allclose(got[fin], ref[fin], rtol=1e-12, atol=0.0)
        found += int(fin[:, 0].sum())
    assert found > 200


def test_origin_blockers_are_sure(monaco: World) -> None:
    """Rays from an origin under a sure blocker's slope and longer than its length are
    blocked by the exact reference; and the discs lie inside their footprints."""
    bld = monaco.buildings
    index = build_los_index(bld, accelerated=True)
    has = index.disc_m[:, 2] > 0.0
    discs = shapely.buffer(shapely.points(index.disc_m[has, :2]), index.disc_m[has, 2] + 0.015)
    polys = np.asarray(bld.polygons, dtype=object)[has]
    assert np.all(shapely.contains_properly(polys, discs))
    rng = np.random.default_rng(8)
    n_sectors = 128
    blocked = 0
    for p in origins(bld, rng, 60):
        blk = kernel_blockers(index, p, n_sectors, 1)
        m = 300
        ang = rng.uniform(-np.pi, np.pi, m)
        length = rng.uniform(1.0, 150.0, m)
        slope = rng.uniform(0.0, 3.0, m)
        b = p + np.column_stack([np.cos(ang) * length, np.sin(ang) * length, slope * length])
        d = b - p
        pa = los_module._pseudo_angle_reference(d[:, 0], d[:, 1])
        sec = np.minimum((pa * n_sectors / 4).astype(int), n_sectors - 1)
        lxy = np.hypot(d[:, 0], d[:, 1])
        sure = (d[:, 2] < blk[sec, 0] * lxy) & (lxy > blk[sec, 1])
        ref = np.isinf(_segment_hits_reference(bld, np.broadcast_to(p, b.shape), b))
        assert not np.any(ref[sure])
        blocked += int(sure.sum())
    assert blocked > 300


def test_slope_levels() -> None:
    dec = _slope_levels()
    assert_array_equal(dec, _slope_levels_reference())
    v = np.concatenate(
        [
            [-np.inf, np.inf, 1e-300, 1e-5, 239.0, 241.0, 1e9],
            dec[1:255],
            np.geomspace(1e-4, 300, 999),
        ]
    )
    up = np.array([_level_up(x, dec) for x in v])
    down = np.array([_level_down(x, dec) for x in v])
    assert np.all(dec[up] >= v)
    assert np.all((up == 0) | (dec[np.maximum(up - 1, 0)] < v))
    assert np.all(dec[down] <= v)
    assert np.all((down == 255) | (dec[np.minimum(down + 1, 255)] > v))
    assert up[0] == 0
    assert up[1] == 255
    assert down[0] == 0
    assert down[1] == 255


def grouped_rays(
    bld: Buildings, rng: np.random.Generator, n_origins: int, per: int
) -> tuple[NDArray, NDArray]:
    """``per`` segments from each of ``n_origins`` points (either end first), shuffled."""
    o = origins(bld, rng, n_origins)
    x0, y0, x1, y1 = bld.extent_m
    a = np.repeat(o, per, axis=0)
    n = a.shape[0]
    b = np.column_stack(
        [rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), rng.uniform(0.0, 400.0, n)]
    )
    # some short and some near-vertical ones from the same points
    short = rng.random(n) < 0.2
    b[short] = a[short] + rng.normal(size=(int(short.sum()), 3)) * [30.0, 30.0, 20.0]
    vert = rng.random(n) < 0.03
    b[vert, :2] = a[vert, :2] + rng.normal(size=(int(vert.sum()), 2)) * 1e-7
    flip = rng.random(n) < 0.1
    a2, b2 = np.where(flip[:, None], b, a), np.where(flip[:, None], a, b)
    order = rng.permutation(n)
    return a2[order], b2[order]


def test_grouped_equals_ungrouped_and_reference(monaco: World) -> None:
    bld = monaco.buildings
    a, b = grouped_rays(bld, np.random.default_rng(3), 30, 3 * GROUP_MIN)
    ref = _segment_hits_reference(bld, a, b)
    assert 0.1 < np.isinf(ref).mean() < 0.95
    aa, bb = _segments(a, b)
    for accelerated in (False, True):
        index = build_los_index(bld, accelerated=accelerated)
        for first_only in (True, False):
            got = _segment_hits(bld, aa, bb, first_only, index, group=True)
            plain = _segment_hits(bld, aa, bb, first_only, index, group=False)
            if first_only:
                assert_array_equal(np.isinf(got), np.isinf(ref))
                assert_array_equal(np.isinf(plain), np.isinf(ref))
            else:
                assert_array_equal(got, ref)
                assert_array_equal(plain, ref)


def test_city_keeps_origin_horizons_between_calls(monaco: World) -> None:
    """Small calls from one mount build its horizon once; answers never change."""
    bld = Buildings.from_polygons(monaco.buildings.polygons, monaco.buildings.height_m)
    a, b = grouped_rays(bld, np.random.default_rng(9), 6, 200)
    expected = np.isinf(_segment_hits_reference(bld, a, b))
    for s in range(0, a.shape[0], 7):  # many small calls, counts add up across them
        assert_array_equal(line_of_sight(bld, a[s : s + 7], b[s : s + 7]), expected[s : s + 7])
    _slots, _maps, state = bld._cache[_ORIGIN_CACHE_KEY]
    assert state[1] >= 3  # horizons were built and kept
    assert_array_equal(line_of_sight(bld, a, b), expected)
    # another thread holding the city's tables: this call uses its own, same answers
    lock = bld._cache[los_module._ORIGIN_LOCK_KEY]
    assert isinstance(lock, type(threading.Lock()))
    with lock:
        assert_array_equal(line_of_sight(bld, a, b), expected)


Case = tuple[tuple[float, float, float], tuple[float, float, float], bool]
HAND_CASES: dict[str, list[Case]] = {
    "cube": [
        ((-5, 5, 10), (15, 5, 10), True),  # along the roof level
        ((-5, 0, 5), (15, 0, 5), True),  # grazing a wall
        ((5, 15, 5), (15, 5, 5), True),  # touching a corner
        ((-5, 5, 5), (5, 5, 15), True),  # touching the roof edge
        ((-5, 5, 4.99), (5, 5, 14.99), False),  # clipping it
        ((5, 5, 10), (50, 5, 10), True),  # roof sensor, level
        ((5, 5, 12), (50, 5, 0), True),  # 2 m mast, down over the edge
        ((5, 5, 12), (50, 5, 12.5), True),  # 2 m mast, up
        ((5, 5, 10), (50, 5, 30), True),  # roof sensor, up
        ((0, 5, 5), (-10, 5, 5), True),  # from a wall outwards
        ((0, 5, 5), (10, 5, 5), False),  # from a wall inwards
    ],
    "l_shape": [
        ((12, 25, 5), (25, 12, 5), True),
        ((5, 25, 5), (25, 5, 5), True),
        ((15, 15, 5), (10, 10, 5), True),
        ((15, 15, 5), (9, 9, 5), False),
        ((10, 10, 5), (20, 10, 5), True),
        ((15, 15, 10), (40, 40, 11), True),
    ],
    "courtyard": [
        ((12, 15, 5), (18, 15, 5), True),
        ((15, 15, 5), (15, 25, 5), False),
        ((10, 12, 5), (10, 18, 5), True),
        ((15, 15, 5), (15, 40, 12), False),
        ((15, 15, 10.5), (15, 40, 12), True),
    ],
}


@pytest.mark.parametrize("name", ["cube", "l_shape", "courtyard"])
def test_grouped_hand_cases(name: str, request: pytest.FixtureRequest) -> None:
    """Grazing and touching cases, each from a start point repeated past the threshold."""
    bld: Buildings = request.getfixturevalue(name)
    rng = np.random.default_rng(1)
    for a0, b0, expected in HAND_CASES[name]:
        m = 2 * GROUP_MIN
        # the case's segment first and last among others from the same start point
        b = np.vstack([[b0], rng.uniform(-30, 60, (m, 3)), [b0]])
        a = np.broadcast_to(np.asarray(a0, dtype=np.float64), b.shape)
        aa, bb = _segments(a, b)
        ref = _segment_hits_reference(bld, aa, bb)
        assert np.isinf(ref[-1]) == expected
        for cell_m in (3.0, 40.0):
            index = build_los_index(bld, cell_m=cell_m, accelerated=True)
            assert_array_equal(_segment_hits(bld, aa, bb, False, index), ref)
            got = _segment_hits(bld, aa, bb, True, index)
            assert_array_equal(np.isinf(got), np.isinf(ref))


coords = st.integers(-3, 13).map(float)


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.tuples(coords, coords, coords), min_size=1, max_size=3),
    ends=st.lists(st.tuples(coords, coords, coords), min_size=1, max_size=40),
)
def test_grouped_degenerate_rays(
    starts: list[tuple[float, ...]], ends: list[tuple[float, ...]]
) -> None:
    """Integer points on two touching cubes, each start repeated past the threshold."""
    bld = Buildings.from_polygons(
        [shapely.box(0.0, 0.0, 5.0, 10.0), shapely.box(5.0, 0.0, 10.0, 10.0)], [10.0, 6.0]
    )
    e = np.array(ends, dtype=np.float64)
    reps = -(-(GROUP_MIN + 5) // e.shape[0])
    a = np.repeat(np.array(starts, dtype=np.float64), reps * e.shape[0], axis=0)
    b = np.tile(e, (len(starts) * reps, 1))
    ref = _segment_hits_reference(bld, a, b)
    aa, bb = _segments(a, b)
    for cell_m in (1.0, 4.0):
        index = build_los_index(bld, cell_m=cell_m, accelerated=True)
        assert_array_equal(_segment_hits(bld, aa, bb, False, index), ref)
        assert_array_equal(np.isinf(_segment_hits(bld, aa, bb, True, index)), np.isinf(ref))
