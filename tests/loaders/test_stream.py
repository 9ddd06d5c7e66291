"""The streaming loader: the store the in-memory loader gives, in bounded chunks; a failed
write completed by running the load again."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graph.backends.cypher import statements as cypher
from graph.backends.embedded.store import COLD_READS, DB_FILE
from graph.factory import open_scratch, open_store
from graph.model import OPEN_END, to_ordinal
from graph.store import Batch, Capabilities, Store, StoreError
from loaders.load import load_dataset
from loaders.readers import FileProblem, read_rows
from loaders.stream import ids as id_index
from loaders.stream import personsort, spool, stream_dataset, wants_streaming, workdir
from loaders.stream.overlay import Overlay
from tests.helpers import snapshot, write_csv


def test_streamed_in_small_chunks_equals_in_memory(tiny_dataset: Path, tmp_path: Path) -> None:
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    streamed = open_store(f"embedded://{tmp_path / 'streamed'}")
    report = stream_dataset(streamed, tiny_dataset, chunk_rows=97)
    assert report.ok and report.written and report.tenures_derived > 0
    assert snapshot(streamed) == snapshot(reference)
    again = stream_dataset(streamed, tiny_dataset, chunk_rows=97)  # idempotent: nothing new
    assert again.ok and not again.written
    assert all(c["new"] == 0 for c in again.counts.values())
    parts = [entry["entity"] for entry in streamed.import_log(limit=100)]
    assert sorted(parts) == sorted(e for e, n in reference.counts().items() if n)  # a part per table
    with pytest.raises(StoreError, match="only into an empty one"):
        streamed.take_scratch(tmp_path / "reference", {})


def test_a_first_load_into_a_store_never_written_takes_the_scratchs_pages(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a store nothing was ever imported into, the scratch's pages are copied (SQLite's
    backup) instead of its rows: the same store, one import-log part per table, the same file
    (a reader opened before sees the data), the date range kept; a store with an import in its
    log (an empty one) gets the row copy, and keeps that entry, as does a file whose pages differ
    from the scratch's (the backup cannot copy into it)."""
    from graph.backends.embedded.store import EmbeddedStore

    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    adopted: list[str] = []
    real = EmbeddedStore._adopt_pages
    monkeypatch.setattr(EmbeddedStore, "_adopt_pages", lambda s, *a: adopted.append(s.url) or real(s, *a))
    reads: list[str] = []  # the store reading its own action columns back (the copied pages' are read meanwhile)
    read_back = EmbeddedStore._read_action_columns
    monkeypatch.setattr(EmbeddedStore, "_read_action_columns", lambda s: reads.append(s.url) or read_back(s))
    for name in ("never-written", "logged-once", "other-pages"):
        url = f"embedded://{tmp_path / name}"
        if name == "other-pages":  # a file made with other pages than the scratch's: rows copied
            (tmp_path / name).mkdir()
            with contextlib.closing(sqlite3.connect(tmp_path / name / DB_FILE)) as made:
                made.execute("PRAGMA page_size = 8192")
                made.execute("VACUUM")
        store = open_store(url)
        if name == "logged-once":
            store.write(Batch(), log={"source": "an empty import"})
        reader = open_store(url)
        assert reader.counts()["actions"] == 0
        reads.clear()
        report = stream_dataset(store, tiny_dataset, chunk_rows=97)
        assert report.ok and report.written
        assert adopted == [f"embedded://{tmp_path / 'never-written'}"]
        assert reads == ([] if name == "never-written" else [url])
        pages = 8192 if name == "other-pages" else 4096
        with contextlib.closing(sqlite3.connect(tmp_path / name / DB_FILE)) as made:
            assert made.execute("PRAGMA page_size").fetchone()[0] == pages
        assert snapshot(store) == snapshot(reference) and _indexes(store) == _indexes(reference)
        log = store.import_log(limit=100)
        parts = [entry["part"] for entry in log if "part" in entry]
        assert sorted(parts) == list(range(1, len(parts) + 1))
        assert {e["entity"]: e["rows"] for e in log if "part" in e} == {
            e: n for e, n in reference.counts().items() if n
        }
        assert len(log) == len(parts) + (name == "logged-once")
        reader.ping()  # the same file: no "deleted or replaced while open"
        assert reader.counts() == reference.counts() and reader.date_range() == reference.date_range()
        assert open_store(url).date_range() == reference.date_range()  # kept with the import
        fresh = open_store(url)  # the action columns' snapshot (read from the scratch as it was copied) is mapped
        assert (fresh.path / f"actions.{fresh._imports_written()}").is_dir()
        mapped, read = fresh._action_index, fresh._read_action_columns()
        assert isinstance(mapped.ids.base, np.memmap) and list(mapped.orgs) == list(read.orgs)
        for column in ("ids", "date", "kind", "category", "from_org", "to_org", "by_org"):
            assert np.array_equal(getattr(mapped, column), getattr(read, column)), column


def test_action_columns_unread_from_the_scratch_are_read_from_the_store(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the scratch's action columns beside the page copy failed: the load still
    completes, and the store reads its own columns (the snapshot) instead."""
    from graph.backends.embedded import store as embedded

    def broken(db: sqlite3.Connection) -> Any:
        db.close()
        raise sqlite3.OperationalError("disk I/O error")

    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    real = embedded._action_columns
    monkeypatch.setattr(embedded, "_action_columns", broken)
    store = open_store(f"embedded://{tmp_path / 'store'}")
    monkeypatch.setattr(embedded.EmbeddedStore, "_read_action_columns", lambda s: real(s._connect()))
    assert stream_dataset(store, tiny_dataset).ok
    assert snapshot(store) == snapshot(reference)
    assert len(open_store(store.url)._action_index) == reference.counts()["actions"]


def test_changes_a_scratch_defers_wait_unread_then_go_in_whole(tiny_dataset: Path, tmp_path: Path) -> None:
    """A scratch store's deferred changes: written in any order, not read until settled, then
    all in their table with its index, and the waiting file gone. The loader defers them only
    when no change id repeats (a repeat is read back from the scratch)."""
    from graph.backends.embedded.store import WAITING_FILE

    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    changes = sorted(reference.export("changes"), key=lambda c: c["id"], reverse=True)
    persons = sorted({c["person_id"] for c in changes})
    scratch = open_scratch(tmp_path / "scratch", cache_mb=8)
    scratch.defer("changes")
    for part in (changes[: len(changes) // 2], changes[len(changes) // 2 :]):
        scratch.write(Batch(rows={"changes": part}, settles_import=False), log={})
        assert scratch.personnel_records(persons) == ([], []) and scratch.counts()["changes"] == 0
    assert (tmp_path / "scratch" / WAITING_FILE).exists()
    scratch.settle_deferred()
    assert not (tmp_path / "scratch" / WAITING_FILE).exists()
    assert sorted(scratch.export("changes"), key=lambda c: c["id"]) == changes[::-1]
    assert len(scratch.personnel_records(persons)[1]) == len(changes)
    assert "changes_whole" in _indexes(scratch)
    ids = id_index.Ids(tmp_path / "ids.sqlite3")
    for repeated, lean, deferred in ((set(), False, ["changes"]), ({"changes"}, False, []), (set(), True, [])):
        ids.repeated = repeated
        fresh = open_scratch(tmp_path / f"scratch-{repeated}-{lean}", cache_mb=8)
        Overlay(fresh, reference, ids, lean=lean)
        assert fresh._waiting == deferred  # type: ignore[attr-defined]
        fresh.close()


def test_the_date_range_is_computed_once_a_load_not_once_a_chunk(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch store never reads its date range: computing it at every chunk scanned all
    the chunks before (at nation scale, quadratic)."""
    from graph.backends.embedded import store as embedded

    scans: list[int] = []
    real = embedded._date_range_of
    monkeypatch.setattr(embedded, "_date_range_of", lambda db: scans.append(1) or real(db))
    for target in ("first", "second"):  # copied at once, then part by part into a store with data
        store = open_store(f"embedded://{tmp_path / 'store'}")
        (tmp_path / "later").mkdir(exist_ok=True)
        folder = tiny_dataset if target == "first" else tmp_path / "later"
        if target == "second":
            org = sorted(store.get_organizations())[1]
            parent = store.get_organizations([org])[org].parent_id
            (folder / "actions.csv").write_text(
                f"id,date,kind,from_org_id,to_org_id,category\nA-late,2031-05-01,meeting,{parent},{org},discipline\n",
                encoding="utf-8",
            )
        scans.clear()
        assert stream_dataset(store, folder, chunk_rows=50).ok
        assert len(scans) == 1, target
    assert store.date_range() is not None and store.date_range()[1] == to_ordinal("2031-05-01")


def test_each_chunk_reads_the_stored_tenures_of_its_posts_without_indexing_them_all(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    url = f"embedded://{tmp_path / 'target'}"
    reference = open_store(url)
    assert load_dataset(reference, tiny_dataset).ok
    target = open_store(url)  # a fresh process's: nothing built
    overlay = Overlay(open_scratch(tmp_path / "scratch", cache_mb=8), target, id_index.Ids(tmp_path / "ids.sqlite3"))
    positions = sorted(reference.get_positions())[: COLD_READS + 8]  # more chunks than cold reads
    for p in positions:
        assert overlay.tenures_overlapping([(p, 0, OPEN_END)]) == reference.tenures(position_ids=[p])
    assert "_tenure_index" not in target.__dict__  # a nation's would not fit in memory


@pytest.mark.parametrize("fail_at", ["persons", "tenures"])  # a person's changes go with their tenures
def test_a_write_that_fails_midway_is_completed_by_loading_again(
    store: Store, tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    """The copy fails at the first part of an entity (of the tenures, which carry the changes:
    after some were written); loading again gives exactly the store a single load gives. The
    embedded store keeps nothing of the failed load; a server keeps the parts it applied."""
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    real_write, calls = store.write, []

    def failing(batch: Batch, *, log: dict[str, Any]) -> None:
        calls.append(log["entity"])
        if calls.count(fail_at) == (2 if fail_at == "tenures" else 1):
            raise RuntimeError("the server went away")
        real_write(batch, log=log)

    def failing_settle(db: Any) -> None:  # after every table was copied, in the transaction
        raise RuntimeError("the disk went away")

    if store.capabilities.takes_scratch:  # a first load: the scratch's tables copied at once
        monkeypatch.setattr(store, "_settle", failing_settle)
    else:
        monkeypatch.setattr(store, "write", failing)
    with pytest.raises(RuntimeError, match="went away"):
        stream_dataset(store, tiny_dataset, chunk_rows=200, stage=False)
    monkeypatch.undo()
    if store.url.startswith("embedded://"):  # one transaction: nothing stays, the dropped indexes are back
        assert set(store.counts().values()) == {0}
        assert _indexes(store) == _indexes(reference)
    else:  # a server applies part by part
        assert store.counts()["organizations"] > 0 and store.counts() != reference.counts()
    report = stream_dataset(store, tiny_dataset, chunk_rows=200)
    assert report.ok, report.errors[:3]
    assert store.counts() == reference.counts()
    assert snapshot(store) == snapshot(reference)
    if store.url.startswith("embedded://"):  # the copy dropped the indexes, and made them again
        assert _indexes(store) == _indexes(reference)


def _indexes(store: Store) -> list[str]:
    with contextlib.closing(sqlite3.connect(Path(store.url.removeprefix("embedded://")) / DB_FILE)) as db:
        return sorted(n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))


@pytest.mark.parametrize("streamed", [False, True])
def test_an_import_that_failed_as_it_settled_is_completed_with_nothing_new(
    falkordb_server: tuple[str, int], tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    """Every record was stored, but the import failed as it settled (the server went away):
    loading again finds nothing new, and still completes it (``Store.unfinished``)."""
    store = _falkordb(falkordb_server)
    load = functools.partial(stream_dataset, chunk_rows=300, stage=False) if streamed else load_dataset
    real = store.transport.write  # type: ignore[attr-defined]

    def write(query: str, params: dict[str, Any] | None = None) -> Any:
        if query == cypher.SET_DATE_RANGE:
            raise ConnectionError("the server went away")
        return real(query, params)

    monkeypatch.setattr(store.transport, "write", write)  # type: ignore[attr-defined]
    with pytest.raises(ConnectionError):
        load(store, tiny_dataset)
    monkeypatch.undo()
    assert store.unfinished()
    report = load(store, tiny_dataset)
    assert report.ok and report.written and not any(c.get("new") for c in report.counts.values())
    assert not store.unfinished()
    statuses = [s for (s,) in store.transport.read("MATCH (i:Import) RETURN i.status ORDER BY i.seq")]  # type: ignore[attr-defined]
    assert statuses[-2:] == ["failed", "done"]


def test_stream_only_large_folders_into_a_server_store(tiny_dataset: Path, tmp_path: Path) -> None:
    embedded = open_store(f"embedded://{tmp_path / 's'}")
    assert not wants_streaming(embedded, tiny_dataset, above_mb=0)

    class Server:
        url = "falkordb://h:1/g"
        capabilities = Capabilities(in_process=False, staged_first_load=True)

    assert wants_streaming(Server(), tiny_dataset, above_mb=0)  # type: ignore[arg-type]
    assert not wants_streaming(Server(), tiny_dataset, above_mb=1000)  # type: ignore[arg-type]


def test_streamed_reading_finds_a_bad_byte_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    path.write_bytes(b"id,name\n" + "p1,张伟\n".encode() * 200_000 + b"p2,\xff\xfe\n")
    header, rows = read_rows(path, stream=True)
    assert header == ["id", "name"]
    with pytest.raises(FileProblem) as problem:
        for _ in rows:
            pass
    assert problem.value.rule == "encoding"
    write_csv(tmp_path / "gb.csv", [{"id": "p1", "name": "张伟"}], encoding="gb18030")
    assert [r for _, r in read_rows(tmp_path / "gb.csv", stream=True)[1]] == [{"id": "p1", "name": "张伟"}]


@pytest.mark.parametrize("file", ["positions", "changes"])
def test_a_malformed_row_in_a_later_chunk_is_reported_where_it_is_and_applies_nothing(
    tiny_dataset: Path, tmp_path: Path, file: str
) -> None:
    """A chunk is read as it is validated: a row that cannot be read, after chunks were
    validated, fails the load with its place, and nothing is written; the chunks before it
    are counted as read."""
    folder = tmp_path / "bad"
    shutil.copytree(tiny_dataset, folder)
    path = folder / f"{file}.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    k = len(lines) - 3  # the bad row is line k + 1 of the file, well after the first chunk
    path.write_bytes(b"".join(lines[:k]) + b"X\n" + b"".join(lines[k:]))
    store = open_store(f"embedded://{tmp_path / 'store'}")
    report = stream_dataset(store, folder, chunk_rows=40)
    assert not report.ok and not report.written
    assert [(e.file, e.row, e.rule) for e in report.errors] == [(path.name, k + 1, "malformed-csv")]
    if file == "positions":  # (the personnel files are spilled whole before any is validated)
        assert k - 1 > 40 and report.counts["positions"]["read"] == (k - 1) // 40 * 40
    assert not any(store.counts().values())


def _graphs(store: Store) -> set[str]:
    return set(store.transport._db.list_graphs())  # type: ignore[attr-defined]


def _falkordb(falkordb_server: tuple[str, int]) -> Store:
    host, port = falkordb_server
    return open_store(f"falkordb://{host}:{port}/s{uuid.uuid4().hex[:10]}")


def test_a_first_load_is_written_aside_and_then_put_in_place(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    store = _falkordb(falkordb_server)
    adopted: list[str] = []
    real_adopt = store.adopt  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "adopt", lambda url: (adopted.append(url), real_adopt(url))[1])
    report = stream_dataset(store, tiny_dataset, chunk_rows=150)  # several chunks of each large file
    assert report.ok and report.written, report.errors[:3]
    assert len(adopted) == 1 and ".staging." in adopted[0]
    assert snapshot(store) == snapshot(reference)
    assert not [g for g in _graphs(store) if ".staging." in g]
    assert len(store.import_log(1000)) > 10  # each chunk its own part, in the graph's log
    again = stream_dataset(store, tiny_dataset, chunk_rows=150)  # not a first load: compared, nothing new
    assert again.ok and not again.written


def test_an_invalid_row_late_in_a_first_load_applies_nothing(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path
) -> None:
    """Chunks before the bad row were written aside already: they are thrown away."""
    folder = tmp_path / "bad"
    shutil.copytree(tiny_dataset, folder)
    with (folder / "accountability.csv").open("a", encoding="utf-8") as f:
        f.write("X-1,NO-SUCH-CASE,NO-SUCH-PERSON,criticism,2020-01-01\n")
    store = _falkordb(falkordb_server)
    report = stream_dataset(store, folder, chunk_rows=150)
    assert not report.ok and not report.written
    assert any("NO-SUCH-CASE" in str(e) for e in report.errors)
    assert not any(store.counts().values())
    assert not [g for g in _graphs(store) if ".staging." in g]


def test_duties_and_actions_validated_aside_report_their_errors_and_progress(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path
) -> None:
    """A first load written aside validates duties and actions in a process of their own
    (``staged.Aside``): an invalid action is reported with its place, nothing is applied, and the
    progress callback still hears of every duty and action row."""
    folder = tmp_path / "bad"
    shutil.copytree(tiny_dataset, folder)
    with (folder / "actions.csv").open("a", encoding="utf-8") as f:
        f.write("A-BAD,2020-01-01,meeting,NO-SUCH-ORG,NO-SUCH-ORG,discipline,\n")
    rows = sum(1 for _ in (folder / "actions.csv").open(encoding="utf-8")) - 1
    duties = sum(1 for _ in (folder / "duties.csv").open(encoding="utf-8")) - 1
    seen: dict[str, int] = {}
    store = _falkordb(falkordb_server)
    report = stream_dataset(store, folder, chunk_rows=150, progress=lambda e, n: seen.update({e: seen.get(e, 0) + n}))
    assert not report.ok and not report.written
    bad = [e for e in report.errors if e.file == "actions.csv"]
    assert bad and {e.row for e in bad} == {rows + 1} and "NO-SUCH-ORG" in bad[0].message
    assert seen["actions"] == rows and seen["duties"] == duties
    assert not any(store.counts().values())
    assert not [g for g in _graphs(store) if ".staging." in g]


def test_a_load_whose_organizations_are_invalid_does_not_validate_actions_aside(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path
) -> None:
    """The process for duties and actions starts with the load (it declares their ids
    meanwhile) but validates them only once the organizations are valid: here it stops."""
    folder = tmp_path / "bad"
    shutil.copytree(tiny_dataset, folder)
    with (folder / "organizations.csv").open("a", encoding="utf-8") as f:
        f.write("O-BAD,坏,committee,no-such-level,,,,\n")
    seen: dict[str, int] = {}
    store = _falkordb(falkordb_server)
    report = stream_dataset(store, folder, chunk_rows=150, progress=lambda e, n: seen.update({e: seen.get(e, 0) + n}))
    assert not report.ok and not report.written
    assert {e.file for e in report.errors} == {"organizations.csv"}, [str(e) for e in report.errors]
    assert "actions" not in seen and "actions" not in report.counts and "duties" not in report.counts
    assert not any(store.counts().values())
    assert not [g for g in _graphs(store) if ".staging." in g]


def test_a_first_embedded_load_validates_duties_and_actions_aside_and_takes_them(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first streamed load into the embedded store validates duties and actions in a process
    of their own (``staged.Aside``), whose scratch the load's takes: the store the in-memory
    load gives. A load into a store that holds data, and one not staged, validate them here."""
    from graph.backends.embedded.store import EmbeddedStore

    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    taken: list[list[str]] = []
    real = EmbeddedStore.take_rows
    monkeypatch.setattr(EmbeddedStore, "take_rows", lambda s, f, e: taken.append(e) or real(s, f, e))
    store = open_store(f"embedded://{tmp_path / 'first'}")
    seen: dict[str, int] = {}
    heard = lambda e, n: seen.update({e: seen.get(e, 0) + n})  # noqa: E731
    report = stream_dataset(store, tiny_dataset, chunk_rows=97, progress=heard)
    assert report.ok and report.written and taken == [["duties", "actions"]]
    assert snapshot(store) == snapshot(reference) and store.counts() == reference.counts()
    assert seen["actions"] == reference.counts()["actions"] and seen["duties"] == reference.counts()["duties"]
    assert report.counts["actions"]["new"] == reference.counts()["actions"]
    assert stream_dataset(store, tiny_dataset, chunk_rows=97).ok  # holds data: no aside
    sequential = open_store(f"embedded://{tmp_path / 'sequential'}")
    assert stream_dataset(sequential, tiny_dataset, chunk_rows=97, stage=False).ok
    assert taken == [["duties", "actions"]] and snapshot(sequential) == snapshot(reference)


def test_an_invalid_action_validated_aside_fails_a_first_embedded_load(tiny_dataset: Path, tmp_path: Path) -> None:
    """An invalid action, validated aside, is reported with its place and nothing is written;
    invalid organizations stop the load before the actions are validated at all."""
    bad = tmp_path / "bad-action"
    shutil.copytree(tiny_dataset, bad)
    with (bad / "actions.csv").open("a", encoding="utf-8") as f:
        f.write("A-BAD,2020-01-01,meeting,NO-SUCH-ORG,NO-SUCH-ORG,discipline,\n")
    rows = sum(1 for _ in (bad / "actions.csv").open(encoding="utf-8")) - 1  # the header is row 1
    store = open_store(f"embedded://{tmp_path / 'store'}")
    report = stream_dataset(store, bad, chunk_rows=150)
    assert not report.ok and not report.written
    wrong = [e for e in report.errors if e.file == "actions.csv"]
    assert wrong and {e.row for e in wrong} == {rows + 1} and "NO-SUCH-ORG" in wrong[0].message
    assert not any(store.counts().values())
    orgs = tmp_path / "bad-organization"
    shutil.copytree(tiny_dataset, orgs)
    with (orgs / "organizations.csv").open("a", encoding="utf-8") as f:
        f.write("O-BAD,坏,committee,no-such-level,,,,\n")
    report = stream_dataset(store, orgs, chunk_rows=150)
    assert {e.file for e in report.errors} == {"organizations.csv"}, [str(e) for e in report.errors]
    assert "actions" not in report.counts and not any(store.counts().values())


KILLED_WITH_ITS_ASIDE = """
import os, sys, time
from graph.factory import open_store
from loaders.stream import staged, stream_dataset

def stalled(*args, **kwargs):  # the aside's first step, in the aside: say where it is, then wait
    with open(sys.argv[3], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)

staged.declare_ids = stalled
stream_dataset(open_store(sys.argv[2]), sys.argv[1], chunk_rows=97)
"""


def test_a_first_embedded_load_killed_takes_its_aside_with_it(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL to a load whose duties and actions are validated aside: that process ends too,
    the store's import lock, which it inherited, is free for the next load at once, and that
    load (one without an aside) removes every working folder the killed one left. So does the
    process that sorts the personnel files by person (``personsort.SortedAside``)."""
    temp = tmp_path / "temp"
    url, mark = f"embedded://{tmp_path / 'store'}", tmp_path / "aside.pid"
    children, alive = _killed_when_ready(KILLED_WITH_ITS_ASIDE, tiny_dataset, url, mark, temp, monkeypatch)
    assert len(children) == 2 and int(mark.read_text()) in children and not alive  # the aside, the sorter
    assert any(temp.iterdir())
    store = open_store(url, lock_wait=2)
    assert stream_dataset(store, tiny_dataset, chunk_rows=97, stage=False).ok
    assert sorted(p.name for p in temp.iterdir()) == []


KILLED_WRITING_ASIDE = """
import os, sys, time
from graph.factory import open_store
from graph.backends.falkordb import transport
from loaders.stream import run, stream_dataset

transport.LOCK_SECONDS = 3  # the lock a killed load held lapses soon (a minute by default)

def stalled(*args, **kwargs):  # the load, once its writer and aside run: say so, then wait
    with open(sys.argv[3], "w") as f:
        f.write("ready")
    time.sleep(120)

run.validate_personnel = stalled
stream_dataset(open_store(sys.argv[2]), sys.argv[1], chunk_rows=97)
"""


def test_a_first_load_written_aside_killed_takes_its_processes_with_it(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL to a first load into FalkorDB while its writer waits for chunks: the writer, the
    aside and the personnel's sorter end too (none holds the working folders' locks it
    inherited), and the next load of any kind (here one into the embedded store, not staged)
    removes every working folder the killed one left, its spool of chunks included."""
    host, port = falkordb_server
    temp = tmp_path / "temp"
    url, mark = f"falkordb://{host}:{port}/k{uuid.uuid4().hex[:10]}", tmp_path / "ready"
    children, alive = _killed_when_ready(KILLED_WRITING_ASIDE, tiny_dataset, url, mark, temp, monkeypatch)
    assert len(children) == 3 and not alive  # the writer, the aside and the sorter
    assert any(temp.iterdir())
    assert stream_dataset(open_store(f"embedded://{tmp_path / 'next'}"), tiny_dataset, chunk_rows=97, stage=False).ok
    assert sorted(p.name for p in temp.iterdir()) == []
    again = open_store(url, lock_wait=30)  # the killed load's lock lapses; its staging graph goes
    assert stream_dataset(again, tiny_dataset, chunk_rows=150).ok
    assert not [g for g in _graphs(again) if ".staging." in g]


KILLED_MERGING_ASIDE = """
import sys, time
from graph.factory import open_store
from loaders.stream import personsort, stream_dataset, validate

chunk, chunks = validate.validate_chunk, personsort.PersonSort.chunks

def merging(self, chunk_rows):  # a merge that takes long after its first chunk: still at it
    merged = chunks(self, chunk_rows)
    yield next(merged)
    time.sleep(120)
    yield from merged

def stalled(tables, *args, **kwargs):  # the first chunk of persons: say so, then wait
    if "persons" in tables:
        with open(sys.argv[3], "w") as f:
            f.write("ready")
        time.sleep(120)
    return chunk(tables, *args, **kwargs)

validate.validate_chunk, personsort.PersonSort.chunks = stalled, merging
stream_dataset(open_store(sys.argv[2]), sys.argv[1], chunk_rows=97)
"""


def test_a_load_killed_as_it_validates_persons_takes_their_merging_process_with_it(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The personnel files' rows are merged by person in a process of its own
    (``personsort.SortedAside``): SIGKILL to the load ends it too, and the next load removes
    the working folder."""
    temp = tmp_path / "temp"
    url, mark = f"embedded://{tmp_path / 'store'}", tmp_path / "ready"
    children, alive = _killed_when_ready(KILLED_MERGING_ASIDE, tiny_dataset, url, mark, temp, monkeypatch)
    assert len(children) == 2 and not alive  # the aside (done by then, or not) and the sorter
    assert stream_dataset(open_store(url, lock_wait=2), tiny_dataset, chunk_rows=97, stage=False).ok
    assert sorted(p.name for p in temp.iterdir()) == []


def _killed_when_ready(
    script: str, folder: Path, url: str, mark: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], list[int]]:
    """Run ``script`` (a load of ``folder`` into ``url``, its temporary folder ``temp``, which
    this process sweeps too) until it writes ``mark``, then SIGKILL it: its child processes
    then, and those of them still alive 10 s later (killed after)."""
    import signal
    import subprocess
    import sys

    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(workdir, "WORK_DIR_GRACE", 0.0)
    load = subprocess.Popen(
        [sys.executable, "-c", script, str(folder), url, str(mark)], env={**os.environ, "TMPDIR": str(temp)}
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not (mark.exists() and mark.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(f"/proc/{load.pid}/task/{load.pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        os.kill(load.pid, signal.SIGKILL)
        load.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return children, [c for c in children if _alive(c)]
    finally:
        load.kill()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, reaped by nobody here, has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_chunks_waiting_for_the_writer_leave_no_file_behind(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load written aside spools its validated chunks to files until the writer takes
    them, in the load's working folder: none is left after a load, written or failed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spools = lambda: list(tmp_path.glob("rtc-*")) + [p for p in sent if Path(p).exists()]  # noqa: E731
    store = _falkordb(falkordb_server)
    sent: list[str] = []
    spooled = spool.spooled
    monkeypatch.setattr(spool, "spooled", lambda spool, batch: sent.append(spooled(spool, batch)) or sent[-1])
    assert stream_dataset(store, tiny_dataset, chunk_rows=150).ok
    assert len(sent) > 10 and not spools()
    assert {Path(p).parent.parent.name[:11] for p in sent} == {"rtc-stream-"}
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset, broken)
    with (broken / "actions.csv").open("a", encoding="utf-8") as f:
        f.write("A-BAD,2020-01-01,meeting,NO-SUCH-ORG,NO-SUCH-ORG,discipline,\n")
    assert not stream_dataset(_falkordb(falkordb_server), broken, chunk_rows=150).ok
    assert not spools()


def test_a_spooled_chunk_comes_back_as_it_was_sent(tmp_path: Path) -> None:
    """In marshal's format, the tenures as their values; as a pickle when a value is of a type
    marshal refuses (a subclass of str, a date)."""
    from datetime import date

    from graph.model import ChangeKind, Tenure

    tenure = Tenure(
        id="U1|P1|2015-01-01", person_id="U1", position_id="P1", start="2015-01-01", end="2016-03-01",
        opened_by="X1", open_kind="appoint", closed_by="X2", close_kind="remove",
    )  # fmt: skip
    rows = {"persons": [{"id": "U1", "name": "张三", "props": {"a": [1, None]}, "_src": ("persons.csv", 2)}]}
    plain = Batch(rows=rows, tenure_rows=[{"person_id": "U1", "end": None}], tenure_persons={"U1"}, tenures=[tenure])
    odd_rows = {"changes": [{"id": "X1", "kind": ChangeKind.appoint, "date": date(2015, 1, 1)}]}
    odd = Batch(rows=odd_rows, settles_import=False)
    for batch, format_ in ((plain, b"M"), (odd, b"P")):
        path = spool.spooled(tmp_path, batch)
        assert Path(path).read_bytes()[:1] == format_
        back = spool.unspooled(path)
        assert back == batch and not Path(path).exists()
    back_tenure = spool.unspooled(spool.spooled(tmp_path, plain)).tenures[0]
    assert back_tenure.model_dump() == tenure.model_dump() and back_tenure.end_ordinal == tenure.end_ordinal
    assert back.rows["changes"][0]["kind"] is ChangeKind.appoint


@pytest.mark.parametrize("buffered", [1 << 20, 5])  # in memory; through the bucket files
def test_an_id_that_repeats_is_found_without_keeping_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buffered: int
) -> None:
    """``_Repeats`` (ids nothing refers to): a repeat anywhere, however far apart, is found;
    none is not; its files are gone once it has answered."""
    monkeypatch.setattr(id_index.Repeats, "BUFFERED", buffered)
    ids = [f"X{n:07d}" for n in range(2000)] + ["张三", ""]
    for repeat, expected in ((None, False), ("X0000003", True), ("张三", True)):
        repeats = id_index.Repeats(tmp_path / "r")
        for chunk in id_index.batched([*ids, *([repeat] if repeat else [])], 7):
            repeats.add(chunk)
        assert repeats.found() is expected
        assert not (tmp_path / "r").exists()


def test_ids_nothing_refers_to_are_not_kept_but_their_repeats_are_known(tmp_path: Path) -> None:
    ids = id_index.Ids(tmp_path / "ids.sqlite3")
    ids.add("actions", ["A1", "A2"])
    ids.add("actions", ["A3", "A1"])
    ids.add("changes", ["X1", "X2"])
    ids.add("persons", ["U1", "U2"])
    ids.settle()
    assert ids.repeated == {"actions"} and ids.known("persons", ["U1", "U3"]) == {"U1"}
    assert ids.known("actions", ["A1"]) == set()  # not kept: nothing looks one up
    assert "actions" not in id_index.REFERRED and {"persons", "positions", "organizations"} <= id_index.REFERRED
    ids.close()


def test_personnel_rows_come_back_sorted_by_person_as_they_were_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PersonSort``: by person, then file, then row, through runs merged in rounds; a row of
    strings waits as joined values, any other row (a value with the separator, or not a string,
    other keys than the header's) in marshal's format, and each comes back as it was."""
    monkeypatch.setattr(personsort, "_RUN_ROWS", 4)
    monkeypatch.setattr(personsort, "_MERGE_RUNS", 2)  # 5 runs: merged in two rounds
    monkeypatch.setattr(personsort, "_RUN_BLOCK", 3)
    spill = personsort.PersonSort(tmp_path)
    people = ["U3", "U1", "U2", "U1", " U3 ", "", "U2"]
    persons = [(n + 2, {"id": p, "name": f"名{n}"}) for n, p in enumerate(people)]
    persons[2] = (4, {"id": "U2", "name": "a\x1fb"})
    changes = [(10, {"person_id": "U2", "n": 7}), (11, {"person_id": "U1", "date": "2020-01-01"}), (12, {"x": "U1"})]
    changes += [(13 + n, {"person_id": p, "date": str(n)}) for n, p in enumerate(["U1", "U9", "U2", "U1"])]
    assert spill.add(["id", "name"], persons, "id") == 7
    assert spill.add(["person_id", "date"], changes, "person_id") == 7
    back = list(spill.sorted())
    rows = {(0, n): r for n, r in persons} | {(1, n): r for n, r in changes}
    person = lambda f, n: str(rows[f, n].get(("id", "person_id")[f]) or "").strip()  # noqa: E731
    assert [(who, f, n) for who, f, n, _ in back] == sorted((person(*k), *k) for k in rows)
    assert [spill.row(f, packed) for _, f, n, packed in back] == [rows[f, n] for _, f, n, _ in back]
    as_bytes = {(f, n) for _, f, n, packed in back if isinstance(packed, bytes)}
    assert as_bytes == {(0, 4), (1, 10), (1, 12)}  # the separator in a value; a number; other keys
    assert not list(tmp_path.iterdir())  # every run's file deleted once read


def test_personnel_rows_sorted_aside_come_in_chunks_of_whole_persons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SortedAside``: the spill filled in a process of its own, started at once, then the
    chunks ``PersonSort.chunks`` gives, each ending between two persons; a spill or a merge that
    fails there fails here, naming it."""
    monkeypatch.setattr(personsort, "_RUN_ROWS", 5)

    def spilled(folder: Path) -> personsort.PersonSort:
        folder.mkdir()
        spill = personsort.PersonSort(folder)
        spill.add(["id", "name"], [(n + 2, {"id": f"U{n % 7}", "name": f"名{n}"}) for n in range(23)], "id")
        changes = [(n + 2, {"person_id": f"U{n % 5}", "date": str(n)}) for n in range(17)]
        spill.add(["person_id", "date"], changes, "person_id")
        return spill

    spill = spilled(tmp_path / "here")
    here = list(spill.chunks(6))
    aside = personsort.SortedAside(lambda: (spilled(tmp_path / "aside"), os.getpid()), 6)
    try:
        back, filled_by = aside.filled()
        assert filled_by != os.getpid() and back.headers == spill.headers
        assert list(aside.chunks()) == here and len(here) > 3
    finally:
        aside.close()
    assert sorted(n for chunk in here for n, _ in chunk[0]) == list(range(2, 25))  # every row once
    assert all(sum(map(len, chunk)) >= 6 for chunk in here[:-1])
    persons = [{next(iter(spill.row(f, row).values())) for f, rows in enumerate(c) for _, row in rows} for c in here]
    assert sum(map(len, persons)) == len(set().union(*persons)) == 7  # no person in two chunks

    def broken() -> tuple[personsort.PersonSort, None]:
        spill = spilled(tmp_path / "broken")
        spill.flush()  # the last run too, then one goes missing
        spill.runs[1].unlink()
        return spill, None

    def failing() -> tuple[personsort.PersonSort, None]:
        raise OSError("no space left on device")

    for fill, when in ((broken, "chunks"), (failing, "filled")):
        aside = personsort.SortedAside(fill, 6)
        try:
            with pytest.raises(StoreError, match="sorting the personnel files' rows by person in a process of its own"):
                aside.filled()
                list(aside.chunks())
            assert (aside.spill is not None) == (when == "chunks")
        finally:
            aside.close()


def test_personnel_sorted_in_many_runs_loads_as_in_memory(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    monkeypatch.setattr(personsort, "_RUN_ROWS", 50)
    monkeypatch.setattr(personsort, "_MERGE_RUNS", 4)
    streamed = open_store(f"embedded://{tmp_path / 'streamed'}")
    assert stream_dataset(streamed, tiny_dataset, chunk_rows=97).ok
    assert snapshot(streamed) == snapshot(reference)


def test_a_failed_write_aside_applies_nothing(
    falkordb_server: tuple[str, int], tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _falkordb(falkordb_server)
    blocker = f"blocker{uuid.uuid4().hex[:8]}"
    store.transport._db.connection.set(blocker, "not a graph")  # type: ignore[attr-defined]
    url = store.url.rpartition("/")[0] + "/" + blocker
    monkeypatch.setattr(store, "staging", lambda: (url, None))
    with pytest.raises(StoreError, match="failed while writing, and nothing was applied"):
        stream_dataset(store, tiny_dataset, chunk_rows=150)
    assert not any(store.counts().values())
    assert store.transport._db.connection.get(blocker) == "not a graph"  # type: ignore[attr-defined]


def test_a_graph_written_aside_does_not_replace_one_written_meanwhile(falkordb_server: tuple[str, int]) -> None:
    store = _falkordb(falkordb_server)
    staging, _ = store.staging()  # type: ignore[attr-defined]
    aside = open_store(staging)
    aside.transport.write("CREATE (:Organization {id: 'aside'})")  # type: ignore[attr-defined]
    store.transport.write("CREATE (:Organization {id: 'meanwhile'})")  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="was written to while this load was being written aside"):
        store.adopt(staging)  # type: ignore[attr-defined]
    assert store.transport.read("MATCH (o:Organization) RETURN o.id") == [["meanwhile"]]  # type: ignore[attr-defined]
    store.drop_staging(staging)  # type: ignore[attr-defined]
    assert staging.rpartition("/")[2] not in _graphs(store)


@pytest.mark.parametrize("stage", [True, False])
def test_a_reference_to_a_later_part_is_linked(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, stage: bool
) -> None:
    """Children before their parents, in other parts of a streamed load: every optional
    relationship is there at the end (the bulk writes had dropped a reference to a node not
    yet written)."""
    folder = tmp_path / "reversed"
    shutil.copytree(tiny_dataset, folder)
    for name in ("organizations.csv", "duties.csv"):
        header, *rows = (folder / name).read_text(encoding="utf-8").splitlines()
        (folder / name).write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    store = _falkordb(falkordb_server)
    assert stream_dataset(store, folder, chunk_rows=40, stage=stage).ok
    orgs, duties = list(reference.export("organizations")), list(reference.export("duties"))
    expected = {
        "LEADS": sum(1 for o in orgs if o["parent_id"]),
        "SUPERVISED_BY": sum(1 for o in orgs if o["supervised_by"]),
        "DECOMPOSED_INTO": sum(1 for d in duties if d["parent_duty_id"]),
        "VIOLATOR": sum(len(c["violator_ids"]) for c in reference.export("cases")),
    }
    assert expected["LEADS"] and expected["DECOMPOSED_INTO"]
    read = store.transport.read  # type: ignore[attr-defined]
    assert {rel: read(f"MATCH ()-[r:{rel}]->() RETURN count(r)")[0][0] for rel in expected} == expected


def test_only_a_first_load_into_a_store_that_can_rename_is_written_aside(tmp_path: Path) -> None:
    from loaders.load import NothingStored
    from loaders.stream.staged import staging_for as _staging

    class Server:
        url = "falkordb://h:1/g"
        capabilities = Capabilities(in_process=False, staged_first_load=True)

        def __init__(self, aside: tuple[str, str | None] | None) -> None:
            self.aside = aside

        def staging(self) -> tuple[str, str | None] | None:
            return self.aside

    empty = NothingStored("falkordb://h:1/g")
    assert _staging(Server(("falkordb://h:1/g.staging.x", None)), empty) == ("falkordb://h:1/g.staging.x", None)  # type: ignore[arg-type]
    assert _staging(Server(None), empty) is None  # type: ignore[arg-type]  # Neo4j: no rename
    held = Server(("falkordb://h:1/g.staging.x", None))
    assert _staging(held, held) is None  # type: ignore[arg-type]  # the store holds data
    assert _staging(open_store(f"embedded://{tmp_path / 's'}"), empty) is None


def test_a_working_folder_whose_load_is_gone_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with workdir.WorkDir("rtc-stream-") as live:
        dead = workdir.WorkDir("rtc-stream-")
        dead.owner.close()  # what SIGKILL does to its lock; the folder stays
        young = workdir.WorkDir("rtc-stream-")
        young.owner.close()
        old = time.time() - workdir.WORK_DIR_GRACE - 1
        for path in (live.path, dead.path):
            os.utime(path, (old, old))
        (tmp_path / "rtc-stream-notours").mkdir()  # no owner file: not this version's, left alone
        with workdir.WorkDir("rtc-stream-") as fresh:
            names = {p.name for p in tmp_path.iterdir()}
            assert names == {live.path.name, young.path.name, fresh.path.name, "rtc-stream-notours"}
    assert {p.name for p in tmp_path.iterdir()} == {young.path.name, "rtc-stream-notours"}


@pytest.mark.parametrize("killed_after", range(4))  # of the four files
def test_a_load_killed_as_it_removes_its_folder_leaves_one_the_next_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_after: int
) -> None:
    """A kill can land while a load removes its working folder (the kill test's later half):
    whatever it removed by then, what is left keeps its owner file, so the next load's sweep
    removes it. (Removed first, the owner file left a folder no sweep would touch.)"""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(workdir, "WORK_DIR_GRACE", 0.0)
    work = workdir.WorkDir("rtc-stream-")
    (work.path / "scratch").mkdir()
    for name in ("scratch/rtc.sqlite3", "scratch/waiting.sqlite3", "ids.sqlite3"):
        (work.path / name).write_text("x")
    removed, unlink = [0], os.unlink

    def killed(path: Any, *args: Any, **kwargs: Any) -> None:
        if removed[0] == killed_after:
            raise SystemExit("killed")
        removed[0] += 1
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", killed)
    with pytest.raises(SystemExit):
        work.close()
    monkeypatch.setattr(os, "unlink", unlink)
    work.owner.close()  # what the kill does to its lock
    workdir.sweep("rtc-stream-")
    assert list(tmp_path.iterdir()) == []
