"""Popolo and FollowTheMoney in and out (docs/interchange.md): an export loaded into an empty
store gives the same answers, and the odd cases of real files load as documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from graph.errors import InvalidInput
from graph.factory import open_store
from graph.store import Store
from loaders.interchange.export import export_dataset
from loaders.load import load_dataset
from queries.accountability import accountability
from queries.lookups import career, holders

EXAMPLE = Path(__file__).parents[2] / "examples" / "county"


def answers(store: Store) -> dict[str, Any]:
    """Every holders answer on the first of each year, every career, every case's accountability
    (without the sources: a record loaded from an export has the export as its first source)."""
    positions = sorted(store.get_positions())
    persons = sorted(p["id"] for p in store.export("persons"))
    cases = sorted(c["id"] for c in store.export("cases"))
    days = [f"{y}-01-01" for y in range(2012, 2027)] + ["2021-06-30", "2023-03-15"]
    return _without_sources(
        {
            "holders": {
                f"{p}@{d}": [h.model_dump(mode="json") for h in holders(store, p, d)] for p in positions for d in days
            },
            "career": {p: [s.model_dump(mode="json") for s in career(store, p)] for p in persons},
            "accountability": {c: accountability(store, c).model_dump(mode="json") for c in cases},
        }
    )


def _without_sources(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_sources(v) for k, v in value.items() if k != "sources"}
    if isinstance(value, list):
        return [_without_sources(v) for v in value]
    return value


def _store(path: Path) -> Store:
    return open_store(f"embedded://{path}")


@pytest.fixture(scope="module", params=["county", "tiny"])
def original(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, Any]]:
    folder = EXAMPLE if request.param == "county" else request.getfixturevalue("tiny_dataset")
    store = _store(tmp_path_factory.mktemp("original") / "store")
    assert load_dataset(store, folder).ok
    yield store, answers(store)
    store.close()


@pytest.mark.parametrize("fmt", ["csv", "popolo", "ftm"])
def test_an_export_loads_into_an_empty_store_with_the_same_answers(
    original: tuple[Store, dict[str, Any]], fmt: str, tmp_path: Path
) -> None:
    store, before = original
    export_dataset(store, tmp_path / "out", fmt)
    again = _store(tmp_path / "again")
    report = load_dataset(again, tmp_path / "out")
    assert report.ok, report.errors[:5]
    after = answers(again)
    assert after["holders"] == before["holders"]
    assert after["career"] == before["career"]
    assert after["accountability"] == before["accountability"]
    assert sum(1 for _ in again.export("changes")) == sum(1 for _ in store.export("changes"))
    again.close()


def test_a_popolo_and_an_ftm_export_load_into_every_backend(store: Store, tmp_path: Path) -> None:
    original = _store(tmp_path / "original")
    assert load_dataset(original, EXAMPLE).ok
    before = answers(original)
    export_dataset(original, tmp_path / "popolo", "popolo")
    export_dataset(original, tmp_path / "ftm", "ftm")
    assert load_dataset(store, tmp_path / "popolo").ok
    assert answers(store) == before
    sources = [s.sources for s in career(store, "P04")]  # the tenure row's and the change's, on every backend
    assert sources[1] == [sources[1][0], "青组干〔2022〕3号"] and sources[1][0].startswith("popolo.json#memberships[")
    again = load_dataset(store, tmp_path / "ftm")  # the same records, from another format
    assert again.ok and not again.written, again.errors[:3]
    original.close()


# ---------------------------------------------------------------- files others wrote

POPOLO: dict[str, Any] = {
    "organizations": [
        {"id": "QX", "name": "青溪县委", "classification": "party committee", "founding_date": "1950"},
        {"id": "DH", "name": "东河镇党委", "parent_id": "QX", "identifiers": [{"scheme": "uscc", "identifier": "X1"}]},
        {"id": "QX-JW", "name": "青溪县纪委", "classification": "county/commission", "parent_id": "QX"},
    ],
    "posts": [
        {"id": "QX/sec", "label": "县委书记", "role": "Party Secretary", "organization_id": "QX"},
        {"id": "DH/sec", "label": "镇党委书记", "organization_id": "DH"},
        {"id": "QX-JW/sec", "label": "县纪委书记", "organization_id": "QX-JW"},
        {"id": "DH/dep", "label": "镇党委副书记", "organization_id": "DH"},  # vacant
    ],
    "persons": [
        {
            "id": "p1",
            "name": "陈志远",
            "birth_date": "1968-04",
            "other_names": [{"name": "陈志元", "end_date": "1990"}],
            "sources": [{"url": "https://example.org/chen"}],
        },
        {"id": "p2", "name": "林秀英", "gender": "female", "birth_date": "1972"},
        {"id": "p3", "name": "王建"},
    ],
    "memberships": [
        {"id": "m1", "person_id": "p1", "post_id": "QX/sec", "start_date": "2018-03"},
        {"person_id": "p2", "post_id": "DH/sec", "start_date": "2016", "end_date": "2020-06", "on_behalf_of_id": "x"},
        {"person_id": "p3", "organization_id": "DH", "role": "委员", "start_date": "2019-01-01"},  # no post
    ],
    "events": [{"id": "e1"}],
}


def _popolo(folder: Path, doc: dict[str, Any] = POPOLO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "popolo.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_popolo_document_loads_with_its_odd_cases_kept(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    report = load_dataset(store, _popolo(tmp_path / "in"))
    assert report.ok, report.errors
    rules = {w.rule for w in report.warnings}
    assert {"post-made", "ignored-collection"} <= rules  # the membership without a post; the events
    orgs = store.get_organizations()
    assert (orgs["QX"].level.value, orgs["QX"].kind.value) == ("county", "committee")  # table + name
    assert (orgs["DH"].level.value, orgs["DH"].kind.value) == ("township", "committee")  # name alone
    assert json.loads(orgs["DH"].props["identifiers"]) == [{"scheme": "uscc", "identifier": "X1"}]
    positions = store.get_positions()
    assert positions["QX/sec"].role.value == "secretary" and positions["QX-JW/sec"].role.value == "discipline_secretary"
    assert positions["DH#委员"].role.value == "member"  # made for the membership without a post
    assert "DH/dep" in positions and not holders(store, "DH/dep", "2019-06-01")  # vacant, kept
    assert [h.person.id for h in holders(store, "DH/sec", "2020-05-31")] == ["p2"]
    assert not holders(store, "DH/sec", "2020-07-01")  # imprecise end 2020-06: ended by then
    chen = store.get_persons(["p1"])["p1"]
    assert json.loads(chen.props["other_names"]) == [{"name": "陈志元", "end_date": "1990"}]  # two names over time
    assert chen.props["source"] == "https://example.org/chen"
    steps = career(store, "p2")
    assert steps[0].sources == ["popolo.json#memberships[2]"]
    assert career(store, "p1")[0].sources == ["popolo.json#memberships/m1"]
    # out again: the names and the sources where Popolo has them, the rest in ``rtc``
    export_dataset(store, tmp_path / "out", "popolo")
    doc = json.loads((tmp_path / "out" / "popolo.json").read_text(encoding="utf-8"))
    person = next(p for p in doc["persons"] if p["id"] == "p1")
    assert person["other_names"] == [{"name": "陈志元", "end_date": "1990"}]
    assert person["rtc"]["source"] == "https://example.org/chen"
    assert {p["id"] for p in doc["posts"]} >= {"DH/dep", "DH#委员"}
    member = next(m for m in doc["memberships"] if m["person_id"] == "p2")
    assert member["on_behalf_of_id"] == "x" and member["rtc"]["source"] == "popolo.json#memberships[2]"
    again = _store(tmp_path / "again")
    assert load_dataset(again, tmp_path / "out").ok
    assert again.get_persons(["p1"])["p1"].props == chen.props  # the first source kept, not the export's
    store.close()
    again.close()


def test_popolo_per_collection_files_load_as_the_document_does(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for name in ("organizations", "posts", "persons", "memberships"):
        (folder / f"{name}.json").write_text(json.dumps(POPOLO[name], ensure_ascii=False), encoding="utf-8")
    store = _store(tmp_path / "s")
    report = load_dataset(store, folder)
    assert report.ok, report.errors
    assert [h.person.id for h in holders(store, "QX/sec", "2020-01-01")] == ["p1"]
    assert career(store, "p2")[0].sources == ["memberships.json[2]"]
    store.close()


def test_an_unmapped_classification_is_an_error_naming_the_record(tmp_path: Path) -> None:
    doc = {
        **POPOLO,
        "organizations": [*POPOLO["organizations"], {"id": "X", "name": "Hospital", "classification": "hospital"}],
    }
    report = load_dataset(_store(tmp_path / "s"), _popolo(tmp_path / "in", doc))
    assert not report.ok and not report.written
    bad = [e for e in report.errors if e.rule == "unmapped-classification"]
    assert [(e.file, e.row, e.value) for e in bad] == [("popolo.json#organizations", 4, "hospital")]
    assert "--mapping" in bad[0].message
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("classifications:\n  hospital: {level: county, kind: department}\n", encoding="utf-8")
    report = load_dataset(_store(tmp_path / "t"), tmp_path / "in", mapping=mapping)
    assert report.ok, report.errors


def _ftm(folder: Path, *entities: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "entities.ftm.json"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities), encoding="utf-8")
    return path


FTM = [
    {"id": "QX", "schema": "PublicBody", "properties": {"name": ["青溪县委"], "classification": ["county/committee"]}},
    {"id": "pos-sec", "schema": "Position", "properties": {"name": ["县委书记"], "organization": ["QX"]}},
    {
        "id": "Q1",
        "schema": "Person",
        "properties": {"name": ["陈志远", "陈志元"], "birthDate": ["1968-04"], "sourceUrl": ["https://example.org/q1"]},
        "datasets": ["cn_leaders"],
    },
    {"id": "Q2", "schema": "Person", "properties": {"name": ["林秀英"]}},
    {
        "id": "occ-1",
        "schema": "Occupancy",
        "properties": {
            "holder": ["Q2"],
            "post": ["pos-sec"],
            "startDate": ["2012"],
            "endDate": ["2018-03"],
            "status": ["ended"],
        },
    },
    {
        "id": "occ-2",
        "schema": "Occupancy",
        "properties": {"holder": ["Q1"], "post": ["pos-sec"], "startDate": ["2018-03"], "status": ["current"]},
    },
    {"id": "addr", "schema": "Address", "properties": {"full": ["somewhere"]}},
]


def test_an_ftm_stream_loads_with_provenance_and_other_names(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    report = load_dataset(store, _ftm(tmp_path / "in", *FTM))
    assert report.ok, report.errors
    assert [w.rule for w in report.warnings] == ["ignored-schema"]  # the Address, counted
    assert [h.person.id for h in holders(store, "pos-sec", "2017-01-01")] == ["Q2"]
    assert [h.person.id for h in holders(store, "pos-sec", "2019-01-01")] == ["Q1"]
    q1 = store.get_persons(["Q1"])["Q1"]
    assert q1.name == "陈志远" and q1.props["other_name"] == "陈志元"
    assert q1.props["source"] == "https://example.org/q1" and q1.props["datasets"] == ["cn_leaders"]
    assert career(store, "Q2")[0].sources == ["entities.ftm.json#occ-1"]
    assert store.get_positions(["pos-sec"])["pos-sec"].role.value == "secretary"
    store.close()


def test_an_ended_occupancy_without_its_end_is_an_error(tmp_path: Path) -> None:
    ended = {
        "id": "occ-3",
        "schema": "Occupancy",
        "properties": {"holder": ["Q2"], "post": ["pos-sec"], "startDate": ["2010"], "status": ["ended"]},
    }
    report = load_dataset(_store(tmp_path / "s"), _ftm(tmp_path / "in", *FTM[:4], ended))
    assert not report.ok and not report.written
    assert [(e.file, e.row, e.rule) for e in report.errors] == [("entities.ftm.json", 5, "ended-without-end")]


def test_an_elite_dataset_loads_namesakes_apart_with_day_first_dates(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    report = load_dataset(store, Path(__file__).parents[2] / "examples" / "elite", elite=True)
    assert report.ok, report.errors
    persons = {p["id"]: p for p in store.export("persons")}
    assert sorted(persons) == ["李强(1955)/1955", "李强(江苏省)/1959-07-23", "王敏/1962"]  # two 李强
    assert {p["name"] for p in persons.values()} == {"李强", "王敏"}
    fallen = persons["李强(1955)/1955"]["props"]
    assert fallen["status"] == "落马" and fallen["investigated_on"] == "2016-11-03"  # 03/11/2016, day first
    assert fallen["investigated_by"] == "中央纪委"
    steps = career(store, "李强(江苏省)/1959-07-23")
    assert [(s.post.title, s.post.start, s.post.end) for s in steps] == [
        ("省委书记", "2012-10-01", "2016-03-15"),
        ("纪委书记", "2016-03-15", None),  # 9999-99: still in office
    ]
    assert steps[1].post.role == "discipline_secretary" and steps[0].sources == ["careers.csv:2"]
    assert [h.person.id for h in holders(store, "青溪县委#县委书记", "2017-01-01")] == ["王敏/1962"]
    store.close()


def test_export_refuses_a_folder_with_files_and_csv_at_a_date(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    assert load_dataset(store, EXAMPLE).ok
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(InvalidInput, match="not an empty folder"):
        export_dataset(store, tmp_path / "full", "popolo")
    with pytest.raises(InvalidInput, match="--at is for popolo and ftm"):
        export_dataset(store, tmp_path / "csv", "csv", at="2020-01-01")
    with pytest.raises(InvalidInput, match="unknown export format"):
        export_dataset(store, tmp_path / "x", "xml")
    store.close()


def test_an_export_at_a_date_holds_the_memberships_of_that_day(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    assert load_dataset(store, EXAMPLE).ok
    export_dataset(store, tmp_path / "out", "popolo", at="2021-06-30")
    doc = json.loads((tmp_path / "out" / "popolo.json").read_text(encoding="utf-8"))
    held = {(h.person.id, h.post.position_id) for p in store.get_positions() for h in holders(store, p, "2021-06-30")}
    assert {(m["person_id"], m["post_id"]) for m in doc["memberships"]} == held
    assert not any("opened_change" in m["rtc"] for m in doc["memberships"])  # a snapshot: no changes
    again = _store(tmp_path / "again")
    assert load_dataset(again, tmp_path / "out").ok
    assert {
        (h.person.id, h.post.position_id) for p in again.get_positions() for h in holders(again, p, "2021-06-30")
    } == held
    store.close()
    again.close()


@pytest.mark.parametrize(
    ("name", "text", "where", "rule"),
    [
        ("popolo.json", '{"persons": [{"id": "p1",', ("popolo.json", 1), "bad-json"),
        ("popolo.json", "[]", ("popolo.json", None), "bad-popolo"),
        ("popolo.json", '{"persons": ["p1"]}', ("popolo.json#persons", 1), "bad-popolo"),
        ("persons.json", '{"id": "p1"}', ("persons.json", None), "bad-popolo"),
        (
            "entities.ftm.json",
            '{"id": "p1", "schema": "Person", "properties": {"name": ["x"]}}\n{"id": ',
            ("entities.ftm.json", 2),
            "bad-json",
        ),
        (
            "entities.ftm.json",
            '{"id": "p1", "schema": "Person", "properties": []}',
            ("entities.ftm.json", 1),
            "bad-ftm",
        ),
    ],
)
def test_a_broken_file_is_an_error_naming_where(
    tmp_path: Path, name: str, text: str, where: tuple[str, Any], rule: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    report = load_dataset(_store(tmp_path / "s"), folder)
    assert not report.ok and not report.written
    assert (report.errors[0].file, report.errors[0].row, report.errors[0].rule) == (*where, rule)


def test_a_source_column_of_a_canonical_file_shows_in_the_evidence(tmp_path: Path) -> None:
    folder = tmp_path / "county"
    shutil.copytree(EXAMPLE, folder)
    lines = (folder / "tenures.csv").read_text(encoding="utf-8").splitlines()
    sourced = [lines[0] + ",source"] + [f"{line},档案{n}" for n, line in enumerate(lines[1:], start=2)]
    (folder / "tenures.csv").write_text("\n".join(sourced) + "\n", encoding="utf-8")
    store = _store(tmp_path / "s")
    assert load_dataset(store, folder).ok
    rows = accountability(store, "K-2021-001").responsible
    first = next(r for r in rows if r.role == "first")
    assert first.evidence.sources[first.evidence.tenures[0]][0].startswith("档案")
    store.close()


def test_an_elite_unit_without_a_level_is_an_error_naming_the_row(tmp_path: Path) -> None:
    folder = tmp_path / "elite"
    folder.mkdir()
    (folder / "careers.csv").write_text(
        "姓名,起始时间,终止时间,单位,职务\n张三,2010,2012,国务院,副秘书长\n", encoding="utf-8"
    )
    report = load_dataset(_store(tmp_path / "s"), folder, elite=True)
    first = report.errors[0]  # then the level and kind it leaves empty, on the same row
    assert (first.file, first.row, first.rule, first.value) == ("careers.csv", 2, "unmapped-unit", "国务院")
    assert {(e.file, e.row) for e in report.errors} == {("careers.csv", 2)} and not report.written
