"""A post names its organization, and where that name alone is ambiguous (a 城关镇 in every
county), its place in the hierarchy: as few parents' names in front as tell it from every
namesake (docs/domain.md, "Posts and places")."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.backends.embedded import EmbeddedStore
from graph.model import Organization
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


def test_a_place_kept_is_worked_out_again_when_a_namesake_comes(store: Store, tmp_path: Path) -> None:
    """A store keeps each place worked out (``store.memo``) until its data changes: a namesake
    imported later qualifies a name answered bare before."""
    first = [
        organization("P", "某省委", "committee", "province"),
        organization("C1", "甲市委", "committee", "city", "P"),
        organization("X1", "青山县委", "committee", "county", "C1"),
        organization("T1", "城关镇党委", "committee", "township", "X1"),
    ]
    assert load_dataset(store, write_dataset(tmp_path / "a", organizations=first)).ok
    assert lookups.places(store, store.get_organizations(["T1"])) == {"T1": "城关镇党委"}
    later = [
        organization("C2", "乙市委", "committee", "city", "P"),
        organization("X2", "青山县委", "committee", "county", "C2"),
        organization("T2", "城关镇党委", "committee", "township", "X2"),
    ]
    assert load_dataset(store, write_dataset(tmp_path / "b", organizations=later)).ok
    assert lookups.places(store, store.get_organizations(["T1"])) == {"T1": "甲市委 > 青山县委 > 城关镇党委"}


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


def _told_apart(orgs: dict[str, Organization], i: str) -> str:
    """The rule read plainly, over every organization: the fewest names from ``i`` up that no
    namesake's names from it up repeat."""

    def chain(o: str) -> list[str]:
        names = []
        while o in orgs:
            names.append(orgs[o].name)
            o = orgs[o].parent_id or ""
        return names

    mine = chain(i)
    rivals = [chain(o) for o in orgs if o != i and orgs[o].name == orgs[i].name]
    depth = next((d for d in range(1, len(mine) + 1) if all(r[:d] != mine[:d] for r in rivals)), len(mine))
    return lookups.PLACE.join(reversed(mine[:depth]))


@pytest.mark.parametrize("seed", range(4))
def test_places_follow_the_rule_on_random_hierarchies(store: Store, tmp_path: Path, seed: int) -> None:
    assert load_dataset(store, _namesakes(tmp_path / "d", seed)).ok
    orgs = store.get_organizations()
    place = lookups.places(store, orgs)
    assert place == {i: _told_apart(orgs, i) for i in orgs}
    assert sum(p.count(" > ") >= 2 for p in place.values()) >= 3  # namesakes under namesakes: the test means something
    assert sum(p.count(" > ") >= 3 for p in place.values()) >= 3  # ... and alike above the grandparent too


def test_the_namesakes_walk_reads_a_level_for_every_organization_at_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server every read is a round trip: the organizations one level up are read for all
    those still alike together (a nation's lookup made about 9 such reads, now about 3)."""
    assert load_dataset(store, _namesakes(tmp_path / "d", 0)).ok
    orgs = store.get_organizations()
    reads = []
    real = store.get_organizations

    def counted(ids: Iterable[str] | None = None) -> dict[str, Organization]:
        reads.append(ids)
        return real(ids)

    monkeypatch.setattr(store, "get_organizations", counted)
    place = lookups.places(store, orgs)
    assert sum(p.count(" > ") >= 2 for p in place.values()) >= 3  # walked above the parents
    assert 1 <= len(reads) <= 3  # township, county, city, province: three levels at most


def test_namesakes_a_grandparent_tells_apart_are_found_from_above(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Namesakes under a parent of the same name (城关镇党委 under a 青山县委 in two cities) are
    told apart through the organizations that bear the parent's name under the grandparent's,
    and their children: no namesake is walked up (on a nation, about sixty for each town
    committee, two reads a lookup and a third of its time)."""
    assert load_dataset(store, _dataset(tmp_path / "d")).ok
    every = store.get_organizations()  # in memory now: a cold store's own reads go through this method
    orgs = {i: every[i] for i in ("T1", "T2", "T3")}
    walked = []
    monkeypatch.setattr(store, "get_organizations", lambda ids=None: walked.append(ids) or {})
    assert lookups.places(store, orgs) == {
        "T1": "甲市委 > 青山县委 > 城关镇党委",
        "T2": "乙市委 > 青山县委 > 城关镇党委",
        "T3": "白水县委 > 城关镇党委",
    }
    assert walked == []


def test_places_read_from_sqlite_follow_the_rule(tmp_path: Path) -> None:
    """A store that never builds its in-memory indexes (a one-off command's) answers alike."""
    loaded = EmbeddedStore(tmp_path / "s")
    assert load_dataset(loaded, _namesakes(tmp_path / "d", 7)).ok
    orgs = loaded.get_organizations()
    cold = EmbeddedStore(tmp_path / "s", index_after=None)
    assert lookups.places(cold, cold.get_organizations(sorted(orgs))) == {i: _told_apart(orgs, i) for i in orgs}
    assert "_orgs" not in cold.__dict__
