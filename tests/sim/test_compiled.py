"""The compiled engine against the reference engine, run by run.

Same events: kinds, ids and order exactly; times, positions and values to the last bits
(numpy's vectorised exp/log10 and BLAS dot round differently from the libm calls in numba).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from shorad.api import run
from shorad.scenario import parse_scenario
from shorad.scenario.presets import bundled_presets
from shorad.sim import compiled_supports, simulate
from shorad.sim.engine import simulate as reference_simulate
from shorad.sim.events import EventLog
from shorad.testing import SMALL_SCENARIO

_INTS = ("kind", "seq", "threat_id", "track_id", "unit_id", "effector_id", "asset_id", "building")
_FLOATS = ("t_s", "x_m", "y_m", "z_m", "value")


def assert_same_events(got: EventLog, want: EventLog) -> None:
    assert len(got) == len(want)
    for name in _INTS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    for name in _FLOATS:
        np.testing.assert_allclose(
            getattr(got, name), getattr(want, name), rtol=1e-9, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize("seed", [1, 2])
def test_demo_runs_match_the_reference(demo_spec: Any, seed: int) -> None:
    assert compiled_supports(demo_spec) is None
    want = reference_simulate(demo_spec, seed)
    got = simulate(demo_spec, seed, engine="compiled")
    assert got.end_t_s == want.end_t_s
    assert_same_events(got.events, want.events)
    np.testing.assert_array_equal(got.plan.vert_m, want.plan.vert_m)


def _radar(**options: Any) -> dict[str, Any]:
    radar = copy.deepcopy(bundled_presets()["sensors"]["rooftop_radar"])
    radar.update(options)
    radar["sources"].update(dict.fromkeys(options, "illustrative"))
    return radar


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize(
    "variant", ["plain", "shoot-shoot-look", "swerling0", "resolution", "cluttered", "short"]
)
def test_small_runs_match_the_reference(seed: int, variant: str) -> None:
    d = copy.deepcopy(SMALL_SCENARIO)
    if variant == "shoot-shoot-look":
        d["doctrine"] = {"policy": "shoot-shoot-look"}
    elif variant == "swerling0":
        d["units"][0]["sensor"] = _radar(swerling=0)
    elif variant == "resolution":
        d["units"][1]["sensor"] = _radar(range_resolution_m=30.0, az_resolution_deg=3.0)
    elif variant == "cluttered":
        d["units"][0]["sensor"] = _radar(clutter_per_scan=20.0, multipath_loss_db=6.0)
    elif variant == "short":
        d["duration_s"] = 60
    spec = parse_scenario(d)
    if compiled_supports(spec) is not None:
        pytest.skip(compiled_supports(spec))
    want = reference_simulate(spec, seed)
    got = simulate(spec, seed, engine="compiled")
    assert got.end_t_s == want.end_t_s
    assert_same_events(got.events, want.events)


def test_summaries_match(demo_spec: Any) -> None:
    a = run(demo_spec, 3, engine="compiled").to_dict()
    b = run(demo_spec, 3, engine="reference").to_dict()
    assert a["totals"] == pytest.approx(b["totals"], rel=1e-9)
    assert a["threats"] == b["threats"]


def test_unsupported_scenarios_say_why_and_auto_falls_back(small_scenario: Any) -> None:
    small_scenario["tracker"] = {"method": "jpda"}
    spec = parse_scenario(small_scenario)
    why = compiled_supports(spec)
    assert why is not None
    assert "jpda" in why
    with pytest.raises(ValueError, match="jpda"):
        simulate(spec, 1, engine="compiled")
    auto = simulate(spec, 1)
    ref = reference_simulate(spec, 1)
    assert_same_events(auto.events, ref.events)
    with pytest.raises(ValueError, match="engine"):
        simulate(spec, 1, engine="fast")
