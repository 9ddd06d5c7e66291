"""The queries recover what the generator planted (truth.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.factory import open_store
from graph.store import Store
from loaders.generate import generate
from loaders.load import load_dataset
from queries.findings import gaps, soft_accountability, standards_compliance
from queries.pressure import commission_shares, level_profile, org_pressures, pressure
from queries.window import Window

pytestmark = pytest.mark.slow


# The county preset is one generator run; the small "nation" (three provinces) is generated
# one province at a time, with ids running on across the shards: both must plant what they say.
SHARDED = {"cities": 1, "counties": 4, "townships": 13, "departments": (2, 2, 2), "cases": 900, "soft_orgs": 6}


@pytest.fixture(scope="module", params=["county", "nation"])
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    folder = tmp_path_factory.mktemp(request.param)
    overrides = {"provinces": 3, **SHARDED} if request.param == "nation" else {}
    truth = generate(folder, request.param, seed=11, **overrides)
    store = open_store(f"embedded://{tmp_path_factory.mktemp('store')}")
    assert load_dataset(store, folder).ok
    return store, json.loads(Path(folder, "truth.json").read_text(encoding="utf-8")) | {"counts": truth["counts"]}


def _window(truth: dict) -> Window:
    return Window.of(truth["window"]["from"], truth["window"]["to"])


def test_steepest_fade_is_the_planted_boundary(planted: tuple[Store, dict]) -> None:
    store, truth = planted
    fade = level_profile(pressure(store, _window(truth))).steepest_fade
    assert fade is not None
    assert (fade.from_level, fade.to_level) == (
        truth["steepest_fade"]["from_level"],
        truth["steepest_fade"]["to_level"],
    )


def test_sinks_commission_heavy_and_weak_heavy(planted: tuple[Store, dict]) -> None:
    store, truth = planted
    p = pressure(store, _window(truth))
    figures = org_pressures(p)
    assert {o for o, f in figures.items() if f.sink} == set(truth["sinks"])
    assert {o for o, v in commission_shares(p).items() if v > 0.7} == set(truth["commission_heavy"])
    assert {o for o, f in figures.items() if f.weak_share and f.weak_share > 0.8} == set(truth["weak_heavy"])


def test_soft_accountability_and_double_investigation(planted: tuple[Store, dict]) -> None:
    store, truth = planted
    report = soft_accountability(store, min_outcomes=5)
    softest = {r.org_id for r in report.by_org if r.soft_share >= 0.8}
    assert set(truth["soft_orgs"]) <= softest
    assert len(softest - set(truth["soft_orgs"])) <= len(truth["soft_orgs"])
    assert report.only_violator_held == truth["double_investigation_not_done"]


def test_standards_and_gaps(planted: tuple[Store, dict]) -> None:
    store, truth = planted
    missed = {
        (o, int(c.period["from"][:4]), "interview" if "interview" in c.standard_id else "inspection")
        for c in standards_compliance(store, _window(truth))
        for o in c.missed
    }
    assert missed == {tuple(m) for m in truth["standard_misses"]}
    found = gaps(store, truth["window"]["from"])
    assert {g.org_id for g in found if g.kind == "shared-portfolio"} == set(truth["portfolio_overlap_orgs"])
    assert {g.ids[0] for g in found if g.kind == "undecomposed-duty"} == set(truth["undecomposed_duties"])
    unassigned = {g.org_id for g in found if g.kind == "no-portfolio-holder" and "no member's portfolio" in g.detail}
    assert unassigned == set(truth["portfolio_gap_orgs"])
