"""One run as a self-contained HTML report for an air-defence planner.

The document needs no network: CSS is inline and figures are embedded as base64 PNG. Every
piece of text taken from the scenario or the run is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shorad.analysis.summary import RunSummary
from shorad.errors import ShoradError
from shorad.report.figures import (
    plot_raid_overview,
    plot_site_map,
    plot_timeline,
    png_data_uri,
)
from shorad.sim.engine import SimResult
from shorad.sim.spec import ScenarioSpec

__all__ = ["render_report", "write_report"]

log = logging.getLogger(__name__)

OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
ODBL_URL = "https://opendatacommons.org/licenses/odbl/"
_DPI = 110.0
_DASH = "—"


class _Html(str):
    """Text that is already HTML (not escaped again by :func:`_cell`)."""

    __slots__ = ()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    if isinstance(value, _Html):
        return str(value)
    if value is None:
        return _DASH
    return _e(value)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _num(value: Any, nd: int = 0) -> str:
    v = _finite(value)
    return _DASH if v is None else f"{v:,.{nd}f}"


def _usd(value: Any) -> str:
    v = _finite(value)
    return _DASH if v is None else f"${v:,.0f}"


def _secs(value: Any) -> str:
    v = _finite(value)
    return _DASH if v is None else f"{v:,.1f}"


def _clock(value: Any) -> str:
    v = _finite(value)
    if v is None:
        return _DASH
    m, s = divmod(round(v), 60)
    return f"{m:d} min {s:02d} s"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Sequence[int] = (),
    cls: str = "",
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; cells are escaped unless they are :class:`_Html`."""
    num = set(numeric)
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if j in num else f"<th>{_e(h)}</th>"
        for j, h in enumerate(headers)
    )
    body = []
    for i, row in enumerate(rows):
        rc = row_classes[i] if row_classes is not None and row_classes[i] else ""
        tds = "".join(
            f'<td class="num">{_cell(v)}</td>' if j in num else f"<td>{_cell(v)}</td>"
            for j, v in enumerate(row)
        )
        body.append(f'<tr class="{_e(rc)}">{tds}</tr>' if rc else f"<tr>{tds}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="empty">none</td></tr>')
    cattr = f' class="{_e(cls)}"' if cls else ""
    return (
        f"<table{cattr}><thead><tr>{head}</tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def _badge(outcome: str, text: str | None = None) -> _Html:
    return _Html(f'<span class="badge {_e(outcome)}">{_e(text or outcome)}</span>')


# -- sections ------------------------------------------------------------------------------


_CSS = """
:root { --ink:#1d2329; --muted:#5b6670; --line:#d9dee3; --killed:#0072B2; --leaked:#D55E00;
        --airborne:#CC79A7; --asset:#009E73; --warn-bg:#fff6e0; --warn-line:#e0b44c; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; background: #f5f6f8; line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 34px 0 8px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
p.lead, .muted { color: var(--muted); }
.meta { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 8px 0 12px; font-size: 0.92em;
        color: var(--muted); }
.meta b { color: var(--ink); font-weight: 600; }
.notice { background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 6px;
          padding: 8px 12px; margin: 10px 0; font-size: 0.93em; }
.verdict { font-size: 1.35em; font-weight: 600; margin: 16px 0 4px; padding: 12px 16px;
           border-left: 6px solid var(--leaked); background: #fbf3ee; border-radius: 4px; }
.verdict.clean { border-left-color: var(--killed); background: #eef5fb; }
.verdict-sub { margin: 2px 0 0 22px; color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 0.88em; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #eef1f4; font-weight: 600; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: var(--muted); text-align: center; font-style: italic; }
table.key td:first-child { font-weight: 600; white-space: nowrap; }
table.key td:last-child { color: var(--muted); }
tr.hit td { background: #fdece4; }
tr.over td { background: #fff4e0; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 0.85em;
         color: #fff; background: #777; }
.badge.killed { background: var(--killed); }
.badge.leaked { background: var(--leaked); }
.badge.airborne { background: var(--airborne); }
figure { margin: 8px 0 16px; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 0.88em; color: var(--muted); margin-top: 4px; }
details { margin: 10px 0; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 40px; font-size: 0.85em; color: var(--muted);
         border-top: 1px solid var(--line); padding-top: 10px; }
code { font-size: 0.92em; }
@media print { body { background: #fff; } main { padding: 0; } th { position: static; } }
"""


def _attribution() -> str:
    return (
        'Map data © <a href="' + OSM_COPYRIGHT_URL + '">OpenStreetMap contributors</a> '
        '(<a href="' + ODBL_URL + '">ODbL</a>)'
    )


def _verdict(spec: ScenarioSpec, summary: RunSummary) -> str:
    t = summary.totals
    n = int(t.get("threats", len(summary.threats)))
    killed = int(t.get("killed", 0))
    leakers = int(t.get("leakers", 0))
    hits = int(t.get("asset_hits", 0))
    airborne = n - killed - leakers
    where = "buildings" if bool(np.all(spec.assets.building >= 0)) else "assets"

    def num(key: str, v: int) -> str:
        return f'<span class="n" data-total="{_e(key)}">{v}</span>'

    text = (
        f"{num('killed', killed)} of {num('threats', n)} drones destroyed, "
        f"{num('leakers', leakers)} leaked, "
        f"{num('asset_hits', hits)} {_plural(hits, 'hit', 'hits')} on defended {where}"
    )
    if airborne > 0:
        text += f", {airborne} still airborne or not yet launched at the end of the run"
    cls = "verdict clean" if leakers == 0 and hits == 0 else "verdict"
    sub = []
    if t.get("shots") is not None:
        sub.append(
            f"{_num(t.get('shots'))} shots fired for {_num(t.get('kills'))} kills "
            f"({_num(t.get('shots_per_kill'), 2)} shots per kill)"
        )
    if t.get("interceptor_cost_usd") is not None:
        sub.append(
            f"{_usd(t.get('interceptor_cost_usd'))} of interceptors spent against "
            f"{_usd(t.get('threat_cost_destroyed_usd'))} of drones destroyed"
        )
    sub_html = f'<p class="verdict-sub">{_e("; ".join(sub))}.</p>' if sub else ""
    return f'<p class="{cls}" id="verdict">{text}.</p>{sub_html}'


def _header(spec: ScenarioSpec, summary: RunSummary, result: SimResult) -> str:
    m = summary.meta
    full_hash = str(m.get("scenario_hash", spec.scenario_hash))
    end = m.get("end_t_s", result.end_t_s)
    frame = spec.world.frame
    items = [
        ("Seed", _e(m.get("seed", result.seed))),
        ("Scenario hash", f'<code title="{_e(full_hash)}">{_e(full_hash[:12])}</code>'),
        ("shorad", _e(m.get("shorad_version", ""))),
        (
            "Simulated end",
            f"{_e(_secs(end))} s ({_e(_clock(end))}) of {_e(_secs(spec.duration_s))} s",
        ),
        (
            "Site origin",
            _e(f"{frame.lat0_deg:.5f}° N, {frame.lon0_deg:.5f}° E"),
        ),
        (
            "Forces",
            _e(
                f"{len(spec.assets)} defended assets, {len(spec.units)} units, "
                f"{len(spec.effectors)} effectors, {spec.n_threats} threats"
            ),
        ),
    ]
    meta = "".join(f"<span><b>{k}:</b> {v}</span>" for k, v in items)
    name = _e(m.get("scenario", spec.name))
    return (
        f"<header><h1>{name}</h1>"
        '<p class="lead">shorad run report: short-range air defence of an urban site '
        "against drones.</p>"
        f'<div class="meta">{meta}</div>'
        '<p class="notice"><b>Simulation only — all performance figures are generic '
        "assumptions.</b> Sensor, weapon and threat parameters are illustrative or taken from "
        "public sources (see <i>Assumptions</i> below); nothing here describes a real system's "
        f"performance. {_attribution()}.</p>"
        f"{_verdict(spec, summary)}</header>"
    )


_KEY_FIGURES: tuple[tuple[str, str, str, str], ...] = (
    # key, label, unit ("usd", "s", "pct", "ratio" or text), explanation
    ("threats", "Threats in the raid", "", "Drones launched or planned in this run."),
    ("killed", "Destroyed", "", "Threats killed by an intercept before reaching their aim point."),
    ("leakers", "Leakers", "", "Threats that reached their aim point unharmed."),
    ("leak_fraction", "Leak fraction", "pct", "Leakers as a share of all threats."),
    (
        "asset_hits",
        "Hits on defended assets",
        "",
        "Leakers arriving within an asset's hit radius (one threat can hit one asset).",
    ),
    (
        "value_hit",
        "Asset value hit",
        "",
        "Sum of the values of the assets hit at least once (scenario value units).",
    ),
    ("detected", "Threats detected", "", "Threats seen by at least one radar."),
    ("confirmed", "Threats tracked", "", "Threats with at least one confirmed track."),
    ("shots", "Shots fired", "shots", "Engagements ordered (a gun burst or one missile)."),
    ("kills", "Kills", "", "Intercepts that destroyed their target."),
    ("shots_per_kill", "Shots per kill", "ratio", "Shots fired divided by kills."),
    (
        "interceptor_cost_usd",
        "Interceptor cost",
        "usd",
        "Cost of every shot fired (generic cost per engagement).",
    ),
    (
        "threat_cost_destroyed_usd",
        "Threat cost destroyed",
        "usd",
        "Generic unit cost of the drones destroyed.",
    ),
    (
        "cost_exchange",
        "Cost-exchange ratio",
        "ratio",
        "Interceptor cost ÷ threat cost destroyed; above 1 the defender spends more than the "
        "attacker loses.",
    ),
    (
        "intercepts_over_buildings",
        "Intercepts over buildings",
        "",
        "Kills whose debris footprint touches at least one building (collateral risk).",
    ),
    (
        "false_tracks_confirmed",
        "False tracks confirmed",
        "",
        "Confirmed tracks not on any real threat (clutter).",
    ),
    (
        "shots_at_false_tracks",
        "Shots at false tracks",
        "shots",
        "Engagements ordered against a track that follows no real threat (clutter).",
    ),
    (
        "shots_wide",
        "Wide shots",
        "shots",
        "Shots whose aim point had no drone within ten aim tolerances at intercept time.",
    ),
    (
        "mean_time_margin_s",
        "Mean time margin",
        "s",
        "Average of (planned impact time − kill time) over kills: how early threats were stopped.",
    ),
)


def _key_figures(summary: RunSummary) -> str:
    t = summary.totals
    rows = []
    for key, label, unit, expl in _KEY_FIGURES:
        if key not in t:
            continue
        v = t[key]
        if unit == "usd":
            value, u = _num(v), "USD"
        elif unit == "s":
            value, u = _secs(v), "s"
        elif unit == "pct":
            f = _finite(v)
            value, u = (_DASH if f is None else f"{100 * f:.1f}"), "%"
        elif unit == "ratio":
            value, u = _num(v, 2), ""
        else:
            value, u = _num(v), unit
        rows.append((label, _Html(f'<span data-key="{_e(key)}">{_e(value)}</span>'), u, expl))
    return "<h2>Key figures</h2>" + _table(
        ["Figure", "Value", "Unit", "What it means"], rows, numeric=(1,), cls="key"
    )


def _figure(uri: str, alt: str, caption: str) -> str:
    return f'<figure><img src="{uri}" alt="{_e(alt)}"><figcaption>{caption}</figcaption></figure>'


def _building_label(spec: ScenarioSpec, row: int) -> str:
    b = spec.world.buildings
    if row < 0:
        return "free position"
    name = str(b.name[row])
    key = str(b.osm_key[row])
    return f"{name} ({key})" if name else key


def _buildings_html(spec: ScenarioSpec, keys: Sequence[str]) -> _Html:
    """Named buildings one per line, then the unnamed ones as a short list of keys."""
    named, unnamed = [], []
    for key in dict.fromkeys(keys):
        try:
            name = str(spec.world.buildings.name[spec.world.buildings.index_of(key)])
        except ShoradError:
            name = ""
        if name:
            named.append(f"{_e(name)} <small>({_e(key)})</small>")
        else:
            unnamed.append(key)
    parts = list(named)
    if unnamed:
        label = f"{len(unnamed)} unnamed {_plural(len(unnamed), 'building', 'buildings')}"
        parts.append(
            f'<span class="muted">{_e(label)}: <small>{_e(", ".join(unnamed))}</small></span>'
        )
    return _Html("<br>".join(parts))


def _assets_table(spec: ScenarioSpec, summary: RunSummary) -> str:
    rows, classes = [], []
    for a in summary.assets:
        hits = int(a.get("hits", 0))
        building = a.get("building")
        where = f"{a.get('name')} ({building})" if a.get("name") else (building or "free position")
        rows.append(
            (
                a.get("id"),
                where,
                _num(a.get("value"), 0),
                _num(a.get("attackers")),
                _num(hits),
                _num(a.get("value_hit"), 0),
                _badge("leaked", "hit") if hits else _Html('<span class="muted">unharmed</span>'),
            )
        )
        classes.append("hit" if hits else "")
    return "<h3>Defended assets</h3>" + _table(
        ["Asset", "Building", "Value", "Attackers", "Hits", "Value hit", "Status"],
        rows,
        numeric=(2, 3, 4, 5),
        row_classes=classes,
    )


def _units_table(spec: ScenarioSpec, summary: RunSummary) -> str:
    units = spec.units
    eff = spec.effectors
    per_unit: dict[str, dict[str, float]] = {}  # unit id -> shots, kills, cost
    for e in summary.effectors:
        d = per_unit.setdefault(str(e.get("unit")), {"shots": 0, "kills": 0, "cost": 0.0})
        d["shots"] += int(e.get("shots", 0))
        d["kills"] += int(e.get("kills", 0))
        d["cost"] += float(e.get("cost_usd") or 0.0)
    lat = lon = np.full(len(units), math.nan)
    try:
        if len(units):
            lat, lon, _h = spec.world.frame.geodetic_from_enu(units.pos_m)
    except (ShoradError, ValueError):
        pass
    rows = []
    for u, uid in enumerate(units.unit_id):
        radar = units.radar[u]
        types = [eff.types[int(eff.type_index[e])].name for e in np.flatnonzero(eff.unit == u)]
        d = per_unit.get(uid, {"shots": 0, "kills": 0, "cost": 0.0})
        rows.append(
            (
                uid,
                _building_label(spec, int(units.building[u])),
                f"{float(lat[u]):.5f}, {float(lon[u]):.5f}",
                _num(units.pos_m[u, 2], 0),
                f"{radar.name} ({radar.max_range_m / 1000:g} km)" if radar is not None else None,
                ", ".join(types) or None,
                _num(d["shots"]),
                _num(d["kills"]),
                _usd(d["cost"]),
            )
        )
    return "<h3>Units</h3>" + _table(
        [
            "Unit",
            "On building",
            "Lat, lon (°)",
            "Mount height (m)",
            "Radar",
            "Effectors",
            "Shots",
            "Kills",
            "Cost",
        ],
        rows,
        numeric=(3, 6, 7, 8),
    )


def _effectors_table(summary: RunSummary) -> str:
    rows = []
    for e in summary.effectors:
        resolved = int(e.get("shots_resolved", e.get("shots", 0)))
        kills = int(e.get("kills", 0))
        rows.append(
            (
                e.get("id"),
                e.get("unit"),
                e.get("type"),
                _num(e.get("shots")),
                _num(resolved),
                _num(kills),
                f"{100 * kills / resolved:.0f} %" if resolved else None,
                _num(e.get("rounds")),
                _usd(e.get("cost_usd")),
            )
        )
    return (
        "<h3>Effectors</h3>"
        '<p class="muted">Shots fired are engagements ordered; resolved shots are those whose '
        "intercept time came before the end of the run.</p>"
        + _table(
            [
                "Effector",
                "Unit",
                "Type",
                "Shots fired",
                "Resolved",
                "Kills",
                "Kills / resolved",
                "Rounds",
                "Cost",
            ],
            rows,
            numeric=(0, 3, 4, 5, 6, 7, 8),
        )
    )


def _threat_names(spec: ScenarioSpec, summary: RunSummary) -> dict[int, str]:
    return {int(t["id"]): f"#{int(t['id'])} {t.get('class', '')}" for t in summary.threats}


def _effector_names(spec: ScenarioSpec) -> dict[int, str]:
    eff = spec.effectors
    return {
        int(eff.effector_id[e]): f"{eff.effector_id[e]} {eff.types[int(eff.type_index[e])].name}"
        for e in range(len(eff))
    }


def _debris_over_buildings(spec: ScenarioSpec, summary: RunSummary) -> str:
    names = _threat_names(spec, summary)
    effs = _effector_names(spec)
    rows = []
    for x in sorted(summary.intercepts, key=lambda x: _finite(x.get("t_s")) or 0.0):
        d = x.get("debris") or {}
        blds = d.get("buildings") or []
        if not blds:
            continue
        rows.append(
            (
                _secs(x.get("t_s")),
                names.get(x["threat"], "false track") if x.get("threat") is not None else None,
                x.get("unit"),
                effs.get(int(x.get("effector", -1)), x.get("effector")),
                _num(x["pos_m"][2], 0) if x.get("pos_m") else None,
                _num(d.get("radius_m"), 0),
                _buildings_html(spec, [str(k) for k in blds]),
                ", ".join(d.get("assets_under") or []) or None,
            )
        )
    return (
        "<h2>Intercepts over buildings</h2>"
        '<p class="muted">Kills whose debris footprint (a circle on the ground around the '
        "intercept point, growing with altitude) touches buildings. Defended assets under "
        "debris are flagged in the last column.</p>"
        + _table(
            [
                "Time (s)",
                "Threat",
                "Unit",
                "Effector",
                "Altitude (m)",
                "Debris radius (m)",
                "Buildings under debris",
                "Defended assets under",
            ],
            rows,
            numeric=(0, 4, 5),
            row_classes=["hit" if r[7] else "over" for r in rows],
        )
    )


def _threats_table(spec: ScenarioSpec, summary: RunSummary, result: SimResult) -> str:
    eff = spec.effectors
    unit_of = {
        int(eff.effector_id[e]): spec.units.unit_id[int(eff.unit[e])] for e in range(len(eff))
    }
    effs = _effector_names(spec)
    rows = sorted(summary.threats, key=lambda t: (_finite(t.get("launch_t_s")) or 0.0, t["id"]))
    body = []
    for t in rows:
        k = t.get("killed_by_effector")
        by = f"{effs.get(int(k), k)} on {unit_of.get(int(k), '?')}" if k is not None else None
        body.append(
            (
                t.get("id"),
                t.get("class"),
                t.get("target"),
                _secs(t.get("launch_t_s")),
                _secs(t.get("detected_t_s")),
                _secs(t.get("confirmed_t_s")),
                _secs(t.get("first_engaged_t_s")),
                _num(t.get("shots")),
                _badge(str(t.get("outcome", "airborne"))),
                _secs(t.get("end_t_s")),
                by,
                _secs(t.get("time_margin_s")),
            )
        )
    n_killed = sum(1 for t in rows if t.get("outcome") == "killed")
    return (
        f"<details><summary>Per-threat table ({len(rows)} threats, {n_killed} killed) — "
        "click to expand</summary>"
        '<p class="muted">Times in seconds from the scenario start. Shots are intercepts '
        "resolved against the threat. Time margin = planned impact time − kill time.</p>"
        + _table(
            [
                "Threat",
                "Class",
                "Target",
                "Launch",
                "Detected",
                "Confirmed",
                "First engaged",
                "Shots",
                "Outcome",
                "End",
                "Killed by",
                "Time margin (s)",
            ],
            body,
            numeric=(0, 3, 4, 5, 6, 7, 9, 11),
        )
        + "</details>"
    )


def _intercepts_table(spec: ScenarioSpec, summary: RunSummary) -> str:
    names = _threat_names(spec, summary)
    effs = _effector_names(spec)
    rows = []
    for x in summary.intercepts:
        pos = x.get("pos_m") or [None, None, None]
        d = x.get("debris") or {}
        rows.append(
            (
                _secs(x.get("t_s")),
                x.get("unit"),
                effs.get(int(x.get("effector", -1)), x.get("effector")),
                names.get(x["threat"], x["threat"])
                if x.get("threat") is not None
                else "false track",
                _badge("killed") if x.get("killed") else _Html('<span class="muted">miss</span>'),
                f"{_num(pos[0], 0)}, {_num(pos[1], 0)}, {_num(pos[2], 0)}",
                _num(d.get("radius_m"), 0) if d else None,
                len(d.get("buildings") or []) if d else None,
            )
        )
    return (
        f"<details><summary>All intercepts ({len(rows)})</summary>"
        + _table(
            [
                "Time (s)",
                "Unit",
                "Effector",
                "Threat",
                "Result",
                "Position E, N, U (m)",
                "Debris radius (m)",
                "Buildings under",
            ],
            rows,
            numeric=(0, 5, 6, 7),
        )
        + "</details>"
    )


def _assumptions(spec: ScenarioSpec) -> str:
    cls_rows = [
        (
            c.name,
            _num(c.speed_mps, 0),
            _num(c.speed_sigma_mps, 0),
            _num(c.cruise_alt_m, 0),
            _num(c.dive_start_m, 0),
            _num(c.rcs_dbsm, 0),
            _usd(c.cost_usd),
        )
        for c in spec.classes
    ]
    class_names = [c.name for c in spec.classes]
    eff_rows = []
    for et in spec.effectors.types:
        pk = ", ".join(
            f"{n} {float(p):.2f}" for n, p in zip(class_names, et.pk_by_class, strict=False)
        )
        eff_rows.append(
            (
                et.name,
                et.kind,
                f"{et.min_range_m:,.0f}–{et.max_range_m:,.0f}",
                _num(et.max_alt_m, 0),
                _num(et.reaction_s, 1),
                _num(et.flyout_mps, 0),
                pk,
                f"{et.magazine} / {et.reload_s:g} s",
                _usd(et.cost_per_shot_usd),
                _num(et.debris_radius_m, 0),
            )
        )
    radars: dict[str, Any] = {}
    for r in spec.units.radar:
        if r is not None:
            radars.setdefault(r.name, r)
    radar_rows = [
        (
            r.name,
            f"{r.min_range_m:,.0f}–{r.max_range_m:,.0f}",
            _num(r.scan_period_s, 1),
            f"{r.ref_snr_db:g} dB at {r.ref_range_m:,.0f} m on {r.ref_rcs_dbsm:g} dBsm",
            f"{r.pfa:.0e}",
            _num(r.clutter_per_scan, 1),
            f"{math.degrees(r.min_el_rad):.0f}° to {math.degrees(r.max_el_rad):.0f}°",
        )
        for r in radars.values()
    ]
    d = spec.doctrine
    doctrine = (
        f"Assignment {d.assignment}, "
        f"{'shoot-look-shoot' if d.shots_per_salvo == 1 else 'shoot-shoot-look'}, "
        f"look {d.look_s:g} s, "
        f"{'confirmed tracks only' if d.engage_confirmed_only else 'tentative tracks allowed'}, "
        f"stale track after {d.stale_track_s:g} s; C2 cycle {spec.c2_period_s:g} s, "
        f"clock step {spec.time_step_s:g} s."
    )
    return (
        "<h2>Assumptions</h2>"
        '<p class="muted">Every number below is a generic, documented assumption from the '
        "preset files (each marked with its public source or as illustrative), not the "
        "performance of any real system. Change them in the scenario or preset files.</p>"
        "<h3>Threat classes</h3>"
        + _table(
            [
                "Class",
                "Speed (m/s)",
                "Speed σ (m/s)",
                "Cruise alt. (m)",
                "Dive start (m)",
                "RCS (dBsm)",
                "Unit cost",
            ],
            cls_rows,
            numeric=(1, 2, 3, 4, 5, 6),
        )
        + "<h3>Effector types</h3>"
        + _table(
            [
                "Type",
                "Kind",
                "Range (m)",
                "Max alt. (m)",
                "Reaction (s)",
                "Flyout (m/s)",
                "Pk per shot by class",
                "Magazine / reload",
                "Cost per shot",
                "Debris radius (m)",
            ],
            eff_rows,
            numeric=(3, 4, 5, 8, 9),
        )
        + "<h3>Radars</h3>"
        + _table(
            [
                "Type",
                "Range (m)",
                "Scan period (s)",
                "Reference SNR",
                "Pfa",
                "Clutter / scan",
                "Elevation",
            ],
            radar_rows,
            numeric=(2, 5),
        )
        + f"<h3>Doctrine</h3><p>{_e(doctrine)}</p>"
    )


def render_report(spec: ScenarioSpec, summary: RunSummary, result: SimResult) -> str:
    """Render one run as a complete, self-contained HTML document.

    Parameters
    ----------
    spec : ScenarioSpec
        The scenario that was run.
    summary : RunSummary
        Its summary (from :func:`shorad.api.run_full`).
    result : SimResult
        The raw result (threat plan and event log).

    Returns
    -------
    str
        An HTML5 document with inline CSS and figures embedded as base64 PNG; it loads
        nothing from the network. The only external links are the OpenStreetMap / ODbL
        attribution anchors.
    """
    t0 = time.perf_counter()
    map_uri = png_data_uri(plot_site_map(spec, summary, result), _DPI)
    raid_uri = png_data_uri(plot_raid_overview(spec, summary, result), _DPI)
    timeline_uri = png_data_uri(plot_timeline(spec, summary, result), _DPI)
    name = _e(summary.meta.get("scenario", spec.name))
    body = [
        _header(spec, summary, result),
        _key_figures(summary),
        "<h2>Defended site</h2>",
        _figure(
            map_uri,
            "Map of the defended site",
            "Building footprints shaded by roof height; defended assets in green (dotted "
            "circle: hit radius); units as triangles with the maximum range of each effector "
            "(dashed). Threat paths are drawn as flown, up to the kill or impact, coloured by "
            "outcome. The view covers the units and assets plus 1.5 km; threats start further "
            "out (see the raid overview). " + _attribution() + ".",
        ),
        "<h2>Raid overview</h2>",
        _figure(
            raid_uri,
            "Raid overview map",
            "The whole raid: the approach sector of each raid group (shaded wedges, one per "
            "asset the group attacks, with their apex on that asset), start points coloured "
            "by threat class, planned paths (dotted), the part actually flown coloured by "
            "outcome, and each radar's instrumented range.",
        ),
        "<h2>Timeline</h2>",
        _figure(
            timeline_uri,
            "Engagement timeline, one row per threat",
            "One row per threat, sorted by launch time (label: threat number → target). The "
            "bar spans launch to kill, impact or end of run, coloured by class.",
        ),
        "<h2>Assets, units and effectors</h2>",
        _assets_table(spec, summary),
        _units_table(spec, summary),
        _effectors_table(summary),
        _debris_over_buildings(spec, summary),
        "<h2>Threats and intercepts</h2>",
        _threats_table(spec, summary, result),
        _intercepts_table(spec, summary),
        _assumptions(spec),
        "<footer>"
        f"Generated by shorad {_e(summary.meta.get('shorad_version', ''))} from scenario "
        f"<code>{_e(summary.meta.get('scenario_hash', spec.scenario_hash))}</code>, seed "
        f"{_e(summary.meta.get('seed', result.seed))}. Simulation only — all performance "
        f"figures are generic assumptions. {_attribution()}.</footer>",
    ]
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{name} — shorad report</title><style>{_CSS}</style></head>"
        "<body><main>" + "\n".join(body) + "</main></body></html>\n"
    )
    log.debug("rendered report of %r in %.2f s", spec.name, time.perf_counter() - t0)
    return doc


def write_report(
    spec: ScenarioSpec, summary: RunSummary, result: SimResult, path: str | Path
) -> None:
    """Render the report and write it to ``path`` (UTF-8).

    The document is rendered completely, written to a temporary file beside ``path`` and
    moved into place, so a failure leaves an existing file at ``path`` untouched.

    Parameters
    ----------
    spec : ScenarioSpec
    summary : RunSummary
    result : SimResult
    path : str or Path
        Output file.
    """
    text = render_report(spec, summary, result)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
