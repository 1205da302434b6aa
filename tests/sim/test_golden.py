"""Golden end-to-end run of the small scenario (regenerate with ``pytest --update-golden``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shorad.api import run

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "small_seed7.json"


def _digest(summary: Any) -> dict[str, Any]:
    d = summary.to_dict()
    return {
        "totals": d["totals"],
        "threats": [
            {
                k: t[k]
                for k in ("id", "class", "target", "outcome", "shots", "detected_t_s", "end_t_s")
            }
            for t in d["threats"]
        ],
        "assets": [{k: a[k] for k in ("id", "hits")} for a in d["assets"]],
        "effectors": [{k: e[k] for k in ("id", "shots", "kills")} for e in d["effectors"]],
    }


def test_golden_small_scenario(small_spec: Any, request: pytest.FixtureRequest) -> None:
    got = _digest(run(small_spec, 7))
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=2) + "\n", encoding="utf-8")
        pytest.skip("golden file regenerated")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    # counts and outcomes exactly; times to the millisecond they are rounded to
    assert got["totals"] == pytest.approx(want["totals"], abs=1e-3)
    assert got["threats"] == want["threats"]
    assert got["assets"] == want["assets"]
    assert got["effectors"] == want["effectors"]
