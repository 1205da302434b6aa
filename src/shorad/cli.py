"""The ``shorad`` command line (typer). Configures logging; everything else is in the stages."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shorad._version import __version__
from shorad.errors import ConfigError, ShoradError

__all__ = ["app", "main"]

app = typer.Typer(
    name="shorad",
    help="Simulate and plan the short-range air defence of urban sites against drones "
    "(simulation only: nothing here drives a real sensor or weapon).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# emoji=False: "bundled:monaco" must not become a flag
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)
log = logging.getLogger("shorad")

EXIT_BAD_INPUT = 2


def _fail(exc: Exception, code: int) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"shorad {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # the handler filters too: libraries that set their own loggers' levels (Dask's scheduler
    # logs its start and stop at INFO) stay quiet without --verbose
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)


def _load(path: Path) -> Any:
    from shorad.scenario import load_scenario

    try:
        return load_scenario(path)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None


def _print_summary(summary: Any, out: Path | None, wall_s: float) -> None:
    t = summary.totals
    m = summary.meta
    console.print(
        f"[bold]{m['scenario']}[/]  seed {m['seed']}  "
        f"(scenario {m['scenario_hash'][:12]}, shorad {m['shorad_version']}); "
        f"tracker {m['tracker']}, {m['assignment']} assignment, {m['engine']} engine; "
        f"simulated {m['end_t_s']:.0f} s in {wall_s:.2f} s wall"
    )
    console.print(
        f"[bold]{t['killed']} of {t['threats']}[/] threats destroyed, "
        f"[bold]{t['leakers']}[/] leaked, [bold]{t['asset_hits']}[/] hits on defended assets."
    )
    totals = Table(title="Totals", show_header=True, header_style="bold")
    totals.add_column("metric")
    totals.add_column("value", justify="right")
    labels = [
        ("detected", "threats detected"),
        ("confirmed", "threats tracked (confirmed)"),
        ("false_tracks_confirmed", "false tracks confirmed"),
        ("shots", "shots (engagements)"),
        ("shots_at_false_tracks", "shots at false tracks"),
        ("shots_wide", "shots that found no drone near the aim point"),
        ("kills", "kills"),
        ("shots_per_kill", "shots per kill"),
        ("interceptor_cost_usd", "interceptor cost (USD)"),
        ("threat_cost_destroyed_usd", "threat cost destroyed (USD)"),
        ("cost_exchange", "cost exchange (spent / destroyed)"),
        ("intercepts_over_buildings", "kills with debris over buildings"),
        ("mean_time_margin_s", "mean time margin of kills (s)"),
    ]
    for key, label in labels:
        v = t[key]
        totals.add_row(
            label, "-" if v is None else (f"{v:,.2f}" if isinstance(v, float) else f"{v:,}")
        )
    console.print(totals)
    assets = Table(title="Defended assets", header_style="bold")
    for col in ("asset", "building", "value", "attackers", "hits"):
        assets.add_column(col, justify="left" if col in ("asset", "building") else "right")
    for a in summary.assets:
        assets.add_row(
            a["id"],
            f"{a['name']} ({a['building']})" if a["building"] else "-",
            f"{a['value']:g}",
            str(a["attackers"]),
            str(a["hits"]),
        )
    console.print(assets)
    eff = Table(title="Effectors", header_style="bold")
    for col in ("unit", "type", "shots", "kills", "rounds", "cost (USD)"):
        eff.add_column(col, justify="left" if col in ("unit", "type") else "right")
    for e in summary.effectors:
        eff.add_row(
            e["unit"],
            e["type"],
            str(e["shots"]),
            str(e["kills"]),
            str(e["rounds"]),
            f"{e['cost_usd']:,.0f}",
        )
    console.print(eff)
    if out is not None:
        console.print(f"wrote {out}/summary.json, events.parquet, report.html")


@contextmanager
def _staged_out(out: Path) -> Iterator[Path]:
    """A fresh folder beside ``out`` to write into; its files replace ``out``'s on success.

    A failure (or Ctrl-C) while writing leaves ``out`` exactly as it was and no temporary
    folder behind.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_and_write(
    spec: Any, seed: int | None, out: Path, report: bool, engine: str = "auto"
) -> None:
    from shorad.analysis import write_events_parquet
    from shorad.api import run_full

    t0 = time.perf_counter()
    with console.status(
        "simulating… (the first run after installing or updating shorad compiles its "
        "kernels: about a minute)"
    ):
        summary, result = run_full(spec, seed, engine=engine)
    wall = time.perf_counter() - t0
    # a failed run never leaves `out` half-written or loses what was there
    with _staged_out(out) as tmp:
        (tmp / "summary.json").write_text(summary.to_json(), encoding="utf-8")
        write_events_parquet(
            result.events,
            tmp / "events.parquet",
            seed=result.seed,
            scenario_hash=spec.scenario_hash,
        )
        if report:
            from shorad.report import write_report

            write_report(spec, summary, result, tmp / "report.html")
    _print_summary(summary, out, wall)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    seed: Annotated[int | None, typer.Option(help="Seed (default: the file's).", min=0)] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/<scenario name>).")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    engine: Annotated[
        str,
        typer.Option(
            help="auto (compiled where the scenario allows) | compiled | reference: the same "
            "events; the reference engine is the readable one."
        ),
    ] = "auto",
) -> None:
    """Simulate one raid and write summary.json, events.parquet and report.html."""
    from shorad.sim import ENGINES, compiled_supports

    if engine not in ENGINES:
        raise _fail(
            ConfigError(f"must be one of {ENGINES}, got {engine!r}", field="--engine"),
            EXIT_BAD_INPUT,
        )
    spec = _load(scenario)
    if engine == "compiled" and (why := compiled_supports(spec)) is not None:
        raise _fail(
            ConfigError(f"the compiled engine cannot run this scenario: {why}", field="--engine"),
            EXIT_BAD_INPUT,
        )
    try:
        _run_and_write(spec, seed, out or Path("out") / spec.name, report, engine)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    except ShoradError as exc:
        raise _fail(exc, 1) from None


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")]) -> None:
    """Check a scenario file and print what it resolves to."""
    spec = _load(scenario)
    hr = spec.world.height_report
    console.print(f"[green]OK[/] {spec.name} ({scenario})")
    console.print(
        f"  city: {spec.world.source}: {len(spec.world.buildings)} buildings "
        f"(heights: {hr.n_from_tag} tagged, {hr.n_from_levels} from levels, "
        f"{hr.n_default} default)"
    )
    console.print(f"  assets: {', '.join(map(str, spec.assets.asset_id))}")
    console.print(
        f"  units: {len(spec.units)} "
        f"({sum(len(spec.units.sensors_of(u)) for u in range(len(spec.units)))} sensors, "
        f"{len(spec.effectors)} effectors)"
    )
    console.print(
        f"  raid: {spec.n_threats} threats of {len(spec.classes)} classes "
        f"({', '.join(c.name for c in spec.classes)}); {spec.duration_s:g} s simulated"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
    seed: Annotated[int | None, typer.Option(help="Seed (default: the file's).", min=0)] = None,
) -> None:
    """Run the bundled demo scenario (Monaco, mixed raid on three buildings)."""
    from shorad.scenario import demo_scenario_path

    path = demo_scenario_path()
    console.print(f"demo scenario: {path}")
    run(path, seed=seed, out=out, report=True)


@app.command()
def track(
    meas: Annotated[Path, typer.Argument(help="Measurements (mtt-bench-meas/1 JSON Lines).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Tracks file to write.")],
    tracker: Annotated[str, typer.Option(help="gnn | jpda | imm-gnn | imm-jpda.")] = "gnn",
) -> None:
    """Run a multi-target tracker on a benchmark measurement file (MTT FORMAT.md)."""
    from shorad.tracking.benchfile import track_file

    try:
        st = track_file(meas, out, tracker)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    console.print(
        f"{st['scans']} scans, {st['wall_s']:.3f} s tracker time (per scan p50 "
        f"{1e3 * st['latency_p50_s']:.2f} ms, p95 {1e3 * st['latency_p95_s']:.2f} ms, max "
        f"{1e3 * st['latency_max_s']:.2f} ms) -> {out}",
        highlight=False,
    )


@app.command()
def score(
    truth: Annotated[Path, typer.Argument(help="Truth (mtt-bench-truth/1 JSON Lines).")],
    tracks: Annotated[Path, typer.Argument(help="Tracks (mtt-bench-tracks/1 JSON Lines).")],
) -> None:
    """Print GOSPA (c = 10 m, p = 1, alpha = 2) with components and continuity as one JSON line."""
    import json

    from shorad.analysis.mtt_metrics import score_files

    try:
        result = score_files(truth, tracks)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    typer.echo(json.dumps(result))


@app.command("bench-scenario")
def bench_scenario(
    stem: Annotated[Path, typer.Argument(help="Output stem: writes STEM.meas/.truth.jsonl.")],
    n: Annotated[int, typer.Option("--n", help="Number of targets.", min=1)] = 10,
    seed: Annotated[int, typer.Option(help="Seed.", min=0)] = 1,
    dim: Annotated[int, typer.Option(help="Dimension (2 or 3).", min=2, max=3)] = 2,
    scans: Annotated[int, typer.Option(help="Number of scans.", min=1)] = 100,
    clutter: Annotated[float, typer.Option(help="Mean clutter per scan.", min=0.0)] = 10.0,
) -> None:
    """Generate a reference MTT benchmark scenario (FORMAT.md's family) with a seed."""
    import numpy as np

    from shorad.tracking.benchfile import generate_scenario, write_jsonl

    meas, truth = generate_scenario(
        n, rng=np.random.default_rng(seed), seed=seed, dim=dim, scans=scans, clutter_rate=clutter
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(stem.with_name(stem.name + ".meas.jsonl"), meas)
    write_jsonl(stem.with_name(stem.name + ".truth.jsonl"), truth)
    console.print(f"wrote {stem}.meas.jsonl and {stem}.truth.jsonl", highlight=False)


@app.command()
def wta(
    instance: Annotated[Path, typer.Argument(help="Instance file (Andersen et al. 2022 format).")],
    method: Annotated[str, typer.Option(help="exact (HiGHS, proven bound) or fast.")] = "exact",
    time_limit: Annotated[float, typer.Option(help="Wall-time limit (s).", min=0.0)] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the fast method's search.", min=0)] = 0,
) -> None:
    """Solve a static weapon-target assignment instance; print one JSON line."""
    import json

    import numpy as np

    from shorad.c2.wta import read_wta, solve_exact, solve_fast

    if method not in ("exact", "fast"):
        raise _fail(
            ConfigError(f"--method must be 'exact' or 'fast', got {method!r}"), EXIT_BAD_INPUT
        )
    try:
        inst = read_wta(instance)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    if method == "exact":
        sol = solve_exact(inst, time_limit_s=time_limit)
    else:
        sol = solve_fast(inst, time_limit_s=time_limit, rng=np.random.default_rng(seed))
    w, t = inst.shape
    out = {
        "instance": str(instance),
        "method": method,
        "weapons": w,
        "targets": t,
        "surviving_value": sol.surviving_value,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": sol.status,
        "seconds": round(sol.seconds, 4),
    }
    typer.echo(json.dumps(out))


city_app = typer.Typer(help="Inspect city files (OpenStreetMap .osm.pbf or GeoJSON).")
app.add_typer(city_app, name="city")


@city_app.command("info")
def city_info(
    path: Annotated[Path, typer.Argument(help="City file (.osm.pbf, .osm, .geojson ...).")],
    show_rejected: Annotated[
        int, typer.Option(help="List at most this many rejected features.", min=0)
    ] = 10,
) -> None:
    """Print building counts, height sources, repairs/rejections and extent of a city file."""
    from shorad.geo.info import describe_city

    try:
        info = describe_city(path)
    except ShoradError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    n = max(info.n_buildings, 1)
    table = Table(title=f"city {info.path}", show_header=False)
    lo_lon, lo_lat, hi_lon, hi_lat = info.lonlat_bounds_deg
    rows = [
        ("building features read", f"{info.n_features}"),
        ("footprints kept", f"{info.n_buildings} ({info.n_parts} building:part)"),
        ("height from tag", f"{info.n_from_tag} ({100 * info.n_from_tag / n:.0f} %)"),
        ("height from levels", f"{info.n_from_levels} ({100 * info.n_from_levels / n:.0f} %)"),
        ("height default", f"{info.n_default} ({100 * info.n_default / n:.0f} %)"),
        ("repaired / rejected", f"{info.n_repaired} / {info.n_rejected}"),
        (
            "roof height min / median / max",
            f"{info.height_min_m:.1f} / {info.height_median_m:.1f} / {info.height_max_m:.1f} m",
        ),
        ("extent", f"{info.extent_m[0]:.0f} m E-W x {info.extent_m[1]:.0f} m N-S"),
        ("lon/lat bounds", f"{lo_lon:.5f}, {lo_lat:.5f} .. {hi_lon:.5f}, {hi_lat:.5f}"),
        ("footprint area", f"{info.footprint_area_m2 / 1e4:.1f} ha"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    for line in info.rejected[:show_rejected]:
        console.print(f"  rejected {line}", highlight=False, soft_wrap=True)
    if len(info.rejected) > show_rejected:
        console.print(f"  ... and {len(info.rejected) - show_rejected} more", highlight=False)


@app.command()
def campaign(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    runs: Annotated[int, typer.Option("--runs", help="Replicates per sweep point.", min=1)],
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="KEY=V1,V2,... (repeatable; cartesian product). KEY is a path into the "
            "scenario (raid[0].count, doctrine.min_pk) or a preset "
            "(sensors.rooftop_radar.max_range_m, effectors.rooftop_gun.magazine).",
        ),
    ] = None,
    store: Annotated[Path, typer.Option(help="DuckDB results store.")] = Path("results.duckdb"),
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler (tcp://HOST:8786).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: all cores).", min=1)
    ] = None,
    resume: Annotated[bool, typer.Option(help="Skip runs already in the store.")] = False,
    retry_failed: Annotated[
        bool, typer.Option(help="With --resume: run the failed runs again.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Campaign seed (default: the file's).", min=0)
    ] = None,
    events: Annotated[
        bool, typer.Option(help="Also write each run's events to STORE.events/ (Parquet).")
    ] = False,
) -> None:
    """Run a scenario many times (seeds x parameter sweeps) on Dask into a results store."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from shorad.campaign import DaskBackend, dask_client, plan_campaign, run_campaign

    if scheduler is not None and workers is not None:
        raise _fail(ConfigError("give --scheduler or --workers, not both"), EXIT_BAD_INPUT)
    if retry_failed and not resume:
        raise _fail(ConfigError("--retry-failed needs --resume"), EXIT_BAD_INPUT)
    try:
        plan = plan_campaign(scenario, runs=runs, sweeps=sweep or [], seed=seed)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    console.print(
        f"campaign [bold]{plan.campaign_id}[/]: {plan.scenario}, {len(plan.points)} sweep "
        f"point(s) x {plan.runs} runs = {plan.n_runs} runs, seed {plan.seed} -> {store}",
        highlight=False,
    )
    bar = Progress(
        TextColumn("[bold]runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TextColumn("{task.fields[rate]:.2f} runs/s"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    try:
        with dask_client(scheduler, workers) as client, bar:
            task = bar.add_task("runs", total=plan.n_runs, failed=0, rate=0.0)

            def on_row(row: Any, prog: Any) -> None:
                bar.update(
                    task, completed=prog.skipped + prog.done, failed=prog.failed, rate=prog.rate
                )

            outcome = run_campaign(
                plan,
                store,
                backend=DaskBackend(client),
                resume=resume,
                retry_failed=retry_failed,
                events=events,
                on_row=on_row,
            )
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    console.print(
        f"{outcome.ok} ok, {outcome.failed} failed, {outcome.skipped} already stored; "
        f"{outcome.wall_s:.1f} s. See: shorad results {store}",
        highlight=False,
    )


@app.command()
def results(
    store: Annotated[Path, typer.Argument(help="DuckDB results store.")],
    campaign_id: Annotated[
        str | None, typer.Option("--campaign", help="Campaign id or prefix (default: latest).")
    ] = None,
    export: Annotated[
        Path | None, typer.Option(help="Write the campaign's rows to a .parquet or .csv file.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a campaign report (HTML + PNG) into this folder.")
    ] = None,
) -> None:
    """Print a stored campaign's statistics (95 % intervals) and sensitivity table."""
    import json

    from shorad.campaign import ResultStore, campaign_tables

    try:
        with ResultStore(store, read_only=True) as st:
            camps = st.campaigns()
            tables = campaign_tables(st, campaign_id)
            if export is not None:
                st.export(str(tables.campaign["campaign_id"]), export)
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    c = tables.campaign
    if len(camps) > 1:
        console.print(
            "campaigns in store: "
            + ", ".join(
                f"{k['campaign_id']} ({k['scenario']}, {k['n_rows']} rows)" for k in camps
            ),
            highlight=False,
        )
    console.print(
        f"campaign [bold]{c['campaign_id']}[/]: {c['scenario']} (scenario "
        f"{str(c['scenario_hash'])[:12]}), seed {c['seed']}, {tables.present} of "
        f"{tables.requested} runs stored, {tables.failed} failed",
        highlight=False,
    )
    pt = Table(title="Campaign (95 % intervals: Wilson for P, t for means)", header_style="bold")
    for col in (
        "point",
        "parameters",
        "runs",
        "failed",
        "P(asset hit)",
        "leakers",
        "shots/kill",
        "cost exchange",
    ):
        pt.add_column(col, justify="left" if col == "parameters" else "right")
    for p in tables.points:
        pt.add_row(
            str(p.point_id),
            ", ".join(f"{k}={json.dumps(v)}" for k, v in p.params.items()) or "(base)",
            str(p.ok),
            str(p.failed),
            p.p_asset_hit.format(3),
            p.leakers.format(2),
            p.shots_per_kill.format(2),
            p.cost_exchange.format(1),
        )
    console.print(pt)
    if tables.sensitivity:
        sens = Table(
            title="Sensitivity (each level pooled over the other keys; delta vs first level)",
            header_style="bold",
        )
        for col in (
            "parameter",
            "level",
            "runs",
            "leakers",
            "delta leakers",
            "P(asset hit)",
            "delta P",
        ):
            sens.add_column(col, justify="left" if col == "parameter" else "right")
        for lv in tables.sensitivity:
            sens.add_row(
                lv.key,
                json.dumps(lv.value),
                str(lv.ok),
                lv.leakers.format(2),
                "(baseline)" if lv.d_leakers is None else lv.d_leakers.format(2),
                lv.p_asset_hit.format(3),
                "(baseline)" if lv.d_p_asset_hit is None else lv.d_p_asset_hit.format(3),
            )
        console.print(sens)
    if export is not None:
        console.print(f"wrote {export}", highlight=False)
    if report is not None:
        from shorad.report.campaign import write_campaign_report

        path = write_campaign_report(tables, report)
        console.print(f"wrote {path}", highlight=False)


@app.command()
def coverage(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    altitudes: Annotated[
        str, typer.Option(help="Layer heights above ground (m), comma-separated.")
    ] = "30,100,300",
    cell: Annotated[float, typer.Option(help="Grid cell size (m).")] = 10.0,
    box: Annotated[
        str | None,
        typer.Option(help="xmin,ymin,xmax,ymax in ENU m (default: units and assets + margin)."),
    ] = None,
    margin: Annotated[float, typer.Option(help="Margin around units and assets (m).")] = 500.0,
    target: Annotated[
        str | None, typer.Option(help="Reference threat class (default: the raid's first).")
    ] = None,
    bearings: Annotated[int, typer.Option(help="Approach bearings per asset.", min=1)] = 36,
    cumulative: Annotated[
        bool, typer.Option(help="Warning from cumulative Pd over scans (default: one scan).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/<scenario name>/coverage).")
    ] = None,
) -> None:
    """Map P(at least one sensor detects) per altitude layer, and warning times per asset."""
    from shorad.report.coverage import scenario_coverage, warning_table, write_coverage

    spec = _load(scenario)

    def floats(text: str, what: str) -> list[float]:
        try:
            return [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise _fail(
                ConfigError(f"expected comma-separated numbers, got {text!r}", field=what),
                EXIT_BAD_INPUT,
            ) from None

    alts = floats(altitudes, "--altitudes")
    box_m = None
    if box is not None:
        vals = floats(box, "--box")
        if len(vals) != 4:
            raise _fail(
                ConfigError(f"expected 4 numbers xmin,ymin,xmax,ymax, got {box!r}", field="--box"),
                EXIT_BAD_INPUT,
            )
        box_m = (vals[0], vals[1], vals[2], vals[3])
    t0 = time.perf_counter()
    try:
        sc = scenario_coverage(
            spec,
            altitudes_m=alts,
            cell_m=cell,
            box_m=box_m,
            margin_m=margin,
            target_class=target,
            n_bearings=bearings,
            mode="cumulative" if cumulative else "single",
        )
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    wall = time.perf_counter() - t0
    out = out or Path("out") / spec.name / "coverage"
    with _staged_out(out) as tmp:
        files = write_coverage(tmp, spec, sc)
    cov = sc.coverage
    console.print(
        f"[bold]{spec.name}[/]: {sc.n_sensors} sensors vs {sc.target.name}, "
        f"{cov.x_m.size} x {cov.y_m.size} cells of {cell:g} m, {cov.alt_m.size} layers "
        f"in {wall:.2f} s"
    )
    table = Table(title=f"shortest warning time ({cov.mode}, Pd >= {cov.threshold:g})")
    for col in ("asset", "altitude (m)", "warning (s)", "from bearing (deg)", "detected at (m)"):
        table.add_column(col)
    for row in warning_table(spec, sc):
        table.add_row(
            row["asset"],
            f"{row['altitude_m']:g}",
            f"{row['min_warning_s']:.1f}",
            f"{row['worst_bearing_deg']:.0f}",
            f"{row['detect_distance_m']:.0f}",
        )
    console.print(table)
    console.print(f"wrote {out}/ ({', '.join(f.name for f in files)})", highlight=False)


@app.command()
def plan(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    units: Annotated[int, typer.Option("--units", help="Number of units to place.", min=1)],
    unit_type: Annotated[
        str | None,
        typer.Option(help="A unit id of the scenario, or SENSOR[+EFFECTOR...] presets."),
    ] = None,
    candidates: Annotated[
        str, typer.Option(help="'roofs' (thinned roof points) or a CSV/GeoJSON of lat/lon.")
    ] = "roofs",
    objective: Annotated[str, typer.Option(help="coverage | backup | layered.")] = "coverage",
    method: Annotated[str, typer.Option(help="exact (proven) | fast (greedy + swap).")] = "exact",
    range_m: Annotated[
        float | None, typer.Option("--range", help="Planning range cap (m).", min=1.0)
    ] = None,
    exclude: Annotated[
        str, typer.Option(help="No-go buildings (OSM keys or names), comma-separated.")
    ] = "",
    min_spacing: Annotated[float, typer.Option(help="Minimum site spacing (m).", min=0.0)] = 0.0,
    time_limit: Annotated[float, typer.Option(help="Solver time limit (s).", min=0.1)] = 60.0,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/<scenario name>/plan).")
    ] = None,
    validate_runs: Annotated[
        int, typer.Option("--validate", help="Runs per layout for a leakage comparison.", min=0)
    ] = 0,
    demand_kind: Annotated[
        str,
        typer.Option(
            "--demand", help="approach (rings on the approaches) | raid (sampled raid paths)."
        ),
    ] = "approach",
    raid_samples: Annotated[int, typer.Option(help="Raids sampled for --demand raid.", min=1)] = 8,
    seed: Annotated[
        int | None,
        typer.Option(help="First raid's seed for --demand raid (default: the scenario's).", min=0),
    ] = None,
) -> None:
    """Site N rooftop units for the best weighted coverage of the approaches (LOS-aware)."""
    import json

    import numpy as np
    import yaml
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from shorad.plan import (
        approach_demand,
        compute_coverage,
        cover_problem,
        filter_candidates,
        raid_demand,
        read_candidates,
        roof_candidates,
        solve_exact,
        solve_fast,
    )
    from shorad.plan.layout import planned_scenario, sites_geojson, template_unit
    from shorad.plan.layout import unit_type as resolve_unit_type
    from shorad.plan.validate import compare_layouts
    from shorad.report.plan import plot_plan, write_plan_map
    from shorad.scenario import parse_scenario
    from shorad.scenario.load import read_scenario_data

    spec = _load(scenario)
    data = read_scenario_data(scenario)
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )
    try:
        if objective not in ("coverage", "backup", "layered"):
            raise ConfigError(
                f"expected coverage, backup or layered, got {objective!r}", field="--objective"
            )
        if method not in ("exact", "fast"):
            raise ConfigError(f"expected exact or fast, got {method!r}", field="--method")
        if demand_kind not in ("approach", "raid"):
            raise ConfigError(f"expected approach or raid, got {demand_kind!r}", field="--demand")
        template = template_unit(data, unit_type)
        utype = resolve_unit_type(
            data, template, spec, base_dir=scenario.parent, max_range_m=range_m
        )
        mast = float(template.get("mast_m", 3.0))
        with bar:
            t_c = bar.add_task("candidates", total=1)
            try:
                no_go = [
                    spec.world.buildings.find(x.strip()) for x in exclude.split(",") if x.strip()
                ]
            except ConfigError as exc:
                raise ConfigError(str(exc), field="--exclude") from None
            if candidates == "roofs":
                cand = roof_candidates(
                    spec.world,
                    spec.assets.aim_m[:, :2],
                    mast_m=mast,
                    exclude=no_go,
                    min_spacing_m=min_spacing,
                )
            else:
                cand = filter_candidates(
                    read_candidates(candidates, spec.world, mast_m=mast),
                    exclude=no_go,
                    min_spacing_m=min_spacing,
                )
            demand = (
                approach_demand(spec)
                if demand_kind == "approach"
                else raid_demand(spec, samples=raid_samples, seed=seed)
            )
            bar.update(t_c, completed=1)
            t_v = bar.add_task("coverage (LOS)", total=len(cand))
            cov = compute_coverage(
                spec.world,
                cand,
                demand,
                utype,
                progress=lambda done, total: bar.update(t_v, completed=done),
            )
            problem = cover_problem(cov, demand, utype, objective)  # type: ignore[arg-type]
            t_s = bar.add_task(f"solve ({method})", total=1)
            sol = (
                solve_exact(problem, units, time_limit_s=time_limit)
                if method == "exact"
                else solve_fast(problem, units)
            )
            bar.update(t_s, completed=1)
        # pad to N units if fewer sites cover anything (extra sites add no coverage)
        sites = list(sol.sites.tolist())
        for s in np.argsort(-np.diff(problem.a.indptr)).tolist():
            if len(sites) >= units:
                break
            if s not in sites:
                sites.append(s)
        chosen = np.array(sorted(sites), np.int64)
        planned = planned_scenario(
            data, spec, cand, chosen, template, base_dir=scenario.parent.resolve()
        )
        planned_spec = parse_scenario(planned, base_dir=scenario.parent, source="planned")
    except ConfigError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    base = problem.a.shape[1] - demand.weight.size  # layered: warning columns first
    both = cov.seen.multiply(cov.engage) if utype.sensors and utype.effectors else None
    mat = both if both is not None else (cov.seen if utype.sensors else cov.engage)
    covered = np.asarray(mat[chosen].sum(axis=0)).ravel() > 0
    alone = np.array([float(demand.weight[mat[[s]].indices].sum()) for s in chosen.tolist()])
    total = float(problem.w.sum())
    result: dict[str, Any] = {
        "scenario": str(scenario),
        "units": units,
        "unit_type": utype.name,
        "demand": demand_kind,
        "raid_samples": raid_samples if demand_kind == "raid" else None,
        "objective": objective,
        "method": sol.method,
        "status": sol.status,
        "objective_value": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "solve_s": sol.seconds,
        "objective_max": total,
        "covered_weight_fraction": float(demand.weight[covered].sum() / demand.weight.sum()),
        "candidates": len(cand),
        "demand_points": len(demand),
        "los_blocked_pairs": cov.los_blocked_pairs,
        "extra_columns": int(base),
    }
    out = out or Path("out") / spec.name / "plan"
    with _staged_out(out) as tmp:
        (tmp / "sites.geojson").write_text(
            json.dumps(sites_geojson(spec, cand, chosen, alone), indent=1), encoding="utf-8"
        )
        (tmp / "planned.yaml").write_text(
            yaml.safe_dump(planned, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        fig = plot_plan(spec, cand, demand, covered, chosen)
        write_plan_map(tmp / "plan.png", fig)
        if validate_runs:
            with bar:
                t_r = bar.add_task("validate runs", total=2 * validate_runs)
                result["validation"] = compare_layouts(
                    spec,
                    planned_spec,
                    validate_runs,
                    seed=spec.seed,
                    tick=lambda: bar.advance(t_r),
                )
        (tmp / "plan.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    console.print(
        f"[bold]{spec.name}[/]: {units} x {utype.name} on {len(cand)} candidates, "
        f"{len(demand)} demand points; {sol.method} {sol.status}: covered {sol.objective:.2f} "
        f"of {total:.2f} (bound {sol.bound:.2f}, gap {100 * sol.gap:.2f} %) in "
        f"{sol.seconds:.2f} s",
        highlight=False,
    )
    if validate_runs:
        v = result["validation"]
        table = Table(title=f"leakage per asset, {validate_runs} runs each (95 % CI)")
        for col in ("asset", "own layout", "planned", "planned - own"):
            table.add_column(col)
        for row in v["assets"]:
            table.add_row(
                row["asset"],
                "{:.3f} [{:.3f}, {:.3f}]".format(*row["own"]["leak"]),
                "{:.3f} [{:.3f}, {:.3f}]".format(*row["planned"]["leak"]),
                "{:+.3f} [{:+.3f}, {:+.3f}]".format(*row["difference"]),
            )
        console.print(table)
        cx = v["cost_exchange"]
        console.print(
            "cost exchange: own {:.3f} [{:.3f}, {:.3f}], planned {:.3f} [{:.3f}, {:.3f}]".format(
                *cx["own"], *cx["planned"]
            ),
            highlight=False,
        )
    console.print(f"wrote {out}/ (sites.geojson, planned.yaml, plan.png, plan.json)")


def main() -> None:
    """Entry point of the ``shorad`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
