"""Campaign report: leakage and P(asset hit) against each swept parameter, with intervals.

Writes ``DIR/campaign.html`` (self-contained: figures embedded as PNG) and one
``DIR/sweep_<n>.png`` per swept key. Built on :class:`matplotlib.figure.Figure` (Agg canvas,
no pyplot global state), like the single-run report.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from shorad.analysis.stats import Interval
from shorad.campaign.results import CampaignTables, LevelStats
from shorad.report.figures import png_data_uri

__all__ = ["sweep_figure", "write_campaign_report"]


def _err(iv: Sequence[Interval]) -> tuple[list[float], list[list[float]]]:
    y = [iv_.estimate for iv_ in iv]
    lo = [0.0 if math.isnan(i.lo) else max(i.estimate - i.lo, 0.0) for i in iv]
    hi = [0.0 if math.isnan(i.hi) else max(i.hi - i.estimate, 0.0) for i in iv]
    return y, [lo, hi]


def sweep_figure(key: str, levels: Sequence[LevelStats]) -> Figure:
    """Mean leakers and P(any asset hit) against the levels of one swept key.

    Numeric levels are placed on a numeric axis; other levels are categories.
    """
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    values = [lv.value for lv in levels]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    x: list[float] = (
        [float(v) for v in values] if numeric else [float(i) for i in range(len(values))]
    )
    for ax, ivs, label, colour in (
        (ax1, [lv.leakers for lv in levels], "mean leakers per raid", "#b2182b"),
        (ax2, [lv.p_asset_hit for lv in levels], "P(any defended asset hit)", "#2166ac"),
    ):
        y, err = _err(ivs)
        ax.errorbar(x, y, yerr=err, fmt="o-", color=colour, capsize=4, lw=1.5)
        ax.set_ylabel(label)
        ax.set_xlabel(key)
        ax.grid(alpha=0.3)
        if not numeric:
            ax.set_xticks(x, [json.dumps(v) if not isinstance(v, str) else v for v in values])
    ax2.set_ylim(-0.02, 1.02)
    n = min((lv.ok for lv in levels), default=0)
    conf = levels[0].leakers.confidence if levels else 0.95
    fig.suptitle(f"{key}: {conf:.0%} intervals (>= {n} runs per level)", fontsize=10)
    return fig


def _cell(v: Any) -> str:
    return html.escape(v if isinstance(v, str) else json.dumps(v))


def write_campaign_report(tables: CampaignTables, out_dir: str | Path) -> Path:
    """Write the campaign report into ``out_dir``; returns the HTML file's path.

    Files are written to a temporary folder beside ``out_dir`` and moved in at the end, so a
    failure leaves an existing report untouched.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        keys = list(dict.fromkeys(lv.key for lv in tables.sensitivity))
        imgs = []
        for i, key in enumerate(keys):
            fig = sweep_figure(key, [lv for lv in tables.sensitivity if lv.key == key])
            fig.savefig(tmp / f"sweep_{i}.png", dpi=110)
            imgs.append((key, png_data_uri(fig)))
        c = tables.campaign
        rows = "".join(
            "<tr>"
            + f"<td>{p.point_id}</td><td>{_cell(p.params)}</td><td>{p.ok}</td><td>{p.failed}</td>"
            + "".join(
                f"<td>{html.escape(iv.format(d))}</td>"
                for iv, d in (
                    (p.p_asset_hit, 3),
                    (p.leakers, 2),
                    (p.shots_per_kill, 2),
                    (p.cost_exchange, 1),
                )
            )
            + "</tr>"
            for p in tables.points
        )
        figs = "".join(
            f"<h3>{html.escape(k)}</h3><img alt='{html.escape(k)}' src='{uri}'>" for k, uri in imgs
        )
        page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>shorad campaign {html.escape(str(c["campaign_id"]))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}
</style></head><body>
<h1>Campaign {html.escape(str(c["campaign_id"]))}: {html.escape(str(c["scenario"]))}</h1>
<p>Simulation only. {tables.present} of {tables.requested} runs stored ({tables.failed} failed),
campaign seed {c["seed"]}, shorad {html.escape(str(c["shorad_version"]))}. Intervals: Wilson for
probabilities, Student t for means, 95 %.</p>
<table><tr><th>point</th><th>parameters</th><th>ok</th><th>failed</th><th>P(asset hit)</th>
<th>leakers</th><th>shots per kill</th><th>cost exchange</th></tr>{rows}</table>
{figs}
</body></html>
"""
        (tmp / "campaign.html").write_text(page, encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        for f in tmp.glob("*"):
            f.unlink()
        tmp.rmdir()
    return out / "campaign.html"
