"""The main job: a province generated, loaded and read as an analyst would, in one command."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from core.config import get_settings
from graph.store import Store
from loaders.generate import PRESETS, generate
from queries import accountability, findings, pressure
from queries.window import default_window
from rtc.commands.data import print_report, progress_load
from rtc.commands.lookups import print_accountability
from rtc.commands.pressure import print_profile
from rtc.common import (
    StoreOpt,
    _store,
    _table,
    app,
    console,
    err,
)


@app.command("demo")
def demo_cmd(
    preset: Annotated[str, typer.Option(help=f"One of {', '.join(PRESETS)}")] = "province",
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    store: StoreOpt = None,
    data: Annotated[Path | None, typer.Option(help="Keep the generated files here (default: a temp folder)")] = None,
) -> None:
    """Generate a dataset, load it into the store, and print what an analyst sees first."""
    url = store or get_settings().store
    folder = data or Path(tempfile.mkdtemp(prefix=f"rtc-{preset}-"))
    started = time.perf_counter()
    console.print(f"[bold]1. generate[/] the {preset!r} preset (seed {seed}) into {folder}")
    with err.status("generating"):  # a province takes about 20 s: say that something runs
        truth = generate(folder, preset, seed)
    console.print(f"   {time.perf_counter() - started:.1f} s")
    with _store(url, create=True) as s:
        console.print(f"[bold]2. load[/] into {s.url}")
        report = progress_load(s, folder, dry_run=False)
        print_report(report)
        if not report.ok:
            raise typer.Exit(1)
        console.print("[bold]3. the store now holds[/]")
        counts = s.counts()
        console.print(_table("", ["entity", "count"], [[k, v] for k, v in counts.items()]))
        for section in DEMO_SECTIONS:
            section(s, truth)
    if data is None:
        shutil.rmtree(folder, ignore_errors=True)
    console.print(f"done in {time.perf_counter() - started:.1f} s. Try: rtc stats --store {url}")


def _demo_findings(s: Store, truth: dict[str, Any]) -> None:
    settings = get_settings()
    p = pressure.pressure(s, default_window(s), weights=settings.weights)
    w = p.window.as_dict()
    console.print(f"[bold]4. where pressure fades[/], last full year [{w['from']}, {w['to']})")
    print_profile(pressure.level_profile(p))
    sinks = pressure.organizations(
        p, sinks_only=True, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio
    )
    console.print(
        f"[bold]5. pressure sinks[/]: {len(sinks)} organizations receive pressure but pass on less "
        f"than {settings.sink_ratio} of it; the five that receive most:"
    )
    console.print(
        _table(
            "",
            ["org", "name", "level", "received", "pass-on ratio"],
            [[f.org_id, f.name, f.level, f.received, f.pass_on_ratio] for f in sinks[:5]],
        )
    )
    found = findings.slogans(p, threshold=settings.commission_share_flag)
    console.print(
        f"[bold]6. slogan to the committee, work by the commission[/]: {len(found.committees)} committees above "
        f"{found.threshold}; the top 5:"
    )
    rows = [[c.org_id, c.org_name, c.commission_share] for c in found.committees[:5]]
    console.print(_table("", ["committee", "name", "commission share"], rows))
    soft = findings.soft_accountability(s)
    console.print(
        f"[bold]7. soft accountability[/]: {soft.overall_soft_share:.0%} of outcomes are criticism or "
        f"admonishment; in {len(soft.only_violator_held)} cases only the violator was held to account"
    )
    example = _worked_example(s, truth)
    if example is not None:
        console.print(
            "[bold]8. one case, its leaders found where they are now[/] (evidence: tenure and action ids; "
            f"rtc accountability {example.case.id} --json for all of it)"
        )
        print_accountability(example)


def _worked_example(s: Store, truth: dict[str, Any]) -> accountability.AccountabilityResult | None:
    """The first planted case whose secretary has since been promoted and a portfolio member transferred."""
    fallback = None
    for case_id in truth.get("worked_examples", []):
        result = accountability.accountability(s, case_id, weights=get_settings().weights)
        moves = {(r.role, r.movement) for r in result.responsible}
        if ("first", "promoted") in moves and ("portfolio", "transferred") in moves:
            return result
        fallback = fallback or result
    return fallback


def _demo_views(s: Store, truth: dict[str, Any]) -> None:
    """Write the pressure map of the demo province and the chain of the worked example."""
    from viz.people import case_view  # the views import networkx and pyvis
    from viz.pressure_map import pressure_map
    from viz.view import write_view

    settings = get_settings()
    folder = Path(settings.views_dir)
    console.print(f"[bold]9. views[/] (standalone HTML, open offline in a browser) in {folder.resolve()}")
    started = time.perf_counter()
    view = pressure_map(s, weights=settings.weights, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
    written = write_view(view, folder / "pressure-map.html")
    console.print(f"   pressure map: {written.resolve()} ({time.perf_counter() - started:.1f} s)")
    example = _worked_example(s, truth)
    if example is not None and example.case.id:
        written = write_view(case_view(s, example.case.id, weights=settings.weights), folder / "case.html")
        console.print(f"   accountability chain of case {example.case.id}: {written.resolve()}")


DEMO_SECTIONS: list[Callable[[Store, dict[str, Any]], None]] = [_demo_findings, _demo_views]
