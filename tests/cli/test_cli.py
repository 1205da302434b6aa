from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from shorad.cli import app

runner = CliRunner()


def _shorad() -> list[str]:
    exe = shutil.which("shorad", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "shorad.cli"]


@pytest.fixture
def scenario_file(tmp_path: Path, small_scenario: dict[str, Any]) -> Path:
    small_scenario["duration_s"] = 200
    p = tmp_path / "small.yaml"
    p.write_text(yaml.safe_dump(small_scenario, sort_keys=False), encoding="utf-8")
    return p


def test_help_lists_the_commands() -> None:
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("run", "validate", "demo"):
        assert cmd in res.output


def test_validate_ok_and_bad(scenario_file: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", str(scenario_file)])
    assert res.exit_code == 0, res.output
    assert "OK" in res.output
    assert "8 threats" in res.output
    assert "bundled:monaco" in res.output  # not rendered as an emoji flag
    bad = yaml.safe_load(scenario_file.read_text())
    bad["units"][0]["mast_ft"] = 10
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad), encoding="utf-8")
    res = runner.invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert "units[0].mast_ft" in res.output


def test_run_writes_the_three_files_byte_identically(scenario_file: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = subprocess.run(
            [*_shorad(), "run", str(scenario_file), "--seed", "3", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert {p.name for p in out.iterdir()} == {"summary.json", "events.parquet", "report.html"}
        outs.append((out / "summary.json").read_bytes())
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["meta"]["seed"] == 3
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "a" / "events.parquet")
    meta = table.schema.metadata
    assert meta[b"shorad.seed"] == b"3"
    assert len(meta[b"shorad.scenario_hash"]) == 64
    assert {"t_s", "kind", "threat_id", "track_id", "x_m"} <= set(table.column_names)
    assert no_tmp_left(tmp_path)


def no_tmp_left(folder: Path) -> bool:
    return not any(p.name.startswith(".") and ".tmp-" in p.name for p in folder.iterdir())


def test_bad_input_exit_2_and_out_untouched(tmp_path: Path, scenario_file: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("OLD", encoding="utf-8")
    bad = yaml.safe_load(scenario_file.read_text())
    bad["assets"][0]["building"] = "way/1"
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad), encoding="utf-8")
    proc = subprocess.run(
        [*_shorad(), "run", str(p), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert "assets[0].building" in proc.stderr
    assert "way/1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "summary.json").read_text() == "OLD"
    assert [p.name for p in out.iterdir()] == ["summary.json"]


def test_failure_while_writing_keeps_the_old_out(
    tmp_path: Path, scenario_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shorad.report

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("OLD", encoding="utf-8")

    def boom(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(shorad.report, "write_report", boom)
    res = runner.invoke(app, ["run", str(scenario_file), "--out", str(out)])
    assert res.exit_code != 0
    assert (out / "summary.json").read_text() == "OLD"
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert no_tmp_left(tmp_path)


def test_malformed_yaml_exit_2(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text("name: [unclosed\n", encoding="utf-8")
    env = dict(os.environ)
    proc = subprocess.run(
        [*_shorad(), "validate", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "malformed YAML at line" in proc.stderr


def test_city_info(tmp_path: Path) -> None:
    from shorad.geo import bundled_city_path

    res = runner.invoke(app, ["city", "info", str(bundled_city_path("monaco"))])
    assert res.exit_code == 0, res.output
    assert "height from levels" in res.output
    assert "rejected" in res.output
    res = runner.invoke(app, ["city", "info", str(tmp_path / "nope.geojson")])
    assert res.exit_code == 2


def test_engine_option(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("OLD", encoding="utf-8")
    res = runner.invoke(app, ["run", str(scenario_file), "--out", str(out), "--engine", "fast"])
    assert res.exit_code == 2
    assert "--engine" in res.output
    assert "'fast'" in res.output
    jpda = yaml.safe_load(scenario_file.read_text())
    jpda["tracker"] = {"method": "jpda"}
    p = tmp_path / "jpda.yaml"
    p.write_text(yaml.safe_dump(jpda), encoding="utf-8")
    res = runner.invoke(app, ["run", str(p), "--out", str(out), "--engine", "compiled"])
    assert res.exit_code == 2
    assert "jpda" in res.output
    assert (out / "summary.json").read_text() == "OLD"
    for engine in ("reference", "auto"):
        res = runner.invoke(
            app,
            ["run", str(scenario_file), "--out", str(out), "--no-report", "--engine", engine],
        )
        assert res.exit_code == 0, res.output
        meta = json.loads((out / "summary.json").read_text())["meta"]
        assert meta["engine"] == ("reference" if engine == "reference" else "compiled")
        assert f"{meta['engine']} engine" in res.output
