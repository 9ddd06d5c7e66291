"""The streaming loader: the store the in-memory loader gives, in bounded chunks; a failed
write completed by running the load again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.store import Batch, Store, open_store
from loaders.load import load_dataset
from loaders.readers import FileProblem, read_rows
from loaders.stream import stream_dataset, wants_streaming
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


@pytest.mark.parametrize("fail_at", ["persons", "tenures", "changes"])
def test_a_write_that_fails_midway_is_completed_by_loading_again(
    store: Store, tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    """The copy fails at the first part of an entity (of the tenures: after some were written);
    loading again gives exactly the store a single load gives."""
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(reference, tiny_dataset).ok
    real_write, calls = store.write, []

    def failing(batch: Batch, *, log: dict[str, Any]) -> None:
        calls.append(log["entity"])
        if calls.count(fail_at) == (2 if fail_at == "tenures" else 1):
            raise RuntimeError("the server went away")
        real_write(batch, log=log)

    monkeypatch.setattr(store, "write", failing)
    with pytest.raises(RuntimeError, match="went away"):
        stream_dataset(store, tiny_dataset, chunk_rows=200)
    monkeypatch.undo()
    assert store.counts()["organizations"] > 0 and store.counts() != reference.counts()
    report = stream_dataset(store, tiny_dataset, chunk_rows=200)
    assert report.ok, report.errors[:3]
    assert store.counts() == reference.counts()
    assert snapshot(store) == snapshot(reference)


def test_stream_only_large_folders_into_a_server_store(tiny_dataset: Path, tmp_path: Path) -> None:
    embedded = open_store(f"embedded://{tmp_path / 's'}")
    assert not wants_streaming(embedded, tiny_dataset, above_mb=0)

    class Server:
        url = "falkordb://h:1/g"

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
