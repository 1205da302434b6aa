"""Coverage of a scenario's sensors: maps (PNG), raster (NetCDF) and warning times (JSON).

:func:`scenario_coverage` wires a :class:`~shorad.sim.ScenarioSpec` into the core computation
:func:`shorad.sensors.analyse_coverage`; :func:`write_coverage` writes, per altitude layer, a
PNG map over the building footprints, one NetCDF-3 raster of every layer
(``scipy.io.netcdf_file``, CF-style ``x``/``y``/``altitude`` coordinates in ENU metres, the
site origin in the global attributes), and ``warning_times.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from scipy.io import netcdf_file

from shorad.errors import ConfigError
from shorad.report.figures import _footprint_paths
from shorad.sensors import Coverage, Sensor, analyse_coverage, grid_axes, make_sensor
from shorad.sim.spec import ScenarioSpec
from shorad.threats.base import ThreatClass

__all__ = [
    "ScenarioCoverage",
    "plot_coverage_layer",
    "scenario_coverage",
    "warning_table",
    "write_coverage",
    "write_coverage_netcdf",
]


@dataclass(frozen=True, slots=True)
class ScenarioCoverage:
    """A coverage analysis of one scenario.

    Attributes
    ----------
    coverage : Coverage
    target : ThreatClass
        The reference target class.
    box_m : (4,) float
        Analysed box ``(xmin, ymin, xmax, ymax)``, ENU metres.
    cell_m : float
    n_sensors : int
    """

    coverage: Coverage
    target: ThreatClass
    box_m: tuple[float, float, float, float]
    cell_m: float
    n_sensors: int


def _sensors(spec: ScenarioSpec) -> list[Sensor]:
    units = spec.units
    return [
        make_sensor(cfg, u, units.pos_m[u])
        for u in range(len(units))
        for cfg in units.sensors_of(u)
    ]


def scenario_coverage(
    spec: ScenarioSpec,
    *,
    altitudes_m: Sequence[float] = (30.0, 100.0, 300.0),
    cell_m: float = 10.0,
    box_m: tuple[float, float, float, float] | None = None,
    margin_m: float = 500.0,
    target_class: str | None = None,
    classes: Sequence[ThreatClass] = (),
    n_bearings: int = 36,
    mode: Literal["single", "cumulative"] = "single",
    threshold: float = 0.5,
) -> ScenarioCoverage:
    """Coverage of every sensor of ``spec`` against one threat class.

    Parameters
    ----------
    spec : ScenarioSpec
    altitudes_m : sequence of float
        Layer heights above ground (m).
    cell_m : float
        Grid cell size (m).
    box_m : (4,) float, optional
        ``(xmin, ymin, xmax, ymax)`` ENU metres; default: the units' and assets' extent grown
        by ``margin_m``.
    target_class : str, optional
        Reference class name; default: the raid's first class.
    classes : sequence of ThreatClass
        Further classes to choose ``target_class`` from (e.g. every preset), besides the raid's.
    n_bearings, mode, threshold
        Warning-time settings, see :func:`shorad.sensors.analyse_coverage`.

    Raises
    ------
    ConfigError
        Unknown class, bad altitudes/cell/box, or no sensor in the scenario.
    """
    known = {c.name: c for c in (*classes, *spec.classes)}
    name = target_class or spec.classes[0].name
    if name not in known:
        raise ConfigError(
            f"unknown threat class {name!r}; expected one of {sorted(known)}", field="--target"
        )
    target = known[name]
    if cell_m <= 0:
        raise ConfigError(f"must be > 0 m, got {cell_m}", field="--cell")
    if not altitudes_m or any(not math.isfinite(a) or a < 0 for a in altitudes_m):
        raise ConfigError(
            f"must be heights >= 0 m above ground, got {list(altitudes_m)}", field="--altitudes"
        )
    sensors = _sensors(spec)
    if not sensors:
        raise ConfigError("the scenario has no sensor to map", field="units")
    if box_m is None:
        pts = np.vstack([spec.assets.aim_m[:, :2], spec.units.pos_m[:, :2]])
        lo, hi = pts.min(axis=0) - margin_m, pts.max(axis=0) + margin_m
        box_m = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    xmin, ymin, xmax, ymax = box_m
    if not (xmax > xmin and ymax > ymin):
        raise ConfigError(f"expected xmin < xmax and ymin < ymax, got {box_m}", field="--box")
    if (xmax - xmin) * (ymax - ymin) / cell_m**2 > 25e6:
        raise ConfigError(
            f"{(xmax - xmin) / cell_m:.0f} x {(ymax - ymin) / cell_m:.0f} cells is too many "
            f"(at most 25 million); use a larger --cell or a smaller --box",
            field="--cell",
        )
    x, y = grid_axes(box_m, cell_m)
    cov = analyse_coverage(
        spec.world,
        sensors,
        x,
        y,
        list(altitudes_m),
        rcs_dbsm=target.rcs_dbsm,
        emits=target.emits_control_link,
        speed_mps=target.speed_mps,
        asset_xy_m=spec.assets.aim_m[:, :2],
        n_bearings=n_bearings,
        step_m=cell_m,
        mode=mode,
        threshold=threshold,
    )
    return ScenarioCoverage(
        coverage=cov, target=target, box_m=box_m, cell_m=cell_m, n_sensors=len(sensors)
    )


def plot_coverage_layer(
    spec: ScenarioSpec, sc: ScenarioCoverage, layer: int, *, figsize_in: float = 8.0
) -> Figure:
    """Map of one layer: detection probability, building footprints, units and assets."""
    cov = sc.coverage
    fig = Figure(figsize=(figsize_in, figsize_in * 0.9), layout="constrained")
    ax = fig.add_subplot()
    xmin, ymin, xmax, ymax = sc.box_m
    im = ax.imshow(
        np.ma.masked_invalid(cov.pd[layer]),
        origin="lower",
        extent=(
            float(cov.x_m[0] - sc.cell_m / 2),
            float(cov.x_m[-1] + sc.cell_m / 2),
            float(cov.y_m[0] - sc.cell_m / 2),
            float(cov.y_m[-1] + sc.cell_m / 2),
        ),
        vmin=0.0,
        vmax=1.0,
        cmap="viridis",
        interpolation="nearest",
        zorder=1,
    )
    b = spec.world.buildings
    if len(b):
        bb = b.bbox_m
        rows = np.flatnonzero(
            (bb[:, 2] >= xmin) & (bb[:, 0] <= xmax) & (bb[:, 3] >= ymin) & (bb[:, 1] <= ymax)
        ).astype(np.int64)
        taller = b.height_m[rows] > cov.alt_m[layer]
        ax.add_collection(
            PathCollection(
                _footprint_paths(b.polygons, rows),
                facecolors=np.where(taller, "#4a4a4a", "none"),
                edgecolors="#d0d0d0",
                linewidths=0.3,
                zorder=2,
            )
        )
    u = spec.units.pos_m
    ax.scatter(u[:, 0], u[:, 1], marker="^", s=60, c="#D55E00", edgecolors="white", zorder=4)
    for i, uid in enumerate(spec.units.unit_id):
        ax.annotate(
            uid,
            (u[i, 0], u[i, 1]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
            color="white",
            zorder=5,
        )
    a = spec.assets.aim_m
    ax.scatter(a[:, 0], a[:, 1], marker="*", s=120, c="#F0E442", edgecolors="black", zorder=4)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xlabel("East of site origin (m)")
    ax.set_ylabel("North of site origin (m)")
    ax.set_title(
        f"P(detect {sc.target.name}) in one scan, {cov.alt_m[layer]:g} m above ground\n"
        f"{sc.n_sensors} sensors; grey: buildings above the layer"
    )
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("probability that at least one sensor detects")
    return fig


def write_coverage_netcdf(path: Path, spec: ScenarioSpec, sc: ScenarioCoverage) -> None:
    """Write every layer's Pd grid to NetCDF-3: ``pd(altitude, y, x)``, NaN in buildings."""
    cov = sc.coverage
    with netcdf_file(path, "w", version=2) as f:
        f.title = f"shorad coverage of {spec.name}"
        f.target_class = sc.target.name
        f.origin_lat_deg = float(spec.world.frame.lat0_deg)
        f.origin_lon_deg = float(spec.world.frame.lon0_deg)
        f.scenario_hash = spec.scenario_hash
        f.Conventions = "CF-1.8"
        f.createDimension("x", cov.x_m.size)
        f.createDimension("y", cov.y_m.size)
        f.createDimension("altitude", cov.alt_m.size)
        for name, values, desc in (
            ("x", cov.x_m, "east of the site origin (ENU)"),
            ("y", cov.y_m, "north of the site origin (ENU)"),
            ("altitude", cov.alt_m, "height above ground"),
        ):
            v = f.createVariable(name, "d", (name,))
            v[:] = values
            v.units = "m"
            v.long_name = desc
        pd = f.createVariable("pd", "d", ("altitude", "y", "x"))
        pd[:] = cov.pd
        pd.long_name = "probability that at least one sensor detects the target in one scan"
        pd.units = "1"
        pd.missing_value = np.nan


def warning_table(spec: ScenarioSpec, sc: ScenarioCoverage) -> list[dict[str, Any]]:
    """Per asset and layer: shortest warning time, its bearing and detection distance."""
    cov = sc.coverage
    rows = []
    worst = cov.worst_bearing_rad
    for a, aid in enumerate(spec.assets.asset_id):
        for k, h in enumerate(cov.alt_m):
            b = int(np.argmin(cov.warning_s[a, k]))
            rows.append(
                {
                    "asset": str(aid),
                    "altitude_m": float(h),
                    "min_warning_s": round(float(cov.warning_s[a, k, b]), 2),
                    "worst_bearing_deg": round(math.degrees(float(worst[a, k])), 1),
                    "detect_distance_m": round(float(cov.detect_distance_m[a, k, b]), 1),
                    "median_warning_s": round(float(np.median(cov.warning_s[a, k])), 2),
                }
            )
    return rows


def write_coverage(out: Path, spec: ScenarioSpec, sc: ScenarioCoverage) -> list[Path]:
    """Write ``coverage_<alt>m.png`` per layer, ``coverage.nc`` and ``warning_times.json``."""
    cov = sc.coverage
    written = []
    for k, h in enumerate(cov.alt_m):
        p = out / f"coverage_{h:g}m.png"
        fig = plot_coverage_layer(spec, sc, k)
        fig.savefig(p, dpi=110)
        written.append(p)
    nc = out / "coverage.nc"
    write_coverage_netcdf(nc, spec, sc)
    written.append(nc)
    wt = out / "warning_times.json"
    doc = {
        "scenario": spec.name,
        "scenario_hash": spec.scenario_hash,
        "target_class": sc.target.name,
        "speed_mps": cov.speed_mps,
        "mode": cov.mode,
        "threshold": cov.threshold,
        "bearings_deg": [round(math.degrees(float(b)), 3) for b in cov.bearing_rad],
        "summary": warning_table(spec, sc),
        "warning_s": {
            str(aid): {
                f"{h:g}": [round(float(v), 2) for v in cov.warning_s[a, k]]
                for k, h in enumerate(cov.alt_m)
            }
            for a, aid in enumerate(spec.assets.asset_id)
        },
    }
    wt.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    written.append(wt)
    return written
