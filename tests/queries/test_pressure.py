"""Pressure figures on the scenario, computed by hand.

Window [2019-01-01, 2021-01-01): a1 X->T document (0.1), a2 S->X meeting (0.2),
a3 P->S inspection (1.0), a4 X->T inspection on work_style (1.0); a5 (2018) is outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.model import to_ordinal
from graph.store import ACTION_KINDS, Store
from loaders.load import load_dataset
from queries.pressure import commission_shares, evidence, level_profile, org_pressures, pressure, received_by_kind
from queries.window import Window, default_window
from tests.helpers import organization, write_dataset

WINDOW = Window.of("2019-01-01", "2021-01-01")


def test_received_pressure_and_level_profile(scenario_store: Store) -> None:
    p = pressure(scenario_store, WINDOW)
    assert p.received == {"C": 0.0, "P": 0.0, "S": 1.0, "X": pytest.approx(0.2), "T": pytest.approx(1.1), "T2": 0.0}
    profile = level_profile(p)
    assert [(r.level, r.orgs, r.median) for r in profile.levels] == [
        ("central", 1, 0.0),
        ("province", 1, 0.0),
        ("city", 1, 1.0),
        ("county", 1, 0.2),
        ("township", 2, 0.55),
    ]
    assert [r.fade_ratio_from_above for r in profile.levels] == [None, None, None, 0.2, 2.75]
    assert profile.steepest_fade is not None
    assert (profile.steepest_fade.from_level, profile.steepest_fade.to_level, profile.steepest_fade.ratio) == (
        "city",
        "county",
        0.2,
    )
    assert profile.window == {"from": "2019-01-01", "to": "2021-01-01"}


def test_pass_on_sinks_cold_and_weak_share(scenario_store: Store) -> None:
    figures = org_pressures(pressure(scenario_store, WINDOW), min_pressure=1.0, sink_ratio=0.5)
    assert figures["S"].pass_on_ratio == 0.2 and figures["S"].sink  # receives 1.0, passes on 0.2
    assert figures["X"].pass_on_ratio == 2.75 and not figures["X"].sink
    assert figures["T"].pass_on_ratio is None  # no children
    assert figures["T2"].cold and not figures["T"].cold
    assert (figures["X"].weak_share, figures["S"].weak_share, figures["P"].weak_share) == (0.5, 1.0, 0.0)


def test_category_weights_and_evidence(scenario_store: Store) -> None:
    assert pressure(scenario_store, WINDOW, category="discipline").received["T"] == pytest.approx(0.1)
    assert pressure(scenario_store, WINDOW, weights={"document": 0.5}).received["T"] == pytest.approx(1.5)
    p = pressure(scenario_store, WINDOW)
    assert evidence(p, "T") == ["a1", "a4"]
    assert evidence(p, "X", "sent") == ["a1", "a4"] and evidence(p, "X", "weak") == ["a1"]
    assert received_by_kind(p, "T") == {
        "inspection": {"count": 1, "pressure": 1.0},
        "document": {"count": 1, "pressure": 0.1},
    }
    with pytest.raises(ValueError):
        pressure(scenario_store, WINDOW, category="nope")
    with pytest.raises(ValueError):
        pressure(scenario_store, WINDOW, weights={"telepathy": 1.0})


def test_received_counts_by_recipient_and_kind(scenario_store: Store) -> None:
    orgs, counts = scenario_store.received_counts(WINDOW.start, WINDOW.end)
    got = {(o, ACTION_KINDS[k]): int(n) for o, row in zip(orgs, counts, strict=True) for k, n in enumerate(row) if n}
    assert got == {("T", "document"): 1, ("X", "meeting"): 1, ("S", "inspection"): 1, ("T", "inspection"): 1}
    assert orgs == ["S", "T", "X"]
    orgs, counts = scenario_store.received_counts(WINDOW.start, WINDOW.end, category="work_style")
    assert orgs == ["T"] and counts.tolist() == [[1, 0, 0, 0, 0, 0, 0]]
    orgs, counts = scenario_store.received_counts(WINDOW.start, WINDOW.start + 1)
    assert orgs == [] and counts.shape == (0, len(ACTION_KINDS))


class _NoActionReads:
    """A store whose ``actions`` may not be called."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def actions(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the level profile read the actions themselves")


def test_level_profile_reads_counts_not_actions(scenario_store: Store) -> None:
    p = pressure(_NoActionReads(scenario_store), WINDOW)  # type: ignore[arg-type]
    assert [r.median for r in level_profile(p).levels] == [0.0, 0.0, 1.0, 0.2, 0.55]
    assert p.received["T"] == pytest.approx(1.1)
    with pytest.raises(AssertionError, match="read the actions"):
        evidence(p, "T")  # who sent what needs them: read on first use


def test_default_window_is_named_and_never_today(scenario_store: Store) -> None:
    w = default_window(scenario_store)
    assert w.as_dict() == {"from": "2020-01-01", "to": "2021-01-01"}  # last full year before the latest date


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        ("2025-12-31", ("2025-01-01", "2026-01-01")),  # the last year is complete: it is the default
        ("2025-12-30", ("2024-01-01", "2025-01-01")),
        ("2026-01-01", ("2025-01-01", "2026-01-01")),
    ],
)
def test_the_default_window_is_the_last_complete_year(last: str, expected: tuple[str, str]) -> None:
    class Span:
        def date_range(self) -> tuple[int, int]:
            return to_ordinal("2020-03-01"), to_ordinal(last)

    window = default_window(Span())  # type: ignore[arg-type]
    assert (window.as_dict()["from"], window.as_dict()["to"]) == expected
    lone = default_window(Span(), "2022-07-01")  # type: ignore[arg-type]
    assert lone.as_dict() == {"from": "2022-07-01", "to": "2023-07-01"}


def test_commission_share_excludes_case_support(store: Store, tmp_path: Path) -> None:
    folder = write_dataset(
        tmp_path / "ds",
        organizations=[
            organization("X", "县委", "committee", "county"),
            organization("X-JW", "县纪委", "commission", "county", "X"),
            organization("T", "镇党委", "committee", "township", "X"),
        ],
        actions=[
            {
                "id": f"a{i}",
                "date": "2020-01-0" + str(i + 1),
                "kind": "interview",
                "from_org_id": "X",
                "to_org_id": "T",
                "category": cat,
                "by_org_id": by,
            }
            for i, (cat, by) in enumerate(
                [("discipline", "X-JW"), ("education", "X-JW"), ("case_support", "X-JW"), ("work_style", "X")]
            )
        ],
    )
    assert load_dataset(store, folder).ok
    p = pressure(store, Window.of("2020", "2021"))
    assert commission_shares(p) == {"X": pytest.approx(0.6667)}
    assert evidence(p, "X", "commission") == ["a0", "a1"]


def test_a_window_with_no_action_of_the_category(scenario_store: Store) -> None:
    """Found by schemathesis through /views/pressure: no action in the window raised IndexError."""
    p = pressure(scenario_store, Window.of("2024-01-01", "2025-01-01"), category="discipline")
    figures = org_pressures(p)
    assert figures["T"].received == 0 and figures["T"].sent == 0 and figures["T"].weak_share is None
    assert figures["T"].cold and not figures["T"].sink
