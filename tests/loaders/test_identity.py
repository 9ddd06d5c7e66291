"""Person identity across sources (docs/input-format.md, "People"): a row finds its stored
person by an alias, by ``same_as`` or, with ``match_persons``, by name and birth; homonyms
are told apart by birth, an ambiguous match is an error, never a guess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from graph.backends.embedded import EmbeddedStore
from graph.errors import InvalidInput
from graph.model import dates_agree
from graph.store import Store
from loaders.load import LoadOptions, load_dataset
from loaders.stream import stream_dataset
from tests.helpers import Load, write_csv

MATCH = LoadOptions(match_persons=True)


def _source_a(folder: Path) -> Path:
    """Two different 李强 (born 1959-07 and 1966), each with a post."""
    folder.mkdir(parents=True)
    write_csv(
        folder / "organizations.csv",
        [
            {"id": "P", "name": "某省", "kind": "committee", "level": "province"},
            {"id": "C", "name": "某市", "kind": "committee", "level": "city", "parent_id": "P"},
        ],
    )
    write_csv(
        folder / "positions.csv",
        [
            {"id": "P/sec", "org_id": "P", "title": "省委书记", "role": "secretary"},
            {"id": "C/sec", "org_id": "C", "title": "市委书记", "role": "secretary"},
            {"id": "C/dep", "org_id": "C", "title": "市委副书记", "role": "deputy_secretary"},
        ],
    )
    write_csv(
        folder / "persons.csv",
        [
            {"id": "a1", "name": "李强", "birth": "1959-07", "native_place": "浙江瑞安"},
            {"id": "a2", "name": "李强", "birth": "1966"},
        ],
    )
    write_csv(
        folder / "tenures.csv",
        [
            {"person_id": "a1", "position_id": "C/sec", "start": "2004-01", "end": "2010-01"},
            {"person_id": "a2", "position_id": "C/dep", "start": "2012-01"},
        ],
    )
    return folder


def _source_b(folder: Path, persons: list[dict[str, str]], tenures: list[dict[str, str]] | None = None) -> Path:
    folder.mkdir(parents=True)
    write_csv(folder / "persons.csv", persons)
    write_csv(
        folder / "tenures.csv",
        tenures or [{"person_id": persons[0]["id"], "position_id": "P/sec", "start": "2012-11"}],
    )
    return folder


def test_a_row_is_matched_by_name_and_birth_and_keeps_its_id_as_alias(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    # 1959 fits 1959-07 (a1) and not 1966 (a2): one person, whatever source B calls him
    b = _source_b(tmp_path / "b", [{"id": "b1", "姓名": "李强", "出生年月": "1959年", "gender": "男"}])
    report = load_dataset(store, b, options=MATCH)
    assert report.ok, [str(e) for e in report.errors]
    assert [w.rule for w in report.warnings] == ["person-matched", "updated"]
    assert "loaded as a1, with b1 kept as its alias" in report.warnings[0].message
    assert report.counts["persons"]["updated"] == 1
    assert store.existing_ids("persons", ["a1", "b1"]) == {"a1"}
    a1 = store.get_persons(["a1"])["a1"]
    assert (a1.birth, a1.gender, a1.aliases) == ("1959-07", "男", ("b1",))  # the stored birth kept
    held = sorted((t.start, t.position_id) for t in store.tenures(person_ids=["a1"]))
    assert held == [("2004-01", "C/sec"), ("2012-11", "P/sec")]
    assert store.alias_owners(["b1", "zz"]) == {"b1": "a1"}
    # The same source again: nothing new, and the alias finds a1 without a match.
    again = load_dataset(store, b)
    assert again.ok and again.counts["persons"]["unchanged"] == 1 and not again.written


def test_without_the_option_a_name_never_joins_two_records(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    report = load_dataset(store, _source_b(tmp_path / "b", [{"id": "b1", "name": "李强", "birth": "1959"}]))
    assert report.ok and report.counts["persons"]["new"] == 1
    assert store.existing_ids("persons", ["a1", "b1"]) == {"a1", "b1"}


def test_two_fitting_persons_are_an_error_until_not_same_as_tells(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    more = tmp_path / "a2"
    more.mkdir()
    write_csv(more / "persons.csv", [{"id": "a3", "name": "李强", "birth": "1959"}])
    assert load_dataset(store, more).ok
    b = _source_b(tmp_path / "b", [{"id": "b1", "name": "李强", "birth": "1959-07"}])
    report = load_dataset(store, b, options=MATCH)
    assert not report.ok and not report.written
    [error] = report.errors
    assert (error.file, error.row, error.rule) == ("persons.csv", 2, "ambiguous-person")
    assert "a1 李强 (1959-07, 浙江瑞安), a3 李强 (1959)" in error.message
    told = _source_b(tmp_path / "c", [{"id": "b1", "name": "李强", "birth": "1959-07", "not_same_as": "a3"}])
    report = load_dataset(store, told, options=MATCH)
    assert report.ok, [str(e) for e in report.errors]
    assert store.get_persons(["a1"])["a1"].aliases == ("b1",)


def test_a_native_place_that_differs_tells_two_persons_apart(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    b = _source_b(tmp_path / "b", [{"id": "b1", "name": "李强", "birth": "1959-07", "籍贯": "山东"}])
    report = load_dataset(store, b, options=MATCH)
    assert (
        report.ok and report.counts["persons"]["new"] == 1 and "person-matched" not in {w.rule for w in report.warnings}
    )


def test_a_name_without_a_birth_is_a_new_person_and_a_warning(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    report = load_dataset(store, _source_b(tmp_path / "b", [{"id": "b1", "name": "李强"}]), options=MATCH)
    assert report.ok and report.counts["persons"]["new"] == 1
    [warning] = [w for w in report.warnings if w.rule == "same-name"]
    assert "a1 李强 (1959-07, 浙江瑞安), a2 李强 (1966)" in warning.message


def test_same_as_links_a_row_and_a_stored_alias_is_followed_by_every_load(
    store: Store, tmp_path: Path, load: Load
) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    b = _source_b(tmp_path / "b", [{"id": "b2", "name": "李强", "同一人": "a2"}])
    assert load_dataset(store, b).ok
    assert store.get_persons(["a2"])["a2"].aliases == ("b2",)
    # A third file names b2 only: in memory and streamed, it is a2's.
    c = tmp_path / "c"
    c.mkdir()
    write_csv(c / "tenures.csv", [{"person_id": "b2", "position_id": "C/sec", "start": "2015-01"}])
    report = load(store, c)
    assert report.ok, [str(e) for e in report.errors]
    held = sorted((t.start, t.position_id) for t in store.tenures(person_ids=["a2"]))
    assert held == [("2012-01", "C/dep"), ("2012-11", "P/sec"), ("2015-01", "C/sec")]


def test_same_as_naming_nobody_and_an_alias_taken_are_errors(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    b = _source_b(
        tmp_path / "b",
        [{"id": "b1", "name": "李强", "same_as": "zz"}, {"id": "b2", "name": "王伟", "aliases": "a1"}],
    )
    report = load_dataset(store, b)
    assert sorted((e.row, e.column, e.rule) for e in report.errors) == [
        (2, "same_as", "unknown-reference"),
        (3, "aliases", "duplicate-id"),
    ]
    assert not report.written


def test_a_streamed_load_refuses_matching(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _source_a(tmp_path / "a")).ok
    b = _source_b(tmp_path / "b", [{"id": "b2", "name": "李强", "same_as": "a2"}])
    with pytest.raises(InvalidInput, match="--no-stream"):
        stream_dataset(store, b, options=MATCH)
    report = stream_dataset(store, b, chunk_rows=2)
    assert [e.rule for e in report.errors] == ["needs-memory"] and not report.written


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [("1959", "1959-07", True), ("1959-07", "1959-07-03", True), ("1959-07", "1959-08", False), (None, "1959", False)],
)
def test_dates_agree_at_the_coarser_precision(a: str | None, b: str, agree: bool) -> None:
    assert dates_agree(a, b) is agree


def test_a_store_of_the_previous_schema_is_migrated(tmp_path: Path) -> None:
    folder = _source_a(tmp_path / "a")
    store = EmbeddedStore(tmp_path / "s")
    assert load_dataset(store, folder).ok
    store.close()
    db = sqlite3.connect(tmp_path / "s" / "rtc.sqlite3")  # back to version 2: no identity columns
    for column in ("native_place", "aliases", "not_same_as"):
        db.execute(f'ALTER TABLE persons DROP COLUMN "{column}"')
    db.execute('ALTER TABLE organizations DROP COLUMN "predecessor_ids"')
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    db.commit()
    db.close()
    store = EmbeddedStore(tmp_path / "s")
    assert store.get_persons(["a1"])["a1"].native_place is None  # the column is new: empty
    b = _source_b(tmp_path / "b", [{"id": "b1", "name": "李强", "birth": "1959-07"}])
    assert load_dataset(store, b, options=MATCH).ok
    assert store.get_persons(["a1"])["a1"].aliases == ("b1",)
    assert store.get_organizations(["C"])["C"].predecessor_ids == ()
    store.close()
