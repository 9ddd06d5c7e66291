"""Data in: generate, load, stats, migrate."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from core.config import get_settings
from graph.errors import InvalidInput
from graph.store import Store
from loaders.dates import ISO
from loaders.generate import PRESETS, generate
from loaders.interchange import FORMATS

if TYPE_CHECKING:  # the loaders are imported by the commands that load: a read starts faster
    from loaders.load import LoadOptions, Report
from rtc.common import (
    JsonOpt,
    StoreOpt,
    _emit,
    _store,
    _table,
    app,
    console,
    err,
)


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Folder to write the dataset to")],
    preset: Annotated[str, typer.Option(help=f"One of {', '.join(PRESETS)}")] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed (the same seed gives the same files)")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty")] = False,
) -> None:
    """Write a synthetic dataset in the canonical format, plus truth.json."""
    if preset not in PRESETS:
        err.print(f"[red]error:[/] unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        raise typer.Exit(2)
    if out.exists() and not out.is_dir():
        err.print(f"[red]error:[/] {out} is a file: give a folder to write the dataset to")
        raise typer.Exit(2)
    if out.is_dir() and any(out.iterdir()) and not force:
        err.print(f"[red]error:[/] {out} is not empty: its files would be overwritten (add --force to do so)")
        raise typer.Exit(2)
    started = time.perf_counter()
    with err.status(f"generating the {preset} preset into {out}"):  # a province takes about 20 s
        truth = generate(out, preset, seed)
    console.print(
        f"wrote {out} in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n} {k}" for k, n in truth["counts"].items())
    )


def progress_load(
    store: Store,
    folder: Path,
    dry_run: bool,
    quiet: bool = False,
    stream: bool | None = None,
    options: LoadOptions | None = None,
    rejects: Path | None = None,
    mapping: Path | None = None,
    elite: bool = False,
) -> Report:
    from loaders.load import ALL_OR_NOTHING, STEP, load_dataset
    from loaders.stream import stream_dataset, wants_streaming

    options = options or ALL_OR_NOTHING
    settings = get_settings()
    if elite and stream:
        raise InvalidInput("--elite files are read whole: add --no-stream (docs/interchange.md)")
    streamed = not elite and (wants_streaming(store, folder, settings.stream_above_mb) if stream is None else stream)
    if streamed:
        load = functools.partial(stream_dataset, store, folder, dry_run=dry_run, options=options, rejects_to=rejects)
    else:
        load = functools.partial(
            load_dataset,
            store,
            folder,
            dry_run=dry_run,
            options=options,
            rejects_to=rejects,
            mapping=mapping,
            elite=elite,
        )
    if quiet:
        return load(max_errors=settings.max_errors)
    from rich.progress import Progress, TextColumn, TimeElapsedColumn  # a load's bar: not every command's

    with Progress(
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("validating (streamed, in chunks)" if streamed else "validating")
        done: dict[str, int] = {}

        def tick(entity: str, rows: int) -> None:
            if rows == STEP:  # a step of the load begins: say it, not the last file's count
                bar.update(task, description=entity)
                return
            done[entity] = done.get(entity, 0) + rows
            bar.update(task, description=f"validated {entity}: {done[entity]:,} rows")

        return load(max_errors=settings.max_errors, progress=tick)


def print_report(report: Report) -> None:
    rows = [[e, c["read"], c["new"], c["unchanged"], c["updated"]] for e, c in report.counts.items()]
    console.print(_table(f"import of {report.source}", ["file", "read", "new", "unchanged", "updated"], rows))
    if report.rejects:
        aside = ", ".join(f"{n} {e}" for e, n in report.rejected.items())
        where = f": {', '.join(report.rejects_written)}" if report.rejects_written else ""
        err.print(f"[yellow]set aside[/] {len(report.rejects)} rows ({aside}), each with its error{where}")
    unusual = {c: forms for c, forms in report.date_forms.items() if set(forms) != {ISO}}
    if unusual:  # every date in the stored form is the common case: nothing to say then
        dated = [[c, form, n] for c, forms in unusual.items() for form, n in sorted(forms.items())]
        console.print(_table("dates read, by form", ["column", "form", "values"], dated))
    for w in report.warnings[:20]:
        err.print(f"[yellow]warning:[/] {escape(str(w))}")
    if len(report.warnings) > 20:
        err.print(f"[yellow]... {len(report.warnings) - 20} more warnings (see --report-file)[/]")
    for e in report.errors:
        err.print(f"[red]error:[/] {escape(str(e))}")  # "[rule]" is not rich markup
    if report.error_count > len(report.errors):
        err.print(f"[red]... {report.error_count - len(report.errors)} more errors not listed[/]")
    if report.alerts:
        rows = [
            [a["kind"], f"{a['person_name']} ({a['person_id']})", a["change_kind"], a["date"], a["detail"]]
            for a in report.alerts
        ]
        err.print(
            _table(
                f"[yellow]{len(report.alerts)} alert(s)[/] on the personnel changes",
                ["alert", "person", "change", "date", "why"],
                rows,
            )
        )
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
        print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command("load")
def load_cmd(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="Dataset folder (CSV, JSON Lines or .xlsx files, Popolo, FollowTheMoney), or a Popolo or FtM file",
        ),
    ],
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
    tolerant: Annotated[
        bool,
        typer.Option("--tolerant", help="Load every valid row; write the others, with their errors, to --rejects"),
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Folder for the rows a --tolerant load sets aside (new or empty)")
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace stored values a record contradicts (each listed)")
    ] = False,
    handover_days: Annotated[
        int,
        typer.Option(
            min=0, help="Trim a predecessor's end to the successor's start when they overlap by at most N days"
        ),
    ] = 0,
    match_persons: Annotated[
        bool,
        typer.Option(
            "--match-persons", help="Find a new person's stored record by name and birth date (its id kept as alias)"
        ),
    ] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Popolo/FtM words to rtc's level, kind and role: a file like loaders/interchange/mapping.yaml"
        ),
    ] = None,
    elite: Annotated[
        bool,
        typer.Option(
            "--elite",
            help="PATH holds person and career files in the Chinese elite-dataset column shape (docs/interchange.md)",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate a dataset folder and load it: all of it or nothing, or with --tolerant every valid row."""
    if report_file is not None and not report_file.parent.is_dir():  # known good before anything is written
        err.print(f"[red]error:[/] --report-file {report_file}: the folder {report_file.parent} does not exist")
        raise typer.Exit(2)
    if tolerant and rejects is None:
        raise InvalidInput("--tolerant needs --rejects FOLDER: the rows it sets aside are written there")
    if rejects is not None and not tolerant:
        raise InvalidInput("--rejects is for a --tolerant load")
    from loaders.load import LoadOptions

    options = LoadOptions(correct=correct, tolerant=tolerant, handover_days=handover_days, match_persons=match_persons)
    with _store(store, create=True) as s:
        if s.created and not as_json:
            err.print(f"new store at {s.url}")
        history = s.date_range() is None  # a first load is the history itself: no alert
        report = progress_load(
            s,
            folder,
            dry_run,
            quiet=as_json,
            stream=stream,
            options=options,
            rejects=rejects,
            mapping=mapping,
            elite=elite,
        )
        settings = get_settings()
        if report.ok and report.new_changes and settings.alerts_on_import and not history:
            from queries.indicators.alerts import import_alerts  # only an import with moves reads it
            from queries.indicators.scheme import load_scheme

            report.alerts = import_alerts(
                s,
                load_scheme(settings.scheme),
                report.new_changes,
                weights=settings.weights,
                min_pressure=settings.min_pressure,
                sink_ratio=settings.sink_ratio,
            )
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


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write to (new or empty)")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}")] = "csv",
    at: Annotated[
        str | None,
        typer.Option(help="Popolo/FtM: only the memberships held on this day (YYYY-MM-DD), as a snapshot"),
    ] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write what the store holds as the canonical files, a Popolo document or an FtM entity
    stream (with the canonical files of what those formats do not hold); loading it into an
    empty store gives the same answers."""
    with _store(store) as s:
        from loaders.interchange.export import export_dataset

        written = export_dataset(s, out, fmt, at=at)
    if as_json:
        _emit({"folder": str(out), "format": fmt, "written": written})
        return
    console.print(_table(f"exported to {out} ({fmt})", ["file", "records"], [[k, v] for k, v in written.items()]))


@app.command("migrate")
def migrate_cmd(
    source: Annotated[str, typer.Option("--from", help="Store URL to copy from")],
    target: Annotated[str, typer.Option("--to", help="Store URL to copy into")],
    as_json: JsonOpt = False,
) -> None:
    """Copy a whole dataset between backends (through the loader, so the target validates it)."""
    with _store(source) as src, _store(target, create=True) as dst:
        from loaders.load import migrate

        report = migrate(src, dst, max_errors=get_settings().max_errors)
    _finish_import(report, as_json)


# ---------------------------------------------------------------- the service
