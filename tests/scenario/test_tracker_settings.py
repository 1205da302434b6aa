"""The scenario's tracker section reaches the JPDA/IMM tracker, and bad values are named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shorad.errors import ConfigError
from shorad.scenario import parse_scenario
from shorad.testing import SMALL_SCENARIO
from shorad.tracking import PolarTrackerConfig


def _with_tracker(**tracker: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["tracker"] = tracker
    return data


def test_imm_and_jpda_settings_reach_the_spec() -> None:
    spec = parse_scenario(
        _with_tracker(
            method="imm-jpda",
            pd=0.8,
            used_probability=0.6,
            jpda_max_events=500,
            imm_q_mps2=[0.5, 2.0, 6.0],
            imm_sojourn_s=[20, 5, 3],
        )
    )
    assert spec.tracker.method == "imm-jpda"
    assert spec.polar_tracker == PolarTrackerConfig(
        pd=0.8,
        used_probability=0.6,
        jpda_max_events=500,
        imm_q_mps2=(0.5, 2.0, 6.0),
        imm_sojourn_s=(20.0, 5.0, 3.0),
    )


def test_defaults_are_the_trackers_defaults() -> None:
    assert parse_scenario(_with_tracker()).polar_tracker == PolarTrackerConfig()


@pytest.mark.parametrize(
    ("tracker", "field"),
    [
        ({"pd": 0.0}, "tracker.pd"),
        ({"used_probability": 1.0}, "tracker.used_probability"),
        ({"imm_q_mps2": [1.0]}, "tracker.imm_q_mps2"),
        ({"imm_q_mps2": [1.0, 2.0], "imm_sojourn_s": [5.0]}, "tracker.imm_sojourn_s"),
        ({"imm_sojourn_s": [5.0, 0.0]}, r"tracker.imm_sojourn_s\[1\]"),
    ],
)
def test_bad_tracker_settings_name_the_field(tracker: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        parse_scenario(_with_tracker(**tracker))
