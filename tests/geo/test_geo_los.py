"""Line of sight: hand cases, the numba kernel against the numpy reference and against shapely."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from numpy.typing import NDArray

from shorad.errors import GeometryError
from shorad.geo import LOS_TOL_M, Buildings, World, first_hit_distance, line_of_sight
from shorad.geo.los import (
    _first_hit_distance_reference,
    _line_of_sight_reference,
    _segment_hits,
    _segment_hits_reference,
    _segments,
    build_los_index,
)

Case = tuple[tuple[float, float, float], tuple[float, float, float], bool]


def check_cases(buildings: Buildings, cases: dict[str, Case]) -> None:
    """Kernel and numpy reference both give the expected clear/blocked answer."""
    a = np.array([c[0] for c in cases.values()], dtype=np.float64)
    b = np.array([c[1] for c in cases.values()], dtype=np.float64)
    expected = np.array([c[2] for c in cases.values()])
    got = line_of_sight(buildings, a, b)
    ref = _line_of_sight_reference(buildings, a, b)
    wrong = [name for name, g, e in zip(cases, got, expected, strict=True) if g != e]
    wrong_ref = [name for name, g, e in zip(cases, ref, expected, strict=True) if g != e]
    assert not wrong, f"kernel wrong on {wrong}"
    assert not wrong_ref, f"reference wrong on {wrong_ref}"
    # and the reverse direction gives the same answer
    assert_array_equal(line_of_sight(buildings, b, a), expected)


CUBE_CASES: dict[str, Case] = {
    "over-roof": ((-5, 5, 11), (15, 5, 11), True),
    "along-roof-level": ((-5, 5, 10), (15, 5, 10), True),
    "1mm-below-roof": ((-5, 5, 9.999), (15, 5, 9.999), False),
    "through-walls": ((-5, 5, 5), (15, 5, 5), False),
    "graze-wall-y0": ((-5, 0, 5), (15, 0, 5), True),
    "graze-wall-x10": ((10, -5, 5), (10, 15, 5), True),
    "graze-within-tol": ((-5, 1e-7, 5), (15, 1e-7, 5), True),
    "1mm-inside-wall": ((-5, 1e-3, 5), (15, 1e-3, 5), False),
    "touch-corner": ((5, 15, 5), (15, 5, 5), True),
    "diagonal-corner-to-corner": ((-5, -5, 5), (15, 15, 5), False),
    "touch-roof-edge": ((-5, 5, 5), (5, 5, 15), True),
    "clip-roof-edge": ((-5, 5, 4.99), (5, 5, 14.99), False),
    "end-inside": ((5, 5, 5), (50, 50, 50), False),
    "point-inside": ((5, 5, 5), (5, 5, 5), False),
    "point-on-roof": ((5, 5, 10), (5, 5, 10), True),
    "from-wall-outwards": ((0, 5, 5), (-10, 5, 5), True),
    "from-wall-inwards": ((0, 5, 5), (10, 5, 5), False),
    "roof-sensor-level": ((5, 5, 10), (50, 5, 10), True),
    "roof-sensor-down-over-edge": ((5, 5, 10), (50, 5, 0), False),
    "mast-2m-down-over-edge": ((5, 5, 12), (50, 5, 0), True),
    "roof-sensor-up": ((5, 5, 10), (50, 5, 30), True),
    "vertical-through-roof": ((5, 5, 20), (5, 5, 5), False),
    "vertical-to-roof": ((5, 5, 20), (5, 5, 10), True),
    "vertical-outside": ((20, 20, 0), (20, 20, 100), True),
    "vertical-on-wall": ((0, 5, 0), (0, 5, 20), True),
    "vertical-on-corner": ((10, 10, 0), (10, 10, 20), True),
    "near-vertical-inside": ((5, 5, 20), (5 + 1e-7, 5, 5), False),
    "underground-inside": ((2, 5, -1), (8, 5, -1), False),
    "far-away": ((100, 100, 0), (200, 150, 0), True),
}

L_CASES: dict[str, Case] = {
    "across-notch": ((12, 25, 5), (25, 12, 5), True),
    "touch-both-convex-corners": ((5, 25, 5), (25, 5, 5), True),
    "clip-upper-arm": ((5, 24, 5), (24, 5, 5), False),
    "through-reflex-vertex": ((-5, -5, 5), (25, 25, 5), False),
    "notch-to-reflex-vertex": ((15, 15, 5), (10, 10, 5), True),
    "notch-past-reflex-vertex": ((15, 15, 5), (9, 9, 5), False),
    "along-notch-wall": ((10, 10, 5), (20, 10, 5), True),
    "along-notch-wall-into-body": ((5, 10, 5), (25, 10, 5), False),
    "over-the-L": ((-5, -5, 11), (25, 25, 11), True),
}

COURTYARD_CASES: dict[str, Case] = {
    "vertical-into-courtyard": ((15, 15, 50), (15, 15, 0), True),
    "descend-into-courtyard": ((15, -10, 100), (15, 15, 0), True),
    "too-shallow-into-courtyard": ((15, -10, 30), (15, 15, 0), False),
    "inside-courtyard": ((12, 15, 5), (18, 15, 5), True),
    "courtyard-through-wall": ((15, 15, 5), (15, 25, 5), False),
    "along-inner-wall": ((10, 12, 5), (10, 18, 5), True),
    "across-block": ((-5, 15, 5), (35, 15, 5), False),
    "vertical-through-ring-roof": ((5, 5, 20), (5, 5, 5), False),
    "vertical-to-ring-roof": ((5, 5, 20), (5, 5, 10), True),
}


def test_cube_cases(cube: Buildings) -> None:
    check_cases(cube, CUBE_CASES)


def test_l_shape_cases(l_shape: Buildings) -> None:
    check_cases(l_shape, L_CASES)


def test_courtyard_cases(courtyard: Buildings) -> None:
    check_cases(courtyard, COURTYARD_CASES)


def test_first_hit_hand_cases(cube: Buildings) -> None:
    two = Buildings.from_polygons([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)], 10.0)
    a = np.array([[-5, 5, 5], [-10, 5, 20], [5, 5, 5], [40, 5, 5], [-5, 5, 11]], dtype=float)
    b = np.array([[15, 5, 5], [10, 5, 0], [50, 50, 50], [-10, 5, 5], [15, 5, 11]], dtype=float)
    d = first_hit_distance(two, a, b)
    # the descending ray is first LOS_TOL_M below the roof at z = 10 - 1e-6
    t_roof = (20.0 - (10.0 - LOS_TOL_M)) / 20.0
    expected = [5.0, t_roof * math.hypot(20.0, 20.0), 0.0, 10.0, math.inf]
    assert_allclose(d, expected, rtol=0, atol=1e-9)
    assert_allclose(_first_hit_distance_reference(two, a, b), expected, rtol=0, atol=1e-9)


def box_oracle(
    a: tuple[int, int, int], b: tuple[int, int, int], size: int = 10, h: int = 10
) -> float:
    """Exact first-hit parameter of segment a->b against the cube [0, size]^2 x (-inf, h)."""
    tol = Fraction(LOS_TOL_M)
    hcut = Fraction(h) - tol
    d = [bi - ai for ai, bi in zip(a, b, strict=True)]
    len_xy = math.hypot(d[0], d[1])
    if d[0] == 0 and d[1] == 0:
        if 0 < a[0] < size and 0 < a[1] < size and min(a[2], b[2]) < hcut:
            return 0.0 if a[2] < hcut else float((hcut - a[2]) / d[2])
        return math.inf
    u, v = Fraction(0), Fraction(1)
    for p, dp in ((a[0], d[0]), (a[1], d[1])):
        if dp == 0:
            if not 0 < p < size:
                return math.inf
            continue
        t1, t2 = sorted((Fraction(-p, dp), Fraction(size - p, dp)))
        u, v = max(u, t1), min(v, t2)
    if v <= u or float(v - u) * len_xy <= LOS_TOL_M:
        return math.inf
    zu, zv = a[2] + u * d[2], a[2] + v * d[2]
    if zu < hcut:
        return float(u)
    if zv < hcut:
        return float((hcut - a[2]) / d[2])
    return math.inf


coords = st.tuples(st.integers(-5, 15), st.integers(-5, 15), st.integers(0, 15))


@settings(max_examples=400, deadline=None)
@given(segments=st.lists(st.tuples(coords, coords), min_size=1, max_size=20))
def test_cube_against_exact_oracle(
    segments: list[tuple[tuple[int, int, int], tuple[int, int, int]]],
) -> None:
    """Integer coordinates hit every degenerate case: walls, corners, roof edges, vertical."""
    cube = Buildings.from_polygons([shapely.box(0.0, 0.0, 10.0, 10.0)], 10.0)
    a = np.array([s[0] for s in segments], dtype=np.float64)
    b = np.array([s[1] for s in segments], dtype=np.float64)
    t_exact = np.array([box_oracle(*s) for s in segments])
    aa, bb = _segments(a, b)
    t_kernel = _segment_hits(cube, aa, bb, first_only=False)
    t_ref = _segment_hits_reference(cube, a, b)
    assert_array_equal(np.isinf(t_kernel), np.isinf(t_exact))
    assert_array_equal(t_kernel, t_ref)
    finite = np.isfinite(t_exact)
    assert_allclose(t_kernel[finite], t_exact[finite], rtol=0, atol=1e-12)
    assert_array_equal(line_of_sight(cube, a, b), np.isinf(t_exact))


# -- Monaco --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def monaco_reference(
    monaco: World, monaco_segments: tuple[NDArray, NDArray]
) -> NDArray[np.float64]:
    """Reference first-hit parameters of the 20,000 Monaco segments."""
    return _segment_hits_reference(monaco.buildings, *monaco_segments)


def test_kernel_equals_reference_monaco(
    monaco: World, monaco_segments: tuple[NDArray, NDArray], monaco_reference: NDArray
) -> None:
    a, b = monaco_segments
    los = line_of_sight(monaco.buildings, a, b)
    assert_array_equal(los, np.isinf(monaco_reference))
    assert 0.2 < los.mean() < 0.8  # both outcomes well represented
    aa, bb = _segments(a, b)
    assert_array_equal(_segment_hits(monaco.buildings, aa, bb, first_only=False), monaco_reference)


@pytest.mark.parametrize("cell_m", [3.0, 17.0, 400.0], ids=["fine", "odd", "coarse"])
def test_kernel_independent_of_grid(
    monaco: World,
    monaco_segments: tuple[NDArray, NDArray],
    monaco_reference: NDArray,
    cell_m: float,
) -> None:
    index = build_los_index(monaco.buildings, cell_m=cell_m)
    aa, bb = _segments(*monaco_segments)
    t = _segment_hits(monaco.buildings, aa, bb, first_only=False, index=index)
    assert_array_equal(t, monaco_reference)
    los = np.isinf(_segment_hits(monaco.buildings, aa, bb, first_only=True, index=index))
    assert_array_equal(los, np.isinf(monaco_reference))


def test_first_hit_consistent_with_los(
    monaco: World, monaco_segments: tuple[NDArray, NDArray]
) -> None:
    a, b = monaco_segments
    d = first_hit_distance(monaco.buildings, a, b)
    los = line_of_sight(monaco.buildings, a, b)
    assert_array_equal(np.isinf(d), los)
    length = np.linalg.norm(b - a, axis=1)
    assert np.all(d[~los] >= 0.0)
    assert np.all(d[~los] <= length[~los] * (1 + 1e-12))
    # the first hit is a point inside a prism: at least LOS_TOL_M below some roof
    t = d[~los] / np.where(length[~los] > 0, length[~los], 1.0)
    p = a[~los] + t[:, None] * (b[~los] - a[~los])
    assert np.all(p[:, 2] < monaco.buildings.max_height_m)


def test_symmetric(monaco: World, monaco_segments: tuple[NDArray, NDArray]) -> None:
    a, b = monaco_segments
    assert_array_equal(
        line_of_sight(monaco.buildings, a, b), line_of_sight(monaco.buildings, b, a)
    )


def shapely_first_hit(
    buildings: Buildings, tree: shapely.STRtree, a: NDArray, b: NDArray
) -> float:
    """Independent brute force: exact 2-D intersection pieces from shapely, z at their ends."""
    d = b - a
    len_xy = math.hypot(d[0], d[1])
    best = math.inf
    if len_xy <= LOS_TOL_M:
        pt = shapely.Point(a[:2])
        for k in tree.query(pt):
            poly = buildings.polygons[k]
            hcut = buildings.height_m[k] - LOS_TOL_M
            if (
                poly.contains(pt)
                and poly.boundary.distance(pt) > LOS_TOL_M
                and min(a[2], b[2]) < hcut
            ):
                best = min(best, 0.0 if a[2] < hcut else (hcut - a[2]) / d[2])
        return best
    line = shapely.LineString([a[:2], b[:2]])
    for k in tree.query(line):
        hcut = buildings.height_m[k] - LOS_TOL_M
        inter = line.intersection(buildings.polygons[k])
        for piece in shapely.get_parts(inter):
            if piece.geom_type != "LineString" or piece.length <= LOS_TOL_M:
                continue
            ends = np.array([piece.coords[0], piece.coords[-1]])
            u, v = sorted(((ends - a[:2]) @ d[:2]) / len_xy**2)
            zu, zv = a[2] + u * d[2], a[2] + v * d[2]
            if zu < hcut:
                best = min(best, u)
            elif zv < hcut:
                best = min(best, (hcut - a[2]) / d[2])
    return best


def test_kernel_against_shapely_brute_force(
    monaco: World, monaco_segments: tuple[NDArray, NDArray]
) -> None:
    bld = monaco.buildings
    tree = shapely.STRtree(np.asarray(bld.polygons, dtype=object))
    a, b = (x[:400] for x in monaco_segments)
    expected = np.array(
        [shapely_first_hit(bld, tree, ai, bi) for ai, bi in zip(a, b, strict=True)]
    )
    aa, bb = _segments(a, b)
    t = _segment_hits(bld, aa, bb, first_only=False)
    assert_array_equal(np.isinf(t), np.isinf(expected))
    assert 50 < np.isinf(expected).sum() < 350
    finite = np.isfinite(t)
    assert_allclose(t[finite], expected[finite], rtol=0, atol=1e-9)


def test_segments_along_footprint_edges(monaco: World, rng: np.random.Generator) -> None:
    """Degenerate input: segments exactly along real footprint edges, at mid-height."""
    bld = monaco.buildings
    e = rng.choice(bld.edge_building.size, 2000, replace=False)
    k = bld.edge_building[e]
    z = 0.5 * bld.height_m[k]
    a = np.column_stack([bld.edge_a_m[e], z])
    b = np.column_stack([bld.edge_b_m[e], z])
    aa, bb = _segments(a, b)
    assert_array_equal(
        _segment_hits(bld, aa, bb, first_only=False), _segment_hits_reference(bld, a, b)
    )
    # against its own building alone, a segment along one of its walls is grazing: clear
    for i in range(0, 2000, 40):
        own = Buildings.from_polygons([bld.polygons[k[i]]], bld.height_m[k[i]])
        assert line_of_sight(own, a[i], b[i])[0], f"edge {e[i]} of building {k[i]}"
    # and diagonals between vertices of the same footprint agree with the reference
    other = rng.choice(bld.edge_building.size, 2000, replace=False)
    same = bld.edge_building[other] == k
    a2 = np.column_stack([bld.edge_a_m[e], z])
    b2 = np.column_stack([np.where(same[:, None], bld.edge_b_m[other], bld.edge_b_m[e]), z])
    aa, bb = _segments(a2, b2)
    assert_array_equal(
        _segment_hits(bld, aa, bb, first_only=False), _segment_hits_reference(bld, a2, b2)
    )


def test_broadcast_and_validation(cube: Buildings) -> None:
    sensor = np.array([5.0, 5.0, 12.0])
    targets = np.array([[50.0, 5.0, 0.0], [5.0, 50.0, 30.0], [-50.0, -50.0, 0.0]])
    assert_array_equal(line_of_sight(cube, sensor, targets), [True, True, True])
    assert line_of_sight(cube, sensor, targets[0]).shape == (1,)
    assert first_hit_distance(cube, targets, sensor).shape == (3,)
    with pytest.raises(ValueError, match="a_m"):
        line_of_sight(cube, np.zeros((3, 2)), targets)
    with pytest.raises(GeometryError):
        line_of_sight(cube, [np.nan, 0.0, 0.0], targets)
    empty = Buildings.from_polygons([], [])
    assert_array_equal(line_of_sight(empty, sensor, targets), [True, True, True])
    assert_array_equal(_line_of_sight_reference(empty, sensor, targets), [True, True, True])
    assert line_of_sight(cube, np.zeros((0, 3)), np.zeros((0, 3))).shape == (0,)
