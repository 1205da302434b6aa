"""Figures of one run for the HTML report: site map, raid overview and engagement timeline.

Every figure is built on its own :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot
global state), in ENU metres about the site origin with axes labelled in kilometres, and
returned to the caller, who encodes it with :func:`png_data_uri`.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, Wedge
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter
from numpy.typing import NDArray

from shorad.analysis.summary import RunSummary
from shorad.sim.engine import SimResult
from shorad.sim.events import EventKind
from shorad.sim.spec import ScenarioSpec
from shorad.threats.base import ThreatPlan

__all__ = [
    "CLASS_COLOURS",
    "OUTCOME_COLOURS",
    "MapView",
    "flown_paths",
    "plot_raid_overview",
    "plot_site_map",
    "plot_timeline",
    "png_data_uri",
    "threat_end_times",
]

OUTCOME_COLOURS: dict[str, str] = {
    "killed": "#0072B2",
    "leaked": "#D55E00",
    "airborne": "#555555",
}
"""Colour of a threat's path by outcome (Okabe–Ito palette, colour-blind safe)."""

CLASS_COLOURS: tuple[str, ...] = (
    "#9467bd",
    "#8c564b",
    "#bcbd22",
    "#17becf",
    "#e377c2",
    "#7f7f7f",
)
"""Colours of threat classes (in scenario class order), distinct from the outcome colours."""

ASSET_FILL = "#009E73"
ASSET_EDGE = "#00553e"
DEBRIS_COLOUR = "#E69F00"
UNIT_COLOUR = "#111111"
RING_STYLES: tuple[Any, ...] = ((0, (5, 3)), (0, (1, 2)), (0, (8, 2, 1, 2)), (0, (3, 1, 1, 1)))
_HALO = [patheffects.withStroke(linewidth=2.6, foreground="white")]
_HEIGHT_CMAP = LinearSegmentedColormap.from_list(
    "shorad_heights", [mpl.colormaps["Greys"](0.18), mpl.colormaps["Greys"](0.9)]
)


def _text(s: object) -> str:
    """Text safe for matplotlib labels: ``$`` would start mathtext."""
    return str(s).replace("$", r"\$")


def _class_colour(cls: int) -> str:
    return CLASS_COLOURS[int(cls) % len(CLASS_COLOURS)]


def png_data_uri(fig: Figure, dpi: float = 110.0) -> str:
    """Render a figure to a ``data:image/png;base64,...`` URI (deterministic bytes).

    Parameters
    ----------
    fig : Figure
    dpi : float, default 110
        Resolution (dots per inch).

    Returns
    -------
    str
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def threat_end_times(summary: RunSummary, result: SimResult) -> NDArray[np.float64]:
    """Time each threat stopped flying: kill or impact time, else the run's end.

    Parameters
    ----------
    summary : RunSummary
    result : SimResult

    Returns
    -------
    (n,) float64
        Seconds from the scenario epoch, one per threat of ``result.plan``; a leaker's is
        its planned impact time.
    """
    n = len(result.plan)
    end = np.full(n, float(result.end_t_s))
    for row in summary.threats:
        i = int(row["id"])
        t = row.get("end_t_s")
        if not 0 <= i < n:
            continue
        if row.get("outcome") == "leaked":
            end[i] = float(result.plan.impact_t_s[i])  # exact (the summary rounds to 1 ms)
        elif t is not None:
            end[i] = float(t)
    return end


def flown_paths(plan: ThreatPlan, end_t_s: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Each threat's planned polyline cut at the time it stopped flying.

    Parameters
    ----------
    plan : ThreatPlan
        Path vertices ``vert_m`` (n, K, 3) and their times ``vert_t_s`` (n, K).
    end_t_s : (n,) float64
        Time each threat stopped (kill, impact or end of run), s.

    Returns
    -------
    list of (k, 3) float64
        ENU vertices flown (m): the vertices reached before ``end_t_s`` and the position at
        ``end_t_s`` (linear in time along the leg). A threat not launched by ``end_t_s``
        gets an empty (0, 3) array.
    """
    out: list[NDArray[np.float64]] = []
    for i in range(len(plan)):
        vt = plan.vert_t_s[i]
        vm = plan.vert_m[i]
        t_end = float(end_t_s[i])
        if not t_end >= vt[0]:
            out.append(np.zeros((0, 3)))
            continue
        t_end = min(t_end, float(vt[-1]))
        keep = vt < t_end
        last = np.array([np.interp(t_end, vt, vm[:, d]) for d in range(3)])
        out.append(np.vstack([vm[keep], last[None, :]]))
    return out


@dataclass(frozen=True, slots=True)
class MapView:
    """The rectangle a map shows, ENU metres ``(xmin, ymin, xmax, ymax)``."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @classmethod
    def around(cls, xy_m: NDArray[np.float64], margin_m: float, square: bool = True) -> MapView:
        """Bounding box of points ``xy_m`` (n, 2) grown by ``margin_m``, optionally squared."""
        lo = xy_m.min(axis=0) - margin_m
        hi = xy_m.max(axis=0) + margin_m
        if square:
            c = 0.5 * (lo + hi)
            h = 0.5 * float(np.max(hi - lo))
            lo, hi = c - h, c + h
        return cls(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def _km_axes(ax: Any, view: MapView) -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v / 1000:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlim(view.xmin, view.xmax)
    ax.set_ylim(view.ymin, view.ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("East of site origin (km)")
    ax.set_ylabel("North of site origin (km)")
    ax.grid(True, color="#d0d4d8", linewidth=0.4, zorder=0)
    ax.set_axisbelow(True)


def _scale_bar(ax: Any, view: MapView) -> None:
    """A round-length scale bar in the lower right corner, with a north arrow above it."""
    width = view.xmax - view.xmin
    target = width / 6.0
    nice = [50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000]
    length = max([v for v in nice if v <= target], default=nice[0])
    x1 = view.xmax - 0.04 * width
    x0 = x1 - length
    y0 = view.ymin + 0.04 * (view.ymax - view.ymin)
    ax.plot([x0, x1], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        0.5 * (x0 + x1),
        y0 + 0.012 * width,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        path_effects=_HALO,
        zorder=9,
    )
    ax.annotate(
        "N",
        xy=(0.965, 0.97),
        xytext=(0.965, 0.89),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2},
        zorder=9,
    )


def _footprint_paths(
    polygons: Sequence[shapely.Polygon], rows: NDArray[np.int64]
) -> list[MplPath]:
    """Footprints (with their holes) as matplotlib paths."""
    paths = []
    for i in rows.tolist():
        poly = polygons[i]
        rings = [np.asarray(poly.exterior.coords)[:, :2]]
        rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
        verts = np.concatenate(rings)
        codes = np.full(len(verts), MplPath.LINETO, dtype=np.uint8)
        start = 0
        for r in rings:
            codes[start] = MplPath.MOVETO
            codes[start + len(r) - 1] = MplPath.CLOSEPOLY
            start += len(r)
        paths.append(MplPath(verts, codes))
    return paths


def _building_collection(
    polygons: Sequence[shapely.Polygon],
    rows: NDArray[np.int64],
    heights_m: NDArray[np.float64],
    norm: Normalize,
    edge: bool,
) -> PathCollection:
    """Footprints as one collection, coloured by roof height."""
    coll = PathCollection(
        _footprint_paths(polygons, rows),
        cmap=_HEIGHT_CMAP,
        norm=norm,
        edgecolors="#6b6f73" if edge else "none",
        linewidths=0.15 if edge else 0.0,
        zorder=1,
    )
    coll.set_array(heights_m[rows])
    return coll


def _rows_in_view(bbox_m: NDArray[np.float64], view: MapView) -> NDArray[np.int64]:
    m = (
        (bbox_m[:, 2] >= view.xmin)
        & (bbox_m[:, 0] <= view.xmax)
        & (bbox_m[:, 3] >= view.ymin)
        & (bbox_m[:, 1] <= view.ymax)
    )
    return np.flatnonzero(m).astype(np.int64)


def _height_norm(heights_m: NDArray[np.float64]) -> Normalize:
    top = float(np.percentile(heights_m, 99.5)) if heights_m.size else 10.0
    return Normalize(vmin=0.0, vmax=max(10.0, math.ceil(top / 10.0) * 10.0))


def _outcomes(summary: RunSummary, n: int) -> list[str]:
    out = ["airborne"] * n
    for row in summary.threats:
        i = int(row["id"])
        if 0 <= i < n:
            out[i] = str(row.get("outcome", "airborne"))
    return out


def _site_points(spec: ScenarioSpec) -> NDArray[np.float64]:
    pts = [spec.assets.aim_m[:, :2]]
    if len(spec.units):
        pts.append(spec.units.pos_m[:, :2])
    return np.vstack(pts)


@dataclass(frozen=True, slots=True)
class _Label:
    """A map label to place: anchor (m), text and style."""

    x_m: float
    y_m: float
    text: str
    fontsize: float
    bold: bool
    colour: str


# candidate offsets (points) with their alignment, in order of preference
_SPOTS: tuple[tuple[float, float, str, str], ...] = (
    (0.0, -9.0, "center", "top"),
    (7.0, 0.0, "left", "center"),
    (-7.0, 0.0, "right", "center"),
    (0.0, 9.0, "center", "bottom"),
    (6.0, 6.0, "left", "bottom"),
    (6.0, -6.0, "left", "top"),
    (-6.0, 6.0, "right", "bottom"),
    (-6.0, -6.0, "right", "top"),
    (0.0, -22.0, "center", "top"),
    (0.0, 22.0, "center", "bottom"),
)


def _label_box(
    x_pt: float, y_pt: float, spot: tuple[float, float, str, str], w: float, h: float
) -> tuple[float, float, float, float]:
    dx, dy, ha, va = spot
    x0 = x_pt + dx - {"left": 0.0, "center": 0.5 * w, "right": w}[ha]
    y0 = y_pt + dy - {"bottom": 0.0, "center": 0.5 * h, "top": h}[va]
    return (x0, y0, x0 + w, y0 + h)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _place_labels(ax: Any, labels: Sequence[_Label], pt_per_m: float) -> None:
    """Annotate ``labels`` in order, each at the first spot overlapping no earlier label.

    Text sizes are estimated (0.6 em per character), in points at the figure's scale
    ``pt_per_m``; every anchor is kept clear as an obstacle of 10 x 10 points.
    """
    anchors = [(lab.x_m * pt_per_m, lab.y_m * pt_per_m) for lab in labels]
    obstacles = [(x - 5.0, y - 5.0, x + 5.0, y + 5.0) for x, y in anchors]
    placed: list[tuple[float, float, float, float]] = []
    for lab, (x, y) in zip(labels, anchors, strict=True):
        w = lab.fontsize * (0.66 if lab.bold else 0.6) * len(lab.text) + 3.0
        h = lab.fontsize * 1.25
        best, best_cost = _SPOTS[0], math.inf
        for spot in _SPOTS:
            box = _label_box(x, y, spot, w, h)
            cost = sum(_overlap(box, o) for o in placed) + sum(_overlap(box, o) for o in obstacles)
            if cost < best_cost - 1e-9:
                best, best_cost = spot, cost
            if cost == 0.0:
                break
        placed.append(_label_box(x, y, best, w, h))
        ax.annotate(
            _text(lab.text),
            (lab.x_m, lab.y_m),
            xytext=best[:2],
            textcoords="offset points",
            ha=best[2],
            va=best[3],
            fontsize=lab.fontsize,
            fontweight="bold" if lab.bold else "normal",
            color=lab.colour,
            path_effects=_HALO,
            zorder=10,
        )


def _draw_assets(ax: Any, spec: ScenarioSpec) -> list[_Label]:
    """Asset footprints, a ring marking each and its hit radius; returns their labels."""
    b = spec.world.buildings
    assets = spec.assets
    labels = []
    rows = [int(r) for r in assets.building if int(r) >= 0]
    if rows:
        ax.add_collection(
            PathCollection(
                _footprint_paths(b.polygons, np.array(rows, np.int64)),
                facecolors=ASSET_FILL,
                edgecolors=ASSET_EDGE,
                linewidths=1.2,
                alpha=0.85,
                zorder=3,
            )
        )
    for a in range(len(assets)):
        x, y = float(assets.aim_m[a, 0]), float(assets.aim_m[a, 1])
        ax.add_patch(
            Circle(
                (x, y),
                float(assets.radius_m[a]),
                facecolor="none",
                edgecolor=ASSET_EDGE,
                linewidth=0.6,
                linestyle=":",
                zorder=3,
            )
        )
        labels.append(_Label(x, y, str(assets.asset_id[a]), 9.0, True, ASSET_EDGE))
    if len(assets):
        # a ring so that small buildings stay visible at map scale
        ax.scatter(
            assets.aim_m[:, 0],
            assets.aim_m[:, 1],
            s=260,
            marker="o",
            facecolors="none",
            edgecolors=ASSET_FILL,
            linewidths=2.0,
            alpha=0.9,
            zorder=6,
        )
    return labels


def _draw_units(ax: Any, spec: ScenarioSpec, rings: bool) -> tuple[list[Any], list[_Label]]:
    """Unit markers and effector max-range rings; returns ring legend handles and labels."""
    units = spec.units
    eff = spec.effectors
    handles: list[Any] = []
    if rings and len(eff):
        for k, et in enumerate(eff.types):
            style = RING_STYLES[k % len(RING_STYLES)]
            rows = np.flatnonzero(eff.type_index == k)
            for e in rows.tolist():
                ax.add_patch(
                    Circle(
                        (float(eff.pos_m[e, 0]), float(eff.pos_m[e, 1])),
                        float(et.max_range_m),
                        facecolor="none",
                        edgecolor="#4a5a6a",
                        alpha=0.55,
                        linewidth=0.8,
                        linestyle=style,
                        zorder=2,
                    )
                )
            if rows.size:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color="#4a5a6a",
                        alpha=0.7,
                        linewidth=0.9,
                        linestyle=style,
                        label=f"{_text(et.name)} max range ({et.max_range_m / 1000:g} km)",
                    )
                )
    if len(units):
        ax.scatter(
            units.pos_m[:, 0],
            units.pos_m[:, 1],
            marker="^",
            s=70,
            c=UNIT_COLOUR,
            edgecolors="white",
            linewidths=0.9,
            zorder=8,
        )
    labels = [
        _Label(float(units.pos_m[u, 0]), float(units.pos_m[u, 1]), uid, 8.0, False, UNIT_COLOUR)
        for u, uid in enumerate(units.unit_id)
    ]
    return handles, labels


def plot_site_map(
    spec: ScenarioSpec,
    summary: RunSummary,
    result: SimResult,
    *,
    margin_m: float = 1500.0,
    figsize_in: tuple[float, float] = (10.0, 10.4),
) -> Figure:
    """Map of the defended site: buildings, assets, units, flown paths, kills, debris.

    Parameters
    ----------
    spec : ScenarioSpec
    summary : RunSummary
    result : SimResult
    margin_m : float, default 1500
        The view is the box around every unit and asset grown by this much (m), squared.
    figsize_in : (2,) float
        Figure size (inches).

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=figsize_in, layout="constrained")
    ax = fig.add_subplot()
    view = MapView.around(_site_points(spec), margin_m)
    b = spec.world.buildings
    norm = _height_norm(b.height_m)
    if len(b):
        rows = _rows_in_view(b.bbox_m, view)
        ax.add_collection(_building_collection(b.polygons, rows, b.height_m, norm, True))
    cb = fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=_HEIGHT_CMAP),
        ax=ax,
        shrink=0.6,
        pad=0.01,
        aspect=35,
    )
    cb.set_label("Building roof height (m)")
    asset_labels = _draw_assets(ax, spec)
    ring_handles, unit_labels = _draw_units(ax, spec, rings=True)
    # axes width about 80 % of the figure's (the rest is colorbar and margins)
    pt_per_m = 0.8 * figsize_in[0] * 72.0 / (view.xmax - view.xmin)
    _place_labels(ax, [*asset_labels, *unit_labels], pt_per_m)

    plan = result.plan
    outcome = _outcomes(summary, len(plan))
    paths = flown_paths(plan, threat_end_times(summary, result))
    for kind, colour in OUTCOME_COLOURS.items():
        segs = [p[:, :2] for p, o in zip(paths, outcome, strict=True) if o == kind and len(p)]
        if segs:
            ax.add_collection(
                LineCollection(segs, colors=colour, linewidths=1.1, alpha=0.8, zorder=5)
            )
    leaked = [p[-1] for p, o in zip(paths, outcome, strict=True) if o == "leaked" and len(p)]
    if leaked:
        pts = np.array(leaked)
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            marker="o",
            s=36,
            facecolors=OUTCOME_COLOURS["leaked"],
            edgecolors="white",
            linewidths=0.7,
            zorder=7,
        )
    kills = [x for x in summary.intercepts if x.get("killed")]
    debris = [x["debris"] for x in kills if x.get("debris")]
    drift = [
        [x["pos_m"][:2], x["debris"]["centre_m"]]
        for x in kills
        if x.get("debris") and None not in (*x["pos_m"][:2], *x["debris"]["centre_m"])
    ]
    if drift:
        ax.add_collection(
            LineCollection(
                list(np.asarray(drift, np.float64)),
                colors="#8a4b00",
                linewidths=0.8,
                linestyles=(0, (2, 1.5)),
                zorder=6,
            )
        )
    for d in debris:
        over = bool(d.get("buildings"))
        ax.add_patch(
            Circle(
                (float(d["centre_m"][0]), float(d["centre_m"][1])),
                float(d["radius_m"] or 0.0),
                facecolor=DEBRIS_COLOUR,
                alpha=0.45,
                edgecolor="#8a4b00" if over else DEBRIS_COLOUR,
                linewidth=0.8,
                zorder=4,
            )
        )
    if kills:
        kp = np.array([[x["pos_m"][0], x["pos_m"][1]] for x in kills], dtype=np.float64)
        ax.scatter(
            kp[:, 0],
            kp[:, 1],
            marker="x",
            s=40,
            c=OUTCOME_COLOURS["killed"],
            linewidths=1.5,
            zorder=7,
        )
    _km_axes(ax, view)
    _scale_bar(ax, view)

    handles: list[Any] = [
        Line2D([], [], color=OUTCOME_COLOURS["killed"], linewidth=1.6, label="path, killed"),
        Line2D([], [], color=OUTCOME_COLOURS["leaked"], linewidth=1.6, label="path, leaked"),
    ]
    if "airborne" in outcome:
        handles.append(
            Line2D(
                [],
                [],
                color=OUTCOME_COLOURS["airborne"],
                linewidth=1.6,
                label="path, airborne at end",
            )
        )
    handles += [
        Line2D(
            [],
            [],
            marker="x",
            linestyle="none",
            color=OUTCOME_COLOURS["killed"],
            markeredgewidth=1.5,
            label="kill (intercept point)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor=OUTCOME_COLOURS["leaked"],
            markeredgecolor="white",
            markersize=7,
            label="leaker impact",
        ),
        Patch(
            facecolor=DEBRIS_COLOUR,
            alpha=0.45,
            label="debris footprint (to scale), drift from kill",
        ),
        Patch(
            facecolor=ASSET_FILL, edgecolor=ASSET_EDGE, alpha=0.85, label="defended asset (ringed)"
        ),
        Line2D(
            [],
            [],
            marker="^",
            linestyle="none",
            markerfacecolor=UNIT_COLOUR,
            markeredgecolor="white",
            markersize=9,
            label="air-defence unit",
        ),
        *ring_handles,
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def _sector_centre(spec: ScenarioSpec, target: int) -> NDArray[np.float64]:
    """Apex of an approach sector: the target's aim point (value-weighted centre if -1)."""
    aim = spec.assets.aim_m[:, :2]
    if 0 <= target < len(spec.assets):
        return np.asarray(aim[target], dtype=np.float64)
    w = spec.assets.value / spec.assets.value.sum()
    return np.asarray(w @ aim, dtype=np.float64)


def plot_raid_overview(
    spec: ScenarioSpec,
    summary: RunSummary,
    result: SimResult,
    *,
    figsize_in: tuple[float, float] = (10.0, 9.0),
) -> Figure:
    """Whole raid geometry: approach sectors, start points, paths, radar coverage.

    Parameters
    ----------
    spec : ScenarioSpec
    summary : RunSummary
    result : SimResult
    figsize_in : (2,) float
        Figure size (inches).

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=figsize_in, layout="constrained")
    ax = fig.add_subplot()
    plan = result.plan
    pts = [_site_points(spec)]
    if len(plan):
        pts.append(plan.vert_m[:, 0, :2])
    view = MapView.around(np.vstack(pts), 400.0)
    b = spec.world.buildings
    if len(b):
        rows = _rows_in_view(b.bbox_m, view)
        ax.add_collection(
            _building_collection(b.polygons, rows, b.height_m, _height_norm(b.height_m), False)
        )
    palette = _class_colour
    handles: list[Any] = []
    first = 0
    for g, group in enumerate(spec.raid):
        colour = palette(group.cls)
        b0, b1 = (math.degrees(v) for v in group.bearing_rad)
        # threats are numbered group by group; each starts in the sector about its own target
        targets = plan.target[first : first + group.count] if len(plan) else np.zeros(0, int)
        first += group.count
        for a in sorted({int(t) for t in targets.tolist()} or {group.target}):
            c = _sector_centre(spec, a)
            ax.add_patch(
                Wedge(
                    (float(c[0]), float(c[1])),
                    group.distance_m,
                    90.0 - b1,
                    90.0 - b0,
                    facecolor=colour,
                    alpha=0.06,
                    edgecolor=colour,
                    linewidth=0.8,
                    zorder=1,
                )
            )
        name = spec.classes[group.cls].name
        target = "any" if group.target < 0 else str(spec.assets.asset_id[group.target])
        lo, hi = group.launch_window_s
        handles.append(
            Patch(
                facecolor=colour,
                alpha=0.35,
                label=_text(
                    f"group {g + 1}: {group.count} × {name} → {target}, "
                    f"from {b0 % 360:.0f}°–{b1 % 360:.0f}° at {group.distance_m / 1000:g} km, "
                    f"launch {lo:g}–{hi:g} s"
                ),
            )
        )
    # radar instrumented range
    units = spec.units
    shown_radar = False
    for u, cfg in enumerate(units.radar):
        if cfg is None:
            continue
        ax.add_patch(
            Circle(
                (float(units.pos_m[u, 0]), float(units.pos_m[u, 1])),
                cfg.max_range_m,
                facecolor="none",
                edgecolor="#2b6f3a",
                alpha=0.5,
                linewidth=0.8,
                linestyle=(0, (2, 2)),
                zorder=2,
            )
        )
        shown_radar = True
    if shown_radar:
        rmax = max(c.max_range_m for c in units.radar if c is not None)
        handles.append(
            Line2D(
                [],
                [],
                color="#2b6f3a",
                alpha=0.7,
                linestyle=(0, (2, 2)),
                label=f"radar instrumented range (max {rmax / 1000:g} km)",
            )
        )
    outcome = _outcomes(summary, len(plan))
    end = threat_end_times(summary, result)
    flown = flown_paths(plan, end)
    planned = [plan.vert_m[i, :, :2] for i in range(len(plan))]
    if planned:
        ax.add_collection(
            LineCollection(
                planned, colors="#8c8c8c", linewidths=0.6, linestyles=(0, (1, 2)), zorder=3
            )
        )
        handles.append(
            Line2D(
                [],
                [],
                color="#8c8c8c",
                linewidth=0.8,
                linestyle=(0, (1, 2)),
                label="planned path (not flown)",
            )
        )
    for kind, colour in OUTCOME_COLOURS.items():
        segs = [p[:, :2] for p, o in zip(flown, outcome, strict=True) if o == kind and len(p)]
        if segs:
            ax.add_collection(
                LineCollection(segs, colors=colour, linewidths=1.0, alpha=0.85, zorder=4)
            )
            handles.append(Line2D([], [], color=colour, linewidth=1.4, label=f"flown, {kind}"))
    if len(plan):
        starts = plan.vert_m[:, 0, :2]
        ax.scatter(
            starts[:, 0],
            starts[:, 1],
            s=14,
            c=[palette(int(c)) for c in plan.cls],
            edgecolors="black",
            linewidths=0.4,
            zorder=6,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor="white",
                markeredgecolor="black",
                markersize=5,
                label="start point (class colour)",
            )
        )
    ax.scatter(
        spec.assets.aim_m[:, 0],
        spec.assets.aim_m[:, 1],
        marker="s",
        s=30,
        c=ASSET_FILL,
        edgecolors=ASSET_EDGE,
        zorder=7,
    )
    if len(units):
        ax.scatter(
            units.pos_m[:, 0],
            units.pos_m[:, 1],
            marker="^",
            s=30,
            c=UNIT_COLOUR,
            edgecolors="white",
            linewidths=0.6,
            zorder=7,
        )
    handles += [
        Line2D(
            [],
            [],
            marker="s",
            linestyle="none",
            markerfacecolor=ASSET_FILL,
            markeredgecolor=ASSET_EDGE,
            label="defended asset",
        ),
        Line2D(
            [],
            [],
            marker="^",
            linestyle="none",
            markerfacecolor=UNIT_COLOUR,
            markeredgecolor="white",
            markersize=8,
            label="air-defence unit",
        ),
    ]
    _km_axes(ax, view)
    _scale_bar(ax, view)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def plot_timeline(
    spec: ScenarioSpec,
    summary: RunSummary,
    result: SimResult,
    *,
    width_in: float = 11.0,
) -> Figure:
    """One row per threat (by launch time): flight bar and detection-to-kill markers.

    Parameters
    ----------
    spec : ScenarioSpec
    summary : RunSummary
    result : SimResult
    width_in : float, default 11
        Figure width (inches); the height grows with the number of threats.

    Returns
    -------
    Figure
    """
    plan = result.plan
    n = len(plan)
    fig = Figure(figsize=(width_in, 1.9 + 0.17 * max(n, 4)), layout="constrained")
    ax = fig.add_subplot()
    palette = _class_colour
    end = threat_end_times(summary, result)
    order = np.lexsort((plan.threat_id, plan.launch_t_s)) if n else np.zeros(0, np.int64)
    row_of = np.empty(n, np.int64)
    row_of[order] = np.arange(n)
    info = {int(r["id"]): r for r in summary.threats}
    for i in range(n):
        dur = max(end[i] - plan.launch_t_s[i], 0.0)
        ax.barh(
            row_of[i],
            dur,
            left=plan.launch_t_s[i],
            height=0.62,
            color=palette(int(plan.cls[i])),
            alpha=0.55,
            linewidth=0,
            zorder=2,
        )

    def marks(t: list[float], rows: list[int], **kw: Any) -> None:
        if t:
            ax.scatter(t, rows, zorder=5, **kw)

    det_t, det_r, conf_t, conf_r, kill_t, kill_r, leak_t, leak_r = ([] for _ in range(8))
    for i, r in info.items():
        if not 0 <= i < n:
            continue
        if r.get("detected_t_s") is not None:
            det_t.append(float(r["detected_t_s"]))
            det_r.append(int(row_of[i]))
        if r.get("confirmed_t_s") is not None:
            conf_t.append(float(r["confirmed_t_s"]))
            conf_r.append(int(row_of[i]))
        if r.get("end_t_s") is not None and r.get("outcome") == "killed":
            kill_t.append(float(r["end_t_s"]))
            kill_r.append(int(row_of[i]))
        if r.get("end_t_s") is not None and r.get("outcome") == "leaked":
            leak_t.append(float(r["end_t_s"]))
            leak_r.append(int(row_of[i]))
    ev = result.events
    eng = ev.of(EventKind.ENGAGEMENT) & (ev.threat_id >= 0) & (ev.threat_id < n)
    miss = (
        ev.of(EventKind.INTERCEPT) & (ev.value == 0.0) & (ev.threat_id >= 0) & (ev.threat_id < n)
    )
    marks(
        det_t,
        det_r,
        marker="o",
        s=14,
        facecolors="white",
        edgecolors="#333333",
        linewidths=0.8,
        label="first detection",
    )
    marks(conf_t, conf_r, marker="D", s=14, c="#333333", label="track confirmed")
    marks(
        ev.t_s[eng].tolist(),
        row_of[ev.threat_id[eng]].tolist(),
        marker="|",
        s=70,
        c="black",
        linewidths=1.2,
        label="engagement (shot fired)",
    )
    marks(
        ev.t_s[miss].tolist(),
        row_of[ev.threat_id[miss]].tolist(),
        marker="o",
        s=22,
        facecolors="none",
        edgecolors="#7f7f7f",
        linewidths=1.0,
        label="miss (intercept time)",
    )
    marks(
        kill_t,
        kill_r,
        marker="X",
        s=48,
        c=OUTCOME_COLOURS["killed"],
        edgecolors="white",
        linewidths=0.5,
        label="kill",
    )
    marks(
        leak_t,
        leak_r,
        marker="v",
        s=48,
        c=OUTCOME_COLOURS["leaked"],
        edgecolors="white",
        linewidths=0.5,
        label="leak (reached aim point)",
    )
    ax.axvline(result.end_t_s, color="#555555", linewidth=0.8, linestyle="--", zorder=1)
    ax.set_yticks(
        np.arange(n),
        [
            _text(f"#{int(plan.threat_id[i])} → {spec.assets.asset_id[int(plan.target[i])]}")
            for i in order.tolist()
        ],
        fontsize=6.5,
    )
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xlim(0.0, max(float(result.end_t_s), float(end.max()) if n else 0.0) * 1.01 + 1.0)
    ax.set_xlabel("Simulated time from scenario start (s)")
    ax.grid(True, axis="x", color="#d0d4d8", linewidth=0.5, zorder=0)
    ax.set_axisbelow(True)
    class_handles = [
        Patch(facecolor=palette(k), alpha=0.55, label=f"in flight: {_text(c.name)}")
        for k, c in enumerate(spec.classes)
    ]
    run_end = Line2D([], [], color="#555555", linestyle="--", linewidth=0.8, label="run end")
    marker_handles, _ = ax.get_legend_handles_labels()
    fig.legend(
        handles=[*class_handles, *marker_handles, run_end],
        loc="outside upper center",
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    return fig
