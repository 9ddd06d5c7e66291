"""The reads ``prepare`` makes during a streamed load: what the chunks validated so far added
(the scratch store) over what the target holds, and every id the files declare."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

from graph.model import OPEN_END, Organization, Tenure
from graph.store import Batch, Scratch
from loaders.load import ALL_OR_NOTHING, LoadOptions, PrepareReads
from loaders.stream.ids import Ids


class Overlay:
    """The store as ``prepare`` sees it during a streamed import: what the chunks validated so
    far added (the scratch store) over what the target holds, and every id the files declare.
    Only the reads ``prepare`` makes are here."""

    def __init__(
        self,
        scratch: Scratch,
        target: PrepareReads,
        ids: Ids,
        *,
        lean: bool = False,
        options: LoadOptions = ALL_OR_NOTHING,
    ) -> None:
        """``target``: the store's reads (``as_prepare_reads``). ``lean``: the scratch is not
        copied anywhere (a dry run, or a load written aside), so it receives only what
        validation reads back (``keeps``). ``options``: the load's, for every chunk."""
        self.scratch, self.target, self.ids = scratch, target, ids
        self.options = options
        # Updates of the target's records (a chunk added fields to them): written after the
        # copy, as the last part; never into the scratch, which holds what is new.
        self.updates: dict[str, dict[str, dict[str, Any]]] = {}
        self.url = target.url
        self.lean = lean
        if not lean and "changes" not in ids.repeated:
            # Read back only when an id repeats (a person's changes all come in one chunk):
            # they wait apart, and go in by id once validated (``Scratch.defer``).
            scratch.defer("changes")

    def keeps(self, batch: Batch) -> Batch:
        """What of a valid chunk's batch the scratch receives. A lean scratch leaves out the
        records validation never reads back: those of an entity whose every id the files
        declare once (so no later chunk can repeat one; a person's tenure rows all come in one
        chunk) but organizations and positions, which later chunks read, and the derived
        tenures, which later chunks check overlaps against."""
        for entity, records in batch.updates.items():
            self.updates.setdefault(entity, {}).update((r["id"], r) for r in records)
        # Not settled: the scratch never reads its date range, and working it out at every
        # chunk scanned all the chunks before (quadratic at nation scale).
        if not self.lean:
            return dataclasses.replace(batch, updates={}, settles_import=False)
        return Batch(
            rows={e: rows for e, rows in batch.rows.items() if self._kept(e)},
            tenure_persons=batch.tenure_persons,
            tenures=batch.tenures,
            settles_import=False,
        )

    def _kept(self, entity: str) -> bool:
        """Whether the scratch receives records of ``entity`` (a lean one: see ``keeps``)."""
        return not self.lean or self._read_back(entity)

    def _read_back(self, entity: str) -> bool:
        """Whether a chunk can ask for a record of ``entity`` that an earlier chunk brought:
        organizations and positions, which later files name, and an entity whose ids repeat;
        never the raw tenure rows, a person's all come in one chunk. Else the scratch is not
        asked: on a province those queries, a few a chunk, found nothing in 1.5 s."""
        return entity in ("organizations", "positions") or entity in self.ids.repeated

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        wanted = set(ids)
        found = self.ids.known(entity, wanted)
        rest = wanted - found
        return found | (self.target.existing_ids(entity, rest) if rest else set())

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        if not self._read_back(entity):  # a query of the scratch would find nothing
            return self.target.stored_records(entity, ids)
        return _layered(
            functools.partial(self.scratch.stored_records, entity),
            functools.partial(self.target.stored_records, entity),
            ids,
        )

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        persons = list(person_ids)
        old_rows, old_changes = self.target.personnel_records(persons)
        if not self._read_back("tenure_rows") and not self._read_back("changes"):
            return old_rows, old_changes
        rows, changes = self.scratch.personnel_records(persons)
        mine = {c["id"] for c in changes}
        # the target's rows first: a row this import changed (another end) replaces it
        return [*old_rows, *rows], [*(c for c in old_changes if c["id"] not in mine), *changes]

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]:
        return self.target.persons_named(names)  # a streamed load does not match persons (refused)

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        known = self._target_aliases
        return dict(known) if ids is None else {i: known[i] for i in ids if i in known}

    @functools.cached_property
    def _target_aliases(self) -> dict[str, str]:
        """Every alias of the target, read once: each chunk asking would scan its persons."""
        return self.target.alias_owners()

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        return _layered(self.scratch.get_organizations, self.target.get_organizations, ids or ())

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        return _layered(self.scratch.position_roles, self.target.position_roles, ids)

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        """The stored tenures the overlap check needs: from the scratch those overlapping a
        span (``Store.tenures_overlapping``), from the target every tenure of the
        spans' positions (``_check_overlaps`` reads nothing else of tenures)."""
        given = list(spans)
        mine = self.scratch.tenures_overlapping(given)
        # Every tenure of those posts, through the same read (the embedded store builds no
        # index of the target's tenures for it, however many chunks ask), in ``tenures``' order.
        whole = [(p, -1, OPEN_END + 1) for p in sorted({p for p, _, _ in given})]
        theirs = sorted(
            self.target.tenures_overlapping(whole), key=lambda t: (t.position_id, t.start_ordinal, t.person_id)
        )
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
