"""Streaming load: a dataset of any size into a store, in bounded memory.

``load_dataset`` validates a whole import in memory; a national dataset does not fit. This
loader reads every file in chunks of ``chunk_rows`` rows and holds no more than a chunk at
a time, in three passes:

0. **ids**: every id each file declares goes into an on-disk index (SQLite), so that a
   reference to a record further down a file, or in a file not read yet, is known.
1. **validate**: each file, chunk by chunk, through the same ``prepare`` as the in-memory
   loader (every rule of docs/input-format.md, the same messages), against an overlay of the
   target store and a scratch embedded store on disk that receives each valid chunk. Persons,
   tenure rows and changes are first spilled to disk and read back grouped by person, so a
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
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.errors import InvalidInput
from graph.factory import open_scratch
from graph.store import Store
from loaders.load import ALL_OR_NOTHING, MAX_ERRORS, LoadOptions, Report, as_prepare_reads, find_files, gc_paused
from loaders.schema import ORDER
from loaders.stream.copy import copy_scratch
from loaders.stream.ids import Ids, declare_ids
from loaders.stream.overlay import Overlay
from loaders.stream.staged import BEFORE_ASIDE, Aside, Stager, drained, staging_for
from loaders.stream.validate import PERSONNEL, validate_file, validate_personnel

CHUNK_ROWS = 100_000


def wants_streaming(store: Store, folder: str | Path, above_mb: float) -> bool:
    """Whether to stream a load: a dataset folder over ``above_mb`` going to a server store.
    The embedded store keeps loading in one transaction (its own memory grows with the data
    anyway: it keeps indexes in memory)."""
    if store.capabilities.in_process or not Path(folder).is_dir():
        return False
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
) -> Report:
    """Load a dataset folder into ``store`` in bounded memory (see the module's docstring).
    ``stage``: write a first load aside while validating, when the store can (``Stager``).

    Examples
    --------
    >>> report = stream_dataset(store, "nation/", chunk_rows=100_000)  # doctest: +SKIP
    >>> report.ok, report.counts["actions"]["new"]  # doctest: +SKIP
    (True, 14820240)
    """
    if options.tolerant:  # setting rows aside validates again, which needs every row in memory
        raise InvalidInput("a tolerant load is validated in memory: add --no-stream (see docs/input-format.md)")
    if options.match_persons:  # a row's match renames its person in files read in other chunks
        raise InvalidInput("matching persons is done in memory: add --no-stream (see docs/input-format.md)")
    options = dataclasses.replace(options, in_chunks=True)
    started = time.perf_counter()
    report = Report(source=str(folder), max_errors=max_errors, dry_run=dry_run)
    files = find_files(Path(folder), report)
    log = {**(log or {}), "source": report.source}
    if not dry_run:  # a large load is what streams: the server may want a setting for it
        for advice in store.load_advice():
            report.warn((report.source, None), None, None, "server-setting", advice)
    locked = contextlib.nullcontext() if dry_run else store.import_lock()
    with locked, tempfile.TemporaryDirectory(prefix="rtc-stream-") as tmp, gc_paused():
        ids = Ids(Path(tmp) / "ids.sqlite3")
        # A small write cache keeps this process's peak down at no cost in time
        # (docs/performance.md, "Figures behind the design").
        scratch = open_scratch(Path(tmp) / "scratch", cache_mb=16)
        reads = as_prepare_reads(store)
        staging = staging_for(store, reads) if stage and not dry_run else None
        stager = Stager(store, staging, log) if staging else None
        aside: Aside | None = None
        try:
            if stager and (away := Aside.wanted(files, report)):  # forked now: it declares its own ids
                aside = Aside(away, files, stager, report, chunk_rows, progress)
            declare_ids({e: p for e, p in files.items() if not aside or e not in aside.files}, ids)
            t = report.lap("ids", started)
            overlay = Overlay(scratch, reads, ids, lean=dry_run or stager is not None, options=options)
            tick = drained(progress, lambda: aside)
            for entity in ORDER:
                if aside and entity not in BEFORE_ASIDE:
                    aside.release(go=report.ok)  # what its files refer to is in the writer's queue
                if entity == "persons":  # with their tenure rows and changes
                    validate_personnel(files, ids, overlay, scratch, report, chunk_rows, tick, stager)
                elif aside and entity in aside.files:
                    continue
                elif entity not in PERSONNEL and entity in files:
                    validate_file(entity, files[entity], overlay, scratch, report, chunk_rows, tick, stager)
            if aside:
                aside.release(go=report.ok)
                aside.join(report)
            t = report.lap("validate", t)
            if report.ok and not dry_run:
                if stager:
                    stager.finish(report)
                else:
                    copy_scratch(scratch, store, report, chunk_rows, log, overlay.updates)
                report.lap("write", t)
        finally:
            if aside:
                aside.close()
            if stager:
                stager.close()
            ids.close()
            scratch.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report
