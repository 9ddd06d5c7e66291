"""A post names its organization, and where that name alone is ambiguous (a 城关镇 in every
county), its place in the hierarchy: as few parents' names in front as tell it from every
namesake (docs/domain.md, "Posts and places")."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.store import Store
from loaders.load import load_dataset
from queries import accountability, lookups
from rtc.cli import app
from tests.helpers import organization, write_dataset


def _dataset(folder: Path) -> Path:
    return write_dataset(
        folder,
        organizations=[
            organization("P", "某省委", "committee", "province"),
            organization("C1", "甲市委", "committee", "city", "P"),
            organization("C2", "乙市委", "committee", "city", "P"),
            organization("X1", "青山县委", "committee", "county", "C1"),
            organization("X2", "青山县委", "committee", "county", "C2"),
            organization("X3", "白水县委", "committee", "county", "C1"),
            organization("T1", "城关镇党委", "committee", "township", "X1"),
            organization("T2", "城关镇党委", "committee", "township", "X2"),
            organization("T3", "城关镇党委", "committee", "township", "X3"),
        ],
        positions=[
            {"id": "T1/sec", "org_id": "T1", "title": "镇党委书记", "role": "secretary"},
            {"id": "T3/sec", "org_id": "T3", "title": "镇党委书记", "role": "secretary"},
        ],
        persons=[{"id": "x", "name": "张三"}],
        tenures=[
            {"person_id": "x", "position_id": "T1/sec", "start": "2015-01-01", "end": "2018-01-01"},
            {"person_id": "x", "position_id": "T3/sec", "start": "2018-01-01", "end": ""},
        ],
        cases=[{"id": "K1", "org_id": "T1", "category": "discipline", "start": "2016-01-01", "end": "2017-01-01"}],
    )


def test_a_name_is_qualified_by_as_few_parents_as_tell_it_apart(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _dataset(tmp_path / "d")).ok
    place = lookups.places(store, store.get_organizations(["P", "X1", "X3", "T1", "T2", "T3"]))
    assert place == {
        "P": "某省委",  # no namesake: the name alone
        "X1": "甲市委 > 青山县委",
        "X3": "白水县委",
        "T1": "甲市委 > 青山县委 > 城关镇党委",  # T2's county is also 青山县委: one more level
        "T2": "乙市委 > 青山县委 > 城关镇党委",
        "T3": "白水县委 > 城关镇党委",
    }


def test_posts_then_and_now_say_which_town(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _dataset(tmp_path / "d")).ok
    result = accountability.accountability(store, "K1", as_of="2020-01-01")
    (row,) = [r for r in result.responsible if r.role == "first"]
    assert row.post_then and row.post_then.org_place == "甲市委 > 青山县委 > 城关镇党委"
    assert [p.org_place for p in row.posts_now] == ["白水县委 > 城关镇党委"]
    assert [s.post.org_place for s in lookups.career(store, "x")] == [
        "甲市委 > 青山县委 > 城关镇党委",
        "白水县委 > 城关镇党委",
    ]
    shown = (
        CliRunner()
        .invoke(app, ["accountability", "K1", "--as-of", "2020-01-01", "--store", store.url], env={"COLUMNS": "200"})
        .output
    )
    assert "now: 镇党委书记, 白水县委 > 城关镇党委 (since 2018-01-01)" in shown, shown


def _namesakes(folder: Path, seed: int) -> Path:
    """A random hierarchy named from small pools: many namesakes at every level, some under
    namesake parents, some not."""
    rng = random.Random(seed)
    orgs = [organization("R", "某省委", "committee", "province")]
    for c in range(4):
        orgs.append(organization(f"C{c}", rng.choice(["甲市委", "乙市委"]), "committee", "city", "R"))
        for x in range(rng.randint(2, 6)):
            xid = f"C{c}X{x}"
            orgs.append(
                organization(xid, rng.choice(["青山县委", "白水县委", "红河县委"]), "committee", "county", f"C{c}")
            )
            for t in range(rng.randint(1, 5)):
                name = rng.choice(["城关镇党委", "城关镇党委", "龙林镇党委"])
                orgs.append(organization(f"{xid}T{t}", name, "committee", "township", xid))
    return write_dataset(folder, organizations=orgs)


@pytest.mark.parametrize("seed", range(4))
def test_namesakes_found_from_above_or_below_give_one_place(
    store: Store, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_dataset(store, _namesakes(tmp_path / "d", seed)).ok
    orgs = store.get_organizations()
    monkeypatch.setattr(lookups, "FANOUT", 0)  # the children of the parent's namesakes read
    down = lookups.places(store, orgs)
    monkeypatch.setattr(lookups, "FANOUT", 10**9)  # every namesake's parent read
    up = lookups.places(store, orgs)
    assert down == up
    assert sum(" > " in p for p in up.values()) >= 10  # namesakes told apart: the test means something
