"""The embedded store: SQLite (WAL) on disk as the durable layer, and in-memory
indexes built on first read: a networkx graph for the hierarchy, numpy columns for
the high-volume tenures and actions (an as-of lookup is a slice, never a scan).

One import is one SQLite transaction, so an import killed part-way leaves the
store as it was, and an acknowledged one survives ``kill -9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from pydantic import BaseModel, TypeAdapter

from graph.model import (
    ENTITY_MODELS,
    OPEN_END,
    Accountability,
    Case,
    Duty,
    Level,
    Organization,
    OrgFacts,
    OrgKind,
    Person,
    Position,
    Standard,
    Tenure,
    ancestor_chain,
    tenure_from_values,
    to_ordinal,
)
from graph.store import (
    ACTION_KINDS,
    CATEGORIES,
    CATEGORY_CODES,
    KIND_CODES,
    LOCK_WAIT_SECONDS,
    ActionTable,
    Batch,
    Capabilities,
    OrgContext,
    StoreError,
    busy,
    commissions_among,
    gc_paused,
    memoized,
    org_context_from,
    read_through,
)

if TYPE_CHECKING:
    import networkx as nx  # imported by the one read that builds the graph: a one-off command never does

SCHEMA_VERSION = 3
# How a store of an older schema is brought up to this one (version 3: persons' identity
# fields, organizations' predecessors). An index is not a new version: every writable open
# creates those it lacks (_SCHEMA).
MIGRATIONS = {
    "2": [
        """ALTER TABLE organizations ADD COLUMN "predecessor_ids" TEXT NOT NULL DEFAULT '[]'""",
        'ALTER TABLE persons ADD COLUMN "native_place" TEXT',
        """ALTER TABLE persons ADD COLUMN "aliases" TEXT NOT NULL DEFAULT '[]'""",
        """ALTER TABLE persons ADD COLUMN "not_same_as" TEXT NOT NULL DEFAULT '[]'""",
    ]
}
DB_FILE = "rtc.sqlite3"
WAITING_FILE = "waiting.sqlite3"  # rows a scratch store puts in their tables at the end (``defer``)
LOCK_FILE = "import.lock"  # flock'd by the import that holds the store (EmbeddedStore.import_lock)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_TUPLE_FIELDS = {"portfolio", "violator_ids", "aliases", "not_same_as", "predecessor_ids"}
_INT_FIELDS = {"rank", "min_count", "date_ord"}


def _columns(entity: str) -> list[str]:
    """A table's columns: the model's plain fields, its tuple fields (as JSON), ``props`` (JSON);
    actions add ``date_ord``."""
    fields = [f for f in ENTITY_MODELS[entity].model_fields if f != "props"]
    plain = [f for f in fields if f not in _TUPLE_FIELDS]
    return [*plain, *(f for f in fields if f in _TUPLE_FIELDS), "props", *(["date_ord"] if entity == "actions" else [])]


def _key(entity: str) -> str:
    return "person_id, position_id, start" if entity == "tenure_rows" else "id"


COLUMNS = {e: _columns(e) for e in ENTITY_MODELS}
# each table's columns quoted for SQL, named in every statement: a migrated table's order differs
_COLS = {e: ", ".join(f'"{c}"' for c in cols) for e, cols in COLUMNS.items()}
_TUPLE_COLUMNS = {e: [c for c in cols if c in _TUPLE_FIELDS] for e, cols in COLUMNS.items()}
_SCHEMA = [
    *(
        f"CREATE TABLE IF NOT EXISTS {e} ("
        + ", ".join(f'"{c}" {"INTEGER" if c in _INT_FIELDS else "TEXT"}' for c in cols)
        + f", PRIMARY KEY ({_key(e)})) WITHOUT ROWID"
        for e, cols in COLUMNS.items()
    ),
    # A person's changes (the sources of a lookup's tenures) read whole from one index, not each
    # by its id in a table kept in id order (docs/performance.md). It replaces an index of ids.
    "DROP INDEX IF EXISTS changes_person",
    "CREATE INDEX IF NOT EXISTS changes_whole ON changes "
    '(person_id, id, "date", kind, from_position_id, to_position_id, source, props)',
    "CREATE INDEX IF NOT EXISTS persons_name ON persons (name)",  # a load matching persons by name
    "CREATE INDEX IF NOT EXISTS organizations_name ON organizations (name)",  # is a name ambiguous?
    # a cold store reads one organization's positions (an accountability lookup) without a scan
    "CREATE INDEX IF NOT EXISTS positions_org ON positions (org_id)",
    "CREATE INDEX IF NOT EXISTS organizations_parent ON organizations (parent_id)",  # ... and its chain's commissions
    """CREATE TABLE IF NOT EXISTS tenures (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL, position_id TEXT NOT NULL,
        start TEXT NOT NULL, end_ TEXT, start_ord INTEGER NOT NULL, end_ord INTEGER NOT NULL,
        opened_by TEXT NOT NULL, open_kind TEXT NOT NULL, closed_by TEXT, close_kind TEXT) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS tenures_person ON tenures (person_id)",
    # a few positions' tenures read straight from SQLite (a cold store, a streamed load's overlap check)
    "CREATE INDEX IF NOT EXISTS tenures_position ON tenures (position_id, start_ord)",
    # ... and the whole rows in that order (``id``, the key, comes with every entry): a lookup's
    # tenures of a few posts read from the index alone, not each by its key in a table kept in
    # person order (docs/performance.md)
    "CREATE INDEX IF NOT EXISTS tenures_held ON tenures "
    "(position_id, start_ord, end_ord, person_id, start, end_, opened_by, open_kind, closed_by, close_kind)",
    """CREATE TABLE IF NOT EXISTS imports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, log TEXT NOT NULL)""",
]
# Indexes a streamed load's validation never reads from its scratch store: the scratch is made
# without them, and makes them when it becomes the store (``take_scratch``), one sort each,
# instead of row by row (3 million random names: 18.8 s inserted with the index, 4.7 s + 4.1 s
# without it, then made).
_DEFERRED = ("persons_name", "organizations_name", "organizations_parent", "positions_org", "tenures_held")
RECHECK_SECONDS = 0.05
# Reads a query answers from SQLite before the store builds the in-memory index it would use:
# a one-off command stays under it and builds nothing; a program asking more builds the index
# once, and every read after is from memory.
COLD_READS = 64
# A store this large (about five provinces) answers tenure and position reads from SQLite
# however many ask: those indexes would take minutes and gigabytes to build (a nation's 9
# million tenures, 1.8 million posts). Its cases are built as a smaller store's; its
# organizations sooner, after LARGE_COLD_READS reads (one accountability lookup of a nation
# makes 4 to 17; each lookup after it would cost 15-45 ms from SQLite).
LARGE_STORE = 1 << 30
LARGE_COLD_READS = 16
_BY_ROW = frozenset({"_tenure_index", "_positions"})
SNAPSHOT = "actions"  # actions.GENERATION/: the action columns, one .npy file each
PERSON_CACHE = 200_000  # persons kept in memory by get_persons (about 0.2 GB at most)
_T = TypeVar("_T")
_CHUNK = 900  # stays under SQLite's bound-parameter limit
_ACTION_BATCH = 100_000  # rows of actions read at a time into the columns
# The page cache of a first import, whose rows go in in key order and whose indexes are made
# after (a sort each): 64 MB took 0.18 GB off a province's peak against 256 MB, in as much time;
# 32 and 16 MB saved 0.02-0.04 GB more, and wrote up to 2 s slower in one hour's runs, as fast
# in another's (docs/performance.md).
FIRST_IMPORT_CACHE_MB = 64


def _cell_maker(entity: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A fast row-to-cells function for one table (the writer's hot loop)."""
    cols = COLUMNS[entity]
    plain = itemgetter(*[c for c in cols if c not in _TUPLE_FIELDS and c not in ("props", "date_ord")])
    tuples = [c for c in cols if c in _TUPLE_FIELDS]
    dated = "date_ord" in cols

    def cells(row: dict[str, Any]) -> tuple[Any, ...]:
        props = row["props"]
        return (
            *plain(row),
            *(_encode(list(row[c])) if len(row[c]) else "[]" for c in tuples),  # most are empty
            _encode(props) if props else "{}",
            *((to_ordinal(row["date"]),) if dated else ()),
        )

    return cells


def _record(entity: str, cells: tuple[Any, ...]) -> dict[str, Any]:
    rec = dict(zip(COLUMNS[entity], cells, strict=True))
    props = rec["props"]
    rec["props"] = json.loads(props) if props != "{}" else {}
    for c in _TUPLE_COLUMNS[entity]:  # most are empty: no JSON parsed (a nation has 458,678 organizations)
        value = rec[c]
        rec[c] = tuple(json.loads(value)) if value != "[]" else ()
    if entity == "actions":
        del rec["date_ord"]
    return rec


_M = TypeVar("_M", bound=BaseModel)
_Keyed = TypeVar("_Keyed", Organization, Position)


def _by_id(model: type[_Keyed], records: Iterable[dict[str, Any]]) -> dict[str, _Keyed]:
    """Records made models in one call of pydantic's validator (a fifth faster than one call a
    record: a nation's organizations are built in seconds), by id. The dict is frozen with
    them: left to the collector, each generation-1 collection would walk its entries."""
    with gc_paused(keep=True):
        return {m.id: m for m in _list_adapter(model).validate_python(list(records))}


@functools.cache
def _list_adapter(model: type[_M]) -> TypeAdapter[list[_M]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _identity(file: Path) -> tuple[int, int]:
    """Which file this is (device, inode): a folder deleted and made again is another file."""
    st = file.stat()
    return st.st_dev, st.st_ino


def _chunks(items: list[str], size: int = _CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class EmbeddedStore:
    """The default, in-process store under one data directory."""

    capabilities = Capabilities(in_process=True, staged_first_load=False, shared_by_forks=True, takes_scratch=True)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        action_snapshot: bool = True,
        index_after: int | None = COLD_READS,
        cache_mb: int = 256,
        lock_wait: float = LOCK_WAIT_SECONDS,
        create: bool = True,
        durable: bool = True,
        scratch: bool = False,
    ) -> None:
        """``action_snapshot=False``: no snapshot of the action columns after an import (a
        streamed load's scratch store, which never reads them, must not hold them all);
        ``index_after``: reads of a kind answered from SQLite before its in-memory index is
        built (``None``: always from SQLite, for a scratch store larger than memory);
        ``cache_mb``: SQLite's page cache for imports (bulk inserts stay in memory; a first
        import takes at most ``FIRST_IMPORT_CACHE_MB``);
        ``lock_wait``: seconds an import waits for another one into this store;
        ``durable=False``: writes not synced to disk (a scratch store, deleted whenever its load
        stops: a crash loses nothing that is kept); ``scratch``: a new store made without the
        indexes ``_DEFERRED`` names (made by ``take_scratch``)."""
        self.path = Path(path)
        self.durable = durable
        self.action_snapshot = action_snapshot
        self.index_after = index_after
        self.lock_wait = lock_wait
        self.url = f"embedded://{path}"
        file = self.path / DB_FILE
        self.created = not file.exists()
        if self.created and not create:
            raise StoreError(
                f"no store at {self.url}: nothing was loaded there (`rtc load DIR --store {self.url}` makes one)"
            )
        # A store this user may not write (a read-only copy, another user's folder) is opened for
        # reading only: reads answer, an import is refused with a clear error.
        self.read_only = file.exists() and not (os.access(self.path, os.W_OK) and os.access(file, os.W_OK))
        try:
            if not self.read_only:
                self.path.mkdir(parents=True, exist_ok=True)
            # Two connections: reads (shared by threads, one at a time) and writes (an import), so
            # that in WAL mode a long import does not block readers; they see the last commit.
            self._cache_mb = cache_mb
            self._open_connections()
            if not self.read_only:
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            found = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
            if found in MIGRATIONS and not self.read_only:
                found = self._migrate(found)
            if found != str(SCHEMA_VERSION):
                raise StoreError(
                    f"store {self.url} has schema version {found}, this rtc needs {SCHEMA_VERSION}: "
                    f"load the data into a new directory"
                )
            if not self.read_only:
                schema = [
                    ddl
                    for ddl in _SCHEMA
                    if not (scratch and self.created and any(f" {name} ON " in ddl for name in _DEFERRED))
                ]
                if missing := _indexes_missing(self._db, schema):
                    _log.warning(
                        "store %s was written by an older rtc: making the indexes it lacks (%s), once; "
                        "a large store takes a while (a nation's: about half a minute)",
                        self.url,
                        ", ".join(missing),
                    )
                for ddl in schema:
                    self._db.execute(ddl)
            self._identity = _identity(file)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open store {self.url}: {exc}") from exc
        self._generation = self._data_version()
        self._checked = time.monotonic()
        self._released_at: int | None = None  # the imports written when ``release`` closed the connections
        self._write_lock = threading.RLock()  # this object's writers; the lock file serves processes
        self._lock_file: Any = None
        self._lock_depth = 0
        self._in_atomic = False
        self._waiting: list[str] = []  # entities whose rows wait apart (``defer``)

    def _open_connections(self) -> None:
        self._wdb = None if self.read_only else self._connect()
        if self._wdb is not None:
            self._wdb.execute(f"PRAGMA cache_size=-{int(self._cache_mb) * 1024}")
            _sorts_helped(self._wdb)
        self._db = _Locked(self._connect())

    def _connect(self) -> sqlite3.Connection:
        file = self.path / DB_FILE
        if self.read_only:
            try:
                db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return db
            except sqlite3.OperationalError:
                # WAL needs its -shm file; where it cannot be made and no writer has it open, the
                # file is read as it is (``immutable``: nothing else may write it meanwhile).
                return sqlite3.connect(f"{file.resolve().as_uri()}?immutable=1", uri=True, check_same_thread=False)
        db = sqlite3.connect(file, isolation_level=None, check_same_thread=False, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'OFF'}")
        return db

    def ping(self) -> None:
        file = self.path / DB_FILE
        try:
            now = _identity(file)
        except OSError:
            now = None
        if now != self._identity:
            raise StoreError(
                f"store {self.url} was deleted or replaced while open ({file} is not the file opened): "
                "nothing more is written to it; restart to open what is there now"
            )
        try:
            self._db.execute("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.url} does not answer: {exc}") from exc

    @contextlib.contextmanager
    def import_lock(self) -> Iterator[None]:
        if not self._write_lock.acquire(timeout=self.lock_wait):
            raise busy(self.url, self.lock_wait)
        try:
            if self._lock_depth == 0:
                self._lock_file = self._take_file_lock()
                self._checked = float("-inf")  # what another process committed before: seen now
                self._fresh()
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self._lock_file.close()  # closing the file releases its flock
                    self._lock_file = None
        finally:
            self._write_lock.release()

    def _take_file_lock(self) -> Any:
        if self.read_only:
            raise StoreError(f"store {self.url} is read-only for this user: nothing can be imported into it")
        self.ping()
        handle = open(self.path / LOCK_FILE, "a+b")  # noqa: SIM115 - held until the import ends
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise busy(self.url, self.lock_wait) from None
                time.sleep(0.05)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        with self.import_lock():
            if self._in_atomic:
                yield
                return
            db = self._writer()
            try:
                db.execute("BEGIN IMMEDIATE")
                self._in_atomic = True
                yield
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                self._invalidate()
                raise
            finally:
                self._in_atomic = False
            self._after_write(actions=True)

    def close(self) -> None:
        self._db.close()
        if self._wdb is not None:
            self._wdb.close()

    def warm(self) -> None:
        self._fresh()
        if self.date_range() is None:
            return  # an empty store: nothing to keep in memory
        self._action_index  # noqa: B018 - mapped, with the recipient order
        self._actions_by_recipient  # noqa: B018
        for index in ("_orgs", "_named", "_named_under", "_children", "_commissions", "_cases"):
            getattr(self, index)
        if not self._large:  # a large store's tenure and position reads stay with SQLite
            self._positions_by_org  # noqa: B018 - and the positions
            self._tenure_index  # noqa: B018

    def release(self) -> None:
        # SQLite's connections must not cross a fork (sqlite.org/howtocorrupt.html, 2.6)
        self._released_at = self._imports_written()
        self.close()

    def reconnect(self) -> None:
        self._open_connections()
        self._generation = self._data_version()  # this connection's own counter, from now on
        self._checked = time.monotonic()
        if self._imports_written() != self._released_at:
            self._invalidate()  # an import came between the release and this connection

    def _writer(self) -> sqlite3.Connection:
        if self._wdb is None:
            raise StoreError(f"store {self.url} is read-only for this user: nothing can be imported into it")
        return self._wdb

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.path)!r})"

    # ------------------------------------------------------------ cache control
    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _fresh(self) -> None:
        """Drop in-memory indexes when another connection has committed since they were built.

        Another process's commit is noticed within ``RECHECK_SECONDS`` (asking SQLite on every
        read cost more than the read); this store's own writes are seen at once."""
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        version = self._data_version()
        if version != self._generation:
            self._invalidate()
            self._generation = version

    @cached_property
    def _memo(self) -> dict[Hashable, Any]:
        return {}

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """Derived values (a window's pressure figures for every year, say), dropped with the
        other in-memory indexes when the data changes (``_invalidate``); the last few only."""
        self._fresh()
        return memoized(self._memo, key, compute)

    def _invalidate(self) -> None:
        for name in (
            "_orgs",
            "_graph",
            "_positions",
            "_positions_by_org",
            "_children",
            "_successors",
            "_named",
            "_named_under",
            "_commissions",
            "_person_cache",
            "_tenure_index",
            "_action_index",
            "_actions_by_recipient",
            "_cases",
            "_accountability",
            "_date_range",
            "_memo",
            "_cold_reads",
            "_large",
        ):
            self.__dict__.pop(name, None)

    def _migrate(self, version: str) -> str:
        """Bring a store of schema ``version`` to this one, in one transaction."""
        db = self._wdb
        assert db is not None  # a writable store
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == version:  # not raced
                for ddl in MIGRATIONS[version]:
                    db.execute(ddl)
                db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return str(SCHEMA_VERSION)

    def _records(self, entity: str, ids: Iterable[str] | None = None, where: str = "id") -> Iterator[dict[str, Any]]:
        cols = _COLS[entity]
        if ids is None:  # in key order: the table's own, no sort
            for cells in self._db.execute(f"SELECT {cols} FROM {entity} ORDER BY {_key(entity)}"):
                yield _record(entity, cells)
            return
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for cells in self._db.execute(f"SELECT {cols} FROM {entity} WHERE {where} IN ({marks})", chunk):
                yield _record(entity, cells)

    # ------------------------------------------------------------ write side
    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            out.update(i for (i,) in self._db.execute(f"SELECT id FROM {entity} WHERE id IN ({marks})", chunk))
        return out

    def stored_records(self, entity: str, ids: Iterable[str]) -> dict[Any, dict[str, Any]]:
        if entity == "tenure_rows":
            wanted = set(ids)
            rows = self._records(entity, sorted({k[0] for k in wanted}), where="person_id")
            return {k: r for r in rows if (k := (r["person_id"], r["position_id"], r["start"])) in wanted}
        if entity in ("changes", "actions"):  # keyed (person_id or to_org_id, id): of that id, whoever it names
            pairs = list(ids)
            by_id = {r["id"]: r for r in self._records(entity, sorted({p[1] for p in pairs}))}
            return {p: by_id[p[1]] for p in pairs if p[1] in by_id}
        return {r["id"]: r for r in self._records(entity, ids)}

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]:
        return list(self._records("persons", sorted(set(names)), where="name"))

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        wanted = None if ids is None else set(ids)
        if wanted is not None and not wanted:
            return {}
        # every alias at once: few, and one scan of persons however many ids a load asks about
        query = "SELECT a.value, p.id FROM persons p, json_each(p.aliases) a WHERE p.aliases != '[]'"
        return {a: p for a, p in self._db.execute(query) if wanted is None or a in wanted}

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        persons = sorted(set(person_ids))
        return (
            list(self._records("tenure_rows", persons, where="person_id")),
            list(self._records("changes", persons, where="person_id")),
        )

    def unfinished(self) -> bool:
        return False  # an import is one transaction here

    def load_advice(self) -> list[str]:
        return []

    def staging(self) -> tuple[str, str | None] | None:
        return None  # a first load is one transaction already

    def adopt(self, url: str) -> None:
        raise StoreError(f"store {self.url} writes a first load in one transaction, not aside")

    drop_staging = adopt

    def take_scratch(self, folder: Path, log: dict[str, Any]) -> bool:
        """The scratch's tables copied by SQLite itself (``INSERT ... SELECT`` over an attached
        database): a nation's 39 million rows never become Python objects again. One import-log
        entry per table, as a part."""
        db = self._writer()
        tables = [*COLUMNS, "tenures"]  # one transaction: the order does not matter
        with self.import_lock():
            if any(self.counts().values()):
                raise StoreError(f"store {self.url} holds data: a scratch store is copied only into an empty one")
            if self._pristine(folder):
                return self._adopt_pages(folder, tables, log)
            db.execute("ATTACH DATABASE ? AS scratch", (str(Path(folder) / DB_FILE),))
            try:
                with self._one_transaction(db, begin=True):
                    part = 0
                    with _indexes_made_after(db):
                        for table in tables:
                            cols = _TENURE_COLUMNS if table == "tenures" else _COLS[table]
                            copy = f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM scratch.{table}"
                            if copied := db.execute(copy).rowcount:
                                part += 1
                                _log_import(db, {**log, "part": part, "entity": table, "rows": copied})
                    if part:
                        self._settle(db)
            finally:
                db.execute("DETACH DATABASE scratch")
        self._after_write(actions=bool(part))
        return bool(part)

    def _pristine(self, folder: Path) -> bool:
        """Whether nothing was ever imported here, and the scratch's pages fit this file's."""
        db = self._writer()
        if db.execute("SELECT count(*) FROM imports").fetchone()[0]:
            return False
        with contextlib.closing(sqlite3.connect(Path(folder) / DB_FILE)) as scratch:
            size = scratch.execute("PRAGMA page_size").fetchone()[0]
        return bool(size == db.execute("PRAGMA page_size").fetchone()[0])

    def _adopt_pages(self, folder: Path, tables: list[str], log: dict[str, Any]) -> bool:
        """``take_scratch`` into a store nothing was ever imported into: the scratch is made
        what this store would be after the copy (its import log, generation and date range),
        then SQLite's backup copies its pages into this file in one transaction: a nation's 7 GB
        in 78 s, where the row copy had taken 229 s under a profile (docs/performance.md)."""
        from concurrent.futures import ThreadPoolExecutor  # a load's, not every command's import

        db = self._writer()
        generation = self._imports_written()
        file = Path(folder) / DB_FILE
        scratch = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
        try:
            scratch.execute("PRAGMA synchronous=OFF")  # deleted whenever its load stops
            _sorts_helped(scratch)
            # Each table's rows counted over a connection of its own while the indexes are made:
            # both wait on SQLite with the GIL released (a nation's counts took 12 s alone).
            with ThreadPoolExecutor(max_workers=1) as pool, self._one_transaction(scratch, begin=True):
                counted = pool.submit(_row_counts, file, tables)
                for ddl in _SCHEMA:  # the indexes a scratch store is made without (``_DEFERRED``)
                    scratch.execute(ddl)
                scratch.execute("DELETE FROM imports")  # the chunks' own entries, numbered from 1 again
                scratch.execute("DELETE FROM sqlite_sequence WHERE name = 'imports'")
                scratch.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation),))
                part = 0
                counts = counted.result()
                for table in tables:
                    if rows := counts[table]:
                        part += 1
                        _log_import(scratch, {**log, "part": part, "entity": table, "rows": rows})
                if part:
                    self._settle(scratch)
            columns = None
            if part:
                # The backup (one transaction on this file: a kill leaves it as it was, readers
                # see old or new) waits on the disk with the GIL released, while this thread
                # reads the scratch's action columns for the snapshot (a nation's: 70 s).
                with ThreadPoolExecutor(max_workers=1) as pool:
                    copied = pool.submit(scratch.backup, db)
                    with contextlib.suppress(sqlite3.Error):  # else read from the store when first asked
                        columns = _action_columns(sqlite3.connect(file)) if self.action_snapshot else None
                    try:
                        copied.result()
                    except sqlite3.Error as exc:
                        raise StoreError(f"cannot write to store {self.url}: {exc}; nothing was written") from exc
                with contextlib.suppress(sqlite3.Error):  # a reader may hold the log; it is reused then
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            scratch.close()
        if columns is not None and not self.read_only:
            self._save_snapshot(self._snapshot_folder(), columns)
        self._after_write(actions=bool(part))  # maps that snapshot
        return bool(part)

    def defer(self, entity: str) -> None:
        """Rows of ``entity`` written from now on wait in a file of their own beside this
        store's, in the order written, and go into their table in key order, indexes made
        again, at ``settle_deferred``; until then no read sees them. A streamed load's scratch
        store receives a nation's 11 million changes person by person, keyed by ids in date
        order: inserted as they came, into a table larger than the page cache, each was a
        random write (3 million such rows: 37.1 s, against 5.7 s appended and 14.8 s sorted
        in at the end)."""
        db = self._writer()
        if not self._waiting:
            db.execute("ATTACH DATABASE ? AS waiting", (str(self.path / WAITING_FILE),))
        cols = _COLS[entity]
        db.execute(f"CREATE TABLE IF NOT EXISTS waiting.{entity} ({cols})")
        self._waiting.append(entity)

    def settle_deferred(self) -> None:
        """Put the rows ``defer`` kept apart in their tables, in one transaction."""
        if not self._waiting:
            return
        db = self._writer()
        with self.import_lock(), self._one_transaction(db, begin=True):
            for entity in self._waiting:
                _copy_in_key_order(db, "waiting", entity)
        db.execute("DETACH DATABASE waiting")
        self._waiting = []
        (self.path / WAITING_FILE).unlink()
        self._after_write(actions=False)

    def take_rows(self, folder: Path, entities: list[str]) -> None:
        """Every record of ``entities`` in the store at ``folder`` copied into this one's
        tables by SQLite, in key order (appended: a nation's 14.8 million actions took 12 s),
        in one transaction: a streamed first load's duties and actions, validated in a process
        of their own (``loaders.stream.staged.Aside``)."""
        db = self._writer()
        with self.import_lock():
            db.execute("ATTACH DATABASE ? AS other", (str(Path(folder) / DB_FILE),))
            try:
                with self._one_transaction(db, begin=True):
                    for entity in entities:
                        _copy_in_key_order(db, "other", entity)
            finally:
                db.execute("DETACH DATABASE other")
        self._after_write(actions=False)

    def write(self, batch: Batch, *, log: dict[str, Any]) -> None:
        actions = bool(batch.rows.get("actions"))  # the batch is emptied as it is written
        with self.import_lock():
            self._write(batch, log)
        if not self._in_atomic:
            self._after_write(actions=actions)

    def _after_write(self, *, actions: bool) -> None:
        self._invalidate()
        self._generation = self._data_version()
        if actions and self.action_snapshot:
            self._action_index  # noqa: B018 - writes the snapshot now, so no read pays for it later

    def _write(self, batch: Batch, log: dict[str, Any]) -> None:
        db = self._writer()
        pending: Callable[[], ActionTable] | None = None
        columns = None
        actions = batch.rows.get("actions")
        with self._one_transaction(db, begin=not self._in_atomic):
            # Into a store nothing was written to, the rows go in first and each index is made
            # after, a sort each (a province's first load: docs/performance.md).
            first = db.execute("SELECT 1 FROM imports LIMIT 1").fetchone() is None
            with (
                _cache_of(db, min(FIRST_IMPORT_CACHE_MB, self._cache_mb)) if first else contextlib.nullcontext(),
                _indexes_made_after(db) if first else contextlib.nullcontext(),
            ):
                self._insert(db, batch)
                if first and actions and self.action_snapshot and not self._in_atomic:
                    # ... and the action columns are made from the batch while SQLite sorts
                    # with the GIL released, not read back after the commit
                    pending = _made_aside(_batch_action_columns, actions)
                actions = None  # the thread holds them while it needs them
            if pending is not None:
                columns = pending()  # before the commit: a failure here writes nothing
            if batch.settles_import:
                self._settle(db)
            else:
                self._next_generation(db)
            _log_import(db, log)
        if columns is not None:
            self._save_snapshot(self._snapshot_folder(), columns)

    def _insert(self, db: sqlite3.Connection, batch: Batch) -> None:
        """Insert the batch's rows, each list taken out of the batch as it is written: nothing
        holds a list once it is in (a province's records and tenures are a quarter gigabyte,
        which a first import's index sorts would otherwise run beside)."""
        # new records are inserted (a repeated id is a bug); tenure rows and updates replace
        writes = [
            *(("INSERT", e, rows) for e, rows in batch.rows.items()),
            ("INSERT OR REPLACE", "tenure_rows", batch.tenure_rows),
            *(("INSERT OR REPLACE", e, rows) for e, rows in batch.updates.items()),
        ]
        batch.rows, batch.tenure_rows, batch.updates = {}, [], {}
        writes.reverse()
        while writes:
            self._insert_rows(db, *writes.pop())
        for chunk in _chunks(sorted(batch.tenure_persons)):
            marks = ",".join("?" * len(chunk))
            db.execute(f"DELETE FROM tenures WHERE person_id IN ({marks})", chunk)
        tenures, batch.tenures = batch.tenures, []
        db.executemany(
            "INSERT INTO tenures VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    t.id,
                    t.person_id,
                    t.position_id,
                    t.start,
                    t.end,
                    t.start_ordinal,
                    t.end_ordinal,
                    t.opened_by,
                    t.open_kind,
                    t.closed_by,
                    t.close_kind,
                )
                for t in tenures
            ),
        )

    def _insert_rows(self, db: sqlite3.Connection, verb: str, entity: str, rows: list[dict[str, Any]]) -> None:
        marks = ",".join("?" * len(COLUMNS[entity]))
        table = f"waiting.{entity}" if entity in self._waiting and verb == "INSERT" else entity
        db.executemany(f"{verb} INTO {table} ({_COLS[entity]}) VALUES ({marks})", map(_cell_maker(entity), rows))

    @contextlib.contextmanager
    def _one_transaction(self, db: sqlite3.Connection, *, begin: bool) -> Iterator[None]:
        """A write committed whole or rolled back (``begin``: its own transaction; else it is
        part of ``atomic``'s, which commits)."""
        try:
            if begin:
                db.execute("BEGIN IMMEDIATE")
            yield
            if begin:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot write to store {self.url}: {exc}; nothing was written") from exc
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _next_generation(db: sqlite3.Connection) -> None:
        db.execute(  # names the snapshot of the action columns (see _action_index)
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def _settle(self, db: sqlite3.Connection) -> None:
        """The last write of an import: the next generation, and the date range kept with it,
        so that a fresh process reads it instead of scanning."""
        self._next_generation(db)
        generation = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        kept = {"generation": int(generation), "range": _date_range_of(db)}
        db.execute("INSERT OR REPLACE INTO meta VALUES ('date_range', ?)", (json.dumps(kept),))

    def export(self, entity: str) -> Iterator[dict[str, Any]]:
        """Every record of ``entity``, read lazily over a connection of its own (memory stays flat)."""
        cols = _COLS[entity]
        return (_record(entity, cells) for cells in self._stream(f"SELECT {cols} FROM {entity}"))

    def personnel_by_person(
        self,
    ) -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, Any]], list[Tenure]]]:
        """Every person with a tenure row, a change or a derived tenure, in id order, with all
        three: three reads in person order, merged (no lookup per person: on a national scratch
        store those were random reads of tables larger than the page cache). Each person's
        tenures by start."""

        def by_person(query: str, person: int, make: Callable[[Any], Any]) -> Iterator[tuple[str, list[Any]]]:
            for key, group in itertools.groupby(self._stream(query), key=itemgetter(person)):
                yield key, [make(r) for r in group]

        def raw(entity: str) -> Iterator[tuple[str, list[Any]]]:
            cols = _COLS[entity]
            query = f"SELECT {cols} FROM {entity} ORDER BY person_id"
            return by_person(query, COLUMNS[entity].index("person_id"), functools.partial(_record, entity))

        derived = by_person(f"SELECT {_TENURE_COLUMNS} FROM tenures ORDER BY person_id", 1, _tenure)
        streams = [raw("tenure_rows"), raw("changes"), derived]
        heads = [next(stream, None) for stream in streams]
        while any(heads):
            person = min(head[0] for head in heads if head)
            found: list[list[Any]] = []
            for i, head in enumerate(heads):
                if head and head[0] == person:
                    found.append(head[1])
                    heads[i] = next(streams[i], None)
                else:
                    found.append([])
            rows, changes, tenures = found
            yield person, rows, changes, sorted(tenures, key=lambda t: (t.start_ordinal, t.position_id))

    def _stream(self, query: str) -> Iterator[tuple[Any, ...]]:
        db = self._connect()
        try:
            yield from db.execute(query)
        finally:
            db.close()

    def import_log(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT seq, at, log FROM imports ORDER BY seq DESC LIMIT ?", (limit,))
        return [{"seq": seq, "at": at, **json.loads(log)} for seq, at, log in rows]

    # ------------------------------------------------------------ hierarchy
    @cached_property
    def _orgs(self) -> dict[str, Organization]:
        """Every organization, by id in id order."""
        return _by_id(Organization, self._records("organizations"))

    @cached_property
    def _positions(self) -> dict[str, Position]:
        return _by_id(Position, self._records("positions"))

    @cached_property
    def _positions_by_org(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self._positions.values():
            out.setdefault(p.org_id, []).append(p.id)
        return out

    @cached_property
    def _graph(self) -> nx.DiGraph:
        """Organizations and positions with LEADS, SUPERVISED_BY and HAS_POSITION edges."""
        import networkx as nx

        g = nx.DiGraph()
        for org in self._orgs.values():
            g.add_node(org.id, label="Organization")
        for org in self._orgs.values():
            if org.parent_id:
                g.add_edge(org.parent_id, org.id, type="LEADS")
            if org.supervised_by:
                g.add_edge(org.id, org.supervised_by, type="SUPERVISED_BY")
        for pos in self._positions.values():
            g.add_node(pos.id, label="Position")
            g.add_edge(pos.org_id, pos.id, type="HAS_POSITION")
        return g

    @property
    def graph(self) -> nx.DiGraph:
        self._fresh()
        return self._graph

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        self._fresh()
        if ids is not None and "_orgs" not in self.__dict__:  # cold: these only, from SQLite
            return {d["id"]: Organization.model_validate(d) for d in self._records("organizations", list(ids))}
        orgs = self._orgs
        if ids is None:
            return dict(orgs)
        return {i: orgs[i] for i in ids if i in orgs}

    def organization_facts(self) -> dict[str, OrgFacts]:
        self._fresh()
        if "_orgs" in self.__dict__:
            return {i: OrgFacts.of(o) for i, o in self._orgs.items()}
        kinds, levels = {k.value: k for k in OrgKind}, {lv.value: lv for lv in Level}
        rows = self._db.execute(
            "SELECT id, kind, level, parent_id, valid_from, valid_to FROM organizations ORDER BY id"
        )
        return {i: OrgFacts(kinds[k], levels[lv], p, f, t) for i, k, lv, p, f, t in rows}

    def organizations_named(self, names: Iterable[str]) -> dict[str, list[Organization]]:
        self._fresh()
        if "_orgs" in self.__dict__:  # warm (a server, any query after the first): from memory
            return {n: list(self._named[n]) for n in set(names) if n in self._named}
        out: dict[str, list[Organization]] = {}
        for d in self._records("organizations", sorted(set(names)), where="name"):
            out.setdefault(d["name"], []).append(Organization.model_validate(d))
        return out

    def organizations_named_under(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Organization]]:
        self._fresh()
        pairs = set(pairs)
        if "_orgs" in self.__dict__:
            under = self._named_under
            return {p: list(under[p]) for p in pairs if p in under}
        matched: dict[str, tuple[str, str]] = {}  # id -> (its name, its parent's name)
        for chunk in _chunks(sorted({name for name, _ in pairs})):
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT o.id, o.name, p.name FROM organizations o JOIN organizations p ON p.id = o.parent_id "
                f"WHERE o.name IN ({marks})"
            )
            matched.update((i, (name, parent)) for i, name, parent in self._db.execute(query, chunk))
        orgs = self.get_organizations(i for i, pair in matched.items() if pair in pairs)
        out: dict[tuple[str, str], list[Organization]] = {}
        for i in sorted(orgs):
            out.setdefault(matched[i], []).append(orgs[i])
        return out

    @cached_property
    def _named_under(self) -> dict[tuple[str, str], list[Organization]]:
        """Organizations by (name, parent's name), each list by id."""
        orgs = self._orgs
        out: dict[tuple[str, str], list[Organization]] = {}
        with gc_paused(keep=True):
            for org in orgs.values():  # by id, as read
                if org.parent_id in orgs:
                    out.setdefault((org.name, orgs[org.parent_id].name), []).append(org)
        return out

    def count_named(self, names: Iterable[str]) -> dict[str, int]:
        self._fresh()
        if "_orgs" in self.__dict__:
            return {n: len(self._named[n]) for n in set(names) if n in self._named}
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(set(names))):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT name, COUNT(*) FROM organizations WHERE name IN ({marks}) GROUP BY name"
            out.update(self._db.execute(query, chunk))
        return out

    @cached_property
    def _named(self) -> dict[str, list[Organization]]:
        out: dict[str, list[Organization]] = {}
        with gc_paused(keep=True):
            for org in self._orgs.values():  # by id, as read
                out.setdefault(org.name, []).append(org)
        return out

    def _cold(self, index: str) -> bool:
        """Whether this query's read goes to SQLite: ``index`` is not built, and at most
        ``index_after`` reads have asked for it since the data last changed. A store over
        ``LARGE_STORE`` reads its tenures and positions from SQLite always, and builds its
        organizations after ``LARGE_COLD_READS`` reads: read cold, a nation's cost 15-45 ms an
        accountability lookup (random pages of a 9 GB file), against 3-5 s to build them once,
        which a one-off lookup would spend for the few it reads."""
        if index in self.__dict__:
            return False
        asked = self._cold_reads[index] = self._cold_reads.get(index, 0) + 1
        if self.index_after is None:
            return True
        if self._large and index in _BY_ROW:
            return True
        if self._large and index == "_orgs":
            return asked <= LARGE_COLD_READS
        return asked <= self.index_after

    @cached_property
    def _large(self) -> bool:
        """Whether the database is over ``LARGE_STORE`` bytes: its tenure and position reads
        stay with SQLite."""
        try:
            return (self.path / DB_FILE).stat().st_size > LARGE_STORE
        except OSError:
            return False

    @cached_property
    def _cold_reads(self) -> dict[str, int]:
        return {}

    def ancestors(self, org_id: str) -> list[Organization]:
        self._fresh()
        if not self._cold("_orgs"):
            return ancestor_chain(org_id, self._orgs.get)
        return ancestor_chain(org_id, self._read_org)

    def _read_org(self, org_id: str) -> Organization | None:
        """One organization from SQLite (a one-off command: building every organization costs
        0.2 s on a province)."""
        return self.get_organizations([org_id]).get(org_id)

    def org_context(self, org_id: str, reach: int | None = None) -> OrgContext:
        self._fresh()
        if not self._cold("_orgs"):
            return org_context_from(self, org_id, reach, self._commissions)
        chain = ancestor_chain(org_id, self._read_org)  # cold: from SQLite, and its members' commissions
        children = self._read_children([o.id for o in chain])
        return org_context_from(self, org_id, reach, commissions_among(children), chain=chain)

    def _read_children(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        """``get_children`` from SQLite, without building every organization."""
        kids: dict[str, list[Organization]] = {}
        for d in self._records("organizations", sorted(set(org_ids)), where="parent_id"):
            kids.setdefault(d["parent_id"], []).append(Organization.model_validate(d))
        return {o: sorted(k, key=lambda x: x.id) for o, k in kids.items()}

    @cached_property
    def _commissions(self) -> dict[str, list[Organization]]:
        """Each organization's commissions (children of kind commission), sorted by id."""
        return commissions_among(self._children)

    @cached_property
    def _children(self) -> dict[str, list[Organization]]:
        """Each organization's children (LEADS), sorted by id; the busiest read's first step."""
        out: dict[str, list[Organization]] = {}
        with gc_paused(keep=True):
            for org in self._orgs.values():  # by id, as read
                if org.parent_id:
                    out.setdefault(org.parent_id, []).append(org)
        return out

    @cached_property
    def _successors(self) -> dict[str, list[Organization]]:
        if not self._cold("_orgs"):
            orgs: Iterable[Organization] = self._orgs.values()
        else:  # cold (rtc career): the few organizations that continue another, found by SQLite
            cols = _COLS["organizations"]
            rows = self._db.execute(f"SELECT {cols} FROM organizations WHERE predecessor_ids != '[]'")
            orgs = [Organization.model_validate(_record("organizations", r)) for r in rows]
        out: dict[str, list[Organization]] = {}
        for org in sorted(orgs, key=lambda o: o.id):
            for p in org.predecessor_ids:
                out.setdefault(p, []).append(org)
        return out

    def successors(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        self._fresh()
        after = self._successors
        return {o: list(after[o]) for o in org_ids if o in after}

    def get_children(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        self._fresh()
        if self._cold("_orgs"):
            return self._read_children(org_ids)
        children = self._children
        return {o: list(children[o]) for o in org_ids if o in children}

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        """The role and rank of these positions (what validation reads of them, read without
        making a ``Position`` of each: a streamed load asks for every position of every chunk)."""
        self._fresh()
        if "_positions" in self.__dict__:
            positions = self._positions
            return {i: (positions[i].role.value, positions[i].rank) for i in ids if i in positions}
        out: dict[str, tuple[str, int | None]] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id, role, rank FROM positions WHERE id IN ({marks})", chunk)
            out.update((i, (role, rank)) for i, role, rank in rows)
        return out

    def get_positions(
        self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None
    ) -> dict[str, Position]:
        self._fresh()
        if org_ids is not None and self._cold("_positions"):
            # Cold: read only these organizations' positions; the full index costs seconds on a
            # province, and a one-off command (rtc view, rtc holders) may never need it.
            wanted = {o: i for i, o in enumerate(dict.fromkeys(org_ids))}
            found = [Position.model_validate(d) for d in self._records("positions", list(wanted), where="org_id")]
            found.sort(key=lambda p: (wanted[p.org_id], p.id))  # the order the index gives
            return {p.id: p for p in found}
        if ids is not None and org_ids is None and self._cold("_positions"):
            wanted_ids = list(dict.fromkeys(ids))
            by_id = {d["id"]: Position.model_validate(d) for d in self._records("positions", wanted_ids)}
            return {i: by_id[i] for i in wanted_ids if i in by_id}
        positions = self._positions
        if org_ids is not None:
            by_org = self._positions_by_org
            ids = [p for o in org_ids for p in by_org.get(o, ())]
        if ids is None:
            return dict(positions)
        return {i: positions[i] for i in ids if i in positions}

    def find_persons(self, q: str, *, limit: int, offset: int) -> tuple[list[Person], int]:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = "name LIKE ? ESCAPE '\\' OR id = ?"
        total = int(self._db.execute(f"SELECT count(*) FROM persons WHERE {where}", (like, q)).fetchone()[0])
        cols = _COLS["persons"]
        rows = self._db.execute(
            f"SELECT {cols} FROM persons WHERE {where} ORDER BY id LIMIT ? OFFSET ?", (like, q, limit, offset)
        )
        return [Person.model_validate(_record("persons", r)) for r in rows], total

    def get_persons(self, ids: Iterable[str]) -> dict[str, Person]:
        """From SQLite, through a cache of the persons read before (dropped with the other
        indexes when the data changes; emptied when it reaches ``PERSON_CACHE`` entries)."""
        self._fresh()
        return read_through(self._person_cache, ids, self._read_persons, PERSON_CACHE)

    def _read_persons(self, ids: list[str]) -> dict[str, Person]:
        return {d["id"]: Person.model_validate(d) for d in self._records("persons", ids)}

    @cached_property
    def _person_cache(self) -> dict[str, Person]:
        return {}

    # ------------------------------------------------------------ tenures
    @cached_property
    def _tenure_index(self) -> _TenureIndex:
        return _TenureIndex(self._db)

    def holders(self, position_id: str, at: int) -> list[Tenure]:
        self._fresh()
        if self._cold("_tenure_index"):  # a few posts (rtc holders): from SQLite, not every tenure
            return self._cold_tenures("position_id", [position_id], at, at + 1)
        return self._tenure_index.on_position(position_id, at, at + 1)

    def tenures(
        self,
        *,
        person_ids: Iterable[str] | None = None,
        position_ids: Iterable[str] | None = None,
        overlapping: tuple[int, int] | None = None,
    ) -> list[Tenure]:
        self._fresh()
        lo, hi = overlapping if overlapping else (-1, OPEN_END + 1)
        if (person_ids is None) != (position_ids is None) and self._cold("_tenure_index"):
            # cold: a few positions' or persons' tenures straight from SQLite
            if position_ids is not None:
                return self._cold_tenures("position_id", list(position_ids), lo, hi)
            return self._cold_tenures("person_id", list(person_ids or ()), lo, hi)
        index = self._tenure_index
        out: list[Tenure] = []
        for pos in position_ids or ():
            out.extend(index.on_position(pos, lo, hi))
        for person in person_ids or ():
            out.extend(index.of_person(person, lo, hi))
        return out

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        """The stored tenures that overlap one of ``spans`` (a position, and a half-open day
        range on it), each once. The overlap check of an import asks only this of a large
        store: SQLite finds them through the position index, and no other tenure of those
        positions is read or built (at nation scale a chunk's positions hold twice as many
        tenures as the chunk)."""
        self._fresh()
        given = [list(span) for span in spans]
        columns = ", ".join(f"t.{c.strip()}" for c in _TENURE_COLUMNS.split(","))
        query = (
            f"SELECT DISTINCT {columns} FROM json_each(?) AS j JOIN tenures AS t "
            "ON t.position_id = j.value ->> 0 AND t.start_ord < j.value ->> 2 AND t.end_ord > j.value ->> 1"
        )
        rows = []
        for i in range(0, len(given), 20_000):
            rows += self._db.execute(query, [json.dumps(given[i : i + 20_000])]).fetchall()
        return [_tenure(r) for r in dict.fromkeys(rows)]  # a tenure in two chunks of spans: once

    def _cold_tenures(self, column: str, keys: list[str], lo: int, hi: int) -> list[Tenure]:
        """The tenures of a few positions (or persons) straight from SQLite, in the index's order:
        by the keys as given, then by start (and person, or position)."""
        rows = []
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" * len(chunk))
            rows += self._db.execute(
                f"SELECT {_TENURE_COLUMNS} FROM tenures WHERE {column} IN ({marks}) AND start_ord < ? AND end_ord > ?",
                [*chunk, hi, lo],
            ).fetchall()
        order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        if column == "position_id":
            rows.sort(key=lambda r: (order[r[2]], r[5], r[1]))
        else:
            rows.sort(key=lambda r: (order[r[1]], r[5], r[2]))
        return [_tenure(r) for r in rows]

    # ------------------------------------------------------------ actions
    def _imports_written(self) -> int:
        """How many imports have been written: names the on-disk snapshot of the action columns."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _snapshot_folder(self) -> Path:
        """Where the action columns of the store as it is now are kept."""
        return self.path / f"{SNAPSHOT}.{self._imports_written()}"

    @cached_property
    def _action_index(self) -> ActionTable:
        """The actions as sorted columns, mapped from a snapshot folder when one matches the
        store's generation (pages are read as a query touches them, and forked workers share
        them), else read from SQLite and the snapshot written."""
        snapshot = self._snapshot_folder()
        if snapshot.is_dir():
            try:
                return self._mapped_snapshot(snapshot)
            except (OSError, ValueError):  # removed meanwhile (an older generation) or cut: built again
                pass
        table = self._read_action_columns()
        if not self.read_only:
            self._save_snapshot(snapshot, table)
        return table

    def _read_action_columns(self) -> ActionTable:
        return _action_columns(self._connect())

    def _mapped_snapshot(self, folder: Path) -> ActionTable:
        def column(name: str) -> np.ndarray:
            # a plain array over the mapped file: every slice of an np.memmap pays for its
            # subclass's bookkeeping (docs/performance.md)
            return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)

        # sorted when written: a one-off read does not sort
        self.__dict__["_actions_by_recipient"] = (column("by_recipient"), column("recipient_bounds"))
        return ActionTable(
            ids=column("ids"),
            date=column("date"),
            kind=column("kind"),
            category=column("category"),
            from_org=column("from_org"),
            to_org=column("to_org"),
            by_org=column("by_org"),
            orgs=column("orgs").tolist(),
        )

    def _save_snapshot(self, folder: Path, table: ActionTable) -> None:
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        order, bounds = _by_recipient(table)
        columns = {
            "ids": np.asarray(table.ids, dtype=str),
            "date": table.date,
            "kind": table.kind,
            "category": table.category,
            "from_org": table.from_org,
            "to_org": table.to_org,
            "by_org": table.by_org,
            "orgs": np.asarray(table.orgs, dtype=str),
            "by_recipient": order,
            "recipient_bounds": bounds,
        }
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            for name, values in columns.items():
                np.save(tmp / f"{name}.npy", values, allow_pickle=False)
            os.rename(tmp, folder)  # atomic: a reader finds no folder or the whole one
        except OSError:  # read-only, or another process wrote it first: it is rebuilt or theirs is read
            shutil.rmtree(tmp, ignore_errors=True)
            return
        for old in self.path.glob(f"{SNAPSHOT}.*"):  # older generations; an .npz is an older rtc's
            if old != folder:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        for left in self.path.glob(f".{SNAPSHOT}.*.tmp"):  # by a process killed as it wrote
            pid = left.name.split(".")[-2]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(left, ignore_errors=True)

    @cached_property
    def _actions_by_recipient(self) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of the action table grouped by recipient (each group in date order), and
        group bounds (kept in the snapshot)."""
        return _by_recipient(self._action_index)

    def actions(
        self,
        start: int,
        end: int,
        *,
        category: str | None = None,
        from_orgs: Iterable[str] | None = None,
        to_orgs: Iterable[str] | None = None,
    ) -> ActionTable:
        self._fresh()
        table = self._action_index
        codes = table.codes
        if to_orgs is not None:  # few recipients: gather their rows instead of slicing the window
            order, bounds = self._actions_by_recipient
            wanted = [c for c in (codes.get(o) for o in to_orgs) if c is not None]
            idx = np.concatenate([order[bounds[c] : bounds[c + 1]] for c in wanted]) if wanted else order[:0]
            idx = idx[(table.date[idx] >= start) & (table.date[idx] < end)]
        else:
            lo, hi = np.searchsorted(table.date, [start, end], side="left")
            idx = np.arange(lo, hi)
        if category is not None:
            idx = idx[table.category[idx] == CATEGORIES.index(category)]
        if from_orgs is not None:
            idx = idx[np.isin(table.from_org[idx], [codes[o] for o in from_orgs if o in codes])]
        return table.rows(np.sort(idx))

    def received_counts(self, start: int, end: int, *, category: str | None = None) -> tuple[list[str], np.ndarray]:
        self._fresh()
        table = self._action_index
        lo, hi = np.searchsorted(table.date, [start, end], side="left")
        to, kind = table.to_org[lo:hi], table.kind[lo:hi]
        if category is not None:
            keep = table.category[lo:hi] == CATEGORIES.index(category)
            to, kind = to[keep], kind[keep]
        width = len(ACTION_KINDS)
        flat = np.bincount(to.astype(np.int64) * width + kind, minlength=len(table.orgs) * width)
        matrix = flat.reshape(len(table.orgs), width)
        order = sorted(np.flatnonzero(matrix.any(axis=1)).tolist(), key=table.orgs.__getitem__)
        return [table.orgs[c] for c in order], matrix[order]

    # ------------------------------------------------------------ cases and the rest
    @cached_property
    def _cases(self) -> dict[str, Case]:
        return {d["id"]: Case.model_validate(d) for d in self._records("cases")}

    @cached_property
    def _accountability(self) -> list[Accountability]:
        return [Accountability.model_validate(d) for d in self._records("accountability")]

    def get_cases(self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None) -> dict[str, Case]:
        self._fresh()
        if ids is not None and self._cold("_cases"):  # a few (a one-off command): these only, from SQLite
            asked = list(ids)
            found = {d["id"]: Case.model_validate(d) for d in self._records("cases", asked)}
            return {i: found[i] for i in asked if i in found}
        cases = self._cases
        if ids is not None:
            return {i: cases[i] for i in ids if i in cases}
        if org_ids is not None:
            wanted = set(org_ids)
            return {i: c for i, c in cases.items() if c.org_id in wanted}
        return dict(cases)

    def get_accountability(self, case_ids: Iterable[str] | None = None) -> list[Accountability]:
        self._fresh()
        if case_ids is None:
            return list(self._accountability)
        wanted = set(case_ids)
        return [a for a in self._accountability if a.case_id in wanted]

    def get_duties(self, org_ids: Iterable[str] | None = None) -> dict[str, Duty]:
        duties = (Duty.model_validate(d) for d in self._records("duties"))
        if org_ids is None:
            return {d.id: d for d in duties}
        wanted = set(org_ids)
        return {d.id: d for d in duties if d.org_id in wanted}

    def get_standards(self) -> dict[str, Standard]:
        return {d["id"]: Standard.model_validate(d) for d in self._records("standards")}

    # ------------------------------------------------------------ summaries
    def counts(self) -> dict[str, int]:
        tables = (*COLUMNS, "tenures")
        return {t: int(self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}

    def date_range(self) -> tuple[int, int] | None:
        self._fresh()
        return self._date_range

    @cached_property
    def _date_range(self) -> tuple[int, int] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'date_range'").fetchone()
        kept = json.loads(row[0]) if row else None
        # computed again when not kept, or kept before a later write (a streamed part, an older rtc)
        fresh = isinstance(kept, dict) and kept.get("generation") == self._imports_written()
        found = kept["range"] if fresh else _date_range_of(self._db)  # type: ignore[index]
        return (found[0], found[1]) if found else None


def _row_counts(file: Path, tables: list[str]) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(file)) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


_log = logging.getLogger("rtc.store")
_INDEX = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+) ON (\w+)")


def _indexes_missing(db: _Locked, schema: list[str]) -> list[str]:
    """The indexes of ``schema`` a store lacks on tables holding rows: made at this open, a
    sort of each table (an empty table's are made at once, and say nothing)."""
    have = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    found = [m.groups() for ddl in schema if (m := _INDEX.match(ddl))]
    return [
        name
        for name, table in found
        if name not in have and table in tables and db.execute(f"SELECT 1 FROM {table} LIMIT 1")
    ]


def _made_aside(make: Callable[..., _T], *args: Any) -> Callable[[], _T]:
    """Start ``make(*args)`` on a thread of its own; the returned function waits for its value
    (or raises its error)."""
    from concurrent.futures import ThreadPoolExecutor  # a load's, not every command's import

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(make, *args)
    pool.shutdown(wait=False)
    return future.result


@contextlib.contextmanager
def _indexes_made_after(db: sqlite3.Connection, table: str | None = None) -> Iterator[None]:
    """Inside a transaction: drop the indexes of ``table`` (of every table when None), then,
    once the rows are in, make them again: a sort each, not millions of random inserts into
    B-trees larger than the page cache."""
    where, params = ("", ()) if table is None else (" AND tbl_name = ?", (table,))
    query = "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    indexes = db.execute(query + where, params).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX main."{name}"')
    yield
    for _, sql in indexes:
        db.execute(sql)


def _copy_in_key_order(db: sqlite3.Connection, schema: str, entity: str) -> None:
    """Inside a transaction: the rows of ``entity`` in the attached database ``schema`` put in
    this store's table, in key order, its indexes made after them."""
    cols = _COLS[entity]
    with _indexes_made_after(db, entity):
        db.execute(f"INSERT INTO main.{entity} ({cols}) SELECT {cols} FROM {schema}.{entity} ORDER BY {_key(entity)}")


# Threads SQLite may add to a sort (``CREATE INDEX``, ``ORDER BY``) beside the connection's
# own: making a province's five largest indexes took 20% less with one (docs/performance.md).
SORT_HELPERS = 1


def _sorts_helped(db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA threads={SORT_HELPERS}")


@contextlib.contextmanager
def _cache_of(db: sqlite3.Connection, mb: int) -> Iterator[None]:
    """SQLite's page cache set to ``mb`` until the block ends."""
    before = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size=-{int(mb) * 1024}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size={int(before)}")


def _log_import(db: sqlite3.Connection, log: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO imports (at, log) VALUES (?, ?)",
        (time.strftime("%Y-%m-%dT%H:%M:%S%z"), json.dumps(log, ensure_ascii=False)),
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _action_columns(db: sqlite3.Connection) -> ActionTable:
    """Every action, by date then id, read into columns a batch of rows at a time: a
    nation's 15 million rows as Python tuples would take gigabytes. Read in the table's
    own order (by id: SQLite sorts nothing), the dates first. ``db``: a connection of its
    own, closed here."""
    try:
        db.execute("BEGIN")  # the count and the rows from one snapshot
        n, width = db.execute("SELECT count(*), max(1, coalesce(max(length(id)), 1)) FROM actions").fetchone()
        dates = db.execute("SELECT date_ord FROM actions ORDER BY id")
        date = np.fromiter(map(itemgetter(0), dates), np.int32, n)
        cursor = db.execute("SELECT id, kind, category, from_org_id, to_org_id, by_org_id FROM actions ORDER BY id")
        table = _columns_of(date, width, iter(functools.partial(cursor.fetchmany, _ACTION_BATCH), []))
        db.execute("COMMIT")
    finally:
        db.close()
    return table


def _batch_action_columns(actions: list[dict[str, Any]]) -> ActionTable:
    """The columns of a store whose only actions are these (its first import), made from the
    rows as ``_action_columns`` would read them back once written."""
    rows = sorted(actions, key=itemgetter("id"))
    date = np.fromiter((to_ordinal(r["date"]) for r in rows), np.int32, len(rows))
    width = max((len(r["id"]) for r in rows), default=1)
    cells = itemgetter("id", "kind", "category", "from_org_id", "to_org_id", "by_org_id")
    batches = ([cells(r) for r in rows[at : at + _ACTION_BATCH]] for at in range(0, len(rows), _ACTION_BATCH))
    return _columns_of(date, width, batches)


def _columns_of(date: np.ndarray, width: int, batches: Iterable[list[tuple[str, ...]]]) -> ActionTable:
    """Columns by date then id, from the dates of every action in id order and then the rows
    themselves in that order, a batch at a time (id, kind, category, from, to, by): a stable
    sort of the dates gives each row its place (ids stay in order within a day: SQLite's
    BINARY order of UTF-8 is numpy's of code points), and the rows are put there as they
    come. Organizations are coded in the order first met."""
    n = len(date)
    order = np.argsort(date, kind="stable")
    place = np.empty(n, np.int64)
    place[order] = np.arange(n)
    ids = np.empty(n, f"U{width}")
    columns = {name: np.empty(n, np.int32) for name in ("from_org", "to_org", "by_org")}
    columns |= {"date": date[order], "kind": np.empty(n, np.int8), "category": np.empty(n, np.int8)}
    del order
    orgs: dict[str, int] = {}
    at = 0
    for rows in batches:
        got, kind, category, frm, to, by = zip(*rows, strict=True)
        end = at + len(rows)
        where = place[at:end]
        ids[where] = got
        columns["kind"][where] = np.fromiter(map(KIND_CODES.__getitem__, kind), np.int8, len(rows))
        columns["category"][where] = np.fromiter(map(CATEGORY_CODES.__getitem__, category), np.int8, len(rows))
        for name, values in (("from_org", frm), ("to_org", to), ("by_org", by)):
            for o in dict.fromkeys(values):
                if o not in orgs:
                    orgs[o] = len(orgs)
            columns[name][where] = np.fromiter(map(orgs.__getitem__, values), np.int32, len(rows))
        at = end
    return ActionTable(ids=ids, orgs=list(orgs), **columns)


def _by_recipient(table: ActionTable) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(table.to_org, kind="stable")
    return order, np.searchsorted(table.to_org[order], np.arange(len(table.orgs) + 1))


def _date_range_of(db: Any) -> list[int] | None:
    """The first and last day the data speaks of: tenures, actions and the dates of cases."""
    bounds = [
        db.execute(
            "SELECT min(start_ord), max(start_ord), max(CASE WHEN end_ord < ? THEN end_ord END) FROM tenures",
            (OPEN_END,),
        ).fetchone(),
        db.execute("SELECT min(date_ord), max(date_ord) FROM actions").fetchone(),
    ]
    values = [v for row in bounds for v in row if v is not None]
    for dates in db.execute('SELECT start, "end", discovered FROM cases'):
        values.extend(to_ordinal(d) for d in dates if d)
    return [min(values), max(values)] if values else None


class _Rows(list[Any]):
    """A fetched result, with the cursor methods the callers use."""

    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return list(self)


class _Locked:
    """A connection shared by threads: each statement runs and is fetched under a lock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.Lock()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        with self._lock:
            return _Rows(self._db.execute(sql, params).fetchall())

    def close(self) -> None:
        self._db.close()


_TENURE_COLUMNS = (
    "id, person_id, position_id, start, end_, start_ord, end_ord, opened_by, open_kind, closed_by, close_kind"
)


def _tenure(r: tuple[Any, ...]) -> Tenure:
    """A stored tenure, not validated again (it was before it was written), with the day
    numbers stored beside it: a nation lookup makes about 40, and validating them and parsing
    their dates again was about 4% of it."""
    return tenure_from_values((r[0], r[1], r[2], r[3], r[4], r[7], r[8], r[9], r[10]), ordinals=(r[5], r[6]))


class _TenureIndex:
    """Tenures as sorted columns, sliced by position or person in O(log n)."""

    def __init__(self, db: _Locked) -> None:
        rows = db.execute(
            f"SELECT {_TENURE_COLUMNS} FROM tenures ORDER BY position_id, start_ord, person_id"
        ).fetchall()
        self.rows = rows
        self.start: list[int] = [r[5] for r in rows]  # lists: a numpy scalar read costs 5x more
        self.end: list[int] = [r[6] for r in rows]
        self.made: list[Tenure | None] = [None] * len(rows)  # tenures are frozen: built once
        self.by_position: dict[str, tuple[int, int]] = {}
        for i, r in enumerate(rows):
            lo, _ = self.by_position.get(r[2], (i, i))
            self.by_position[r[2]] = (lo, i + 1)
        self.by_person: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            self.by_person.setdefault(r[1], []).append(i)
        for idx in self.by_person.values():
            idx.sort(key=lambda i: (rows[i][5], rows[i][2]))

    def _tenure(self, i: int) -> Tenure:
        made = self.made[i]
        if made is None:
            made = self.made[i] = _tenure(self.rows[i])
        return made

    def on_position(self, position_id: str, lo: int, hi: int) -> list[Tenure]:
        span = self.by_position.get(position_id)
        if span is None:
            return []
        start, end = self.start, self.end
        return [self._tenure(i) for i in range(*span) if start[i] < hi and end[i] > lo]

    def of_person(self, person_id: str, lo: int, hi: int) -> list[Tenure]:
        start, end = self.start, self.end
        return [self._tenure(i) for i in self.by_person.get(person_id, ()) if start[i] < hi and end[i] > lo]


__all__ = ["ACTION_KINDS", "EmbeddedStore"]
