"""Formats, encodings, headers, idempotency and personnel-change semantics."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from graph.model import Role
from graph.store import Store
from loaders.load import load_dataset
from loaders.readers import FileProblem, read_column, read_rows
from queries.lookups import holders
from tests.helpers import organization, write_csv, write_dataset, write_jsonl

ORGS = [organization("X", "县委", "committee", "county"), organization("T", "镇党委", "committee", "township", "X")]


def test_gb18030_and_bom_csv_with_chinese_headers_and_labels(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "organizations.csv").write_bytes(
        "id,名称,kind,层级,上级\nX,县委,党委,县,\nT,镇党委,committee,乡镇,X\n".encode("gb18030")
    )
    (folder / "positions.csv").write_bytes(
        "\ufeffid,org_id,职务,role,portfolio\nT/sec,T,书记,书记,\nT/m,T,委员,班子成员,纪律建设;作风建设\n".encode(
            "utf-8"
        )
    )
    (folder / "persons.csv").write_text("id,姓名\np1,张伟\n", encoding="utf-8-sig")
    (folder / "tenures.csv").write_text(
        "person_id,position_id,任职时间,离任时间\np1,T/sec,2019-03,\n", encoding="utf-8"
    )
    report = load_dataset(store, folder)
    assert report.ok, [str(e) for e in report.errors]
    assert store.get_organizations(["T"])["T"].level.value == "township"
    member = store.get_positions(["T/m"])["T/m"]
    assert member.role is Role.member and [c.value for c in member.portfolio] == ["discipline", "work_style"]
    assert member.rank == 21  # township 20 + member 1
    assert [h.post.start for h in holders(store, "T/sec", "2019-03-01")] == ["2019-03"]


def test_jsonl_and_xlsx(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    write_jsonl(folder / "organizations.jsonl", [dict(o) for o in ORGS])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "org_id", "title", "role", "rank", "portfolio"])
    sheet.append(["T/sec", "T", "书记", "secretary", 26, None])
    book.save(folder / "positions.xlsx")
    write_jsonl(folder / "persons.jsonl", [{"id": "p1", "name": "李娜", "birth": 1980}])
    report = load_dataset(store, folder)
    assert report.ok, [str(e) for e in report.errors]
    assert store.get_positions(["T/sec"])["T/sec"].rank == 26  # an explicit rank wins
    assert store.get_persons(["p1"])["p1"].birth == "1980"


def test_unknown_columns_are_kept_as_properties(store: Store, tmp_path: Path) -> None:
    folder = write_dataset(tmp_path, organizations=[{**ORGS[0], "统一社会信用代码": "123"}])
    assert load_dataset(store, folder).ok
    assert store.get_organizations(["X"])["X"].props == {"统一社会信用代码": "123"}


def test_loading_twice_changes_nothing(store: Store, tiny_dataset: Path) -> None:
    first = load_dataset(store, tiny_dataset)
    assert first.ok and first.written
    counts = store.counts()
    second = load_dataset(store, tiny_dataset)
    assert second.ok and not second.written
    assert store.counts() == counts
    assert all(c["new"] == 0 and c["updated"] == 0 for c in second.counts.values())


def test_dry_run_writes_nothing(store: Store, tiny_dataset: Path) -> None:
    report = load_dataset(store, tiny_dataset, dry_run=True)
    assert report.ok and not report.written
    assert sum(store.counts().values()) == 0


def test_back_dated_change_lands_where_it_belongs(store: Store, tmp_path: Path) -> None:
    base = write_dataset(
        tmp_path / "a",
        organizations=ORGS,
        positions=[
            {"id": "T/sec", "org_id": "T", "title": "书记", "role": "secretary"},
            {"id": "X/sec", "org_id": "X", "title": "书记", "role": "secretary"},
        ],
        persons=[{"id": "p1", "name": "张伟"}, {"id": "p2", "name": "王芳"}],
        tenures=[{"person_id": "p1", "position_id": "T/sec", "start": "2018-01-01"}],
        changes=[{"id": "c2", "date": "2021-01-01", "kind": "appoint", "person_id": "p2", "to_position_id": "X/sec"}],
    )
    assert load_dataset(store, base).ok
    assert [h.person.id for h in holders(store, "T/sec", "2020-06-01")] == ["p1"]
    later = tmp_path / "b"
    later.mkdir()  # a correction filed later: p1 was promoted on 2020-01-01, before p2's appointment to X/sec
    write_csv(
        later / "changes.csv",
        [
            {
                "id": "c1",
                "date": "2020-01-01",
                "kind": "promote",
                "person_id": "p1",
                "from_position_id": "T/sec",
                "to_position_id": "X/sec",
            },
            {"id": "c3", "date": "2021-01-01", "kind": "remove", "person_id": "p1", "from_position_id": "X/sec"},
        ],
    )
    report = load_dataset(store, later)
    assert report.ok, [str(e) for e in report.errors]
    assert holders(store, "T/sec", "2020-06-01") == []
    assert [h.person.id for h in holders(store, "X/sec", "2020-06-01")] == ["p1"]
    assert [h.person.id for h in holders(store, "X/sec", "2021-01-01")] == ["p2"]


def test_tenure_row_end_given_later_is_an_update(store: Store, tmp_path: Path) -> None:
    rows = {
        "organizations": ORGS,
        "positions": [{"id": "T/sec", "org_id": "T", "title": "书记", "role": "secretary"}],
        "persons": [{"id": "p1", "name": "张伟"}],
    }
    assert load_dataset(
        store,
        write_dataset(tmp_path / "a", **rows, tenures=[{"person_id": "p1", "position_id": "T/sec", "start": "2018"}]),
    ).ok
    report = load_dataset(
        store,
        write_dataset(
            tmp_path / "b", tenures=[{"person_id": "p1", "position_id": "T/sec", "start": "2018", "end": "2020-05-01"}]
        ),
    )
    assert report.ok and report.counts["tenures"]["updated"] == 1
    assert holders(store, "T/sec", "2020-05-01") == []


def test_import_log_records_every_write(store: Store, tiny_dataset: Path) -> None:
    load_dataset(store, tiny_dataset, log={"who": "clerk-1"})
    entry = store.import_log(1)[0]
    assert entry["who"] == "clerk-1" and entry["source"] == str(tiny_dataset)
    assert json.dumps(entry["counts"])  # JSON-serialisable summary


def test_one_column_read_alone_is_what_the_records_hold(tmp_path: Path) -> None:
    """The streamed loader declares ids with ``read_column``: the same values as ``read_rows``,
    blank rows and empty cells left out, in every format, and the same problems."""
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('\ufeff 编号 ,name\n a1 ,x\n\n , \n"a,2",y\n,z\na3,"multi\nline"\n', encoding="utf-8")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"编号": "a1", "name": "x"}\n\n{"编号": " a2 "}\n{"name": "z"}\n', encoding="utf-8")
    for path, expected in ((csv_file, ["a1", "a,2", "a3"]), (jsonl, ["a1", "a2"])):
        _, rows = read_rows(path, stream=True)
        from_records = [v for _, r in rows if (v := str(r.get("编号") or "").strip())]
        assert list(read_column(path, {"id", "编号"})) == from_records == expected
        assert list(read_column(path, {"nope"})) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\nb1,x\nb2,y,extra\nb3,z\n", encoding="utf-8")
    values: list[str] = []
    with pytest.raises(FileProblem, match="3 fields but the header has 2"):
        values.extend(read_column(bad, {"id"}))
    assert values == ["b1"]
