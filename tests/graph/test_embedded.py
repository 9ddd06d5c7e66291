"""The embedded store: persistence across processes, and atomic imports under kill -9."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.backends.embedded import EmbeddedStore
from graph.backends.embedded import store as embedded
from graph.backends.embedded.store import _TENURE_COLUMNS, COLD_READS
from graph.factory import open_store
from graph.model import OPEN_END, OrgFacts, Tenure, to_ordinal
from graph.store import Batch, StoreError
from loaders.generate import generate
from loaders.load import load_dataset
from queries.accountability import accountability


def test_a_second_process_sees_what_the_first_loaded(tmp_path: Path, tiny_dataset: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    store = open_store(url)
    assert load_dataset(store, tiny_dataset).ok
    counts = store.counts()
    store.close()
    out = subprocess.run(
        [sys.executable, "-c", f"from graph.factory import open_store; print(open_store({url!r}).counts())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(counts)


def test_reads_see_a_write_from_another_connection(tmp_path: Path, tiny_dataset: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    reader, writer = open_store(url), open_store(url)
    assert reader.get_organizations() == {}
    assert load_dataset(writer, tiny_dataset).ok
    time.sleep(0.06)  # another connection's commit is noticed within RECHECK_SECONDS
    assert len(reader.get_organizations()) == writer.counts()["organizations"]


def test_cached_reads_see_an_import_from_another_connection(tmp_path: Path, tiny_dataset: Path) -> None:
    """Persons, children and commissions are kept in memory: a commit elsewhere drops them."""
    url = f"embedded://{tmp_path / 'store'}"
    reader, writer = open_store(url), open_store(url)
    assert load_dataset(writer, tiny_dataset).ok
    person = next(reader.personnel_by_person())[0]
    leaf = next(o for o in reader.get_organizations().values() if o.level.value == "village")
    parent = leaf.parent_id
    assert parent is not None
    assert reader.get_persons([person, "NEW-P"]).keys() == {person}
    before = [o.id for o in reader.org_context(leaf.id).commissions.get(parent, [])]
    level = reader.get_organizations([parent])[parent].level.value
    more = tmp_path / "more"
    more.mkdir()
    (more / "persons.csv").write_text("id,name\nNEW-P,新人\n", encoding="utf-8")
    (more / "organizations.csv").write_text(
        f"id,name,kind,level,parent_id\nNEW-JW,新纪委,commission,{level},{parent}\n", encoding="utf-8"
    )
    assert load_dataset(writer, more).ok
    time.sleep(0.06)
    assert reader.get_persons([person, "NEW-P"])["NEW-P"].name == "新人"
    assert [o.id for o in reader.org_context(leaf.id).commissions[parent]] == sorted([*before, "NEW-JW"])
    assert "NEW-JW" in [o.id for o in reader.get_children([parent])[parent]]


def test_unknown_scheme_and_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://x")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        open_store(f"embedded://{blocker}/sub")


@pytest.mark.slow
def test_kill_9_during_an_import_leaves_the_store_before_or_after(tmp_path: Path) -> None:
    folder = tmp_path / "county"
    generate(folder, "county", seed=5)
    store_dir = tmp_path / "store"
    wal = store_dir / "rtc.sqlite3-wal"
    killed_mid_write = 0
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "rtc.cli", "load", str(folder), "--store", f"embedded://{store_dir}", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > (4 + attempt) * 1024 * 1024:  # the write is under way
                os.kill(proc.pid, signal.SIGKILL)
                killed_mid_write += 1
                break
            time.sleep(0.005)
        proc.wait()
        store = open_store(f"embedded://{store_dir}")
        counts = store.counts()
        store.close()
        assert sum(counts.values()) == 0, f"a killed import left {counts}"
    assert killed_mid_write == 3
    store = open_store(f"embedded://{store_dir}")
    report = load_dataset(store, folder)  # the next load works and completes
    assert report.ok and report.written
    assert store.counts()["actions"] == report.counts["actions"]["read"]


def test_cold_reads_answer_as_the_indexes_do(tmp_path: Path, tiny_dataset: Path) -> None:
    """Before its indexes are built, the store reads a few organizations' positions and a few
    positions' tenures straight from SQLite: the same answers, in the same order."""
    url = f"embedded://{tmp_path}"
    assert load_dataset(open_store(url), tiny_dataset).ok
    cold, warm = open_store(url), open_store(url)
    orgs = sorted(warm.get_organizations())[::7]
    warm.get_positions()
    span = warm.date_range()
    assert span is not None
    positions = list(warm.get_positions(org_ids=orgs))
    warm._tenure_index  # noqa: B018 - built, as a server builds it
    warm.get_cases()
    assert "_positions" in warm.__dict__ and "_tenure_index" in warm.__dict__
    assert list(cold.get_positions(org_ids=orgs).items()) == list(warm.get_positions(org_ids=orgs).items())
    persons = sorted({t.person_id for t in warm.tenures(position_ids=positions)})[::3]
    for window in (None, (span[0], span[0] + 1), ((span[0] + span[1]) // 2, span[1])):
        assert cold.tenures(position_ids=positions, overlapping=window) == warm.tenures(
            position_ids=positions, overlapping=window
        )
        assert cold.tenures(person_ids=persons, overlapping=window) == warm.tenures(
            person_ids=persons, overlapping=window
        )
    some = [*positions[::2], "nope"]
    assert list(cold.get_positions(some).items()) == list(warm.get_positions(some).items())
    assert cold.get_organizations([*orgs, "nope"]) == warm.get_organizations([*orgs, "nope"])
    for day in (span[0], (span[0] + span[1]) // 2, span[1]):
        assert [cold.holders(p, day) for p in positions] == [warm.holders(p, day) for p in positions]
    for org in [*orgs, "nope"]:  # what a one-off accountability, holders or career reads
        assert cold.ancestors(org) == warm.ancestors(org)
        assert cold.org_context(org, reach=2) == warm.org_context(org, reach=2)
    assert cold.successors(orgs) == warm.successors(orgs)
    cases = [*sorted(warm.get_cases())[::5], "nope"]
    assert cold.get_cases(iter(cases)) == warm.get_cases(cases)
    assert cold.date_range() == warm.date_range()
    # a few reads of each kind from SQLite; a program asking more builds the index once
    assert not {"_positions", "_orgs", "_cases"} & set(cold.__dict__)
    assert cold._cold_reads["_tenure_index"] > COLD_READS and "_tenure_index" in cold.__dict__


def test_a_one_off_accountability_builds_no_index_and_a_loop_builds_them_once(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    url = f"embedded://{tmp_path}"
    assert load_dataset(open_store(url), tiny_dataset).ok
    warm, cold = open_store(url), open_store(url)
    warm.warm()
    cases = sorted(warm.get_cases())
    assert accountability(cold, cases[0]) == accountability(warm, cases[0])
    assert not {"_orgs", "_positions", "_tenure_index", "_cases"} & set(cold.__dict__)  # rtc accountability
    for case in cases * 3:
        assert accountability(cold, case) == accountability(warm, case)
    assert {"_orgs", "_cases"} <= set(cold.__dict__)  # built once, after COLD_READS reads


def test_personnel_by_person_gives_each_persons_rows_changes_and_tenures(tmp_path: Path, tiny_dataset: Path) -> None:
    store = open_store(f"embedded://{tmp_path / 'store'}")
    assert load_dataset(store, tiny_dataset).ok
    got = list(store.personnel_by_person())  # type: ignore[attr-defined]
    persons = [p for p, *_ in got]
    assert persons == sorted(set(persons))
    every_tenure = store.tenures(person_ids=persons)
    raw = [*store.export("tenure_rows"), *store.export("changes")]
    assert set(persons) == {t.person_id for t in every_tenure} | {r["person_id"] for r in raw}
    for person, rows, changes, tenures in got:
        assert (rows, changes) == store.personnel_records([person])
        assert tenures == sorted(store.tenures(person_ids=[person]), key=lambda t: (t.start_ordinal, t.position_id))
    assert sum(len(t) for *_, t in got) == len(every_tenure)
    assert sum(len(c) for _, _, c, _ in got) == store.counts()["changes"] > 0


_DAYS = st.integers(min_value=0, max_value=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stored=st.lists(st.tuples(st.sampled_from("ab"), _DAYS, st.integers(1, 20), st.booleans()), max_size=12),
    spans=st.lists(st.tuples(st.sampled_from("abc"), _DAYS, st.integers(0, 20)), max_size=8),
)
def test_tenures_overlapping_finds_exactly_the_stored_ones_a_span_overlaps(
    tmp_path: Path, stored: list[tuple[str, int, int, bool]], spans: list[tuple[str, int, int]]
) -> None:
    """What the overlap check of an import reads (``EmbeddedStore.tenures_overlapping``):
    half-open ranges, open ends, each tenure once however many spans it overlaps."""
    store = EmbeddedStore(tmp_path / f"s{uuid.uuid4().hex[:8]}", action_snapshot=False)
    base = to_ordinal("2020-01-01")
    day = lambda n: dt.date.fromordinal(base + n).isoformat()  # noqa: E731
    tenures = [
        Tenure(
            id=f"t{i}",
            person_id=f"p{i}",
            position_id=pos,
            start=day(start),
            end=None if open_ else day(start + length),
            opened_by="tenure-row",
            open_kind="tenure",
        )
        for i, (pos, start, length, open_) in enumerate(stored)
    ]
    store.write(Batch(tenure_persons={t.person_id for t in tenures}, tenures=tenures), log={})
    given_spans = [(pos, base + lo, base + lo + length) for pos, lo, length in spans]
    found = store.tenures_overlapping(given_spans)
    expected = {
        t.id
        for t in tenures
        for pos, lo, hi in given_spans
        if t.position_id == pos and t.start_ordinal < hi and lo < t.end_ordinal
    }
    assert sorted(t.id for t in found) == sorted(expected)
    assert all(t == next(u for u in tenures if u.id == t.id) for t in found)
    store.close()


def test_tenures_overlapping_at_the_boundaries(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s", action_snapshot=False)
    held = Tenure(
        id="t1",
        person_id="p1",
        position_id="a",
        start="2020-01-10",
        end="2020-01-20",
        opened_by="tenure-row",
        open_kind="tenure",
    )
    store.write(Batch(tenure_persons={"p1"}, tenures=[held]), log={})
    b = held.start_ordinal
    cases = {("a", b - 5, b): [], ("a", b - 5, b + 1): ["t1"], ("a", b + 9, b + 10): ["t1"], ("a", b + 10, b + 11): []}
    cases[("b", b, b + 5)] = []
    for span, ids in cases.items():
        assert [t.id for t in store.tenures_overlapping([span])] == ids, span
    assert [t.id for t in store.tenures_overlapping(cases)] == ["t1"]  # once, though two spans overlap it
    store.close()


def test_a_cold_store_reads_an_organization_s_positions_by_index(tmp_path: Path, tiny_dataset: Path) -> None:
    """A fresh process's first accountability lookup reads the case organization's positions:
    without an index on org_id that read scanned the positions table (7.4 ms a lookup on the
    province, 1.5 ms with it: docs/performance.md)."""
    store = open_store(f"embedded://{tmp_path}")
    assert load_dataset(store, tiny_dataset).ok
    store.close()
    cold = EmbeddedStore(tmp_path)
    org = next(iter(cold.get_organizations()))
    plan = " ".join(
        str(r[-1]) for r in cold._db.execute("EXPLAIN QUERY PLAN SELECT id FROM positions WHERE org_id IN (?)", (org,))
    )
    assert "positions_org" in plan and "SCAN positions" not in plan, plan
    expected = [p for p in cold.get_positions().values() if p.org_id == org]
    assert list(EmbeddedStore(tmp_path).get_positions(org_ids=[org]).values()) == expected


def test_a_cold_store_reads_a_post_s_tenures_from_the_index_alone(tmp_path: Path, tiny_dataset: Path) -> None:
    """A lookup's tenures of a few posts come whole from an index in position order: the table
    is kept in person order, and looking each row up by its id there was 0.3 ms of a 2.1 ms
    nation lookup (docs/performance.md)."""
    store = open_store(f"embedded://{tmp_path}")
    assert load_dataset(store, tiny_dataset).ok
    store.close()
    cold = EmbeddedStore(tmp_path)
    query = f"SELECT {_TENURE_COLUMNS} FROM tenures WHERE position_id IN (?) AND start_ord < ? AND end_ord > ?"
    plan = " ".join(str(r[-1]) for r in cold._db.execute(f"EXPLAIN QUERY PLAN {query}", ("x", 1, 0)))
    assert "COVERING INDEX tenures_held" in plan, plan
    warm = EmbeddedStore(tmp_path)
    warm.warm()  # the same tenures from the in-memory index
    posts = sorted(warm.get_positions())
    read = cold.tenures(position_ids=posts)
    assert read == warm.tenures(position_ids=posts) != []
    # read back without validation, with the day numbers stored beside them: as computed
    assert [(t.start_ordinal, t.end_ordinal) for t in read] == [
        (to_ordinal(t.start), OPEN_END if t.end is None else to_ordinal(t.end)) for t in read
    ]


def test_a_person_s_changes_are_read_from_one_index_and_an_older_store_gets_it(
    tmp_path: Path, tiny_dataset: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The sources of a lookup's tenures are its persons' changes, read whole from an index in
    person order (the table is in id order). A store made before it has an index of the ids
    alone: its next writable open makes the new one, saying so first, and drops the old."""
    store = open_store(f"embedded://{tmp_path}")
    assert load_dataset(store, tiny_dataset).ok
    persons = sorted({c["person_id"] for c in store.export("changes")})
    expected = store.personnel_records(persons)
    store.close()
    with contextlib.closing(sqlite3.connect(tmp_path / embedded.DB_FILE)) as db:  # as an older rtc left it
        db.execute("DROP INDEX changes_whole")
        db.execute("CREATE INDEX changes_person ON changes (person_id)")
        db.commit()
    with caplog.at_level(logging.WARNING, logger="rtc.store"):
        reopened = EmbeddedStore(tmp_path)
        told = [r.getMessage() for r in caplog.records]
        assert len(told) == 1 and "older rtc" in told[0] and "(changes_whole)" in told[0], told
        EmbeddedStore(tmp_path)  # made: nothing more to tell
        assert len(caplog.records) == 1
    names = {n for (n,) in reopened._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "changes_whole" in names and "changes_person" not in names
    query = f"SELECT {embedded._COLS['changes']} FROM changes WHERE person_id IN (?)"
    plan = " ".join(str(r[-1]) for r in reopened._db.execute(f"EXPLAIN QUERY PLAN {query}", ("x",)))
    assert "COVERING INDEX changes_whole" in plan, plan
    assert reopened.personnel_records(persons) == expected and expected[1]


def test_a_first_import_makes_the_indexes_after_its_rows_and_a_later_one_writes_into_them(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty store the rows go in first and each index is made after, a sort each; into
    a store holding data they go through the indexes. Either way every index is there after."""
    made_after = []
    real = embedded._indexes_made_after

    def spy(db: sqlite3.Connection, table: str | None = None) -> contextlib.AbstractContextManager[None]:
        made_after.append(table)
        return real(db, table)

    monkeypatch.setattr(embedded, "_indexes_made_after", spy)
    store = EmbeddedStore(tmp_path / "a")
    assert load_dataset(store, tiny_dataset).ok
    assert made_after == [None]
    by_rows = EmbeddedStore(tmp_path / "b")
    monkeypatch.setattr(embedded, "_indexes_made_after", real)
    with by_rows.atomic():  # the same rows through the indexes: an import already in the log
        by_rows._writer().execute("INSERT INTO imports (at, log) VALUES ('', '{}')")
        assert load_dataset(by_rows, tiny_dataset).ok

    def indexes(s: EmbeddedStore) -> set[tuple[str, str]]:
        return set(s._db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))

    assert indexes(store) == indexes(by_rows) and {n for n, _ in indexes(store)} >= {"tenures_held", "changes_whole"}
    assert store._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for entity in ("organizations", "persons", "changes"):
        assert list(store.export(entity)) == list(by_rows.export(entity))
    assert store.tenures() == by_rows.tenures()
    monkeypatch.setattr(embedded, "_indexes_made_after", spy)
    made_after.clear()
    later = tmp_path / "later"
    later.mkdir()
    (later / "persons.csv").write_text("id,name\nP-new,新人\n", encoding="utf-8")
    assert load_dataset(store, later).ok and made_after == []
    assert store.get_persons(["P-new"])


def test_a_first_import_writes_in_a_smaller_page_cache_then_gives_the_store_s_back(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first import's rows go in in key order and its indexes are sorts: a large page cache
    only adds to its peak memory, and a thread beside the connection's own may help each sort
    (``PRAGMA threads``). Later imports write through the indexes, with the store's cache."""
    seen: list[tuple[int, int]] = []
    real = embedded._indexes_made_after

    @contextlib.contextmanager
    def spy(db: sqlite3.Connection, table: str | None = None) -> Iterator[None]:
        with real(db, table):
            yield
            seen.append((db.execute("PRAGMA cache_size").fetchone()[0], db.execute("PRAGMA threads").fetchone()[0]))

    monkeypatch.setattr(embedded, "_indexes_made_after", spy)
    store = EmbeddedStore(tmp_path / "s", cache_mb=200)
    assert load_dataset(store, tiny_dataset).ok
    assert seen == [(-embedded.FIRST_IMPORT_CACHE_MB * 1024, embedded.SORT_HELPERS)] and embedded.SORT_HELPERS >= 1
    assert store._writer().execute("PRAGMA cache_size").fetchone()[0] == -200 * 1024
    small = EmbeddedStore(tmp_path / "small", cache_mb=8)  # never more than the store's own
    assert load_dataset(small, tiny_dataset).ok and seen[-1][0] == -8 * 1024


def test_a_streamed_first_load_s_scratch_makes_its_indexes_with_a_helper_thread(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch a streamed first load adopts makes its indexes then, helped as a first
    import's are (``PRAGMA threads``)."""
    from loaders.stream import stream_dataset

    helped: list[tuple[str, int]] = []
    real_helped = embedded._sorts_helped

    def helped_spy(db: sqlite3.Connection) -> None:
        real_helped(db)
        file = db.execute("PRAGMA database_list").fetchone()[2]
        helped.append((str(Path(file).relative_to(Path(file).parents[1])), db.execute("PRAGMA threads").fetchone()[0]))

    monkeypatch.setattr(embedded, "_sorts_helped", helped_spy)
    assert stream_dataset(EmbeddedStore(tmp_path / "streamed"), tiny_dataset, chunk_rows=97).ok
    assert helped[-1] == ("scratch/rtc.sqlite3", embedded.SORT_HELPERS)  # the scratch, as it is adopted


def test_the_date_range_is_kept_with_each_import_and_read_without_a_scan(tmp_path: Path, tiny_dataset: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    store = open_store(url)
    assert load_dataset(store, tiny_dataset).ok
    first = open_store(url).date_range()
    assert first is not None
    org = sorted(store.get_organizations())[1]
    parent = store.get_organizations([org])[org].parent_id
    later = tmp_path / "later"
    later.mkdir()
    (later / "actions.csv").write_text(
        f"id,date,kind,from_org_id,to_org_id,category\nA-late,2031-05-01,meeting,{parent},{org},discipline\n",
        encoding="utf-8",
    )
    assert load_dataset(store, later).ok
    fresh = open_store(url)  # another process: reads what the import kept
    assert fresh.date_range() == (first[0], to_ordinal("2031-05-01"))
    kept = fresh._db.execute("SELECT value FROM meta WHERE key = 'date_range'").fetchone()[0]
    fresh._db.execute(  # an older rtc wrote after it, and did not keep the range: not trusted
        "UPDATE meta SET value = ? WHERE key = 'date_range'",
        (kept.replace(str(to_ordinal("2031-05-01")), str(to_ordinal("2040-01-01"))),),
    )
    fresh._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    assert open_store(url).date_range() == (first[0], to_ordinal("2031-05-01"))
    fresh._db.execute("DELETE FROM meta WHERE key = 'date_range'")  # a store written before it was kept
    assert open_store(url).date_range() == (first[0], to_ordinal("2031-05-01"))


def test_a_first_import_makes_the_action_columns_from_its_rows_as_a_read_back_would(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first import's snapshot is made from the batch while the indexes are made: the same
    columns as read back from SQLite, whatever the file's order of rows."""
    folder = tmp_path / "shuffled"
    shutil.copytree(tiny_dataset, folder)
    header, *rows = (folder / "actions.csv").read_text(encoding="utf-8").splitlines()
    (folder / "actions.csv").write_text("\n".join([header, *rows[::-1]]) + "\n", encoding="utf-8")
    read_back = []
    monkeypatch.setattr(embedded.EmbeddedStore, "_read_action_columns", lambda s: read_back.append(s) or 1 / 0)
    store = EmbeddedStore(tmp_path / "s")
    assert load_dataset(store, folder).ok and (tmp_path / "s" / "actions.1").is_dir()
    made = store._action_index  # mapped from the snapshot the write made: nothing read back
    assert read_back == [] and isinstance(made.date.base, np.memmap)
    from_sqlite = embedded._action_columns(store._connect())
    assert len(made.ids) == len(rows) and made.id_list(range(len(rows))) == from_sqlite.id_list(range(len(rows)))
    for column in ("date", "kind", "category", "from_org", "to_org", "by_org"):
        assert getattr(made, column).tolist() == getattr(from_sqlite, column).tolist()
    assert made.orgs == from_sqlite.orgs


def test_a_first_import_whose_action_columns_fail_writes_nothing(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(actions: list[dict[str, object]]) -> None:
        raise RuntimeError("columns")

    monkeypatch.setattr(embedded, "_batch_action_columns", broken)
    store = EmbeddedStore(tmp_path / "s")
    with pytest.raises(RuntimeError, match="columns"):
        load_dataset(store, tiny_dataset)
    assert store.counts() == EmbeddedStore(tmp_path / "empty").counts()
    assert not list((tmp_path / "s").glob("actions.*"))


def test_the_action_columns_are_mapped_from_one_snapshot_of_the_latest_import(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    store, folder = open_store(url), tmp_path / "store"
    (folder / "actions.0.npz").write_bytes(b"an older rtc's")
    (folder / ".actions.1.999999999.tmp").mkdir()  # a writer killed as it wrote (no such pid)
    assert load_dataset(store, tiny_dataset).ok  # writes the snapshot; the older files go
    assert sorted(p.name for p in folder.glob("*actions*")) == ["actions.1"]
    shutil.rmtree(folder / "actions.1")
    rebuilt = open_store(url)  # from SQLite, and written again
    span = rebuilt.date_range()
    assert span is not None
    built = rebuilt.actions(*span)
    assert not isinstance(built.date.base, np.memmap) and (folder / "actions.1" / "ids.npy").exists()
    other = open_store(url)  # another process: maps the columns, sorts nothing
    mapped = other.actions(*span)
    assert isinstance(other._action_index.date.base, np.memmap) and isinstance(other._action_index.ids.base, np.memmap)
    assert mapped.id_list(range(len(mapped))) == built.id_list(range(len(built)))
    for column in ("date", "kind", "category", "from_org", "to_org", "by_org"):
        assert getattr(mapped, column).tolist() == getattr(built, column).tolist()
    assert mapped.orgs == built.orgs
    org = mapped.orgs[int(mapped.to_org[0])]
    assert open_store(url).actions(*span, to_orgs=[org]).id_list(range(3)) == built.rows(
        np.flatnonzero(built.to_org == built.to_org[0])
    ).id_list(range(3))


def test_a_program_asking_often_builds_each_index_once_and_a_scratch_or_large_store_never(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"embedded://{tmp_path}"
    assert load_dataset(open_store(url), tiny_dataset).ok
    store = open_store(url)
    position = sorted(store.get_positions())[0]
    org = store.get_positions([position])[position].org_id
    store, scratch = open_store(url), EmbeddedStore(tmp_path, index_after=None)
    assert not store._large
    monkeypatch.setattr(embedded, "LARGE_STORE", (tmp_path / embedded.DB_FILE).stat().st_size - 1)
    large = open_store(url)  # as a nation's: every tenure and position read stays with SQLite
    for _ in range(embedded.LARGE_COLD_READS + 1):  # ... and its organizations are built sooner
        large.ancestors(org)
    assert "_orgs" in large.__dict__
    for i in range(COLD_READS):
        for s in (store, scratch, large):
            s.tenures(position_ids=[position])
            s.get_positions([position]) if i % 2 else s.get_positions(org_ids=[org])
    assert not {"_tenure_index", "_positions"} & set(store.__dict__)  # a one-off command's reads
    for s in (store, scratch, large):
        assert s.tenures(position_ids=[position]) == store.tenures(position_ids=[position])
        assert s.get_positions(org_ids=[org]) == store.get_positions(org_ids=[org])
    assert {"_tenure_index", "_positions"} <= set(store.__dict__)
    assert not any(o is store._positions for o in gc.get_objects())  # frozen: no collection walks it
    assert not {"_tenure_index", "_positions"} & (set(scratch.__dict__) | set(large.__dict__))
    large.warm()  # a server over a nation: organizations and cases built, tenures and posts left in SQLite
    assert {"_action_index", "_orgs", "_cases"} <= set(large.__dict__)
    assert not {"_tenure_index", "_positions"} & set(large.__dict__)


def test_a_large_stores_one_off_lookup_builds_nothing_and_the_next_builds_its_organizations(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nation's organizations took 3-5 s to build, and its cases 3 s, at the first lookup:
    a one-off lookup reads what it needs from SQLite, and a program's next builds them once."""
    url = f"embedded://{tmp_path}"
    assert load_dataset(open_store(url), tiny_dataset).ok
    warm = open_store(url)
    warm.warm()
    monkeypatch.setattr(embedded, "LARGE_STORE", (tmp_path / embedded.DB_FILE).stat().st_size - 1)
    large = open_store(url)
    first, *cases = sorted(warm.get_cases())
    assert accountability(large, first) == accountability(warm, first)
    assert not {"_orgs", "_cases", "_children", "_named"} & set(large.__dict__)  # rtc accountability
    assert large._cold_reads["_orgs"] <= embedded.LARGE_COLD_READS  # one lookup's reads
    for case in cases * embedded.LARGE_COLD_READS:  # a program goes on
        assert accountability(large, case) == accountability(warm, case)
        if "_orgs" in large.__dict__:
            break
    assert large._cold_reads["_orgs"] == embedded.LARGE_COLD_READS + 1  # built at that read
    assert not any(o is large._orgs for o in gc.get_objects())  # frozen: no collection walks it
    assert large._cold_reads["_cases"] < COLD_READS and "_cases" not in large.__dict__  # as a smaller store's


def test_organization_facts_read_cold_are_those_of_the_models(tmp_path: Path, tiny_dataset: Path) -> None:
    url = f"embedded://{tmp_path}"
    assert load_dataset(open_store(url), tiny_dataset).ok
    cold, warm = open_store(url), open_store(url)
    facts = cold.organization_facts()  # from SQLite: no model made
    assert "_orgs" not in cold.__dict__
    assert list(facts.items()) == [(i, OrgFacts.of(o)) for i, o in warm.get_organizations().items()]
    assert warm.organization_facts() == facts


def test_a_write_lets_go_of_the_batch_s_rows_before_the_index_sorts(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's records and tenures are a quarter gigabyte: the store takes them out of the
    batch as it inserts them, so a first import's index sorts do not run beside them."""
    probes: list[object] = []
    held: list[int] = []
    emptied: list[bool] = []
    write = EmbeddedStore.write

    def handing_over(self: EmbeddedStore, batch: Batch, *, log: dict[str, object]) -> None:
        probes[:] = [batch.rows["persons"][0], batch.tenures[0]]
        held[:] = [sys.getrefcount(p) for p in probes]
        write(self, batch, log=log)
        emptied.append(not batch.rows and not batch.tenures)  # a batch is not read once written

    seen: list[list[int]] = []
    real = embedded._indexes_made_after

    @contextlib.contextmanager
    def spy(db: sqlite3.Connection, table: str | None = None) -> Iterator[None]:
        with real(db, table):
            yield
            seen.append([sys.getrefcount(p) for p in probes])  # as the indexes are made

    monkeypatch.setattr(EmbeddedStore, "write", handing_over)
    monkeypatch.setattr(embedded, "_indexes_made_after", spy)
    assert load_dataset(EmbeddedStore(tmp_path / "s"), tiny_dataset).ok
    assert seen == [[n - 1 for n in held]]  # the batch's lists held each once
    assert emptied == [True]
