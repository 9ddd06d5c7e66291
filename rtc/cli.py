"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``, print (a rich table, or JSON with ``--json``)."""

from __future__ import annotations

import functools
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.config import get_settings, open_configured_store
from graph.model import from_ordinal
from graph.store import Store, StoreError
from loaders.generate import PRESETS, generate
from loaders.load import Report, load_dataset, migrate
from loaders.stream import stream_dataset, wants_streaming
from queries import accountability, findings, lookups, pressure
from queries.serialize import jsonable
from queries.window import Window, default_window, latest_date
from viz.duties import duties_view
from viz.people import case_view, person_view
from viz.pressure_map import DEFAULT_BUDGET, pressure_map
from viz.view import View, write_view

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Responsibility transmission chain: where supervision pressure fades, who is accountable.",
)
console = Console()
err = Console(stderr=True)

StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (default: setting RTC_STORE)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def _store(url: str | None) -> Iterator[Store]:
    try:
        store = open_configured_store(url)
    except StoreError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        yield store
    except StoreError as exc:  # lost, busy or read-only while the command ran
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        store.close()


def _emit(data: Any) -> None:
    print(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    return table


# ---------------------------------------------------------------- data in


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Argument(help="Folder to write the dataset to")],
    preset: Annotated[str, typer.Option(help=f"One of {', '.join(PRESETS)}")] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed (the same seed gives the same files)")] = 7,
) -> None:
    """Write a synthetic dataset in the canonical format, plus truth.json."""
    if preset not in PRESETS:
        err.print(f"[red]error:[/] unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        raise typer.Exit(2)
    started = time.perf_counter()
    truth = generate(out, preset, seed)
    console.print(
        f"wrote {out} in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n} {k}" for k, n in truth["counts"].items())
    )


def _progress_load(
    store: Store, folder: Path, dry_run: bool, quiet: bool = False, stream: bool | None = None
) -> Report:
    settings = get_settings()
    streamed = wants_streaming(store, folder, settings.stream_above_mb) if stream is None else stream
    load = functools.partial(stream_dataset if streamed else load_dataset, store, folder, dry_run=dry_run)
    if quiet:
        return load(max_errors=settings.max_errors)
    with Progress(
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("validating (streamed, in chunks)" if streamed else "validating")
        done: dict[str, int] = {}

        def tick(entity: str, rows: int) -> None:
            done[entity] = done.get(entity, 0) + rows
            bar.update(task, description=f"validated {entity}: {done[entity]:,} rows")

        return load(max_errors=settings.max_errors, progress=tick)


def _print_report(report: Report) -> None:
    rows = [[e, c["read"], c["new"], c["unchanged"], c["updated"]] for e, c in report.counts.items()]
    console.print(_table(f"import of {report.source}", ["file", "read", "new", "unchanged", "updated"], rows))
    for w in report.warnings[:20]:
        err.print(f"[yellow]warning:[/] {escape(str(w))}")
    if len(report.warnings) > 20:
        err.print(f"[yellow]... {len(report.warnings) - 20} more warnings (see --report-file)[/]")
    for e in report.errors:
        err.print(f"[red]error:[/] {escape(str(e))}")  # "[rule]" is not rich markup
    if report.error_count > len(report.errors):
        err.print(f"[red]... {report.error_count - len(report.errors)} more errors not listed[/]")
    if not report.ok:
        err.print(f"[red]{report.error_count} error(s): nothing was written.[/]")
    elif report.dry_run:
        console.print("dry run: the dataset is valid; nothing was written.")
    else:
        console.print(
            f"loaded in {report.seconds:.1f} s ({report.tenures_derived} tenures derived)"
            if report.written
            else "nothing new: the store already holds this dataset."
        )


def _finish_import(report: Report, as_json: bool) -> None:
    if as_json:
        _emit(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command("load")
def load_cmd(
    folder: Annotated[Path, typer.Argument(help="Dataset folder (CSV, JSON Lines or .xlsx files)")],
    store: StoreOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing")] = False,
    report_file: Annotated[Path | None, typer.Option(help="Write the full report (JSON) here")] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Validate and write in chunks, in bounded memory (default: for a server store and "
            "a folder over RTC_STREAM_ABOVE_MB)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a dataset folder and load it, all of it or nothing."""
    with _store(store) as s:
        report = _progress_load(s, folder, dry_run, quiet=as_json, stream=stream)
    if report_file:
        report_file.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    _finish_import(report, as_json)


# ---------------------------------------------------------------- reads


@app.command("stats")
def stats_cmd(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Counts per entity, and organizations per level and kind."""
    with _store(store) as s:
        counts = s.counts()
        by_level: dict[str, dict[str, int]] = {}
        for org in s.get_organizations().values():
            row = by_level.setdefault(org.level.value, {})
            row[org.kind.value] = row.get(org.kind.value, 0) + 1
    if as_json:
        _emit({"counts": counts, "organizations_by_level": by_level})
        return
    console.print(_table("records", ["entity", "count"], [[k, v] for k, v in counts.items()]))
    kinds = sorted({k for row in by_level.values() for k in row})
    console.print(
        _table(
            "organizations by level",
            ["level", *kinds],
            [[lv, *(row.get(k, 0) for k in kinds)] for lv, row in by_level.items()],
        )
    )


def _at(value: str) -> str:
    try:
        lookups.as_ordinal(value)
    except ValueError as exc:
        err.print(f"[red]error:[/] --at: {exc}")
        raise typer.Exit(2) from None
    return value


@app.command("holders")
def holders_cmd(
    position: Annotated[str, typer.Argument(help="Position id")],
    at: Annotated[str, typer.Option("--at", help="Date (YYYY-MM-DD, YYYY-MM or YYYY)")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who held a position on a date."""
    with _store(store) as s:
        if not s.get_positions([position]):
            err.print(f"[red]error:[/] no position with id {position!r}")
            raise typer.Exit(1)
        rows = lookups.holders(s, position, _at(at))
    if as_json:
        _emit({"position_id": position, "at": at, "holders": rows})
        return
    console.print(
        _table(
            f"holders of {position} on {at}",
            ["person", "name", "title", "start", "end"],
            [[h.person.id, h.person.name, h.post.title, h.post.start, h.post.end] for h in rows],
        )
    )
    if not rows:
        console.print("vacant on that date")


@app.command("career")
def career_cmd(
    person: Annotated[str, typer.Argument(help="Person id")], store: StoreOpt = None, as_json: JsonOpt = False
) -> None:
    """A person's posts in date order, with the movement that began each."""
    with _store(store) as s:
        found = s.get_persons([person])
        if not found:
            err.print(f"[red]error:[/] no person with id {person!r}")
            raise typer.Exit(1)
        steps = lookups.career(s, person)
    if as_json:
        _emit({"person": found[person], "career": steps})
        return
    console.print(
        _table(
            f"career of {found[person].name} ({person})",
            ["start", "end", "movement", "title", "organization", "rank", "left by"],
            [
                [st.post.start, st.post.end, st.movement, st.post.title, st.post.org_name, st.post.rank, st.left_by]
                for st in steps
            ],
        )
    )


# ---------------------------------------------------------------- accountability and pressure

FromOpt = Annotated[str | None, typer.Option("--from", help="Window start (default: last full year in the data)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Window end, exclusive")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this duty category")]


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]error:[/] {exc.args[0] if isinstance(exc, KeyError) else exc}")
    return typer.Exit(1 if isinstance(exc, KeyError) else 2)


@app.command("accountability")
def accountability_cmd(
    case: Annotated[str | None, typer.Argument(help="Case id (omit with --org for an ad-hoc case)")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Find people where they are on this date (default: the latest date in the data)"),
    ] = None,
    lookback_days: Annotated[int, typer.Option(help="Upstream window starts this many days before the case")] = 365,
    depth: Annotated[int, typer.Option(help="Levels of upstream failure to follow")] = 1,
    org: Annotated[str | None, typer.Option(help="Ad-hoc case: organization id")] = None,
    start: Annotated[str | None, typer.Option(help="Ad-hoc case: misconduct start")] = None,
    end: Annotated[str | None, typer.Option(help="Ad-hoc case: misconduct end")] = None,
    category: CategoryOpt = None,
    violators: Annotated[str, typer.Option(help="Ad-hoc case: violator ids separated by ;")] = "",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who must be held accountable for a case, found in their posts today ("double investigation")."""
    with _store(store) as s:
        try:
            if case is None:
                if not (org and start and category):
                    raise ValueError("give a CASE id, or --org, --start and --category for an ad-hoc case")
                target: Any = accountability.adhoc_case(
                    org, start, end, category, [v for v in violators.split(";") if v]
                )
            else:
                target = case
            result = accountability.accountability(
                s, target, as_of=as_of, lookback_days=lookback_days, depth=depth, weights=get_settings().weights
            )
        except (KeyError, ValueError) as exc:
            raise _fail(exc) from None
    if as_json:
        _emit(result)
        return
    _print_accountability(result)


def _print_accountability(result: accountability.AccountabilityResult) -> None:
    c = result.case
    console.print(
        f"[bold]case {c.id or '(ad hoc)'}[/] in {c.org_name} ({c.org_id}), {c.category}, "
        f"[{c.start}, {c.window_end}); people found as of {result.as_of}"
    )
    rows = []
    for r in result.responsible:
        then = r.post_then
        now = "; ".join(f"{p.title} (since {p.start})" for p in r.posts_now) or (
            f"left; last post {r.last_post.title}" if r.last_post else "no post"
        )
        role = r.role + (f" +{r.level_up}" if r.level_up else "")
        rows.append(
            [
                role,
                f"{r.person.name} ({r.person.id})",
                f"{then.title} [{then.start}, {then.end or 'open'})" if then else "-",
                r.overlap_days,
                r.movement,
                now,
                ", ".join(r.evidence.tenures[:2] + r.evidence.actions[:3]),
            ]
        )
    console.print(_table("", ["role", "person", "post then", "overlap days", "movement", "post now", "evidence"], rows))
    if not result.responsible:
        console.print("nobody held a responsible post during the window")


def _pressure(s: Store, start: str | None, end: str | None, category: str | None) -> pressure.Pressure:
    try:
        window = default_window(s, start, end)
        return pressure.pressure(s, window, category=category, weights=get_settings().weights)
    except ValueError as exc:
        raise _fail(exc) from None


@app.command("fades")
def fades_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pressure felt at each level, and the level boundary where it fades most."""
    with _store(store) as s:
        profile = pressure.level_profile(_pressure(s, start, end, category))
    if as_json:
        _emit(profile)
        return
    _print_profile(profile)


def _print_profile(profile: pressure.LevelProfile) -> None:
    w = profile.window
    console.print(
        _table(
            f"received pressure per level, [{w['from']}, {w['to']})"
            + (f", {profile.category}" if profile.category else ""),
            ["level", "organizations", "median", "mean", "fade ratio from above"],
            [[r.level, r.orgs, r.median, r.mean, r.fade_ratio_from_above] for r in profile.levels],
        )
    )
    f = profile.steepest_fade
    if f:
        console.print(f"steepest fade: [bold]{f.from_level} -> {f.to_level}[/], ratio {f.ratio}")


@app.command("pressure")
def pressure_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    level: Annotated[str | None, typer.Option(help="Only organizations of this level")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organization")] = None,
    explain: Annotated[
        str | None,
        typer.Option(help="With --org: list the action ids behind a figure (received, sent, weak, commission)"),
    ] = None,
    sinks: Annotated[bool, typer.Option("--sinks", help="Only pressure sinks")] = False,
    top: Annotated[int, typer.Option(help="Rows to show in the table")] = 30,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Received pressure, pass-on ratio, sinks, cold organizations, weak-form and commission share."""
    settings = get_settings()
    with _store(store) as s:
        p = _pressure(s, start, end, category)
        if explain:
            if not org:
                raise _fail(ValueError("--explain needs --org"))
            try:
                ids = pressure.evidence(p, org, explain)
            except ValueError as exc:
                raise _fail(exc) from None
            _emit(
                {"org_id": org, "figure": explain, "window": p.window.as_dict(), "actions": ids}
            ) if as_json else console.print(f"{len(ids)} actions: " + ", ".join(ids))
            return
        figures = pressure.org_pressures(p, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
    rows = [
        f
        for f in figures.values()
        if (level is None or f.level == level) and (org is None or f.org_id == org) and (not sinks or f.sink)
    ]
    rows.sort(key=lambda f: (-f.received, f.org_id))
    if as_json:
        _emit({"window": p.window.as_dict(), "category": category, "organizations": rows, "count": len(rows)})
        return
    console.print(
        _table(
            f"pressure [{p.window.as_dict()['from']}, {p.window.as_dict()['to']}), {len(rows)} orgs",
            ["org", "name", "level", "received", "pass-on", "sink", "cold", "sent", "weak share", "commission share"],
            [
                [
                    f.org_id,
                    f.name,
                    f.level,
                    f.received,
                    f.pass_on_ratio,
                    "yes" if f.sink else "",
                    "yes" if f.cold else "",
                    f.sent,
                    f.weak_share,
                    f.commission_share,
                ]
                for f in rows[:top]
            ],
        )
    )


findings_app = typer.Typer(help="Gaps, soft accountability, slogans, coverage and standards.", no_args_is_help=True)
app.add_typer(findings_app, name="findings")


@findings_app.command("gaps")
def gaps_cmd(
    at: Annotated[str | None, typer.Option("--at", help="Date (default: the latest date in the data)")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vacant seats, portfolio gaps and overlaps, undecomposed duties, unsupervised organizations."""
    with _store(store) as s:
        day = at or from_ordinal(latest_date(s))
        found = findings.gaps(s, _at(day))
    if as_json:
        _emit({"at": day, "gaps": found, "count": len(found)})
        return
    console.print(
        _table(
            f"gaps on {day}: {len(found)}",
            ["kind", "org", "name", "detail"],
            [[g.kind, g.org_id, g.org_name, g.detail] for g in found],
        )
    )


@findings_app.command("soft")
def soft_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    min_outcomes: Annotated[int, typer.Option(help="Organizations with at least this many outcomes")] = 3,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Soft accountability per level and organization; cases where only the violator was held to account."""
    with _store(store) as s:
        window = Window.of(start, end) if start and end else None
        report = findings.soft_accountability(s, window, min_outcomes=min_outcomes)
    if as_json:
        _emit(report)
        return
    console.print(f"overall soft share: {report.overall_soft_share}")
    console.print(
        _table(
            "by level",
            ["level", "outcomes", "total", "soft share"],
            [[r.level, r.outcomes, r.total, r.soft_share] for r in report.by_level],
        )
    )
    console.print(
        _table(
            "softest organizations",
            ["org", "name", "level", "outcomes", "soft share"],
            [[r.org_id, r.org_name, r.level, r.outcomes, r.soft_share] for r in report.by_org[:20]],
        )
    )
    console.print(
        f"{len(report.only_violator_held)} cases where only the violator was held to account "
        f"(double investigation not done): {', '.join(report.only_violator_held[:10])}"
    )


@findings_app.command("slogans")
def slogans_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Committees whose supervision work is done by their commission ("slogan to the committee, work by the
    commission"), case_support excepted."""
    with _store(store) as s:
        found = findings.slogans(_pressure(s, start, end, None), threshold=get_settings().commission_share_flag)
    if as_json:
        _emit(found)
        return
    console.print(
        _table(
            f"commission share above {found.threshold}, [{found.window['from']}, {found.window['to']})",
            ["committee", "name", "commission share"],
            [[c.org_id, c.org_name, c.commission_share] for c in found.committees],
        )
    )


@findings_app.command("coverage")
def coverage_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Per level and action kind: the share of organizations reached, and those missed."""
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        rows = findings.coverage(p)
    if as_json:
        _emit({"window": p.window.as_dict(), "coverage": rows})
        return
    console.print(
        _table(
            "coverage",
            ["level", "action kind", "orgs", "covered", "share", "missed (first 5)"],
            [[c.level, c.action_kind, c.orgs, c.covered, c.share, ", ".join(c.missed[:5])] for c in rows],
        )
    )


@findings_app.command("standards")
def standards_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Compliance with the office's standards, per period: who met them and who missed them."""
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        rows = findings.standards_compliance(s, p.window)
    if as_json:
        _emit({"window": p.window.as_dict(), "compliance": rows})
        return
    console.print(
        _table(
            "standards",
            ["standard", "period from", "met", "missed", "missed (first 5)"],
            [[c.standard_id, c.period["from"], len(c.met), len(c.missed), ", ".join(list(c.missed)[:5])] for c in rows],
        )
    )


@app.command("scorecard")
def scorecard_cmd(
    org: Annotated[str, typer.Argument(help="Organization id")],
    start: FromOpt = None,
    end: ToOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One organization's indicators for a window, each explainable."""
    settings = get_settings()
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        try:
            card = findings.scorecard(s, org, p, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
        except KeyError as exc:
            raise _fail(exc) from None
    if as_json:
        _emit(card)
        return
    data = card.model_dump(mode="json")
    data["gaps"] = [g["detail"] for g in data["gaps"]]
    console.print(
        _table(
            f"scorecard of {card.org_name} ({org})",
            ["indicator", "value"],
            [[k, v] for k, v in data.items() if k not in ("org_id", "org_name")],
        )
    )


@app.command("migrate")
def migrate_cmd(
    source: Annotated[str, typer.Option("--from", help="Store URL to copy from")],
    target: Annotated[str, typer.Option("--to", help="Store URL to copy into")],
    as_json: JsonOpt = False,
) -> None:
    """Copy a whole dataset between backends (through the loader, so the target validates it)."""
    with _store(source) as src, _store(target) as dst:
        try:
            report = migrate(src, dst, max_errors=get_settings().max_errors)
        except StoreError as exc:
            raise _fail(exc) from None
    _finish_import(report, as_json)


# ---------------------------------------------------------------- the service

# ---------------------------------------------------------------- views

view_app = typer.Typer(
    help="Interactive views as standalone HTML (offline), or GraphML/GEXF by the --out suffix.",
    no_args_is_help=True,
)
app.add_typer(view_app, name="view")
OutOpt = Annotated[Path, typer.Option("--out", help="File to write: .html (the page), .graphml or .gexf")]


def _write(view: View, out: Path) -> None:
    try:
        written = write_view(view, out)
    except ValueError as exc:
        raise _fail(exc) from None
    console.print(f"wrote {written} ({len(view.nodes)} nodes, {written.stat().st_size / 1e6:.2f} MB)")


@view_app.command("pressure")
def view_pressure_cmd(
    root: Annotated[str | None, typer.Option(help="Organization at the centre (default: the top)")] = None,
    depth: Annotated[int | None, typer.Option(help="Levels below the root (default: all)")] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the leaders shown (default: latest)")] = None,
    budget: Annotated[int, typer.Option(help="Most nodes before the deepest levels collapse")] = DEFAULT_BUDGET,
    out: OutOpt = Path("pressure-map.html"),
    store: StoreOpt = None,
) -> None:
    """The pressure map of a subtree: coloured by received pressure, sinks and fades marked."""
    settings = get_settings()
    with _store(store) as s:
        try:
            view = pressure_map(
                s,
                root=root,
                depth=depth,
                window=default_window(s, start, end),
                category=category,
                as_of=_at(as_of) if as_of else None,
                budget=budget,
                weights=settings.weights,
                min_pressure=settings.min_pressure,
                sink_ratio=settings.sink_ratio,
            )
        except (KeyError, ValueError) as exc:
            raise _fail(exc) from None
    _write(view, out)


@view_app.command("case")
def view_case_cmd(
    case: Annotated[str, typer.Argument(help="Case id")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Where people are on this date (default: latest)")
    ] = None,
    lookback_days: Annotated[int, typer.Option(help="Look-back for upstream pressure")] = 365,
    depth: Annotated[int, typer.Option(help="Levels above for upstream responsibility")] = 1,
    out: OutOpt = Path("case.html"),
    store: StoreOpt = None,
) -> None:
    """The accountability chain of a case: posts then, people, posts now."""
    with _store(store) as s:
        try:
            view = case_view(
                s,
                case,
                as_of=_at(as_of) if as_of else None,
                lookback_days=lookback_days,
                depth=depth,
                weights=get_settings().weights,
            )
        except (KeyError, ValueError) as exc:
            raise _fail(exc) from None
    _write(view, out)


@view_app.command("person")
def view_person_cmd(
    person: Annotated[str, typer.Argument(help="Person id")],
    out: OutOpt = Path("person.html"),
    store: StoreOpt = None,
) -> None:
    """A person's career: posts in order, with the cases that fell in each tenure."""
    with _store(store) as s:
        try:
            view = person_view(s, person)
        except KeyError as exc:
            raise _fail(exc) from None
    _write(view, out)


@view_app.command("duties")
def view_duties_cmd(
    org: Annotated[str, typer.Argument(help="Organization id")],
    depth: Annotated[int, typer.Option(help="Levels below the organization")] = 1,
    category: CategoryOpt = None,
    at: Annotated[str | None, typer.Option(help="Organizations that exist on this date (default: latest)")] = None,
    out: OutOpt = Path("duties.html"),
    store: StoreOpt = None,
) -> None:
    """Duty decomposition down the hierarchy, with the gaps marked."""
    with _store(store) as s:
        try:
            view = duties_view(s, org, depth=depth, category=category, at=_at(at) if at else None)
        except KeyError as exc:
            raise _fail(exc) from None
    _write(view, out)


keys_app = typer.Typer(help="API keys for `rtc serve` (only their hashes are stored).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who the key is for")],
    role: Annotated[str, typer.Option(help="reader (all reads), loader (also imports) or admin")] = "reader",
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Limit the key to this organization's subtree (repeat for several); reads only"),
    ] = None,
) -> None:
    """Create an API key; it is printed once, and only its hash is kept (setting RTC_API_KEYS_FILE)."""
    from api.keys import add_key

    try:
        key = add_key(get_settings().api_keys_file, name, role, scope or ())
    except ValueError as exc:
        raise _fail(exc) from None
    print(key)
    err.print(f"key for {name!r} ({role}) stored as a hash in {get_settings().api_keys_file}; it is not shown again")


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """The stored keys: name, role and jurisdiction (the keys themselves are not kept)."""
    from api.keys import load_keys

    try:
        entries = [
            {"name": e["name"], "role": e["role"], "scope": e.get("scope", [])}
            for e in load_keys(get_settings().api_keys_file)
        ]
    except ValueError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit(entries)
        return
    rows = [[e["name"], e["role"], "; ".join(e["scope"]) or "everything"] for e in entries]
    console.print(_table(f"API keys in {get_settings().api_keys_file}", ["name", "role", "scope"], rows))


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The name the key was added under")]) -> None:
    """Remove a key; a serving API refuses it from its next request on."""
    from api.keys import revoke_key

    try:
        revoke_key(get_settings().api_keys_file, name)
    except ValueError as exc:
        raise _fail(exc) from None
    err.print(f"key {name!r} revoked in {get_settings().api_keys_file}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    store: StoreOpt = None,
) -> None:
    """Serve the API (uvicorn, one worker). Every route but /health needs a key (rtc keys add)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if store:
        settings = settings.model_copy(update={"store": store})
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=settings.access_log)


# ---------------------------------------------------------------- the main job


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
    truth = generate(folder, preset, seed)
    console.print(f"   {time.perf_counter() - started:.1f} s")
    with _store(url) as s:
        console.print(f"[bold]2. load[/] into {s.url}")
        report = _progress_load(s, folder, dry_run=False)
        _print_report(report)
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
    _print_profile(pressure.level_profile(p))
    figures = pressure.org_pressures(p, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
    sinks = sorted((f for f in figures.values() if f.sink), key=lambda f: (f.pass_on_ratio or 0, f.org_id))
    console.print(
        f"[bold]5. pressure sinks[/]: {len(sinks)} organizations receive pressure but pass on less "
        f"than {settings.sink_ratio} of it; the top 5:"
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
        _print_accountability(example)


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


def main() -> None:
    try:
        app()
    except StoreError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
