"""``shorad plan`` end to end: user candidate files, exclusions, sampled-raid demand, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from shorad.cli import app
from shorad.plan import raid_demand, roof_candidates
from shorad.rng import RunStreams
from shorad.scenario import load_scenario
from shorad.threats import plan_raid

runner = CliRunner()


@pytest.fixture
def scenario_file(tmp_path: Path, small_scenario: dict[str, Any]) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(yaml.safe_dump(small_scenario, sort_keys=False), encoding="utf-8")
    return p


def _plan(scenario: Path, out: Path, *args: str) -> dict[str, Any]:
    res = runner.invoke(
        app,
        ["plan", str(scenario), "--range", "300", "--time-limit", "20", "--out", str(out), *args],
    )
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {
        "sites.geojson",
        "planned.yaml",
        "plan.png",
        "plan.json",
    }
    result: dict[str, Any] = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    result["sites"] = [
        f["properties"]
        for f in json.loads((out / "sites.geojson").read_text(encoding="utf-8"))["features"]
    ]
    planned = load_scenario(out / "planned.yaml")
    assert len(planned.units) == len(result["sites"])
    return result


def _min_distance(sites: list[dict[str, Any]]) -> float:
    xy = np.array([[s["x_m"], s["y_m"]] for s in sites])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    d[np.diag_indices(len(xy))] = np.inf
    return float(d.min())


def test_roof_plan_respects_no_go_buildings_and_spacing(
    scenario_file: Path, tmp_path: Path
) -> None:
    free = _plan(scenario_file, tmp_path / "free", "--units", "1")
    best = free["sites"][0]["building"]
    assert best is not None
    banned = _plan(scenario_file, tmp_path / "banned", "--units", "1", "--exclude", best)
    assert banned["sites"][0]["building"] != best
    assert banned["candidates"] < free["candidates"]
    spaced = _plan(
        scenario_file,
        tmp_path / "spaced",
        *("--units", "3", "--min-spacing", "90", "--exclude", best, "--method", "fast"),
    )
    assert len(spaced["sites"]) == 3
    assert best not in {s["building"] for s in spaced["sites"]}
    assert _min_distance(spaced["sites"]) >= 90.0 - 0.02  # x_m, y_m rounded to 1 cm


@pytest.fixture
def user_candidates(tmp_path: Path, small_spec: Any) -> tuple[Path, np.ndarray, list[str]]:
    """A CSV of 16 representative roof points near the assets, each with a twin 4 m east."""
    cand = roof_candidates(
        small_spec.world, small_spec.assets.aim_m[:, :2], within_m=300.0, grid_m=None
    )
    pick = np.argsort(-cand.pos_m[:, 2])[:16]
    xy = np.concatenate([cand.pos_m[pick, :2], cand.pos_m[pick, :2] + [4.0, 0.0]])
    lat, lon, _ = small_spec.world.frame.geodetic_from_enu(
        np.column_stack([xy, np.zeros(len(xy))])
    )
    path = tmp_path / "cands.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lat", "lon"])
        for k in range(len(xy)):
            w.writerow([f"c{k}", f"{lat[k]:.9f}", f"{lon[k]:.9f}"])
    keys = [str(small_spec.world.buildings.osm_key[b]) for b in cand.building[pick]]
    return path, xy, keys


def test_user_candidates_file_with_exclusions(
    scenario_file: Path, tmp_path: Path, user_candidates: tuple[Path, np.ndarray, list[str]]
) -> None:
    path, xy, _ = user_candidates
    free = _plan(scenario_file, tmp_path / "free", "--units", "2", "--candidates", str(path))
    assert free["candidates"] == len(xy)
    for s in free["sites"]:  # every site is one of the file's points
        assert np.hypot(xy[:, 0] - s["x_m"], xy[:, 1] - s["y_m"]).min() < 0.05
    banned_keys = sorted({s["building"] for s in free["sites"] if s["building"]})
    assert banned_keys
    res = _plan(
        scenario_file,
        tmp_path / "limited",
        *("--units", "2", "--candidates", str(path), "--exclude", ",".join(banned_keys)),
        *("--min-spacing", "10"),
    )
    assert not {s["building"] for s in res["sites"]} & set(banned_keys)
    # the 4 m twins are thinned away; the file's points are farther than 10 m apart
    assert res["candidates"] <= len(xy) // 2
    assert _min_distance(res["sites"]) >= 10.0 - 0.02


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("cols.csv", "x,y\n1,2\n", ["lat,lon", "got columns ['x', 'y']"]),
        ("nan.csv", "lat,lon\n43.7320,7.4190\n43.7321,abc\n", ["line 3", "lon", "'abc'"]),
        ("range.csv", "lat,lon\n97.0,7.4190\n", ["line 2", "lat", "[-90, 90]", "'97.0'"]),
        ("swap.csv", "lat,lon\n7.4190,43.7320\n", ["point 1", "km from", "swapped"]),
        ("empty.csv", "lat,lon\n", ["at least one point"]),
        (
            "line.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}
                    ],
                }
            ),
            ["features[0].geometry must be a Point"],
        ),
        ("bad.geojson", "{not json", ["invalid JSON"]),
        ("missing.csv", None, ["no such file", "missing.csv"]),
    ],
    ids=[
        "columns",
        "not-a-number",
        "out-of-range",
        "swapped",
        "empty",
        "linestring",
        "json",
        "missing",
    ],
)
def test_bad_candidate_file_is_a_clear_error_and_out_untouched(
    scenario_file: Path, tmp_path: Path, name: str, text: str | None, expect: list[str]
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.json").write_text("OLD", encoding="utf-8")
    res = runner.invoke(
        app,
        ["plan", str(scenario_file), "--units", "2", "--candidates", str(path), "--out", str(out)],
    )
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert "--candidates" in msg
    for e in expect:
        assert e in msg, msg
    assert "Traceback" not in res.output
    assert [p.name for p in out.iterdir()] == ["plan.json"]
    assert (out / "plan.json").read_text(encoding="utf-8") == "OLD"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def _segment_distance(pts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(k,) distance of each point to the nearest of the segments a[i]-b[i]."""
    ab = b - a
    den = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    t = np.clip(np.einsum("kij,ij->ki", pts[:, None, :] - a[None], ab) / den, 0.0, 1.0)
    near = a[None] + t[..., None] * ab[None]
    return np.asarray(np.linalg.norm(pts[:, None, :] - near, axis=2).min(axis=1))


def test_raid_demand_is_deterministic_and_on_the_planned_paths(small_spec: Any) -> None:
    spec = small_spec
    d = raid_demand(spec, samples=3, seed=11, spacing_m=30.0, within_m=350.0)
    again = raid_demand(spec, samples=3, seed=11, spacing_m=30.0, within_m=350.0)
    other = raid_demand(spec, samples=3, seed=12, spacing_m=30.0, within_m=350.0)
    assert len(d) > 0
    for f in ("pos_m", "weight", "asset", "ring_m"):
        np.testing.assert_array_equal(getattr(d, f), getattr(again, f))
    assert len(other) != len(d) or not np.array_equal(other.pos_m, d.pos_m)
    segs_a, segs_b, expected = [], [], np.zeros(len(spec.assets))
    for k in range(3):
        plan = plan_raid(
            spec.raid, spec.classes, spec.assets, rng=RunStreams(11 + k).generator("threats")
        )
        segs_a.append(plan.vert_m[:, :-1].reshape(-1, 3))
        segs_b.append(plan.vert_m[:, 1:].reshape(-1, 3))
        np.add.at(expected, plan.target, spec.assets.value[plan.target] / 3)
    dist = _segment_distance(d.pos_m, np.concatenate(segs_a), np.concatenate(segs_b))
    assert dist.max() < 1e-6
    # each threat carries its target's value / samples, split over its points
    got = np.bincount(d.asset, weights=d.weight, minlength=len(spec.assets))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    ring = np.hypot(*(d.pos_m[:, :2] - spec.assets.aim_m[d.asset, :2]).T)
    np.testing.assert_allclose(d.ring_m, ring, atol=1e-9)
    assert d.ring_m.max() <= 350.0
    # consecutive points of a leg are spacing_m apart or less
    steps = np.linalg.norm(np.diff(d.pos_m, axis=0), axis=1)
    assert np.median(steps) == pytest.approx(30.0, abs=1e-6)


def test_raid_demand_rejects_bad_parameters(small_spec: Any) -> None:
    from shorad.errors import ConfigError

    with pytest.raises(ConfigError, match=r"--raid-samples: must be >= 1, got 0"):
        raid_demand(small_spec, samples=0)
    with pytest.raises(ConfigError, match=r"spacing_m: must be > 0 m, got -1"):
        raid_demand(small_spec, spacing_m=-1.0)


def test_plan_with_sampled_raid_demand_runs_end_to_end(
    scenario_file: Path, tmp_path: Path, small_spec: Any
) -> None:
    args = ("--units", "2", "--demand", "raid", "--raid-samples", "2", "--seed", "4")
    res = _plan(scenario_file, tmp_path / "a", *args)
    assert res["demand"] == "raid"
    assert res["raid_samples"] == 2
    assert res["demand_points"] == len(raid_demand(small_spec, samples=2, seed=4))
    assert res["status"] == "optimal"
    assert 0 < res["objective_value"] <= res["objective_max"] + 1e-9
    again = _plan(scenario_file, tmp_path / "b", *args)
    assert [s["unit"] for s in again["sites"]] == [s["unit"] for s in res["sites"]]
    assert [(s["x_m"], s["y_m"]) for s in again["sites"]] == [
        (s["x_m"], s["y_m"]) for s in res["sites"]
    ]
    bad = runner.invoke(app, ["plan", str(scenario_file), "--units", "2", "--demand", "tracks"])
    assert bad.exit_code == 2
    assert "--demand: expected approach or raid, got 'tracks'" in " ".join(bad.output.split())


def test_unknown_no_go_building_is_a_clear_error(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["plan", str(scenario_file), "--units", "2", "--exclude", "way/1", "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert "--exclude: no building with key or name 'way/1'" in msg
    assert not out.exists()
