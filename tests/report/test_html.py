"""End-to-end tests of the HTML report on a small Monaco scenario."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shorad.testing import SMALL_SCENARIO, small_scenario

SCENARIO: dict[str, Any] = small_scenario(
    name="report-test",
    duration_s=300,
    seed=3,
    raid=[
        {**SMALL_SCENARIO["raid"][0], "count": 3, "launch_window_s": [0, 40]},
        {**SMALL_SCENARIO["raid"][1], "count": 3, "launch_window_s": [0, 40]},
    ],
)

_ATTRIBUTION_URLS = {
    "https://www.openstreetmap.org/copyright",
    "https://opendatacommons.org/licenses/odbl/",
}


def _run(name: str) -> tuple[Any, Any, Any]:
    from shorad.api import run_full
    from shorad.scenario import parse_scenario

    data = copy.deepcopy(SCENARIO)
    data["name"] = name
    spec = parse_scenario(data, base_dir=Path(__file__).parent)
    summary, result = run_full(spec, 3)
    return spec, summary, result


@pytest.fixture(scope="module")
def run() -> tuple[Any, Any, Any]:
    """The small scenario run once: (spec, summary, result)."""
    return _run(SCENARIO["name"])


@pytest.fixture(scope="module")
def doc(run: tuple[Any, Any, Any]) -> str:
    """Its rendered report."""
    from shorad.report import render_report

    return render_report(*run)


def test_is_a_complete_document(doc: str) -> None:
    assert doc.startswith("<!DOCTYPE html>")
    assert doc.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in doc


def test_is_self_contained(doc: str) -> None:
    # nothing is loaded from anywhere: no external src, stylesheet or script
    srcs = re.findall(r'\bsrc\s*=\s*["\']([^"\']*)', doc, flags=re.IGNORECASE)
    assert srcs
    assert all(s.startswith("data:") for s in srcs)
    assert "<script" not in doc.lower()
    assert "<link" not in doc.lower()
    assert "@import" not in doc
    assert "url(" not in doc
    # the only web addresses are the attribution anchors
    hrefs = re.findall(r'\bhref\s*=\s*["\']([^"\']*)', doc, flags=re.IGNORECASE)
    assert set(hrefs) <= _ATTRIBUTION_URLS
    urls = set(re.findall(r"https?://[^\s\"'<>]+", doc))
    assert urls <= _ATTRIBUTION_URLS


def test_has_figures(doc: str) -> None:
    assert len(re.findall(r'<img src="data:image/png;base64,', doc)) >= 1 or "<svg" in doc


def test_names_scenario_assets_units(doc: str, run: tuple[Any, Any, Any]) -> None:
    spec, summary, _ = run
    assert "report-test" in doc
    for asset_id in spec.assets.asset_id:
        assert str(asset_id) in doc
    for unit_id in spec.units.unit_id:
        assert unit_id in doc
    assert summary.meta["scenario_hash"][:12] in doc
    assert "Simulation only" in doc
    assert "OpenStreetMap contributors" in doc
    assert "ODbL" in doc


def test_verdict_matches_totals(doc: str, run: tuple[Any, Any, Any]) -> None:
    _, summary, _ = run
    verdict = re.search(r'<p class="verdict[^"]*" id="verdict">(.*?)</p>', doc, flags=re.S)
    assert verdict is not None
    numbers = dict(re.findall(r'data-total="(\w+)">(\d+)<', verdict.group(1)))
    t = summary.totals
    assert numbers == {
        "killed": str(t["killed"]),
        "threats": str(t["threats"]),
        "leakers": str(t["leakers"]),
        "asset_hits": str(t["asset_hits"]),
    }
    text = re.sub(r"<[^>]+>", "", verdict.group(1))
    assert f"{t['killed']} of {t['threats']} drones destroyed" in text
    assert f"{t['leakers']} leaked" in text


def test_key_figures_match_totals(doc: str, run: tuple[Any, Any, Any]) -> None:
    _, summary, _ = run
    shown = dict(re.findall(r'data-key="(\w+)">([^<]*)<', doc))
    t = summary.totals
    assert shown["shots"] == f"{t['shots']:,}"
    assert shown["kills"] == f"{t['kills']:,}"
    assert shown["leakers"] == f"{t['leakers']:,}"
    assert shown["interceptor_cost_usd"] == f"{t['interceptor_cost_usd']:,.0f}"


def test_every_threat_in_table(doc: str, run: tuple[Any, Any, Any]) -> None:
    _, summary, _ = run
    table = doc.split("Per-threat table", 1)[1].split("</details>", 1)[0]
    assert table.count("<tr>") == len(summary.threats) + 1


def test_flown_paths_stop_at_end_time(run: tuple[Any, Any, Any]) -> None:
    from shorad.report.figures import flown_paths, threat_end_times

    _, summary, result = run
    plan = result.plan
    end = threat_end_times(summary, result)
    paths = flown_paths(plan, end)
    assert len(paths) == len(plan)
    for i, p in enumerate(paths):
        assert p.shape[1] == 3
        np.testing.assert_allclose(p[0], plan.vert_m[i, 0], atol=1e-9)
        if summary.threats[i]["outcome"] == "leaked":
            np.testing.assert_allclose(p[-1], plan.vert_m[i, -1], atol=1e-6)
        # the last point lies on the planned path at the end time
        vt = plan.vert_t_s[i]
        t = min(end[i], vt[-1])
        expected = [np.interp(t, vt, plan.vert_m[i, :, d]) for d in range(3)]
        np.testing.assert_allclose(p[-1], expected, atol=1e-6)


def test_flown_paths_empty_before_launch(run: tuple[Any, Any, Any]) -> None:
    from shorad.report.figures import flown_paths

    _, _, result = run
    plan = result.plan
    paths = flown_paths(plan, plan.launch_t_s - 1.0)
    assert all(p.shape == (0, 3) for p in paths)


def test_escapes_scenario_text() -> None:
    from shorad.report import render_report

    spec, summary, result = _run('<script>alert("x")</script> & $co')
    doc = render_report(spec, summary, result)
    assert "<script>" not in doc
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; $co" in doc


def test_write_report(tmp_path: Path, run: tuple[Any, Any, Any], doc: str) -> None:
    from shorad.report import write_report

    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    write_report(*run, out)
    assert out.read_text(encoding="utf-8") == doc
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_render_is_deterministic(run: tuple[Any, Any, Any], doc: str) -> None:
    from shorad.report import render_report

    assert render_report(*run) == doc
