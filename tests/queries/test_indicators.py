"""Indicator schemes and scores (docs/indicators.md): the scoring rules on hand-checked numbers,
scheme files refused with the line of each error, scores and a leader's score on the scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import InvalidInput, NotFound
from graph.store import Store
from loaders.load import load_dataset
from queries.indicators.measures import MEASURES, Figures
from queries.indicators.scheme import SHIPPED, Direction, Rule, load_scheme, parse_scheme
from queries.indicators.scores import leader_score, rule_points, scores
from queries.window import Window
from tests.helpers import write_csv

Y2019 = Window.of("2019-01-01", "2020-01-01")
Y2020 = Window.of("2020-01-01", "2021-01-01")
BETTER, WORSE = Direction.higher_better, Direction.higher_worse

# Two indicators: pressure received (all points at 1.0) and no sink (a veto)
TWO = """\
id: two
name_zh: 两项
name_en: Two
indicators:
  - id: G
    name_zh: 组
    name_en: Group
    children:
      - id: I1
        name_zh: 接收压力
        name_en: Pressure received
        measure: received_pressure
        direction: higher_better
        rule: {kind: linear, worst: 0, best: 1}
        points: 10
      - id: I2
        name_zh: 压力沉降
        name_en: Sink
        measure: sink
        direction: higher_worse
        rule: {kind: threshold, at: 0}
        points: 10
        warning: {red: 1, yellow: 1}
        veto: true
"""


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("rule", "direction", "value", "rank", "factor", "expected"),
    [
        (Rule(kind="linear", worst=0, best=1), BETTER, 0.25, None, 1.0, 2.5),
        (Rule(kind="linear", worst=0, best=1), BETTER, 2.0, None, 1.0, 10.0),  # clamped at best
        (Rule(kind="linear", worst=1, best=0), WORSE, 0.8, None, 1.0, 2.0),
        (Rule(kind="rank"), BETTER, 7.0, (2.0, 5), 1.0, 7.5),  # place 2 of 5: 3/4 of the points
        (Rule(kind="rank"), BETTER, 7.0, (1.0, 1), 1.0, 10.0),
        (Rule(kind="rank"), WORSE, 7.0, (4.5, 5), 1.0, 1.25),  # tied for places 4 and 5
        (Rule(kind="threshold", at=0), WORSE, 0.0, None, 1.0, 10.0),
        (Rule(kind="threshold", at=0), WORSE, 1.0, None, 1.0, 0.0),
        (Rule(kind="threshold", at=3), BETTER, 3.0, None, 1.0, 10.0),
        (Rule(kind="deduction", per=4), WORSE, 2.0, None, 1.0, 2.0),
        (Rule(kind="deduction", per=4), WORSE, 5.0, None, 1.0, 0.0),  # never below zero
        (Rule(kind="deduction", per=4), WORSE, 2.0, None, 10.0, 20.0),  # 100 points on a 10x scale: 40 off each
    ],
)
def test_each_rule_on_hand_checked_numbers(
    rule: Rule, direction: Direction, value: float, rank: tuple[float, int] | None, factor: float, expected: float
) -> None:
    got, how = rule_points(rule, direction, value, 10.0 * factor, rank, factor)
    assert got == pytest.approx(expected) and how


# ---------------------------------------------------------------- scheme files


def _error(text: str) -> str:
    with pytest.raises(InvalidInput) as exc:
        parse_scheme(text, "s.yaml")
    return str(exc.value)


def _bad(old: str, new: str) -> str:
    """The error of TWO with ``old`` replaced by ``new``."""
    assert old in TWO
    return _error(TWO.replace(old, new))


def test_a_scheme_error_names_the_line_and_the_field() -> None:
    linear = "{kind: linear, worst: 0, best: 1}"
    assert _bad(linear, "{kind: linear, worst: 0}") == (
        "s.yaml:14: indicators.0.children.0.rule: a linear rule needs best"
    )
    assert "s.yaml:15: indicators.0.children.0.points" in _bad(
        "points: 10\n      - id: I2", "points: ten\n      - id: I2"
    )
    unknown = _bad("measure: received_pressure", "measure: pressure_received")
    assert unknown.startswith("s.yaml:9: indicators.0.children.0: unknown measure 'pressure_received'")
    extra = _bad("        name_zh: 接收压力\n", "        name_zh: 接收压力\n        colour: red\n")
    assert "s.yaml:11: indicators.0.children.0.colour" in extra
    assert _bad("name_en: Two", "name_en: [Two").startswith("s.yaml:4: not YAML")
    assert "used twice" in _bad("id: I2", "id: I1")
    assert "children's sum (20.0)" in _bad("    name_en: Group\n", "    name_en: Group\n    points: 30\n")
    assert "contradict the direction higher_worse" in _bad("direction: higher_better", "direction: higher_worse")
    assert "a deduction rule needs a count measure" in _bad(linear, "{kind: deduction, per: 1}")
    assert "takes no category" in _bad("measure: sink\n", "measure: gaps\n        category: discipline\n")
    assert "a veto needs a warning" in _bad("        warning: {red: 1, yellow: 1}\n", "")


def test_the_shipped_schemes_load_and_a_missing_file_is_named(tmp_path: Path) -> None:
    for name in SHIPPED:
        scheme = load_scheme(name)
        assert scheme.leaves() and all(ind.measure in MEASURES for ind, _, _ in scheme.leaves())
    assert load_scheme("default").factor == 1.0  # 100 points as written
    six = load_scheme("six-plus-x")
    assert sum((ind.points or 0) * six.factor for ind, _, _ in six.leaves()) == pytest.approx(1000)
    assert sum(1 for ind, path, _ in six.leaves() if path[0] != "unit") == 25
    with pytest.raises(InvalidInput, match=r"no scheme 'nope\.yaml'"):
        load_scheme("nope.yaml")
    (tmp_path / "two.yaml").write_text(TWO, encoding="utf-8")
    assert load_scheme(tmp_path / "two.yaml").id == "two"


# ---------------------------------------------------------------- scores


def test_scores_on_the_scenario(scenario_store: Store) -> None:
    # 2019: S 1.0 (a sink: X gets 0.2 of it), X 0.2, T 0.1, T2 0, P and C 0
    got = scores(scenario_store, parse_scheme(TWO), Y2019)
    by = {s.org_id: s for s in got.organizations}
    assert set(by) == {"C", "P", "S", "X", "T", "T2"}  # commissions are not scored
    s, x, t, t2 = by["S"], by["X"], by["T"], by["T2"]
    assert (s.score, s.points, s.share, s.warning, s.vetoed_by) == (10.0, 20.0, 0.5, "red", ["I2"])
    assert [(i.id, i.score, i.lost, i.lost_share, i.warning) for i in s.indicators] == [
        ("I1", 10.0, 0.0, 0.0, None),
        ("I2", 0.0, 10.0, 1.0, "red"),
    ]
    assert (x.score, x.share, x.warning) == (12.0, 0.6, "yellow")  # 0.6 is not under red's 0.6
    assert (t.score, t.share, t.warning, t.rank, t.of) == (11.0, 0.55, "red", 1, 2)
    assert (t2.share, t2.rank, t2.lost_most) == (0.5, 2, ["I1"])
    assert [(g.id, g.score, g.points) for g in t.groups] == [("G", 11.0, 20.0)]
    assert got.previous_window == {"from": "2018-01-01", "to": "2019-01-01"}
    # the worst first within each level
    townships = [o.org_id for o in got.organizations if o.level == "township"]
    assert townships == ["T2", "T"]


def test_a_score_is_explained_by_the_ids_behind_it(scenario_store: Store) -> None:
    got = scores(scenario_store, parse_scheme(TWO), Y2019, org_ids=["T", "S"], explain=True)
    by = {s.org_id: {i.id: i.ids for i in s.indicators} for s in got.organizations}
    assert by["T"]["I1"] == ["a1"] and by["S"]["I1"] == ["a3"]
    assert sorted(by["S"]["I2"]) == ["a2", "a3"]  # a sink: what it received and what its children did
    with pytest.raises(NotFound, match="T-JW"):
        scores(scenario_store, parse_scheme(TWO), Y2019, org_ids=["T-JW"])


def test_the_change_against_the_previous_window(scenario_store: Store) -> None:
    # 2020: only a4, an inspection X -> T (1.0): T 10 + 10; 2019: T 0.1 -> 1 + 10 of 20
    got = scores(scenario_store, parse_scheme(TWO), Y2020, org_ids=["T"])
    t = got.organizations[0]
    assert (t.share, t.previous_share, t.change) == (1.0, 0.55, 0.45)


def test_a_leader_score_follows_the_promotion(scenario_store: Store) -> None:
    # p1: T's secretary until 2020-07-01 (182 days of 2020), then X's deputy (184 days).
    # 2020: T 1.0 (share 20/20), X 0 (share 10/20): (182 * 1.0 + 184 * 0.5) / 366
    got = leader_score(scenario_store, parse_scheme(TWO), "p1", Y2020)
    assert [(r.org_id, r.position_id, r.days, r.share, r.warning) for r in got.organizations] == [
        ("T", "T/sec", 182, 1.0, "green"),
        ("X", "X/dep", 184, 0.5, "red"),
    ]
    assert got.share == round(274 / 366, 4) and got.warning == "red"
    # the year before, only T: the score stays with the post he held then
    assert leader_score(scenario_store, parse_scheme(TWO), "p1", Y2019).share == 0.55
    with pytest.raises(NotFound, match="nobody"):
        leader_score(scenario_store, parse_scheme(TWO), "nobody", Y2020)


def test_every_measure_of_the_vocabulary_on_the_scenario(scenario_store: Store, tmp_path: Path) -> None:
    write_csv(
        tmp_path / "accountability.csv",
        [
            {"id": "q1", "case_id": "K1", "person_id": "p7", "outcome": "criticism", "date": "2020-12-15"},
        ],
    )
    assert load_dataset(scenario_store, tmp_path).ok
    f = Figures(scenario_store, Y2020)
    t = {m: f.values(m).get("T") for m in MEASURES}
    assert t["cases"] == 1.0 and f.ids("cases", None, "T") == ["K1"]
    assert t["cases_without_leader_accountability"] == 1.0  # only the violator p7 held
    assert t["leader_accountability_share"] == 0.0
    assert t["days_to_accountability"] == 289.0  # 2020-03-01 (no discovery date: the start) to 2020-12-15
    assert t["soft_share"] == 1.0 and f.ids("soft_share", None, "T") == ["q1"]
    assert t["actions_received"] == 1.0 and t["category_coverage"] == round(1 / 6, 4)
    assert t["leader_turnover"] == 1.0 and f.ids("leader_turnover", None, "T")  # p2 became secretary
    # X's deputy seat was vacant until p1 came on 2020-07-01 (182 days), its member m2 all year
    # (366); its secretary and m1 were held, and staff seats are not leadership seats
    assert f.values("vacant_seat_days")["X"] == 182 + 366
    assert f.ids("vacant_seat_days", None, "X") == ["X/dep", "X/m2"]


def test_a_value_on_too_few_records_is_not_scored(scenario_store: Store) -> None:
    # 2019: S sent one action (a2) and X one (a1): a weak-form share of one action is no share
    text = TWO.replace(
        """        measure: received_pressure
        direction: higher_better
        rule: {kind: linear, worst: 0, best: 1}""",
        """        measure: weak_share
        direction: higher_worse
        rule: {kind: linear, worst: 1, best: 0}
        min_support: 2""",
    )
    got = scores(scenario_store, parse_scheme(text), Y2019, org_ids=["S"])
    first = got.organizations[0].indicators[0]
    assert (first.score, first.how) == (None, "not scored: 1 actions sent, fewer than 2")
    assert "counts no records" in _bad(
        "        points: 10\n      - id: I2", "        points: 10\n        min_support: 2\n      - id: I2"
    )


def test_pass_on_against_the_peers(scenario_store: Store) -> None:
    # 2019: S passes on 0.2 (X 0.2 of its 1.0), X 0.25 (T 0.1 and T2 0 of its 0.2): each alone
    # in its level and kind, so each is its peers' median
    f = Figures(scenario_store, Y2019)
    assert f.values("pass_on_ratio")["X"] == 0.25
    assert {o: v for o, v in f.values("pass_on_vs_level").items() if v is not None} == {"S": 1.0, "X": 1.0}


def test_the_docs_list_every_measure() -> None:
    text = (Path(__file__).parents[2] / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert [m for m in MEASURES if f"| `{m}` |" not in text] == []
