"""Imports that race or die: the one-seat rule holds, and a streamed load into the embedded
store is all or nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from graph.factory import open_store
from graph.model import to_ordinal
from graph.store import Batch, Store, StoreBusy
from loaders.load import load_dataset
from loaders.stream import stream_dataset
from tests.helpers import organization, write_dataset

ORGS = [organization("X", "县委", "committee", "county"), organization("T", "镇党委", "committee", "township", "X")]
SEAT = [{"id": "T/sec", "org_id": "T", "title": "书记", "role": "secretary"}]


def appointment(folder: Path, person: str) -> Path:
    """A dataset appointing ``person`` to the vacant one-seat post T/sec on 2022-01-01."""
    return write_dataset(
        folder,
        organizations=ORGS,
        positions=SEAT,
        persons=[{"id": person, "name": person}],
        tenures=[{"person_id": person, "position_id": "T/sec", "start": "2022-01-01"}],
    )


def test_two_imports_validated_at_once_cannot_both_fill_one_seat(store: Store, tmp_path: Path) -> None:
    """The first import pauses in the middle of its validation; the second runs meanwhile.
    Without one lock over validation and write both pass and the seat has two holders."""
    other = open_store(store.url) if store.url.startswith("embedded://") else store
    first_started, second_done = threading.Event(), threading.Event()
    reports: dict[str, Any] = {}

    def pause(entity: str, rows: int) -> None:
        if not first_started.is_set():
            first_started.set()
            second_done.wait(timeout=1.5)  # with the lock the second waits for us: go on

    def first() -> None:
        reports["a"] = load_dataset(store, appointment(tmp_path / "a", "pa"), progress=pause)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_started.wait(timeout=30)
    reports["b"] = load_dataset(other, appointment(tmp_path / "b", "pb"))
    second_done.set()
    thread.join(timeout=60)

    holders = store.holders("T/sec", to_ordinal("2022-06-01"))
    assert [t.person_id for t in holders] == ["pa"]
    assert reports["a"].ok and reports["a"].written
    assert not reports["b"].ok and {e.rule for e in reports["b"].errors} == {"overlapping-tenure"}


def test_an_import_waits_for_the_lock_then_gives_up_clearly(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    holder = open_store(url)
    waiter = open_store(url, lock_wait=0.3)
    with holder.import_lock(), pytest.raises(StoreBusy, match=r"busy: another import .* nothing was written"):
        load_dataset(waiter, appointment(tmp_path / "a", "pa"))
    assert waiter.counts()["persons"] == 0
    assert load_dataset(waiter, appointment(tmp_path / "a", "pa")).written  # free again


@pytest.mark.parametrize("holding", [False, True])
def test_a_streamed_load_into_the_embedded_store_is_all_or_nothing(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holding: bool
) -> None:
    """A failure after some of the load was written leaves nothing of it: a first load is
    copied table by table, a load into a store holding data part by part, each in one
    transaction."""
    store = open_store(f"embedded://{tmp_path / 'store'}")
    if holding:  # an unrelated appointment: the tiny dataset is then not a first load
        assert load_dataset(store, appointment(tmp_path / "a", "pa")).written
    before, logged = store.counts(), store.import_log()
    real_write, calls = store.write, []

    def failing(batch: Batch, *, log: dict[str, Any]) -> None:
        calls.append(log["entity"])
        if log["entity"] == "tenures":
            raise RuntimeError("killed")
        real_write(batch, log=log)

    def failing_settle(db: Any) -> None:
        calls.append("settle")
        raise RuntimeError("killed")

    monkeypatch.setattr(store, *(("write", failing) if holding else ("_settle", failing_settle)))
    with pytest.raises(RuntimeError, match="killed"):
        stream_dataset(store, tiny_dataset, chunk_rows=200)
    monkeypatch.undo()
    # parts before the failure were written (a first load: every table, then the settling failed)
    assert ("organizations" in calls and "persons" in calls) if holding else calls == ["settle"]
    assert store.counts() == before
    assert store.import_log() == logged
    assert stream_dataset(store, tiny_dataset, chunk_rows=200).written


def test_a_store_deleted_while_open_refuses_writes_and_says_so(tmp_path: Path) -> None:
    import shutil

    from graph.store import StoreError

    url = f"embedded://{tmp_path / 'store'}"
    store = open_store(url)
    assert load_dataset(store, appointment(tmp_path / "a", "pa")).written
    shutil.rmtree(tmp_path / "store")
    with pytest.raises(StoreError, match="deleted or replaced while open"):
        store.ping()
    with pytest.raises(StoreError, match="deleted or replaced while open"):
        load_dataset(store, appointment(tmp_path / "b", "pb"))


def test_the_lease_lock_of_a_server_without_its_own(falkordb_server: tuple[str, int]) -> None:
    """Neo4j has no lock across clients: its imports take turns through a lease on a node.
    The same statements run here on FalkorDB (Neo4j's front end checks them too)."""
    import time
    import uuid

    from graph.backends.cypher import CypherStore
    from graph.backends.cypher import statements as cypher

    host, port = falkordb_server
    url = f"falkordb://{host}:{port}/lease{uuid.uuid4().hex[:8]}"
    first, second = open_store(url), open_store(url, lock_wait=0.5)
    assert isinstance(first, CypherStore) and isinstance(second, CypherStore)
    with first.lease_lock():
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="busy"), second.lease_lock():
            pass
        assert time.monotonic() - started >= 0.5
    with second.lease_lock():  # released: free again
        pass
    # a holder that died: its lease lapses at ``expires``
    lapses = time.time() + 1.5
    assert second.transport.write(cypher.ACQUIRE_LOCK, {"token": "dead", "now": time.time(), "expires": lapses})
    with pytest.raises(StoreBusy), second.lease_lock():
        pass
    time.sleep(max(0.0, lapses - time.time()) + 0.1)
    with second.lease_lock():
        pass
