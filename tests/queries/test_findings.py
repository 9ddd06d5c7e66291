from __future__ import annotations

from pathlib import Path

from graph.store import Store
from loaders.load import load_dataset
from queries.findings import coverage, gaps, periods, scorecard, soft_accountability
from queries.pressure import pressure
from queries.window import Window
from tests.helpers import write_csv


def test_gaps_on_a_date(scenario_store: Store) -> None:
    before = {(g.kind, tuple(g.ids)) for g in gaps(scenario_store, "2020-06-30")}
    after = {(g.kind, tuple(g.ids)) for g in gaps(scenario_store, "2020-07-01")}
    assert ("vacant", ("X/dep",)) in before and ("vacant", ("X/dep",)) not in after
    assert ("vacant", ("T2/m1",)) in before
    no_commission = [g for g in gaps(scenario_store, "2020-07-01") if g.kind == "no-commission"]
    assert [g.org_id for g in no_commission] == ["C"]
    t2 = [g for g in gaps(scenario_store, "2020-07-01") if g.kind == "no-portfolio-holder" and g.org_id == "T2"]
    assert t2 and "vacant" in t2[0].detail


def test_coverage_lists_who_was_missed(scenario_store: Store) -> None:
    rows = {(c.level, c.action_kind): c for c in coverage(pressure(scenario_store, Window.of("2019", "2021")))}
    township = rows[("township", "inspection")]
    assert (township.orgs, township.covered, township.share, township.missed) == (2, 1, 0.5, ["T2"])


def test_soft_accountability_and_double_investigation(
    scenario_store: Store, scenario_dataset: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "outcomes"
    folder.mkdir()
    write_csv(
        folder / "accountability.csv",
        [
            {"id": "q1", "case_id": "K1", "person_id": "p7", "outcome": "disciplinary"},
            {"id": "q2", "case_id": "K1", "person_id": "p1", "outcome": "admonishment"},
            {"id": "q3", "case_id": "K2", "person_id": "p3", "outcome": "criticism"},
        ],
    )
    write_csv(
        folder / "cases.csv",
        [{"id": "K4", "org_id": "T", "category": "work_style", "start": "2021-02-01", "violator_ids": "p7"}],
    )
    write_csv(
        folder / "accountability.csv",
        [
            {"id": "q1", "case_id": "K1", "person_id": "p7", "outcome": "disciplinary"},
            {"id": "q2", "case_id": "K1", "person_id": "p1", "outcome": "admonishment"},
            {"id": "q3", "case_id": "K2", "person_id": "p3", "outcome": "criticism"},
            {"id": "q4", "case_id": "K4", "person_id": "p7", "outcome": "organizational"},
        ],
    )
    assert load_dataset(scenario_store, folder).ok
    report = soft_accountability(scenario_store)
    assert report.overall_soft_share == 0.5
    by_org = {r.org_id: (r.total, r.soft_share) for r in report.by_org}
    assert by_org == {"T": (3, 0.3333), "T2": (1, 1.0)}
    assert report.only_violator_held == ["K4"]  # only p7 was held to account for K4


def test_periods_are_whole_years_or_quarters() -> None:
    from graph.model import Period

    assert [w.as_dict()["from"] for w in periods(Window.of("2019-03-01", "2021-01-01"), Period.year)] == ["2020-01-01"]
    assert len(periods(Window.of("2020-01-01", "2021-01-01"), Period.quarter)) == 4


def test_scorecard(scenario_store: Store) -> None:
    card = scorecard(scenario_store, "X", pressure(scenario_store, Window.of("2019", "2021")))
    assert (card.received_pressure, card.pass_on_ratio, card.weak_share) == (0.2, 2.75, 0.5)
    assert card.categories_received == ["discipline"] and card.category_coverage == round(1 / 6, 4)
