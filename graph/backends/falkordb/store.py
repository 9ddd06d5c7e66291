"""The Cypher store on FalkorDB, with what only FalkorDB has: its Redis lock for imports,
``GRAPH.BULK`` commands for imports into a graph whose node ids have no holes, and a first
load written aside into another graph that is then renamed into this one's place."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

import graph.backends.cypher.statements as cypher
from graph.backends.cypher.store import (
    _TUPLE_FIELDS,
    CypherStore,
    _others,
    _records_of,
    _tenure_props,
    _Work,
)
from graph.backends.falkordb.transport import FalkorTransport
from graph.model import Tenure, to_ordinal
from graph.store import LOCK_WAIT_SECONDS, Batch, Capabilities, StoreError

_get_id = itemgetter("id")
# The arguments of one GRAPH.BULK command: nodes, relationships, and their binary blocks.
_Bulk = tuple[int, int, list[bytes], list[bytes]]
# A bulk command before it is joined (``FalkorStore._joined``): what, its rows, what makes it.
_BulkCommand = tuple[str, int, Callable[[], _Bulk]]


class _CreatedIds:
    """The internal ids of the nodes this store's bulk commands created, for the labels that
    ``REMEMBERED`` names, kept compactly (sorted arrays of the UTF-8 ids, a segment per
    import, merged now and then): a bulk import finds the other end of a relationship here
    before it asks the server (docs/performance.md, "Figures behind the design"). The store
    forgets them when another client may have changed the graph (the node count is not what
    this store left: ``clear``), and an id is taken from here only when its key is here,
    byte for byte."""

    REMEMBERED = ("Organization", "Position")
    MERGE_ABOVE = 8  # segments of a label, before they are merged into one
    WIDEST = 64  # bytes: a label with a longer id is not kept (every key takes the widest's room)

    def __init__(self) -> None:
        self.segments: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.skipped: set[str] = set()  # labels with an id too wide to keep

    def clear(self) -> None:
        self.segments.clear()
        self.skipped.clear()

    def add(self, label: str, created: dict[Any, int]) -> None:
        if label not in self.REMEMBERED or not created or label in self.skipped:
            return
        keys = np.array([str(k).encode() for k in created])
        if keys.dtype.itemsize > self.WIDEST:
            self.segments.pop(label, None)
            self.skipped.add(label)
            return
        segments = self.segments.setdefault(label, [])
        segments.append((keys, np.fromiter(created.values(), dtype=np.int64, count=len(created))))
        if len(segments) > self.MERGE_ABOVE:
            keys = np.concatenate([k for k, _ in segments])  # the widest segment's width
            ids = np.concatenate([i for _, i in segments])
            segments[:] = [(keys, ids)]
        keys, ids = segments[-1]
        order = np.argsort(keys, kind="stable")
        segments[-1] = (keys[order], ids[order])

    def find(self, label: str, keys: Iterable[Any]) -> dict[Any, int]:
        """The ids of those of ``keys`` kept here."""
        wanted = list(keys)
        found: dict[Any, int] = {}
        if not wanted or not self.segments.get(label):
            return found
        asked = np.array([str(k).encode() for k in wanted])
        for stored, ids in self.segments[label]:
            at = np.minimum(np.searchsorted(stored, asked), len(stored) - 1)
            hit = np.flatnonzero(stored[at] == asked)
            found.update(zip((wanted[i] for i in hit), ids[at[hit]].tolist(), strict=True))
        return found


class FalkorStore(CypherStore):
    """``CypherStore`` on a FalkorDB graph (see the module's docstring)."""

    transport: FalkorTransport

    def __init__(
        self, transport: FalkorTransport, *, batch_size: int = 5000, lock_wait: float = LOCK_WAIT_SECONDS
    ) -> None:
        super().__init__(transport, batch_size=batch_size, lock_wait=lock_wait)
        self.capabilities = Capabilities(in_process=False, staged_first_load=True)
        self._dense_count = -1  # the graph's node count after this store's last bulk import
        self._created = _CreatedIds()  # valid while the node count is _dense_count
        self._creating: dict[str, dict[Any, int]] = {}  # the bulk import's new nodes, until it is done

    def __repr__(self) -> str:
        return f"FalkorStore({self.url!r})"

    def _import_lock(self) -> contextlib.AbstractContextManager[None]:
        """Redis's lock: bulk ids also assume no other client creates nodes meanwhile."""
        return self.transport.import_lock()

    def load_advice(self) -> list[str]:
        return self.transport.load_advice()

    def staging(self) -> tuple[str, str | None] | None:
        """A new graph's URL on the same server and the password: a first load is written
        there, to take this graph's place when complete."""
        return self.transport.staging()

    def adopt(self, url: str) -> None:
        """Put the graph at ``url`` (from ``staging``) in this one's place. Only while this graph
        holds nothing: another import that wrote here meanwhile is not overwritten."""
        try:
            with self.import_lock():
                if self.transport.read(cypher.NODE_COUNT)[0][0]:
                    raise StoreError(
                        f"{self.url} was written to while this load was being written aside; "
                        "it was not applied (load it again: it will be compared with what is stored)"
                    )
                self.transport.adopt(url)
        finally:
            self._forget()
            self._dense_count = -1

    def drop_staging(self, url: str) -> None:
        """Delete a graph written aside that will not be used."""
        self.transport.drop(url)

    def _logged(self) -> None:
        if self._dense_count >= 0:  # that node is this import's own: no reason to scan for holes
            self._dense_count += 1

    def _finished(self, *, bulk: bool) -> None:
        if bulk:  # this store deletes no node: the ids are still dense, and the next import knows it
            self._dense_count = self.transport.read(cypher.NODE_COUNT)[0][0]
            for label, created in self._creating.items():
                self._created.add(label, created)
        self._creating = {}

    def _bulk_work(self, batch: Batch, personnel: list[dict[str, Any]]) -> list[_Work] | None:
        """The import as ``GRAPH.BULK`` commands, when no node of the graph was ever deleted:
        new nodes then get the internal ids after the highest one, so every relationship is
        written by id, with no lookup (the other end, when stored before, is looked up once).
        The commands come in the order of ``_steps`` and each holds whole batches (a label's
        nodes with their mandatory relationships, then optional relationships, tenures), but
        that a new person comes in one command with their raw records and tenures; the raw
        records of stored persons come last, set by statements (``personnel``: of persons
        without any stored; the caller sends statements only, otherwise). So a rerun finds a
        person either complete or absent, and completes a failed import as it completes a
        statement import (``Store.unfinished`` when nothing is new). None (statements then):
        ids with holes, or persons whose stored tenures must be replaced."""
        read = self.transport.read
        count = read(cypher.NODE_COUNT)[0][0]
        if count != self._dense_count:  # not what this store left: look for holes (a scan)
            self._created.clear()
            self._span = [] if count == 1 else None  # an empty graph but for this import's log node
            count, highest = read(cypher.BULK_STATE)[0]
            if count != highest + 1:
                return None
        rows = _records_of(batch)
        ids: dict[str, dict[Any, int]] = {}
        next_id = count
        for entity in rows:  # in the order the commands send the nodes
            keys = [r["id"] for r in rows[entity]]
            ids[cypher.LABELS[entity]] = dict(zip(keys, range(next_id, next_id + len(keys)), strict=True))
            next_id += len(keys)
        self._creating = {label: dict(ids[label]) for label in _CreatedIds.REMEMBERED if label in ids}
        if self._span is not None:  # every tenure and action is new here: the range only widens
            self._span = _widened(self._span, batch.tenures, rows["actions"])
        new_persons = {r["id"] for r in rows["persons"]}
        people = sorted(({t.person_id for t in batch.tenures} | set(batch.tenure_persons)) - new_persons)
        if people and read(cypher.count("Person"))[0][0] and read(cypher.HELD_OF_PERSONS, {"ids": people})[0][0]:
            return None  # their stored tenures are replaced: statements delete them first
        wanted: dict[str, set[Any]] = {}
        required: dict[str, set[Any]] = {}
        for entity, _, prop, other, _ in cypher.RELATIONSHIPS:
            if prop in _TUPLE_FIELDS:
                refs = {o for row in rows[entity] for o in _others(row, prop)}
            else:  # one id or none (_others, without a list a row)
                refs = set(map(methodcaller("get", prop), rows[entity]))
                refs.difference_update((None, ""))
            wanted.setdefault(other, set()).update(refs)
            if prop in cypher.MANDATORY:
                required.setdefault(other, set()).update(refs)
        held = {"Person": {t.person_id for t in batch.tenures}, "Position": {t.position_id for t in batch.tenures}}
        for label, ends in held.items():
            wanted.setdefault(label, set()).update(ends)
            required.setdefault(label, set()).update(ends)
        by_label = {label: entity for entity, label in cypher.LABELS.items()}
        for label, others in wanted.items():
            stored = others - ids[label].keys()
            if stored:
                found = self._created.find(label, stored)
                if len(found) < len(stored):
                    found |= self._internal_ids(by_label[label], list(stored - found.keys()))
                ids[label] |= found
                missing = stored - found.keys()
                if missing & required.get(label, set()):
                    return None  # a reference to nothing: let the statements say so
                if missing:  # an optional end in a later part of this import: linked when it settles
                    self._relink = True
        # A new person is created with their raw records and the tenures derived from them, in
        # one command (applied whole or not at all, so a rerun finds either all or none of it).
        # Those of stored persons are set by statements, after the rest.
        with_person = {g["id"]: g for g in personnel if g["id"] in new_persons}
        later = [g for g in personnel if g["id"] not in with_person]
        raw = [("personnel", cypher.WRITE_PERSONNEL, b) for b in self._batches(later)]
        commands = self._joined(self._bulk_commands(rows, ids, batch.tenures, with_person))
        return [*commands, *(self._statement_work(raw) if raw else [])]

    def _joined(self, commands: Iterable[_BulkCommand]) -> Iterator[_Work]:
        """Consecutive bulk commands joined into one ``GRAPH.BULK`` of up to ``batch_size * 40``
        rows (a part of a streamed load is then one command): a command's cost grows with the
        graph it goes into, whatever it carries (docs/performance.md, "Figures behind the
        design"). The blocks keep their order, so a failed command leaves what a failed
        statement leaves."""
        bulk = self.transport.bulk
        cap = self.batch_size * 40

        def joined(group: list[_BulkCommand]) -> _Work:
            def prepare() -> Callable[[], None]:
                made = [make() for _, _, make in group]
                nodes, edges = sum(m[0] for m in made), sum(m[1] for m in made)
                labels, types = [b for m in made for b in m[2]], [b for m in made for b in m[3]]
                return lambda: bulk(nodes, edges, labels, types)

            return " ".join(what for what, _, _ in group), sum(n for _, n, _ in group), prepare

        group: list[_BulkCommand] = []
        rows = 0
        for command in commands:
            if group and rows + command[1] > cap:
                yield joined(group)
                group, rows = [], 0
            group.append(command)
            rows += command[1]
        if group:
            yield joined(group)

    def _internal_ids(self, entity: str, keys: list[Any]) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for i in range(0, len(keys), self.batch_size):
            found = self.transport.read(cypher.internal_ids(entity), {"ids": keys[i : i + self.batch_size]})
            out.update((key, node) for key, node in found)
        return out

    def _bulk_commands(
        self,
        rows: dict[str, Sequence[dict[str, Any]]],
        ids: dict[str, dict[Any, int]],
        tenures: list[Tenure],
        with_person: dict[str, dict[str, Any]],
    ) -> Iterator[_BulkCommand]:
        """The commands of ``_bulk_work``, each as what it is, its rows, and what makes it (run
        in the caller's thread); ``with_person``: the raw records (``_personnel``'s groups) of
        new persons, written with them, and their tenures with them too."""
        block = self.transport.bulk_block
        size = self.batch_size * 10

        def nodes(entity: str, chunk: Sequence[dict[str, Any]]) -> _Bulk:
            label, props = cypher.LABELS[entity], cypher.fields(entity)
            converted = [self._to_node(entity, r) for r in chunk]
            blocks, edges = [], 0
            if entity == "persons" and with_person:
                props = [*props, *cypher.RAW_PROPERTIES]
                for r in converted:
                    group = with_person.get(r["id"], {})
                    r.update((p, group.get(p)) for p in cypher.RAW_PROPERTIES)
                held_here = [t for r in converted for t in tenures_of.get(r["id"], ())]
                if held_here:
                    blocks.append(held_block(held_here))
                    edges += len(held_here)
            own: np.ndarray | None = None  # the chunk's own ids, once (an action has three such ends)
            for owner, rel, prop, other, direction in cypher.RELATIONSHIPS:
                if owner == entity and prop in cypher.MANDATORY:
                    n = len(converted)
                    if own is None:
                        own = np.fromiter(map(ids[label].__getitem__, map(_get_id, converted)), np.uint64, n)
                    theirs = np.fromiter(map(ids[other].__getitem__, map(itemgetter(prop), converted)), np.uint64, n)
                    ends = np.column_stack((own, theirs) if direction == "out" else (theirs, own))
                    blocks.append(block(rel, [], [{}] * n, ends))
                    edges += n
            return len(converted), edges, [block(label, props, converted)], blocks

        def optional(entity: str, rel: str, prop: str, other: str, direction: str) -> Iterator[_BulkCommand]:
            mine, theirs = ids[cypher.LABELS[entity]], ids[other]
            pairs = [(mine[r["id"]], theirs[o]) for r in rows[entity] for o in _others(r, prop) if o in theirs]
            pairs = pairs if direction == "out" else [(b, a) for a, b in pairs]
            for i in range(0, len(pairs), size):
                ends = pairs[i : i + size]
                yield f"{entity} {rel}", len(ends), functools.partial(edges_only, rel, ends)

        def edges_only(rel: str, ends: list[tuple[int, int]]) -> _Bulk:
            return 0, len(ends), [], [block(rel, [], [{}] * len(ends), ends)]

        def held_block(chunk: list[Tenure]) -> bytes:
            people, posts = ids["Person"], ids["Position"]
            # made a tenure at a time as the block is packed (a list of them took 21 MB a part)
            props = map(_tenure_props, chunk)
            ends = ((people[t.person_id], posts[t.position_id]) for t in chunk)
            return block("HELD", cypher.HELD_FIELDS, props, ends)

        def held(chunk: list[Tenure]) -> _Bulk:
            return 0, len(chunk), [], [held_block(chunk)]

        tenures_of: dict[str, list[Tenure]] = {}
        for t in tenures:
            if t.person_id in with_person:
                tenures_of.setdefault(t.person_id, []).append(t)
        tenures = [t for t in tenures if t.person_id not in with_person]
        for entity in cypher.LABELS:
            for i in range(0, len(rows[entity]), size):
                chunk = rows[entity][i : i + size]
                yield entity, len(chunk), functools.partial(nodes, entity, chunk)
        for relationship in cypher.RELATIONSHIPS:
            if relationship[2] not in cypher.MANDATORY:
                yield from optional(*relationship)
        for i in range(0, len(tenures), size):
            yield "tenures", len(tenures[i : i + size]), functools.partial(held, tenures[i : i + size])


def _widened(span: list[int], tenures: list[Tenure], actions: Sequence[dict[str, Any]]) -> list[int]:
    """``span`` (empty, or its lowest and highest ordinal) with what DATE_RANGE reads of these
    tenures and actions: the starts, the ends (not open), the actions' dates. Dates of any
    precision sort as their first day does, so the extremes of the text are the extremes."""
    values = list(span)
    if tenures:
        starts = [t.start for t in tenures]
        ends = [t.end for t in tenures if t.end is not None]
        values += [to_ordinal(min(starts)), to_ordinal(max(starts)), *([to_ordinal(max(ends))] if ends else [])]
    dates = [a["date"] for a in actions if a.get("date")]
    if dates:
        values += [to_ordinal(min(dates)), to_ordinal(max(dates))]
    return [min(values), max(values)] if values else []
