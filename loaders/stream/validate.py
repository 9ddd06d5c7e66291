"""Validating a streamed load chunk by chunk: each file's rows, and the personnel files'
rows grouped by person, through the in-memory loader's ``prepare``."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from graph.store import Batch, Scratch
from loaders.load import NO_ROWS, Report, Rows, Source, check_header, prepare
from loaders.readers import FileProblem, read_rows
from loaders.schema import header_map
from loaders.stream.ids import Skips
from loaders.stream.overlay import Overlay
from loaders.stream.personsort import Chunk, PersonSort, SortedAside


class Passes(Protocol):
    """Where a validated chunk goes next: ``Stager`` or, in ``Aside``'s process, ``Sender``."""

    def send(self, entity: str, batch: Batch) -> None: ...


# The files validated together, a person at a time, and the column that names the person.
PERSONNEL = {"persons": "id", "tenures": "person_id", "changes": "person_id"}


def validate_file(
    entity: str,
    path: Path,
    overlay: Overlay,
    scratch: Scratch,
    report: Report,
    chunk_rows: int,
    progress: Callable[[str, int], None] | None,
    stager: Passes | None = None,
    skip: Skips | None = None,
) -> None:
    try:
        header, rows = read_rows(path, stream=True, skip=(skip or {}).get(path.name, frozenset()))
    except FileProblem as exc:
        report.error((path.name, exc.row), None, None, exc.rule, str(exc))
        return
    check_header(entity, path.name, header, report)
    if not report.ok:
        return
    seen = 0
    numbered: Iterator[tuple[Source, dict[str, Any]]] = (((path.name, n), row) for n, row in rows)
    try:  # a chunk is read as it is validated (a row a dict only until it is parsed)
        while (first := next(numbered, None)) is not None:
            chunk = itertools.chain((first,), itertools.islice(numbered, chunk_rows - 1))
            seen += validate_chunk({entity: chunk}, overlay, scratch, report, progress, stager)
    except FileProblem as exc:
        report.error((path.name, exc.row), None, None, exc.rule, str(exc))
    if seen == 0:
        report.error((path.name, None), None, None, "no-rows", NO_ROWS)


def personnel_aside(
    files: dict[str, Path], folder: Path, report: Report, chunk_rows: int, skip: Skips | None = None
) -> SortedAside:
    """The personnel files (those of ``files``) spilled to ``folder`` and merged by person in a
    process of its own, forked now (``personsort.SortedAside``), for ``validate_personnel``.
    Their errors (an unreadable file, a header, no rows) go into a report of its own, which
    ``validate_personnel`` merges into ``report``'s."""

    def fill() -> tuple[PersonSort, tuple[Report, list[str]]]:
        part = Report(source=report.source, max_errors=report.max_errors)
        folder.mkdir()
        spill = PersonSort(folder)
        entities: list[str] = []  # by the number of their file in the spill
        for entity in PERSONNEL:
            path = files.get(entity)
            if path is None:
                continue
            try:
                header, rows = read_rows(path, stream=True, skip=(skip or {}).get(path.name, frozenset()))
                check_header(entity, path.name, header, part)
                names = {h for h, name in header_map(entity).items() if name == PERSONNEL[entity]}
                key = next((h for h in header if h in names), "")
                entities.append(entity)
                if spill.add(header, rows, key) == 0:
                    part.error((path.name, None), None, None, "no-rows", NO_ROWS)
            except FileProblem as exc:
                part.error((path.name, exc.row), None, None, exc.rule, str(exc))
        return spill, (part, entities)

    return SortedAside(fill, chunk_rows)


def validate_personnel(
    personnel: SortedAside,
    files: dict[str, Path],
    overlay: Overlay,
    scratch: Scratch,
    report: Report,
    progress: Callable[[str, int], None] | None,
    stager: Passes | None = None,
) -> None:
    """Persons with their tenure rows and changes (``personnel_aside``'s), validated in chunks
    of whole persons: a new person is then written with everything of theirs at once (on
    FalkorDB, one bulk command: see ``FalkorStore._bulk_work``)."""
    spill, (part, entities) = personnel.filled()
    merge_report(report, part)
    if not report.ok:
        return
    file_names = [files[e].name for e in entities]
    # A chunk's rows are kept as they wait in the spill and made dicts one at a time as
    # validation reads them: a whole chunk of dicts would be held through its validation.
    for waiting in personnel.chunks():
        tables = _unpacked(waiting, spill, entities, file_names)
        validate_chunk(tables, overlay, scratch, report, progress, stager)


def _unpacked(waiting: Chunk, spill: PersonSort, entities: list[str], file_names: list[str]) -> Rows:
    """A chunk's rows (``waiting``: by file number), each made a dict as it is read; every
    personnel entity has its rows, none when its file is missing."""

    def rows(number: int) -> Iterator[tuple[Source, dict[str, Any]]]:
        name = file_names[number]
        return (((name, n), spill.row(number, packed)) for n, packed in waiting[number])

    numbers = {e: number for number, e in enumerate(entities)}
    return {e: rows(numbers[e]) if e in numbers else iter(()) for e in PERSONNEL}


def validate_chunk(
    tables: Rows,
    overlay: Overlay,
    scratch: Scratch,
    report: Report,
    progress: Callable[[str, int], None] | None,
    stager: Passes | None = None,
) -> int:
    """Validate a chunk (each file's rows, read once) and pass on what is valid; the rows read."""
    part = Report(source=report.source, max_errors=report.max_errors)
    batch = prepare(overlay, tables, part, options=overlay.options)
    if part.ok and (batch.count() or batch.tenures or batch.tenure_rows):
        scratch.write(overlay.keeps(batch), log={})
        if stager and report.ok:  # nothing more is written once a row was invalid
            stager.send("tenures" if "tenures" in tables else next(iter(tables)), batch)
    merge_report(report, part)
    collect_young()
    read = {entity: part.counts.get(entity, {}).get("read", 0) for entity in tables}
    if progress:
        for entity, rows in read.items():
            progress(entity, rows)
    return sum(read.values())


_CHUNKS_PER_COLLECTION = 10


def collect_young(_seen: list[int] = [0]) -> None:  # noqa: B006 - a counter kept across calls
    """The collector is paused during a load; what the chunks left behind goes now and then.
    Only the young generations, every tenth chunk: a collection walks every container
    allocated since the last one that is still alive (the chunk in hand, about 0.1 s for
    100,000 rows), and a full one also walks what lives for the whole load (the scratch
    store's caches), more as the load grows."""
    _seen[0] += 1
    if _seen[0] % _CHUNKS_PER_COLLECTION == 0:
        gc.collect(1)


def merge_report(report: Report, part: Report) -> None:
    report.error_count += part.error_count
    for src, finding in part.failed.items():  # every row in error: a tolerant load sets them aside
        report.failed.setdefault(src, finding)
    report.errors += part.errors[: max(0, report.max_errors - len(report.errors))]
    report.warnings += part.warnings[: max(0, report.max_errors - len(report.warnings))]
    for entity, counts in part.counts.items():
        for what, n in counts.items():
            report.count(entity, what, n)
    report.tenures_derived += part.tenures_derived
    for column, forms in part.date_forms.items():
        mine = report.date_forms.setdefault(column, {})
        for form, n in forms.items():
            mine[form] = mine.get(form, 0) + n
    for phase, seconds in part.phases.items():
        report.phases[phase] = round(report.phases.get(phase, 0.0) + seconds, 3)
