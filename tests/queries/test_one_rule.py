"""Each rule lives in one function of ``queries``; the CLI, the API and the views present it.
These tests hold them to the same answer for the same input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from graph.factory import open_store
from graph.model import OrgKind
from loaders.load import load_dataset
from queries import findings, pressure
from queries.accountability import supervising_commission
from queries.window import Window, default_window
from rtc.cli import app
from tests.api.conftest import make_settings
from tests.helpers import organization, write_dataset
from viz.duties import duties_view


def _loaded(tmp_path: Path, dataset: Path) -> str:
    url = f"embedded://{tmp_path / 'store'}"
    assert load_dataset(open_store(url), dataset).ok
    return url


def test_slogans_same_in_cli_and_api(tmp_path: Path, tiny_dataset: Path) -> None:
    url = _loaded(tmp_path, tiny_dataset)
    window = ["--from", "2018-01-01", "--to", "2026-01-01"]
    cli = CliRunner().invoke(app, ["findings", "slogans", *window, "--store", url, "--json"])
    assert cli.exit_code == 0, cli.output
    settings, keys = make_settings(tmp_path, url)
    with TestClient(create_app(settings)) as client:
        api = client.get(
            "/findings/slogans?from=2018-01-01&to=2026-01-01", headers={"Authorization": f"Bearer {keys['reader']}"}
        ).json()
    assert json.loads(cli.output) == api
    assert api["committees"], "the tiny preset plants committees whose commission does the work"


def test_undecomposed_duties_same_in_the_finding_and_the_view(tmp_path: Path) -> None:
    """X-d2 is not decomposed though X's child T holds duties: a gap. T2-d1 is not decomposed
    either, but T2's only child V keeps no duties at all: no gap (the views drew one)."""
    folder = write_dataset(
        tmp_path / "data",
        organizations=[
            organization("S", "市委", "committee", "city"),
            organization("X", "县委", "committee", "county", "S"),
            organization("T", "甲镇", "committee", "township", "X"),
            organization("T2", "乙镇", "committee", "township", "X"),
            organization("V", "村", "branch", "village", "T2"),
        ],
        duties=[
            {"id": "S-d1", "org_id": "S", "category": "discipline"},
            {"id": "X-d1", "org_id": "X", "category": "discipline", "parent_duty_id": "S-d1"},
            {"id": "X-d2", "org_id": "X", "category": "work_style"},
            {"id": "T-d1", "org_id": "T", "category": "discipline", "parent_duty_id": "X-d1"},
            {"id": "T2-d1", "org_id": "T2", "category": "discipline", "parent_duty_id": "X-d1"},
        ],
    )
    store = open_store(_loaded(tmp_path, folder))
    gap_ids = {i for g in findings.gaps(store, "2020-01-01") if g.kind == "undecomposed-duty" for i in g.ids}
    view = duties_view(store, "S", depth=3, at="2020-01-01")
    shown = {n["id"] for n in view.nodes} & set(store.get_duties())  # duty nodes (not missing shares)
    marked = {n["id"] for n in view.nodes if n["id"] in shown and n["attrs"]["gap"]}
    assert shown == set(store.get_duties())
    assert marked == gap_ids == {"X-d2"}


def test_supervising_commission_same_in_accountability_and_gaps(tmp_path: Path, scenario_dataset: Path) -> None:
    store = open_store(_loaded(tmp_path, scenario_dataset))
    unsupervised = {g.org_id for g in findings.gaps(store, "2020-06-01") if g.kind == "no-commission"}
    for org in store.get_organizations().values():
        if org.kind is not OrgKind.commission:
            assert (supervising_commission(store, org) is None) == (org.id in unsupervised), org.id
    assert unsupervised == {"C"}  # the central committee has no commission in the scenario


def test_leaders_and_received_by_kind_same_in_the_map_and_the_api(tmp_path: Path, tiny_dataset: Path) -> None:
    """The pressure map's details of an organization show the leaders ``GET /organizations/{id}/leaders``
    gives and the count of actions per kind ``GET /pressure/orgs/{id}`` gives (``lookups.leaders_of`` and
    ``pressure.received_breakdown``, not figures of the view's own)."""
    from queries.window import Window
    from viz.pressure_map import pressure_map

    url = _loaded(tmp_path, tiny_dataset)
    store = open_store(url)
    window = Window.of("2019-01-01", "2021-01-01")
    view = pressure_map(store, window=window, as_of="2020-06-01", budget=10_000)
    settings, keys = make_settings(tmp_path, url)
    checked = 0
    with TestClient(create_app(settings)) as client:
        get = lambda path: client.get(path, headers={"Authorization": f"Bearer {keys['reader']}"}).json()  # noqa: E731
        for org_id, rows in list(view.details.items())[:40]:
            shown = dict((k, v) for k, v in rows if isinstance(k, str))
            if "leaders now" not in shown:
                continue  # an aggregate
            holders = get(f"/organizations/{org_id}/leaders?at=2020-06-01")["leaders"]
            named = sorted(f"{h['post']['title']}: {h['person']['name']}" for h in holders)
            assert sorted(n for n in shown["leaders now"].split("; ") if n != "none on record") == named
            card = get(f"/pressure/orgs/{org_id}?from=2019-01-01&to=2021-01-01")
            by_kind = {k[len("by kind: ") :]: v.split(" ")[0] for k, v in shown.items() if k.startswith("by kind: ")}
            assert by_kind == {k: str(int(v["count"])) for k, v in card["received_by_kind"].items()}
            checked += 1
    assert checked >= 10


def test_a_year_of_the_map_is_that_year_s_window(tmp_path: Path, tiny_dataset: Path) -> None:
    """The pressure map's year control shows, for each calendar year, what ``org_pressures``
    gives for that year as the window: received, pass-on ratio, sink and cold flags
    (``pressure.yearly_figures`` applies the same rules, not figures of its own)."""
    store = open_store(_loaded(tmp_path, tiny_dataset))
    p = pressure.pressure(store, default_window(store))
    wanted = [o.id for o in store.get_organizations().values() if o.kind is not OrgKind.commission]
    years = pressure.yearly_figures(p, wanted)
    assert len([y for y in years if y.actions]) >= 3
    for year in (y for y in years if y.actions):
        window = pressure.pressure(store, Window.of(f"{year.year}-01-01", f"{year.year + 1}-01-01"))
        for oid, f in pressure.org_pressures(window).items():
            assert year.received[oid] == pytest.approx(f.received, abs=1e-4), (year.year, oid)
            ratio = year.pass_on_ratio[oid]
            assert (ratio is None) == (f.pass_on_ratio is None) and (
                ratio is None or ratio == pytest.approx(f.pass_on_ratio, abs=1e-4)
            )
            assert (year.sink[oid], year.cold[oid]) == (f.sink, f.cold), (year.year, oid)
