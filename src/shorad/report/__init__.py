"""HTML report of one run: map, raid overview, timeline and tables, in one self-contained file."""

from shorad.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
