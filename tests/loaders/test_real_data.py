"""Loading real, messy personnel files: a second source enriches what is stored, a conflict
names its field, a short handover may be trimmed, and a tolerant load loads every valid row
and writes the others, unchanged and with their errors, to a rejects folder: nothing lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from graph.store import Store
from loaders.load import LoadOptions, load_dataset
from tests.helpers import Load, write_csv


def _base(folder: Path, persons: list[dict[str, str]] | None = None) -> Path:
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
        ],
    )
    write_csv(folder / "persons.csv", persons or [{"id": "u1", "name": "李强"}, {"id": "u2", "name": "王伟"}])
    return folder


def test_a_second_source_adds_a_birth_date_as_an_update(store: Store, tmp_path: Path, load: Load) -> None:
    assert load(store, _base(tmp_path / "a")).ok
    again = tmp_path / "b"
    again.mkdir()
    write_csv(again / "persons.csv", [{"id": "u1", "name": "李强", "birth": "1959-07", "籍贯": "浙江瑞安"}])
    report = load(store, again)
    assert report.ok, report.errors
    assert report.counts["persons"]["updated"] == 1 and report.written
    person = store.get_persons(["u1"])["u1"]
    assert (person.name, person.birth, person.native_place, person.props) == ("李强", "1959-07", "浙江瑞安", {})
    assert [w.rule for w in report.warnings] == ["updated"] and "birth" in report.warnings[0].message
    again_again = load(store, again)  # the same source again: nothing left to add
    assert again_again.ok and again_again.counts["persons"]["unchanged"] == 1 and not again_again.written


def test_a_conflicting_value_names_the_field_and_both_values(store: Store, tmp_path: Path, load: Load) -> None:
    assert load(store, _base(tmp_path / "a")).ok
    again = tmp_path / "b"
    again.mkdir()
    write_csv(again / "persons.csv", [{"id": "u1", "name": "李强强", "birth": "1959"}])
    report = load(store, again)
    assert not report.ok and not report.written
    (error,) = report.errors
    assert (error.column, error.value) == ("name", "李强强")
    assert "name is '李强' in the store, '李强强' here" in error.message and "--correct" in error.message
    corrected = load(store, again, options=LoadOptions(correct=True))
    assert corrected.ok and store.get_persons(["u1"])["u1"].name == "李强强"
    assert {w.rule for w in corrected.warnings} == {"corrected", "updated"}


def test_an_optional_reference_added_later_is_linked(store: Store, tmp_path: Path, load: Load) -> None:
    """A commission first given without its committee, then with it: the graph links them."""
    committee = {"id": "P", "name": "某省", "kind": "committee", "level": "province"}
    commission = {"id": "K", "name": "某省纪委", "kind": "commission", "level": "province"}
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, rows in ((first, [committee, commission]), (second, [commission | {"parent_id": "P"}])):
        folder.mkdir()
        write_csv(folder / "organizations.csv", rows)
    assert load(store, first).ok
    report = load(store, second)
    assert report.ok and report.counts["organizations"]["updated"] == 1
    assert [o.id for o in store.get_children(["P"]).get("P", [])] == ["K"]
    assert [o.id for o in store.org_context("P").commissions.get("P", [])] == ["K"]


def _handover(folder: Path, end: str, start: str) -> Path:
    _base(folder)
    write_csv(
        folder / "tenures.csv",
        [
            {"person_id": "u1", "position_id": "P/sec", "start": "2001-03-01", "end": end},
            {"person_id": "u2", "position_id": "P/sec", "start": start, "end": ""},
        ],
    )
    return folder


def test_the_handover_rule_trims_a_short_overlap(store: Store, tmp_path: Path) -> None:
    folder = _handover(tmp_path / "d", "2004-10-20", "2004-10-01")  # 19 days
    refused = load_dataset(store, folder, dry_run=True)
    assert [e.rule for e in refused.errors] == ["overlapping-tenure"]
    assert not load_dataset(store, folder, options=LoadOptions(handover_days=10)).ok
    report = load_dataset(store, folder, options=LoadOptions(handover_days=30))
    assert report.ok and [w.rule for w in report.warnings] == ["handover-trimmed"]
    assert "19 days" in report.warnings[0].message
    ends = {t.person_id: t.end for t in store.tenures(position_ids=["P/sec"])}
    assert ends == {"u1": "2004-10-01", "u2": None}
    assert (
        store.stored_records("tenure_rows", [("u1", "P/sec", "2001-03-01")])[("u1", "P/sec", "2001-03-01")]["end"]
        == "2004-10-20"
    )  # the row is kept as given


def _messy(folder: Path) -> Path:
    """Eight tenure rows: two with a bad date, one naming no known person, one overlapping;
    and a position naming an unknown organization (which sets aside its tenure too)."""
    _base(folder, [{"id": f"u{i}", "name": f"人{i}"} for i in range(1, 8)])
    write_csv(
        folder / "positions.csv",
        [
            {"id": "P/sec", "org_id": "P", "title": "省委书记", "role": "secretary"},
            {"id": "C/sec", "org_id": "C", "title": "市委书记", "role": "secretary"},
            {"id": "X/sec", "org_id": "X", "title": "县委书记", "role": "secretary"},
        ],
    )
    write_csv(
        folder / "tenures.csv",
        [
            {"person_id": "u1", "position_id": "P/sec", "start": "1998.03", "end": "2003.02"},
            {"person_id": "u2", "position_id": "P/sec", "start": "2003.03", "end": "至今"},
            {"person_id": "u3", "position_id": "C/sec", "start": "2001-13", "end": ""},
            {"person_id": "u4", "position_id": "C/sec", "start": "2002-01-05", "end": "2005-06-01"},
            {"person_id": "u5", "position_id": "C/sec", "start": "2004-02-01", "end": ""},
            {"person_id": "nobody", "position_id": "C/sec", "start": "1990", "end": "1991"},
            {"person_id": "u6", "position_id": "X/sec", "start": "2010", "end": ""},
            {"person_id": "u7", "position_id": "C/sec", "start": "Jan 1995", "end": "1996"},
        ],
    )
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_a_tolerant_load_keeps_every_valid_row_and_writes_the_others(store: Store, tmp_path: Path, load: Load) -> None:
    """In memory and streamed (in chunks of two rows, each round reading the files again)."""
    folder = _messy(tmp_path / "d")
    assert not load(store, folder, dry_run=True).ok  # all or nothing by default
    rejects = tmp_path / "rejects"
    report = load(store, folder, options=LoadOptions(tolerant=True), rejects_to=rejects)
    assert report.ok and report.written
    assert report.rejected == {"positions": 1, "tenures": 5}
    held = sorted((t.person_id, t.position_id) for t in store.tenures(position_ids=["P/sec", "C/sec", "X/sec"]))
    assert held == [("u1", "P/sec"), ("u2", "P/sec"), ("u4", "C/sec")]
    # nothing lost: every row read is stored or in the rejects folder, unchanged but for its error
    for name, entity in (("tenures.csv", "tenures"), ("positions.csv", "positions")):
        given, aside = _rows(folder / name), _rows(rejects / name)
        assert report.counts[entity]["read"] == len(given)
        assert len(aside) == report.rejected[entity]
        assert all(row["rtc_error"].startswith("[") for row in aside)
        assert all({k: v for k, v in row.items() if k != "rtc_error"} in given for row in aside)
    stored_rows = store.counts()["tenure_rows"]
    assert stored_rows + report.rejected["tenures"] == report.counts["tenures"]["read"]
    why = {r["person_id"]: r["rtc_error"] for r in _rows(rejects / "tenures.csv")}
    assert "bad-date" in why["u3"] and "bad-date" in why["u7"] and "overlapping-tenure" in why["u5"]
    assert "unknown-reference" in why["nobody"] or "nobody" in why["nobody"]
    assert "X/sec" in why["u6"] or "X" in why["u6"]


def test_the_rejects_load_again_once_fixed(store: Store, tmp_path: Path) -> None:
    folder = _messy(tmp_path / "d")
    rejects = tmp_path / "rejects"
    assert load_dataset(store, folder, options=LoadOptions(tolerant=True), rejects_to=rejects).ok
    rows = _rows(rejects / "tenures.csv")
    fixed = [r | {"start": "2001-12", "end": "2002-01"} for r in rows if r["person_id"] == "u3"]
    write_csv(rejects / "tenures.csv", fixed)
    (rejects / "positions.csv").unlink()
    report = load_dataset(store, rejects)
    assert report.ok, report.errors
    assert {t.person_id for t in store.tenures(position_ids=["C/sec"])} == {"u3", "u4"}


def test_a_rejects_folder_in_use_is_refused_before_anything_is_written(store: Store, tmp_path: Path) -> None:
    from graph.errors import InvalidInput

    folder = _messy(tmp_path / "d")
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not empty"):
        load_dataset(store, folder, options=LoadOptions(tolerant=True), rejects_to=used)
    assert store.counts()["tenure_rows"] == 0


@pytest.mark.parametrize("suffix", [".jsonl", ".xlsx"])
def test_rejects_keep_their_file_format(tmp_path: Path, suffix: str) -> None:
    from graph.factory import open_store
    from loaders.readers import read_rows

    folder = _messy(tmp_path / "d")
    rows = _rows(folder / "tenures.csv")
    (folder / "tenures.csv").unlink()
    if suffix == ".jsonl":
        (folder / "tenures.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(rows[0]))
        for r in rows:
            sheet.append(list(r.values()))
        book.save(folder / "tenures.xlsx")
    store = open_store(f"embedded://{tmp_path / 's'}")
    rejects = tmp_path / "rejects"
    report = load_dataset(store, folder, options=LoadOptions(tolerant=True), rejects_to=rejects)
    assert report.ok
    header, back = read_rows(rejects / f"tenures{suffix}")
    assert "rtc_error" in header and len(list(back)) == report.rejected["tenures"]


def _two_cities(folder: Path, tenures: list[dict[str, str]]) -> Path:
    _base(folder)
    write_csv(
        folder / "organizations.csv",
        [
            {"id": "P", "name": "某省", "kind": "committee", "level": "province"},
            {"id": "C", "name": "某市", "kind": "committee", "level": "city", "parent_id": "P"},
            {"id": "D", "name": "另市", "kind": "committee", "level": "city", "parent_id": "P"},
        ],
    )
    write_csv(
        folder / "positions.csv",
        [
            {"id": "P/sec", "org_id": "P", "title": "省委书记", "role": "secretary"},
            {"id": "P/m", "org_id": "P", "title": "省委常委", "role": "member"},
            {"id": "C/sec", "org_id": "C", "title": "市委书记", "role": "secretary"},
            {"id": "D/sec", "org_id": "D", "title": "市委书记", "role": "secretary"},
        ],
    )
    write_csv(folder / "tenures.csv", tenures)
    return folder


def test_two_incompatible_posts_at_once_are_a_warning(store: Store, tmp_path: Path, load: Load) -> None:
    """Secretary of two cities for months (seen in real data) is kept and said, with the overlap;
    a member post beside a secretary post, or a transfer whose day is not known, is not."""
    folder = _two_cities(
        tmp_path / "d",
        [
            {"person_id": "u1", "position_id": "C/sec", "start": "2003-01-01", "end": "2006-01-01"},
            {"person_id": "u1", "position_id": "D/sec", "start": "2005-06-01", "end": ""},
            {"person_id": "u1", "position_id": "P/m", "start": "2004-01-01", "end": ""},
            {"person_id": "u2", "position_id": "P/sec", "start": "2001-01-01", "end": "2008-05"},
            {"person_id": "u2", "position_id": "C/sec", "start": "2008", "end": "2009"},
        ],
    )
    report = load(store, folder)
    assert report.ok and report.written
    (warning,) = [w for w in report.warnings if w.rule == "double-post"]
    assert warning.value == "D/sec" and "u1 holds C/sec and D/sec at once" in warning.message
    assert "[2005-06-01, 2006-01-01), 214 days" in warning.message
    assert len(store.tenures(person_ids=["u1"])) == 3  # kept as given


def test_a_file_without_a_required_column_is_set_aside_whole(store: Store, tmp_path: Path, load: Load) -> None:
    folder = _base(tmp_path / "d")
    write_csv(folder / "tenures.csv", [{"person_id": "u1", "start": "2001"}, {"person_id": "u2", "start": "2003"}])
    report = load(store, folder, options=LoadOptions(tolerant=True), rejects_to=tmp_path / "rejects")
    assert report.ok and report.rejected == {"tenures": 2} and report.counts["tenures"]["read"] == 2
    assert {r.rule for r in report.rejects} == {"missing-column"}
    assert [r["person_id"] for r in _rows(tmp_path / "rejects" / "tenures.csv")] == ["u1", "u2"]
    assert store.counts()["persons"] == 2


def test_a_tolerant_load_still_fails_on_an_unreadable_file(store: Store, tmp_path: Path, load: Load) -> None:
    folder = _base(tmp_path / "d")
    (folder / "tenures.csv").write_text('person_id,position_id,start\nu1,C/sec,"2001\n', encoding="utf-8")
    report = load(store, folder, options=LoadOptions(tolerant=True), rejects_to=tmp_path / "rejects")
    assert not report.ok and not report.written and "malformed-csv" in {e.rule for e in report.errors}
    assert store.counts().get("persons", 0) == 0


@pytest.mark.parametrize("tolerant", [False, True])
def test_an_unreadable_file_hides_no_other_error(store: Store, tmp_path: Path, load: Load, tolerant: bool) -> None:
    """A 0-byte file used to stop the load before any row was checked: fixing it only showed
    the next error. Every row's own errors are listed with it; nothing is set aside."""
    folder = _base(tmp_path / "d", persons=[{"id": "u1", "name": "甲", "birth": "notadate"}])
    (folder / "actions.csv").write_bytes(b"")
    report = load(store, folder, options=LoadOptions(tolerant=tolerant), rejects_to=tmp_path / "rejects")
    assert not report.ok and not report.written
    assert {(e.file, e.rule) for e in report.errors} == {("actions.csv", "empty-file"), ("persons.csv", "bad-date")}
    assert not report.rejects and not (tmp_path / "rejects").exists()


def test_progress_names_each_step_of_a_load(store: Store, tmp_path: Path) -> None:
    """A long step (deriving tenures, writing) is said as it begins, not left under the last
    file's count (``rtc load``'s progress sat on "validated standards" for most of a load)."""
    from loaders.load import STEP

    heard: list[tuple[str, int]] = []
    folder = _base(tmp_path / "a")
    write_csv(folder / "tenures.csv", [{"person_id": "u1", "position_id": "C/sec", "start": "2001"}])
    assert load_dataset(store, folder, progress=lambda what, n: heard.append((what, n))).ok
    assert [what for what, n in heard if n == STEP] == [
        "checking references",
        "comparing with the store",
        "deriving tenures and checking them",
        "writing to the store",
    ]
    assert ("persons", 2) in heard
