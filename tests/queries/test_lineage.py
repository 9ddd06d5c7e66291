"""Organizations that change (docs/domain.md, "Organizations that change"): a prefecture D
became the city C on 2010-01-01. Accountability for a case in C that began before follows it
back to D's secretary, and a career through D shows what D became."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.store import Store
from loaders.load import load_dataset
from queries import accountability, lineage, lookups
from rtc.cli import app
from tests.helpers import organization, write_dataset


def _dataset(folder: Path, *, linked: bool = True) -> Path:
    return write_dataset(
        folder,
        organizations=[
            organization("P", "某省委", "committee", "province"),
            organization("P-JW", "某省纪委", "commission", "province", "P"),
            organization("D", "某地委", "committee", "city", "P", valid_to="2010-01-01"),
            organization("C", "某市委", "committee", "city", "P", valid_from="2010-01-01", 前身="D" if linked else ""),
            organization(
                "C2", "某新市委", "committee", "city", "P", valid_from="2015-01-01", 前身="C" if linked else ""
            ),
        ],
        positions=[
            {"id": "D/sec", "org_id": "D", "title": "地委书记", "role": "secretary"},
            {"id": "C/sec", "org_id": "C", "title": "市委书记", "role": "secretary"},
            {"id": "P-JW/dis", "org_id": "P-JW", "title": "省纪委书记", "role": "discipline_secretary"},
        ],
        persons=[{"id": "x", "name": "张三"}, {"id": "y", "name": "李四"}, {"id": "z", "name": "王五"}],
        tenures=[
            {"person_id": "x", "position_id": "D/sec", "start": "2005-01", "end": "2010-01"},
            {"person_id": "y", "position_id": "C/sec", "start": "2010-01", "end": "2015-01"},
            {"person_id": "z", "position_id": "P-JW/dis", "start": "2000", "end": ""},
        ],
        cases=[{"id": "K1", "org_id": "C", "category": "discipline", "start": "2009-06-01", "end": "2010-06-01"}],
    )


@pytest.mark.parametrize("linked", [True, False])
def test_accountability_follows_a_city_back_to_the_prefecture_it_was(
    store: Store, tmp_path: Path, linked: bool
) -> None:
    assert load_dataset(store, _dataset(tmp_path / "d", linked=linked)).ok
    result = accountability.accountability(store, "K1", as_of="2020-01-01")
    first = [
        (r.person.id, r.post_then.org_id if r.post_then else None) for r in result.responsible if r.role == "first"
    ]
    if linked:  # D's secretary held the seat for the seven months of the window before C existed
        assert first == [("x", "D"), ("y", "C")]
        assert [n.code for n in result.notices if n.role == "first"] == []
    else:  # without the link, the window before C was created is nobody's, and nothing is said
        assert first == [("y", "C")]
        assert [n.code for n in result.notices if n.role == "first"] == []


def test_lineage_reads_both_ways(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _dataset(tmp_path / "d")).ok
    c2 = store.get_organizations(["C2"])["C2"]
    assert [o.id for o in lineage.predecessors(store, c2)] == ["C", "D"]
    assert {k: [o.id for o in v] for k, v in lineage.successors(store, ["D", "C", "P"]).items()} == {
        "D": ["C", "C2"],
        "C": ["C2"],
    }
    [step] = lookups.career(store, "x")
    assert [o.name for o in step.org_became] == ["某市委", "某新市委"]


def test_the_career_command_shows_what_an_organization_became(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 's'}"
    runner = CliRunner()
    assert runner.invoke(app, ["load", str(_dataset(tmp_path / "d")), "--store", url]).exit_code == 0
    shown = runner.invoke(app, ["career", "x", "--store", url], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "某地委 → 某市委 → 某新市委" in shown.output
