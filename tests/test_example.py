"""The README's walk-through on examples/county stays true."""

from __future__ import annotations

from pathlib import Path

from graph.store import Store
from loaders.load import load_dataset
from queries.accountability import accountability
from queries.lookups import career, holders

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "county"


def test_readme_walk_through(store: Store) -> None:
    report = load_dataset(store, EXAMPLE)
    assert report.ok and not report.warnings, [str(e) for e in report.errors + report.warnings]
    assert [h.person.name for h in holders(store, "DH/sec", "2022-05-31")] == ["王建国"]
    assert [h.person.name for h in holders(store, "DH/sec", "2022-06-01")] == ["赵海"]
    assert [s.movement for s in career(store, "P03")] == ["first", "promote"]
    result = accountability(store, "K-2021-001", as_of="2024-01-01")
    assert [(r.role, r.person.name, r.movement) for r in result.responsible] == [
        ("direct", "朱文斌", "same"),
        ("first", "王建国", "promoted"),
        ("portfolio", "李明", "transferred"),
        ("supervisory", "孙丽", "left"),
        ("collective", "张丽华", "same"),
        ("collective", "刘海涛", "same"),
    ]
    assert not load_dataset(store, EXAMPLE).written  # loading it twice changes nothing
