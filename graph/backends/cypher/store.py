"""The store contract over any Cypher server: one implementation over a thin transport
(``graph.backends.neo4j``; ``graph.backends.falkordb`` adds its bulk path). Every read is one round trip; writes are
``UNWIND $rows`` batches, each batch its own transaction.

A server import is not one transaction (a province is millions of rows): its batches
(``UNWIND`` statements, or a backend's own bulk commands where it has them: ``_bulk_work``)
are applied in order and each is idempotent (``MERGE`` on ids; a person's tenures are
replaced in the same statement that deletes the old ones), so an import that fails
part-way says which batch failed and why, and running it again completes it without
duplicates. The import log records it as ``done`` only at the end.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

import graph.backends.cypher.statements as cypher
from graph.model import (
    ENTITY_MODELS,
    OPEN_END,
    Accountability,
    Case,
    Duty,
    Organization,
    OrgFacts,
    Person,
    Position,
    Standard,
    Tenure,
    to_ordinal,
)
from graph.store import (
    LOCK_WAIT_SECONDS,
    ActionTable,
    Batch,
    Capabilities,
    OrgContext,
    StoreError,
    busy,
    counts_matrix,
    memoized,
    read_through,
    renewed,
)

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_TUPLE_FIELDS = set(cypher.LISTS)
# One unit of an import's writes: what it is, its rows, and a function run in the caller's
# thread that does the client's share (encoding) and returns what the sender thread runs.
_Work = tuple[str, int, Callable[[], Callable[[], None]]]
# The raw personnel records, kept on their person (``cypher.WRITE_PERSONNEL``), are written after
# everything else (see ``_steps``). Each is packed as the list of its field values, without
# the person's id (the node's) and without trailing empty values.
_RAW_FIELDS = {
    entity: [f for f in ENTITY_MODELS[entity].model_fields if f != "person_id"] for entity in ("tenure_rows", "changes")
}


class Transport(Protocol):
    """What a server driver must do: run one parameterised statement and return rows."""

    url: str
    dialect: cypher.Dialect

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]: ...

    def write(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]: ...

    def prepare(self, query: str, params: dict[str, Any]) -> Any:
        """Everything a write needs that the client computes (run in the caller's thread)."""
        ...

    def send(self, prepared: Any) -> None:
        """Run a prepared write (run in a sender thread, while the caller prepares the next)."""
        ...

    def ensure_unique(self, label: str, prop: str) -> None: ...

    def server(self) -> str: ...

    def close(self) -> None: ...


RECHECK_SECONDS = 0.05  # another client's import is noticed within this
CACHE_ENTRIES = 200_000  # organizations or positions kept by id (emptied when full)
_T = TypeVar("_T")


LEASE_SECONDS = 60.0  # the lease lock's time to live, renewed every third of it


class BatchFailed(StoreError):
    """One batch of an import failed; earlier batches are applied and a rerun completes it."""


class CypherStore:
    """The store contract on a Cypher server reached through ``transport``."""

    def __init__(self, transport: Transport, *, batch_size: int = 5000, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.transport = transport
        self.url = transport.url
        self.batch_size = batch_size
        self.lock_wait = lock_wait
        self.created = False  # a server makes a graph at its first write, unseen
        self.capabilities = Capabilities(in_process=False, staged_first_load=False)
        # The extremes of the tenures' dates and the actions' when the client knows them (a
        # backend's bulk path may; None: not known): an import then settles without
        # DATE_RANGE, a scan of every tenure and action.
        self._span: list[int] | None = None
        self._relink = False  # a part of a streamed import left an optional reference unlinked
        # Organizations and positions read by id, kept until an import starts or finishes
        # (checked at most every RECHECK_SECONDS, as the embedded store does): the busiest
        # read asks for the same upper levels again and again.
        self._cache: dict[str, dict[Any, Any]] = {"organizations": {}, "positions": {}, "memo": {}}
        self._lock_mutex = threading.RLock()
        self._lock_depth = 0
        self._generation: Any = None
        self._checked = -RECHECK_SECONDS
        for statement in cypher.schema(transport.dialect):
            self._ddl(statement)
        for label in cypher.LABELS.values():
            if label not in transport.dialect.unindexed:
                transport.ensure_unique(label, "id")

    def _ddl(self, statement: str) -> None:
        try:
            self.transport.write(statement)
        except StoreError:
            raise
        except Exception as exc:  # servers raise their own kinds for "index exists"
            if not any(text in str(exc) for text in self.transport.dialect.already_exists):
                raise StoreError(f"cannot create the schema on {self.url}: {exc}") from exc

    def close(self) -> None:
        self.transport.close()

    def warm(self) -> None:
        pass  # the server holds the data; organizations and positions are cached as they are read

    def release(self) -> None:
        raise StoreError(f"{self.url}: a server store is not shared by forked workers; each opens its own")

    reconnect = release

    def __repr__(self) -> str:
        return f"CypherStore({self.url!r})"

    @property
    def server(self) -> str:
        return self.transport.server()

    # ------------------------------------------------------------ conversion
    @staticmethod
    def _to_node(entity: str, row: dict[str, Any]) -> dict[str, Any]:
        plain, special = _node_fields(entity)
        out = {f: row.get(f) for f in plain}
        for f in special:
            if f == "props":  # none: no property at all (a "{}" on every node of a nation was a gigabyte)
                out[f] = _encode(row["props"]) if row.get("props") else None
            elif f == "date_ord":
                out[f] = to_ordinal(row["date"])
            else:
                out[f] = list(row.get(f) or ())
        return out

    @staticmethod
    def _from_node(entity: str, props: dict[str, Any]) -> dict[str, Any]:
        rec = {f: props.get(f) for f in ENTITY_MODELS[entity].model_fields}
        rec["props"] = json.loads(props.get("props") or "{}")
        for f in _TUPLE_FIELDS.intersection(rec):
            rec[f] = tuple(rec[f] or ())
        return rec

    def _select(self, entity: str, ids: Iterable[str] | None, org_ids: Iterable[str] | None) -> list[dict[str, Any]]:
        """Records of an organization set, of an id set, or all of them; sorted by id."""
        if org_ids is not None:
            found = self._read_nodes(entity, cypher.by_property(entity, "org_id"), org_ids)
        elif ids is None:
            found = self._read_nodes(entity, cypher.all_nodes(entity))
        else:
            found = self._read_nodes(entity, cypher.by_keys(entity), ids)
        return sorted(found, key=lambda r: r["id"])

    def _read_nodes(self, entity: str, query: str, ids: Iterable[Any] | None = None) -> Iterator[dict[str, Any]]:
        params = None if ids is None else {"ids": list(ids)}
        for (props,) in self.transport.read(query, params):
            yield self._from_node(entity, props)

    # ------------------------------------------------------------ write side
    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self.transport.read(cypher.existing_keys(entity), {"ids": list(ids)})}

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        if entity in _RAW_FIELDS:  # keyed (person_id, ...): found through the person
            wanted = set(ids)
            rows, changes = self.personnel_records({k[0] for k in wanted})
            found = rows if entity == "tenure_rows" else changes
            return {k: r for r in found if (k := _raw_key(entity, r)) in wanted}
        if entity == "actions":  # keyed (to_org_id, id): found through the recipient
            pairs = set(ids)
            ordered = sorted(pairs)
            out: dict[Any, dict[str, Any]] = {}
            for i in range(0, len(ordered), self.batch_size):
                chunk = ordered[i : i + self.batch_size]
                params = {"orgs": sorted({p[0] for p in chunk}), "ids": [p[1] for p in chunk]}
                for (props,) in self.transport.read(cypher.ACTIONS_BY_RECIPIENT, params):
                    rec = self._from_node(entity, props)
                    if (key := (rec["to_org_id"], rec["id"])) in pairs:
                        out[key] = rec
            return out
        return {r["id"]: r for r in self._read_nodes(entity, cypher.by_keys(entity), ids)}

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]:
        return list(self._read_nodes("persons", cypher.by_property("persons", "name"), sorted(set(names))))

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        wanted = None if ids is None else set(ids)
        if wanted is not None and not wanted:
            return {}
        return {a: p for a, p in self.transport.read(cypher.ALIAS_OWNERS) if wanted is None or a in wanted}

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        found = self._personnel_of(sorted(set(person_ids)))
        return [r for rows, _ in found.values() for r in rows], [c for _, changes in found.values() for c in changes]

    def _personnel_of(self, persons: list[str]) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """Each person's stored tenure rows and changes (persons without any are left out)."""
        out = {}
        for i in range(0, len(persons), self.batch_size):
            params = {"ids": persons[i : i + self.batch_size]}
            for person, rows, changes in self.transport.read(cypher.PERSONNEL_OF, params):
                out[person] = (_unpack("tenure_rows", person, rows), _unpack("changes", person, changes))
        return out

    def _personnel(self, batch: Batch) -> tuple[list[dict[str, Any]], bool]:
        """The raw records a batch sets on persons: for each person with new tenure rows or
        changes, every raw record of theirs (the stored ones, with the batch's added: a tenure
        row by ``(position_id, start)``, a change by id). And whether any of them was stored."""
        new_rows, new_changes = batch.tenure_rows, batch.rows.get("changes", ())
        persons = sorted({r["person_id"] for r in new_rows} | {c["person_id"] for c in new_changes})
        if not persons:
            return [], False
        new = {r["id"] for r in batch.rows.get("persons", ())}  # a new person has nothing stored
        old = [p for p in persons if p not in new]
        stored = self._personnel_of(old) if old and self.transport.read(cypher.count("Person"))[0][0] else {}
        merged: dict[str, tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]] = {}
        for person in persons:
            rows, changes = stored.get(person, ([], []))
            merged[person] = ({_raw_key("tenure_rows", r): r for r in rows}, {c["id"]: c for c in changes})
        for r in new_rows:
            merged[r["person_id"]][0][_raw_key("tenure_rows", r)] = r
        for c in new_changes:
            merged[c["person_id"]][1][c["id"]] = c
        groups = [
            {
                "id": person,
                "tenure_rows": _pack("tenure_rows", (rows[k] for k in sorted(rows))),  # in a fixed order
                "changes": _pack("changes", (changes[k] for k in sorted(changes))),
                "n_tenure_rows": len(rows),
                "n_changes": len(changes),
            }
            for person, (rows, changes) in merged.items()
        ]
        return groups, bool(stored)

    def _batches(self, items: Sequence[Any]) -> Iterator[list[Any]]:
        for i in range(0, len(items), self.batch_size):
            yield list(items[i : i + self.batch_size])

    def write(self, batch: Batch, *, log: dict[str, Any]) -> None:
        try:
            with self.import_lock():
                self._write(batch, log=log)
        finally:
            self._forget()  # this store's own writes are seen at once

    def ping(self) -> None:
        try:
            self.transport.read("RETURN 1")
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self.url} does not answer: {exc}") from exc

    @contextlib.contextmanager
    def import_lock(self) -> Iterator[None]:
        with self._lock_mutex:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            with self._import_lock():
                self._lock_depth = 1
                self._forget()  # what another client wrote before the lock: read afresh
                try:
                    yield
                finally:
                    self._lock_depth = 0

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # batches apply one by one; a rerun completes (unfinished)

    def unfinished(self) -> bool:
        return bool(self.transport.read(cypher.UNFINISHED_IMPORTS, {"seq": 2**62})[0][0])  # any seq

    def _import_lock(self) -> contextlib.AbstractContextManager[None]:
        """Imports into one graph take turns (validation rests on what is stored): a lease on
        a node of the graph, unless the backend has a lock of its own."""
        return self.lease_lock()

    @contextlib.contextmanager
    def lease_lock(self) -> Iterator[None]:
        """The import lock as a lease on one node (``cypher.ACQUIRE_LOCK``), renewed while held:
        a client that dies frees it within ``LEASE_SECONDS``."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_wait
        while not self._lease(cypher.ACQUIRE_LOCK, token):
            if time.monotonic() >= deadline:
                raise busy(self.url, self.lock_wait)
            time.sleep(0.2)
        try:
            with renewed(lambda: self._lease(cypher.RENEW_LOCK, token), LEASE_SECONDS / 3):
                yield
        finally:
            with contextlib.suppress(Exception):  # a lease not released lapses
                self.transport.write(cypher.RELEASE_LOCK, {"token": token})

    def _lease(self, statement: str, token: str) -> bool:
        now = time.time()
        rows = self.transport.write(statement, {"token": token, "now": now, "expires": now + LEASE_SECONDS})
        return bool(rows) and rows[0][0] == token

    def load_advice(self) -> list[str]:
        """What to change on the server before a large load (none, unless a backend says)."""
        return []

    # ------------------------------------------------------------ a load written aside
    def staging(self) -> tuple[str, str | None] | None:
        """Where a first load can be written aside (``capabilities.staged_first_load``): none here."""
        return None

    def adopt(self, url: str) -> None:
        raise StoreError(f"{self.url} cannot put another graph in its place")

    def drop_staging(self, url: str) -> None:
        raise StoreError(f"{self.url} writes no load aside")

    def take_scratch(self, folder: Path, log: dict[str, Any]) -> bool:
        raise StoreError(f"store {self.url} is written part by part, not from a scratch store")

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        return {i: (p.role.value, p.rank) for i, p in self.get_positions(ids).items()}

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        """Every tenure of the spans' positions: one read, and one-seat positions have few."""
        return self.tenures(position_ids=sorted({p for p, _, _ in spans}))

    def _write(self, batch: Batch, *, log: dict[str, Any]) -> None:
        seq = self.transport.read(cypher.NEXT_IMPORT_SEQ)[0][0]
        token = uuid.uuid4().hex
        self.transport.write(
            cypher.LOG_IMPORT, {"seq": seq, "at": _now(), "log": _encode(log), "status": "started", "token": token}
        )
        self._logged()
        personnel, stored = self._personnel(batch)
        work = None if stored or batch.updates else self._bulk_work(batch, personnel)
        bulk = work is not None
        if work is None:
            self._span = None  # statements may replace tenures: the range is the server's to compute
            work = self._statement_work(self._steps(batch, personnel))
        # One sender thread applies the batches in order while this thread prepares the next one
        # (the client's share of a bulk write is as large as the server's).
        failed: list[tuple[int, str, int, BaseException]] = []

        def send(n: int, what: str, size: int, apply: Callable[[], None]) -> None:
            if failed:
                return  # a batch failed: apply nothing after it
            try:
                apply()
            except Exception as exc:
                failed.append((n, what, size, exc))

        total = len(work)
        with ThreadPoolExecutor(max_workers=1) as sender:
            pending: list[Future[None]] = []
            for n, (what, size, prepare) in enumerate(work, start=1):
                pending.append(sender.submit(send, n, what, size, prepare()))
                if len(pending) > 2:  # bound the prepared batches waiting in memory
                    pending.pop(0).result()
                if failed:
                    break
        if failed:
            n, what, size, exc = failed[0]
            raise BatchFailed(
                f"import into {self.url} failed at batch {n} of {total} ({what}, {size} rows): {exc}. "
                "Earlier batches are applied; run the same import again to complete it."
            ) from exc
        unfinished = batch.settles_import and self.transport.read(cypher.UNFINISHED_IMPORTS, {"seq": seq})[0][0]
        if unfinished or (batch.settles_import and self._relink):
            # Nodes stored by an import that failed part-way, or by a part of this one before
            # the other end of an optional reference was, lack that relationship: linked now.
            for relationship in cypher.RELATIONSHIPS:
                if relationship[2] not in cypher.MANDATORY:
                    self.transport.write(cypher.relink(*relationship))
            self._relink = False
        if unfinished:
            self.transport.write(cypher.MARK_FAILED, {"seq": seq})
        if batch.settles_import:  # an aggregate over every tenure: once per import, not per part
            span = self._compute_date_range(self._span)
            if span is not None:
                self.transport.write(cypher.SET_DATE_RANGE, {"lo": span[0], "hi": span[1]})
        self.transport.write(cypher.FINISH_IMPORT, {"seq": seq, "status": "done", "log": _encode(log)})
        self._finished(bulk=bulk)

    # Where a backend with a bulk path of its own (FalkorDB) plugs it in: none here.
    def _bulk_work(self, batch: Batch, personnel: list[dict[str, Any]]) -> list[_Work] | None:
        """The import as the backend's bulk commands; None: as ``UNWIND`` statements."""
        return None

    def _logged(self) -> None:
        """This import's log node was just created."""

    def _finished(self, *, bulk: bool) -> None:
        """This import was written to the end (``bulk``: by ``_bulk_work``'s commands)."""

    def _statement_work(self, steps: list[tuple[str, str, list[Any]]]) -> list[_Work]:
        """``UNWIND`` statements: prepared (parameters encoded) here, sent by the sender thread."""

        def prepare(what: str, query: str, rows: list[Any]) -> Callable[[], None]:
            prepared = self.transport.prepare(query, {"rows": rows} if what != "tenures" else {"persons": rows})
            return lambda: self.transport.send(prepared)

        return [(what, len(rows), functools.partial(prepare, what, query, rows)) for what, query, rows in steps]

    def _steps(self, batch: Batch, personnel: list[dict[str, Any]]) -> list[tuple[str, str, list[Any]]]:
        """Every batch of the import, in an order that makes a rerun complete a failed import:
        nodes (with their mandatory relationships), optional relationships, derived tenures,
        and last the raw tenure rows and changes (``personnel``, from ``_personnel``). The loader
        re-derives a person's tenures only when some of their raw records are new, so those
        records must not be stored before the tenures derived from them. A part of a streamed
        import with optional references marks the import to be relinked when it settles (the
        other end may come in a later part)."""
        rows = _records_of(batch)
        steps: list[tuple[str, str, list[Any]]] = []
        for entity in cypher.LABELS:
            steps += self._node_steps(entity, rows[entity], cypher.create_nodes(entity))
            steps += self._node_steps(entity, batch.updates.get(entity, ()), cypher.update_nodes(entity))
        for entity in cypher.LABELS:
            for entity_, rel, prop, other, direction in cypher.optional_relationships(entity):
                linked = [*rows[entity_], *batch.updates.get(entity_, ())]
                pairs = [{"id": r["id"], "other": o} for r in linked for o in _others(r, prop)]
                if pairs and not batch.settles_import:
                    self._relink = True  # a part's optional references: the other end may come in a later part
                query = cypher.merge_relationships(entity_, rel, prop, other, direction)
                steps += [(f"{entity_} {rel}", query, b) for b in self._batches(pairs)]
        by_person: dict[str, list[dict[str, Any]]] = {p: [] for p in sorted(batch.tenure_persons)}
        for t in batch.tenures:
            by_person.setdefault(t.person_id, []).append(_tenure_props(t))
        groups = [{"id": p, "tenures": ts} for p, ts in by_person.items()]
        steps += [("tenures", cypher.REPLACE_TENURES, b) for b in self._batches(groups)]
        steps += [("personnel", cypher.WRITE_PERSONNEL, b) for b in self._batches(personnel)]
        return steps

    def _node_steps(self, entity: str, rows: Iterable[dict[str, Any]], query: str) -> list[tuple[str, str, list[Any]]]:
        converted = [self._to_node(entity, r) for r in rows]
        return [(entity, query, b) for b in self._batches(converted)]

    def import_log(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.transport.read(cypher.IMPORT_LOG, {"limit": limit})
        return [{"seq": seq, "at": at, **json.loads(log)} for seq, at, log in rows]

    # ------------------------------------------------------------ reads
    def counts(self) -> dict[str, int]:
        out = {e: int(self.transport.read(cypher.count(label))[0][0]) for e, label in cypher.LABELS.items()}
        out["tenure_rows"], out["changes"] = (int(n or 0) for n in self.transport.read(cypher.COUNT_PERSONNEL)[0])
        return {e: out[e] for e in ENTITY_MODELS} | {"tenures": int(self.transport.read(cypher.COUNT_TENURES)[0][0])}

    def date_range(self) -> tuple[int, int] | None:
        kept = self.transport.read(cypher.GET_DATE_RANGE)
        if kept and kept[0][0] is not None:
            return int(kept[0][0]), int(kept[0][1])
        return self._compute_date_range()

    def _compute_date_range(self, known: list[int] | None = None) -> tuple[int, int] | None:
        """The data's date range; ``known``: the extremes of the tenures and actions, when the
        caller knows them (``_span``), instead of DATE_RANGE's scan."""
        if known is None:
            row = self.transport.read(cypher.DATE_RANGE, {"open": OPEN_END})
            known = [v for v in (row[0] if row else []) if v is not None]
        values = list(known)
        for dates in self.transport.read(cypher.CASE_DATES):
            values.extend(to_ordinal(d) for d in dates if d)  # one row: the extremes
        return (min(values), max(values)) if values else None

    def _fresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        generation = tuple(next(iter(self.transport.read(cypher.GENERATION)), ()))
        if generation != self._generation:
            self._forget()
            self._generation = generation

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """Derived values, forgotten with the cached records when an import starts or finishes."""
        self._fresh()
        return memoized(self._cache["memo"], key, compute)

    def _forget(self) -> None:
        for cache in self._cache.values():
            cache.clear()
        self._checked = -RECHECK_SECONDS

    def _by_id(self, entity: str, ids: Iterable[str], read: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
        """Records by id, sorted by id: from the cache, the others read (and kept)."""
        self._fresh()
        return read_through(self._cache[entity], sorted(set(ids)), read, CACHE_ENTRIES)

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        if ids is not None:
            return self._by_id("organizations", ids, self._read_organizations)
        found = sorted(self._read_nodes("organizations", cypher.all_nodes("organizations")), key=lambda r: r["id"])
        return {r["id"]: Organization.model_validate(r) for r in found}

    def organization_facts(self) -> dict[str, OrgFacts]:
        return {i: OrgFacts.of(o) for i, o in self.get_organizations().items()}

    def organizations_named(self, names: Iterable[str]) -> dict[str, list[Organization]]:
        out: dict[str, list[Organization]] = {}
        for r in self._read_nodes("organizations", cypher.by_property("organizations", "name"), sorted(set(names))):
            out.setdefault(r["name"], []).append(Organization.model_validate(r))
        return out

    def organizations_named_under(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Organization]]:
        out: dict[tuple[str, str], list[Organization]] = {}
        for name, parent, props in self.transport.read(cypher.NAMED_UNDER, {"pairs": [list(p) for p in set(pairs)]}):
            out.setdefault((name, parent), []).append(
                Organization.model_validate(self._from_node("organizations", props))
            )
        return {p: sorted(orgs, key=lambda o: o.id) for p, orgs in out.items()}

    def count_named(self, names: Iterable[str]) -> dict[str, int]:
        return {n: c for n, c in self.transport.read(cypher.COUNT_NAMED, {"names": sorted(set(names))})}

    def _read_organizations(self, ids: list[str]) -> dict[str, Organization]:
        found = self._read_nodes("organizations", cypher.by_keys("organizations"), ids)
        return {r["id"]: Organization.model_validate(r) for r in found}

    def ancestors(self, org_id: str) -> list[Organization]:
        rows = self.transport.read(cypher.ANCESTORS, {"id": org_id})
        return [Organization.model_validate(self._from_node("organizations", props)) for _, props in rows]

    def org_context(self, org_id: str, reach: int | None = None) -> OrgContext:
        chain: list[tuple[int, Organization]] = []
        commissions: dict[str, list[Organization]] = {}
        positions: dict[str, Position] = {}
        params = {"id": org_id, "reach": 1000 if reach is None else reach}
        for part, depth, owner, node in self.transport.read(cypher.ORG_CONTEXT, params):
            if part == "chain":
                chain.append((depth, Organization.model_validate(self._from_node("organizations", node))))
            elif part == "commission":
                org = Organization.model_validate(self._from_node("organizations", node))
                commissions.setdefault(owner, []).append(org)
            else:
                position = Position.model_validate(self._from_node("positions", node))
                positions[position.id] = position
        return OrgContext(
            [o for _, o in sorted(chain, key=lambda x: x[0])],
            {o: sorted(ks, key=lambda k: k.id) for o, ks in commissions.items()},
            {i: positions[i] for i in sorted(positions)},
        )

    def successors(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        out: dict[str, list[Organization]] = {}
        for before, props in self.transport.read(cypher.SUCCESSORS, {"ids": sorted(set(org_ids))}):
            out.setdefault(before, []).append(Organization.model_validate(self._from_node("organizations", props)))
        return {o: sorted(after, key=lambda a: a.id) for o, after in out.items()}

    def get_children(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        out: dict[str, list[Organization]] = {}
        for parent, props in self.transport.read(cypher.CHILDREN, {"ids": list(org_ids)}):
            out.setdefault(parent, []).append(Organization.model_validate(self._from_node("organizations", props)))
        return {o: sorted(kids, key=lambda k: k.id) for o, kids in out.items()}

    def get_positions(
        self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None
    ) -> dict[str, Position]:
        if ids is not None and org_ids is None:
            return self._by_id("positions", ids, self._read_positions)
        return {r["id"]: Position.model_validate(r) for r in self._select("positions", ids, org_ids)}

    def _read_positions(self, ids: list[str]) -> dict[str, Position]:
        return {r["id"]: Position.model_validate(r) for r in self._select("positions", ids, None)}

    def find_persons(self, q: str, *, limit: int, offset: int) -> tuple[list[Person], int]:
        params = {"q": q, "limit": limit, "offset": offset}
        rows = [
            Person.model_validate(self._from_node("persons", p))
            for (p,) in self.transport.read(cypher.FIND_PERSONS, params)
        ]
        return rows, int(self.transport.read(cypher.COUNT_PERSONS, {"q": q})[0][0])

    def get_persons(self, ids: Iterable[str]) -> dict[str, Person]:
        return {r["id"]: Person.model_validate(r) for r in self._read_nodes("persons", cypher.by_keys("persons"), ids)}

    @staticmethod
    def _tenure(row: list[Any]) -> Tenure:
        tid, person, position, start, end, opened_by, open_kind, closed_by, close_kind = row
        return Tenure(
            id=tid,
            person_id=person,
            position_id=position,
            start=start,
            end=end,
            opened_by=opened_by,
            open_kind=open_kind,
            closed_by=closed_by,
            close_kind=close_kind,
        )

    def holders(self, position_id: str, at: int) -> list[Tenure]:
        rows = self.transport.read(cypher.HOLDERS, {"position": position_id, "at": at})
        return sorted((self._tenure(r) for r in rows), key=lambda t: (t.start_ordinal, t.person_id))

    def tenures(
        self,
        *,
        person_ids: Iterable[str] | None = None,
        position_ids: Iterable[str] | None = None,
        overlapping: tuple[int, int] | None = None,
    ) -> list[Tenure]:
        lo, hi = overlapping if overlapping else (-1, OPEN_END + 1)
        out: list[Tenure] = []
        for query, ids in ((cypher.TENURES_OF_POSITIONS, position_ids), (cypher.TENURES_OF_PERSONS, person_ids)):
            if ids is not None:
                rows = self.transport.read(query, {"ids": list(ids), "lo": lo, "hi": hi})
                out += sorted((self._tenure(r) for r in rows), key=lambda t: (t.position_id, t.start_ordinal, t.id))
        return out

    def actions(
        self,
        start: int,
        end: int,
        *,
        category: str | None = None,
        from_orgs: Iterable[str] | None = None,
        to_orgs: Iterable[str] | None = None,
    ) -> ActionTable:
        params: dict[str, Any] = {"start": start, "end": end, "category": category}
        if from_orgs is not None:
            params["from_orgs"] = list(from_orgs)
        if to_orgs is not None:
            params["to_orgs"] = list(to_orgs)
        query = cypher.actions(category is not None, from_orgs is not None, to_orgs is not None)
        rows = sorted((tuple(r) for r in self.transport.read(query, params)), key=lambda r: (r[1], r[0]))
        return ActionTable.from_rows(rows)

    def received_counts(self, start: int, end: int, *, category: str | None = None) -> tuple[list[str], np.ndarray]:
        params: dict[str, Any] = {"start": start, "end": end, "category": category}
        return counts_matrix(self.transport.read(cypher.received(category is not None), params))

    def get_cases(self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None) -> dict[str, Case]:
        return {r["id"]: Case.model_validate(r) for r in self._select("cases", ids, org_ids)}

    def get_accountability(self, case_ids: Iterable[str] | None = None) -> list[Accountability]:
        if case_ids is None:
            found = self._read_nodes("accountability", cypher.all_nodes("accountability"))
        else:
            found = self._read_nodes("accountability", cypher.by_property("accountability", "case_id"), case_ids)
        return [Accountability.model_validate(r) for r in sorted(found, key=lambda r: r["id"])]

    def get_duties(self, org_ids: Iterable[str] | None = None) -> dict[str, Duty]:
        duties = [Duty.model_validate(r) for r in self._read_nodes("duties", cypher.all_nodes("duties"))]
        wanted = None if org_ids is None else set(org_ids)
        return {d.id: d for d in sorted(duties, key=lambda d: d.id) if wanted is None or d.org_id in wanted}

    def get_standards(self) -> dict[str, Standard]:
        found = self._read_nodes("standards", cypher.all_nodes("standards"))
        return {r["id"]: Standard.model_validate(r) for r in sorted(found, key=lambda r: r["id"])}

    def export(self, entity: str) -> Iterator[dict[str, Any]]:
        if entity in _RAW_FIELDS:
            return (
                r
                for person, rows, changes in self.transport.read(cypher.ALL_PERSONNEL)
                for r in _unpack(entity, person, rows if entity == "tenure_rows" else changes)
            )
        return self._read_nodes(entity, cypher.all_nodes(entity))


@functools.cache
def _node_fields(entity: str) -> tuple[list[str], list[str]]:
    """An entity's stored properties: those copied as they are, and those converted."""
    special = {"props", "date_ord", *_TUPLE_FIELDS}
    fields = cypher.fields(entity)
    return [f for f in fields if f not in special], [f for f in fields if f in special]


def _records_of(batch: Batch) -> dict[str, Sequence[dict[str, Any]]]:
    """A batch's records by entity, in the order they are written (the raw personnel apart)."""
    return {e: batch.rows.get(e, ()) for e in cypher.LABELS}


def _raw_key(entity: str, record: dict[str, Any]) -> tuple[str, ...]:
    """What identifies a raw personnel record: a tenure row by (person, position, start), a
    change by (person, id)."""
    if entity == "tenure_rows":
        return record["person_id"], record["position_id"], record["start"]
    return record["person_id"], record["id"]


def _pack(entity: str, records: Iterable[dict[str, Any]]) -> str:
    """A person's raw records of one kind as JSON text: a list of field values each."""
    names = _RAW_FIELDS[entity]
    packed = []
    for r in records:
        values = [r.get(f) or None for f in names]  # an empty props: nothing
        while values and values[-1] is None:
            values.pop()
        packed.append(values)
    return _encode(packed)


def _unpack(entity: str, person: str, text: str | None) -> list[dict[str, Any]]:
    names = _RAW_FIELDS[entity]
    out = []
    for values in json.loads(text or "[]"):
        record = dict.fromkeys(names) | dict(zip(names, values, strict=False)) | {"person_id": person}
        record["props"] = record["props"] or {}
        out.append(record)
    return out


def _tenure_props(t: Tenure) -> dict[str, Any]:
    """A derived tenure as the properties of its HELD relationship (and its position's id).
    The ordinals are not cached on the tenure: it is written once, and two more values
    would nearly double its size in a streamed load's writing process."""
    end = OPEN_END if t.end is None else to_ordinal(t.end)
    return {**{f: getattr(t, f) for f in Tenure.model_fields}, "start_ord": to_ordinal(t.start), "end_ord": end}


def _others(row: dict[str, Any], prop: str) -> list[Any]:
    """The ids a record's property names (a list property names several; empty names none)."""
    value = row.get(prop)
    return [o for o in (value if prop in _TUPLE_FIELDS else [value]) or () if o]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
