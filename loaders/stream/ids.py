"""Every id a streamed load's files declare: kept on disk for the entities other files refer
to, and for the others only whether an id repeats (hashes in buckets on disk)."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import numpy as np

from loaders.readers import FileProblem, read_column
from loaders.schema import FILES, header_map

# Rows a tolerant streamed load sets aside, by file name: every pass reads past them.
Skips = Mapping[str, AbstractSet[int]]

_SQL_CHUNK = 900


def batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


# Entities whose ids other files refer to: their ids are kept to be looked up. Of the others
# (changes, actions, accountability) only whether an id repeats is wanted (``Repeats``).
REFERRED = {col.ref for cols in FILES.values() for col in cols if col.ref}


class Ids:
    """Every id the import's files declare, per entity, in a SQLite file, for the entities
    other files refer to (``REFERRED``; ``known``); of the others, whether an id repeats."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE ids (entity TEXT, id TEXT, PRIMARY KEY (entity, id)) WITHOUT ROWID")
        self.repeated: set[str] = set()  # entities with an id declared more than once (or two with one hash: Repeats)
        self.unreferred: dict[str, Repeats] = {}

    def add(self, entity: str, ids: Iterable[str]) -> None:
        if entity not in REFERRED:
            if entity not in self.unreferred:
                self.unreferred[entity] = Repeats(self.path.parent / f"repeats-{entity}")
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


class Repeats:
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


def declare_ids(files: dict[str, Path], ids: Ids, skip: Skips | None = None) -> None:
    """Every id the files declare (``skip``: rows set aside by a tolerant load, by file name,
    declare nothing: a reference to one is then unknown)."""
    for entity, path in files.items():
        if not any(col.name == "id" for col in FILES[entity]):
            continue
        names = {h for h, name in header_map(entity).items() if name == "id"}
        try:  # a file without the column: pass 1 reports it
            for chunk in batched(read_column(path, names, (skip or {}).get(path.name, frozenset())), 50_000):
                ids.add(entity, chunk)
        except FileProblem:
            continue  # pass 1 reports it, with its place
    ids.settle()
