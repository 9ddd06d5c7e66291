"""``Store.memo`` keeps a derived value until the data changes: a store's own import at once,
another client's (another process, for the embedded store) within RECHECK_SECONDS; a map
served after an import shows what it wrote."""

from __future__ import annotations

import time
from pathlib import Path

from graph.factory import open_store
from graph.store import Store
from loaders.load import load_dataset
from tests.helpers import write_csv


def _persons(folder: Path, rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "persons.csv", rows)
    return folder


def test_a_memo_lasts_until_the_data_changes(store: Store, tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert store.memo("k", compute) == 1 and store.memo("k", compute) == 1  # kept
    assert store.memo("other", compute) == 2
    assert load_dataset(store, _persons(tmp_path / "a", [{"id": "p1", "name": "甲"}])).ok
    assert store.memo("k", compute) == 3  # its own import: forgotten at once


def test_another_process_import_is_noticed(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    reader, writer = open_store(url, create=True), open_store(url)
    assert reader.memo("n", lambda: len(reader.get_persons(["p1"]))) == 0
    assert load_dataset(writer, _persons(tmp_path / "a", [{"id": "p1", "name": "甲"}])).ok
    time.sleep(0.06)  # RECHECK_SECONDS
    assert reader.memo("n", lambda: len(reader.get_persons(["p1"]))) == 1
