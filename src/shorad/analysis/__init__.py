"""Analysis: events -> RunSummary; result files."""

from shorad.analysis.io import events_table, write_events_parquet
from shorad.analysis.summary import RunSummary, summarise

__all__ = ["RunSummary", "events_table", "summarise", "write_events_parquet"]
