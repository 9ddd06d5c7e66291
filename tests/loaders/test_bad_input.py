"""Each bad input gets a clear error naming file, row, column, value and rule, and nothing is written:
through the in-memory loader and the streaming one (in chunks of two rows), the same findings."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from graph.store import Store
from loaders.load import Finding
from tests.helpers import Load, organization, write_csv, write_dataset

ORGS = [organization("X", "县委", "committee", "county"), organization("T", "镇党委", "committee", "township", "X")]
POSITIONS = [
    {"id": "T/sec", "org_id": "T", "title": "书记", "role": "secretary"},
    {"id": "T/staff", "org_id": "T", "title": "干部", "role": "staff"},
]
PERSONS = [{"id": "p1", "name": "张伟"}, {"id": "p2", "name": "王芳"}]


def base(folder: Path) -> Path:
    return write_dataset(folder, organizations=ORGS, positions=POSITIONS, persons=PERSONS)


def only_error(store: Store, folder: Path, load: Load) -> Finding:
    before = store.counts()
    report = load(store, folder)
    assert not report.ok and not report.written
    assert store.counts() == before, "a batch with an error must write nothing"
    assert report.errors, report
    return report.errors[0]


def test_malformed_csv_row(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").write_text("id,name\np1,张伟\np2,王芳,extra\n", encoding="utf-8")
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.rule) == ("persons.csv", 3, "malformed-csv")
    assert "3 fields" in e.message


def test_unterminated_quote(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").write_text('id,name\np1,"张伟\n', encoding="utf-8")
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("persons.csv", "malformed-csv")


def test_wrong_encoding(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").write_bytes("id,name\np1,José Müller, ok\n".encode("utf-16"))
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("persons.csv", "encoding")
    assert "UTF-8" in e.message


def test_latin1_bytes(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").write_bytes("id,name\np1,Café \n".encode("latin-1"))
    assert only_error(store, folder, load).rule == "encoding"


def test_missing_required_column(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "persons.csv", [{"id": "p1", "gender": "男"}])
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.column, e.rule) == ("persons.csv", 1, "name", "missing-column")
    assert "姓名" in e.message  # names the Chinese alias too


def test_missing_required_field(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "persons.csv", [{"id": "p1", "name": "张伟"}, {"id": "p2", "name": ""}])
    e = only_error(store, folder, load)
    assert (e.row, e.column, e.rule) == (3, "name", "missing-field")


def test_unknown_enum_value_lists_the_allowed(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "positions.csv", [{"id": "T/sec", "org_id": "T", "title": "书记", "role": "king"}])
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.column, e.value, e.rule) == ("positions.csv", 2, "role", "king", "bad-enum")
    assert "secretary" in e.message and "discipline_secretary" in e.message


def test_unknown_id_reference(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "tenures.csv", [{"person_id": "ghost", "position_id": "T/sec", "start": "2020-01-01"}])
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.column, e.value, e.rule) == ("tenures.csv", 2, "person_id", "ghost", "unknown-reference")


def test_end_before_start_and_bad_date(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(
        folder / "tenures.csv",
        [
            {"person_id": "p1", "position_id": "T/sec", "start": "2020-05-01", "end": "2020-01-01"},
            {"person_id": "p2", "position_id": "T/staff", "start": "2020-02-30"},
        ],
    )
    report = load(store, folder)
    rules = {(e.row, e.column, e.rule) for e in report.errors}
    assert rules == {(2, "end", "end-before-start"), (3, "start", "bad-date")}
    assert report.error_count == 2  # every error of the batch, not only the first


def test_overlapping_tenures_on_a_one_holder_position(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(
        folder / "tenures.csv",
        [
            {"person_id": "p1", "position_id": "T/sec", "start": "2019-01-01", "end": "2021-01-01"},
            {"person_id": "p2", "position_id": "T/sec", "start": "2020-06-01"},
            {"person_id": "p1", "position_id": "T/staff", "start": "2019-01-01"},  # staff: several holders are fine
            {"person_id": "p2", "position_id": "T/staff", "start": "2019-01-01"},
        ],
    )
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.value, e.rule) == ("tenures.csv", 3, "T/sec", "overlapping-tenure")
    assert "p1" in e.message and "p2" in e.message


def test_overlap_with_a_stored_tenure(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path / "a")
    write_csv(folder / "tenures.csv", [{"person_id": "p1", "position_id": "T/sec", "start": "2019-01-01"}])
    assert load(store, folder).ok
    second = tmp_path / "b"
    second.mkdir()
    write_csv(
        second / "changes.csv",
        [{"id": "c1", "date": "2020-01-01", "kind": "appoint", "person_id": "p2", "to_position_id": "T/sec"}],
    )
    e = only_error(store, second, load)
    assert (e.file, e.row, e.rule) == ("changes.csv", 2, "overlapping-tenure")


def test_an_overlap_opened_by_a_stored_change_names_it(store: Store, tmp_path: Path, load: Load) -> None:
    """p2's seat comes from the store, and p2 has a new change: the later tenure's source is the
    stored change that opened it."""
    folder = base(tmp_path / "a")
    write_csv(
        folder / "changes.csv",
        [{"id": "c1", "date": "2020-01-01", "kind": "appoint", "person_id": "p2", "to_position_id": "T/sec"}],
    )
    assert load(store, folder).ok
    second = tmp_path / "b"
    second.mkdir()
    write_csv(second / "tenures.csv", [{"person_id": "p1", "position_id": "T/sec", "start": "2019-01-01"}])
    write_csv(
        second / "changes.csv",
        [{"id": "c2", "date": "2022-01-01", "kind": "appoint", "person_id": "p2", "to_position_id": "T/staff"}],
    )
    e = only_error(store, second, load)
    assert (e.file, e.row, e.rule) == ("stored change c1", None, "overlapping-tenure")


def test_closing_a_tenure_that_is_not_open(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(
        folder / "changes.csv",
        [{"id": "c1", "date": "2020-01-01", "kind": "remove", "person_id": "p1", "from_position_id": "T/sec"}],
    )
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.column, e.value, e.rule) == (
        "changes.csv",
        2,
        "from_position_id",
        "T/sec",
        "close-not-open",
    )


def test_duplicate_id_with_different_content(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "persons.csv", [{"id": "p1", "name": "张伟"}, {"id": "p1", "name": "张三"}])
    e = only_error(store, folder, load)
    assert (e.row, e.column, e.value, e.rule) == (3, "id", "p1", "duplicate-id")
    assert "name" in e.message


def test_duplicate_id_against_the_store(store: Store, tmp_path: Path, load: Load) -> None:
    assert load(store, base(tmp_path / "a")).ok
    folder = tmp_path / "b"
    folder.mkdir()
    write_csv(folder / "persons.csv", [{"id": "p1", "name": "张三"}])
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("persons.csv", "duplicate-id") and "already stored" in e.message


CHANGE = {"id": "c1", "date": "2019-01-01", "kind": "appoint", "person_id": "p1", "to_position_id": "T/sec"}
ACTION = {
    "id": "a1",
    "date": "2019-03-01",
    "kind": "meeting",
    "from_org_id": "X",
    "to_org_id": "T",
    "category": "discipline",
}


@pytest.mark.parametrize(
    ("entity", "record", "column", "other"),
    [("changes", CHANGE, "date", "2019-02-01"), ("actions", ACTION, "kind", "guidance")],
)
def test_a_change_or_an_action_stored_with_other_content(
    store: Store, tmp_path: Path, load: Load, entity: str, record: dict[str, str], column: str, other: str
) -> None:
    """Found again through its person (a change) or its recipient (an action), as a server store
    keeps them: the same content is unchanged, other content is refused."""
    folder = base(tmp_path / "a")
    write_csv(folder / f"{entity}.csv", [record])
    assert load(store, folder).ok
    again = tmp_path / "b"
    again.mkdir()
    write_csv(again / f"{entity}.csv", [record])
    report = load(store, again)
    assert report.ok and not report.written and report.counts[entity]["unchanged"] == 1
    write_csv(again / f"{entity}.csv", [record | {column: other}])
    e = only_error(store, again, load)
    assert (e.file, e.row, e.rule) == (f"{entity}.csv", 2, "duplicate-id") and "already stored" in e.message


@pytest.mark.parametrize("same", [True, False])
def test_an_id_repeated_in_a_later_chunk(store: Store, tmp_path: Path, load: Load, same: bool) -> None:
    """Rows far apart in one file (in different chunks when streamed; a first load into FalkorDB
    is written aside, and its scratch keeps actions only when an id repeats): the same content
    is stored once, other content is refused at the repeated row."""
    folder = base(tmp_path)
    again = ACTION if same else ACTION | {"kind": "guidance"}
    write_csv(folder / "actions.csv", [ACTION, *(ACTION | {"id": f"a{n}"} for n in (2, 3, 4)), again])
    if same:
        report = load(store, folder)
        assert report.ok and report.counts["actions"]["new"] == 4 and store.counts()["actions"] == 4
    else:
        e = only_error(store, folder, load)
        assert (e.file, e.row, e.value, e.rule) == ("actions.csv", 6, "a1", "duplicate-id")


def test_a_change_id_given_to_two_persons(store: Store, tmp_path: Path, load: Load) -> None:
    """Streamed, two persons' changes come in different chunks (a chunk holds whole persons):
    the later one is refused as in one batch, though the scratch is asked for a change only
    when a change id repeats in the files."""
    folder = base(tmp_path)
    appoint = {"id": "c1", "date": "2019-01-01", "kind": "appoint", "to_position_id": "T/staff"}
    write_csv(folder / "changes.csv", [appoint | {"person_id": "p1"}, appoint | {"person_id": "p2"}])
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.value, e.rule) == ("changes.csv", 3, "c1", "duplicate-id")


def test_a_change_without_the_positions_its_kind_needs(store: Store, tmp_path: Path, load: Load) -> None:
    """An appointment without to_position_id is an error naming the field, as a transfer
    without from_position_id is, not an internal error."""
    folder = base(tmp_path)
    changes = [
        {"id": "c1", "date": "2019-01-01", "kind": "appoint", "person_id": "p1"},
        {"id": "c2", "date": "2019-01-01", "kind": "transfer", "person_id": "p2", "to_position_id": "T/staff"},
    ]
    write_csv(folder / "changes.csv", changes)
    report = load(store, folder)  # the first was an AssertionError deriving p1's tenures
    assert not report.ok and not report.written
    found = sorted((e.row, e.column, e.rule, e.message) for e in report.errors)
    assert found == [
        (2, "to_position_id", "missing-field", "a appoint change needs to_position_id"),
        (3, "from_position_id", "missing-field", "a transfer change needs from_position_id"),
    ]


def test_a_move_whose_kind_the_ranks_contradict_is_a_warning(store: Store, tmp_path: Path, load: Load) -> None:
    """``kind-vs-rank``: a promotion to a position of the same rank, and a transfer to a
    higher one, are kept, and said; a promotion that goes up is not."""
    folder = base(tmp_path)
    ranked = [{**p, "rank": 7} for p in POSITIONS] + [
        {"id": "X/sec", "org_id": "X", "title": "书记", "role": "secretary", "rank": 8},
        {"id": "X/staff", "org_id": "X", "title": "干部", "role": "staff", "rank": 8},
    ]
    write_csv(folder / "positions.csv", ranked)
    changes = [
        {"id": "c1", "date": "2019-01-01", "kind": "appoint", "person_id": "p1", "to_position_id": "T/staff"},
        {
            "id": "c2",
            "date": "2020-01-01",
            "kind": "promote",
            "person_id": "p1",
            "from_position_id": "T/staff",
            "to_position_id": "T/sec",
        },
        {
            "id": "c3",
            "date": "2021-01-01",
            "kind": "transfer",
            "person_id": "p1",
            "from_position_id": "T/sec",
            "to_position_id": "X/sec",
        },
        {"id": "c4", "date": "2019-01-01", "kind": "appoint", "person_id": "p2", "to_position_id": "T/staff"},
        {
            "id": "c5",
            "date": "2020-01-01",
            "kind": "promote",
            "person_id": "p2",
            "from_position_id": "T/staff",
            "to_position_id": "X/staff",
        },
    ]
    write_csv(folder / "changes.csv", changes)
    report = load(store, folder)
    assert report.ok and report.written, report.errors
    found = sorted((w.row, w.value, w.message) for w in report.warnings if w.rule == "kind-vs-rank")
    assert found == [
        (3, "promote", "declared promote but the rank goes from 7 to 7"),
        (4, "transfer", "declared transfer but the rank goes from 7 to 8"),
    ]


def test_same_content_again_is_skipped(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "persons.csv", [{"id": "p1", "name": "张伟"}, {"id": "p1", "name": "张伟"}])
    report = load(store, folder)
    assert report.ok and report.counts["persons"] == {"read": 2, "new": 1, "unchanged": 0, "updated": 0}


@pytest.mark.parametrize(
    "writer, rule",
    [
        (lambda p: p.write_bytes(b""), "empty-file"),
        (lambda p: p.write_text("id,org_id,category,start\n", encoding="utf-8"), "no-rows"),
    ],
)
def test_empty_files(store: Store, tmp_path: Path, load: Load, writer: Callable[[Path], None], rule: str) -> None:
    folder = base(tmp_path)
    writer(folder / "cases.csv")
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("cases.csv", rule)


def test_xlsx_with_an_empty_sheet(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    book = openpyxl.Workbook()
    book.active.title = "人员"
    book.save(folder / "cases.xlsx")
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("cases.xlsx", "empty-file") and "人员" in e.message


def test_two_files_for_one_entity(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.jsonl").write_text('{"id": "p9", "name": "x"}\n', encoding="utf-8")
    assert only_error(store, folder, load).rule == "duplicate-file"


def test_bad_jsonl_line(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").unlink()
    (folder / "persons.jsonl").write_text('{"id": "p1", "name": "张伟"}\n{"id": "p2", "name": \n', encoding="utf-8")
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.rule) == ("persons.jsonl", 2, "malformed-jsonl")


def test_error_list_is_capped_but_counted(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    write_csv(folder / "persons.csv", [{"id": f"p{i}", "name": "", "birth": "x"} for i in range(50)])
    report = load(store, folder, max_errors=10)
    assert report.error_count == 100 and len(report.errors) == 10


HOSTILE = ['O\'Brien "the" `x`', "}) MATCH (n) DETACH DELETE n //", "a;b", "RETURN 1", "{$param}", "\\'; DROP TABLE x"]


def test_cypher_looking_and_quote_laden_strings_are_data(store: Store, tmp_path: Path, load: Load) -> None:
    persons = [{"id": f"id-{i}-{s}", "name": s} for i, s in enumerate(HOSTILE)]
    persons = [p for p in persons if ";" not in p["id"]]
    folder = write_dataset(
        tmp_path, organizations=[organization("o'1`}", 'x"}', "committee", "county")], persons=persons
    )
    report = load(store, folder)
    assert report.ok, report.errors
    found = store.get_persons([p["id"] for p in persons])
    assert {p.id: p.name for p in found.values()} == {p["id"]: p["name"] for p in persons}
    assert store.get_organizations(["o'1`}"])["o'1`}"].name == 'x"}'


def test_latin1_that_gb18030_would_read_is_refused(store: Store, tmp_path: Path, load: Load) -> None:
    """``Müller`` in Latin-1 is valid GB18030 (``M黮ler``): refused, never converted."""
    folder = base(tmp_path)
    (folder / "persons.csv").write_bytes(b"id,name\np1,Li\np2,M\xfcller\n")
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.rule) == ("persons.csv", 3, "encoding")
    assert "byte 18 (0xfc, line 3) is not UTF-8" in e.message


def test_mixed_utf8_and_gb18030_lines_are_refused(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    raw = "id,name\np1,张伟\n".encode() + "p2,王芳\n".encode("gb18030")
    (folder / "persons.csv").write_bytes(raw)
    e = only_error(store, folder, load)
    assert (e.file, e.row, e.rule) == ("persons.csv", 3, "encoding")
    assert "mixed encodings: line 2 is UTF-8" in e.message


def test_gb18030_with_characters_outside_gb2312_still_loads(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").write_bytes("id,name\np1,朱镕基\np2,王芳\n".encode("gb18030"))
    report = load(store, folder)
    assert report.ok, report.errors
    assert store.get_persons(["p1"])["p1"].name == "朱镕基"


@pytest.mark.parametrize("where", [10, 5000])  # in the first 4 KiB, and after it
def test_a_nul_byte_anywhere_is_an_encoding_error_with_its_line(
    store: Store, tmp_path: Path, load: Load, where: int
) -> None:
    folder = base(tmp_path)
    rows = [f"q{i},name {i}\n".encode() for i in range(where // 12)]
    (folder / "persons.csv").write_bytes(b"id,name\n" + b"".join(rows) + b"p\x009,bad\n")
    e = only_error(store, folder, load)
    assert (e.file, e.rule, e.row) == ("persons.csv", "encoding", len(rows) + 2)
    assert "NUL byte" in e.message


def test_a_nested_json_object_is_an_error_not_a_python_repr(store: Store, tmp_path: Path, load: Load) -> None:
    folder = base(tmp_path)
    (folder / "persons.csv").unlink()
    (folder / "persons.jsonl").write_text(
        '{"id": "p1", "name": {"zh": "张伟"}}\n{"id": "p2", "name": ["王芳", "x"]}\n', encoding="utf-8"
    )
    report = load(store, folder)
    assert not report.ok and not report.written
    found = {(e.row, e.column, e.rule) for e in report.errors}
    assert found == {(1, "name", "nested-value"), (2, "name", "bad-str")}


@pytest.mark.parametrize("damage", ["truncated", "shared-string"])
def test_a_damaged_xlsx_is_an_error_naming_the_file(store: Store, tmp_path: Path, load: Load, damage: str) -> None:
    import zipfile

    folder = base(tmp_path)
    (folder / "persons.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name"])
    for i in range(50):
        sheet.append([f"p{i}", f"名字{i}"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(folder / "persons.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                if damage == "truncated":
                    data = data[: len(data) // 2]
                else:  # a cell pointing past the shared strings
                    data = re.sub(rb'<c r="B30" [^>]*>.*?</c>', b'<c r="B30" t="s"><v>9999</v></c>', data, count=1)
            dst.writestr(item, data)
    e = only_error(store, folder, load)
    assert (e.file, e.rule) == ("persons.xlsx", "malformed-xlsx")
    assert "damaged" in e.message
