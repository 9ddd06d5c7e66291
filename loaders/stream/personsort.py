"""An external merge sort of the personnel files' rows by person, in bounded memory."""

from __future__ import annotations

import contextlib
import heapq
import marshal
import multiprocessing
import operator
import os
import pickle
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from graph.store import StoreError
from loaders.stream.ids import batched
from loaders.stream.orphans import die_with

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
Chunk = list[list[tuple[int, str | bytes]]]  # by file number: row, the row as it waits


class PersonSort:
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
                self.flush()
        return seen

    def flush(self) -> None:
        """The rows added since the last run's, sorted into a run of their own."""
        if not self.run:
            return
        self.run.sort(key=operator.itemgetter(0))  # stable: a run comes in file and row order
        self.runs.append(self._write(self.run))
        self.run = []

    def _write(self, entries: Iterable[_Entry]) -> Path:
        path = self.folder / f"run{uuid.uuid4().hex}"
        with path.open("wb") as f:
            for block in batched(entries, _RUN_BLOCK):
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
        self.flush()
        runs = self.runs
        while len(runs) > _MERGE_RUNS:  # (person, file, row) is unique: no run's order matters
            runs = [
                self._write(heapq.merge(*map(self._read, runs[i : i + _MERGE_RUNS])))
                for i in range(0, len(runs), _MERGE_RUNS)
            ]
        return heapq.merge(*map(self._read, runs))

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        """Every row added, in order, in chunks of whole persons of ``chunk_rows`` rows or more
        (a chunk ends between two persons; the last may hold fewer): each chunk's rows by file
        number, as (row number, the row as it waits)."""
        waiting: Chunk = [[] for _ in self.headers]
        size, person = 0, None
        for who, number, n, packed in self.sorted():
            if who != person and size >= chunk_rows:
                yield waiting
                waiting, size = [[] for _ in self.headers], 0
            person = who
            waiting[number].append((n, packed))
            size += 1
        if size:
            yield waiting

    def row(self, number: int, packed: str | bytes) -> dict[str, Any]:
        if isinstance(packed, bytes):
            made: dict[str, Any] = marshal.loads(packed)
            return made
        return dict(zip(self.headers[number], packed.split(_SEP), strict=True))


Fill = Callable[[], tuple[PersonSort, Any]]  # a spill filled, and what else was made


class SortedAside:
    """A spill filled by ``fill`` and merged into chunks of whole persons
    (``PersonSort.chunks``) in a forked process, started now: the spill reads the personnel
    files while the load declares ids and validates what comes before them, and the merge runs
    while the load validates the chunk before. Both are pure Python, and on a nation the spill
    alone took 156 s of the load's own process (docs/performance.md). The chunks come through a
    pipe in marshal's format. The process dies with the load (``orphans``). Where processes
    cannot be forked, both happen here, when asked."""

    def __init__(self, fill: Fill, chunk_rows: int) -> None:
        """``fill``: the spill filled, and what else it made (picklable), as ``filled`` gives."""
        self.fill, self.chunk_rows = fill, chunk_rows
        self.spill: PersonSort | None = None
        self.process: Any = None
        if "fork" in multiprocessing.get_all_start_methods():
            context: Any = multiprocessing.get_context("fork")
            self.receive, send = context.Pipe(duplex=False)
            args = (fill, chunk_rows, (self.receive, send), os.getpid())
            self.process = context.Process(target=_sort_aside, args=args, daemon=True)
            self.process.start()
            send.close()  # the child's end only: its death then reads as the end of the pipe

    def filled(self) -> tuple[PersonSort, Any]:
        """The spill (its rows read back with ``row``; merged only by ``chunks``), and what
        else ``fill`` made: waited for."""
        if self.process is None:
            self.spill, made = self.fill()
            return self.spill, made
        self.spill, made = pickle.loads(self._next())
        return self.spill, made

    def chunks(self) -> Iterator[Chunk]:
        """``PersonSort.chunks`` of the spill, after ``filled``."""
        assert self.spill is not None, "filled() first"
        if self.process is None:
            yield from self.spill.chunks(self.chunk_rows)
            return
        while (chunk := self._next()) is not None:
            yield chunk

    def _next(self) -> Any:
        try:
            kind, body = marshal.loads(self.receive.recv_bytes())
        except EOFError:  # it died
            self.process.join(5)
            kind, body = "error", f"it ended with exit code {self.process.exitcode}"
        if kind == "error":
            raise StoreError(f"sorting the personnel files' rows by person in a process of its own failed: {body}")
        return None if kind == "done" else body

    def close(self) -> None:
        if self.process is not None:
            self.receive.close()
            if self.process.is_alive():
                self.process.kill()
            self.process.join()


def _sort_aside(fill: Fill, chunk_rows: int, ends: tuple[Any, Any], parent: int) -> None:
    receive, send = ends
    try:
        receive.close()  # the parent's end only: its death then fails a write
        die_with(parent)
        spill, made = fill()
        spill.flush()  # what it sends is the spill's files, not rows in memory
        send.send_bytes(marshal.dumps(("filled", pickle.dumps((spill, made)))))
        for chunk in spill.chunks(chunk_rows):
            send.send_bytes(marshal.dumps(("chunk", chunk)))
        send.send_bytes(marshal.dumps(("done", None)))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            send.send_bytes(marshal.dumps(("error", f"{type(exc).__name__}: {exc}")))
