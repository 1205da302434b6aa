"""The ``shorad`` command line (typer). Configures logging; everything else is in the stages."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
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
console = Console()
err_console = Console(stderr=True)
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
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


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


def _run_and_write(spec: Any, seed: int | None, out: Path, report: bool) -> None:
    from shorad.analysis import write_events_parquet
    from shorad.api import run_full

    t0 = time.perf_counter()
    summary, result = run_full(spec, seed)
    wall = time.perf_counter() - t0
    # Write everything to a fresh folder beside `out`, then swap the files in: a failed run
    # never leaves `out` half-written or loses what was there.
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
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
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _print_summary(summary, out, wall)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    seed: Annotated[int | None, typer.Option(help="Seed (default: the file's).", min=0)] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/<scenario name>).")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
) -> None:
    """Simulate one raid and write summary.json, events.parquet and report.html."""
    spec = _load(scenario)
    try:
        _run_and_write(spec, seed, out or Path("out") / spec.name, report)
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
        f"  units: {len(spec.units)} ({sum(r is not None for r in spec.units.radar)} radars, "
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


def main() -> None:
    """Entry point of the ``shorad`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
