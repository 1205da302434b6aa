"""The horizon table that stops the line-of-sight walk early: kernel against its reference,
its quantisation, and line of sight with the table identical to the exact reference."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from numpy.typing import NDArray

from shorad.geo import Buildings, World, build_los_index, line_of_sight
from shorad.geo import los as los_module
from shorad.geo._kernels import horizon_table
from shorad.geo.los import (
    _MARGIN_M,
    _horizon_table_reference,
    _quantise_up,
    _segment_hits,
    _segment_hits_reference,
    _segments,
)


def hits(bld: Buildings, a: NDArray, b: NDArray, first_only: bool, **kw: float) -> NDArray:
    """Kernel result with an index that has the horizon table."""
    index = build_los_index(bld, accelerated=True, **kw)
    assert index.horizon.shape[0] > 0  # the table is really used
    aa, bb = _segments(a, b)
    return _segment_hits(bld, aa, bb, first_only=first_only, index=index)


@pytest.fixture(scope="module")
def monaco_rays(monaco: World) -> tuple[NDArray, NDArray]:
    """4,000 roof-to-sky segments (half of them reversed: walked from the far end)."""
    rng = np.random.default_rng(7)
    bld = monaco.buildings
    n = 4000
    k = rng.integers(0, len(bld), n)
    a = np.column_stack([bld.centroid_m[k], bld.height_m[k] + rng.uniform(-3.0, 3.0, n)])
    x0, y0, x1, y1 = bld.extent_m
    b = np.column_stack(
        [rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), rng.uniform(0.0, 300.0, n)]
    )
    flip = rng.random(n) < 0.5
    a2 = np.where(flip[:, None], b, a)
    b2 = np.where(flip[:, None], a, b)
    return a2, b2


@pytest.mark.parametrize("n_sectors", [8, 5, 16], ids=["8", "5", "16"])
@pytest.mark.parametrize("cell_m", [400.0, 130.0], ids=["coarse", "medium"])
def test_horizon_kernel_equals_reference(monaco: World, n_sectors: int, cell_m: float) -> None:
    index = build_los_index(monaco.buildings, cell_m=cell_m)
    slopes = np.arange(12, dtype=np.float64) ** 2 / 64.0
    got = horizon_table(
        index.bbox_m,
        index.height_m,
        _MARGIN_M,
        *index.grid_origin_m,
        index.cell_m,
        index.nx,
        index.ny,
        n_sectors,
        slopes,
    )
    ref = _horizon_table_reference(index, n_sectors, slopes)
    assert_array_equal(got, ref)
    # a horizon never exceeds the tallest roof and never grows with the slope
    assert np.nanmax(got[np.isfinite(got)]) <= monaco.buildings.height_m.max()
    with np.errstate(invalid="ignore"):
        step = np.diff(got, axis=2)
    assert np.all(step[np.isfinite(got[:, :, 1:])] <= 0.0)


def test_horizon_is_conservative_hand_case() -> None:
    """A tower 100 m east of a low roof: a ray towards it just under its top is blocked."""
    low = shapely.box(0.0, 0.0, 10.0, 10.0)
    tower = shapely.box(100.0, 0.0, 110.0, 10.0)
    bld = Buildings.from_polygons([low, tower], [10.0, 100.0])
    a = np.array([[5.0, 5.0, 12.0]] * 4)
    # slope to the tower's near wall top: (100 - 12) / 95 = 0.926
    b = np.array(
        [
            [200.0, 5.0, 12.0 + 0.92 * 195.0],  # under the top at the wall: blocked
            [200.0, 5.0, 12.0 + 0.93 * 195.0],  # over it: clear
            [5.0, 200.0, 13.0],  # north, nothing there: clear
            [-200.0, 5.0, 12.0],  # west, level: clear
        ]
    )
    expected = np.array([False, True, True, True])
    for cell_m in (7.0, 30.0, 500.0):
        assert_array_equal(np.isinf(hits(bld, a, b, True, cell_m=cell_m)), expected)
        assert_array_equal(np.isinf(hits(bld, b, a, True, cell_m=cell_m)), expected)
        assert_array_equal(np.isinf(hits(bld, a, b, False, cell_m=cell_m)), expected)


def test_kernel_with_horizon_equals_reference(
    monaco: World, monaco_rays: tuple[NDArray, NDArray]
) -> None:
    a, b = monaco_rays
    ref = _segment_hits_reference(monaco.buildings, a, b)
    assert 0.2 < np.isinf(ref).mean() < 0.9
    for cell_m in (None, 250.0):
        kw = {} if cell_m is None else {"cell_m": cell_m}
        assert_array_equal(hits(monaco.buildings, a, b, False, **kw), ref)
        assert_array_equal(np.isinf(hits(monaco.buildings, a, b, True, **kw)), np.isinf(ref))


def test_busy_cities_get_the_accelerated_index(
    monaco: World, monaco_rays: tuple[NDArray, NDArray], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = monaco_rays
    monkeypatch.setattr(los_module, "_ACCELERATE_AFTER_SEGMENTS", 10_000)
    bld = Buildings.from_polygons(monaco.buildings.polygons, monaco.buildings.height_m)
    plain = line_of_sight(bld, a, b)  # 4,000 segments asked: not yet
    assert "los_index_accelerated" not in bld._cache
    assert np.all(bld.los_index.inner_m[:, 2] > bld.los_index.inner_m[:, 3])
    line_of_sight(bld, a, b)
    fast = line_of_sight(bld, a, b)  # 12,000: built, and used from then on
    index = bld._cache["los_index_accelerated"]
    assert index.horizon.shape[0] > 0
    assert np.mean(index.inner_m[:, 2] <= index.inner_m[:, 3]) > 0.9
    assert_array_equal(fast, plain)
    assert_array_equal(line_of_sight(bld, a[:5], b[:5]), plain[:5])


def test_outer_and_inner_boxes(monaco: World) -> None:
    """Every footprint lies in its oriented box; every inner box lies in its footprint."""
    bld = monaco.buildings
    index = build_los_index(bld, accelerated=True)
    polys = np.asarray(bld.polygons, dtype=object)

    def boxes(rows: NDArray) -> NDArray:
        ux, uy, u0, u1, v0, v1 = rows.T
        corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
        ring = np.stack(
            [np.column_stack([p * ux - q * uy, p * uy + q * ux]) for p, q in corners], 1
        )
        return shapely.polygons(ring)

    outer = boxes(index.obb_m)
    assert np.all(shapely.contains(outer, polys))
    has = index.inner_m[:, 2] <= index.inner_m[:, 3]
    assert has.mean() > 0.9
    inner = boxes(index.inner_m[has])
    assert np.all(shapely.contains_properly(polys[has], shapely.buffer(inner, 0.015)))
    # inner boxes are large: most cover at least a third of their footprint
    assert np.median(shapely.area(inner) / shapely.area(polys[has])) > 0.33


def test_quantise_up() -> None:
    step = 170.0 / 254.0
    v = np.array([-np.inf, -5.0, 0.0, 1e-12, step, 3 * step, 10.0, 169.999, 170.0])
    q = _quantise_up(v, step)
    assert q.dtype == np.uint8
    assert np.all(q.astype(float) * step >= v)
    lower = (q.astype(float) - 1.0) * step
    assert np.all((q == 0) | (lower < v))
    assert_array_equal(q[:3], [0, 0, 0])


coords = st.integers(-3, 13).map(float)


@settings(max_examples=150, deadline=None)
@given(segments=st.lists(st.tuples(coords, coords, coords, coords, coords, coords), max_size=20))
def test_degenerate_rays_with_horizon(segments: list[tuple[float, ...]]) -> None:
    """Integer coordinates on two touching cubes: walls, corners, roof edges, both ways."""
    bld = Buildings.from_polygons(
        [shapely.box(0.0, 0.0, 5.0, 10.0), shapely.box(5.0, 0.0, 10.0, 10.0)], [10.0, 6.0]
    )
    if not segments:
        return
    s = np.array(segments, dtype=np.float64)
    a, b = s[:, :3], s[:, 3:]
    ref = _segment_hits_reference(bld, a, b)
    for cell_m in (1.0, 4.0):
        assert_array_equal(hits(bld, a, b, False, cell_m=cell_m), ref)
        assert_array_equal(np.isinf(hits(bld, a, b, True, cell_m=cell_m)), np.isinf(ref))


def test_inner_box_shortcut_keeps_the_convention() -> None:
    """Through the middle of a cube just under, at and just over its roof line."""
    bld = Buildings.from_polygons([shapely.box(0.0, 0.0, 10.0, 10.0)], 10.0)
    z = 10.0 - np.array([0.5, 5e-4, 2e-6, 7e-7, 5e-7, 0.0, -1e-3])
    a = np.column_stack([np.full(7, -5.0), np.full(7, 5.0), z])
    b = np.column_stack([np.full(7, 15.0), np.full(7, 5.0), z])
    expected = np.array([False, False, False, True, True, True, True])
    # a segment 5 mm long inside the inner box, well below the roof
    a = np.vstack([a, [5.0, 5.0, 5.0]])
    b = np.vstack([b, [5.005, 5.0, 5.0]])
    expected = np.append(expected, False)
    assert_array_equal(np.isinf(_segment_hits_reference(bld, a, b)), expected)
    for cell_m in (3.0, 50.0):
        assert_array_equal(np.isinf(hits(bld, a, b, True, cell_m=cell_m)), expected)
