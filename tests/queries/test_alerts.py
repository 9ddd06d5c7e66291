"""Alerts on personnel changes, hand-checked on the scenario: case K1 in T (discipline,
[2020-03-01, 2020-12-01)) has no leader held to account; its secretary p1 was promoted to X on
2020-07-01 (c1) and its discipline member p3 transferred to T2 on 2021-01-01 (c3)."""

from __future__ import annotations

from pathlib import Path

from graph.store import Store
from loaders.load import load_dataset
from queries.indicators.alerts import alerts, import_alerts, stored_moves
from queries.indicators.scheme import parse_scheme
from queries.indicators.scores import scores
from queries.window import Window
from tests.helpers import write_csv
from tests.queries.test_indicators import TWO


def test_moves_of_responsible_people_raise_case_alerts(scenario_store: Store) -> None:
    moves = stored_moves(scenario_store)
    assert [(m.id, m.kind.value) for m in moves] == [("c1", "promote"), ("c3", "transfer")]
    found = [a for a in alerts(scenario_store, parse_scheme(TWO), moves) if a.kind == "open-case"]
    assert [(a.change_id, a.person_id, a.case_id, a.role) for a in found] == [
        ("c1", "p1", "K1", "first"),
        ("c3", "p3", "K1", "portfolio"),
    ]
    assert found[0].evidence and "leader accountability not done" in found[0].detail


def test_a_leader_held_to_account_closes_the_case_alert(scenario_store: Store, tmp_path: Path) -> None:
    write_csv(
        tmp_path / "accountability.csv",
        [{"id": "q1", "case_id": "K1", "person_id": "p1", "outcome": "admonishment", "date": "2021-02-01"}],
    )
    assert load_dataset(scenario_store, tmp_path).ok
    found = alerts(scenario_store, parse_scheme(TWO), stored_moves(scenario_store))
    assert [a for a in found if a.kind == "open-case"] == []


def test_a_move_after_leading_a_red_organization(scenario_store: Store) -> None:
    # TWO on 2019: T's share is 0.55, red; p1 led T all of 2019 and was promoted in 2020
    assert (
        scores(scenario_store, parse_scheme(TWO), Window.of("2019", "2020"), org_ids=["T"]).organizations[0].warning
        == "red"
    )
    found = [
        a
        for a in alerts(scenario_store, parse_scheme(TWO), stored_moves(scenario_store))
        if a.kind == "red-organization"
    ]
    red_2019 = [a for a in found if a.change_id == "c1" and a.year == "2019"]
    assert [(a.org_id, a.share) for a in red_2019] == [("T", 0.55)]
    held = [x.id for x in scenario_store.tenures(person_ids=["p1"]) if x.position_id == "T/sec"]
    assert red_2019[0].evidence == held  # the tenure behind it (no veto: red by its share)
    # one year of look-back: only 2019 is looked at for the 2020 move
    one = alerts(scenario_store, parse_scheme(TWO), stored_moves(scenario_store), lookback_years=1)
    assert {a.year for a in one if a.kind == "red-organization" and a.change_id == "c1"} == {"2019"}


def test_an_imported_promotion_lists_its_alert(scenario_store: Store, tmp_path: Path) -> None:
    # p2 became T's secretary on 2020-07-01, inside K1's window: first responsible too
    write_csv(
        tmp_path / "changes.csv",
        [
            {
                "id": "c9",
                "date": "2021-03-01",
                "kind": "promote",
                "person_id": "p2",
                "from_position_id": "T/sec",
                "to_position_id": "S/dep",
            }
        ],
    )
    report = load_dataset(scenario_store, tmp_path)
    assert report.ok and [c["id"] for c in report.new_changes] == ["c9"]
    found = import_alerts(scenario_store, parse_scheme(TWO), report.new_changes)
    assert [(a["kind"], a["person_id"], a["case_id"], a["role"]) for a in found if a["kind"] == "open-case"] == [
        ("open-case", "p2", "K1", "first")
    ]
    again = load_dataset(scenario_store, tmp_path)  # nothing new: no alert to raise again
    assert again.ok and again.new_changes == []
