"""Every ``tracker.method`` end to end in the simulation: runs, deterministic, kills, SPD."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import shorad
import shorad.sim.engine as engine
from shorad.cli import app
from shorad.scenario import parse_scenario
from shorad.sensors.base import Detections
from shorad.testing import SMALL_SCENARIO
from shorad.tracking import Tracks
from shorad.tracking.gnn import TrackerStep
from shorad.tracking.polar_imm import ImmPolarTracks

METHODS = ("jpda", "imm-gnn", "imm-jpda")
SEED = 7


@pytest.fixture(scope="module")
def gnn_kills(small_spec: Any) -> int:
    return int(shorad.run(small_spec, SEED).totals["kills"])


class _Checked:
    """A tracker wrapper that checks every picture it returns (covariances, model weights)."""

    def __init__(self, inner: Any, seen: list[int]) -> None:
        self._inner = inner
        self._seen = seen

    def initial(self, t_s: float = 0.0) -> Tracks:
        out: Tracks = self._inner.initial(t_s)
        return out

    def step(self, tracks: Tracks, dets: Detections, t_s: float) -> TrackerStep:
        step: TrackerStep = self._inner.step(tracks, dets, t_s)
        tr = step.tracks
        np.testing.assert_allclose(tr.P, np.swapaxes(tr.P, 1, 2), rtol=0, atol=1e-9)
        if len(tr):
            assert (np.linalg.eigvalsh(tr.P) > 0).all()
        assert step.det_track_id.shape == (len(dets),)
        if isinstance(tr, ImmPolarTracks):
            np.testing.assert_allclose(tr.mu.sum(axis=1), 1.0, rtol=0, atol=1e-12)
            if len(tr):
                assert (np.linalg.eigvalsh(tr.Pm) > 0).all()
        self._seen[0] += 1
        return step


@pytest.mark.parametrize("method", METHODS)
def test_method_runs_end_to_end_deterministically_and_kills(
    method: str, small_spec: Any, gnn_kills: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = replace(small_spec, tracker=replace(small_spec.tracker, method=method))
    # the reference engine (gnn alone also runs compiled: tests/sim/test_compiled.py)
    first = shorad.run(spec, SEED, engine="reference")
    second = shorad.run(spec, SEED, engine="reference")
    assert first.to_json() == second.to_json()
    assert first.totals["kills"] >= 0.5 * gnn_kills
    assert first.totals["kills"] >= 1
    # the same run with every picture checked: symmetric positive definite covariances,
    # model probabilities summing to one
    seen = [0]
    build = engine.build_tracker
    monkeypatch.setattr(engine, "build_tracker", lambda *a, **k: _Checked(build(*a, **k), seen))
    checked = shorad.run(spec, SEED, engine="reference")
    assert seen[0] > 100
    assert checked.to_json() == first.to_json()


def test_scenario_file_with_jpda_runs_through_the_cli(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["duration_s"] = 200
    data["tracker"] = {"method": "jpda"}
    path = tmp_path / "jpda.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert parse_scenario(yaml.safe_load(path.read_text())).tracker.method == "jpda"
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["run", str(path), "--seed", "3", "--out", str(out), "--no-report"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["seed"] == 3
    assert summary["totals"]["threats"] == 8
