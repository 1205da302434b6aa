"""The compiled greedy C2 cycle against its numpy reference, bit for bit.

Every C2 cycle of simulated runs (demo and small scenarios, shoot-look-shoot and
shoot-shoot-look) is recorded from the reference engine and replayed through
:func:`shorad.c2._greedy_kernel.greedy_cycle_kernel`; synthetic scenes cover the edge cases
(no candidates, no free effector, nothing feasible, held tracks, line of sight, ties).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import shapely

from shorad.c2 import (
    Assignments,
    Doctrine,
    Effectors,
    EffectorState,
    EffectorType,
    GreedyAssigner,
    ThreatAssessment,
    evaluate_threats,
)
from shorad.c2._greedy_kernel import (
    _interp,
    greedy_cycle_kernel,
    greedy_kernel_args,
    greedy_kernel_supports,
)
from shorad.geo import World
from shorad.geo.los import los_kernel_args
from shorad.sim import engine
from shorad.testing import SMALL_SCENARIO, prism_world
from shorad.threats import Assets
from shorad.tracking import CONFIRMED, TENTATIVE, Tracks

_FIELDS = (
    "effector_id",
    "track_id",
    "fire_t_s",
    "rounds",
    "intercept_t_s",
    "aim_m",
    "pk_expected",
    "threat_track_id",
    "threat_value",
)


@dataclass
class _Cycle:
    tracks: Tracks
    assessment: ThreatAssessment
    state: EffectorState
    held: np.ndarray[Any, Any]
    orders: Assignments


def _record(spec: Any, seed: int, monkeypatch: pytest.MonkeyPatch) -> list[_Cycle]:
    """Every C2 cycle (inputs after prediction and the reference's outputs) of one run."""
    cycles: list[_Cycle] = []
    last: list[ThreatAssessment] = []

    def evaluate(tracks: Tracks, assets: Assets) -> ThreatAssessment:
        out = evaluate_threats(tracks, assets)
        last[:] = [out]
        return out

    assign = GreedyAssigner.assign

    def recording_assign(
        self: GreedyAssigner,
        tracks: Tracks,
        assessment: ThreatAssessment,
        effectors: Effectors,
        state: EffectorState,
        held: np.ndarray[Any, Any],
    ) -> Assignments:
        orders = assign(self, tracks, assessment, effectors, state, held)
        assert last
        assert last[0] is assessment
        cycles.append(_Cycle(tracks, assessment, state, held.copy(), orders))
        return orders

    with monkeypatch.context() as mp:
        mp.setattr(engine, "evaluate_threats", evaluate)
        mp.setattr(GreedyAssigner, "assign", recording_assign)
        engine.simulate(spec, seed)
    return cycles


def _run_kernel(
    c: tuple[Any, ...],
    los_args: tuple[Any, ...],
    tracks: Tracks,
    state: EffectorState,
    held: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], ...]:
    return greedy_cycle_kernel(  # type: ignore[no-any-return]
        c,
        los_args,
        tracks.t_s,
        tracks.track_id,
        tracks.x,
        tracks.P,
        tracks.status,
        tracks.class_prob,
        tracks.last_update_t_s,
        state.shots_left,
        state.channels_busy,
        state.ready_t_s,
        held,
    )


def _assert_same(
    got: tuple[np.ndarray[Any, Any], ...],
    orders: Assignments,
    assessment: ThreatAssessment,
    effectors: Effectors,
    where: str,
) -> None:
    """Every output array equal to the reference's: dtype, shape and bytes."""
    assert got[0].dtype == np.int64
    want = (
        orders.effector_id,
        orders.track_id,
        orders.fire_t_s,
        orders.rounds,
        orders.intercept_t_s,
        orders.aim_m,
        orders.pk_expected,
        assessment.track_id,
        assessment.threat_value,
    )
    mine = (effectors.effector_id[got[0]], *got[1:])
    for name, g, w in zip(_FIELDS, mine, want, strict=True):
        w = np.asarray(w)
        assert g.dtype == w.dtype, f"{where}: {name} dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"{where}: {name} shape {g.shape} != {w.shape}"
        assert g.tobytes() == w.tobytes(), f"{where}: {name} {g!r} != {w!r}"


def _replay(spec: Any, cycles: list[_Cycle]) -> int:
    """Replay recorded cycles through the kernel; the number of orders replayed."""
    assert greedy_kernel_supports(spec.doctrine) is None
    c = greedy_kernel_args(spec.doctrine, spec.effectors, spec.assets)
    los_args = los_kernel_args(spec.world.buildings)
    n = 0
    for cy in cycles:
        got = _run_kernel(c, los_args, cy.tracks, cy.state, cy.held)
        _assert_same(got, cy.orders, cy.assessment, spec.effectors, f"t={cy.tracks.t_s}")
        n += len(cy.orders)
    return n


@pytest.mark.parametrize("seed", [1, 2], ids=["seed1", "seed2"])
def test_kernel_replays_demo_cycles(demo_spec: Any, seed: int, monkeypatch: Any) -> None:
    cycles = _record(demo_spec, seed, monkeypatch)
    assert len(cycles) > 100
    assert _replay(demo_spec, cycles) > 20


@pytest.mark.parametrize(
    ("policy", "seed"),
    [("shoot-look-shoot", 7), ("shoot-look-shoot", 3), ("shoot-shoot-look", 7)],
    ids=["sls-7", "sls-3", "ssl-7"],
)
def test_kernel_replays_small_cycles(policy: str, seed: int, monkeypatch: Any) -> None:
    from shorad.scenario import parse_scenario

    data = copy.deepcopy(SMALL_SCENARIO)
    data["doctrine"] = {"policy": policy}
    spec = parse_scenario(data)
    cycles = _record(spec, seed, monkeypatch)
    assert cycles
    n = _replay(spec, cycles)
    assert n > 0
    if policy == "shoot-shoot-look":
        assert spec.doctrine.shots_per_salvo == 2
        # some cycle fired two effectors at one track
        assert any(np.unique(cy.orders.track_id).size < len(cy.orders) for cy in cycles)


# --------------------------------------------------------------------- synthetic scenes


def _etype(name: str, **kw: Any) -> EffectorType:
    base: dict[str, Any] = {
        "name": name,
        "kind": "gun",
        "min_range_m": 100.0,
        "max_range_m": 2000.0,
        "max_alt_m": 1000.0,
        "reaction_s": 2.0,
        "flyout_mps": 900.0,
        "pk_by_class": np.array([0.6, 0.35, 0.8]),
        "pk_range_m": np.array([0.0, 800.0, 2000.0]),
        "pk_range_factor": np.array([1.0, 0.9, 0.4]),
        "aim_tolerance_m": 4.0,
        "rounds_per_shot": 10,
        "magazine": 3,
        "reload_s": 60.0,
        "cost_per_shot_usd": 1000.0,
        "channels": 1,
        "debris_radius_m": 10.0,
    }
    base.update(kw)
    return EffectorType(**base)


_TYPES = (
    _etype("gun"),
    _etype(
        "missile",
        kind="missile",
        min_range_m=300.0,
        max_range_m=5000.0,
        reaction_s=3.5,
        flyout_mps=600.0,
        pk_by_class=np.array([0.85, 0.7, 0.9]),
        pk_range_m=np.array([0.0, 3000.0, 3000.0, 5000.0]),
        pk_range_factor=np.array([1.0, 1.0, 0.7, 0.5]),
        aim_tolerance_m=15.0,
        rounds_per_shot=1,
        channels=2,
    ),
)


def _effectors(pos: list[tuple[float, float, float]], idx: list[int]) -> Effectors:
    e = len(pos)
    return Effectors(
        effector_id=np.arange(100, 100 + e, dtype=np.int64),
        unit=np.arange(e, dtype=np.int64),
        type_index=np.array(idx, np.int64),
        pos_m=np.array(pos, np.float64).reshape(e, 3),
        types=_TYPES,
    )


def _assets() -> Assets:
    return Assets(
        asset_id=np.array(["a", "b", "c"], dtype=object),
        aim_m=np.array([[0.0, 0.0, 30.0], [400.0, -300.0, 20.0], [-500.0, 200.0, 45.0]]),
        radius_m=np.array([20.0, 15.0, 30.0]),
        value=np.array([100.0, 80.0, 60.0]),
        building=np.full(3, -1, np.int64),
    )


def _tracks(
    x: np.ndarray[Any, Any],
    t: float = 50.0,
    status: np.ndarray[Any, Any] | None = None,
    rng: np.random.Generator | None = None,
) -> Tracks:
    m = x.shape[0]
    if rng is None:
        P = np.tile(np.diag([25.0, 25.0, 25.0, 4.0, 4.0, 4.0]), (m, 1, 1))
        cp = np.tile([0.5, 0.3, 0.2], (m, 1))
        last = np.full(m, t)
    else:
        L = rng.normal(size=(m, 6, 6)) * rng.uniform(0.3, 3.0, (m, 1, 1))
        P = L @ np.swapaxes(L, 1, 2) + np.eye(6)
        cp = rng.dirichlet(np.ones(3), size=m)
        last = t - rng.uniform(0.0, 3.5, m)
    return Tracks(
        t_s=t,
        track_id=np.arange(7, 7 + 3 * m, 3, dtype=np.int64),
        x=np.ascontiguousarray(x, np.float64),
        P=np.ascontiguousarray(P),
        status=np.full(m, CONFIRMED, np.int8) if status is None else status.astype(np.int8),
        class_prob=np.ascontiguousarray(cp),
        hits=np.full(m, 5, np.int32),
        born_t_s=np.zeros(m),
        last_update_t_s=last,
        confirmed_t_s=np.zeros(m),
        next_track_id=7 + 3 * m,
    )


def _incoming(n: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """Tracks 300-3500 m out, most heading roughly for an asset."""
    az = rng.uniform(0, 2 * np.pi, n)
    r = rng.uniform(300.0, 3500.0, n)
    pos = np.column_stack([r * np.sin(az), r * np.cos(az), rng.uniform(-20.0, 300.0, n)])
    speed = rng.uniform(15.0, 70.0, n)
    head = -pos[:, :2] / np.linalg.norm(pos[:, :2], axis=1, keepdims=True)
    head += rng.normal(0.0, 0.3, (n, 2))
    vel = np.column_stack([head * speed[:, None], rng.normal(0.0, 3.0, n)])
    vel[rng.random(n) < 0.1] = 0.0  # hovering: not closing
    return np.hstack([pos, vel])


def _check(
    doctrine: Doctrine,
    world: World | None,
    tracks: Tracks,
    eff: Effectors,
    state: EffectorState,
    held: np.ndarray[Any, Any],
    assets: Assets | None = None,
) -> tuple[np.ndarray[Any, Any], ...]:
    """Kernel vs reference on one cycle; returns the kernel's outputs."""
    assets = _assets() if assets is None else assets
    assessment = evaluate_threats(tracks, assets)
    orders = GreedyAssigner(doctrine, world).assign(tracks, assessment, eff, state, held)
    c = greedy_kernel_args(doctrine, eff, assets, check_los=world is not None)
    # without a world the kernel does not read los_args, but numba types them (and
    # los_kernel_args wants at least one building)
    los_world = (
        world if world is not None else prism_world([shapely.box(9e4, 9e4, 9e4 + 1, 9e4 + 1)])
    )
    los_args = los_kernel_args(los_world.buildings)
    got = _run_kernel(c, los_args, tracks, state, held)
    _assert_same(got, orders, assessment, eff, "synthetic")
    return got


_POS = [(0.0, 0.0, 40.0), (300.0, -200.0, 25.0), (0.0, 0.0, 40.0), (-600.0, 300.0, 60.0)]
_IDX = [0, 1, 0, 1]


def _state(e: int, shots: int = 3, t: float = 0.0) -> EffectorState:
    return EffectorState(np.full(e, shots, np.int64), np.zeros(e, np.int64), np.full(e, t))


@pytest.fixture(scope="module")
def city() -> World:
    return prism_world(
        [
            shapely.box(150.0, -100.0, 250.0, 100.0),
            shapely.Polygon([(-300.0, 400.0), (-200.0, 600.0), (-100.0, 350.0)]),
        ],
        height_m=80.0,
    )


def test_no_candidates(city: World, rng: np.random.Generator) -> None:
    tracks = _tracks(_incoming(6, rng), status=np.full(6, TENTATIVE))
    eff = _effectors(_POS, _IDX)
    got = _check(Doctrine(), city, tracks, eff, _state(4), np.zeros(0, np.int64))
    assert got[0].size == 0
    assert got[8].shape == (6,)
    # no tracks at all
    got = _check(
        Doctrine(), city, _tracks(np.zeros((0, 6))), eff, _state(4), np.zeros(0, np.int64)
    )
    assert got[0].size == 0
    assert got[7].size == 0


def test_no_free_effector(city: World, rng: np.random.Generator) -> None:
    tracks = _tracks(_incoming(6, rng))
    eff = _effectors(_POS, _IDX)
    none_left = EffectorState(
        np.array([0, 2, 3, 1]), np.array([0, 2, 1, 0]), np.array([0.0, 0.0, 0.0, 51.0])
    )
    got = _check(Doctrine(), city, tracks, eff, none_left, np.zeros(0, np.int64))
    assert got[0].size == 0


def test_all_infeasible(city: World) -> None:
    # far out of every envelope, and below ground
    x = np.array(
        [
            [20000.0, 0.0, 100.0, -50.0, 0.0, 0.0],
            [0.0, -15000.0, 200.0, 0.0, 60.0, 0.0],
            [150.0, 0.0, -10.0, 0.0, 0.0, -5.0],
        ]
    )
    eff = _effectors(_POS, _IDX)
    got = _check(Doctrine(min_pk=0.0), city, _tracks(x), eff, _state(4), np.zeros(0, np.int64))
    assert got[0].size == 0
    assert np.all(got[8] >= 0.0)


def test_held_tracks(city: World) -> None:
    x = np.array(
        [
            [1500.0, 0.0, 100.0, -40.0, 0.0, 0.0],
            [0.0, 1200.0, 80.0, 0.0, -30.0, 0.0],
            [-900.0, -900.0, 60.0, 20.0, 20.0, 0.0],
        ]
    )
    tracks = _tracks(x)
    eff = _effectors(_POS, _IDX)
    free = _check(Doctrine(), None, tracks, eff, _state(4), np.zeros(0, np.int64))
    assert free[0].size == 3
    held = np.array([free[1][0], 999], np.int64)
    got = _check(Doctrine(), None, tracks, eff, _state(4), held)
    assert held[0] not in got[1]
    assert got[1].size == 2
    _check(Doctrine(), city, tracks, eff, _state(4), held)


def test_line_of_sight_blocks(city: World) -> None:
    # behind the box building (150..250 m east, 80 m tall) as seen from the mount at 0,0,40
    x = np.array([[900.0, 0.0, 50.0, -30.0, 0.0, 0.0]])
    eff = _effectors([(0.0, 0.0, 40.0), (0.0, 500.0, 200.0)], [0, 0])
    got = _check(Doctrine(min_pk=0.0), city, _tracks(x), eff, _state(2), np.zeros(0, np.int64))
    assert list(got[0]) == [1]
    clear = _check(Doctrine(min_pk=0.0), None, _tracks(x), eff, _state(2), np.zeros(0, np.int64))
    assert list(clear[0]) == [0]


@pytest.mark.parametrize("salvo", [1, 2, 3], ids=["sls", "ssl", "three"])
def test_ties_and_salvos(salvo: int) -> None:
    # identical mounts (rows 0 and 2): equal Pk and intercept, the first row wins
    x = np.array(
        [
            [1000.0, 200.0, 100.0, -40.0, -8.0, 0.0],
            [1000.0, 200.0, 100.0, -40.0, -8.0, 0.0],  # a duplicate track: id decides
            [-800.0, 600.0, 70.0, 25.0, -20.0, 0.0],
        ]
    )
    eff = _effectors(_POS, _IDX)
    state = EffectorState(np.array([3, 3, 3, 1]), np.array([0, 1, 0, 0]), np.zeros(4))
    got = _check(Doctrine(shots_per_salvo=salvo), None, _tracks(x), eff, state, np.zeros(0))
    assert got[0].size > 0


def test_no_assets() -> None:
    x = np.array([[1000.0, 200.0, 100.0, -40.0, -8.0, 0.0]])
    eff = _effectors(_POS, _IDX)
    empty = Assets(
        asset_id=np.zeros(0, dtype=object),
        aim_m=np.zeros((0, 3)),
        radius_m=np.zeros(0),
        value=np.zeros(0),
        building=np.zeros(0, np.int64),
    )
    got = _check(Doctrine(), None, _tracks(x), eff, _state(4), np.zeros(0, np.int64), empty)
    assert got[0].size == 0
    # a negative threshold lets them through: every intercept is before an infinite ttg
    got = _check(
        Doctrine(min_threat_value=-1.0),
        None,
        _tracks(x),
        eff,
        _state(4),
        np.zeros(0, np.int64),
        empty,
    )
    assert got[0].size > 0


@pytest.mark.parametrize("seed", range(16))
def test_random_scenes(city: World, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    e = int(rng.integers(1, 9))
    t = 50.0
    status = np.where(rng.random(m) < 0.8, CONFIRMED, TENTATIVE)
    tracks = _tracks(_incoming(m, rng), t=t, status=status, rng=rng)
    pos = [
        (float(rng.uniform(-800, 800)), float(rng.uniform(-800, 800)), float(rng.uniform(0, 120)))
        for _ in range(e)
    ]
    if e > 2:
        pos[2] = pos[0]  # a tie
    eff = _effectors(pos, [int(i) for i in rng.integers(0, 2, e)])
    channels = eff.column("channels").astype(np.int64)
    state = EffectorState(
        np.where(rng.random(e) < 0.15, 0, rng.integers(1, 4, e)).astype(np.int64),
        np.minimum(rng.integers(0, 2, e), channels).astype(np.int64),
        np.where(rng.random(e) < 0.15, t + 5.0, t - 5.0),
    )
    held = rng.choice(tracks.track_id, size=min(m, 3), replace=False).astype(np.int64)
    doctrine = Doctrine(
        shots_per_salvo=int(rng.integers(1, 3)),
        engage_confirmed_only=bool(rng.random() < 0.7),
        min_pk=float(rng.choice([0.0, 0.2, 0.5])),
        min_threat_value=float(rng.choice([0.0, 1.0])),
    )
    _check(doctrine, city if seed % 2 else None, tracks, eff, state, held)


def test_interp_matches_numpy(rng: np.random.Generator) -> None:
    tables = [
        (np.array([0.0, 1000.0, 2500.0]), np.array([1.0, 0.8, 0.3])),
        (np.array([0.0, 3000.0, 3000.0, 5000.0]), np.array([1.0, 1.0, 0.7, 0.5])),
        (np.array([500.0]), np.array([0.7])),
        (np.linspace(0.0, 4000.0, 9), rng.uniform(0, 1, 9)),
    ]
    for xp, fp in tables:
        xs = np.concatenate([rng.uniform(-500.0, 6000.0, 400), xp, [np.nan, np.inf, -np.inf]])
        want = np.interp(xs, xp, fp)
        got = np.array([_interp(float(v), xp, fp, 0, xp.size) for v in xs])
        assert got.tobytes() == want.tobytes()


def test_supports() -> None:
    assert greedy_kernel_supports(Doctrine()) is None
    assert greedy_kernel_supports(Doctrine(shots_per_salvo=2)) is None
    assert "wta" in str(greedy_kernel_supports(Doctrine(assignment="wta")))
    zone = shapely.box(0.0, 0.0, 10.0, 10.0)
    assert "no_fire_zones" in str(greedy_kernel_supports(Doctrine(no_fire_zones=(zone,))))
