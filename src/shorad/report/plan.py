"""Map of a siting plan: buildings, candidate and chosen sites, covered and uncovered demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from numpy.typing import NDArray

from shorad.plan.candidates import Candidates
from shorad.plan.demand import Demand
from shorad.report.figures import _footprint_paths
from shorad.sim.spec import ScenarioSpec

__all__ = ["plot_plan", "write_plan_map"]


def plot_plan(
    spec: ScenarioSpec,
    cand: Candidates,
    demand: Demand,
    covered: NDArray[np.bool_],
    sites: NDArray[np.int64],
    title: str = "",
) -> Figure:
    """A map (ENU metres) of the plan on its own :class:`~matplotlib.figure.Figure`."""
    fig = Figure(figsize=(8.0, 8.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    pts = np.vstack([cand.pos_m[:, :2], demand.pos_m[:, :2], spec.assets.aim_m[:, :2]])
    lo, hi = pts.min(axis=0) - 50.0, pts.max(axis=0) + 50.0
    b = spec.world.buildings
    box = b.bbox_m
    rows = np.flatnonzero(
        (box[:, 2] >= lo[0]) & (box[:, 0] <= hi[0]) & (box[:, 3] >= lo[1]) & (box[:, 1] <= hi[1])
    ).astype(np.int64)
    ax.add_collection(
        PathCollection(
            _footprint_paths(b.polygons, rows), facecolor="#d9d9d9", edgecolor="#9e9e9e", lw=0.3
        )
    )
    ax.scatter(cand.pos_m[:, 0], cand.pos_m[:, 1], s=2, c="#bdbdbd", label="candidate roofs")
    d = demand.pos_m
    ax.scatter(d[~covered, 0], d[~covered, 1], s=6, c="#d7301f", label="uncovered demand")
    ax.scatter(d[covered, 0], d[covered, 1], s=6, c="#31a354", label="covered demand")
    a = spec.assets.aim_m
    ax.scatter(a[:, 0], a[:, 1], s=120, marker="*", c="#08519c", label="defended asset")
    s = cand.pos_m[sites]
    ax.scatter(s[:, 0], s[:, 1], s=70, marker="^", c="black", label="planned unit")
    for k, (x, y) in enumerate(s[:, :2].tolist()):
        ax.annotate(str(k + 1), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    ax.set_title(title or f"{spec.name}: {len(sites)} planned units")
    ax.legend(loc="upper right", fontsize=7)
    return fig


def write_plan_map(path: Path, fig: Figure, dpi: float = 120.0) -> Path:
    """Save a plan map as PNG."""
    fig.savefig(path, dpi=dpi)
    return path
