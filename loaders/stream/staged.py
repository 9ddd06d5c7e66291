"""A first load written aside (FalkorDB): validated chunks go to a writing process that fills
a staging graph, which takes the target's place when everything was valid and written; duties
and actions are validated in a process of their own meanwhile (``Aside``), as they are in a
first load into the embedded store, which then takes them from that process's scratch."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import loaders.stream.spool as spooling
from graph.factory import open_scratch, open_store
from graph.store import Batch, Store, StoreError, gc_paused
from loaders.load import NothingStored, Report
from loaders.schema import FILES
from loaders.stream.copy import write_parts
from loaders.stream.ids import Ids, Skips, declare_ids
from loaders.stream.orphans import die_with, orphaned
from loaders.stream.overlay import Overlay
from loaders.stream.validate import merge_report, validate_file

# The files validated in a process of its own, beside the others, in a load written aside: they
# refer to organizations (validated before) and to their own records only, and what refers to
# them is optional (a duty's parent: linked when the import settles). Actions are the largest.
ASIDE = ("duties", "actions")
# The files the writer receives before any chunk of ``ASIDE``'s: what those refer to.
BEFORE_ASIDE = ("organizations", "positions")


def drained(
    progress: Callable[[str, int], None] | None, aside: Callable[[], Aside | None]
) -> Callable[[str, int], None] | None:
    """``progress``, also passing on what the load's ``Aside`` (``aside()``, once there is
    one) reported meanwhile."""
    if progress is None:
        return None

    def both(entity: str, rows: int) -> None:
        if (running := aside()) is not None:
            running.pass_on()
        progress(entity, rows)

    return both


class Aside:
    """Files (``ASIDE``) validated in a forked process while this one validates the others,
    for a first load, so validation uses two cores. It is forked when the load starts and
    declares the ids of its files (and of the files they refer to) in an ids file of its own
    while this process declares the others' (at nation scale each side reads about 20 million
    rows). It then waits for ``release``. Its report is merged into the load's when it ends.

    What it validated goes either to the same writing process as the rest, after the
    organizations they refer to (given a ``Stager``: a load written aside), or into a
    scratch store of its own, whose rows the load's scratch takes once everything was valid
    (``Scratch.take_rows``: a first load into the embedded store).

    It reads nothing from this process's scratch store: what it validated is kept in its own
    (given a ``Stager``, lean: the records of a file where an id repeats) and the target holds
    nothing. An invalid row anywhere fails the load, as it does in one process; when the files
    validated before its own (``BEFORE_ASIDE``) were invalid, it does not validate its own at
    all. It does not outlive the load: killed with it (``SIGKILL`` too), it stops, and lets go
    of the store's import lock and the working folder it inherited."""

    @staticmethod
    def wanted(files: dict[str, Path], report: Report) -> dict[str, Path]:
        """The files to validate aside: those there; none when a file was missing or
        unreadable, or processes cannot be forked (the process inherits what this one read)."""
        if "fork" not in multiprocessing.get_all_start_methods() or not report.ok:
            return {}
        return {e: files[e] for e in ASIDE if e in files}

    def __init__(
        self,
        files: dict[str, Path],
        everything: dict[str, Path],
        stager: Stager | None,
        folder: Path,
        url: str,
        report: Report,
        chunk_rows: int,
        progress: Callable[[str, int], None] | None,
        skip: Skips | None = None,
    ) -> None:
        """``files``: those to validate aside; ``everything``: the load's (those they refer to
        are declared there too); ``stager``: the writer, or none: what was valid is kept in a
        scratch store (``kept``); ``folder``: where it works, inside the load's working folder
        (removed with it, or by the next load's sweep: see ``workdir``); ``url``: the
        target's; ``skip``: rows a tolerant load set aside."""
        context: Any = multiprocessing.get_context("fork")
        self.results = context.Queue()
        self.go_box = context.Queue()
        self.progress_box = context.Queue() if progress else None
        self.files = files
        self.kept = None if stager else folder / "scratch"
        referred = {col.ref for entity in files for col in FILES[entity] if col.ref}
        declared = {e: p for e, p in everything.items() if e in files or e in referred}
        sends = (stager.inbox, stager.spool) if stager else None
        args = (files, declared, sends, folder, url, report, chunk_rows, skip or {})
        boxes = (self.go_box, self.results, self.progress_box)
        self.process = context.Process(target=self._run, args=(*args, os.getpid(), *boxes), daemon=True)
        self.process.start()
        self.progress = progress
        self.released = False

    def release(self, *, go: bool) -> None:
        """Let the process validate its files (once): ``go`` False (a row so far was invalid)
        makes it stop instead, with an empty report."""
        if not self.released:
            self.go_box.put(go)
            self.released = True

    @staticmethod
    def _run(
        files: dict[str, Path],
        declared: dict[str, Path],
        sends: tuple[Any, Path] | None,
        folder: Path,
        url: str,
        report: Report,
        chunk_rows: int,
        skip: Skips,
        parent: int,
        go_box: Any,
        results: Any,
        progress_box: Any,
    ) -> None:
        try:
            die_with(parent)
            started = time.perf_counter()
            part = Report(source=report.source, max_errors=report.max_errors)
            folder.mkdir()
            ids = Ids(folder / "ids.sqlite3")
            declare_ids(declared, ids, skip)
            part.lap("ids", started)
            if _received(go_box, parent):  # ``release``'s word
                # a scratch that is kept receives every record (not lean), with a cache for it
                scratch = open_scratch(folder / "scratch", cache_mb=8 if sends else KEPT_CACHE_MB)
                overlay = Overlay(scratch, NothingStored(url), ids, lean=sends is not None)
                sender = Sender(*sends) if sends else None

                def tick(entity: str, rows: int) -> None:
                    orphaned(parent)
                    if progress_box is not None:
                        progress_box.put((entity, rows))

                for entity, path in files.items():
                    validate_file(entity, path, overlay, scratch, part, chunk_rows, tick, sender, skip)
                scratch.settle_deferred()
                scratch.close()
            ids.close()
            results.put(("done", part))
        except BaseException as exc:
            results.put(("error", f"{type(exc).__name__}: {exc}"))

    def pass_on(self) -> None:
        """Give ``progress`` what the process reported since the last call."""
        while self.progress and self.progress_box is not None:
            try:
                self.progress(*self.progress_box.get_nowait())
            except queue.Empty:
                return

    def join(self, report: Report) -> None:
        """Wait for the files' validation to end, and merge its report into ``report``."""
        while True:
            try:
                status, detail = self.results.get(timeout=1)
                break
            except queue.Empty:
                if not self.process.is_alive():
                    status, detail = "error", f"it ended with exit code {self.process.exitcode}"
                    break
        self.process.join()
        self.pass_on()
        if status != "done":
            raise StoreError(f"validating {', '.join(self.files)} in a process of its own failed: {detail}")
        merge_report(report, detail)

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# The page cache of the scratch store that keeps what ``Aside`` validated: its actions are
# appended in key order, so a small one serves.
KEPT_CACHE_MB = 64


def _received(box: Any, parent: int) -> Any:
    """The next message in ``box`` (a queue), waited for while the parent lives."""
    while True:
        try:
            return box.get(timeout=1)
        except queue.Empty:
            orphaned(parent)


class Sender:
    """``Stager.send`` for ``Aside``'s process: into the same queue and spool (the writing
    process is the parent's child, watched by the parent)."""

    def __init__(self, inbox: Any, spool: Path) -> None:
        self.inbox, self.spool = inbox, spool

    def send(self, entity: str, batch: Batch) -> None:
        self.inbox.put((entity, spooling.spooled(self.spool, batch)))


class _Aborted(Exception):
    """The load stopped (an invalid row, or an error in the loading process)."""


_DONE, _ABORT = ".", "!"  # validation has finished / stopped


def _copy_worker(url: str, password: str | None, log: dict[str, Any], inbox: Any, outbox: Any, parent: int) -> None:
    """The writing side of ``Stager``, in a process of its own: each valid chunk's batch,
    received in the order validated, is written into the staging graph. It ends with the load
    (``die_with``): waiting for a chunk, it would otherwise outlive a load killed with
    SIGKILL, holding the working folder's lock it inherited."""
    try:
        die_with(parent)
        target = open_store(url, password=password)

        def parts() -> Iterator[tuple[str, Callable[[], Batch]]]:
            while (message := _received(inbox, parent)) != _DONE:
                if message == _ABORT:
                    raise _Aborted
                entity, path = message
                yield entity, reader.submit(spooling.unspooled, path).result

        # The next part is read (``write_parts`` takes it before it writes one, to know the
        # last) in a thread while this one waits for the server (docs/performance.md).
        with gc_paused(), ThreadPoolExecutor(max_workers=1) as reader:
            written = write_parts(target, parts(), log)
        outbox.put(("done", written))
    except _Aborted:
        outbox.put(("aborted", 0))
    except BaseException as exc:  # the parent reports it (and deletes the staging graph)
        outbox.put(("error", f"{type(exc).__name__}: {exc}"))


class Stager:
    """The write side of a first load into a server that can rename a graph (FalkorDB).

    Each valid chunk goes, as the batch validation made of it, to a process of its own that
    writes it into a new staging graph while the next chunk is validated: validation (this
    process) and writing (that one, and the server) run on different cores instead of one
    after the other, and the scratch store is not read back. Up to ``SPOOLED`` chunks wait
    for the writer, each in a file of a spool directory (the queue carries their paths), so
    validation runs ahead when writing is the slower side, in bounded memory. When
    everything is valid and written, the staging graph takes the target's place
    (``FalkorStore.adopt``: a rename, if the target still holds nothing). An invalid row or
    a failed write deletes the staging graph: the target is left as it was, empty, which is
    stricter than the sequential copy (whose rerun completes a failed one).
    """

    def __init__(self, store: Any, staging: tuple[str, str | None], log: dict[str, Any], spool: Path) -> None:
        """``spool``: a folder to make, inside the load's working folder (removed with it, or by
        the next load's sweep: see ``workdir``)."""
        self.store = store
        self.url, password = staging
        # Forked, and early (the load holds little yet): a spawned process would import the
        # caller's main module again, which a script without a __main__ guard does not survive.
        # The child opens its own connections and uses none of the parent's.
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        spool.mkdir()
        self.spool = spool
        self.inbox, self.outbox = context.Queue(maxsize=spooling.SPOOLED), context.Queue()
        args = (self.url, password, log, self.inbox, self.outbox, os.getpid())
        self.process = context.Process(target=_copy_worker, args=args, daemon=True)
        self.process.start()
        self.adopted = False

    def send(self, entity: str, batch: Batch) -> None:
        message = (entity, spooling.spooled(self.spool, batch))
        while True:  # blocks while the writer is SPOOLED chunks behind; a dead writer is noticed
            try:
                self.inbox.put(message, timeout=1)
                return
            except queue.Full:
                if not self.process.is_alive():
                    raise StoreError(self._failure(self._result()[1])) from None

    def finish(self, report: Report) -> None:
        """Wait for the last writes, then put the staging graph in the target's place."""
        self.inbox.put(_DONE)
        status, detail = self._result()
        if status != "done":
            raise StoreError(self._failure(detail))
        self.store.adopt(self.url)
        self.adopted = True
        report.written = bool(detail)

    def _failure(self, detail: Any) -> str:
        return f"the load into {self.store.url} failed while writing, and nothing was applied: {detail}"

    def _result(self) -> tuple[str, Any]:
        while True:
            try:
                result: tuple[str, Any] = self.outbox.get(timeout=1)
                return result
            except queue.Empty:
                if not self.process.is_alive():
                    return "error", f"the writing process ended with exit code {self.process.exitcode}"

    def close(self) -> None:
        """Stop the writing process if it still runs, and delete the staging graph unless adopted."""
        if self.process.is_alive():
            with contextlib.suppress(queue.Full):
                self.inbox.put(_ABORT, timeout=5)
            self.process.join(timeout=30)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        shutil.rmtree(self.spool, ignore_errors=True)
        if not self.adopted:
            # A server that is gone keeps the graph; the next staged load deletes it. The error
            # that brought the load here is the one to report, not this one.
            with contextlib.suppress(Exception):
                self.store.drop_staging(self.url)


def staging_for(store: Store, reads: Any) -> tuple[str, str | None] | None:
    """Where to write a load aside: for a first load (the target holds nothing) into a store
    that can put another graph in its place (``Store.staging``; none on Neo4j)."""
    first_load = isinstance(reads, NothingStored)
    return store.staging() if store.capabilities.staged_first_load and first_load else None
