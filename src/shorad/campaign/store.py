"""The results store: an embedded DuckDB database with one row per run.

Tables
------
``campaigns``
    One row per campaign: id, scenario name/path/hash, campaign seed, sweeps (JSON),
    runs requested, shorad version, creation time.
``points``
    One row per sweep point: campaign, point id, parameters (JSON), the point's scenario hash.
``runs``
    One row per replicate, primary key ``(campaign_id, point_id, replicate)``: seed, parameters
    (JSON), scenario hash, shorad version, status (``ok`` / ``failed``), error text, every
    summary total as a column, per-asset hits (JSON), all totals (JSON), wall seconds, worker,
    finish time.

Rows are inserted in small batches, each batch in one transaction with
``ON CONFLICT DO NOTHING``: a batch is either all in or not at all, and a row already present
is never duplicated or overwritten.

Reading while a campaign writes
-------------------------------
DuckDB lets one process hold a database file, or several processes read it, not both. The
campaign client holds its store for the whole campaign, so a reader (``shorad results``) that
finds the file locked asks for it: it creates ``STORE.read-request.PID`` and retries. After
each committed batch the writer looks for such files (one directory listing); if there is
one it closes the file, waits until the requests are gone (the reader removes its file when
it closes, at most ``yield_s`` seconds) and opens it again. A request whose process no longer
exists is removed. So a reader sees the rows committed so far, a consistent snapshot, and a
campaign without readers pays nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from shorad.campaign.task import FLOAT_TOTALS, INT_TOTALS
from shorad.errors import ConfigError

__all__ = ["RUN_COLUMNS", "ResultStore"]

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("campaign_id", "VARCHAR NOT NULL"),
    ("point_id", "INTEGER NOT NULL"),
    ("replicate", "INTEGER NOT NULL"),
    ("seed", "BIGINT NOT NULL"),
    ("params", "VARCHAR NOT NULL"),
    ("scenario_hash", "VARCHAR NOT NULL"),
    ("shorad_version", "VARCHAR NOT NULL"),
    ("status", "VARCHAR NOT NULL"),
    ("error", "VARCHAR"),
    *((k, "BIGINT") for k in INT_TOTALS),
    *((k, "DOUBLE") for k in FLOAT_TOTALS),
    ("any_asset_hit", "BOOLEAN"),
    ("assets_hit", "VARCHAR"),
    ("totals_json", "VARCHAR"),
    ("wall_s", "DOUBLE"),
    ("worker", "VARCHAR"),
    ("finished_at", "DOUBLE"),
)
"""Columns of the ``runs`` table (name, DuckDB type), in order."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id VARCHAR PRIMARY KEY,
    scenario VARCHAR NOT NULL,
    scenario_path VARCHAR,
    scenario_hash VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    sweeps VARCHAR NOT NULL,
    runs_requested INTEGER NOT NULL,
    shorad_version VARCHAR NOT NULL,
    created_at DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    campaign_id VARCHAR NOT NULL,
    point_id INTEGER NOT NULL,
    params VARCHAR NOT NULL,
    scenario_hash VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, point_id)
);
CREATE TABLE IF NOT EXISTS runs (
    {", ".join(f"{n} {t}" for n, t in RUN_COLUMNS)},
    PRIMARY KEY (campaign_id, point_id, replicate)
);
"""


class ResultStore:
    """A DuckDB results file, opened for the life of the object (use as a context manager).

    Parameters
    ----------
    path : str or Path
        The database file (created with its tables if missing).
    read_only : bool
        Open without write access (``shorad results``); the file must exist.
    wait_s : float
        How long to wait for a file another process holds: a reader asks the campaign
        writer to let go (see the module docstring), a writer waits for readers to finish.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, wait_s: float = 30.0) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.wait_s = float(wait_s)
        self._request: Path | None = None
        if read_only and not self.path.exists():
            raise ConfigError(f"results store {str(self.path)!r} does not exist")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = self._connect()
        if not read_only:
            self.con.execute(_SCHEMA)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting up to ``wait_s`` while another process holds it."""
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise ConfigError(
                        f"cannot open results store {str(self.path)!r}: {exc}"
                    ) from None
                if self.read_only and self._request is None:
                    self._request = self.path.with_name(
                        f"{self.path.name}.read-request.{os.getpid()}"
                    )
                    self._request.touch()
                if time.monotonic() > deadline:
                    self._drop_request()
                    who = "a running campaign" if self.read_only else "another process"
                    raise ConfigError(
                        f"results store {str(self.path)!r} is held by {who} that did not let "
                        f"go within {self.wait_s:g} s; try again"
                    ) from None
                time.sleep(0.05)
            except duckdb.Error as exc:
                self._drop_request()
                raise ConfigError(f"cannot open results store {str(self.path)!r}: {exc}") from None

    def _drop_request(self) -> None:
        if self._request is not None:
            self._request.unlink(missing_ok=True)
            self._request = None

    def _read_requests(self) -> list[Path]:
        """Pending readers' request files; those of processes that are gone are removed."""
        live = []
        for f in self.path.parent.glob(f"{self.path.name}.read-request.*"):
            try:
                os.kill(int(f.name.rsplit(".", 1)[1]), 0)
            except ProcessLookupError:
                f.unlink(missing_ok=True)
                continue
            except (ValueError, PermissionError):
                pass  # not ours to judge: treat as live
            live.append(f)
        return live

    def yield_to_readers(self, yield_s: float = 10.0) -> bool:
        """Let waiting readers in (writer side; call between batches).

        Closes the file if a reader asked for it, waits until every request is withdrawn
        (at most ``yield_s`` seconds) and opens it again. Returns whether it let go.
        """
        if self.read_only or not self._read_requests():
            return False
        self.con.close()
        deadline = time.monotonic() + yield_s
        while self._read_requests() and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_s, self.wait_s = self.wait_s, max(self.wait_s, 600.0)  # a reader still reading
        try:
            self.con = self._connect()
        finally:
            self.wait_s = wait_s
        return True

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (committed rows are already durable)."""
        self.con.close()
        self._drop_request()

    # -- campaigns --------------------------------------------------------------------------

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's row, or None."""
        cur = self.con.execute("SELECT * FROM campaigns WHERE campaign_id = ?", [campaign_id])
        row = cur.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cur.description]
        return dict(zip(names, row, strict=True))

    def campaigns(self) -> list[dict[str, Any]]:
        """All campaigns, oldest first, with their row counts."""
        cur = self.con.execute(
            "SELECT c.*, "
            "(SELECT count(*) FROM runs r WHERE r.campaign_id = c.campaign_id) AS n_rows, "
            "(SELECT count(*) FROM runs r WHERE r.campaign_id = c.campaign_id "
            " AND r.status = 'failed') AS n_failed "
            "FROM campaigns c ORDER BY created_at"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def register(
        self,
        *,
        campaign_id: str,
        scenario: str,
        scenario_path: str | None,
        scenario_hash: str,
        seed: int,
        sweeps: Sequence[tuple[str, Sequence[Any]]],
        runs_requested: int,
        shorad_version: str,
        points: Iterable[tuple[int, str, str]],
    ) -> None:
        """Record a campaign and its points (idempotent; keeps the largest ``runs_requested``)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    campaign_id,
                    scenario,
                    scenario_path,
                    scenario_hash,
                    seed,
                    json.dumps([[k, list(v)] for k, v in sweeps]),
                    runs_requested,
                    shorad_version,
                    time.time(),
                ],
            )
            self.con.execute(
                "UPDATE campaigns SET runs_requested = greatest(runs_requested, ?) "
                "WHERE campaign_id = ?",
                [runs_requested, campaign_id],
            )
            self.con.executemany(
                "INSERT INTO points VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [[campaign_id, p, params, h] for p, params, h in points],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # -- runs -------------------------------------------------------------------------------

    def count(self, campaign_id: str) -> int:
        """Number of rows the campaign has."""
        row = self.con.execute(
            "SELECT count(*) FROM runs WHERE campaign_id = ?", [campaign_id]
        ).fetchone()
        return int(row[0]) if row else 0

    def done_keys(self, campaign_id: str) -> set[tuple[int, int]]:
        """``(point_id, replicate)`` of every row present (ok or failed)."""
        rows = self.con.execute(
            "SELECT point_id, replicate FROM runs WHERE campaign_id = ?", [campaign_id]
        ).fetchall()
        return {(int(p), int(r)) for p, r in rows}

    def drop_failed(self, campaign_id: str) -> int:
        """Delete the campaign's failed rows (to run them again); returns how many."""
        self.con.execute("BEGIN TRANSACTION")
        row = self.con.execute(
            "SELECT count(*) FROM runs WHERE campaign_id = ? AND status = 'failed'",
            [campaign_id],
        ).fetchone()
        self.con.execute(
            "DELETE FROM runs WHERE campaign_id = ? AND status = 'failed'", [campaign_id]
        )
        self.con.execute("COMMIT")
        return int(row[0]) if row else 0

    def insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert a batch of rows in one transaction; rows already present are left as they are."""
        if not rows:
            return
        names = [n for n, _ in RUN_COLUMNS]
        sql = (
            f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            "ON CONFLICT DO NOTHING"
        )
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.executemany(sql, [[r.get(n) for n in names] for r in rows])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def rows(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every row of the campaign, ordered by point and replicate."""
        cur = self.con.execute(
            "SELECT * FROM runs WHERE campaign_id = ? ORDER BY point_id, replicate",
            [campaign_id],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def export(self, campaign_id: str, out: str | Path) -> Path:
        """Write the campaign's rows to ``out`` (``.parquet`` or ``.csv``), atomically."""
        out = Path(out)
        fmt = {".parquet": "PARQUET", ".csv": "CSV"}.get(out.suffix.lower())
        if fmt is None:
            raise ConfigError(f"--export: expected a .parquet or .csv file name, got {str(out)!r}")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        opts = "FORMAT PARQUET" if fmt == "PARQUET" else "FORMAT CSV, HEADER"
        # COPY takes no prepared parameters for the file name: quote it ourselves.
        quoted = str(tmp).replace("'", "''")
        cid = campaign_id.replace("'", "''")
        self.con.execute(
            f"COPY (SELECT * FROM runs WHERE campaign_id = '{cid}' "
            f"ORDER BY point_id, replicate) TO '{quoted}' ({opts})"
        )
        tmp.replace(out)
        return out
