"""Scenario tests with hand-checked answers (the dataset is described in tests/scenario.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import queries.accountability as accountability_module
from graph.errors import InvalidInput
from graph.store import Store
from loaders.load import load_dataset
from queries.accountability import accountability, adhoc_case
from tests import scenario
from tests.helpers import organization, write_dataset

AS_OF = "2022-01-01"


def rows(store: Store, case: str, **kw: object) -> list[tuple[str, str, str | None, int, str]]:
    result = accountability(store, case, as_of=AS_OF, **kw)  # type: ignore[arg-type]
    return [
        (r.role, r.person.id, r.post_then.position_id if r.post_then else None, r.overlap_days, r.movement)
        for r in result.responsible
    ]


def days(a: str, b: str) -> int:
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days


def test_handover_promotion_transfer_retirement_and_two_level_upstream(scenario_store: Store) -> None:
    upstream = days("2019-03-02", "2020-12-01")  # [s - 365 days, e)
    assert rows(scenario_store, "K1", depth=2) == [
        ("direct", "p7", "T/staff", 275, "same"),
        ("first", "p1", "T/sec", days("2020-03-01", "2020-07-01"), "promoted"),  # handover inside the window
        ("first", "p2", "T/sec", days("2020-07-01", "2020-12-01"), "same"),
        ("portfolio", "p3", "T/m1", 275, "transferred"),  # sideways to T2
        ("supervisory", "p4", "T-JW/dis", 275, "left"),  # retired
        ("upstream", "p8", "X/sec", upstream, "same"),
        ("upstream", "p9", "X/m1", upstream, "same"),
        ("upstream", "p10", "S/sec", upstream, "same"),
        ("upstream", "p11", "S/m1", upstream, "same"),
        ("collective", "p5", "T/dep", 275, "same"),
        ("collective", "p6", "T/m2", 275, "same"),
    ]


def test_posts_now_path_last_post_and_evidence(scenario_store: Store) -> None:
    result = accountability(scenario_store, "K1", as_of=AS_OF, depth=2)
    by = {(r.role, r.person.id): r for r in result.responsible}
    promoted = by[("first", "p1")]
    assert [p.position_id for p in promoted.posts_now] == ["X/dep"]
    assert [p.position_id for p in promoted.path] == ["T/sec", "X/dep"]
    assert promoted.person.name == "张伟"
    assert promoted.evidence.tenures == ["p1|T/sec|2018-01-01"]
    retired = by[("supervisory", "p4")]
    assert retired.posts_now == [] and retired.last_post is not None
    assert retired.last_post.position_id == "T-JW/dis" and retired.last_post.end == "2021-06-01"
    assert retired.post_then is not None and retired.post_then.start == "2017"  # precision kept
    assert by[("upstream", "p8")].evidence.actions == ["a1"]  # only a document was sent
    assert by[("upstream", "p10")].level_up == 2 and by[("upstream", "p10")].evidence.actions == ["a2"]
    assert result.case.window_end == "2020-12-01"


def test_depth_one_stops_after_one_level_and_strong_action_stops_the_chain(scenario_store: Store) -> None:
    roles = {(r[0], r[1]) for r in rows(scenario_store, "K1", depth=1)}
    assert ("upstream", "p8") in roles and ("upstream", "p10") not in roles
    deep = {(r[0], r[1]) for r in rows(scenario_store, "K1", depth=5)}
    assert ("upstream", "p12") not in deep  # P sent S an inspection: the failure ends at S


def test_case_without_violator_and_vacant_posts(scenario_store: Store) -> None:
    assert rows(scenario_store, "K2") == [
        ("upstream", "p8", "X/sec", days("2020-03-01", "2021-09-01"), "same"),
        ("collective", "p3", "T2/m1", days("2021-03-01", "2021-09-01"), "same"),
    ]


def test_window_before_any_tenure_gives_empty_roles(scenario_store: Store) -> None:
    assert rows(scenario_store, "K3", depth=2) == []


def test_adhoc_case_and_as_of_in_the_past(scenario_store: Store) -> None:
    case = adhoc_case("T", "2020-03-01", "2020-12-01", "discipline", ["p7"])
    result = accountability(scenario_store, case, as_of="2020-08-01")
    by = {(r.role, r.person.id): r.movement for r in result.responsible}
    assert by[("first", "p1")] == "promoted"
    assert by[("portfolio", "p3")] == "same"  # not yet transferred on 2020-08-01
    assert by[("supervisory", "p4")] == "same"


def test_as_of_inside_or_before_the_window(scenario_store: Store) -> None:
    """p2 takes T/sec on 2020-07-01, inside the window: seen on 2020-06-01 they have not left,
    they are not yet in post. Before the misconduct began there is no movement to see."""
    case = adhoc_case("T", "2020-03-01", "2020-12-01", "discipline", ["p7"])
    result = accountability(scenario_store, case, as_of="2020-06-01")
    by = {(r.role, r.person.id): r.movement for r in result.responsible}
    assert by[("first", "p2")] == "not yet"
    assert by[("first", "p1")] == "same"
    with pytest.raises(InvalidInput, match=r"as_of 2020-02-29 is before the misconduct began \(2020-03-01\)"):
        accountability(scenario_store, case, as_of="2020-02-29")


def test_unknown_case_and_bad_arguments(scenario_store: Store) -> None:
    with pytest.raises(KeyError):
        accountability(scenario_store, "nope")
    with pytest.raises(ValueError):
        adhoc_case("T", "2020-01-01", None, "not-a-category")
    with pytest.raises(ValueError):
        accountability(scenario_store, "K1", lookback_days=-1)


def test_an_explicit_supervising_commission_outside_the_chain(store: Store, tmp_path: Path) -> None:
    """T is supervised by the commission of its sibling T2 (``supervised_by``), not by its own:
    the supervisory row is T2's discipline secretary, whose post is not in T's chain."""
    orgs = [{**o, "supervised_by": "T2-JW"} if o["id"] == "T" else o for o in scenario.ORGS]
    folder = write_dataset(
        tmp_path / "data",
        organizations=orgs,
        positions=scenario._positions(),
        persons=[*scenario.PERSONS, {"id": "p13", "name": "钱进"}],
        tenures=[*scenario.TENURES, {"person_id": "p13", "position_id": "T2-JW/dis", "start": "2019-01-01"}],
        changes=scenario.CHANGES,
        actions=scenario.ACTIONS,
        cases=scenario.CASES,
    )
    assert load_dataset(store, folder).ok
    rows = accountability(store, "K1", as_of="2022-01-01").responsible
    assert [(r.person.id, r.post_then and r.post_then.position_id) for r in rows if r.role == "supervisory"] == [
        ("p13", "T2-JW/dis")
    ]


def test_only_the_posts_a_row_shows_are_named(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row shows the post then, the posts now, the path between and the last post: the
    career's earlier posts are never made into posts (their positions, organizations and
    places read for nothing: on a nation a third of the careers' tenures)."""
    folder = write_dataset(
        tmp_path / "data",
        organizations=[
            organization("P", "某省委", "committee", "province"),
            organization("O", "甲县委", "committee", "county", "P"),
            organization("T", "乙县委", "committee", "county", "P"),
        ],
        positions=[
            {"id": "O/m", "org_id": "O", "title": "常委", "role": "member"},
            {"id": "O/sec", "org_id": "O", "title": "县委书记", "role": "secretary"},
            {"id": "T/sec", "org_id": "T", "title": "县委书记", "role": "secretary"},
            {"id": "P/dep", "org_id": "P", "title": "副书记", "role": "deputy_secretary"},
        ],
        persons=[{"id": "x", "name": "张三"}],
        tenures=[
            {"person_id": "x", "position_id": "O/m", "start": "2005-01-01", "end": "2008-01-01"},
            {"person_id": "x", "position_id": "O/sec", "start": "2008-01-01", "end": "2012-01-01"},
            {"person_id": "x", "position_id": "T/sec", "start": "2012-01-01", "end": "2020-01-01"},
            {"person_id": "x", "position_id": "P/dep", "start": "2020-01-01", "end": ""},
        ],
        cases=[{"id": "K1", "org_id": "T", "category": "discipline", "start": "2016-01-01", "end": "2017-01-01"}],
    )
    assert load_dataset(store, folder).ok
    named: list[str] = []
    real = accountability_module.posts_of
    monkeypatch.setattr(
        accountability_module, "posts_of", lambda s, ts: named.extend(t.position_id for t in ts) or real(s, ts)
    )
    (row,) = [r for r in accountability(store, "K1", as_of="2021-01-01").responsible if r.role == "first"]
    assert [p.position_id for p in row.path] == ["T/sec", "P/dep"]
    assert row.movement == "promoted"
    assert sorted(set(named)) == ["P/dep", "T/sec"]
