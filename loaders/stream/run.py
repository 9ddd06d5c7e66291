"""Streaming load: a dataset of any size into a store, in bounded memory.

``load_dataset`` validates a whole import in memory; a national dataset does not fit. This
loader reads every file in chunks of ``chunk_rows`` rows and holds no more than a chunk at
a time, in three passes:

0. **ids**: every id each file declares goes into an on-disk index (SQLite), so that a
   reference to a record further down a file, or in a file not read yet, is known.
1. **validate**: each file, chunk by chunk, through the same ``prepare`` as the in-memory
   loader (every rule of docs/input-format.md, the same messages), against an overlay of the
   target store and a scratch embedded store on disk that receives each valid chunk. Persons,
   tenure rows and changes are first spilled to disk and read back grouped by person (in a
   process of its own, from the load's start: ``personsort.SortedAside``), so a
   chunk holds a person with all of their rows and changes: each person's tenures are
   derived once, from everything, and checked for overlaps per position against what
   earlier chunks and the target hold. The state kept is on disk, per person and per position.
2. **write**: when no chunk had an error (and not a dry run), the scratch, which holds
   exactly what the import adds, is copied into the target in batches: entity by entity,
   then the tenure rows and derived tenures person by person.

As with ``load_dataset``, an import with any error writes nothing to the target. Unlike it,
the write is a sequence of batches, not one transaction: a target that fails in the middle
leaves the batches before the failing one, the report names it, and loading again completes
the import (records already written are skipped as unchanged).

A first load into a server that can rename a graph (FalkorDB; the target holds nothing) is
written aside instead, while it is validated (``staged.Stager``): each valid chunk goes to a
process of its own that writes it into a staging graph, and the staging graph takes the
target's place when every row was valid and written. Validation and writing then share the
machine's cores, and an error of either kind leaves the target as it was. Such a load also
validates duties and actions (actions are the largest file; nothing refers to either but a
duty's optional parent) in a process of their own, beside the persons and the rest
(``Aside``), and its scratch store keeps only what validation reads back
(``Overlay.keeps``), as a dry run's does.

A first load into the embedded store (it holds nothing) validates duties and actions in a
process of their own too: that process keeps them in a scratch store of its own, whose rows
the load's scratch takes (``Scratch.take_rows``, SQLite copying them) once everything was
valid, before it becomes the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from graph.errors import InvalidInput
from graph.factory import open_scratch
from graph.store import Store, gc_paused
from loaders.interchange.read import read_whole
from loaders.load import (
    ALL_OR_NOTHING,
    MAX_ERRORS,
    TOLERANT_ROUNDS,
    Finding,
    LoadOptions,
    NothingStored,
    Report,
    Source,
    as_prepare_reads,
    find_files,
    step,
)
from loaders.readers import read_rows
from loaders.rejects import check_rejects_folder, write_rejects
from loaders.schema import ORDER
from loaders.stream.copy import copy_scratch
from loaders.stream.ids import Ids, Skips, declare_ids
from loaders.stream.overlay import Overlay
from loaders.stream.personsort import SortedAside
from loaders.stream.staged import BEFORE_ASIDE, Aside, Stager, drained, staging_for
from loaders.stream.validate import PERSONNEL, personnel_aside, validate_file, validate_personnel
from loaders.stream.workdir import WorkDir

CHUNK_ROWS = 100_000


SCRATCH_CACHE_MB = 1024


def wants_streaming(store: Store, folder: str | Path, above_mb: float) -> bool:
    """Whether to stream a load: a dataset folder over ``above_mb`` going to a server store.
    The embedded store keeps loading in one transaction (its own memory grows with the data
    anyway: it keeps indexes in memory)."""
    if store.capabilities.in_process or not Path(folder).is_dir() or read_whole(Path(folder)):
        return False  # Popolo and FtM files are read whole (docs/interchange.md)
    size = sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())
    return size > above_mb * 1e6


def stream_dataset(
    store: Store,
    folder: str | Path,
    *,
    dry_run: bool = False,
    max_errors: int = MAX_ERRORS,
    chunk_rows: int = CHUNK_ROWS,
    log: dict[str, Any] | None = None,
    progress: Callable[[str, int], None] | None = None,
    stage: bool = True,
    options: LoadOptions = ALL_OR_NOTHING,
    rejects_to: Path | None = None,
) -> Report:
    """Load a dataset folder into ``store`` in bounded memory (see the module's docstring).
    ``stage``: write a first load aside while validating, when the store can (``Stager``).
    ``options.tolerant``: every valid row, the others set aside (``tolerant``) and, given
    ``rejects_to``, written there.

    Examples
    --------
    >>> report = stream_dataset(store, "nation/", chunk_rows=100_000)  # doctest: +SKIP
    >>> report.ok, report.counts["actions"]["new"]  # doctest: +SKIP
    (True, 14820240)
    """
    if options.match_persons:  # a row's match renames its person in files read in other chunks
        raise InvalidInput("matching persons is done in memory: add --no-stream (see docs/input-format.md)")
    if read_whole(Path(folder)):
        raise InvalidInput("Popolo and FollowTheMoney files are read whole: add --no-stream (docs/interchange.md)")
    options = dataclasses.replace(options, in_chunks=True)
    run = functools.partial(
        _stream,
        store,
        folder,
        max_errors=max_errors,
        chunk_rows=chunk_rows,
        log=log,
        progress=progress,
        options=options,
    )
    if options.tolerant:
        return tolerant(run, Path(folder), dry_run=dry_run, stage=stage, rejects_to=rejects_to)
    return run(dry_run=dry_run, stage=stage)


def _stream(
    store: Store,
    folder: str | Path,
    *,
    dry_run: bool,
    max_errors: int,
    chunk_rows: int,
    log: dict[str, Any] | None,
    progress: Callable[[str, int], None] | None,
    stage: bool,
    options: LoadOptions,
    skip: Skips | None = None,
    leave_out: AbstractSet[str] = frozenset(),
) -> Report:
    """``stream_dataset`` without its tolerance: ``skip`` (rows by file name) and the files
    named in ``leave_out`` are read past, as if they were not there."""
    started = time.perf_counter()
    report = Report(source=str(folder), max_errors=max_errors, dry_run=dry_run)
    files = {e: p for e, p in find_files(Path(folder), report).items() if p.name not in leave_out}
    log = {**(log or {}), "source": report.source}
    if not dry_run:  # a large load is what streams: the server may want a setting for it
        for advice in store.load_advice():
            report.warn((report.source, None), None, None, "server-setting", advice)
    locked = contextlib.nullcontext() if dry_run else store.import_lock()
    with locked, WorkDir("rtc-stream-") as work, gc_paused():
        tmp = work.path
        ids = Ids(tmp / "ids.sqlite3")
        # The scratch's page cache (docs/performance.md, "Figures behind the design"): a
        # nation's personnel chunks insert changes and tenures all over tables of a gigabyte.
        scratch = open_scratch(tmp / "scratch", cache_mb=SCRATCH_CACHE_MB)
        reads = as_prepare_reads(store)
        staging = staging_for(store, reads) if stage and not dry_run else None
        stager = Stager(store, staging, log, tmp / "spool") if staging else None
        aside: Aside | None = None
        personnel: SortedAside | None = None
        try:
            # A first load the store takes whole from the scratch (``take_scratch``): with an
            # aside, that keeps what it validated in a scratch of its own, taken in at the end.
            taken = store.capabilities.takes_scratch and isinstance(reads, NothingStored)
            # the aside is forked now: it declares its own ids meanwhile
            if (stager or (taken and stage and not dry_run)) and (away := Aside.wanted(files, report)):
                aside = Aside(away, files, stager, tmp / "aside", store.url, report, chunk_rows, progress, skip)
            # the personnel files are spilled by person in a process of their own meanwhile
            mine = {e: p for e, p in files.items() if e in PERSONNEL}
            personnel = personnel_aside(mine, tmp / "personnel", report, chunk_rows, skip)
            declare_ids({e: p for e, p in files.items() if not aside or e not in aside.files}, ids, skip)
            t = report.lap("ids", started)
            overlay = Overlay(scratch, reads, ids, lean=dry_run or stager is not None, options=options)
            tick = drained(progress, lambda: aside)
            for entity in ORDER:
                if aside and entity not in BEFORE_ASIDE:
                    aside.release(go=report.ok)  # what its files refer to is in the writer's queue
                if entity == "persons":  # with their tenure rows and changes
                    validate_personnel(personnel, files, overlay, scratch, report, tick, stager)
                elif aside and entity in aside.files:
                    continue
                elif entity not in PERSONNEL and entity in files:
                    validate_file(entity, files[entity], overlay, scratch, report, chunk_rows, tick, stager, skip)
            if aside:
                aside.release(go=report.ok)
                aside.join(report)
            t = report.lap("validate", t)
            if report.ok and not dry_run:
                step(progress, "writing to the store")
                scratch.settle_deferred()
                if aside and aside.kept:
                    scratch.take_rows(aside.kept, list(aside.files))
                if stager:
                    stager.finish(report)
                elif taken:
                    # a first load: SQLite copies the scratch's tables (no updates: nothing was stored)
                    report.written = store.take_scratch(tmp / "scratch", log)
                else:
                    copy_scratch(scratch, store, report, chunk_rows, log, overlay.updates)
                report.lap("write", t)
        finally:
            if personnel:
                personnel.close()
            if aside:
                aside.close()
            if stager:
                stager.close()
            ids.close()
            scratch.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# Errors no row can be set aside for: the file cannot be read, or is not a dataset's. A
# missing required column sets its file aside whole; any other error is a row's.
UNREADABLE = frozenset(
    {"empty-file", "no-rows", "encoding", "malformed-csv", "malformed-jsonl", "malformed-xlsx", "format"}
)
WHOLE_FILE = "missing-column"


def tolerant(
    run: Callable[..., Report], folder: Path, *, dry_run: bool, stage: bool, rejects_to: Path | None
) -> Report:
    """A tolerant load in bounded memory, as ``loaders.load.tolerate`` is one in memory:
    validate (a dry run), set aside every row in error, and validate again without them until
    no error is left (a row set aside can make rows that name it invalid); then load what is
    left. Each round reads the files again: memory holds the rows set aside, never the files.
    Rows read = rows loaded + rows set aside, for every file."""
    if rejects_to is not None:
        check_rejects_folder(rejects_to)  # before anything is written
    files = find_files(folder, Report(source=str(folder)))
    names = {p.name for p in files.values()}
    skip: dict[str, set[int]] = {}
    whole: dict[str, Finding] = {}  # files set aside whole, by name
    rejects: dict[Source, Finding] = {}
    for _ in range(TOLERANT_ROUNDS):
        attempt = run(dry_run=True, stage=False, skip=skip, leave_out=set(whole))
        fresh, unsettled = 0, 0
        for src, finding in attempt.failed.items():
            if src in rejects or src[0] in whole:
                continue
            if src[0] not in names or finding.rule in UNREADABLE or (src[1] is None and finding.rule != WHOLE_FILE):
                unsettled += 1  # no row can be set aside for it
            elif finding.rule == WHOLE_FILE:
                whole[src[0]], fresh = finding, fresh + 1
            else:
                rejects[src], fresh = finding, fresh + 1
                skip.setdefault(src[0], set()).add(src[1])  # type: ignore[arg-type]  # a row: not None
        if unsettled:  # the load fails: say so with every error, and set nothing aside
            attempt.dry_run = dry_run
            return attempt
        if attempt.ok or not fresh:
            break
    report = run(dry_run=dry_run, stage=stage, skip=skip, leave_out=set(whole))
    set_aside = _rows_set_aside(files, skip, whole)
    for name, finding in whole.items():
        rejects |= {(name, number): dataclasses.replace(finding, row=number) for number in set_aside.get(name, {})}
    report.rejects = sorted(rejects.values(), key=lambda f: (f.file, f.row or 0))
    entity_of = {p.name: e for e, p in files.items()}
    for src in rejects:
        entity = entity_of[src[0]]
        report.rejected[entity] = report.rejected.get(entity, 0) + 1
        counts = report.counts.setdefault(entity, {"read": 0, "new": 0, "unchanged": 0, "updated": 0})
        counts["read"] += 1
    if rejects_to is not None and report.rejects:
        tables: dict[str, list[tuple[Source, dict[str, Any]]]] = {
            name: [((name, n), row) for n, row in rows.items()] for name, rows in set_aside.items()
        }
        report.rejects_written = [str(p) for p in write_rejects(rejects_to, report.rejects, tables)]
    return report


def _rows_set_aside(
    files: dict[str, Path], skip: dict[str, set[int]], whole: dict[str, Finding]
) -> dict[str, dict[int, dict[str, Any]]]:
    """The rows set aside, read again from their files (every row of a file set aside whole)."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for path in files.values():
        wanted = skip.get(path.name, set())
        if path.name in whole or wanted:
            _, rows = read_rows(path, stream=True)
            out[path.name] = {n: row for n, row in rows if path.name in whole or n in wanted}
    return out
