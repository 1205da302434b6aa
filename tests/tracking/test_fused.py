"""The compiled assignment and the fused GNN scan against their references."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from shorad.api import run
from shorad.sensors.base import Detections
from shorad.tracking import gnn
from shorad.tracking._lsa import lsa_kernel
from shorad.tracking.base import Tracks


@pytest.mark.parametrize("kind", ["real", "ties", "forbidden"])
def test_lsa_kernel_returns_scipys_assignment(kind: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(400):
        r, c = (int(v) for v in rng.integers(1, 13, 2))
        if kind == "ties":  # small integers: many optimal assignments, SciPy's tie-breaking
            cost = rng.integers(0, 4, (r, c)).astype(np.float64)
        else:
            cost = rng.random((r, c)) * 20.0 - 5.0
        if kind == "forbidden":  # the tracker's out-of-gate cost
            cost[rng.random((r, c)) < 0.6] = 1e9
        want_r, want_c = linear_sum_assignment(cost)
        got_r, got_c = lsa_kernel(cost)
        np.testing.assert_array_equal(got_r, want_r)
        np.testing.assert_array_equal(got_c, want_c)


def test_lsa_kernel_empty_and_infeasible() -> None:
    r, c = lsa_kernel(np.zeros((0, 3)))
    assert r.size == 0
    assert c.size == 0
    cost = np.array([[1.0, np.inf], [np.inf, np.inf]])
    r, c = lsa_kernel(cost)  # SciPy raises: no full assignment of the rows
    assert r.size == 0
    assert c.size == 0


def _same_tracks(a: Tracks, b: Tracks) -> None:
    assert a.t_s == b.t_s
    assert a.next_track_id == b.next_track_id
    for name in (
        "track_id",
        "x",
        "P",
        "status",
        "class_prob",
        "hits",
        "born_t_s",
        "last_update_t_s",
        "confirmed_t_s",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_fused_scan_equals_general_path_step_by_step(
    small_spec: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every scan of a whole run, replayed through both paths: identical pictures."""
    calls: list[tuple[Tracks, Detections, float]] = []
    original = gnn.GnnTracker.step

    def recording(
        self: gnn.GnnTracker, tracks: Tracks, dets: Detections, t_s: float
    ) -> gnn.TrackerStep:
        calls.append((tracks, dets, t_s))
        return original(self, tracks, dets, t_s)

    monkeypatch.setattr(gnn.GnnTracker, "step", recording)
    run(small_spec, 7, engine="reference")  # the compiled engine calls the kernel directly
    monkeypatch.undo()
    assert len(calls) > 100
    assert sum(len(d) > 0 and len(t) > 0 for t, d, _ in calls) > 50  # real associations
    spec = small_spec
    fused = gnn.GnnTracker(
        spec.tracker,
        [c.speed_mps for c in spec.classes],
        [c.speed_sigma_mps for c in spec.classes],
    )
    general = gnn.GnnTracker(
        spec.tracker,
        [c.speed_mps for c in spec.classes],
        [c.speed_sigma_mps for c in spec.classes],
    )
    general.fused = False
    for tracks, dets, t_s in calls:
        a = fused.step(tracks, dets, t_s)
        b = general.step(tracks, dets, t_s)
        _same_tracks(a.tracks, b.tracks)
        np.testing.assert_array_equal(a.det_track_id, b.det_track_id)
        np.testing.assert_array_equal(a.confirmed_ids, b.confirmed_ids)
        np.testing.assert_array_equal(a.deleted_ids, b.deleted_ids)


def test_fused_and_general_runs_are_identical(
    small_spec: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused = run(small_spec, 3).to_json()
    init = gnn.GnnTracker.__init__

    def general_init(self: gnn.GnnTracker, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.fused = False

    monkeypatch.setattr(gnn.GnnTracker, "__init__", general_init)
    assert run(small_spec, 3).to_json() == fused
