"""Sweeps: parsing, the cartesian product, applying keys, and errors before any run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shorad.campaign import expand_points, parse_sweep, plan_campaign
from shorad.campaign.sweep import apply_point
from shorad.errors import ConfigError


def test_parse_values_and_brackets() -> None:
    sw = parse_sweep("raid[0].bearing_deg=[150,200],[160,210]")
    assert sw.key == "raid[0].bearing_deg"
    assert sw.values == ([150, 200], [160, 210])
    assert parse_sweep("doctrine.min_pk=0.1, 0.3").values == (0.1, 0.3)
    assert parse_sweep("tracker.method=gnn,jpda").values == ("gnn", "jpda")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("raid[0].count", "expected KEY=V1,V2"),
        ("raid[0].count=1,,2", "empty value"),
        ("raid[0].count=1,1", "repeated value"),
        ("raid[x].count=1", "malformed key segment"),
        ("sensors.rooftop_radar=1", "preset name and a field"),
    ],
)
def test_parse_errors(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_sweep(text)


def test_cartesian_product_order() -> None:
    pts = expand_points(
        [parse_sweep("a=1,2"), parse_sweep("b=x,y,z"), parse_sweep("c.d=true,false")]
    )
    assert len(pts) == 2 * 3 * 2
    assert [p.point_id for p in pts] == list(range(12))
    assert pts[0].params == (("a", 1), ("b", "x"), ("c.d", True))
    assert pts[1].params == (("a", 1), ("b", "x"), ("c.d", False))
    assert pts[-1].params == (("a", 2), ("b", "z"), ("c.d", False))
    assert len({p.params for p in pts}) == 12
    assert expand_points([])[0].params == ()
    with pytest.raises(ConfigError, match="more than once"):
        expand_points([parse_sweep("a=1"), parse_sweep("a=2")])


def test_apply_scenario_and_preset_keys(small_scenario: dict[str, Any]) -> None:
    out = apply_point(
        small_scenario,
        [
            ("raid[1].count", 9),
            ("doctrine.min_pk", 0.3),
            ("sensors.rooftop_radar.max_range_m", 3000),
            ("effectors.rooftop_gun.magazine", 7),
            ("threats.quadcopter.speed_mps", 12.0),
        ],
        Path.cwd(),
    )
    assert out["raid"][1]["count"] == 9
    assert out["doctrine"] == {"min_pk": 0.3}
    assert all(u["sensor"]["max_range_m"] == 3000 for u in out["units"])
    assert out["units"][0]["effectors"][0]["magazine"] == 7
    assert out["units"][1]["effectors"][0]["magazine"] == 7
    assert out["units"][1]["effectors"][1] == "vshorad_missile"  # untouched
    assert out["threat_classes"]["quadcopter"]["speed_mps"] == 12.0
    assert small_scenario["raid"][1]["count"] == 4  # the input is not modified
    assert small_scenario["units"][0]["sensor"] == "rooftop_radar"


@pytest.mark.parametrize(
    ("sweep", "match"),
    [
        ("raid[0].count=2,-4", r"--sweep raid\[0\]\.count=-4.*raid\[0\]\.count: Input should be"),
        ("raid[7].count=2", r"--sweep raid\[7\]\.count: index \[7\] is out of range"),
        ("doctrine.min_pkk=0.1", r"--sweep doctrine\.min_pkk=0\.1.*unknown key 'min_pkk'"),
        ("sensors.nope.max_range_m=1", r"unknown sensor preset 'nope'"),
        ("effectors.rooftop_gun.magazine=5,0", r"--sweep effectors\.rooftop_gun\.magazine=0"),
        ("effectors.laser_x.magazine=5", r"unknown effector preset 'laser_x'"),
    ],
    ids=[
        "negative-count",
        "bad-index",
        "unknown-key",
        "unknown-preset",
        "bad-preset-value",
        "unknown-effector",
    ],
)
def test_invalid_sweep_fails_before_any_run(
    small_scenario: dict[str, Any],
    sweep: str,
    match: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shorad.campaign.task as task

    def boom(*a: Any, **k: Any) -> Any:  # pragma: no cover - must never be reached
        raise AssertionError("a run started")

    monkeypatch.setattr(task, "run_task", boom)
    with pytest.raises(ConfigError, match="(?s)" + match):
        plan_campaign(small_scenario, runs=2, sweeps=["doctrine.min_pk=0.1,0.2", sweep])


def test_unused_preset_is_an_error(small_scenario: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="no unit uses the sensor preset 'eo_day'"):
        plan_campaign(small_scenario, runs=1, sweeps=["sensors.eo_day.max_range_m=100"])
