"""Tracker selection: build_tracker and the scenario's tracker.method."""

from __future__ import annotations

from typing import Any

import pytest

from shorad.errors import ConfigError
from shorad.tracking import GnnTracker, TrackerConfig
from shorad.tracking.factory import build_tracker


def test_build_tracker_gnn_and_errors() -> None:
    tr = build_tracker("gnn", TrackerConfig(), [10.0], [5.0])
    assert isinstance(tr, GnnTracker)
    assert len(tr.initial(0.0)) == 0
    with pytest.raises(ConfigError, match=r"tracker\.method"):
        build_tracker("mht", TrackerConfig(), [10.0], [5.0])
    with pytest.raises(ConfigError, match="not available yet"):
        build_tracker("jpda", TrackerConfig(method="jpda"), [10.0], [5.0])
    with pytest.raises(ConfigError, match=r"TrackerConfig\.method"):
        TrackerConfig(method="nope")


def test_scenario_method_passes_through(small_scenario: dict[str, Any]) -> None:
    from shorad.scenario import parse_scenario

    small_scenario["tracker"] = {"method": "imm-gnn"}
    assert parse_scenario(small_scenario).tracker.method == "imm-gnn"
    small_scenario["tracker"] = {"method": "bogus"}
    with pytest.raises(ConfigError, match="method"):
        parse_scenario(small_scenario)
