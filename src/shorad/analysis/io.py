"""Writing run results: the event log to Parquet with the seed and scenario hash."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shorad._version import __version__
from shorad.sim.events import EventKind, EventLog

__all__ = ["events_table", "write_events_parquet"]


def events_table(events: EventLog, *, seed: int, scenario_hash: str) -> pa.Table:
    """The event log as an Arrow table; ``kind`` as a dictionary-encoded label."""
    cols = events.columns()
    labels = [k.label for k in EventKind]
    kind = pa.DictionaryArray.from_arrays(
        pa.array(cols.pop("kind").astype("int8")), pa.array(labels)
    )
    arrays = {"t_s": pa.array(cols.pop("t_s")), "kind": kind}
    arrays.update({k: pa.array(v) for k, v in cols.items()})
    meta = {
        b"shorad.seed": str(seed).encode(),
        b"shorad.scenario_hash": scenario_hash.encode(),
        b"shorad.version": __version__.encode(),
    }
    return pa.table(arrays).replace_schema_metadata(meta)


def write_events_parquet(
    events: EventLog, path: str | Path, *, seed: int, scenario_hash: str
) -> None:
    """Write ``events`` to ``path`` (Parquet, zstd)."""
    table = events_table(events, seed=seed, scenario_hash=scenario_hash)
    pq.write_table(table, str(path), compression="zstd")
