"""Scenario tests of shorad.tracking.gnn.GnnTracker (simulated radar scans with known truth)."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from shorad.errors import ConfigError, SimulationError
from shorad.sensors.base import (
    CLUTTER_ID,
    Detections,
    cartesian_from_polar,
    polar_from_cartesian,
    with_unmeasured,
)
from shorad.tracking import (
    CONFIRMED,
    TENTATIVE,
    GnnTracker,
    TrackerConfig,
    TrackerStep,
    Tracks,
)

DEG = np.pi / 180.0
SIGMA = np.array([5.0, 0.5 * DEG, 0.5 * DEG])  # range (m), azimuth, elevation (rad)
CLASS_SPEED_MPS = (10.0, 40.0, 150.0)
CLASS_SIGMA_MPS = (5.0, 10.0, 40.0)
BOX_M = np.array([[-10_000.0, -10_000.0, 0.0], [10_000.0, 10_000.0, 2_000.0]])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def make_tracker(**cfg: float) -> GnnTracker:
    return GnnTracker(TrackerConfig(**cfg), CLASS_SPEED_MPS, CLASS_SIGMA_MPS)


def radar_scan(
    t_s: float,
    truth_pos_m: np.ndarray,
    truth_id: np.ndarray,
    sensor_pos_m: np.ndarray,
    rng: np.random.Generator,
    *,
    clutter_rate: float = 0.0,
    sensor_id: int = 0,
) -> Detections:
    """One scan with Pd = 1, Gaussian polar noise and uniform clutter in BOX_M, shuffled."""
    z = (
        polar_from_cartesian(truth_pos_m - sensor_pos_m)
        + rng.normal(size=truth_pos_m.shape) * SIGMA
    )
    n_clutter = rng.poisson(clutter_rate) if clutter_rate else 0
    clutter = rng.uniform(BOX_M[0], BOX_M[1], size=(n_clutter, 3))
    z = np.concatenate([z, polar_from_cartesian(clutter - sensor_pos_m)])
    z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
    ids = np.concatenate([truth_id, np.full(n_clutter, CLUTTER_ID)]).astype(np.int64)
    order = rng.permutation(len(z))
    n = len(z)
    z4, r4 = with_unmeasured(z[order], np.broadcast_to(np.diag(SIGMA**2), (n, 3, 3)))
    return Detections(
        t_s=np.full(n, t_s),
        sensor_id=np.full(n, sensor_id, np.int32),
        z=z4,
        R=r4,
        sensor_pos_m=np.broadcast_to(sensor_pos_m, (n, 3)).copy(),
        truth_id=ids[order],
    )


def run(tracker: GnnTracker, scans: list[tuple[float, Detections]]) -> list[TrackerStep]:
    tracks = tracker.initial()
    out = []
    for t_s, dets in scans:
        step = tracker.step(tracks, dets, t_s)
        tracks = step.tracks
        out.append(step)
    return out


def truth_to_tracks(steps: list[TrackerStep], scans: list[tuple[float, Detections]]) -> dict:
    """Map each truth id to the set of track ids its detections went to."""
    mapping: dict[int, set[int]] = {}
    for step, (_, dets) in zip(steps, scans, strict=True):
        for tid, kid in zip(dets.truth_id, step.det_track_id, strict=True):
            if tid != CLUTTER_ID:
                mapping.setdefault(int(tid), set()).add(int(kid))
    return mapping


# --- One target ------------------------------------------------------------------------------

P0_M = np.array([1500.0, 2500.0, 150.0])
V0_MPS = np.array([-12.0, -8.0, 0.5])


def straight_line_scans(rng: np.random.Generator, n_scans: int = 20) -> list:
    sensor = np.zeros(3)
    return [
        (float(k), radar_scan(float(k), (P0_M + V0_MPS * k)[None], np.array([0]), sensor, rng))
        for k in range(n_scans)
    ]


def test_single_target_confirmed_after_exactly_confirm_hits(rng: np.random.Generator) -> None:
    tracker = make_tracker()
    steps = run(tracker, straight_line_scans(rng))
    m = tracker.config.confirm_hits
    for k, step in enumerate(steps):
        assert len(step.tracks) == 1
        assert_array_equal(step.det_track_id, [1])
        expected = CONFIRMED if k >= m - 1 else TENTATIVE
        assert step.tracks.status[0] == expected
        assert_array_equal(step.confirmed_ids, [1] if k == m - 1 else [])
        assert step.deleted_ids.size == 0
    final = steps[-1].tracks
    assert final.hits[0] == 20
    assert_allclose(final.confirmed_t_s, [m - 1.0])
    assert_allclose(final.born_t_s, [0.0])
    assert_allclose(final.last_update_t_s, [19.0])
    assert final.next_track_id == 2


def test_single_target_accuracy_beats_raw_measurements() -> None:
    # A non-manoeuvring target, filter tuned for it (q = 1 m/s^2); Monte Carlo over 30 runs.
    tracker = make_tracker(q_mps2=1.0)
    pos_err, raw_err, vel_err, nees = [], [], [], []
    for seed in range(30):
        scans = straight_line_scans(np.random.default_rng(seed))
        final = run(tracker, scans)[-1].tracks
        assert len(final) == 1
        truth = np.concatenate([P0_M + V0_MPS * 19.0, V0_MPS])
        err = final.x[0] - truth
        pos_err.append(np.linalg.norm(err[:3]))
        vel_err.append(np.linalg.norm(err[3:]))
        nees.append(err @ np.linalg.solve(final.P[0], err))
        raw = cartesian_from_polar(scans[-1][1].z)[0]
        raw_err.append(np.linalg.norm(raw - truth[:3]))

    def rms(a: list) -> float:
        return float(np.sqrt(np.mean(np.square(a))))

    assert rms(pos_err) < 0.7 * rms(raw_err)  # measured about 0.6 (raw ~33 m at 2.9 km)
    assert rms(vel_err) < 3.0  # m/s
    assert max(vel_err) < 6.0
    assert np.mean(nees) < 1.5 * 6  # the filter is not overconfident (6-dof NEES)


# --- Several targets -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_crossing_targets_keep_their_ids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Tracks cross in plan view at t = 20 s (x = 0, y = 2000 m), 100 m apart in height.
    p0 = np.array([[-300.0, 1800.0, 100.0], [-300.0, 2200.0, 200.0]])
    v = np.array([[15.0, 10.0, 0.0], [15.0, -10.0, 0.0]])
    sensor = np.zeros(3)
    scans = [
        (float(k), radar_scan(float(k), p0 + v * k, np.array([0, 1]), sensor, rng))
        for k in range(40)
    ]
    steps = run(make_tracker(), scans)
    mapping = truth_to_tracks(steps, scans)
    assert len(mapping[0]) == 1
    assert len(mapping[1]) == 1
    assert mapping[0] != mapping[1]
    final = steps[-1].tracks
    assert len(final) == 2
    assert final.confirmed.all()
    for tid, (track_id,) in mapping.items():
        row = np.flatnonzero(final.track_id == track_id)[0]
        truth = np.concatenate([p0[tid] + v[tid] * 39.0, v[tid]])
        assert np.linalg.norm(final.x[row, :3] - truth[:3]) < 40.0


def test_two_sensors_feeding_one_tracker_give_one_track_per_target() -> None:
    rng = np.random.default_rng(11)
    sensors = np.array([[0.0, 0.0, 10.0], [3000.0, 500.0, 30.0]])
    p0 = np.array([[1000.0, 2500.0, 150.0], [2500.0, 3000.0, 300.0]])
    v = np.array([[-10.0, -5.0, 0.0], [5.0, -12.0, 1.0]])
    scans = []
    for k in range(60):  # A at t = 0, 1, ..., B at t = 0.5, 1.5, ...
        t_s = 0.5 * k
        s = k % 2
        dets = radar_scan(t_s, p0 + v * t_s, np.array([0, 1]), sensors[s], rng, sensor_id=s)
        scans.append((t_s, dets))
    steps = run(make_tracker(), scans)
    mapping = truth_to_tracks(steps, scans)
    assert {len(ids) for ids in mapping.values()} == {1}
    assert mapping[0] != mapping[1]
    created = np.concatenate([st.det_track_id for st in steps])
    assert set(created.tolist()) == mapping[0] | mapping[1]
    final = steps[-1].tracks
    assert len(final) == 2
    assert final.confirmed.all()
    # Alternating sensors at 0.5 s: confirmed at the third scan, t = 1.0 s.
    assert_allclose(final.confirmed_t_s, [1.0, 1.0])


def test_mixed_sensor_batch_in_one_call(rng: np.random.Generator) -> None:
    # Sensor A sees target 0 and sensor B target 1, both reported in one batch per call.
    sensors = np.array([[0.0, 0.0, 10.0], [3000.0, 500.0, 30.0]])
    p0 = np.array([[1000.0, 2500.0, 150.0], [2500.0, 3000.0, 300.0]])
    v = np.array([[-10.0, -5.0, 0.0], [5.0, -12.0, 1.0]])
    scans = []
    for k in range(10):
        t_s = float(k)
        pos = p0 + v * t_s
        parts = [
            radar_scan(t_s, pos[s : s + 1], np.array([s]), sensors[s], rng, sensor_id=s)
            for s in (0, 1)
        ]
        scans.append((t_s, Detections.concat(parts)))
    steps = run(make_tracker(), scans)
    mapping = truth_to_tracks(steps, scans)
    assert mapping == {0: {1}, 1: {2}}
    final = steps[-1].tracks
    assert_array_equal(final.track_id, [1, 2])
    assert final.confirmed.all()


# --- Clutter ---------------------------------------------------------------------------------


def clutter_scans(rng: np.random.Generator, n_scans: int, rate: float = 5.0) -> list:
    empty = np.zeros((0, 3))
    return [
        (
            float(k),
            radar_scan(float(k), empty, np.zeros(0, int), np.zeros(3), rng, clutter_rate=rate),
        )
        for k in range(n_scans)
    ]


def test_clutter_alone_confirms_very_few_tracks(rng: np.random.Generator) -> None:
    scans = clutter_scans(rng, 150)
    steps = run(make_tracker(), scans)
    n_dets = sum(len(d) for _, d in scans)
    assert n_dets > 600
    confirmed = np.concatenate([s.confirmed_ids for s in steps])
    assert confirmed.size <= 2
    # New ids are next_track_id, next_track_id + 1, ... in detection order; deleted ids never
    # come back.
    next_id, gone = 1, set()
    for step in steps:
        new = step.det_track_id[step.det_track_id >= next_id]
        assert_array_equal(new, np.arange(next_id, next_id + new.size))
        next_id += new.size
        assert step.tracks.next_track_id == next_id
        assert not gone & set(step.det_track_id.tolist())
        assert not gone & set(step.tracks.track_id.tolist())
        gone |= set(step.deleted_ids.tolist())
    assert next_id - 1 > 0.9 * n_dets  # clutter rarely falls into a clutter track's gate


def test_window_rule_deletes_tentative_clutter_tracks(rng: np.random.Generator) -> None:
    # Deletion for staleness switched off, so only the confirmation window removes clutter.
    tracker = make_tracker(delete_after_s=1000.0, tentative_delete_after_s=1000.0)
    window = tracker.config.confirm_window_s
    scans = clutter_scans(rng, 60) + [(float(k), Detections.empty()) for k in range(60, 68)]
    steps = run(tracker, scans)
    born: dict[int, float] = {}
    deleted_at: dict[int, float] = {}
    for (t_s, _), step in zip(scans, steps, strict=True):
        for kid in step.det_track_id:
            born.setdefault(int(kid), t_s)
        for kid in step.deleted_ids:
            deleted_at[int(kid)] = t_s
        tent = step.tracks.status == TENTATIVE
        assert (t_s - step.tracks.born_t_s[tent] <= window + 1e-9).all()
    confirmed = set(np.concatenate([s.confirmed_ids for s in steps]).tolist())
    assert len(confirmed) <= 2
    final = steps[-1].tracks
    assert (final.status == CONFIRMED).all()
    for kid, t_born in born.items():
        if kid in confirmed:
            continue
        # Deleted at the first scan after the window closed (1 s scans).
        assert deleted_at[kid] - t_born == pytest.approx(window + 1.0)


# --- Truth is never read ---------------------------------------------------------------------


def test_truth_id_is_never_read(rng: np.random.Generator) -> None:
    p0 = np.array([[1000.0, 2500.0, 150.0], [-2000.0, 1000.0, 300.0]])
    v = np.array([[-10.0, -5.0, 0.0], [20.0, 3.0, 0.0]])
    scans = [
        (
            float(k),
            radar_scan(float(k), p0 + v * k, np.array([0, 1]), np.zeros(3), rng, clutter_rate=3),
        )
        for k in range(25)
    ]
    fake = np.random.default_rng(99)
    shuffled = [(t, replace(d, truth_id=fake.permutation(d.truth_id))) for t, d in scans]
    overwritten = [(t, replace(d, truth_id=np.full(len(d), 12345, np.int64))) for t, d in scans]
    tracker = make_tracker()
    ref = run(tracker, scans)
    for other in (run(tracker, shuffled), run(tracker, overwritten)):
        for a, b in zip(ref, other, strict=True):
            assert_steps_equal(a, b)


def assert_steps_equal(a: TrackerStep, b: TrackerStep) -> None:
    assert_array_equal(a.det_track_id, b.det_track_id)
    assert_array_equal(a.confirmed_ids, b.confirmed_ids)
    assert_array_equal(a.deleted_ids, b.deleted_ids)
    ta, tb = a.tracks, b.tracks
    assert ta.t_s == tb.t_s
    assert ta.next_track_id == tb.next_track_id
    for name in Tracks.__dataclass_fields__:
        assert_array_equal(getattr(ta, name), getattr(tb, name), err_msg=name)


# --- Track management ------------------------------------------------------------------------


def test_deletion_after_delete_after_s_and_ids_never_reused(rng: np.random.Generator) -> None:
    tracker = make_tracker()
    sensor = np.zeros(3)
    scans = [
        (float(k), radar_scan(float(k), (P0_M + V0_MPS * k)[None], np.array([0]), sensor, rng))
        for k in range(3)
    ]
    scans += [(float(k), Detections.empty()) for k in range(3, 9)]
    p_new = np.array([[-800.0, 1200.0, 80.0]])
    scans += [(9.0, radar_scan(9.0, p_new, np.array([1]), sensor, rng))]
    steps = run(tracker, scans)
    assert_array_equal(steps[2].confirmed_ids, [1])
    # Last update at t = 2 s: still there at t = 6 s (4 s without update), gone at t = 7 s.
    for k in range(3, 7):
        assert_array_equal(steps[k].tracks.track_id, [1])
        assert steps[k].deleted_ids.size == 0
    assert_array_equal(steps[7].deleted_ids, [1])
    assert len(steps[7].tracks) == 0
    assert steps[7].tracks.next_track_id == 2
    assert_array_equal(steps[9].det_track_id, [2])
    assert_array_equal(steps[9].tracks.track_id, [2])


def test_deletion_when_position_uncertainty_too_large(rng: np.random.Generator) -> None:
    tracker = make_tracker(max_position_sigma_m=150.0)
    dets = radar_scan(0.0, np.array([[600.0, 800.0, 50.0]]), np.array([0]), np.zeros(3), rng)
    scans = [(0.0, dets)] + [(float(k), Detections.empty()) for k in (1, 2, 3)]
    steps = run(tracker, scans)
    # sqrt(trace) of the position covariance grows as about sqrt(3) * 40 m/s * t.
    assert_array_equal(steps[2].tracks.track_id, [1])
    assert_array_equal(steps[3].deleted_ids, [1])


def test_empty_inputs() -> None:
    tracker = make_tracker()
    tracks = tracker.initial(5.0)
    assert tracks.class_prob.shape == (0, 3)
    step = tracker.step(tracks, Detections.empty(), 6.0)
    assert len(step.tracks) == 0
    assert step.tracks.t_s == 6.0
    assert step.det_track_id.shape == (0,)
    assert step.confirmed_ids.dtype == np.int64
    assert step.deleted_ids.dtype == np.int64
    assert step.tracks.class_prob.shape == (0, 3)


def test_step_does_not_mutate_inputs(rng: np.random.Generator) -> None:
    tracker = make_tracker()
    scans = straight_line_scans(rng, 6)
    steps = run(tracker, scans[:5])
    before = steps[-1].tracks
    saved = {name: np.copy(getattr(before, name)) for name in Tracks.__dataclass_fields__}
    dets = scans[5][1]
    saved_z = dets.z.copy()
    tracker.step(before, dets, 5.0)
    tracker.step(before, Detections.empty(), 9.5)
    for name, value in saved.items():
        assert_array_equal(getattr(before, name), value, err_msg=name)
    assert_array_equal(dets.z, saved_z)


def test_read_only_inputs_are_accepted(rng: np.random.Generator) -> None:
    scans = straight_line_scans(rng, 4)
    ro = []
    for t_s, d in scans:
        n = len(d)
        r = np.broadcast_to(d.R[0], (n, 4, 4))  # read-only view
        z = d.z.copy()
        z.flags.writeable = False
        ro.append((t_s, replace(d, z=z, R=r)))
    tracker = make_tracker()
    ref = run(tracker, scans)
    for a, b in zip(ref, run(tracker, ro), strict=True):
        assert_steps_equal(a, b)
    # Read-only track arrays too (and an integer scan time).
    frozen = ref[-2].tracks
    for name in Tracks.__dataclass_fields__:
        value = getattr(frozen, name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    assert_steps_equal(tracker.step(frozen, scans[-1][1], 3), ref[-1])
    coast = tracker.step(frozen, Detections.empty(), 3)
    assert_array_equal(coast.tracks.track_id, [1])
    assert coast.tracks.born_t_s.dtype == np.float64


def test_new_tracks_numbered_in_detection_order(rng: np.random.Generator) -> None:
    tracker = make_tracker()
    pos = np.array([[100.0, 2000.0, 50.0], [-3000.0, 10.0, 400.0], [2500.0, -2500.0, 90.0]])
    dets = radar_scan(0.0, pos, np.arange(3), np.zeros(3), rng)
    step = tracker.step(tracker.initial(), dets, 0.0)
    assert_array_equal(step.det_track_id, [1, 2, 3])
    assert_array_equal(step.tracks.track_id, [1, 2, 3])
    assert_allclose(step.tracks.x[:, :3], cartesian_from_polar(dets.z), rtol=1e-12)
    assert_allclose(step.tracks.class_prob, 1.0 / 3.0)
    assert step.tracks.next_track_id == 4


def test_speed_classifier(rng: np.random.Generator) -> None:
    v = np.array([30.0, -26.0, 1.0])  # about 40 m/s: class 1
    sensor = np.zeros(3)
    scans = [
        (float(k), radar_scan(float(k), (P0_M + v * k)[None], np.array([0]), sensor, rng))
        for k in range(15)
    ]
    steps = run(make_tracker(), scans)
    assert_allclose(steps[0].tracks.class_prob, [[1 / 3, 1 / 3, 1 / 3]])
    final = steps[-1].tracks.class_prob[0]
    assert_allclose(final.sum(), 1.0, rtol=1e-12)
    assert np.argmax(final) == 1
    assert final[1] > 0.8


# --- Input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("q_mps2", -1.0),
        ("gate_probability", 1.0),
        ("init_speed_sigma_mps", 0.0),
        ("confirm_hits", 0),
        ("confirm_window_s", -1.0),
        ("delete_after_s", 0.0),
        ("max_position_sigma_m", float("nan")),
    ],
)
def test_config_validation(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"TrackerConfig.{field}"):
        TrackerConfig(**{field: value})


def test_tracker_argument_validation() -> None:
    with pytest.raises(ConfigError, match="class_speed_sigma_mps"):
        GnnTracker(TrackerConfig(), [10.0, 20.0], [1.0])
    with pytest.raises(ConfigError, match="class_speed_sigma_mps"):
        GnnTracker(TrackerConfig(), [10.0], [0.0])
    with pytest.raises(ConfigError, match="class_speed_mps"):
        GnnTracker(TrackerConfig(), [], [])


def test_time_must_not_go_backwards() -> None:
    tracker = make_tracker()
    with pytest.raises(SimulationError, match="time order"):
        tracker.step(tracker.initial(10.0), Detections.empty(), 9.0)
    with pytest.raises(SimulationError, match="classes"):
        tracker.step(Tracks.empty(2), Detections.empty(), 1.0)


def test_tracker_and_step_pickle(rng: np.random.Generator) -> None:
    tracker = make_tracker(q_mps2=2.0)
    scans = straight_line_scans(rng, 4)
    steps = run(tracker, scans)
    clone = pickle.loads(pickle.dumps(tracker))
    assert clone.config == tracker.config
    again = pickle.loads(pickle.dumps(steps[-1]))
    assert_steps_equal(again, steps[-1])
    assert_steps_equal(run(clone, scans)[-1], steps[-1])
