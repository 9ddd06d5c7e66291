"""An external merge sort of the personnel files' rows by person, in bounded memory."""

from __future__ import annotations

import contextlib
import heapq
import marshal
import multiprocessing
import operator
import os
import uuid
from collections.abc import Generator, Iterable, Iterator
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
                self._flush()
        return seen

    def _flush(self) -> None:
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
        if self.run:
            self._flush()
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


def chunks_aside(spill: PersonSort, chunk_rows: int) -> Generator[Chunk, None, None]:
    """``spill.chunks(chunk_rows)``, merged in a forked process and passed through a pipe (in
    marshal's format) while the load's process validates the chunk before: the merge is pure
    Python, and in a first load the second core is otherwise idle by then (the duties and
    actions validated aside end first: docs/performance.md). It dies with the load
    (``orphans``). Where processes cannot be forked, merged here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from spill.chunks(chunk_rows)
        return
    context: Any = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    ends = (receive, send)
    process = context.Process(target=_send_chunks, args=(spill, chunk_rows, ends, os.getpid()), daemon=True)
    process.start()
    send.close()  # the child's end only: its death then reads as the end of the pipe
    try:
        while True:
            try:
                kind, body = marshal.loads(receive.recv_bytes())
            except EOFError:  # it died
                process.join(5)
                kind, body = "error", f"it ended with exit code {process.exitcode}"
            if kind == "done":
                return
            if kind == "error":
                raise StoreError(f"merging the personnel files' rows by person in a process of its own failed: {body}")
            yield body
    finally:
        receive.close()
        if process.is_alive():
            process.kill()
        process.join()


def _send_chunks(spill: PersonSort, chunk_rows: int, ends: tuple[Any, Any], parent: int) -> None:
    receive, send = ends
    try:
        receive.close()  # the parent's end only: its death then fails a write
        die_with(parent)
        for chunk in spill.chunks(chunk_rows):
            send.send_bytes(marshal.dumps(("chunk", chunk)))
        send.send_bytes(marshal.dumps(("done", None)))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            send.send_bytes(marshal.dumps(("error", f"{type(exc).__name__}: {exc}")))
