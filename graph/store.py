"""The store contract every backend fulfils (``graph.factory`` opens a backend by URL).

Reads are coarse on purpose: each one is a single round trip on a Cypher server
(a batch of ids in, a list out), so queries never loop over a server.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from graph.errors import StoreBusy as StoreBusy  # re-exported: the contract's callers find them here
from graph.errors import StoreError as StoreError
from graph.model import (
    Accountability,
    ActionKind,
    Case,
    Category,
    Duty,
    Organization,
    OrgFacts,
    OrgKind,
    Person,
    Position,
    Standard,
    Tenure,
)

_T = TypeVar("_T")

ACTION_KINDS: tuple[str, ...] = tuple(k.value for k in ActionKind)
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
KIND_CODES = {k: i for i, k in enumerate(ACTION_KINDS)}  # an action kind's code in ``ActionTable.kind``
CATEGORY_CODES = {c: i for i, c in enumerate(CATEGORIES)}


@dataclass
class ActionTable:
    """Actions in columnar form: one numpy array per field.

    ``kind`` and ``category`` are codes into ``ACTION_KINDS`` and ``CATEGORIES``;
    ``from_org``, ``to_org`` and ``by_org`` are codes into ``orgs``; ``date`` is a
    proleptic ordinal (``datetime.date.toordinal``).
    """

    ids: Sequence[str] | np.ndarray  # a list, or a numpy string array
    date: np.ndarray
    kind: np.ndarray
    category: np.ndarray
    from_org: np.ndarray
    to_org: np.ndarray
    by_org: np.ndarray
    orgs: Sequence[str]

    def __len__(self) -> int:
        return len(self.ids)

    def id_list(self, idx: Iterable[int] | np.ndarray) -> list[str]:
        """The ids at positions ``idx`` as plain strings."""
        return [str(self.ids[int(i)]) for i in idx]

    def rows(self, idx: np.ndarray) -> ActionTable:
        """The rows at positions ``idx``, in that order."""
        table = ActionTable(
            ids=self.id_list(idx),
            date=self.date[idx],
            kind=self.kind[idx],
            category=self.category[idx],
            from_org=self.from_org[idx],
            to_org=self.to_org[idx],
            by_org=self.by_org[idx],
            orgs=self.orgs,
        )
        if "codes" in self.__dict__:  # same ``orgs``: share the index instead of rebuilding it
            table.__dict__["codes"] = self.__dict__["codes"]
        return table

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, int, str, str, str, str, str]]) -> ActionTable:
        """Build from ``(id, date_ordinal, kind, category, from, to, by)`` tuples."""
        if not rows:
            empty = np.zeros(0, dtype=np.int32)
            return cls([], empty, empty.astype(np.int8), empty.astype(np.int8), empty, empty, empty, [])
        ids, dates, kinds, cats, frm, to, by = zip(*rows, strict=True)
        org_index: dict[str, int] = {}
        for column in (frm, to, by):
            for o in dict.fromkeys(column):
                org_index.setdefault(o, len(org_index))

        def coded(values: tuple[str, ...], codes: dict[str, int], dtype: type) -> np.ndarray:
            return np.fromiter(map(codes.__getitem__, values), dtype=dtype, count=len(values))

        return cls(
            ids=list(ids),
            date=np.fromiter(dates, dtype=np.int32, count=len(dates)),
            kind=coded(kinds, KIND_CODES, np.int8),
            category=coded(cats, CATEGORY_CODES, np.int8),
            from_org=coded(frm, org_index, np.int32),
            to_org=coded(to, org_index, np.int32),
            by_org=coded(by, org_index, np.int32),
            orgs=list(org_index),
        )

    @cached_property
    def codes(self) -> dict[str, int]:
        """Organization id to its code in ``orgs``."""
        return {o: i for i, o in enumerate(self.orgs)}


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the common contract; code branches on these, never on a
    backend's identity or on probing for a method."""

    in_process: bool  # reads and writes are this process's CPU, no round trips (embedded)
    staged_first_load: bool  # a first load can be written aside and put in place (``staging``)
    # its in-memory indexes, built once, are shared by forked workers (``release``, ``reconnect``)
    shared_by_forks: bool = False
    # a streamed load into it while it is empty copies the whole scratch store at once (``take_scratch``)
    takes_scratch: bool = False


@dataclass
class OrgContext:
    """See ``Store.org_context``."""

    chain: list[Organization]  # the organization first, the root last; empty for an unknown id
    commissions: dict[str, list[Organization]]  # by organization of the chain, sorted by id
    positions: dict[str, Position]  # of the chain (up to reach) and of their commissions, sorted by id


def commissions_among(children: Mapping[str, list[Organization]]) -> dict[str, list[Organization]]:
    """Of each organization's children, its commissions (organizations with none left out)."""
    kinds = {o: [k for k in kids if k.kind is OrgKind.commission] for o, kids in children.items()}
    return {o: kids for o, kids in kinds.items() if kids}


def read_through(
    cache: dict[Any, Any], ids: Iterable[Any], read: Callable[[list[Any]], Mapping[Any, Any]], limit: int
) -> dict[Any, Any]:
    """Records by id in the order of ``ids``: from ``cache``, the others from ``read`` (and kept;
    the cache is emptied first when they would take it over ``limit`` entries)."""
    wanted = list(dict.fromkeys(ids))
    missing = [i for i in wanted if i not in cache]
    if missing:
        if len(cache) + len(missing) > limit:
            cache.clear()
        cache.update(read(missing))
    return {i: cache[i] for i in wanted if i in cache}


MEMO_ENTRIES = 2  # derived values a store keeps (``memoized``): a province window's figures take ~50 MB


@contextlib.contextmanager
def gc_paused(*, keep: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector: a load, or an index built in memory, makes millions
    of objects and no cycles, and each full collection would walk all of them again (quadratic
    in the dataset; a nation's organizations were built in 5.8 s with it, 2.4 s without).
    ``keep``: what was made is kept for good (an index), so no later collection walks it
    (``gc.freeze``, as the API does once warm: a cycle left over from before is kept too)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if keep:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()


def memoized(memo: dict[Any, Any], key: Hashable, compute: Callable[[], _T]) -> _T:
    """``memo[key]``, computed first when missing; the oldest entry goes when ``MEMO_ENTRIES``
    are kept (a store's ``memo``, over the dict it forgets when its data changes)."""
    if key not in memo:
        value = compute()
        while len(memo) >= MEMO_ENTRIES:
            memo.pop(next(iter(memo)))
        memo[key] = value
    return memo[key]


def org_context_from(
    store: Store,
    org_id: str,
    reach: int | None = None,
    commissions_of: Mapping[str, list[Organization]] | None = None,
    *,
    chain: list[Organization] | None = None,
) -> OrgContext:
    """``org_context`` from the store's other reads (for a store where they are cheap).
    ``commissions_of``: each organization's commissions, when the store keeps them in hand;
    ``chain``: the organization and its ancestors, when read already."""
    chain = store.ancestors(org_id) if chain is None else chain
    if commissions_of is None:
        commissions_of = commissions_among(store.get_children([o.id for o in chain]))
    commissions = {o.id: commissions_of[o.id] for o in chain if commissions_of.get(o.id)}
    near = chain if reach is None else chain[: reach + 1]
    org_ids = [o.id for o in near] + [k.id for o in near for k in commissions.get(o.id, [])]
    positions = store.get_positions(org_ids=org_ids)
    return OrgContext(chain, commissions, {i: positions[i] for i in sorted(positions)})


@dataclass
class Batch:
    """One import, validated and ready to write atomically.

    ``rows`` maps an entity name (``organizations``, ``actions``, ...) to new
    records as plain dicts with the model's fields (keys starting ``_`` are not stored).
    ``updates`` maps an entity to stored records, each complete, that replace the stored ones
    (a later load added fields: ``loaders.load.UPDATABLE`` names the entities).
    ``tenure_rows`` are upserted by ``(person_id, position_id, start)``.
    ``tenures`` replaces every derived tenure of the persons in ``tenure_persons``.
    ``settles_import``: False for every part of a streamed import but the last, so a store
    recomputes what depends on all of its data (the date range) once.

    A batch is the store's once handed to ``Store.write``, which may empty it as it writes.
    """

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tenure_rows: list[dict[str, Any]] = field(default_factory=list)
    tenure_persons: set[str] = field(default_factory=set)
    tenures: list[Tenure] = field(default_factory=list)
    settles_import: bool = True

    def count(self) -> int:
        return sum(len(v) for v in [*self.rows.values(), *self.updates.values()]) + len(self.tenure_rows)


LOCK_WAIT_SECONDS = 600.0  # how long an import waits for another one into the same store


def busy(url: str, waited: float) -> StoreBusy:
    """The error of an import that waited ``waited`` seconds for another one into ``url``."""
    return StoreBusy(
        f"{url} is busy: another import has held it for more than {waited:g} s; "
        "nothing was written (try again when it has finished)"
    )


@contextlib.contextmanager
def renewed(renew: Callable[[], object], every: float) -> Iterator[None]:
    """Call ``renew`` every ``every`` seconds in a thread while the block runs (a lock's time to
    live). A failed renewal is tried again next time: if the server is gone, the import fails
    and says so, and a lock that could not be renewed lapses."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(every):
            with contextlib.suppress(Exception):
                renew()

    keeper = threading.Thread(target=keep, daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


@runtime_checkable
class Store(Protocol):
    """What the loaders and queries need from a graph store."""

    url: str
    capabilities: Capabilities
    created: bool  # this open made the store (an embedded folder that did not exist)

    def close(self) -> None: ...

    def warm(self) -> None:
        """Build now what reads keep in memory (a server, before its first request; a one-off
        command never does)."""
        ...

    def release(self) -> None:
        """Close the connections and keep what was read into memory: before a fork, so that the
        workers share it (only where ``capabilities.shared_by_forks``)."""
        ...

    def reconnect(self) -> None:
        """In a forked worker, after ``release``: connections of its own; what was read before
        the fork is dropped if an import was written since."""
        ...

    def ping(self) -> None:
        """Raise ``StoreError`` unless the store answers and is still the one that was opened
        (an embedded store whose folder was deleted or replaced while open does not)."""
        ...

    # --- the write side (used by loaders)
    def import_lock(self) -> AbstractContextManager[None]:
        """Held by an import from its first read to its last write, so that imports into one
        store take turns, across processes: validation never rests on what another import is
        about to change. Re-entrant in one store object; raises ``StoreBusy`` after waiting
        ``LOCK_WAIT_SECONDS`` (the store's own setting)."""
        ...

    def atomic(self) -> AbstractContextManager[None]:
        """Writes inside are applied together or not at all where the store can make them one
        transaction (the embedded store); a server store applies each as it comes and a rerun
        completes a failed import (``unfinished``)."""
        ...

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are stored for ``entity``."""
        ...

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        """Stored records among ``ids`` as plain dicts (list fields as tuples), keyed by id;
        tenure rows are keyed ``(person_id, position_id, start)``, changes ``(person_id, id)``
        and actions ``(to_org_id, id)``. A server store finds a change with its person and, on
        FalkorDB, an action through its recipient; the embedded store finds a record of that
        id whoever it names (see ``loaders.load.KEYED_WITH``)."""
        ...

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """All stored tenure rows and change rows of these persons."""
        ...

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """Stored person records with one of these names, exactly (``loaders.identity``)."""
        ...

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Which stored person each of ``ids`` is an alias of (ids that are nobody's left out);
        without ``ids``, every alias."""
        ...

    def write(self, batch: Batch, *, log: dict[str, Any]) -> None:
        """Apply the whole batch or nothing; record ``log`` in the import log. The batch may be
        emptied as it is written (its rows are freed before the write ends): do not read it after."""
        ...

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        """Role and rank of stored positions (what validation needs, without building models)."""
        ...

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        """Stored tenures that may overlap one of the ``(position_id, start, end)`` spans: at
        least those that do (what the one-seat check reads)."""
        ...

    def load_advice(self) -> list[str]:
        """What to change on the server before a large load (none where nothing would help)."""
        ...

    def staging(self) -> tuple[str, str | None] | None:
        """Where a first load can be written aside (a URL and a password), when
        ``capabilities.staged_first_load``; None otherwise."""
        ...

    def adopt(self, url: str) -> None:
        """Put what was written aside at ``url`` in this store's place (``staging``)."""
        ...

    def drop_staging(self, url: str) -> None:
        """Delete what was written aside at ``url`` and will not be used."""
        ...

    def take_scratch(self, folder: Path, log: dict[str, Any]) -> bool:
        """Write, in one transaction, everything a streamed load validated into the scratch
        store at ``folder`` (an embedded store holding only what is new) into this store, which
        holds nothing (``capabilities.takes_scratch``); whether there was anything to write."""
        ...

    def unfinished(self) -> bool:
        """Whether an import failed part-way and none completed it since (a server store, whose
        import is a sequence of batches). Loading again completes it, even with nothing new:
        the loader then writes an empty batch, which links what the failed import left unlinked."""
        ...

    # --- reads
    def counts(self) -> dict[str, int]: ...

    def date_range(self) -> tuple[int, int] | None:
        """Earliest and latest ordinal date anywhere in the data, or None when empty."""
        ...

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, a value derived from the stored data, kept under ``key`` until the data
        changes where the store can tell (the embedded store: its own writes at once, another
        process's as its other reads notice them); a store that cannot tell computes it each time."""
        ...

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        """The organizations with these ids; all of them when ``ids`` is None."""
        ...

    def organization_facts(self) -> dict[str, OrgFacts]:
        """Every organization's kind, level, parent and validity, by id (``get_organizations``
        without the models: what a level profile reads)."""
        ...

    def organizations_named(self, names: Iterable[str]) -> dict[str, list[Organization]]:
        """The organizations bearing each of these names, exactly, by name (names nobody bears
        left out): whether a name alone says which organization is meant (``queries.lookups.places``)."""
        ...

    def organizations_named_under(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Organization]]:
        """For each (name, parent's name), the organizations bearing the name whose parent bears
        the other, by id (pairs nobody bears left out): the namesakes a parent's name does not
        tell apart, read without reading the rest (a nation has hundreds of each village name)."""
        ...

    def count_named(self, names: Iterable[str]) -> dict[str, int]:
        """How many organizations bear each of these names (names nobody bears left out), read
        without making them: a nation has hundreds of each village name."""
        ...

    def ancestors(self, org_id: str) -> list[Organization]:
        """The organization and its ancestors up the hierarchy: itself first, the root last
        (empty when the id is unknown)."""
        ...

    def org_context(self, org_id: str, reach: int | None = None) -> OrgContext:
        """The organization's ancestor-or-self chain, the commissions under each organization of
        the chain, and the positions of the organizations up to ``reach`` levels above it (all by
        default) and of their commissions: what an accountability lookup reads first, in one
        round trip on a server."""
        ...

    def get_children(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        """Each organization's children in the hierarchy (``LEADS``, commissions included), by id;
        organizations without children are left out."""
        ...

    def successors(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        """The organizations that name each of ``org_ids`` among their ``predecessor_ids``, by
        id; organizations without a successor are left out."""
        ...

    def get_positions(
        self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None
    ) -> dict[str, Position]: ...

    def get_persons(self, ids: Iterable[str]) -> dict[str, Person]: ...

    def find_persons(self, q: str, *, limit: int, offset: int) -> tuple[list[Person], int]:
        """Persons whose name contains ``q`` or whose id is ``q``, by id; a page and the total."""
        ...

    def holders(self, position_id: str, at: int) -> list[Tenure]:
        """Tenures on the position in force at ordinal date ``at`` (``start <= at < end``)."""
        ...

    def tenures(
        self,
        *,
        person_ids: Iterable[str] | None = None,
        position_ids: Iterable[str] | None = None,
        overlapping: tuple[int, int] | None = None,
    ) -> list[Tenure]:
        """Tenures of these persons or positions, optionally only those overlapping ``[from, to)``."""
        ...

    def actions(
        self,
        start: int,
        end: int,
        *,
        category: str | None = None,
        from_orgs: Iterable[str] | None = None,
        to_orgs: Iterable[str] | None = None,
    ) -> ActionTable:
        """Actions dated in ``[start, end)``, optionally filtered."""
        ...

    def received_counts(self, start: int, end: int, *, category: str | None = None) -> tuple[list[str], np.ndarray]:
        """How many actions dated in ``[start, end)`` each organization received, by kind: the
        recipients (sorted) and a matrix of one row each, a column per ``ACTION_KINDS`` code.
        What received pressure needs, without reading the actions themselves."""
        ...

    def get_cases(
        self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None
    ) -> dict[str, Case]: ...

    def get_accountability(self, case_ids: Iterable[str] | None = None) -> list[Accountability]: ...

    def get_duties(self, org_ids: Iterable[str] | None = None) -> dict[str, Duty]: ...

    def get_standards(self) -> dict[str, Standard]: ...

    def import_log(self, limit: int = 20) -> list[dict[str, Any]]: ...

    def export(self, entity: str) -> Iterator[dict[str, Any]]:
        """Every stored record of an entity as a plain dict (what ``rtc migrate`` copies)."""
        ...


class Scratch(Store, Protocol):
    """A store on local disk that a streamed load validates into (``factory.open_scratch``)
    and reads back a person at a time."""

    def personnel_by_person(
        self,
    ) -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, Any]], list[Tenure]]]:
        """Every person with a tenure row, a change or a derived tenure, in id order, with
        all three (the tenures by start)."""
        ...

    def defer(self, entity: str) -> None:
        """New rows of ``entity`` wait apart, unread, until ``settle_deferred``: for rows no
        validation reads back, written in an order other than their key's."""
        ...

    def settle_deferred(self) -> None:
        """Put every row ``defer`` kept apart in its table."""
        ...

    def take_rows(self, folder: Path, entities: list[str]) -> None:
        """Add every record of ``entities`` that the scratch store at ``folder`` holds (one
        closed by now, holding none of this one's ids) to this one's tables."""
        ...


def counts_matrix(recipients: Iterable[Sequence[Any]]) -> tuple[list[str], np.ndarray]:
    """``received_counts`` from rows of a recipient and its actions' kinds (what a server returns)."""
    pairs = sorted((str(org), list(kinds)) for org, kinds in recipients)
    matrix = np.zeros((len(pairs), len(ACTION_KINDS)), dtype=np.int64)
    for row, (_, kinds) in enumerate(pairs):
        for kind in kinds:
            matrix[row, KIND_CODES[kind]] += 1
    return [org for org, _ in pairs], matrix
