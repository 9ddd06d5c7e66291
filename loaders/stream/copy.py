"""Copying what a streamed load validated (its scratch store) into the target, part by part."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from graph.store import Batch, Scratch, Store
from loaders.load import Report
from loaders.schema import ORDER
from loaders.stream.ids import batched
from loaders.stream.validate import collect_young

# The order of the copy makes a rerun complete a failed one, as a server import does: records,
# then persons, each with their tenure rows, their changes and the tenures derived from them (a
# store writes the tenures before the raw records they come from: a record already stored is
# not new to a rerun, so the tenures it shapes must be stored first).
COPY_ORDER = [*(e for e in ORDER if e not in ("tenures", "changes")), "tenures"]


def _parts(scratch: Scratch, entity: str, chunk_rows: int) -> Iterator[tuple[str, Batch]]:
    """What the scratch holds of one entity, as batches to write (``tenures``: every person's
    tenure rows and changes with the tenures derived from them)."""
    if entity == "tenures":
        yield from (("tenures", batch) for batch in _personnel_batches(scratch, chunk_rows))
        return
    for rows in batched(scratch.export(entity), chunk_rows):
        yield entity, Batch(rows={entity: rows})


def copy_scratch(
    scratch: Scratch,
    target: Store,
    report: Report,
    chunk_rows: int,
    log: dict[str, Any],
    updates: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> None:
    """Write what the scratch holds into the target, a batch at a time (each logged as a part),
    in ``COPY_ORDER``; then ``updates`` (the target's records the load added fields to)."""
    parts: Iterator[tuple[str, Batch | Callable[[], Batch]]] = itertools.chain.from_iterable(
        _parts(scratch, e, chunk_rows) for e in COPY_ORDER
    )
    if updates:
        whole = Batch(updates={e: list(records.values()) for e, records in updates.items()})
        parts = itertools.chain(parts, [("updates", whole)])
    with target.atomic():  # the embedded store: one transaction, all parts or none
        report.written = write_parts(target, parts, log) > 0


def write_parts(target: Store, parts: Iterator[tuple[str, Batch | Callable[[], Batch]]], log: dict[str, Any]) -> int:
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
        collect_young()
    if not written and target.unfinished():  # nothing new, but a failed import to complete
        target.write(Batch(), log={**log, "part": 1})
        written = 1
    return written


def _personnel_batches(scratch: Scratch, chunk_rows: int) -> Iterator[Batch]:
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
