from __future__ import annotations

from graph.store import Store
from queries.lookups import career, holders, leaders, posts


def test_holders_are_half_open(scenario_store: Store) -> None:
    assert [h.person.id for h in holders(scenario_store, "T/sec", "2020-06-30")] == ["p1"]
    assert [h.person.id for h in holders(scenario_store, "T/sec", "2020-07-01")] == ["p2"]  # the end day is out
    assert holders(scenario_store, "X/dep", "2020-06-30") == []


def test_partial_dates_compare_as_their_first_day(scenario_store: Store) -> None:
    assert holders(scenario_store, "T/m1", "2018-12-31") == []
    assert [h.post.start for h in holders(scenario_store, "T/m1", "2019-01-01")] == ["2019-01"]


def test_posts_leaders_and_career(scenario_store: Store) -> None:
    assert [p.position_id for p in posts(scenario_store, "p1", "2021-01-01")] == ["X/dep"]
    assert {h.person.id for h in leaders(scenario_store, "T", "2020-05-01")} == {"p1", "p3", "p5", "p6"}
    steps = career(scenario_store, "p1")
    assert [(s.post.position_id, s.movement, s.left_by) for s in steps] == [
        ("T/sec", "first", "promote"),
        ("X/dep", "promote", None),
    ]
    assert steps[1].evidence == ["p1|X/dep|2020-07-01", "c1"]
