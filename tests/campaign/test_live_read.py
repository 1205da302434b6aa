"""Reading a results store while a campaign process holds it (the read-request handoff)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shorad.campaign import ResultStore
from shorad.errors import ConfigError

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from shorad.campaign import ResultStore
    store, stop, cooperative = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
    with ResultStore(store) as st:
        i = 0
        while not stop.exists() and i < 2000:
            st.insert_rows([{
                "campaign_id": "c", "point_id": 0, "replicate": i, "seed": i, "params": "{}",
                "scenario_hash": "h", "shorad_version": "0", "status": "ok",
            }])
            if cooperative:
                st.yield_to_readers()
            print(i, flush=True)
            i += 1
            time.sleep(0.05)
    """
)


def _start_writer(tmp_path: Path, cooperative: bool) -> tuple[subprocess.Popen[str], Path, Path]:
    store, stop = tmp_path / "live.duckdb", tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store), str(stop), "1" if cooperative else "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(3):  # the writer holds the file and has committed rows
        assert proc.stdout.readline(), "writer died"
    return proc, store, stop


def _count(st: ResultStore) -> int:
    row = st.con.execute("SELECT count(*) FROM runs").fetchone()
    assert row is not None
    return int(row[0])


def test_reader_gets_in_while_a_campaign_writes(tmp_path: Path) -> None:
    proc, store, stop = _start_writer(tmp_path, cooperative=True)
    try:
        counts = []
        for _ in range(2):
            with ResultStore(store, read_only=True, wait_s=20.0) as st:
                counts.append(_count(st))
            time.sleep(0.5)
        assert counts[0] >= 3
        assert counts[1] > counts[0]  # the writer went on between the two reads
        assert not list(tmp_path.glob("live.duckdb.read-request.*"))  # requests withdrawn
        assert proc.poll() is None  # the campaign was not disturbed
    finally:
        stop.touch()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_reader_gives_a_clear_error_if_the_writer_never_lets_go(tmp_path: Path) -> None:
    proc, store, stop = _start_writer(tmp_path, cooperative=False)
    try:
        with pytest.raises(ConfigError, match="held by a running campaign"):
            ResultStore(store, read_only=True, wait_s=0.5)
        assert not list(tmp_path.glob("live.duckdb.read-request.*"))
    finally:
        stop.touch()
        proc.wait(timeout=30)
