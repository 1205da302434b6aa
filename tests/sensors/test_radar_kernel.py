"""The compiled radar scan against :meth:`Radar.scan`: same detections, same draws, bit for bit."""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import pytest
import shapely
from numba import njit
from numpy.testing import assert_array_equal
from numpy.typing import NDArray

from shorad.geo import World
from shorad.geo.los import LosKernelArgs, los_kernel_args
from shorad.scenario import demo_scenario_path, parse_scenario
from shorad.scenario.load import read_scenario_data
from shorad.sensors import Detections, Radar, RadarConfig, Targets, wrap_2pi
from shorad.sensors._radar_kernel import (
    _DOT_ORDER,
    _NORM_ORDER,
    _SUM_0_12,
    _SUM_01_2,
    _SUM_02_1,
    RadarKernelArgs,
    _py_mod,
    _sum3_order,
    _wrap_2pi,
    radar_kernel_args,
    radar_scan_kernel,
)
from shorad.sim.engine import simulate
from shorad.testing import prism_world

# --- helpers --------------------------------------------------------------------------------


def _cfg(**kw: Any) -> RadarConfig:
    base = RadarConfig(
        name="t",
        max_range_m=5000.0,
        min_range_m=50.0,
        ref_range_m=2500.0,
        ref_snr_db=18.0,
        ref_rcs_dbsm=-20.0,
        pfa=1e-6,
        swerling=1,
        scan_period_s=1.0,
        min_el_rad=math.radians(-20),
        max_el_rad=math.radians(60),
        sigma_range_m=5.0,
        sigma_az_rad=math.radians(0.5),
        sigma_el_rad=math.radians(1.0),
        clutter_per_scan=3.0,
    )
    return dataclasses.replace(base, **kw)


def _generator(state: dict[str, Any]) -> np.random.Generator:
    """A fresh generator of the same bit generator type, set to ``state``."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _assert_same(
    p: RadarKernelArgs,
    los_args: LosKernelArgs,
    t_s: float,
    targets: Targets,
    state: dict[str, Any],
    expected: Detections,
    state_after: dict[str, Any],
) -> None:
    """Replay one scan through the kernel from ``state``; outputs and final state equal."""
    gen = _generator(state)
    z, R, truth_id = radar_scan_kernel(
        p,
        los_args,
        t_s,
        targets.pos_m,
        targets.vel_mps,
        targets.rcs_dbsm,
        targets.threat_id,
        gen,
    )
    assert_array_equal(z, expected.z)
    assert_array_equal(R, expected.R)
    assert_array_equal(truth_id, expected.truth_id)
    assert z.dtype == np.float64
    assert R.dtype == np.float64
    assert truth_id.dtype == np.int64
    assert gen.bit_generator.state == state_after


def _scan_both(
    radar: Radar, world: World, los_args: LosKernelArgs, targets: Targets, seed: int
) -> Detections:
    """Scan with :meth:`Radar.scan` and the kernel from the same state; assert equal."""
    rng = np.random.default_rng(seed)
    state = copy.deepcopy(rng.bit_generator.state)
    dets = radar.scan(
        world,
        2.5,
        targets.pos_m,
        targets.rcs_dbsm,
        targets.threat_id,
        rng=rng,
        vel_mps=targets.vel_mps,
    )
    _assert_same(
        radar_kernel_args(radar), los_args, 2.5, targets, state, dets, rng.bit_generator.state
    )
    return dets


def _targets(pos_m: NDArray[np.float64], rng: np.random.Generator) -> Targets:
    n = pos_m.shape[0]
    return Targets(
        pos_m=np.ascontiguousarray(pos_m, dtype=np.float64),
        vel_mps=rng.normal(0.0, 30.0, (n, 3)),
        rcs_dbsm=rng.uniform(-35.0, 5.0, n),
        emits=np.zeros(n, np.bool_),
        threat_id=np.arange(n, dtype=np.int64) * 3 + 1,
    )


def _random_targets(rng: np.random.Generator, n: int) -> Targets:
    """``n`` targets around the radar, half of the scans with a tight cluster (merging)."""
    pos = np.empty((n, 3))
    pos[:, :2] = rng.uniform(-4500.0, 4500.0, (n, 2))
    pos[:, 2] = rng.uniform(-50.0, 700.0, n)
    if n > 2 and rng.uniform() < 0.5:
        k = n // 2
        pos[:k] = pos[0] + rng.normal(0.0, 8.0, (k, 3))
    return _targets(pos, rng)


@pytest.fixture(scope="module")
def city() -> tuple[World, LosKernelArgs]:
    """Two blocks and a tower that hide part of the sky from a radar near the origin."""
    world = prism_world(
        [
            shapely.box(300.0, -150.0, 420.0, 150.0),
            shapely.box(-600.0, 250.0, -350.0, 700.0),
            shapely.Polygon([(100.0, -900.0), (260.0, -880.0), (180.0, -700.0)]),
        ],
        60.0,
    )
    return world, los_kernel_args(world.buildings)


# --- (a) the inputs of real runs --------------------------------------------------------------


def _record_demo(
    monkeypatch: pytest.MonkeyPatch, spec: Any, seed: int
) -> list[tuple[Radar, float, Targets, dict[str, Any], Detections, dict[str, Any]]]:
    """Run ``spec`` and keep every radar scan's inputs, generator states and output."""
    calls: list[tuple[Radar, float, Targets, dict[str, Any], Detections, dict[str, Any]]] = []
    original = Radar.scan_targets

    def recording(
        self: Radar,
        world: World,
        t_s: float,
        targets: Targets,
        *,
        rng: np.random.Generator,
        visibility: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None,
    ) -> Detections:
        before = copy.deepcopy(rng.bit_generator.state)
        kept = copy.deepcopy(targets)
        out = original(self, world, t_s, targets, rng=rng, visibility=visibility)
        calls.append((self, float(t_s), kept, before, out, copy.deepcopy(rng.bit_generator.state)))
        return out

    monkeypatch.setattr(Radar, "scan_targets", recording)
    simulate(spec, seed)
    monkeypatch.undo()
    return calls


def _replay_run(spec: Any, calls: list[Any]) -> tuple[int, int, int]:
    los_args = los_kernel_args(spec.world.buildings)
    args: dict[int, RadarKernelArgs] = {}
    n_targets = n_dets = n_clutter = 0
    for radar, t_s, targets, before, out, after in calls:
        p = args.setdefault(id(radar), radar_kernel_args(radar))
        _assert_same(p, los_args, t_s, targets, before, out, after)
        n_targets += len(targets)
        n_dets += int(np.count_nonzero(out.truth_id >= 0))
        n_clutter += int(np.count_nonzero(out.truth_id < 0))
    return n_targets, n_dets, n_clutter


def test_kernel_replays_every_scan_of_the_demo_run(
    monkeypatch: pytest.MonkeyPatch, demo_spec: Any
) -> None:
    calls = _record_demo(monkeypatch, demo_spec, 1)
    n_targets, n_dets, n_clutter = _replay_run(demo_spec, calls)
    assert len(calls) > 1000
    assert n_targets > 0
    assert n_dets > 0
    assert n_clutter > 0


def test_kernel_replays_a_doppler_run_with_every_radar_option() -> None:
    # the demo with every unit carrying doppler_radar: range rate, thermal false alarms,
    # resolution merging and horizon loss, with the engine's own inputs and generators
    path = demo_scenario_path()
    data = read_scenario_data(path)
    for unit in data["units"]:
        unit["sensor"] = "doppler_radar"
    data["duration_s"] = 300
    spec = parse_scenario(data, base_dir=path.parent, source=str(path))
    with pytest.MonkeyPatch.context() as mp:
        calls = _record_demo(mp, spec, 3)
    radar_cfg = calls[0][0].config
    assert radar_cfg.sigma_range_rate_mps > 0.0
    assert radar_cfg.range_resolution_m > 0.0
    assert radar_cfg.multipath_loss_db > 0.0
    assert radar_cfg.n_resolution_cells > 0.0
    n_targets, n_dets, n_clutter = _replay_run(spec, calls)
    assert n_targets > 0
    assert n_dets > 0
    assert n_clutter > 0


# --- (b) synthetic scenes -------------------------------------------------------------------

OPTIONS: dict[str, dict[str, Any]] = {
    "swerling1": {},
    "swerling0": {"swerling": 0},
    "multipath": {"multipath_loss_db": 6.0, "multipath_el_scale_rad": 0.05},
    "doppler": {"sigma_range_rate_mps": 0.5, "clutter_max_range_rate_mps": 40.0},
    "merge": {"range_resolution_m": 30.0, "az_resolution_rad": math.radians(3.0)},
    "no-clutter": {"clutter_per_scan": 0.0},
    "thermal-false-alarms": {"clutter_per_scan": 0.5, "n_resolution_cells": 2e6},
    "heavy-clutter": {"clutter_per_scan": 14.0},  # Poisson mean >= 10: the PTRS branch
    "everything-swerling0": {
        "swerling": 0,
        "multipath_loss_db": 8.0,
        "multipath_el_scale_rad": 0.03,
        "sigma_range_rate_mps": 0.3,
        "range_resolution_m": 20.0,
        "az_resolution_rad": math.radians(2.0),
        "n_resolution_cells": 9e5,
        "clutter_per_scan": 0.0,
    },
}


@pytest.mark.parametrize("options", list(OPTIONS.values()), ids=list(OPTIONS))
def test_kernel_equals_scan_on_random_scenes(
    options: dict[str, Any], city: tuple[World, LosKernelArgs]
) -> None:
    world, los_args = city
    radar = Radar(_cfg(**options), 4, np.array([12.0, -30.0, 35.0]))
    rng = np.random.default_rng(2024)
    n_dets = 0
    for trial in range(60):
        targets = _random_targets(rng, int(rng.integers(0, 45)))
        n_dets += len(_scan_both(radar, world, los_args, targets, trial))
    assert n_dets > 0


def test_kernel_with_zero_targets_and_zero_clutter(city: tuple[World, LosKernelArgs]) -> None:
    world, los_args = city
    rng = np.random.default_rng(1)
    empty = _targets(np.zeros((0, 3)), rng)
    for options in ({}, {"clutter_per_scan": 0.0}, {"sigma_range_rate_mps": 1.0}):
        radar = Radar(_cfg(**options), 0, np.zeros(3))
        for seed in range(5):
            _scan_both(radar, world, los_args, empty, seed)
    none = _scan_both(Radar(_cfg(clutter_per_scan=0.0), 0, np.zeros(3)), world, los_args, empty, 9)
    assert len(none) == 0


def test_kernel_when_every_target_is_hidden(city: tuple[World, LosKernelArgs]) -> None:
    world, los_args = city
    rng = np.random.default_rng(2)
    # behind the first block (seen from the origin, low), beyond range, below the elevation
    # limit, too close
    pos = np.array(
        [
            [900.0, 0.0, 20.0],
            [800.0, 50.0, 10.0],
            [7000.0, 0.0, 100.0],
            [200.0, 0.0, -300.0],
            [10.0, 10.0, 5.0],
        ]
    )
    for options in ({}, {"swerling": 0}, {"sigma_range_rate_mps": 0.5}, OPTIONS["merge"]):
        radar = Radar(_cfg(clutter_per_scan=0.0, **options), 1, np.array([0.0, 0.0, 5.0]))
        dets = _scan_both(radar, world, los_args, _targets(pos, rng), 3)
        assert len(dets) == 0


def test_kernel_merges_unresolved_targets(city: tuple[World, LosKernelArgs]) -> None:
    world, los_args = city
    radar = Radar(
        _cfg(range_resolution_m=15.0, az_resolution_rad=math.radians(2.0), clutter_per_scan=0.0),
        0,
        np.zeros(3),
    )
    pos = np.array([[0.0, 1000.0, 50.0], [0.0, 1005.0, 50.0], [-1000.0, 0.0, 50.0]])
    targets = dataclasses.replace(
        _targets(pos, np.random.default_rng(0)), rcs_dbsm=np.array([10.0, 0.0, 10.0])
    )
    dets = _scan_both(radar, world, los_args, targets, 0)
    assert sorted(dets.truth_id.tolist()) == [1, 7]
    # equal strengths at one place: the stable order keeps the first of the two
    pos[1] = pos[0]
    same = dataclasses.replace(targets, pos_m=pos, rcs_dbsm=np.full(3, 10.0))
    dets = _scan_both(radar, world, los_args, same, 0)
    assert sorted(dets.truth_id.tolist()) == [1, 7]


@njit(cache=True)
def _scan_twice(
    p: RadarKernelArgs,
    los_args: LosKernelArgs,
    pos_m: NDArray[np.float64],
    vel_mps: NDArray[np.float64],
    rcs_dbsm: NDArray[np.float64],
    threat_id: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover - numba
    z1, _, _ = radar_scan_kernel(p, los_args, 0.0, pos_m, vel_mps, rcs_dbsm, threat_id, rng)
    z2, _, _ = radar_scan_kernel(p, los_args, 1.0, pos_m, vel_mps, rcs_dbsm, threat_id, rng)
    return z1, z2


def test_kernel_is_callable_from_compiled_code(city: tuple[World, LosKernelArgs]) -> None:
    world, los_args = city
    radar = Radar(_cfg(**OPTIONS["everything-swerling0"]), 2, np.array([5.0, 5.0, 30.0]))
    targets = _random_targets(np.random.default_rng(5), 30)
    rng = np.random.default_rng(8)
    gen = np.random.default_rng(8)
    z1, z2 = _scan_twice(
        radar_kernel_args(radar),
        los_args,
        targets.pos_m,
        targets.vel_mps,
        targets.rcs_dbsm,
        targets.threat_id,
        gen,
    )
    for z in (z1, z2):
        d = radar.scan(
            world,
            0.0,
            targets.pos_m,
            targets.rcs_dbsm,
            targets.threat_id,
            rng=rng,
            vel_mps=targets.vel_mps,
        )
        assert_array_equal(z, d.z)
    assert gen.bit_generator.state == rng.bit_generator.state


def test_radar_kernel_args_pack_the_configuration() -> None:
    radar = Radar(_cfg(**OPTIONS["everything-swerling0"]), 6, np.array([1.0, 2.0, 3.0]))
    p = radar_kernel_args(radar)
    assert isinstance(p, tuple)
    assert p.sensor_id == 6
    assert p.swerling == 0
    assert_array_equal(p.pos_m, [1.0, 2.0, 3.0])
    assert_array_equal(p.R3, radar.config.R[:3, :3])
    assert p.chndtr_x == -2.0 * math.log(1e-6)
    assert p.n_false == pytest.approx(0.9)
    # every radar gives the same field types (a homogeneous tuple in numba)
    other = radar_kernel_args(Radar(_cfg(clutter_per_scan=3), 0, np.zeros(3)))
    assert [type(v) for v in p] == [type(v) for v in other]


# --- the pieces that mirror numpy's rounding ------------------------------------------------


def test_summation_order_probe() -> None:
    def seq(r: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (r[:, 0] + r[:, 1]) + r[:, 2]
        return out

    def outer(r: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = (r[:, 0] + r[:, 2]) + r[:, 1]
        return out

    def inner(r: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = r[:, 0] + (r[:, 1] + r[:, 2])
        return out

    def wide(r: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = r.astype(np.longdouble).sum(axis=1).astype(np.float64) + 1.0
        return out

    assert _sum3_order(seq) == _SUM_01_2
    assert _sum3_order(outer) == _SUM_02_1
    assert _sum3_order(inner) == _SUM_0_12
    assert _sum3_order(wide) == -1
    # this numpy's orders were identified
    assert _NORM_ORDER >= 0
    assert _DOT_ORDER >= 0


def test_scalar_remainder_and_wrap_follow_numpy() -> None:
    rng = np.random.default_rng(4)
    a = np.concatenate(
        [
            rng.uniform(-20.0, 20.0, 2000),
            [0.0, -0.0, -1e-300, 1e-300, -1e-17, 2 * np.pi, -2 * np.pi, 4 * np.pi, np.pi],
        ]
    )
    two_pi = 2.0 * np.pi
    for x in a.tolist():
        want = np.float64(x) % two_pi
        got = _py_mod(x, two_pi)
        assert got == want
        assert math.copysign(1.0, got) == math.copysign(1.0, want)
    out = np.empty_like(a)
    _wrap_2pi(a, out)
    assert_array_equal(out, wrap_2pi(a))
