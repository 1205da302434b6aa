"""Benchmark file reading/writing (mtt-bench-*/1), malformed input, and the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shorad.analysis.mtt_metrics import score_files
from shorad.cli import app
from shorad.errors import ConfigError
from shorad.tracking.benchfile import (
    config_from_header,
    generate_scenario,
    read_meas,
    read_truth,
    track_file,
    write_jsonl,
)

HEAD = {
    "format": "mtt-bench-meas/1",
    "dim": 2,
    "q": 0.5,
    "R": [[9, 0], [0, 9]],
    "pd": 0.9,
    "clutter_rate": 10,
    "region": [[-1000, 1000], [-1000, 1000]],
}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([json.dumps({**HEAD, "format": "other/1"})], r":1: format: must be 'mtt-bench-meas/1'"),
        ([json.dumps({**HEAD, "dim": 4})], r":1: dim: must be 2 or 3"),
        ([json.dumps(HEAD), '{"k": 0, "t": 0.0, "z": [[1, 2, 3]]}'], r":2: z\[0\]: must have 2"),
        (
            [json.dumps(HEAD), '{"k": 0, "t": 0.0, "z": [[1, NaN]]}'],
            r":2: z\[0\]\[1\]: must be fin",
        ),
        (
            [json.dumps(HEAD), '{"k": 0, "t": 0.0, "z": [[1, "a"]]}'],
            r":2: z\[0\]\[1\]: must be a n",
        ),
        (
            [json.dumps(HEAD), '{"k": 0, "t": 1.0, "z": []}', '{"k": 1, "t": 0.5, "z": []}'],
            r":3: t: scans must be in time order",
        ),
        ([json.dumps(HEAD), '{"k": 0, "z": []}'], r":2: t: missing"),
        ([json.dumps(HEAD), "{oops"], r":2: line: not valid JSON"),
        ([json.dumps({**HEAD, "R": [[9, 0]]})], r":1: R: must have 2 rows"),
        ([], r":1: header: file is empty"),
    ],
    ids=[
        "format",
        "dim",
        "wrong-dim",
        "nan",
        "string",
        "order",
        "missing-t",
        "json",
        "R",
        "empty",
    ],
)
def test_malformed_meas(tmp_path: Path, lines: list[str], match: str) -> None:
    path = _write(tmp_path / "bad.meas.jsonl", lines)

    def load() -> None:
        head, _ = read_meas(path)
        config_from_header(head, "gnn", path)

    with pytest.raises(ConfigError, match=match):
        load()


def test_round_trip_and_score(tmp_path: Path) -> None:
    meas, truth = generate_scenario(5, rng=np.random.default_rng(3), seed=3, scans=20, dim=3)
    mp, tp = tmp_path / "s.meas.jsonl", tmp_path / "s.truth.jsonl"
    write_jsonl(mp, meas)
    write_jsonl(tp, truth)
    head, scans = read_meas(mp)
    assert head["dim"] == 3
    assert len(scans) == 20
    th, ts = read_truth(tp)
    assert th["n_targets"] == 5
    assert ts[0].ids.tolist() == [1, 2, 3, 4, 5]
    out = tmp_path / "s.tracks.jsonl"
    st = track_file(mp, out, "jpda")
    assert st["scans"] == 20
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "mtt-bench-tracks/1"
    assert all("latency_s" in json.loads(x) for x in lines[1:])
    sc = score_files(tp, out)
    assert sc["scans"] == 20
    assert sc["gospa"] < 25.0
    with pytest.raises(ConfigError, match="--tracker"):
        track_file(mp, out, "mht")


def test_cli_track_score_bench_scenario(tmp_path: Path) -> None:
    runner = CliRunner()
    stem = tmp_path / "ref"
    r = runner.invoke(app, ["bench-scenario", str(stem), "--n", "4", "--scans", "15"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "ref.tracks.jsonl"
    r = runner.invoke(app, ["track", f"{stem}.meas.jsonl", "-o", str(out), "--tracker", "gnn"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["score", f"{stem}.truth.jsonl", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"gospa", "localisation", "missed", "false", "id_switches"} <= set(res)
    bad = _write(tmp_path / "bad.meas.jsonl", [json.dumps({**HEAD, "dim": 5})])
    r = runner.invoke(app, ["track", str(bad), "-o", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 2
    assert "dim" in r.output
