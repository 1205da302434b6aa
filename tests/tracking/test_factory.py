"""Tracker selection: build_tracker and the scenario's tracker.method."""

from __future__ import annotations

from typing import Any

import pytest

from shorad.errors import ConfigError
from shorad.tracking import GnnTracker, TrackerConfig
from shorad.tracking.factory import PolarTrackerConfig, build_tracker
from shorad.tracking.polar_imm import PolarImmTracker


def test_build_tracker_gnn_and_errors() -> None:
    tr = build_tracker("gnn", TrackerConfig(), [10.0], [5.0])
    assert isinstance(tr, GnnTracker)
    assert len(tr.initial(0.0)) == 0
    with pytest.raises(ConfigError, match=r"tracker\.method"):
        build_tracker("mht", TrackerConfig(), [10.0], [5.0])
    for method, r in (("jpda", 1), ("imm-gnn", 2), ("imm-jpda", 2)):
        tr = build_tracker(method, TrackerConfig(method=method), [10.0], [5.0])
        assert isinstance(tr, PolarImmTracker)
        assert (tr.method, tr.n_models) == (method, r)
    three = PolarTrackerConfig(imm_q_mps2=(0.1, 1.0, 5.0), imm_sojourn_s=(10.0, 5.0, 2.0))
    tr = build_tracker("imm-gnn", TrackerConfig(), [10.0], [5.0], three)
    assert isinstance(tr, PolarImmTracker)
    assert tr.n_models == 3
    with pytest.raises(ConfigError, match=r"TrackerConfig\.method"):
        TrackerConfig(method="nope")


def test_scenario_method_passes_through(small_scenario: dict[str, Any]) -> None:
    from shorad.scenario import parse_scenario

    small_scenario["tracker"] = {"method": "imm-gnn"}
    assert parse_scenario(small_scenario).tracker.method == "imm-gnn"
    small_scenario["tracker"] = {"method": "bogus"}
    with pytest.raises(ConfigError, match="method"):
        parse_scenario(small_scenario)
