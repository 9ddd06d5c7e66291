"""What a load keeps of the raw rows it read."""

from __future__ import annotations

from pathlib import Path

from graph.backends.embedded import EmbeddedStore
from loaders.load import LoadOptions, Report, load_tables, read_folder


def test_a_load_lets_each_raw_row_go_once_parsed(tmp_path: Path, tiny_dataset: Path) -> None:
    # nothing reads a raw row again once parsed: kept, a province's took half a gigabyte
    report = Report(source=str(tiny_dataset))
    tables = read_folder(tiny_dataset, report)
    read = {entity: len(rows) for entity, rows in tables.items()}
    assert load_tables(EmbeddedStore(tmp_path / "s"), tables, report).ok
    assert all(rows == [] for rows in tables.values())
    assert {e: c["read"] for e, c in report.counts.items()} == read


def test_a_tolerant_load_keeps_the_raw_rows_it_may_set_aside(tmp_path: Path, tiny_dataset: Path) -> None:
    report = Report(source=str(tiny_dataset))
    tables = read_folder(tiny_dataset, report)
    read = {entity: len(rows) for entity, rows in tables.items()}
    assert load_tables(EmbeddedStore(tmp_path / "s"), tables, report, options=LoadOptions(tolerant=True)).ok
    assert {entity: len(rows) for entity, rows in tables.items()} == read
