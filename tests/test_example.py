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


EXPORT = Path(__file__).resolve().parents[1] / "examples" / "export"


def test_the_real_looking_export_loads_with_the_documented_options(store: Store) -> None:
    """examples/export/README.md: each mess in it is met by the option it names."""
    from loaders.load import LoadOptions

    strict = load_dataset(store, EXPORT / "a-leaders")
    assert [e.rule for e in strict.errors] == ["overlapping-tenure"] and not strict.written
    first = load_dataset(store, EXPORT / "a-leaders", options=LoadOptions(handover_days=31))
    assert first.ok, [str(e) for e in first.errors]
    assert {w.rule for w in first.warnings} == {"header-read", "uncertain-handover", "handover-trimmed"}
    assert first.date_forms["tenures.end"]["still in office (至今, 9999-99)"] == 3
    second = load_dataset(store, EXPORT / "b-mayors", options=LoadOptions(match_persons=True))
    assert second.ok, [str(e) for e in second.errors]
    matched = [
        w.message.split(" is stored person ")[1].split()[0] for w in second.warnings if w.rule == "person-matched"
    ]
    assert matched == ["A01", "A02"]  # the two 李强 told apart by birth
    assert second.counts["persons"] == {"read": 3, "new": 1, "unchanged": 0, "updated": 2}
    assert [s.movement for s in career(store, "A01")] == ["first", "promote"]
    result = accountability(store, "K-LS-01", as_of="2011-12-01")
    first_rows = [(r.person.id, r.post_then.org_id) for r in result.responsible if r.role == "first" and r.post_then]
    assert first_rows == [("A05", "LS-DQ"), ("A06", "LS")]
