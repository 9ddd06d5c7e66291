"""What a load keeps of the raw rows it read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.backends.embedded import EmbeddedStore
from loaders import load, readers
from loaders.load import NO_PROPS, LoadOptions, Report, load_dataset, load_tables, parse_row, read_folder
from loaders.readers import Row
from tests.helpers import organization, write_csv, write_dataset
from tests.loaders.test_interchange import POPOLO


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


def test_a_folder_is_read_as_its_rows_are_parsed(
    tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the raw rows of every file were held at once before the first was parsed (1.1 GB a province)
    yielded: dict[str, int] = {}

    def counting(path: Path, **kw: Any) -> tuple[list[str], Iterator[Row]]:
        header, rows = readers.read_rows(path, **kw)

        def each() -> Iterator[Row]:
            for row in rows:
                yielded[path.name] = yielded.get(path.name, 0) + 1
                yield row

        return header, each()

    seen: dict[str, dict[str, int]] = {}

    def parse(entity: str, src: Any, raw: Any, report: Report, shared: Any = None) -> Any:
        seen.setdefault(entity, dict(yielded))
        return parse_row(entity, src, raw, report, shared)

    monkeypatch.setattr(load, "read_rows", counting)
    monkeypatch.setattr(load, "parse_row", parse)
    report = load_dataset(EmbeddedStore(tmp_path / "s"), tiny_dataset)
    assert report.ok and report.written
    assert seen["organizations"] == {"organizations.csv": 1}
    assert seen["actions"]["organizations.csv"] == report.counts["organizations"]["read"]
    assert "actions.csv" not in seen["persons"]


def test_equal_values_of_a_load_are_one_object(tmp_path: Path, tiny_dataset: Path) -> None:
    report = Report(source=str(tiny_dataset))
    tables = read_folder(tiny_dataset, report)
    shared: dict[str, str] = {}
    actions = [parse_row("actions", src, raw, report, shared) for src, raw in tables["actions"]]
    assert report.ok
    by_value: dict[str, Any] = {}
    for a in actions:
        assert a is not None
        for column in ("date", "from_org_id", "to_org_id"):
            assert by_value.setdefault(a[column], a[column]) is a[column]
    ids = [a["id"] for a in actions if a is not None]
    assert not any(i in shared for i in ids), "a record's own id is never kept twice"
    # and a record without properties has the one empty props, which a load never changes
    assert all(a is not None and a["props"] is NO_PROPS for a in actions)
    assert load_dataset(EmbeddedStore(tmp_path / "s"), tiny_dataset).ok and NO_PROPS == {}


def test_a_file_broken_part_way_is_reported_where_and_nothing_is_written(tmp_path: Path) -> None:
    folder = write_dataset(
        tmp_path / "d",
        organizations=[organization("O1", "县委", "committee", "county")],
        positions=[{"id": "P1", "org_id": "O1", "title": "书记", "role": "secretary"}],
    )
    persons = folder / "persons.csv"
    persons.write_text("id,name\nU1,张伟\nU2,王芳,extra\nU3,李四\n", encoding="utf-8")
    write_csv(folder / "tenures.csv", [{"person_id": "U3", "position_id": "P1", "start": "2020-01-01"}])
    store = EmbeddedStore(tmp_path / "s")
    report = load_dataset(store, folder)
    assert not report.ok and not report.written and store.counts() == EmbeddedStore(tmp_path / "t").counts()
    # the problem where it is; no unknown-reference noise from the rows the file could not give
    assert [(e.file, e.row, e.rule) for e in report.errors] == [("persons.csv", 3, "malformed-csv")]


def test_a_file_with_a_header_only_is_an_error_once(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", organizations=[organization("O1", "县委", "committee", "county")])
    (folder / "persons.csv").write_text("id,name\n", encoding="utf-8")
    report = load_dataset(EmbeddedStore(tmp_path / "s"), folder)
    assert [(e.file, e.rule) for e in report.errors] == [("persons.csv", "no-rows")]


def test_a_canonical_file_and_a_popolo_file_of_one_entity_load_together(tmp_path: Path) -> None:
    # the rows of the Popolo file follow the CSV file's, as read_folder gives them
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("organizations", "posts", "persons", "memberships"):
        (folder / f"{name}.json").write_text(json.dumps(POPOLO[name], ensure_ascii=False), encoding="utf-8")
    write_csv(folder / "persons.csv", [{"id": "pz", "name": "新人"}])
    write_csv(folder / "organizations.csv", [organization("ZZ", "某县委", "committee", "county")])
    whole = {entity: len(rows) for entity, rows in read_folder(folder, Report(source="t")).items()}
    store = EmbeddedStore(tmp_path / "s")
    report = load_dataset(store, folder)
    assert report.ok, report.errors
    assert {entity: c["read"] for entity, c in report.counts.items() if c["read"]} == whole
    assert set(store.get_persons(["pz", "p1"])) == {"pz", "p1"} and store.get_organizations(["ZZ"])
