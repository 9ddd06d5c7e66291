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
written aside instead, while it is validated (``_Stager``): each valid chunk goes to a
process of its own that writes it into a staging graph, and the staging graph takes the
target's place when every row was valid and written. Validation and writing then share the
machine's cores, and an error of either kind leaves the target as it was. Such a load also
validates duties and actions (actions are the largest file; nothing refers to either but a
duty's optional parent) in a process of their own, beside the persons and the rest
(``_Aside``), and its scratch store keeps only what validation reads back
(``_Overlay.keeps``), as a dry run's does.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import heapq
import itertools
import marshal
import multiprocessing
import operator
import os
import pickle
import queue
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from graph.backends.embedded import EmbeddedStore
from graph.factory import open_store
from graph.model import Organization, Tenure, tenure_from_values, tenure_values
from graph.store import Batch, Store, StoreError
from loaders.load import (
    MAX_ERRORS,
    NO_ROWS,
    NothingStored,
    PrepareReads,
    Report,
    Rows,
    Source,
    _check_header,
    _gc_paused,
    as_prepare_reads,
    find_files,
    prepare,
)
from loaders.readers import FileProblem, read_column, read_rows
from loaders.schema import FILES, ORDER, header_map

CHUNK_ROWS = 100_000
# The files validated together, a person at a time, and the column that names the person.
PERSONNEL = {"persons": "id", "tenures": "person_id", "changes": "person_id"}
_SQL_CHUNK = 900


def _batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


# Entities whose ids other files refer to: their ids are kept to be looked up. Of the others
# (changes, actions, accountability) only whether an id repeats is wanted (``_Repeats``).
REFERRED = {col.ref for cols in FILES.values() for col in cols if col.ref}


class _Ids:
    """Every id the import's files declare, per entity, in a SQLite file, for the entities
    other files refer to (``REFERRED``; ``known``); of the others, whether an id repeats."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE ids (entity TEXT, id TEXT, PRIMARY KEY (entity, id)) WITHOUT ROWID")
        self.repeated: set[str] = set()  # entities with an id declared more than once (or two with one hash: _Repeats)
        self.unreferred: dict[str, _Repeats] = {}

    def add(self, entity: str, ids: Iterable[str]) -> None:
        if entity not in REFERRED:
            if entity not in self.unreferred:
                self.unreferred[entity] = _Repeats(self.path.parent / f"repeats-{entity}")
            self.unreferred[entity].add(ids)
            return
        given = sorted(ids)  # in key order: half the cost of random inserts into the B-tree
        before = self.db.total_changes
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", ((entity, i) for i in given))
        self.db.execute("COMMIT")
        if self.db.total_changes - before < len(given):
            self.repeated.add(entity)

    def settle(self) -> None:
        """Once every id is declared: which entities not referred to have an id that repeats."""
        for entity, repeats in self.unreferred.items():
            if repeats.found():
                self.repeated.add(entity)
        self.unreferred = {}

    def known(self, entity: str, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        out: set[str] = set()
        for i in range(0, len(wanted), _SQL_CHUNK):
            chunk = wanted[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id FROM ids WHERE entity = ? AND id IN ({marks})"
            out.update(r[0] for r in self.db.execute(query, [entity, *chunk]))
        return out

    def close(self) -> None:
        self.db.close()


class _Repeats:
    """Whether any of the ids given repeats, in bounded memory and without keeping the ids: each
    id's 64-bit hash goes, by its top bits, to one of ``BUCKETS`` files (through a buffer of
    ``BUFFERED`` hashes), and each file is then sorted alone and searched for two equal hashes.
    Two ids with one hash count as a repeat too (rare: docs/performance.md, "Figures behind the
    design"): the entity's records are then kept in the scratch store and compared there, which
    is only slower."""

    BUCKETS = 64  # a power of two: a hash's top bits pick its bucket
    BUFFERED = 1 << 20
    _SHIFT = np.uint64(64 - (BUCKETS.bit_length() - 1))

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.buffer: list[np.ndarray] = []
        self.size = 0
        self.spilled = False

    def add(self, ids: Iterable[str]) -> None:
        hashes = np.fromiter(map(hash, ids), np.int64).view(np.uint64)
        self.buffer.append(hashes)
        self.size += len(hashes)
        if self.size >= self.BUFFERED:
            self._spill()

    def _spill(self) -> None:
        hashes = self._buffered()
        hashes.sort()  # the top bits pick the bucket: sorted, each bucket is a slice
        bounds = np.searchsorted(hashes >> self._SHIFT, np.arange(self.BUCKETS + 1, dtype=np.uint64))
        self.folder.mkdir(exist_ok=True)
        for k in range(self.BUCKETS):
            if bounds[k] < bounds[k + 1]:
                with (self.folder / str(k)).open("ab") as f:
                    f.write(hashes[bounds[k] : bounds[k + 1]].tobytes())
        self.spilled = True

    def found(self) -> bool:
        """Whether two ids had one hash (the files are deleted)."""
        if not self.spilled:
            return _repeats(self._buffered())
        self._spill()
        try:
            return any(_repeats(np.fromfile(path, np.uint64)) for path in self.folder.iterdir())
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _buffered(self) -> np.ndarray:
        hashes = np.concatenate(self.buffer) if self.buffer else np.empty(0, np.uint64)
        self.buffer, self.size = [], 0
        return hashes


def _repeats(hashes: np.ndarray) -> bool:
    hashes.sort()
    return bool((hashes[1:] == hashes[:-1]).any())


class _Overlay:
    """The store as ``prepare`` sees it during a streamed import: what the chunks validated so
    far added (the scratch store) over what the target holds, and every id the files declare.
    Only the reads ``prepare`` makes are here."""

    def __init__(self, scratch: EmbeddedStore, target: PrepareReads, ids: _Ids, *, lean: bool = False) -> None:
        """``target``: the store's reads (``as_prepare_reads``). ``lean``: the scratch is not
        copied anywhere (a dry run, or a load written aside), so it receives only what
        validation reads back (``keeps``)."""
        self.scratch, self.target, self.ids = scratch, target, ids
        self.url = target.url
        self.lean = lean

    def keeps(self, batch: Batch) -> Batch:
        """What of a valid chunk's batch the scratch receives. A lean scratch leaves out the
        records validation never reads back: those of an entity whose every id the files
        declare once (so no later chunk can repeat one; a person's tenure rows all come in one
        chunk) but organizations and positions, which later chunks read, and the derived
        tenures, which later chunks check overlaps against."""
        if not self.lean:
            return batch
        return Batch(
            rows={e: rows for e, rows in batch.rows.items() if self._kept(e)},
            tenure_persons=batch.tenure_persons,
            tenures=batch.tenures,
        )

    def _kept(self, entity: str) -> bool:
        """Whether the scratch can hold records of ``entity`` (a lean one: see ``keeps``; the
        raw tenure rows never, a person's all come in one chunk)."""
        return not self.lean or entity in ("organizations", "positions") or entity in self.ids.repeated

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        wanted = set(ids)
        found = self.ids.known(entity, wanted)
        rest = wanted - found
        return found | (self.target.existing_ids(entity, rest) if rest else set())

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        if not self._kept(entity):  # a query of the scratch would find nothing
            return self.target.stored_records(entity, ids)
        return _layered(
            functools.partial(self.scratch.stored_records, entity),
            functools.partial(self.target.stored_records, entity),
            ids,
        )

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        persons = list(person_ids)
        old_rows, old_changes = self.target.personnel_records(persons)
        if not self._kept("tenure_rows") and not self._kept("changes"):
            return old_rows, old_changes
        rows, changes = self.scratch.personnel_records(persons)
        mine = {c["id"] for c in changes}
        # the target's rows first: a row this import changed (another end) replaces it
        return [*old_rows, *rows], [*(c for c in old_changes if c["id"] not in mine), *changes]

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        return _layered(self.scratch.get_organizations, self.target.get_organizations, ids or ())

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        return _layered(self.scratch.position_roles, self.target.position_roles, ids)

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        """The stored tenures the overlap check needs: from the scratch those overlapping a
        span (``EmbeddedStore.tenures_overlapping``), from the target every tenure of the
        spans' positions (``_check_overlaps`` reads nothing else of tenures)."""
        given = list(spans)
        mine = self.scratch.tenures_overlapping(given)
        theirs = self.target.tenures(position_ids=sorted({p for p, _, _ in given}))
        # A person whose tenures this import derived again has them in the scratch only.
        redone = {t.person_id for t in self.scratch.tenures(person_ids={t.person_id for t in theirs})}
        return [*mine, *(t for t in theirs if t.person_id not in redone)]


def _layered(
    first: Callable[[list[Any]], dict[Any, Any]], then: Callable[[list[Any]], dict[Any, Any]], ids: Iterable[Any]
) -> dict[Any, Any]:
    """Records by id from ``first`` (the scratch), the ones it lacks from ``then`` (the target)."""
    wanted = list(ids)
    out = first(wanted)
    rest = [i for i in wanted if i not in out]
    return {**then(rest), **out} if rest else out


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
) -> Report:
    """Load a dataset folder into ``store`` in bounded memory (see the module's docstring).
    ``stage``: write a first load aside while validating, when the store can (``_Stager``).

    Examples
    --------
    >>> report = stream_dataset(store, "nation/", chunk_rows=100_000)  # doctest: +SKIP
    >>> report.ok, report.counts["actions"]["new"]  # doctest: +SKIP
    (True, 14820240)
    """
    started = time.perf_counter()
    report = Report(source=str(folder), max_errors=max_errors, dry_run=dry_run)
    files = find_files(Path(folder), report)
    log = {**(log or {}), "source": report.source}
    if not dry_run:  # a large load is what streams: the server may want a setting for it
        for advice in store.load_advice():
            report.warn((report.source, None), None, None, "server-setting", advice)
    locked = contextlib.nullcontext() if dry_run else store.import_lock()
    with locked, tempfile.TemporaryDirectory(prefix="rtc-stream-") as tmp, _gc_paused():
        ids = _Ids(Path(tmp) / "ids.sqlite3")
        # A small write cache keeps this process's peak down at no cost in time
        # (docs/performance.md, "Figures behind the design").
        scratch = EmbeddedStore(Path(tmp) / "scratch", action_snapshot=False, cache_mb=16)
        reads = as_prepare_reads(store)
        staging = _staging(store, reads) if stage and not dry_run else None
        stager = _Stager(store, staging, log) if staging else None
        aside: _Aside | None = None
        try:
            if stager and (away := _Aside.wanted(files, report)):  # forked now: it declares its own ids
                aside = _Aside(away, files, stager, report, chunk_rows, progress)
            _declare_ids({e: p for e, p in files.items() if not aside or e not in aside.files}, ids)
            t = report.lap("ids", started)
            overlay = _Overlay(scratch, reads, ids, lean=dry_run or stager is not None)
            tick = _drained(progress, lambda: aside)
            for entity in ORDER:
                if aside and entity not in _BEFORE_ASIDE:
                    aside.release(go=report.ok)  # what its files refer to is in the writer's queue
                if entity == "persons":  # with their tenure rows and changes
                    _validate_personnel(files, ids, overlay, scratch, report, chunk_rows, tick, stager)
                elif aside and entity in aside.files:
                    continue
                elif entity not in PERSONNEL and entity in files:
                    _validate_file(entity, files[entity], overlay, scratch, report, chunk_rows, tick, stager)
            if aside:
                aside.release(go=report.ok)
                aside.join(report)
            t = report.lap("validate", t)
            if report.ok and not dry_run:
                if stager:
                    stager.finish(report)
                else:
                    _copy(scratch, store, report, chunk_rows, log)
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


def _declare_ids(files: dict[str, Path], ids: _Ids) -> None:
    for entity, path in files.items():
        if not any(col.name == "id" for col in FILES[entity]):
            continue
        names = {h for h, name in header_map(entity).items() if name == "id"}
        try:  # a file without the column: pass 1 reports it
            for chunk in _batched(read_column(path, names), 50_000):
                ids.add(entity, chunk)
        except FileProblem:
            continue  # pass 1 reports it, with its place
    ids.settle()


def _validate_file(
    entity: str,
    path: Path,
    overlay: _Overlay,
    scratch: EmbeddedStore,
    report: Report,
    chunk_rows: int,
    progress: Callable[[str, int], None] | None,
    stager: _Stager | None = None,
) -> None:
    try:
        header, rows = read_rows(path, stream=True)
    except FileProblem as exc:
        report.error((path.name, exc.row), None, None, exc.rule, str(exc))
        return
    _check_header(entity, path.name, header, report)
    if not report.ok:
        return
    seen = 0
    numbered: Iterator[tuple[Source, dict[str, Any]]] = (((path.name, n), row) for n, row in rows)
    try:  # a chunk is read as it is validated (a row a dict only until it is parsed)
        while (first := next(numbered, None)) is not None:
            chunk = itertools.chain((first,), itertools.islice(numbered, chunk_rows - 1))
            seen += _validate_chunk({entity: chunk}, overlay, scratch, report, progress, stager)
    except FileProblem as exc:
        report.error((path.name, exc.row), None, None, exc.rule, str(exc))
    if seen == 0:
        report.error((path.name, None), None, None, "no-rows", NO_ROWS)


# The personnel files' rows wait on disk sorted by person: sorted in memory a run of _RUN_ROWS
# rows at a time, each run written to a file of its own, then the runs merged (at most
# _MERGE_RUNS files open at once: more runs are merged in rounds first). A row waits as its values
# joined by _SEP when they are strings without it, under its file's header (else in marshal's
# format). Cheaper than a SQLite table (docs/performance.md, "Figures behind the design").
_RUN_ROWS = 100_000
_MERGE_RUNS = 256
_RUN_BLOCK = 256  # entries a run's file holds per record: what merging keeps of each run
_SEP = "\x1f"
_Entry = tuple[str, int, int, str | bytes]  # person, file, row, the row as it waits


class _PersonSort:
    """An external merge sort of the personnel files' rows by person, then file, then row."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.headers: list[tuple[str, ...]] = []  # each file's, by its number in the entries
        self.runs: list[Path] = []
        self.run: list[_Entry] = []

    def add(self, header: list[str], rows: Iterable[tuple[int, dict[str, Any]]], key: str) -> int:
        """A file's rows (its header, and the column naming the person); how many were read."""
        number, names = len(self.headers), tuple(header)
        self.headers.append(names)
        joinable = len(set(names)) == len(names)
        seen = 0
        for n, row in rows:
            seen += 1
            packed: str | bytes | None = None
            if joinable and tuple(row) == names:
                with contextlib.suppress(TypeError):  # a value that is not a string
                    packed = _SEP.join(row.values())
                    if packed.count(_SEP) != len(names) - 1:
                        packed = None
            self.run.append(
                (str(row.get(key) or "").strip(), number, n, marshal.dumps(row) if packed is None else packed)
            )
            if len(self.run) >= _RUN_ROWS:
                self._flush()
        return seen

    def _flush(self) -> None:
        self.run.sort(key=operator.itemgetter(0))  # stable: a run comes in file and row order
        self.runs.append(self._write(self.run))
        self.run = []

    def _write(self, entries: Iterable[_Entry]) -> Path:
        path = self.folder / f"run{uuid.uuid4().hex}"
        with path.open("wb") as f:
            for block in _batched(entries, _RUN_BLOCK):
                marshal.dump(block, f, 2)  # version 2: without references, twice as fast here
        return path

    @staticmethod
    def _read(path: Path) -> Iterator[_Entry]:
        with path.open("rb") as f:
            while True:
                try:
                    block = marshal.load(f)
                except EOFError:
                    break
                yield from block
        path.unlink()

    def sorted(self) -> Iterator[_Entry]:
        """Every row added, in order (each run's file deleted once read)."""
        if self.run:
            self._flush()
        runs = self.runs
        while len(runs) > _MERGE_RUNS:  # (person, file, row) is unique: no run's order matters
            runs = [
                self._write(heapq.merge(*map(self._read, runs[i : i + _MERGE_RUNS])))
                for i in range(0, len(runs), _MERGE_RUNS)
            ]
        return heapq.merge(*map(self._read, runs))

    def row(self, number: int, packed: str | bytes) -> dict[str, Any]:
        if isinstance(packed, bytes):
            made: dict[str, Any] = marshal.loads(packed)
            return made
        return dict(zip(self.headers[number], packed.split(_SEP), strict=True))


def _validate_personnel(
    files: dict[str, Path],
    ids: _Ids,
    overlay: _Overlay,
    scratch: EmbeddedStore,
    report: Report,
    chunk_rows: int,
    progress: Callable[[str, int], None] | None,
    stager: _Stager | None = None,
) -> None:
    """Persons with their tenure rows and changes, spilled to disk, then validated in chunks of
    whole persons: a new person is then written with everything of theirs at once (on
    FalkorDB, one bulk command: see ``CypherStore._bulk_work``)."""
    spill = _PersonSort(Path(tempfile.mkdtemp(prefix="personnel-", dir=ids.path.parent)))
    entities: list[str] = []  # by the number of their file in the spill
    for entity in PERSONNEL:
        path = files.get(entity)
        if path is None:
            continue
        try:
            header, rows = read_rows(path, stream=True)
            _check_header(entity, path.name, header, report)
            names = {h for h, name in header_map(entity).items() if name == PERSONNEL[entity]}
            key = next((h for h in header if h in names), "")
            entities.append(entity)
            if spill.add(header, rows, key) == 0:
                report.error((path.name, None), None, None, "no-rows", NO_ROWS)
        except FileProblem as exc:
            report.error((path.name, exc.row), None, None, exc.rule, str(exc))
    if not report.ok:
        return
    file_names = [files[e].name for e in entities]
    # A chunk's rows are kept as they wait in the spill and made dicts one at a time as
    # validation reads them: a whole chunk of dicts would be held through its validation.
    waiting: list[list[tuple[Source, str | bytes]]] = [[] for _ in entities]  # by file number
    size, person = 0, None
    for who, number, n, packed in spill.sorted():
        if who != person and size >= chunk_rows:  # a chunk ends between two persons
            _validate_chunk(_unpacked(waiting, spill, entities), overlay, scratch, report, progress, stager)
            waiting, size = [[] for _ in entities], 0
        person = who
        waiting[number].append(((file_names[number], n), packed))
        size += 1
    if size:
        _validate_chunk(_unpacked(waiting, spill, entities), overlay, scratch, report, progress, stager)


def _unpacked(waiting: list[list[tuple[Source, str | bytes]]], spill: _PersonSort, entities: list[str]) -> Rows:
    """A chunk's rows (``waiting``: by file number), each made a dict as it is read; every
    personnel entity has its rows, none when its file is missing."""

    def rows(number: int) -> Iterator[tuple[Source, dict[str, Any]]]:
        return ((source, spill.row(number, packed)) for source, packed in waiting[number])

    numbers = {e: number for number, e in enumerate(entities)}
    return {e: rows(numbers[e]) if e in numbers else iter(()) for e in PERSONNEL}


def _validate_chunk(
    tables: Rows,
    overlay: _Overlay,
    scratch: EmbeddedStore,
    report: Report,
    progress: Callable[[str, int], None] | None,
    stager: _Stager | None = None,
) -> int:
    """Validate a chunk (each file's rows, read once) and pass on what is valid; the rows read."""
    part = Report(source=report.source, max_errors=report.max_errors)
    batch = prepare(overlay, tables, part)  # type: ignore[arg-type]
    if part.ok and (batch.count() or batch.tenures or batch.tenure_rows):
        scratch.write(overlay.keeps(batch), log={})
        if stager and report.ok:  # nothing more is written once a row was invalid
            stager.send("tenures" if "tenures" in tables else next(iter(tables)), batch)
    _merge(report, part)
    _collect_young()
    read = {entity: part.counts.get(entity, {}).get("read", 0) for entity in tables}
    if progress:
        for entity, rows in read.items():
            progress(entity, rows)
    return sum(read.values())


_CHUNKS_PER_COLLECTION = 10


def _collect_young(_seen: list[int] = [0]) -> None:  # noqa: B006 - a counter kept across calls
    """The collector is paused during a load; what the chunks left behind goes now and then.
    Only the young generations, every tenth chunk: a collection walks every container
    allocated since the last one that is still alive (the chunk in hand, about 0.1 s for
    100,000 rows), and a full one also walks what lives for the whole load (the scratch
    store's caches), more as the load grows."""
    _seen[0] += 1
    if _seen[0] % _CHUNKS_PER_COLLECTION == 0:
        gc.collect(1)


def _merge(report: Report, part: Report) -> None:
    report.error_count += part.error_count
    report.errors += part.errors[: max(0, report.max_errors - len(report.errors))]
    report.warnings += part.warnings[: max(0, report.max_errors - len(report.warnings))]
    for entity, counts in part.counts.items():
        for what, n in counts.items():
            report.count(entity, what, n)
    report.tenures_derived += part.tenures_derived
    for phase, seconds in part.phases.items():
        report.phases[phase] = round(report.phases.get(phase, 0.0) + seconds, 3)


# The order of the copy makes a rerun complete a failed one, as a server import does: records,
# then persons, each with their tenure rows, their changes and the tenures derived from them (a
# store writes the tenures before the raw records they come from: a record already stored is
# not new to a rerun, so the tenures it shapes must be stored first).
COPY_ORDER = [*(e for e in ORDER if e not in ("tenures", "changes")), "tenures"]


def _parts(scratch: EmbeddedStore, entity: str, chunk_rows: int) -> Iterator[tuple[str, Batch]]:
    """What the scratch holds of one entity, as batches to write (``tenures``: every person's
    tenure rows and changes with the tenures derived from them)."""
    if entity == "tenures":
        yield from (("tenures", batch) for batch in _personnel_batches(scratch, chunk_rows))
        return
    for rows in _batched(scratch.export(entity), chunk_rows):
        yield entity, Batch(rows={entity: rows})


def _copy(scratch: EmbeddedStore, target: Store, report: Report, chunk_rows: int, log: dict[str, Any]) -> None:
    """Write what the scratch holds into the target, a batch at a time (each logged as a part),
    in ``COPY_ORDER``."""
    parts = itertools.chain.from_iterable(_parts(scratch, e, chunk_rows) for e in COPY_ORDER)
    with target.atomic():  # the embedded store: one transaction, all parts or none
        report.written = _write_parts(target, parts, log) > 0


def _write_parts(target: Store, parts: Iterator[tuple[str, Batch | Callable[[], Batch]]], log: dict[str, Any]) -> int:
    """Write the parts in order; the last settles the import (the target's date range). A
    part may come as a function that returns it (the writing process reads the next part
    while one is written)."""
    written = 0
    ahead = next(parts, None)
    while ahead is not None:
        entity, part = ahead
        batch = part() if callable(part) else part
        del part  # a future's ``result`` keeps the batch: only ``batch`` should
        ahead = next(parts, None)
        batch.settles_import = ahead is None
        written += 1
        target.write(batch, log={**log, "part": written, "entity": entity})
        del batch  # freed before the next part is taken
        _collect_young()
    if not written and target.unfinished():  # nothing new, but a failed import to complete
        target.write(Batch(), log={**log, "part": 1})
        written = 1
    return written


def _personnel_batches(scratch: EmbeddedStore, chunk_rows: int) -> Iterator[Batch]:
    """Whole persons' tenure rows and changes with the tenures derived from them, about
    ``chunk_rows`` of them a batch (a server store keeps a person's raw records together, and
    writes them once)."""
    batch, size = Batch(), 0
    for person, rows, changes, tenures in scratch.personnel_by_person():
        batch.tenure_persons.add(person)
        batch.tenure_rows.extend(rows)
        if changes:
            batch.rows.setdefault("changes", []).extend(changes)
        batch.tenures.extend(tenures)
        size += len(rows) + len(changes) + len(tenures)
        if size >= chunk_rows:
            yield batch
            batch, size = Batch(), 0
    if batch.tenure_persons:
        yield batch


# The files validated in a process of its own, beside the others, in a load written aside: they
# refer to organizations (validated before) and to their own records only, and what refers to
# them is optional (a duty's parent: linked when the import settles). Actions are the largest.
ASIDE = ("duties", "actions")
# The files the writer receives before any chunk of ``ASIDE``'s: what those refer to.
_BEFORE_ASIDE = ("organizations", "positions")


def _drained(
    progress: Callable[[str, int], None] | None, aside: Callable[[], _Aside | None]
) -> Callable[[str, int], None] | None:
    """``progress``, also passing on what the load's ``_Aside`` (``aside()``, once there is
    one) reported meanwhile."""
    if progress is None:
        return None

    def both(entity: str, rows: int) -> None:
        if (running := aside()) is not None:
            running.pass_on()
        progress(entity, rows)

    return both


class _Aside:
    """Files (``ASIDE``) validated in a forked process while this one validates the others,
    for a first load written aside (``_Stager``), so validation uses two cores. It is forked
    when the load starts and declares the ids of its files (and of the files they refer to)
    in an ids file of its own while this process declares the others' (at nation scale each
    side reads about 20 million rows). It then waits for ``release``: its chunks go to the
    same writing process, after the organizations they refer to. Its report is merged into
    the load's when it ends.

    It reads nothing from this process's scratch store: what it validated is kept in its own
    (lean: the records of a file where an id repeats) and the target holds nothing. An
    invalid row anywhere fails the load, as it does in one process; the staging graph is
    then deleted, and when the files validated before its own (``_BEFORE_ASIDE``) were
    invalid, it does not validate its own at all."""

    @staticmethod
    def wanted(files: dict[str, Path], report: Report) -> dict[str, Path]:
        """The files to validate aside: those there; none when a file was missing or
        unreadable, or processes cannot be forked (the process inherits what this one read)."""
        if "fork" not in multiprocessing.get_all_start_methods() or not report.ok:
            return {}
        return {e: files[e] for e in ASIDE if e in files}

    def __init__(
        self,
        files: dict[str, Path],
        everything: dict[str, Path],
        stager: _Stager,
        report: Report,
        chunk_rows: int,
        progress: Callable[[str, int], None] | None,
    ) -> None:
        """``files``: those to validate aside; ``everything``: the load's (those they refer to
        are declared there too)."""
        context: Any = multiprocessing.get_context("fork")
        self.results = context.Queue()
        self.go_box = context.Queue()
        self.progress_box = context.Queue() if progress else None
        self.files = files
        referred = {col.ref for entity in files for col in FILES[entity] if col.ref}
        declared = {e: p for e, p in everything.items() if e in files or e in referred}
        args = (files, declared, stager.inbox, stager.spool, stager.store.url, report, chunk_rows)
        boxes = (self.go_box, self.results, self.progress_box)
        self.process = context.Process(target=self._run, args=(*args, *boxes), daemon=True)
        self.process.start()
        self.progress = progress
        self.released = False

    def release(self, *, go: bool) -> None:
        """Let the process validate its files (once): ``go`` False (a row so far was invalid)
        makes it stop instead, with an empty report."""
        if not self.released:
            self.go_box.put(go)
            self.released = True

    @staticmethod
    def _run(
        files: dict[str, Path],
        declared: dict[str, Path],
        inbox: Any,
        spool: Path,
        url: str,
        report: Report,
        chunk_rows: int,
        go_box: Any,
        results: Any,
        progress_box: Any,
    ) -> None:
        try:
            started = time.perf_counter()
            part = Report(source=report.source, max_errors=report.max_errors)
            with tempfile.TemporaryDirectory(prefix="rtc-aside-") as tmp:
                ids = _Ids(Path(tmp) / "ids.sqlite3")
                _declare_ids(declared, ids)
                part.lap("ids", started)
                if go_box.get():
                    scratch = EmbeddedStore(Path(tmp) / "scratch", action_snapshot=False, cache_mb=8)
                    overlay = _Overlay(scratch, NothingStored(url), ids, lean=True)
                    sender = _Sender(inbox, spool)
                    tick = (lambda e, n: progress_box.put((e, n))) if progress_box is not None else None
                    for entity, path in files.items():
                        _validate_file(entity, path, overlay, scratch, part, chunk_rows, tick, sender)  # type: ignore[arg-type]
                    scratch.close()
                ids.close()
            results.put(("done", part))
        except BaseException as exc:
            results.put(("error", f"{type(exc).__name__}: {exc}"))

    def pass_on(self) -> None:
        """Give ``progress`` what the process reported since the last call."""
        while self.progress and self.progress_box is not None:
            try:
                self.progress(*self.progress_box.get_nowait())
            except queue.Empty:
                return

    def join(self, report: Report) -> None:
        """Wait for the files' validation to end, and merge its report into ``report``."""
        while True:
            try:
                status, detail = self.results.get(timeout=1)
                break
            except queue.Empty:
                if not self.process.is_alive():
                    status, detail = "error", f"it ended with exit code {self.process.exitcode}"
                    break
        self.process.join()
        self.pass_on()
        if status != "done":
            raise StoreError(f"validating {', '.join(self.files)} in a process of its own failed: {detail}")
        _merge(report, detail)

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _Sender:
    """``_Stager.send`` for ``_Aside``'s process: into the same queue and spool (the writing
    process is the parent's child, watched by the parent)."""

    def __init__(self, inbox: Any, spool: Path) -> None:
        self.inbox, self.spool = inbox, spool

    def send(self, entity: str, batch: Batch) -> None:
        self.inbox.put((entity, _spooled(self.spool, batch)))


# Chunks validated but not yet written, at most: each waits in a file of the spool, not in
# memory, so validation runs ahead while the server is the slower side and the writer catches
# up when validation is (sized on the nation: docs/performance.md, "Figures behind the design").
SPOOLED = 96


def _spooled(spool: Path, batch: Batch) -> str:
    """Write ``batch`` to a new file of ``spool``; its path (the writer reads and deletes it).

    In marshal's format, the tenures as their values: the records are plain dicts of strings,
    which marshal writes in half of pickle's time, and a tenure made again from its values
    costs half of one unpickled (the 15 batches of a province's load: 3.95 s to write and
    2.91 s to read as pickles, 2.03 s and 2.76 s so). A value of another type (marshal takes
    only the exact built-in ones) sends the batch as a pickle."""
    path = spool / f"{os.getpid()}-{uuid.uuid4().hex}.batch"
    fields = (batch.rows, batch.tenure_rows, batch.tenure_persons, list(map(tenure_values, batch.tenures)))
    try:
        data = _MARSHALLED + marshal.dumps((*fields, batch.settles_import))
    except ValueError:  # "unmarshallable object"
        data = _PICKLED + pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(data)
    return str(path)


_MARSHALLED, _PICKLED = b"M", b"P"


def _unspooled(path: str) -> Batch:
    data = Path(path).read_bytes()
    os.unlink(path)
    if data[:1] == _PICKLED:
        batch: Batch = pickle.loads(memoryview(data)[1:])
        return batch
    rows, tenure_rows, persons, tenures, settles = marshal.loads(memoryview(data)[1:])
    tenures = list(map(tenure_from_values, tenures))
    return Batch(rows=rows, tenure_rows=tenure_rows, tenure_persons=persons, tenures=tenures, settles_import=settles)


class _Aborted(Exception):
    """The load stopped (an invalid row, or an error in the loading process)."""


_DONE, _ABORT = ".", "!"  # validation has finished / stopped


def _copy_worker(url: str, password: str | None, log: dict[str, Any], inbox: Any, outbox: Any) -> None:
    """The writing side of ``_Stager``, in a process of its own: each valid chunk's batch,
    received in the order validated, is written into the staging graph."""
    try:
        target = open_store(url, password=password)

        def parts() -> Iterator[tuple[str, Callable[[], Batch]]]:
            while (message := inbox.get()) != _DONE:
                if message == _ABORT:
                    raise _Aborted
                entity, path = message
                yield entity, reader.submit(_unspooled, path).result

        # The next part is read (``_write_parts`` takes it before it writes one, to know the
        # last) in a thread, while this one waits for the server: on the nation, the writing
        # process and the server were each at 0.6 of a core while the spool drained.
        with _gc_paused(), ThreadPoolExecutor(max_workers=1) as reader:
            written = _write_parts(target, parts(), log)
        outbox.put(("done", written))
    except _Aborted:
        outbox.put(("aborted", 0))
    except BaseException as exc:  # the parent reports it (and deletes the staging graph)
        outbox.put(("error", f"{type(exc).__name__}: {exc}"))


class _Stager:
    """The write side of a first load into a server that can rename a graph (FalkorDB).

    Each valid chunk goes, as the batch validation made of it, to a process of its own that
    writes it into a new staging graph while the next chunk is validated: validation (this
    process) and writing (that one, and the server) run on different cores instead of one
    after the other, and the scratch store is not read back. Up to ``SPOOLED`` chunks wait
    for the writer, each in a file of a spool directory (the queue carries their paths), so
    validation runs ahead when writing is the slower side, in bounded memory. When
    everything is valid and written, the staging graph takes the target's place
    (``CypherStore.adopt``: a rename, if the target still holds nothing). An invalid row or
    a failed write deletes the staging graph: the target is left as it was, empty, which is
    stricter than the sequential copy (whose rerun completes a failed one).
    """

    def __init__(self, store: Any, staging: tuple[str, str | None], log: dict[str, Any]) -> None:
        self.store = store
        self.url, password = staging
        # Forked, and early (the load holds little yet): a spawned process would import the
        # caller's main module again, which a script without a __main__ guard does not survive.
        # The child opens its own connections and uses none of the parent's.
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.spool = Path(tempfile.mkdtemp(prefix="rtc-spool-"))
        self.inbox, self.outbox = context.Queue(maxsize=SPOOLED), context.Queue()
        self.process = context.Process(
            target=_copy_worker, args=(self.url, password, log, self.inbox, self.outbox), daemon=True
        )
        self.process.start()
        self.adopted = False

    def send(self, entity: str, batch: Batch) -> None:
        message = (entity, _spooled(self.spool, batch))
        while True:  # blocks while the writer is SPOOLED chunks behind; a dead writer is noticed
            try:
                self.inbox.put(message, timeout=1)
                return
            except queue.Full:
                if not self.process.is_alive():
                    raise StoreError(self._failure(self._result()[1])) from None

    def finish(self, report: Report) -> None:
        """Wait for the last writes, then put the staging graph in the target's place."""
        self.inbox.put(_DONE)
        status, detail = self._result()
        if status != "done":
            raise StoreError(self._failure(detail))
        self.store.adopt(self.url)
        self.adopted = True
        report.written = bool(detail)

    def _failure(self, detail: Any) -> str:
        return f"the load into {self.store.url} failed while writing, and nothing was applied: {detail}"

    def _result(self) -> tuple[str, Any]:
        while True:
            try:
                result: tuple[str, Any] = self.outbox.get(timeout=1)
                return result
            except queue.Empty:
                if not self.process.is_alive():
                    return "error", f"the writing process ended with exit code {self.process.exitcode}"

    def close(self) -> None:
        """Stop the writing process if it still runs, and delete the staging graph unless adopted."""
        if self.process.is_alive():
            with contextlib.suppress(queue.Full):
                self.inbox.put(_ABORT, timeout=5)
            self.process.join(timeout=30)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        shutil.rmtree(self.spool, ignore_errors=True)
        if not self.adopted:
            # A server that is gone keeps the graph; the next staged load deletes it. The error
            # that brought the load here is the one to report, not this one.
            with contextlib.suppress(Exception):
                self.store.drop_staging(self.url)


def _staging(store: Store, reads: Any) -> tuple[str, str | None] | None:
    """Where to write a load aside: for a first load (the target holds nothing) into a store
    that can put another graph in its place (``CypherStore.staging``; None on Neo4j)."""
    first_load = isinstance(reads, NothingStored)
    return store.staging() if store.capabilities.staged_first_load and first_load else None
