"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``, print (a rich table, or JSON with ``--json``)."""

from __future__ import annotations

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
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph.store import Store, StoreError, open_store
from loaders.generate import PRESETS, generate
from loaders.load import Report, load_dataset
from queries import lookups
from rtc.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Responsibility transmission chain: where supervision pressure fades, who is accountable.")
console = Console()
err = Console(stderr=True)

StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (default: setting RTC_STORE)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def _store(url: str | None) -> Iterator[Store]:
    try:
        store = open_store(url or get_settings().store)
    except StoreError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        yield store
    finally:
        store.close()


def _emit(data: Any) -> None:
    print(json.dumps(_plain(data), ensure_ascii=False, indent=2))


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_plain(d) for d in data]
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    return data


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
    console.print(f"wrote {out} in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{n} {k}" for k, n in truth["counts"].items()))


def _progress_load(store: Store, folder: Path, dry_run: bool, quiet: bool = False) -> Report:
    settings = get_settings()
    if quiet:
        return load_dataset(store, folder, dry_run=dry_run, max_errors=settings.max_errors)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} files"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("validating", total=10)

        def tick(entity: str, rows: int) -> None:
            bar.update(task, advance=1, description=f"validated {entity} ({rows} rows)")

        return load_dataset(store, folder, dry_run=dry_run, max_errors=settings.max_errors, progress=tick)


def _print_report(report: Report) -> None:
    rows = [[e, c["read"], c["new"], c["unchanged"], c["updated"]] for e, c in report.counts.items()]
    console.print(_table(f"import of {report.source}", ["file", "read", "new", "unchanged", "updated"], rows))
    for w in report.warnings[:20]:
        err.print(f"[yellow]warning:[/] {w}")
    if len(report.warnings) > 20:
        err.print(f"[yellow]... {len(report.warnings) - 20} more warnings (see --report-file)[/]")
    for e in report.errors:
        err.print(f"[red]error:[/] {e}")
    if report.error_count > len(report.errors):
        err.print(f"[red]... {report.error_count - len(report.errors)} more errors not listed[/]")
    if not report.ok:
        err.print(f"[red]{report.error_count} error(s): nothing was written.[/]")
    elif report.dry_run:
        console.print("dry run: the dataset is valid; nothing was written.")
    else:
        console.print(f"loaded in {report.seconds:.1f} s ({report.tenures_derived} tenures derived)"
                      if report.written else "nothing new: the store already holds this dataset.")


@app.command("load")
def load_cmd(
    folder: Annotated[Path, typer.Argument(help="Dataset folder (CSV, JSON Lines or .xlsx files)")],
    store: StoreOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing")] = False,
    report_file: Annotated[Path | None, typer.Option(help="Write the full report (JSON) here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a dataset folder and load it, all of it or nothing."""
    with _store(store) as s:
        report = _progress_load(s, folder, dry_run, quiet=as_json)
    if report_file:
        report_file.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        _emit(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


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
    console.print(_table("organizations by level", ["level", *kinds],
                         [[lv, *(row.get(k, 0) for k in kinds)] for lv, row in by_level.items()]))


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
    store: StoreOpt = None, as_json: JsonOpt = False,
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
    console.print(_table(f"holders of {position} on {at}", ["person", "name", "title", "start", "end"],
                         [[h.person.id, h.person.name, h.post.title, h.post.start, h.post.end] for h in rows]))
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
    console.print(_table(f"career of {found[person].name} ({person})",
                         ["start", "end", "movement", "title", "organization", "rank", "left by"],
                         [[st.post.start, st.post.end, st.movement, st.post.title, st.post.org_name, st.post.rank,
                           st.left_by] for st in steps]))


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


# Later parts of the demo (findings, views) register here.
DEMO_SECTIONS: list[Callable[[Store, dict[str, Any]], None]] = []


def main() -> None:
    try:
        app()
    except StoreError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
